//! `--dry-run`: the plan as a user reads it, without fetching, decoding or writing anything.

use std::io;

use serde::Serialize;

use crate::config::Config;
use crate::escape::printable;
use crate::plan::{plan, Planned};
use crate::reach::Reach;
use crate::safety::Fence;
use crate::shard::Shard;
use crate::status::{status, Status};

/// What `--dry-run` found: how many inputs in all, and of this shard's, how many are done.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub inputs: usize,
    pub planned: usize,
    pub done: usize,
    /// Made before, differently: an option or the source changed, or a file went.
    pub stale: usize,
    pub failed: usize,
}

/// One input of the dry run, as its JSON form shows it.
#[derive(Serialize)]
struct DryItem<'a> {
    status: &'a str,
    shard: Option<Shard>,
    input: &'a str,
    incoming: Option<String>,
    thumbnails: Vec<String>,
    /// Why a job is to be done: `new`, `forced`, the recipe parts that changed.
    why: Option<&'a str>,
    error: Option<&'a str>,
}

/// Prints the plan without fetching, decoding or writing anything: one tab-separated line per
/// input of this shard (status, shard, input, incoming file, thumbnail pattern, why), or with `json`
/// one JSON document `{"items": [...], "inputs": .., "planned": .., "done": .., "failed": ..}`,
/// streamed item by item so a long list is never held.
pub fn dry_run(config: &Config, json: bool, out: &mut dyn std::io::Write) -> io::Result<DryRun> {
    let shard = config
        .shard
        .map_or_else(|| "-".to_string(), |s| s.to_string());
    let (mut planned, mut done, mut stale, mut failed) = (0, 0, 0, 0);
    let mut write_error = None;
    let mut first = true;
    if json {
        write_error = write!(out, "{{\"items\": [").err();
    }
    if let Some(upload) = &config.upload {
        upload.list(&config.net).map_err(io::Error::other)?;
    }
    let thumbnail_dir = config.upload.as_ref().map_or_else(
        || config.out_dir.clone(),
        |upload| std::path::PathBuf::from(upload.address()),
    );
    let reach = Reach::with_s3(Fence::new(&config.out_dir), &config.net);
    // A list long enough to be sorted on disk is sorted in the output folder if it exists;
    // a dry run creates nothing, so otherwise in the system's temporary folder.
    let spill_dir = if config.out_dir.is_dir() {
        config.out_dir.clone()
    } else {
        std::env::temp_dir()
    };
    let inputs = plan(&config.inputs, config.shard, &reach, &spill_dir, |item| {
        let line = match item {
            Planned::Job(job) => {
                planned += 1;
                let found = status(&job, config);
                done += usize::from(found.status == Status::Done);
                stale += usize::from(found.word() == "stale");
                let status = found.word();
                let why = (!found.why.is_empty()).then_some(found.why.as_str());
                let incoming = job
                    .incoming_name
                    .as_ref()
                    .map(|n| config.incoming_dir.join(n).display().to_string());
                let thumbs = config.names.patterns(
                    &thumbnail_dir,
                    &job.stem,
                    &config.spec.sizes,
                    config.spec.format,
                );
                if json {
                    let item = DryItem {
                        status,
                        shard: config.shard,
                        input: &job.input,
                        incoming,
                        thumbnails: thumbs,
                        why,
                        error: None,
                    };
                    serde_json::to_string(&item).expect("a plan item serialises")
                } else {
                    format!(
                        "{status}\t{shard}\t{}\t{}\t{}\t{}",
                        printable(&job.input),
                        printable(incoming.as_deref().unwrap_or("-")),
                        printable(&thumbs.join(" ")),
                        why.unwrap_or("-")
                    )
                }
            }
            Planned::Failed(failure) => {
                failed += 1;
                if json {
                    let item = DryItem {
                        status: "error",
                        shard: config.shard,
                        input: &failure.input,
                        incoming: None,
                        thumbnails: Vec::new(),
                        why: None,
                        error: Some(&failure.error),
                    };
                    serde_json::to_string(&item).expect("a plan item serialises")
                } else {
                    format!(
                        "error\t{shard}\t{}\t-\t{}",
                        printable(&failure.input),
                        printable(&failure.error)
                    )
                }
            }
        };
        if write_error.is_none() {
            let sep = if json && !first {
                ",\n"
            } else if json {
                "\n"
            } else {
                ""
            };
            let end = if json { "" } else { "\n" };
            write_error = write!(out, "{sep}{line}{end}").err();
        }
        first = false;
    })?;
    let summary = DryRun {
        inputs,
        planned,
        done,
        stale,
        failed,
    };
    if json && write_error.is_none() {
        let totals = serde_json::to_string(&summary).expect("totals serialise");
        // `{"inputs":..}` without its opening brace continues the document.
        let _ = writeln!(out, "\n], {}", &totals[1..]);
    }
    // A closed stdout (`| head`) ends the listing early; that is the reader's choice, not a fault.
    Ok(summary)
}
