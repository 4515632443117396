//! `bench`: how each phase scales with its thread count, measured through the real code paths.
//!
//! Phase one is swept with [`download_all`] against the embedded loopback server (the bundled
//! samples, each under several URLs, with a set latency per request), so download timings are
//! reproducible and need no internet; given inputs are used as they are. Phase two is swept with
//! [`pipeline::run`] over the downloaded files. Every run writes into a scratch folder that is
//! removed afterwards. Rendering the numbers lives in [`table`] and [`plot`].

pub mod plot;
pub mod table;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{Config, Schedule};
use crate::download::{download_all, Fetcher, NetOptions, Task};
use crate::inputs::Origin;
use crate::list::InputSource;
use crate::pipeline::{self, RunError};
use crate::plan::{self, Job, Planned};
use crate::progress::Silent;
use crate::thumbnail::ThumbnailSpec;
use table::{rows, PhaseTable, Point};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// URLs, files, folders; empty: the bundled samples served on loopback.
    pub inputs: Vec<String>,
    /// Delay per request of the embedded server.
    pub latency: Duration,
    /// How many URLs each bundled sample is served under (8 samples x 8 = 64 URLs).
    pub copies: usize,
    pub download_threads: Vec<usize>,
    pub resize_threads: Vec<usize>,
    pub runs: usize,
    /// Also time sequential against parallel (the main command's defaults) for each phase.
    pub compare: bool,
    pub cores: usize,
    pub spec: ThumbnailSpec,
    pub net: NetOptions,
}

/// Sequential against parallel for one phase.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub phase: &'static str,
    pub sequential_s: f64,
    pub parallel_s: f64,
    pub parallel_threads: usize,
    pub speedup: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub tables: Vec<PhaseTable>,
    pub compare: Vec<CompareRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot prepare the scratch folder")]
    Scratch(#[source] std::io::Error),
    #[error("cannot start the loopback server")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("downloads failed, so the download timings would mean nothing: {0}")]
    Download(String),
    #[error("no inputs to benchmark")]
    NoInputs,
}

/// The thread counts swept for resizing by default: 1 up to the cores, then twice the cores.
pub fn default_resize_threads(cores: usize) -> Vec<usize> {
    let mut list: Vec<usize> = (1..=cores.max(1)).collect();
    list.push(cores.max(1) * 2);
    list
}

/// How many timed or warm-up runs `run` makes, for a progress bar.
pub fn planned_runs(options: &BenchOptions, with_downloads: bool) -> usize {
    let per_point = options.runs + 1;
    let compare = if options.compare { 2 * options.runs } else { 0 };
    let downloads = if with_downloads {
        1 + options.download_threads.len() * options.runs + compare
    } else {
        0
    };
    downloads + options.resize_threads.len() * per_point + compare
}

/// Whether these options will time downloads (any URL among the inputs).
pub fn has_urls(options: &BenchOptions) -> bool {
    options.inputs.is_empty() || options.inputs.iter().any(|i| crate::inputs::is_url(i))
}

pub fn run(options: &BenchOptions, tick: &dyn Fn()) -> Result<BenchResult, BenchError> {
    let scratch = tempfile::Builder::new()
        .prefix("thumbnail-maker-bench-")
        .tempdir()
        .map_err(BenchError::Scratch)?;
    let mut net = options.net.clone();
    let (_server, inputs) = if options.inputs.is_empty() {
        let (server, urls) =
            crate::demo::start_server(options.latency).map_err(BenchError::Serve)?;
        net.env_proxy = false;
        let copies = (0..options.copies.max(1))
            .flat_map(|c| urls.iter().map(move |u| format!("{u}?copy={c}")))
            .collect();
        (Some(server), copies)
    } else {
        (None, options.inputs.clone())
    };
    let mut jobs: Vec<Job> = Vec::new();
    plan::plan(
        &InputSource::from_args(inputs),
        None,
        &crate::reach::Reach::local(crate::safety::Fence::none()),
        scratch.path(),
        |p| {
            if let Planned::Job(job) = p {
                jobs.push(job);
            }
        },
    )
    .map_err(BenchError::Scratch)?;
    let (url_jobs, file_jobs): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| matches!(j.origin, Origin::Url(_)));
    if url_jobs.is_empty() && file_jobs.is_empty() {
        return Err(BenchError::NoInputs);
    }

    let mut tables = Vec::new();
    let mut compare = Vec::new();
    let mut files: Vec<String> = file_jobs.iter().map(|j| j.input.clone()).collect();
    if !url_jobs.is_empty() {
        let fetcher = Fetcher::new(&net);
        let fetch_into = |dir: &Path, threads: usize| -> Result<(Duration, u64), BenchError> {
            std::fs::create_dir_all(dir).map_err(BenchError::Scratch)?;
            let tasks: Vec<Task> = url_jobs
                .iter()
                .map(|j| Task {
                    input: j.input.clone(),
                    url: j.input.clone(),
                    dest: dir.join(j.incoming_name.as_deref().unwrap_or("image")),
                    validator: None,
                })
                .collect();
            let started = Instant::now();
            let results = download_all(&tasks, threads, &fetcher, &Silent, &AtomicBool::new(false));
            let elapsed = started.elapsed();
            let mut bytes = 0;
            for result in results.into_iter().flatten() {
                bytes += result
                    .map_err(|f| BenchError::Download(f.to_string()))?
                    .bytes;
            }
            tick();
            Ok((elapsed, bytes))
        };
        // The warm-up run's files are the resize phase's inputs.
        let keep = scratch.path().join("incoming");
        let widest = options.download_threads.iter().copied().max().unwrap_or(8);
        fetch_into(&keep, widest)?;
        files.extend(url_jobs.iter().map(|j| {
            keep.join(j.incoming_name.as_deref().unwrap_or("image"))
                .display()
                .to_string()
        }));
        let sweep = |threads: usize, runs: usize| -> Result<Point, BenchError> {
            let mut point = Point {
                threads,
                times: Vec::new(),
                amount: 0.0,
            };
            for r in 0..runs {
                let dir = scratch.path().join(format!("download-{threads}-{r}"));
                let (time, bytes) = fetch_into(&dir, threads)?;
                let _ = std::fs::remove_dir_all(&dir);
                point.times.push(time);
                point.amount = bytes as f64 / 1e6;
            }
            Ok(point)
        };
        let points = options
            .download_threads
            .iter()
            .map(|&n| sweep(n, options.runs))
            .collect::<Result<Vec<_>, _>>()?;
        let latency = options.inputs.is_empty().then_some(options.latency);
        tables.push(PhaseTable {
            phase: "download",
            unit: "MB/s",
            work: match latency {
                Some(l) => format!("{} URLs, {} ms latency", url_jobs.len(), l.as_millis()),
                None => format!("{} URLs", url_jobs.len()),
            },
            rows: rows(&points, latency.map(|l| (url_jobs.len(), l))),
        });
        if options.compare {
            let sequential = sweep(1, options.runs)?;
            let parallel = sweep(8, options.runs)?;
            compare.push(compare_row("download", &sequential, &parallel));
        }
    }

    let resize_once =
        |threads: usize, sequential: bool, r: usize| -> Result<(Duration, f64), BenchError> {
            let mut config = Config::new(InputSource::from_args(files.clone()), threads);
            config.out_dir = scratch
                .path()
                .join(format!("resize-{threads}-{sequential}-{r}"));
            config.incoming_dir = scratch.path().join("unused");
            config.spec = options.spec.clone();
            config.schedule = Schedule::from_flags(sequential, false);
            config.force = true;
            config.cancel = Arc::new(AtomicBool::new(false));
            let report = pipeline::run(&config, &Silent)?;
            let _ = std::fs::remove_dir_all(&config.out_dir);
            tick();
            Ok((report.resize.seconds, report.resize.megapixels))
        };
    let resize_point = |threads: usize, sequential: bool| -> Result<Point, BenchError> {
        let mut point = Point {
            threads,
            times: Vec::new(),
            amount: 0.0,
        };
        for r in 0..options.runs {
            let (time, megapixels) = resize_once(threads, sequential, r)?;
            point.times.push(time);
            point.amount = megapixels;
        }
        Ok(point)
    };
    let mut points = Vec::new();
    for &threads in &options.resize_threads {
        resize_once(threads, false, usize::MAX)?; // warm-up: caches, page cache, allocator
        points.push(resize_point(threads, false)?);
    }
    tables.push(PhaseTable {
        phase: "resize",
        unit: "MP/s",
        work: format!(
            "{} images, sizes {}",
            files.len(),
            options
                .spec
                .sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
        rows: rows(&points, None),
    });
    if options.compare {
        let sequential = resize_point(1, true)?;
        let parallel = resize_point(options.cores.max(1), false)?;
        compare.push(compare_row("resize", &sequential, &parallel));
    }
    Ok(BenchResult { tables, compare })
}

fn compare_row(phase: &'static str, sequential: &Point, parallel: &Point) -> CompareRow {
    let s = table::median(&sequential.times).as_secs_f64();
    let p = table::median(&parallel.times).as_secs_f64();
    CompareRow {
        phase,
        sequential_s: s,
        parallel_s: p,
        parallel_threads: parallel.threads,
        speedup: if p > 0.0 { s / p } else { 0.0 },
    }
}

/// The sequential-against-parallel table.
pub fn compare_text(rows: &[CompareRow]) -> String {
    let mut out = String::from("sequential against parallel (medians)\n  phase      sequential     parallel  threads  speedup\n");
    for r in rows {
        out.push_str(&format!(
            "  {:<8}  {:>9.3} s  {:>9.3} s  {:>7}  {:>6.2}x\n",
            r.phase, r.sequential_s, r.parallel_s, r.parallel_threads, r.speedup
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{compare_row, compare_text, default_resize_threads, planned_runs, BenchOptions};
    use crate::bench::table::Point;
    use std::time::Duration;

    fn options() -> BenchOptions {
        BenchOptions {
            inputs: Vec::new(),
            latency: Duration::from_millis(100),
            copies: 8,
            download_threads: vec![1, 2, 4],
            resize_threads: default_resize_threads(2),
            runs: 3,
            compare: true,
            cores: 2,
            spec: crate::config::Config::new(Default::default(), 2).spec,
            net: Default::default(),
        }
    }

    #[test]
    fn resize_sweep_is_one_to_the_cores_then_twice_the_cores() {
        assert_eq!(default_resize_threads(2), [1, 2, 4]);
        assert_eq!(default_resize_threads(1), [1, 2]);
        assert_eq!(default_resize_threads(4), [1, 2, 3, 4, 8]);
    }

    #[test]
    fn planned_runs_count_warmups_sweeps_and_comparisons() {
        let o = options();
        // downloads: 1 warm-up + 3 points x 3 runs + 2 x 3 compared; resizes: 3 x (3 + 1) + 6.
        assert_eq!(planned_runs(&o, true), 1 + 9 + 6 + 12 + 6);
        assert_eq!(planned_runs(&o, false), 12 + 6);
    }

    #[test]
    fn comparison_is_the_ratio_of_medians() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect();
        let seq = Point {
            threads: 1,
            times: ms(&[400, 410, 390]),
            amount: 1.0,
        };
        let par = Point {
            threads: 2,
            times: ms(&[200, 250, 210]),
            amount: 1.0,
        };
        let row = compare_row("resize", &seq, &par);
        assert!((row.speedup - 400.0 / 210.0).abs() < 1e-9);
        assert!(
            compare_text(&[row]).contains("  resize        0.400 s      0.210 s        2    1.90x")
        );
    }
}
