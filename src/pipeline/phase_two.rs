//! Phase two: the images, as they come, on the resize threads, their files on a writer thread,
//! each failure to the log.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use std::sync::{mpsc, Mutex};

use super::item::{self, thumbnails_for, WriteStreak};
use super::permits::Permits;
use super::{Done, Queued, RunError};
use crate::catch;
use crate::config::{Config, Schedule};
use crate::failure::{Failure, FailureLog, Stage};
use crate::output::Outgoing;
use crate::progress::{Phase, Progress};
use crate::report::ResizeReport;
use crate::resize::Thumbnailer;

/// Bytes of encoded files waiting for the writer threads at most. A queue of four images (two
/// per thread) left the cores idle whenever one rename was slow: 3.18 s against 2.93 s for 64
/// images on the small-image set, on disk. 16 MiB is hundreds of small images' thumbnails and
/// still nothing beside one large decode.
const WRITE_QUEUE_BYTES: usize = 16 << 20;

/// Phase two over `items` as they come: on one thread with `--sequential`, else on the rayon
/// pool, each thread taking the next item as it comes free and reusing its own `Resizer`.
pub(super) fn resize_items(
    items: impl Iterator<Item = Queued> + Send,
    count: usize,
    config: &Config,
    progress: &dyn Progress,
    log: &FailureLog,
    warnings: &FailureLog,
    done_with: &(dyn Fn(&Queued) + Sync),
) -> Result<ResizeReport, RunError> {
    let threads = if config.schedule == Schedule::Sequential {
        1
    } else {
        config.resize_threads
    };
    progress.phase_started(Phase::Resize, count);
    let started = Instant::now();
    let busy = AtomicU64::new(0);
    let (images, thumbnails, failed, skipped) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let pixels = AtomicU64::new(0);
    // With `-o s3:// --prune`: files an input's new record no longer names, deleted.
    let pruned = AtomicUsize::new(0);
    let streak = WriteStreak::default();
    // What became of one image, counted once it is all done, its writes included.
    let settle = |order: u64, input: &str, result: Result<Done, Failure>| match result {
        Ok(done) if done.skipped => {
            skipped.fetch_add(1, Ordering::Relaxed);
            progress.log(&format!("{input} is unchanged"));
            progress.item_finished(Phase::Resize, 0);
        }
        Ok(done) => {
            images.fetch_add(1, Ordering::Relaxed);
            thumbnails.fetch_add(done.thumbnails, Ordering::Relaxed);
            pixels.fetch_add(done.pixels, Ordering::Relaxed);
            progress.log(&format!("resized {input} ({} thumbnails)", done.thumbnails));
            for warning in done.warnings {
                let warning = Failure {
                    input: input.to_string(),
                    stage: Stage::Decode,
                    error: warning,
                };
                progress.item_warned(Phase::Resize, &warning);
                warnings.push(order, warning);
            }
            progress.item_finished(Phase::Resize, 0);
        }
        Err(failure) => {
            failed.fetch_add(1, Ordering::Relaxed);
            progress.item_failed(Phase::Resize, &failure);
            log.push(order, failure);
        }
    };
    // The writes go to writer threads through a queue, so the resize threads go on to the
    // next image instead of waiting on the disk (creating and renaming files, which on ext4
    // also starts their writeback) or on the store's latency. One thread for a folder, whose
    // writes queue on its lock anyway; as many as download threads for a bucket.
    // `--sequential` writes in line.
    let writers = match (&config.upload, config.schedule) {
        (Some(_), _) => super::download_threads(config).max(1),
        (None, Schedule::Sequential) => 0,
        (None, _) => 1,
    };
    // Writes, then their count against the streak, then the image's outcome.
    let write = |order: u64, input: &str, mut done: Done| {
        let outgoing = done.outgoing.take().expect("only writes are queued");
        let result = item::write(config, input, &outgoing).map(|superseded| {
            for file in &superseded {
                let address = config.upload.as_ref().map(|u| u.address());
                progress.log(&format!("pruned {}{file}", address.unwrap_or_default()));
            }
            pruned.fetch_add(superseded.len(), Ordering::Relaxed);
            done
        });
        streak.count(&result, &config.out_dir);
        settle(order, input, result.map_err(|(f, _)| f));
    };
    let (to_write, queue) = mpsc::channel::<(u64, String, Done)>();
    let queue = Mutex::new(queue);
    let budget = Permits::new(WRITE_QUEUE_BYTES);
    let drain = || loop {
        let next = queue.lock().expect("write queue lock").recv();
        let Ok((order, input, done)) = next else {
            return;
        };
        let bytes = done.outgoing.as_ref().map_or(0, Outgoing::bytes);
        write(order, &input, done);
        budget.give_back(bytes);
    };
    std::thread::scope(|scope| -> Result<(), RunError> {
        let writer_threads: Vec<_> = (0..writers)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("write-{i}"))
                    .spawn_scoped(scope, drain)
                    .expect("spawning a writer thread")
            })
            .collect();
        let process = |thumbnailer: &mut Thumbnailer, item: Queued| {
            // What was not started is neither done nor failed.
            if config.cancel.load(Ordering::Relaxed) || streak.stopped().is_some() {
                done_with(&item);
                return;
            }
            let began = Instant::now();
            // A panic anywhere in one image's work is a bug, but it must cost only that image.
            let result = catch::caught(|| thumbnails_for(&item, config, thumbnailer))
                .unwrap_or_else(|_| {
                    Err((
                        Failure {
                            input: item.job.input.clone(),
                            stage: Stage::Resize,
                            error: "internal error (a bug in thumbnail-maker; please report it)"
                                .into(),
                        },
                        None,
                    ))
                });
            done_with(&item);
            busy.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
            match result {
                Ok(done) if done.outgoing.is_some() && writers == 0 => {
                    write(item.order, &item.job.input, done);
                }
                Ok(done) if done.outgoing.is_some() => {
                    budget.take(done.outgoing.as_ref().map_or(0, Outgoing::bytes));
                    // The writer threads outlive the resize threads: the queue is open.
                    let _ = to_write.send((item.order, item.job.input, done));
                }
                result => {
                    streak.count(&result, &config.out_dir);
                    settle(item.order, &item.job.input, result.map_err(|(f, _)| f));
                }
            }
        };
        let resized = resize_all(items, threads, config, process);
        // The queue closes; the writer threads write what is left and end.
        drop(to_write);
        for writer in writer_threads {
            let _ = writer.join();
        }
        resized
    })?;
    progress.phase_finished(Phase::Resize);
    Ok(ResizeReport {
        seconds: started.elapsed(),
        busy_seconds: Duration::from_nanos(busy.into_inner()) / threads as u32,
        threads,
        images: images.into_inner(),
        thumbnails: thumbnails.into_inner(),
        failed: failed.into_inner(),
        megapixels: pixels.into_inner() as f64 / 1e6,
        stopped: streak.stopped(),
        skipped: skipped.into_inner(),
        pruned: pruned.into_inner(),
    })
}

/// Runs `process` over `items`: on this thread with `--sequential`, else on a rayon pool of
/// `threads`, each thread taking the next item as it comes free and reusing its `Thumbnailer`.
fn resize_all(
    items: impl Iterator<Item = Queued> + Send,
    threads: usize,
    config: &Config,
    process: impl Fn(&mut Thumbnailer, Queued) + Sync + Send,
) -> Result<(), RunError> {
    if config.schedule == Schedule::Sequential {
        let mut thumbnailer = Thumbnailer::new(config.spec.linear);
        items.for_each(|item| process(&mut thumbnailer, item));
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("resize-{i}"))
        .build()
        .map_err(|e| RunError::Pool(threads, e))?;
    pool.install(|| {
        items
            .par_bridge()
            .for_each_init(|| Thumbnailer::new(config.spec.linear), process)
    });
    Ok(())
}
