//! Parses the arguments, runs the library, and turns the outcome into an exit status:
//! 0 all done, 1 some items failed (or the run could not go on), 2 usage error,
//! 130 interrupted by Ctrl-C. With `--json`, every one of these prints a JSON document on
//! stdout: the report, or an error object `{"error": {"kind", "message"}, "status"}`.

use std::io::{IsTerminal, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use thumbnail_maker::cli::Cli;
use thumbnail_maker::commands::{self, CliError, Env};
use thumbnail_maker::escape::printable;
use thumbnail_maker::report::Outcome;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; real usage errors are status 2.
            if e.use_stderr() && args.iter().any(|a| a == "--json") {
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or("");
                json_error("usage", first.trim_start_matches("error: "), 2);
            }
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let json = cli.wants_json();
    let subcommand = cli.subcommand_path();
    let env = Env {
        stderr_is_terminal: std::io::stderr().is_terminal(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cancel: Arc::new(AtomicBool::new(false)),
        ssl_cert_file: std::env::var_os("SSL_CERT_FILE").map(Into::into),
        rust_log: std::env::var("RUST_LOG").ok(),
        s3: thumbnail_maker::s3::S3Options::from_env(|name| std::env::var(name).ok()),
    };
    let cancel = Arc::clone(&env.cancel);
    // First Ctrl-C: start nothing new, finish what runs, report. Second: stop at once (the next
    // run removes the temporary files that leaves).
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            if json {
                json_error("interrupted", "stopped at once by a second Ctrl-C", 130);
            }
            std::process::exit(130);
        }
        thumbnail_maker::logging::notice("thumbnail-maker: interrupted; stopping after the items under way (Ctrl-C again stops at once)");
    });
    // A panic here is a bug; with --json the caller still gets a document, not silence.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| commands::execute(cli, &env)));
    match outcome {
        Ok(Ok(Outcome::AllDone)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::SomeFailed)) => ExitCode::from(1),
        Ok(Ok(Outcome::Interrupted)) => ExitCode::from(130),
        Ok(Err(CliError::Usage(message))) => {
            if json {
                json_error("usage", &message, 2);
            }
            let _ = usage_error(&subcommand, &printable(&message)).print();
            ExitCode::from(2)
        }
        Ok(Err(CliError::Fatal(error))) => {
            let message = format!("{error:#}");
            if json {
                json_error("fatal", &message, 1);
            }
            eprintln!("thumbnail-maker: error: {}", printable(&message));
            ExitCode::from(1)
        }
        Err(_) => {
            let message = "internal error (a bug in thumbnail-maker; please report it)";
            if json {
                json_error("internal", message, 1);
            }
            eprintln!("thumbnail-maker: error: {message}");
            ExitCode::from(1)
        }
    }
}

/// The tool's own usage errors (`--crop` without a box, a bad template, an unreadable list) in
/// clap's format, with the usage line of the (sub)command that was run: one format for every
/// usage error, whoever found it.
fn usage_error(subcommand: &[&str], message: &str) -> clap::Error {
    let mut command = Cli::command();
    command.build();
    let mut command = &mut command;
    for name in subcommand {
        command = command
            .find_subcommand_mut(name)
            .expect("a parsed subcommand exists");
    }
    command.error(ErrorKind::ValueValidation, message)
}

/// The JSON document of a run that ended without a report. A closed stdout is not an error.
fn json_error(kind: &str, message: &str, status: u8) {
    let document = serde_json::json!({
        "error": { "kind": kind, "message": message },
        "status": status,
    });
    let _ = writeln!(std::io::stdout().lock(), "{document}");
}
