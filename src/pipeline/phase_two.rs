//! Phase two: the images, as they come, on the resize threads, each failure to the log.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::item::{thumbnails_for, WriteStreak};
use super::{Queued, RunError};
use crate::catch;
use crate::config::{Config, Schedule};
use crate::failure::{Failure, FailureLog, Stage};
use crate::progress::{Phase, Progress};
use crate::report::ResizeReport;
use crate::resize::Thumbnailer;

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
    let streak = WriteStreak::default();
    let process = |thumbnailer: &mut Thumbnailer, item: Queued| {
        // What was not started is neither done nor failed.
        if config.cancel.load(Ordering::Relaxed) || streak.stopped().is_some() {
            done_with(&item);
            return;
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
        done_with(&item);
        busy.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        match result {
            Ok(done) if done.skipped => {
                skipped.fetch_add(1, Ordering::Relaxed);
                progress.log(&format!("{} is unchanged", item.job.input));
                progress.item_finished(Phase::Resize, 0);
            }
            Ok(done) => {
                images.fetch_add(1, Ordering::Relaxed);
                thumbnails.fetch_add(done.thumbnails, Ordering::Relaxed);
                pixels.fetch_add(done.pixels, Ordering::Relaxed);
                progress.log(&format!(
                    "resized {} ({} thumbnails)",
                    item.job.input, done.thumbnails
                ));
                for warning in done.warnings {
                    let warning = Failure {
                        input: item.job.input.clone(),
                        stage: Stage::Decode,
                        error: warning,
                    };
                    progress.item_warned(Phase::Resize, &warning);
                    warnings.push(item.order, warning);
                }
                progress.item_finished(Phase::Resize, 0);
            }
            Err((failure, _)) => {
                failed.fetch_add(1, Ordering::Relaxed);
                progress.item_failed(Phase::Resize, &failure);
                log.push(item.order, failure);
            }
        }
    };
    if config.schedule == Schedule::Sequential {
        let mut thumbnailer = Thumbnailer::new(config.spec.linear);
        items.for_each(|item| process(&mut thumbnailer, item));
    } else {
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
    }
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
        pruned: 0,
    })
}
