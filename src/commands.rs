//! What each command does: runs the pipeline (or demo, serve, bench, report merge) from the
//! parsed arguments and prints its report. The machine's facts arrive in [`Env`], read once by
//! `main`; exit statuses are `main`'s to choose from the returned [`Outcome`].

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::bench::BenchOptions;
use crate::cli::{BenchArgs, Cli, Command, ReportAction, ReportArgs, RunArgs, ServeArgs};
use crate::config::Config;
use crate::list::InputSource;
use crate::progress::Console;
use crate::report::{Outcome, Report};
use crate::safety::{self, RunPaths, SideFile};
use crate::{demo, pipeline};

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

const NO_INPUTS: &str = "no inputs: the list is empty and the folders given hold no images";

/// Runs what the command line asks for and prints its report.
pub fn execute(cli: Cli, env: &Env) -> Result<Outcome, CliError> {
    let (run, latency) = match &cli.command {
        Some(Command::Demo(demo)) => (&demo.run, Some(Duration::from_millis(demo.latency))),
        Some(Command::Serve(args)) => return serve(args, &env.cancel).map(|()| Outcome::AllDone),
        Some(Command::Report(ReportArgs {
            action: ReportAction::Merge { files, json },
        })) => return merge_reports(files, *json),
        Some(Command::Bench(args)) => return bench(args, env),
        None => (&cli.run, None),
    };
    if latency.is_none() && cli.inputs.is_empty() && cli.input_list.is_none() {
        return Err(CliError::Usage(
            "no inputs: give URLs, files or folders, or -i FILE (or try `thumbnail-maker demo`)"
                .into(),
        ));
    }
    // stdin can be read only once and planning reads the list twice: keep a copy on disk.
    let mut spooled = None;
    let list = match &cli.input_list {
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
            Some(path.clone())
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
    if let Some(path) = &run.report {
        side_files.push(SideFile {
            option: "--report",
            path,
        });
    }
    // Before anything is created or truncated: a log file that is an input would be emptied.
    safety::check_run(&RunPaths {
        out_dir: &run.out_dir,
        incoming_dir: &run.incoming,
        args: &cli.inputs,
        list: cli.input_list.as_deref().filter(|p| p.as_os_str() != "-"),
        side_files,
        taken_by_folders: crate::inputs::is_image_name,
    })
    .map_err(CliError::Usage)?;
    let inputs = InputSource {
        args: cli.inputs.clone(),
        list,
    };
    let config = config_from(run, inputs, env)?;
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
                "{} inputs in all{shard}: {} planned, {} already done, {} unusable",
                plan.inputs, plan.planned, plan.done, plan.failed
            );
        }
        drop(spooled);
        return Ok(Outcome::AllDone);
    }
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
        None => match pipeline::run(&config, &console) {
            Ok(report) => report,
            Err(pipeline::RunError::NoInputs) => return Err(CliError::Usage(NO_INPUTS.into())),
            Err(e) => return Err(CliError::Fatal(e.into())),
        },
    };
    drop(spooled);
    // The report is printed first: a report file that cannot be written must not cost the
    // JSON on stdout too.
    print_report(&report, run.json, run.quiet);
    if let Some(path) = &run.report {
        write_file(path, report.to_json().as_bytes())?;
    }
    Ok(report.outcome())
}

/// Writes a file the user named through a temporary file and a rename, so a reader never sees
/// half of it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{} is not a file name", path.display())))?;
    crate::output::write_atomic(dir, &name.to_string_lossy(), bytes).map_err(|e| {
        CliError::Fatal(anyhow::Error::new(e).context(format!("cannot write {}", path.display())))
    })?;
    Ok(())
}

fn bench(args: &BenchArgs, env: &Env) -> Result<Outcome, CliError> {
    let named = [
        ("--export-json", &args.export_json),
        ("--export-csv", &args.export_csv),
        ("--export-markdown", &args.export_markdown),
        ("--plot", &args.plot),
    ];
    let side_files: Vec<SideFile> = named
        .iter()
        .filter_map(|(option, path)| path.as_deref().map(|path| SideFile { option, path }))
        .collect();
    // Checked before the sweep, which takes minutes, rather than after it.
    safety::check_side_files(&side_files).map_err(CliError::Usage)?;
    let plot_png = match &args.plot {
        None => false,
        Some(plot) => match plot.extension().and_then(|e| e.to_str()) {
            Some("svg") => false,
            Some("png") => true,
            _ => {
                return Err(CliError::Usage(format!(
                    "--plot {}: name the chart .svg or .png",
                    plot.display()
                )))
            }
        },
    };
    let spec = crate::ThumbnailSpec {
        sizes: args.sizes.0.clone(),
        ..crate::ThumbnailSpec::default()
    };
    let options = BenchOptions {
        inputs: args.inputs.clone(),
        latency: Duration::from_millis(args.latency),
        copies: usize::from(args.copies),
        download_threads: args.download_threads.0.clone(),
        resize_threads: args.resize_threads.as_ref().map_or_else(
            || crate::bench::default_resize_threads(env.cores),
            |c| c.0.clone(),
        ),
        runs: usize::from(args.runs),
        compare: args.compare,
        cores: env.cores,
        spec,
        net: crate::download::NetOptions::default(),
    };
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(crate::bench::planned_runs(&options, crate::bench::has_urls(&options)) as u64),
        if env.stderr_is_terminal && !args.quiet {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("bench [{bar:30}] {pos}/{len} runs, ETA {eta}")
            .expect("fixed template"),
    );
    let result = crate::bench::run(&options, &|| bar.inc(1)).map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    let mut text = String::new();
    for table in &result.tables {
        text.push_str(&table.to_text());
        text.push('\n');
    }
    if !result.compare.is_empty() {
        text.push_str(&crate::bench::compare_text(&result.compare));
    }
    let _ = write!(io::stdout().lock(), "{text}");
    if let Some(path) = &args.export_json {
        let json = serde_json::to_string_pretty(&result).expect("bench results serialise");
        write_file(path, json.as_bytes())?;
    }
    if let Some(path) = &args.export_csv {
        write_file(path, crate::bench::table::to_csv(&result.tables).as_bytes())?;
    }
    if let Some(path) = &args.export_markdown {
        let md: Vec<String> = result.tables.iter().map(|t| t.to_markdown()).collect();
        write_file(path, md.join("\n").as_bytes())?;
    }
    if let Some(path) = &args.plot {
        let title = format!("thumbnail-maker: speedup by threads ({} cores)", env.cores);
        let svg = crate::bench::plot::speedup_svg(&result.tables, &title);
        if plot_png {
            let png = crate::bench::plot::svg_to_png(&svg).map_err(|e| {
                CliError::Fatal(anyhow::anyhow!("cannot render {}: {e}", path.display()))
            })?;
            write_file(path, &png)?;
        } else {
            write_file(path, svg.as_bytes())?;
        }
    }
    Ok(Outcome::AllDone)
}

fn merge_reports(files: &[PathBuf], json: bool) -> Result<Outcome, CliError> {
    let merged = crate::merge::merge_files(files).map_err(|e| CliError::Usage(format!("{e:#}")))?;
    if json {
        let text = serde_json::to_string_pretty(&merged).expect("a merged report serialises");
        let _ = writeln!(io::stdout().lock(), "{text}");
    } else {
        let _ = write!(io::stdout().lock(), "{merged}");
    }
    Ok(if merged.complete() {
        Outcome::AllDone
    } else {
        Outcome::SomeFailed
    })
}

/// Runs the loopback server in the foreground, printing one URL per file on stdout, until
/// `stop` is set (Ctrl-C).
fn serve(args: &ServeArgs, stop: &AtomicBool) -> Result<(), CliError> {
    let latency = Duration::from_millis(args.latency);
    let routes = match &args.dir {
        Some(dir) => demo::folder_routes(dir)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", dir.display())))?,
        None => demo::sample_routes(),
    };
    let mut paths: Vec<String> = routes.keys().cloned().collect();
    paths.sort();
    let server = crate::serve::Server::start(routes, latency).map_err(|e| {
        CliError::Fatal(anyhow::Error::new(e).context("cannot listen on 127.0.0.1"))
    })?;
    eprintln!(
        "serving {} files on {} with {} ms latency; Ctrl-C stops",
        paths.len(),
        server.url("/"),
        args.latency
    );
    let mut stdout = io::stdout().lock();
    for path in &paths {
        let _ = writeln!(stdout, "{}", server.url(path));
    }
    let _ = stdout.flush();
    drop(stdout);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    Ok(())
}

fn config_from(run: &RunArgs, inputs: InputSource, env: &Env) -> Result<Config, CliError> {
    if run.sizes.0.len() > 1 && !run.name_template.tells_sizes_apart() {
        return Err(CliError::Usage(format!(
            "--name-template '{}' gives every size the same name: add {{size}}, {{width}} or {{height}}",
            run.name_template
        )));
    }
    if run.crop.is_some()
        && !run
            .sizes
            .0
            .iter()
            .any(|s| s.width.is_some() && s.height.is_some())
    {
        return Err(CliError::Usage(
            "--crop fills a box: give a size as WxH, such as -s 200x200".into(),
        ));
    }
    if run.keep_icc && run.format == crate::cli::FormatArg::Avif {
        return Err(CliError::Usage(
            "--keep-icc: AVIF thumbnails cannot carry a profile here; without --keep-icc their colours are converted to sRGB".into(),
        ));
    }
    let mut config = Config::new(inputs, env.cores);
    config.shard = run.shard;
    config.out_dir = run.out_dir.clone();
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
    config.sequential = run.sequential;
    config.force = run.force;
    config.overlap = run.overlap;
    config.cancel = Arc::clone(&env.cancel);
    config.net.retries = run.retries;
    config.net.max_bytes = run.max_bytes;
    config.net.connect_timeout = Duration::from_secs(run.connect_timeout);
    config.net.read_timeout = Duration::from_secs(run.read_timeout);
    config.net.request_timeout = Duration::from_secs(run.timeout);
    Ok(config)
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
