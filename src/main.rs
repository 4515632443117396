//! Parses the arguments, runs the library, and turns the outcome into an exit status:
//! 0 all done, 1 some items failed (or the run could not go on), 2 usage error,
//! 130 interrupted by Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use thumbnail_maker::cli::{self, Cli, CliError, Env};
use thumbnail_maker::report::Outcome;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    let env = Env {
        stderr_is_terminal: std::io::stderr().is_terminal(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cancel: Arc::new(AtomicBool::new(false)),
    };
    let cancel = Arc::clone(&env.cancel);
    // First Ctrl-C: start nothing new, finish what runs, report. Second: stop at once (the next
    // run removes the temporary files that leaves).
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("thumbnail-maker: interrupted; stopping after the items under way (Ctrl-C again stops at once)");
    });
    match cli::execute(cli, &env) {
        Ok(Outcome::AllDone) => ExitCode::SUCCESS,
        Ok(Outcome::SomeFailed) => ExitCode::from(1),
        Ok(Outcome::Interrupted) => ExitCode::from(130),
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
