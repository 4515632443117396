//! A whole run: plan, phase one (download), phase two (decode, resize, write), report.
//!
//! Each phase is timed on its own. A failing item is reported through [`Progress`] and kept in
//! the report; it never stops the others. Only a fault that makes the whole run impossible (an
//! output folder that cannot be created) ends it early, as a [`RunError`].

use std::cmp::Reverse;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Config;
use crate::download::{self, Fetcher, Task};
use crate::inputs::Source;
use crate::output::{self, OutputError, OutputFormat};
use crate::plan::{self, Job, Planned};
use crate::progress::{Phase, Progress};
use crate::report::{DownloadReport, Failure, Report, ResizeReport, Stage};
use crate::resize::Thumbnailer;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create the output folder")]
    Folder(#[from] OutputError),
    #[error("cannot start {0} resize threads")]
    Pool(usize, #[source] rayon::ThreadPoolBuildError),
    #[error("cannot read the input list")]
    List(#[source] std::io::Error),
}

/// An image ready for phase two: its job and where its bytes are on disk.
struct Item<'a> {
    job: &'a Job,
    path: PathBuf,
    /// Its place in the input list, so the report keeps the user's order.
    order: usize,
}

/// What one image contributed to the report.
struct Done {
    thumbnails: usize,
    pixels: u64,
}

pub fn run(config: &Config, progress: &dyn Progress) -> Result<Report, RunError> {
    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    plan::plan(&config.inputs, config.shard, |planned| match planned {
        Planned::Job(job) => jobs.push(job),
        Planned::Failed(failure) => {
            progress.item_failed(Phase::Download, &failure);
            failures.push(failure);
        }
    })
    .map_err(RunError::List)?;
    output::ensure_dir(&config.out_dir)?;
    let any_url = jobs.iter().any(|j| matches!(j.source, Source::Url(_)));
    if any_url {
        output::ensure_dir(&config.incoming_dir)?;
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

    // A re-run does only what is missing: inputs whose thumbnails all exist are skipped, and
    // downloads already renamed into place (so complete) are not fetched again.
    let mut skipped = 0;
    let mut cached = 0;
    let mut todo: Vec<(&Job, Option<Task>)> = Vec::with_capacity(jobs.len());
    for job in &jobs {
        if !config.force && thumbnails_exist(job, config) {
            skipped += 1;
            continue;
        }
        let task = match (&job.source, &job.incoming_name) {
            (Source::Url(url), Some(name)) => {
                let dest = config.incoming_dir.join(name);
                if !config.force && dest.is_file() {
                    cached += 1;
                    None
                } else {
                    Some(Task {
                        input: job.input.clone(),
                        url: url.clone(),
                        dest,
                    })
                }
            }
            _ => None,
        };
        todo.push((job, task));
    }
    if skipped + cached > 0 {
        progress.log(&format!(
            "{skipped} inputs already done, {cached} downloads already here (--force redoes them)"
        ));
    }
    let tasks: Vec<Task> = todo.iter().filter_map(|(_, t)| t.clone()).collect();

    let download_threads = if config.sequential {
        1
    } else {
        config.download_threads
    };
    progress.phase_started(Phase::Download, tasks.len());
    let started = Instant::now();
    let fetched = if tasks.is_empty() {
        Vec::new()
    } else {
        let fetcher = Fetcher::new(&config.net);
        download::download_all(&tasks, download_threads, &fetcher, progress, &config.cancel)
    };
    let mut download = DownloadReport {
        seconds: started.elapsed(),
        threads: download_threads,
        cached,
        ..DownloadReport::default()
    };
    progress.phase_finished(Phase::Download);

    let mut fetched = fetched.into_iter();
    let mut items = Vec::with_capacity(todo.len());
    for (job, task) in &todo {
        let path = match (&job.source, task) {
            (Source::File(path), _) => path.clone(),
            (Source::Url(_), None) => config.incoming_dir.join(
                job.incoming_name
                    .as_deref()
                    .expect("URLs have incoming names"),
            ),
            (Source::Url(_), Some(task)) => match fetched.next().expect("one result per task") {
                Some(Ok(bytes)) => {
                    download.ok += 1;
                    download.bytes += bytes;
                    task.dest.clone()
                }
                Some(Err(failure)) => {
                    download.failed += 1;
                    failures.push(failure);
                    continue;
                }
                // Interrupted before this download started.
                None => continue,
            },
        };
        items.push(Item {
            job,
            path,
            order: items.len(),
        });
    }

    let resize_threads = if config.sequential {
        1
    } else {
        config.resize_threads
    };
    progress.phase_started(Phase::Resize, items.len());
    let started = Instant::now();
    let process = |thumbnailer: &mut Thumbnailer, item: &Item| {
        if config.cancel.load(Ordering::Relaxed) {
            return None;
        }
        let result = thumbnails_for(item, config, thumbnailer);
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
        Some(result)
    };
    let outcomes: Vec<(usize, Option<Result<Done, Failure>>)> = if config.sequential {
        let mut thumbnailer = Thumbnailer::default();
        items
            .iter()
            .map(|item| (item.order, process(&mut thumbnailer, item)))
            .collect()
    } else {
        // Largest first, each thread taking the next item as it comes free: one big progressive
        // JPEG started last would otherwise leave the other cores idle at the end.
        items.sort_by_cached_key(|item| Reverse(fs::metadata(&item.path).map_or(0, |m| m.len())));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(resize_threads)
            .thread_name(|i| format!("resize-{i}"))
            .build()
            .map_err(|e| RunError::Pool(resize_threads, e))?;
        let mut outcomes: Vec<_> = pool.install(|| {
            items
                .iter()
                .par_bridge()
                .map_init(Thumbnailer::default, |t, item| {
                    (item.order, process(t, item))
                })
                .collect()
        });
        outcomes.sort_by_key(|(order, _)| *order);
        outcomes
    };
    let mut resize = ResizeReport {
        seconds: started.elapsed(),
        threads: resize_threads,
        skipped,
        ..ResizeReport::default()
    };
    progress.phase_finished(Phase::Resize);

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

    Ok(Report {
        shard: config.shard,
        sequential: config.sequential,
        interrupted: config.cancel.load(Ordering::Relaxed),
        download,
        resize,
        failures,
    })
}

/// What `--dry-run` found: how many inputs in all, and of this shard's, how many are done.
pub struct DryRun {
    pub inputs: usize,
    pub planned: usize,
    pub done: usize,
    pub failed: usize,
}

/// Prints the plan, one tab-separated line per input of this shard (status, shard, input,
/// incoming file, thumbnail pattern), without fetching, decoding or writing anything.
pub fn dry_run(config: &Config, out: &mut dyn std::io::Write) -> Result<DryRun, RunError> {
    let shard = config
        .shard
        .map_or_else(|| "-".to_string(), |s| s.to_string());
    let widths: Vec<String> = config.spec.widths.iter().map(u32::to_string).collect();
    let pattern = format!("_{{{}}}.*", widths.join(","));
    let (mut planned, mut done, mut failed) = (0, 0, 0);
    let mut write_error = None;
    let inputs = plan::plan(&config.inputs, config.shard, |item| {
        let line = match item {
            Planned::Job(job) => {
                planned += 1;
                let status = if thumbnails_exist(&job, config) {
                    done += 1;
                    "done"
                } else {
                    "todo"
                };
                let incoming = job.incoming_name.as_ref().map_or_else(
                    || "-".to_string(),
                    |n| config.incoming_dir.join(n).display().to_string(),
                );
                let thumbs = config.out_dir.join(format!("{}{pattern}", job.stem));
                format!(
                    "{status}\t{shard}\t{}\t{incoming}\t{}",
                    job.input,
                    thumbs.display()
                )
            }
            Planned::Failed(failure) => {
                failed += 1;
                format!("error\t{shard}\t{}\t-\t{}", failure.input, failure.error)
            }
        };
        if write_error.is_none() {
            write_error = writeln!(out, "{line}").err();
        }
    })
    .map_err(RunError::List)?;
    // A closed stdout (`| head`) ends the listing early; that is the reader's choice, not a fault.
    let _ = write_error;
    Ok(DryRun {
        inputs,
        planned,
        done,
        failed,
    })
}

/// Whether every thumbnail of `job` is already in the output folder. With the format following
/// the input's content, any of the formats we write counts.
fn thumbnails_exist(job: &Job, config: &Config) -> bool {
    let formats = match config.spec.format {
        Some(format) => vec![format],
        None => vec![OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP],
    };
    config.spec.widths.iter().all(|&width| {
        formats.iter().any(|&format| {
            config
                .out_dir
                .join(output::file_name(&job.stem, width, format))
                .is_file()
        })
    })
}

/// Reads, decodes, resizes and writes one image.
fn thumbnails_for(
    item: &Item,
    config: &Config,
    thumbnailer: &mut Thumbnailer,
) -> Result<Done, Failure> {
    let input = item.job.input.as_str();
    let bytes = fs::read(&item.path).map_err(|e| Failure::new(input, Stage::Input, &e))?;
    let made = crate::make_thumbnails(&bytes, &config.spec, thumbnailer)
        .map_err(|e| Failure::new(input, e.stage(), &e))?;
    for thumb in &made.thumbnails {
        let name = output::file_name(&item.job.stem, thumb.requested_width, thumb.format);
        output::write_atomic(&config.out_dir, &name, &thumb.bytes)
            .map_err(|e| Failure::new(input, Stage::Write, &e))?;
    }
    Ok(Done {
        thumbnails: made.thumbnails.len(),
        pixels: made.source_pixels,
    })
}
