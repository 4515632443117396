//! The main command and `demo`: checks, the plan, both phases, the report.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{write_file_with, CliError, Env, Inputs};
use crate::cli::{ProgressArg, RunArgs};
use crate::config::{Config, Schedule};
use crate::list::InputSource;
use crate::progress::{Console, Display};
use crate::report::{Outcome, Report};
use crate::safety::{self, RunPaths, SideFile};
use crate::{demo, download, logging, pipeline};

const NO_INPUTS: &str = "no inputs: the list is empty and the folders given hold no images";

/// Runs `what` (the given inputs, or the demo) as `run` says, and prints the report.
pub fn run(run: &RunArgs, what: Inputs, env: &Env) -> Result<Outcome, CliError> {
    let (args, list_arg): (&[String], Option<&Path>) = match what {
        Inputs::Given { args, list } => (args, list),
        Inputs::Demo { .. } => (&[], None),
    };
    if matches!(what, Inputs::Given { .. }) && args.is_empty() && list_arg.is_none() {
        return Err(CliError::Usage(
            "no inputs: give URLs, files or folders, or -i FILE (or try `thumbnail-maker demo`)"
                .into(),
        ));
    }
    // `thumbnail-maker benchh` is a typo, not an image called benchh.
    for arg in args {
        if let Some(command) = meant_subcommand(arg) {
            return Err(CliError::Usage(format!(
                "'{arg}' is neither a file nor a URL; did you mean the subcommand `{command}`?"
            )));
        }
    }
    // stdin can be read only once and planning reads the list twice: keep a copy on disk.
    let mut spooled = None;
    let list = match list_arg {
        Some(path) if path.as_os_str() == "-" => {
            let mut file = tempfile::NamedTempFile::new().map_err(|e| {
                CliError::Fatal(anyhow::Error::new(e).context("cannot spool stdin"))
            })?;
            io::copy(&mut io::stdin().lock(), &mut file).map_err(|e| {
                CliError::Usage(format!("cannot read the input list from stdin: {e}"))
            })?;
            let path = file.path().to_path_buf();
            spooled = Some(file);
            Some(path)
        }
        Some(path) => {
            File::open(path).map_err(|e| {
                CliError::Usage(format!("cannot read input list {}: {e}", path.display()))
            })?;
            Some(path.to_path_buf())
        }
        None => None,
    };
    let mut side_files = Vec::new();
    if let Some(path) = &run.log_file {
        side_files.push(SideFile {
            option: "--log-file",
            path,
        });
    }
    if let Some(path) = run.report.as_deref().filter(|p| !is_s3_path(p)) {
        side_files.push(SideFile {
            option: "--report",
            path,
        });
    }
    // Before anything is created or truncated: a log file that is an input would be emptied.
    let out_dir = local_out_dir(run);
    safety::check_run(&RunPaths {
        out_dir: &out_dir,
        remote_out: out_dir != run.out_dir,
        incoming_dir: &run.incoming,
        args,
        list: list_arg.filter(|p| p.as_os_str() != "-"),
        side_files,
        taken_by_folders: crate::inputs::is_image_name,
    })
    .map_err(CliError::Usage)?;
    let inputs = InputSource {
        args: args.to_vec(),
        list,
    };
    let mut config = config_from(run, inputs, env.cores, env.ssl_cert_file.as_deref())
        .map_err(CliError::Usage)?;
    config.cancel = Arc::clone(&env.cancel);
    config.net.s3 = env.s3.clone();
    if let Some(upload) = &config.upload {
        // Once, before anything is planned: what is there decides what is left to do.
        upload
            .list(&config.net)
            .map_err(|e| CliError::Fatal(anyhow::Error::new(e)))?;
    }
    if run.dry_run {
        let plan =
            crate::dry_run::dry_run(&config, run.json, &mut io::stdout().lock()).map_err(|e| {
                CliError::Fatal(anyhow::Error::new(e).context("cannot read the input list"))
            })?;
        if plan.inputs == 0 && plan.failed == 0 {
            return Err(CliError::Usage(NO_INPUTS.into()));
        }
        if !run.quiet {
            let shard = config
                .shard
                .map_or_else(String::new, |s| format!(", shard {s}"));
            eprintln!(
                "{} inputs in all{shard}: {} planned, {} already done, {} stale, {} unusable",
                plan.inputs, plan.planned, plan.done, plan.stale, plan.failed
            );
        }
        drop(spooled);
        // Like the run it previews: unusable inputs make it exit 1.
        return Ok(if plan.failed > 0 {
            Outcome::SomeFailed
        } else {
            Outcome::AllDone
        });
    }
    let log_file = match &run.log_file {
        // Appended, not truncated: re-running after a crash is the documented recovery, and
        // the crashed run's log is what tells what happened. Each run starts with a header.
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    CliError::Usage(format!("cannot open log file {}: {e}", path.display()))
                })?;
            let _ = writeln!(
                file,
                "--- thumbnail-maker {}, process {}, started {} s after the Unix epoch ---",
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            );
            Some(file)
        }
        None => None,
    };
    let display = match run.progress {
        ProgressArg::Auto if run.quiet => Display::Off,
        ProgressArg::Auto if env.stderr_is_terminal => Display::Bars,
        ProgressArg::Auto | ProgressArg::Plain => Display::Plain,
        ProgressArg::Bar => Display::Bars,
        ProgressArg::None => Display::Off,
    };
    let console = Arc::new(Console::new(display, run.quiet, run.verbose > 0, log_file));
    logging::attach(
        Arc::clone(&console),
        logging::filter(run.verbose, env.rust_log.as_deref()),
    );
    // The report's upload (`--report s3://`) goes with the run's network options.
    let net = config.net.clone();
    let report = run_with(what, config, run, &console);
    logging::detach();
    let report = report?;
    drop(spooled);
    // The report is printed first: a report file that cannot be written must not cost the
    // JSON on stdout too.
    print_report(&report, run.json, run.quiet);
    match &run.report {
        Some(path) if is_s3_path(path) => put_report(path, &report, &net)?,
        Some(path) => write_file_with(path, |out| report.write_json(out))?,
        None => {}
    }
    Ok(report.outcome())
}

fn is_s3_path(path: &Path) -> bool {
    path.to_str().is_some_and(crate::s3::is_s3)
}

/// `--report s3://bucket/key`: the JSON report uploaded with one PUT (S3 writes an object
/// whole or not at all, as a rename does a file).
fn put_report(
    path: &Path,
    report: &Report,
    net: &crate::download::NetOptions,
) -> Result<(), CliError> {
    let address = path.to_string_lossy();
    let fail = |e: anyhow::Error| CliError::Fatal(e.context(format!("cannot write {address}")));
    let (bucket, key) = crate::s3::split(&address).map_err(|e| fail(e.into()))?;
    if key.is_empty() || key.ends_with('/') {
        return Err(CliError::Usage(format!(
            "--report {address}: name an object (s3://bucket/key.json), not a prefix"
        )));
    }
    let mut body = Vec::new();
    report.write_json(&mut body).map_err(|e| fail(e.into()))?;
    crate::download::Fetcher::new(net)
        .put_object(&bucket, &key, &body, "application/json")
        .map_err(|e| fail(e.into()))
}

/// Runs the planned inputs, or the demo, with `console` showing progress.
fn run_with(
    what: Inputs,
    config: Config,
    run: &RunArgs,
    console: &Console,
) -> Result<Report, CliError> {
    Ok(match what {
        Inputs::Demo { latency } => {
            if !run.quiet {
                eprintln!(
                    "demo: {} bundled sample photos served on 127.0.0.1 ({} ms latency) -> {}",
                    crate::samples::SAMPLES.len(),
                    latency.as_millis(),
                    config.out_dir.display()
                );
            }
            demo::run(config, latency, console).map_err(anyhow::Error::from)?
        }
        Inputs::Given { .. } => match pipeline::run(&config, console) {
            Ok(report) => report,
            Err(pipeline::RunError::NoInputs) => return Err(CliError::Usage(NO_INPUTS.into())),
            Err(e) => return Err(CliError::Fatal(e.into())),
        },
    })
}

/// The subcommand `arg` is a near miss of (one or two letters off), when `arg` is a bare word
/// that names nothing on disk.
fn meant_subcommand(arg: &str) -> Option<String> {
    let bare = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !bare || Path::new(arg).exists() {
        return None;
    }
    let command = <crate::cli::Cli as clap::CommandFactory>::command();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names
        .into_iter()
        .find(|name| edit_distance(&arg.to_ascii_lowercase(), name) <= 2)
}

/// Levenshtein distance, for a handful of short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The validated settings of a run: every rule between options is checked here (and tested
/// below), so `Config` holds no contradiction. `cores` is the machine's and `ssl_cert_file`
/// the environment's CA bundle, both read at the edge.
pub fn config_from(
    run: &RunArgs,
    inputs: InputSource,
    cores: usize,
    ssl_cert_file: Option<&Path>,
) -> Result<Config, String> {
    if run.sizes.0.len() > 1 && !run.name_template.tells_sizes_apart() {
        return Err(format!(
            "--name-template '{}' gives every size the same name: add {{size}}, {{width}} or {{height}}",
            run.name_template
        ));
    }
    if run.crop.is_some()
        && !run
            .sizes
            .0
            .iter()
            .any(|s| s.width.is_some() && s.height.is_some())
    {
        return Err("--crop fills a box: give a size as WxH, such as -s 200x200".into());
    }
    if run.keep_icc && run.format == crate::cli::FormatArg::Avif {
        return Err("--keep-icc: AVIF thumbnails cannot carry a profile here; without --keep-icc their colours are converted to sRGB".into());
    }
    if run.format == crate::cli::FormatArg::Avif && !cfg!(feature = "avif") {
        return Err("-f avif: AVIF output needs the `avif` feature (cargo install --locked --path . --features avif); it adds the rav1e encoder, a minute of a fresh build".into());
    }
    let mut config = Config::new(inputs, cores);
    config.shard = run.shard;
    config.out_dir = local_out_dir(run);
    if let Some(address) = run.out_dir.to_str().filter(|o| crate::s3::is_s3(o)) {
        let upload =
            crate::upload::Upload::parse(address).map_err(|e| format!("-o {address}: {e}"))?;
        config.upload = Some(Arc::new(upload));
    }
    config.incoming_dir = run.incoming.clone();
    config.names = run.name_template.clone();
    config.spec.sizes = run.sizes.0.clone();
    config.spec.crop = run.crop.map(|c| c.crop());
    config.spec.linear = run.linear;
    config.spec.format = run.format.output();
    config.spec.quality = run.quality;
    config.spec.progressive = run.progressive;
    config.spec.keep_icc = run.keep_icc;
    config.spec.keep_metadata = run.keep_metadata;
    config.spec.enlarge = !run.no_enlarge;
    config.spec.background = run.background.0;
    config.spec.decode.max_pixels = run.max_pixels;
    config.spec.decode.allow_truncated = run.allow_partial;
    config.spec.decode.all_scans = run.all_scans;
    config.spec.decode.shrink_margin = run.shrink_margin;
    config.download_threads = usize::from(run.download_threads);
    if let Some(threads) = run.resize_threads {
        config.resize_threads = usize::from(threads);
    }
    config.schedule = Schedule::from_flags(run.sequential, run.overlap);
    config.force = run.force;
    config.checksum = run.checksum;
    config.offline = run.offline;
    config.prune = run.prune;
    config.manifest = run.manifest.clone();
    config.blurhash = run.blurhash;
    config.discard_downloads = run.discard_downloads;
    config.net.retries = run.retries;
    config.net.max_bytes = run.max_bytes;
    config.net.connect_timeout = Duration::from_secs(run.connect_timeout);
    config.net.read_timeout = Duration::from_secs(run.read_timeout);
    config.net.request_timeout = Duration::from_secs(run.timeout);
    config.net.headers = run.headers.clone();
    config.net.trust = download::Trust::choose(run.cacert.as_deref(), ssl_cert_file)?;
    if let Some(agent) = &run.user_agent {
        config.net.user_agent = agent.clone();
    }
    Ok(config)
}

/// JSON goes to stdout and the summary to stderr, so `--json | jq` stays clean. A closed stdout
/// (`| head`) is not an error.
fn print_report(report: &Report, json: bool, quiet: bool) {
    if json {
        let _ = report.write_json(io::stdout().lock());
        if !quiet {
            eprint!("{report}");
        }
    } else if !quiet {
        let _ = write!(io::stdout().lock(), "{report}");
    }
}

/// The local folder of the run's output: `-o` itself, or with `-o s3://...` a folder in the
/// incoming folder for the run's work queues (nothing else is written there).
fn local_out_dir(run: &RunArgs) -> std::path::PathBuf {
    match run.out_dir.to_str() {
        Some(o) if crate::s3::is_s3(o) => run
            .incoming
            .join(crate::sidecar::SIDECAR_DIR)
            .join("s3-out"),
        _ => run.out_dir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::config_from;
    use crate::cli::Cli;
    use crate::config::{Config, Schedule};
    use crate::list::InputSource;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, String> {
        let cli = Cli::try_parse_from([&["thumbnail-maker", "x.jpg"], args].concat())
            .map_err(|e| e.to_string())?;
        config_from(&cli.run, InputSource::default(), 4, None)
    }

    #[test]
    fn default_arguments_give_exactly_the_default_config() {
        let parsed = config(&[]).unwrap();
        let default = Config::new(InputSource::default(), 4);
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
        let sizes: Vec<String> = crate::thumbnail::DEFAULT_SIZES
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(sizes.join(","), crate::thumbnail::DEFAULT_SIZES_TEXT);
    }

    #[test]
    fn every_rule_between_options_is_checked() {
        let refused = |args: &[&str], says: &str| {
            let error = config(args).unwrap_err();
            assert!(error.contains(says), "{args:?}: {error}");
        };
        refused(
            &["-s", "32,64", "--name-template", "{stem}.{ext}"],
            "same name",
        );
        assert!(config(&["-s", "32", "--name-template", "{stem}.{ext}"]).is_ok());
        assert!(config(&["-s", "32,64", "--name-template", "{stem}_{width}.{ext}"]).is_ok());
        refused(&["--crop", "-s", "200"], "--crop fills a box");
        assert!(config(&["--crop", "-s", "200,100x100"]).is_ok());
        refused(
            &["--keep-icc", "-f", "avif"],
            "AVIF thumbnails cannot carry a profile",
        );
        assert!(config(&["--keep-icc", "-f", "webp"]).is_ok());
    }

    #[test]
    fn a_near_miss_of_a_subcommand_is_caught() {
        use super::meant_subcommand;
        assert_eq!(meant_subcommand("benchh").as_deref(), Some("bench"));
        assert_eq!(meant_subcommand("dmeo").as_deref(), Some("demo"));
        assert_eq!(meant_subcommand("reprot").as_deref(), Some("report"));
        assert_eq!(meant_subcommand("photo.jpg"), None, "not a bare word");
        assert_eq!(meant_subcommand("holiday"), None, "too far from any");
        assert_eq!(meant_subcommand("src"), None, "exists on disk");
    }

    #[test]
    fn the_schedule_is_chosen_once() {
        assert_eq!(config(&[]).unwrap().schedule, Schedule::InTurn);
        assert_eq!(
            config(&["--sequential"]).unwrap().schedule,
            Schedule::Sequential
        );
        assert_eq!(
            config(&["--overlap"]).unwrap().schedule,
            Schedule::Overlapped
        );
        assert!(
            config(&["--overlap", "--sequential"]).is_err(),
            "clap refuses both"
        );
        let threads = config(&["-t", "3", "-d", "2000"]).unwrap();
        assert_eq!(
            (threads.resize_threads, threads.download_threads),
            (3, 2000)
        );
    }
}
