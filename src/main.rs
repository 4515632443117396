//! Parses the arguments, runs the library, and turns the outcome into an exit status:
//! 0 all done, 1 some items failed (or the run could not go on), 2 usage error.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use thumbnail_maker::cli::{self, Cli, CliError, Env};

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    let env = Env {
        stderr_is_terminal: std::io::stderr().is_terminal(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    match cli::execute(cli, &env) {
        Ok(report) if report.all_ok() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(CliError::Usage(message)) => {
            eprintln!("thumbnail-maker: error: {message}");
            ExitCode::from(2)
        }
        Err(CliError::Fatal(error)) => {
            eprintln!("thumbnail-maker: error: {error:#}");
            ExitCode::from(1)
        }
    }
}
