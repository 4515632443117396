//! What is left to do for one job, decided here once: the run and the dry run both ask.
//!
//! A re-run does only what is missing. An input whose thumbnails all exist is done; a URL whose
//! download was renamed into place (so is complete) is not fetched again; `--force` redoes
//! both. This is a pure question of the job, the configuration and the file system's answer to
//! a few `stat`s; it changes nothing.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::download::Task;
use crate::inputs::Origin;
use crate::output;
use crate::plan::Job;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every thumbnail exists already.
    Done,
    /// A local file, read where it is.
    Local(PathBuf),
    /// A URL fetched by an earlier run, read from the incoming folder.
    Downloaded(PathBuf),
    /// A URL to fetch first.
    Fetch(Task),
}

impl Status {
    /// Where the job's bytes are now, when they need no download.
    pub fn ready(&self) -> Option<&Path> {
        match self {
            Status::Local(path) | Status::Downloaded(path) => Some(path),
            Status::Done | Status::Fetch(_) => None,
        }
    }

    /// The word the dry run prints.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Done => "done",
            _ => "todo",
        }
    }
}

pub fn status(job: &Job, config: &Config) -> Status {
    let done = !config.force
        && output::thumbnails_exist(
            &config.out_dir,
            &job.stem,
            &config.spec.sizes,
            config.spec.format,
            &config.names,
        );
    if done {
        return Status::Done;
    }
    match (&job.origin, &job.incoming_name) {
        (Origin::File(path), _) => Status::Local(path.clone()),
        (Origin::Url(url), Some(name)) => {
            let dest = config.incoming_dir.join(name);
            if !config.force && dest.is_file() {
                Status::Downloaded(dest)
            } else {
                Status::Fetch(Task {
                    input: job.input.clone(),
                    url: url.clone(),
                    dest,
                })
            }
        }
        (Origin::Url(url), None) => unreachable!("the planner names every URL's download: {url}"),
    }
}
