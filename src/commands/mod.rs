//! What each command does, one module per subcommand: `run` (the main command and `demo`),
//! `bench`, `merge` (`report merge`), `serve`. The machine's facts arrive in [`Env`], read once
//! by `main`; exit statuses are `main`'s to choose from the returned [`Outcome`].

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, Command, ReportAction, ReportArgs};
use crate::report::Outcome;

mod bench;
mod generate;
mod merge;
mod run;
mod serve;

pub use run::config_from;

/// What `main` reads from the machine, once, and the flag its Ctrl-C handler sets.
pub struct Env {
    pub stderr_is_terminal: bool,
    pub cores: usize,
    pub cancel: Arc<AtomicBool>,
    /// `SSL_CERT_FILE`: the CA bundle HTTPS trusts when `--cacert` is not given.
    pub ssl_cert_file: Option<PathBuf>,
    /// `RUST_LOG`: which library log records to show.
    pub rust_log: Option<String>,
    /// The `AWS_*` variables: S3's endpoint, region and credentials.
    pub s3: crate::s3::S3Options,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments cannot make a run (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The run could not go on at all (exit status 1).
    #[error(transparent)]
    Fatal(#[from] anyhow::Error),
}

/// Runs what the command line asks for and prints its report.
pub fn execute(cli: Cli, env: &Env) -> Result<Outcome, CliError> {
    if let Some(kind) = cli.generate {
        return match generate::generate(kind, &mut std::io::stdout().lock()) {
            // `--generate man | head` is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Fatal(
                anyhow::Error::new(e).context("cannot write it"),
            )),
            _ => Ok(Outcome::AllDone),
        };
    }
    match &cli.command {
        Some(Command::Demo(demo)) => {
            let latency = Duration::from_millis(demo.latency);
            run::run(&demo.run, Inputs::Demo { latency }, env)
        }
        Some(Command::Serve(args)) => serve::serve(args, &env.cancel).map(|()| Outcome::AllDone),
        Some(Command::Report(ReportArgs {
            action: ReportAction::Merge { files, json },
        })) => merge::merge_reports(files, *json),
        Some(Command::Report(ReportArgs {
            action: ReportAction::Manifests { files, output },
        })) => merge::merge_manifests(files, output),
        Some(Command::Bench(args)) => bench::bench(args, env),
        None => run::run(
            &cli.run,
            Inputs::Given {
                args: &cli.inputs,
                list: cli.input_list.as_deref(),
            },
            env,
        ),
    }
}

/// What a run works on: what the user gave, or the demo's bundled samples.
#[derive(Clone, Copy)]
pub enum Inputs<'a> {
    Given {
        args: &'a [String],
        list: Option<&'a Path>,
    },
    Demo {
        latency: Duration,
    },
}

/// Writes a file the user named through a temporary file and a rename, so a reader never sees
/// half of it.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    write_file_with(path, |out| out.write_all(bytes))
}

/// Writes `path` atomically with what `write` streams into it: a report of a million failures
/// is written as it is read, never held whole.
pub(crate) fn write_file_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if path.file_name().is_none() {
        return Err(CliError::Usage(format!(
            "{} is not a file name",
            path.display()
        )));
    }
    let fail = |e: std::io::Error| {
        CliError::Fatal(anyhow::Error::new(e).context(format!("cannot write {}", path.display())))
    };
    let mut tmp = crate::output::temp_file(dir).map_err(fail)?;
    // Unbuffered: callers with many small writes (Report::write_json) buffer their own.
    write(tmp.as_file_mut()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
