//! The command line: clap types, their checks, and turning them into a [`Config`].
//!
//! clap types stay in this file; the pipeline only ever sees a validated `Config`. What the
//! machine is like (cores, whether stderr is a terminal) arrives in [`Env`], read once by `main`.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::decode::{DEFAULT_MAX_PIXELS, DEFAULT_SHRINK_MARGIN};
use crate::output::OutputFormat;
use crate::progress::Console;
use crate::report::Report;
use crate::{demo, inputs, pipeline};

/// Widest thumbnail we accept: far past any thumbnail, short of a memory hazard.
const MAX_WIDTH: u32 = 16_384;

#[derive(Debug, Parser)]
#[command(
    name = "thumbnail-maker",
    version,
    about = "Make thumbnails of images from URLs, files and folders, as fast as the machine allows",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  thumbnail-maker demo\n  thumbnail-maker photos/ -s 100,400 -o thumbs\n  thumbnail-maker -i urls.txt -d 32 --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// URLs (http, https), image files, or folders of images
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Read inputs from FILE, one per line ('-' for stdin; blank lines and # comments skipped)
    #[arg(short = 'i', long, value_name = "FILE")]
    pub input_list: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the bundled sample photos on 127.0.0.1 and run both phases against them
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Delay every response by MS milliseconds, like a distant server
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder for thumbnails
    #[arg(short = 'o', long, value_name = "DIR", default_value = "outgoing")]
    pub out_dir: PathBuf,
    /// Folder for downloaded originals
    #[arg(long, value_name = "DIR", default_value = "incoming")]
    pub incoming: PathBuf,
    /// Thumbnail widths in pixels, comma-separated; heights keep the aspect ratio
    #[arg(short = 's', long, value_name = "LIST", default_value = "32,64,200", value_parser = parse_widths)]
    pub sizes: Widths,
    /// Download threads: never more than N requests in flight
    #[arg(short = 'd', long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub download_threads: u16,
    /// Resize threads [default: all cores]
    #[arg(short = 't', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub resize_threads: Option<u16>,
    /// One download at a time, resizing on one thread: the baseline to compare with
    #[arg(long)]
    pub sequential: bool,
    /// Keep images narrower than a width at their own size instead of enlarging them
    #[arg(long)]
    pub no_enlarge: bool,
    /// Output format: jpeg, png, webp, or same (as the input's content)
    #[arg(short = 'f', long, value_name = "FORMAT", value_enum, default_value_t = FormatArg::Same)]
    pub format: FormatArg,
    /// JPEG quality
    #[arg(long, value_name = "1-100", default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Decode JPEGs scaled down while they stay this many times wider than the widest thumbnail
    /// (lower is faster, higher is sharper; below 1 thumbnails are upscaled from less detail)
    #[arg(long, value_name = "X", default_value_t = DEFAULT_SHRINK_MARGIN, value_parser = parse_margin)]
    pub shrink_margin: f32,
    /// Accept JPEGs cut short (their missing part comes out grey) instead of failing them
    #[arg(long)]
    pub allow_partial: bool,
    /// Refuse images with more pixels than this, checked from the header before decoding
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: u64,
    /// Refuse downloads larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = 100 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_bytes: u64,
    /// Redo inputs whose thumbnails already exist, and downloads already in the incoming folder
    #[arg(long)]
    pub force: bool,
    /// Further attempts after a transient network failure (timeouts, 408, 429, 5xx)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds a single read may wait for data
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub read_timeout: u64,
    /// Seconds one whole request may take, body included
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Print the run report as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// No progress bars, logs or summary; failures are still reported
    #[arg(short, long)]
    pub quiet: bool,
    /// Log each item, naming the thread that handled it
    #[arg(short, long)]
    pub verbose: bool,
    /// Also write log lines to FILE
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// Distinct widths, in the order given.
#[derive(Debug, Clone)]
pub struct Widths(pub Vec<u32>);

fn parse_widths(text: &str) -> Result<Widths, String> {
    let mut widths = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let width: u32 = part
            .parse()
            .map_err(|_| format!("'{part}' is not a width in pixels (example: 32,64,200)"))?;
        if width == 0 || width > MAX_WIDTH {
            return Err(format!("width {width} is out of range (1 to {MAX_WIDTH})"));
        }
        if !widths.contains(&width) {
            widths.push(width);
        }
    }
    Ok(Widths(widths))
}

fn parse_margin(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if (0.5..=16.0).contains(&x) => Ok(x),
        _ => Err(format!("'{text}' is not a margin from 0.5 to 16")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Same,
    #[value(alias = "jpg")]
    Jpeg,
    Png,
    Webp,
}

impl FormatArg {
    fn output(self) -> Option<OutputFormat> {
        match self {
            FormatArg::Same => None,
            FormatArg::Jpeg => Some(OutputFormat::Jpeg),
            FormatArg::Png => Some(OutputFormat::Png),
            FormatArg::Webp => Some(OutputFormat::WebP),
        }
    }
}

/// What `main` reads from the machine, once, and the flag its Ctrl-C handler sets.
pub struct Env {
    pub stderr_is_terminal: bool,
    pub cores: usize,
    pub cancel: Arc<AtomicBool>,
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

/// Runs what the command line asks for and prints the report. Returns the report so `main` can
/// choose the exit status.
pub fn execute(cli: Cli, env: &Env) -> Result<Report, CliError> {
    let (run, latency) = match &cli.command {
        Some(Command::Demo(demo)) => (&demo.run, Some(Duration::from_millis(demo.latency))),
        None => (&cli.run, None),
    };
    let mut inputs = cli.inputs.clone();
    if let Some(list) = &cli.input_list {
        let listed = inputs::read_list(list).map_err(|e| {
            CliError::Usage(format!("cannot read input list {}: {e}", list.display()))
        })?;
        inputs.extend(listed);
    }
    if latency.is_none() && inputs.is_empty() {
        return Err(CliError::Usage(
            "no inputs: give URLs, files or folders, or -i FILE (or try `thumbnail-maker demo`)"
                .into(),
        ));
    }
    let config = config_from(run, inputs, env);
    let log_file = match &run.log_file {
        Some(path) => Some(File::create(path).map_err(|e| {
            CliError::Usage(format!("cannot create log file {}: {e}", path.display()))
        })?),
        None => None,
    };
    let console = Console::new(env.stderr_is_terminal, run.quiet, run.verbose, log_file);
    let report = match latency {
        Some(latency) => {
            if !run.quiet {
                eprintln!(
                    "demo: {} bundled sample photos served on 127.0.0.1 ({} ms latency) -> {}",
                    crate::samples::SAMPLES.len(),
                    latency.as_millis(),
                    config.out_dir.display()
                );
            }
            demo::run(config, latency, &console).map_err(anyhow::Error::from)?
        }
        None => pipeline::run(&config, &console).map_err(anyhow::Error::from)?,
    };
    print_report(&report, run.json, run.quiet);
    Ok(report)
}

fn config_from(run: &RunArgs, inputs: Vec<String>, env: &Env) -> Config {
    let mut config = Config::new(inputs, env.cores);
    config.out_dir = run.out_dir.clone();
    config.incoming_dir = run.incoming.clone();
    config.spec.widths = run.sizes.0.clone();
    config.spec.format = run.format.output();
    config.spec.quality = run.quality;
    config.spec.enlarge = !run.no_enlarge;
    config.spec.decode.max_pixels = run.max_pixels;
    config.spec.decode.allow_truncated = run.allow_partial;
    config.spec.decode.shrink_margin = run.shrink_margin;
    config.download_threads = usize::from(run.download_threads);
    if let Some(threads) = run.resize_threads {
        config.resize_threads = usize::from(threads);
    }
    config.sequential = run.sequential;
    config.force = run.force;
    config.cancel = Arc::clone(&env.cancel);
    config.net.retries = run.retries;
    config.net.max_bytes = run.max_bytes;
    config.net.connect_timeout = Duration::from_secs(run.connect_timeout);
    config.net.read_timeout = Duration::from_secs(run.read_timeout);
    config.net.request_timeout = Duration::from_secs(run.timeout);
    config
}

/// JSON goes to stdout and the summary to stderr, so `--json | jq` stays clean. A closed stdout
/// (`| head`) is not an error.
fn print_report(report: &Report, json: bool, quiet: bool) {
    if json {
        let _ = writeln!(io::stdout().lock(), "{}", report.to_json());
        if !quiet {
            eprint!("{report}");
        }
    } else if !quiet {
        let _ = write!(io::stdout().lock(), "{report}");
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_widths, Cli};
    use clap::CommandFactory;

    #[test]
    fn argument_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn widths_parse_dedupe_and_reject_nonsense() {
        assert_eq!(parse_widths("32, 64,200,64").unwrap().0, [32, 64, 200]);
        assert!(parse_widths("0").unwrap_err().contains("out of range"));
        assert!(parse_widths("abc")
            .unwrap_err()
            .contains("'abc' is not a width"));
        assert!(parse_widths("32,,64").is_err());
        assert!(parse_widths("99999").is_err());
    }
}
