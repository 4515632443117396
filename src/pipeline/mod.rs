//! A whole run: plan, phase one (download), phase two (decode, resize, write), report.
//!
//! Each phase is timed on its own. By default phase two starts when phase one is over; with
//! `--overlap` each image is resized as soon as it has landed. A failing item is reported through
//! [`Progress`] and kept in the report; it never stops the others. Only a fault that makes the
//! whole run impossible (an output folder that cannot be created) ends it early, as a
//! [`RunError`].
//!
//! Nothing here holds the list: planning writes the jobs to two queues on disk (to fetch, and
//! ready to resize), the phases read them back one at a time, and failures go to a
//! [`FailureLog`] that spills to disk. Memory stays the same for a thousand inputs or ten
//! million.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::config::{Config, Schedule};
use crate::download::{self, Fetcher};
use crate::failure::{Failure, FailureLog, Stage};
use crate::output::{self, OutputError};
use crate::plan::{Names, Planned};
use crate::progress::{Phase, Progress};
use crate::reach::Reach;
use crate::report::{DownloadReport, Report, ResizeReport};
use crate::safety::Fence;
use crate::spill::Queue;
use crate::status::{status, Status};

mod after;
mod discard;
mod item;
mod permits;
mod phase_two;
mod queued;

use permits::Permits;
use phase_two::resize_items;
pub(crate) use queued::Queued;

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
    #[error("cannot keep the run's work queue in the output folder")]
    Spill(#[source] std::io::Error),
    #[error("cannot write the manifest {}", .0.display())]
    Manifest(std::path::PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Upload(crate::upload::UploadError),
    #[error("--prune could not finish in {}", .0.display())]
    Prune(std::path::PathBuf, #[source] std::io::Error),
}

/// What one image contributed to the report.
#[derive(Default)]
pub(crate) struct Done {
    /// Nothing was stale after all (a download the server said was unchanged, or a source
    /// whose recipe still matches): not decoded.
    skipped: bool,
    thumbnails: usize,
    pixels: u64,
    /// Said in the log and the report; the image still counts as done.
    warnings: Vec<String>,
    /// The writes still to carry out, by a writer thread.
    outgoing: Option<crate::output::Outgoing>,
}

/// Images waiting between the download workers (or the ready queue) and the resize threads
/// with `--overlap`: enough that no resize thread waits, few enough to be no memory at all.
const RESIZE_QUEUE: usize = 256;

/// The run's work, planned: what to fetch, what is ready to resize, what already failed.
struct Work {
    fetch: Queue<Queued>,
    ready: Queue<Queued>,
    log: FailureLog,
    /// Images made with something less than right (a colour profile that could not be used).
    warnings: FailureLog,
    skipped: usize,
    cached: usize,
}

pub fn run(config: &Config, progress: &dyn Progress) -> Result<Report, RunError> {
    let started = Instant::now();
    let (names, work) = prepare(config, progress)?;
    let mut report = match config.schedule {
        Schedule::Overlapped => overlapped(config, progress, work)?,
        Schedule::InTurn | Schedule::Sequential => in_turn(config, progress, work)?,
    };
    after::after(config, progress, &names, &mut report)?;
    report.total_seconds = started.elapsed();
    Ok(report)
}

/// Plans the inputs, makes the folders, clears what a killed run left, and sets aside what an
/// earlier run already did.
fn prepare(config: &Config, progress: &dyn Progress) -> Result<(Names, Work), RunError> {
    if let Some(upload) = &config.upload {
        upload.list(&config.net).map_err(RunError::Upload)?;
    }
    let reach = Reach::with_s3(Fence::new(&config.out_dir), &config.net);
    let names = Names::scan(&config.inputs, &reach, &config.out_dir).map_err(RunError::List)?;
    if names.distinct == 0 && names.failed == 0 {
        return Err(RunError::NoInputs);
    }
    // Nothing usable (every input missing or malformed): no folder is created for a run that
    // can write nothing; its few records go to the system's temporary folder. Otherwise a
    // killed run's temporary files are cleared: never mistaken for results, but clutter.
    let (spill_dir, mut stale) = if names.distinct == 0 {
        (std::env::temp_dir(), 0)
    } else {
        output::ensure_dir(&config.out_dir).map_err(|e| RunError::Folder("output", e))?;
        let stale = output::remove_stale_temps(&config.out_dir);
        (config.out_dir.clone(), stale)
    };

    // A re-run does only what is missing (decided by `status`, as for the dry run).
    let mut work = Work {
        fetch: Queue::new(&spill_dir).map_err(RunError::Spill)?,
        ready: Queue::new(&spill_dir).map_err(RunError::Spill)?,
        log: FailureLog::new(&spill_dir),
        warnings: FailureLog::new(&spill_dir),
        skipped: 0,
        cached: 0,
    };
    let mut queue_error = None;
    names
        .plan(&config.inputs, config.shard, &reach, |order, planned| {
            let job = match planned {
                Planned::Job(job) => job,
                Planned::Failed(failure) => {
                    progress.item_failed(Phase::Download, &failure);
                    work.log.push(order, failure);
                    return;
                }
            };
            let queued = match status(&job, config).status {
                Status::Done => {
                    work.skipped += 1;
                    return;
                }
                Status::Fetch(task) => work.fetch.push(&Queued {
                    order,
                    path: task.dest,
                    source: task.validator,
                    job,
                    holds_permit: false,
                }),
                Status::Downloaded(path, source) => {
                    work.cached += 1;
                    work.ready.push(&Queued {
                        order,
                        path,
                        job,
                        source,
                        holds_permit: false,
                    })
                }
                Status::Local(path, source) => work.ready.push(&Queued {
                    order,
                    path,
                    job,
                    source,
                    holds_permit: false,
                }),
            };
            if let Err(e) = queued {
                queue_error.get_or_insert(e);
            }
        })
        .map_err(RunError::List)?;
    if let Some(e) = queue_error {
        return Err(RunError::Spill(e));
    }
    if !work.fetch.is_empty() || work.cached > 0 {
        output::ensure_dir(&config.incoming_dir).map_err(|e| RunError::Folder("incoming", e))?;
        stale += output::remove_stale_temps(&config.incoming_dir);
    }
    if stale > 0 {
        progress.log(&format!(
            "removed {stale} temporary files left by an interrupted run"
        ));
    }
    if work.skipped + work.cached > 0 {
        progress.log(&format!(
            "{} inputs already done, {} downloads used as they are (--force redoes them)",
            work.skipped, work.cached
        ));
    }
    Ok((names, work))
}

fn download_threads(config: &Config) -> usize {
    if config.schedule == Schedule::Sequential {
        1
    } else {
        config.download_threads
    }
}

/// The jobs of `queue`, in the order they went in. A queue that cannot be read back (the disk
/// failing under the run) ends with one failure saying so, never silently.
fn read_back<'a>(
    queue: Queue<Queued>,
    log: &'a FailureLog,
) -> Result<impl Iterator<Item = Queued> + Send + 'a, RunError> {
    let mut records = queue.drain().map_err(RunError::Spill)?;
    Ok(std::iter::from_fn(move || match records.next()? {
        Ok(queued) => Some(queued),
        Err(e) => {
            log.push(
                u64::MAX,
                Failure::new("(the run's work queue)", Stage::Input, &e),
            );
            None
        }
    }))
}

/// Phase one over the `fetch` queue; each job that lands goes to `landed`, each failure to `log`.
/// With `permits`, each download waits for one first; a failed one gives it back at once, a
/// landed one holds it until phase two deletes the original.
fn phase_one(
    config: &Config,
    progress: &dyn Progress,
    fetch: Queue<Queued>,
    log: &FailureLog,
    permits: Option<&Permits>,
    landed: &(dyn Fn(Queued) + Sync),
) -> Result<DownloadReport, RunError> {
    let threads = download_threads(config);
    progress.phase_started(Phase::Download, fetch.len());
    let started = Instant::now();
    let download = Mutex::new(DownloadReport {
        threads,
        ..DownloadReport::default()
    });
    if !fetch.is_empty() {
        let fetcher = Fetcher::new(&config.net);
        let tasks = read_back(fetch, log)?.filter_map(|queued| {
            let task = queued.task()?;
            if let Some(permits) = permits {
                permits.take(1);
            }
            Some((queued, task))
        });
        download::download_from(
            tasks,
            threads,
            &fetcher,
            progress,
            &config.cancel,
            &|queued, result| {
                download.lock().expect("report lock").count(&result);
                match result {
                    Ok(what) => landed(Queued {
                        source: what.source,
                        holds_permit: permits.is_some(),
                        ..queued
                    }),
                    Err(failure) => {
                        if let Some(permits) = permits {
                            permits.give_back(1);
                        }
                        log.push(queued.order, failure);
                    }
                }
            },
        );
    }
    let mut download = download.into_inner().expect("report lock");
    download.seconds = started.elapsed();
    progress.phase_finished(Phase::Download);
    Ok(download)
}

/// Phase one, then phase two.
fn in_turn(config: &Config, progress: &dyn Progress, work: Work) -> Result<Report, RunError> {
    let Work {
        fetch,
        ready,
        log,
        warnings,
        skipped,
        cached,
    } = work;
    let ready = Mutex::new(ready);
    let queue_error = Mutex::new(None);
    let mut download = phase_one(config, progress, fetch, &log, None, &|queued| {
        if let Err(e) = ready.lock().expect("queue lock").push(&queued) {
            queue_error.lock().expect("queue lock").get_or_insert(e);
        }
    })?;
    download.cached = cached;
    if let Some(e) = queue_error.into_inner().expect("queue lock") {
        return Err(RunError::Spill(e));
    }
    let ready = ready.into_inner().expect("queue lock");
    let count = ready.len();
    let items = read_back(ready, &log)?;
    let done_with = |item: &Queued| discard::discard(config, item);
    let resize = if config.schedule == Schedule::Sequential {
        resize_items(items, count, config, progress, &log, &warnings, &done_with)?
    } else {
        let items = queued::largest_first(items);
        resize_items(items, count, config, progress, &log, &warnings, &done_with)?
    };
    finish(config, skipped, download, resize, log, warnings)
}

/// Both phases at once: each download, as it lands, goes straight to the resize pool, beside
/// the images that needed no download.
fn overlapped(config: &Config, progress: &dyn Progress, work: Work) -> Result<Report, RunError> {
    let Work {
        fetch,
        ready,
        log,
        warnings,
        skipped,
        cached,
    } = work;
    let count = fetch.len() + ready.len();
    let (sender, receiver) = mpsc::sync_channel(RESIZE_QUEUE);
    let log_ref = &log;
    // With --discard-downloads no more originals than download threads are ever on disk.
    let permits = config
        .discard_downloads
        .then(|| Permits::new(download_threads(config)));
    let permits = permits.as_ref();
    let done_with = |item: &Queued| {
        discard::discard(config, item);
        if let Some(permits) = permits.filter(|_| item.holds_permit) {
            permits.give_back(1);
        }
    };
    let (download, resize) = thread::scope(|scope| {
        let log = log_ref;
        let ready_sender = sender.clone();
        let feeder = thread::Builder::new()
            .name("ready-feeder".into())
            .spawn_scoped(scope, move || -> Result<(), RunError> {
                for queued in read_back(ready, log)? {
                    // The resize side only stops listening if it failed to start.
                    if ready_sender.send(queued).is_err() {
                        break;
                    }
                }
                Ok(())
            })
            .expect("spawning the feeder thread");
        let downloads = thread::Builder::new()
            .name("download-coordinator".into())
            .spawn_scoped(scope, move || {
                phase_one(config, progress, fetch, log, permits, &|queued| {
                    let _ = sender.send(queued);
                })
            })
            .expect("spawning the download coordinator");
        let resized = resize_items(
            receiver.into_iter(),
            count,
            config,
            progress,
            log,
            &warnings,
            &done_with,
        );
        let fed = feeder.join().expect("the feeder thread panicked");
        let download = downloads.join().expect("the download thread panicked");
        fed?;
        Ok::<_, RunError>((download?, resized?))
    })?;
    let download = DownloadReport { cached, ..download };
    finish(config, skipped, download, resize, log, warnings)
}

/// The report, with every failure and warning of the run in list order.
fn finish(
    config: &Config,
    skipped: usize,
    download: DownloadReport,
    mut resize: ResizeReport,
    log: FailureLog,
    warnings: FailureLog,
) -> Result<Report, RunError> {
    resize.skipped += skipped;
    Ok(Report {
        version: crate::report::REPORT_VERSION,
        shard: config.shard,
        sequential: config.schedule == Schedule::Sequential,
        overlapped: config.schedule == Schedule::Overlapped,
        interrupted: config.cancel.load(Ordering::Relaxed),
        total_seconds: Duration::ZERO,
        download,
        resize,
        failures: log.finish().map_err(RunError::Spill)?,
        warnings: warnings.finish().map_err(RunError::Spill)?,
    })
}
