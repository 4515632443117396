//! A whole run: plan, phase one (download), phase two (decode, resize, write), report.
//!
//! Each phase is timed on its own. A failing item is reported through [`Progress`] and kept in
//! the report; it never stops the others. Only a fault that makes the whole run impossible (an
//! output folder that cannot be created) ends it early, as a [`RunError`].

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Config;
use crate::download::{self, Fetcher, Task};
use crate::inputs::{self, Job, Source};
use crate::output::{self, OutputError};
use crate::progress::{Phase, Progress};
use crate::report::{DownloadReport, Failure, Report, ResizeReport, Stage};
use crate::resize::Thumbnailer;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create the output folder")]
    Folder(#[from] OutputError),
    #[error("cannot start {0} resize threads")]
    Pool(usize, #[source] rayon::ThreadPoolBuildError),
}

/// An image ready for phase two: its job and where its bytes are on disk.
struct Item<'a> {
    job: &'a Job,
    path: PathBuf,
}

/// What one image contributed to the report.
struct Done {
    thumbnails: usize,
    pixels: u64,
}

pub fn run(config: &Config, progress: &dyn Progress) -> Result<Report, RunError> {
    let (sources, mut failures) = inputs::expand(&config.inputs);
    for failure in &failures {
        progress.item_failed(Phase::Download, failure);
    }
    let jobs = inputs::plan(sources);

    output::ensure_dir(&config.out_dir)?;
    let tasks: Vec<Task> = jobs
        .iter()
        .filter_map(|job| match (&job.source, &job.incoming_name) {
            (Source::Url(url), Some(name)) => Some(Task {
                input: job.input.clone(),
                url: url.clone(),
                dest: config.incoming_dir.join(name),
            }),
            _ => None,
        })
        .collect();
    if !tasks.is_empty() {
        output::ensure_dir(&config.incoming_dir)?;
    }

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
        download::download_all(
            &tasks,
            download_threads,
            &Fetcher::new(&config.net),
            progress,
        )
    };
    let mut download = DownloadReport {
        seconds: started.elapsed(),
        threads: download_threads,
        ..DownloadReport::default()
    };
    progress.phase_finished(Phase::Download);

    let mut fetched = fetched.into_iter();
    let mut items = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let path = match &job.source {
            Source::File(path) => path.clone(),
            Source::Url(_) => match fetched.next().expect("one result per task") {
                Ok(bytes) => {
                    download.ok += 1;
                    download.bytes += bytes;
                    let name = job
                        .incoming_name
                        .as_deref()
                        .expect("URLs have incoming names");
                    config.incoming_dir.join(name)
                }
                Err(failure) => {
                    download.failed += 1;
                    failures.push(failure);
                    continue;
                }
            },
        };
        items.push(Item { job, path });
    }

    let resize_threads = if config.sequential {
        1
    } else {
        config.resize_threads
    };
    progress.phase_started(Phase::Resize, items.len());
    let started = Instant::now();
    let process = |thumbnailer: &mut Thumbnailer, item: &Item| {
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
        result
    };
    let outcomes: Vec<Result<Done, Failure>> = if config.sequential {
        let mut thumbnailer = Thumbnailer::default();
        items
            .iter()
            .map(|item| process(&mut thumbnailer, item))
            .collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(resize_threads)
            .thread_name(|i| format!("resize-{i}"))
            .build()
            .map_err(|e| RunError::Pool(resize_threads, e))?;
        pool.install(|| {
            items
                .par_iter()
                .map_init(Thumbnailer::default, process)
                .collect()
        })
    };
    let mut resize = ResizeReport {
        seconds: started.elapsed(),
        threads: resize_threads,
        ..ResizeReport::default()
    };
    progress.phase_finished(Phase::Resize);

    let mut pixels = 0u64;
    for outcome in outcomes {
        match outcome {
            Ok(done) => {
                resize.images += 1;
                resize.thumbnails += done.thumbnails;
                pixels += done.pixels;
            }
            Err(failure) => {
                resize.failed += 1;
                failures.push(failure);
            }
        }
    }
    resize.megapixels = pixels as f64 / 1e6;

    Ok(Report {
        sequential: config.sequential,
        download,
        resize,
        failures,
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
    let made = crate::make_thumbnails(
        &bytes,
        &config.widths,
        config.quality,
        &config.decode,
        thumbnailer,
    )
    .map_err(|e| Failure::new(input, e.stage(), &e))?;
    for thumb in &made.thumbnails {
        let name = output::file_name(&item.job.stem, thumb.width, thumb.format);
        output::write_atomic(&config.out_dir, &name, &thumb.bytes)
            .map_err(|e| Failure::new(input, Stage::Write, &e))?;
    }
    Ok(Done {
        thumbnails: made.thumbnails.len(),
        pixels: u64::from(made.source_width) * u64::from(made.source_height),
    })
}
