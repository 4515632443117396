//! A whole run: plan, phase one (download), phase two (decode, resize, write), report.
//!
//! Each phase is timed on its own. By default phase two starts when phase one is over; with
//! `--overlap` each image is resized as soon as it has landed. A failing item is reported through
//! [`Progress`] and kept in the report; it never stops the others. Only a fault that makes the
//! whole run impossible (an output folder that cannot be created) ends it early, as a
//! [`RunError`].

use std::cmp::Reverse;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::catch;
use crate::config::{Config, Schedule};
use crate::download::{self, Fetcher, Task};
use crate::failure::{Failure, Stage};
use crate::inputs::Origin;
use crate::output::{self, OutputError};
use crate::plan::{self, Job, Planned};
use crate::progress::{Phase, Progress};
use crate::report::{DownloadReport, Report, ResizeReport};
use crate::resize::Thumbnailer;
use crate::safety::Fence;
use crate::status::{status, Status};

mod item;

use item::{thumbnails_for, WriteStreak};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create the {0} folder")]
    Folder(&'static str, #[source] OutputError),
    #[error("no inputs: the list is empty and the folders given hold no images")]
    NoInputs,
    #[error("cannot start {0} resize threads")]
    Pool(usize, #[source] rayon::ThreadPoolBuildError),
    #[error("cannot read the input list")]
    List(#[source] std::io::Error),
}

/// An image ready for phase two: its job and where its bytes are on disk.
pub(crate) struct Item<'a> {
    job: &'a Job,
    path: PathBuf,
    /// Its place in the input list, so the report keeps the user's order.
    order: usize,
}

/// What one image contributed to the report.
pub(crate) struct Done {
    thumbnails: usize,
    pixels: u64,
}

/// One item's outcome in phase two, by its order; `None` if Ctrl-C came first.
type ItemOutcome = (usize, Option<Result<Done, Failure>>);

/// The run's work, planned: this shard's jobs, what is left to do of them, and what to fetch.
struct Work {
    jobs: Vec<Job>,
    failures: Vec<Failure>,
    /// Jobs still to do (by index into `jobs`), with where their bytes are or come from.
    todo: Vec<(usize, Status)>,
    skipped: usize,
    cached: usize,
}

pub fn run(config: &Config, progress: &dyn Progress) -> Result<Report, RunError> {
    let started = Instant::now();
    let work = prepare(config, progress)?;
    let mut report = match config.schedule {
        Schedule::Overlapped => overlapped(config, progress, &work)?,
        Schedule::InTurn | Schedule::Sequential => in_turn(config, progress, &work)?,
    };
    report.total_seconds = started.elapsed();
    Ok(report)
}

/// Plans the inputs, makes the folders, clears what a killed run left, and sets aside what an
/// earlier run already did.
fn prepare(config: &Config, progress: &dyn Progress) -> Result<Work, RunError> {
    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    let fence = Fence::new(&config.out_dir);
    let distinct = plan::plan(
        &config.inputs,
        config.shard,
        &fence,
        |planned| match planned {
            Planned::Job(job) => jobs.push(job),
            Planned::Failed(failure) => {
                progress.item_failed(Phase::Download, &failure);
                failures.push(failure);
            }
        },
    )
    .map_err(RunError::List)?;
    if distinct == 0 && failures.is_empty() {
        return Err(RunError::NoInputs);
    }
    output::ensure_dir(&config.out_dir).map_err(|e| RunError::Folder("output", e))?;
    let any_url = jobs.iter().any(|j| matches!(j.origin, Origin::Url(_)));
    if any_url {
        output::ensure_dir(&config.incoming_dir).map_err(|e| RunError::Folder("incoming", e))?;
    }
    // A killed run leaves temporary files behind; they are never mistaken for results, but
    // they are clutter.
    let stale = output::remove_stale_temps(&config.out_dir)
        + if any_url {
            output::remove_stale_temps(&config.incoming_dir)
        } else {
            0
        };
    if stale > 0 {
        progress.log(&format!(
            "removed {stale} temporary files left by an interrupted run"
        ));
    }

    // A re-run does only what is missing (decided by `status`, as for the dry run).
    let (mut skipped, mut cached) = (0, 0);
    let mut todo = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter().enumerate() {
        match status(job, config) {
            Status::Done => skipped += 1,
            found => {
                cached += usize::from(matches!(found, Status::Downloaded(_)));
                todo.push((index, found));
            }
        }
    }
    if skipped + cached > 0 {
        progress.log(&format!(
            "{skipped} inputs already done, {cached} downloads already here (--force redoes them)"
        ));
    }
    Ok(Work {
        jobs,
        failures,
        todo,
        skipped,
        cached,
    })
}

fn download_threads(config: &Config) -> usize {
    if config.schedule == Schedule::Sequential {
        1
    } else {
        config.download_threads
    }
}

/// Phase one, then phase two.
fn in_turn(config: &Config, progress: &dyn Progress, work: &Work) -> Result<Report, RunError> {
    let tasks: Vec<Task> = work
        .todo
        .iter()
        .filter_map(|(_, status)| match status {
            Status::Fetch(task) => Some(task.clone()),
            _ => None,
        })
        .collect();
    progress.phase_started(Phase::Download, tasks.len());
    let started = Instant::now();
    let fetched = if tasks.is_empty() {
        Vec::new()
    } else {
        let fetcher = Fetcher::new(&config.net);
        download::download_all(
            &tasks,
            download_threads(config),
            &fetcher,
            progress,
            &config.cancel,
        )
    };
    let mut download = DownloadReport {
        seconds: started.elapsed(),
        threads: download_threads(config),
        cached: work.cached,
        ..DownloadReport::default()
    };
    progress.phase_finished(Phase::Download);

    let mut failures = work.failures.clone();
    let mut fetched = fetched.into_iter();
    let mut items = Vec::with_capacity(work.todo.len());
    for (order, (index, found)) in work.todo.iter().enumerate() {
        let job = &work.jobs[*index];
        let path = match found {
            Status::Fetch(task) => match fetched.next().expect("one result per task") {
                Some(result) => {
                    if !download.count(result, &mut failures) {
                        continue;
                    }
                    task.dest.clone()
                }
                // Interrupted before this download started.
                None => continue,
            },
            ready => ready.ready().expect("not done, not fetched").to_path_buf(),
        };
        items.push(Item { job, path, order });
    }
    if config.schedule != Schedule::Sequential {
        // Largest first, each thread taking the next item as it comes free: one big progressive
        // JPEG started last would otherwise leave the other cores idle at the end.
        items.sort_by_cached_key(|item| Reverse(fs::metadata(&item.path).map_or(0, |m| m.len())));
    }
    let count = items.len();
    let (outcomes, resize) = resize_items(items.into_iter(), count, config, progress)?;
    Ok(report(config, work, download, resize, outcomes, failures))
}

/// Both phases at once: each download, as it lands, goes straight to the resize pool.
fn overlapped(config: &Config, progress: &dyn Progress, work: &Work) -> Result<Report, RunError> {
    let (sender, receiver) = mpsc::channel();
    let mut tasks = Vec::new();
    let mut task_orders = Vec::new();
    for (order, (index, found)) in work.todo.iter().enumerate() {
        let job = &work.jobs[*index];
        match found {
            Status::Fetch(task) => {
                tasks.push(task.clone());
                task_orders.push((order, job));
            }
            ready => {
                let path = ready.ready().expect("not done, not fetched").to_path_buf();
                let _ = sender.send(Item { job, path, order });
            }
        }
    }
    let threads = download_threads(config);
    thread::scope(|scope| {
        let downloads = scope.spawn(move || {
            progress.phase_started(Phase::Download, tasks.len());
            let started = Instant::now();
            let on_done = |i: usize, result: &Result<u64, Failure>| {
                if result.is_ok() {
                    let (order, job) = task_orders[i];
                    let path = tasks[i].dest.clone();
                    // The resize side only stops listening if it failed to start.
                    let _ = sender.send(Item { job, path, order });
                }
            };
            let fetched = if tasks.is_empty() {
                Vec::new()
            } else {
                let fetcher = Fetcher::new(&config.net);
                download::download_each(
                    &tasks,
                    threads,
                    &fetcher,
                    progress,
                    &config.cancel,
                    &on_done,
                )
            };
            let seconds = started.elapsed();
            drop(sender);
            progress.phase_finished(Phase::Download);
            (fetched, seconds)
        });
        let resized = resize_items(receiver.into_iter(), work.todo.len(), config, progress);
        let (fetched, seconds) = downloads.join().expect("the download thread panicked");
        let (outcomes, resize) = resized?;
        let mut download = DownloadReport {
            seconds,
            threads,
            cached: work.cached,
            ..DownloadReport::default()
        };
        let mut failures = work.failures.clone();
        for result in fetched.into_iter().flatten() {
            download.count(result, &mut failures);
        }
        Ok(report(config, work, download, resize, outcomes, failures))
    })
}

/// Phase two over `items` as they come: on one thread with `--sequential`, else on the rayon
/// pool, each thread taking the next item as it comes free and reusing its own `Resizer`.
fn resize_items<'a>(
    items: impl Iterator<Item = Item<'a>> + Send,
    count: usize,
    config: &Config,
    progress: &dyn Progress,
) -> Result<(Vec<ItemOutcome>, ResizeReport), RunError> {
    let threads = if config.schedule == Schedule::Sequential {
        1
    } else {
        config.resize_threads
    };
    progress.phase_started(Phase::Resize, count);
    let started = Instant::now();
    let busy = AtomicU64::new(0);
    let streak = WriteStreak::default();
    let process = |thumbnailer: &mut Thumbnailer, item: Item| -> ItemOutcome {
        if config.cancel.load(Ordering::Relaxed) || streak.stopped().is_some() {
            return (item.order, None);
        }
        let began = Instant::now();
        // A panic anywhere in one image's work is a bug, but it must cost only that image.
        let result =
            catch::caught(|| thumbnails_for(&item, config, thumbnailer)).unwrap_or_else(|_| {
                Err((
                    Failure {
                        input: item.job.input.clone(),
                        stage: Stage::Resize,
                        error: "internal error (a bug in thumbnail-maker; please report it)".into(),
                    },
                    None,
                ))
            });
        streak.count(&result, &config.out_dir);
        let result = result.map_err(|(failure, _)| failure);
        busy.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        match &result {
            Ok(done) => {
                progress.log(&format!(
                    "resized {} ({} thumbnails)",
                    item.job.input, done.thumbnails
                ));
                progress.item_finished(Phase::Resize, 0);
            }
            Err(failure) => progress.item_failed(Phase::Resize, failure),
        }
        (item.order, Some(result))
    };
    let mut outcomes: Vec<ItemOutcome> = if config.schedule == Schedule::Sequential {
        let mut thumbnailer = Thumbnailer::new(config.spec.linear);
        items.map(|item| process(&mut thumbnailer, item)).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("resize-{i}"))
            .build()
            .map_err(|e| RunError::Pool(threads, e))?;
        pool.install(|| {
            items
                .par_bridge()
                .map_init(|| Thumbnailer::new(config.spec.linear), process)
                .collect()
        })
    };
    outcomes.sort_by_key(|(order, _)| *order);
    progress.phase_finished(Phase::Resize);
    let resize = ResizeReport {
        seconds: started.elapsed(),
        busy_seconds: Duration::from_nanos(busy.into_inner()) / threads as u32,
        threads,
        stopped: streak.stopped(),
        ..ResizeReport::default()
    };
    Ok((outcomes, resize))
}

/// Counts the outcomes into the report.
fn report(
    config: &Config,
    work: &Work,
    download: DownloadReport,
    mut resize: ResizeReport,
    outcomes: Vec<ItemOutcome>,
    mut failures: Vec<Failure>,
) -> Report {
    resize.skipped = work.skipped;
    let mut pixels = 0u64;
    for (_, outcome) in outcomes {
        match outcome {
            None => {}
            Some(Ok(done)) => {
                resize.images += 1;
                resize.thumbnails += done.thumbnails;
                pixels += done.pixels;
            }
            Some(Err(failure)) => {
                resize.failed += 1;
                failures.push(failure);
            }
        }
    }
    resize.megapixels = pixels as f64 / 1e6;
    Report {
        shard: config.shard,
        sequential: config.schedule == Schedule::Sequential,
        overlapped: config.schedule == Schedule::Overlapped,
        interrupted: config.cancel.load(Ordering::Relaxed),
        total_seconds: Duration::ZERO,
        download,
        resize,
        failures,
    }
}
