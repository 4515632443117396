//! What is left to do for one job, decided here once: the run, the dry run, the manifest and
//! `--prune` all ask.
//!
//! A thumbnail is done when the output folder's record of its input holds an entry for its size
//! whose recipe key equals the key this run computes (same source, same options), and the
//! entry's file is there with the bytes recorded. Anything else redoes that thumbnail, and only
//! it. A URL's source is known only by asking its server: a URL whose thumbnails are done is
//! revalidated (a conditional request; a 304 costs no download and no decode) unless
//! `--offline` trusts the incoming copy. An S3 object listed under a prefix is known by the
//! ETag its listing gave, with no request. With `-o s3://` the record is judged by its name in
//! the output prefix's listing (`bucket.rs`). This module changes nothing.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::download::Task;
use crate::inputs::Origin;
use crate::output::OutputFormat;
use crate::plan::Job;
use crate::recipe::{self, Parts, Source};
use crate::resize::Size;
use crate::sidecar::{self, Entry, Found, Sidecar};
use crate::upload::Index;

mod bucket;

pub use bucket::upload_digest;
use bucket::upload_verdict;

/// What a job needs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every thumbnail is made and current.
    Done,
    /// A local file, read where it is, with its identity when planning could take it (so
    /// `--checksum` reads a file to hash it once, not again in phase two).
    Local(PathBuf, Option<Source>),
    /// A URL's copy in the incoming folder, used without asking its server, with its identity
    /// when known (its validator, kept or listed).
    Downloaded(PathBuf, Option<Source>),
    /// A URL to fetch first: conditionally when the task carries a validator.
    Fetch(Task),
}

/// A status and, for the dry run, why.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: Status,
    /// `new`, `forced`, or which recipe parts changed (`quality`, `source`), or that a file went.
    pub why: String,
}

impl Decision {
    /// The word the dry run prints: `done`, `check` (done unless the server has a new image:
    /// asked with a conditional request, or fetched and compared by content),
    /// `stale` (made before, differently) or `todo`.
    pub fn word(&self) -> &'static str {
        match &self.status {
            Status::Done => "done",
            Status::Fetch(_) if self.why == CHECK => "check",
            _ if self.why == NEW || self.why == FORCED => "todo",
            _ => "stale",
        }
    }
}

const NEW: &str = "new";
const FORCED: &str = "forced";
const CHECK: &str = "done unless the server has a new image";

/// What is stale about one input's thumbnails, against a record.
#[derive(Debug, Default)]
pub struct Verdict {
    /// The sizes to write, in the order asked.
    pub stale: Vec<Size>,
    /// The placeholders must be made again (their pixels or `--blurhash` changed).
    pub placeholder: bool,
    /// Why, in a few words: `new`, or the recipe parts that changed.
    pub why: Vec<String>,
}

impl Verdict {
    pub fn is_done(&self) -> bool {
        self.stale.is_empty() && !self.placeholder
    }

    fn why(&self) -> String {
        if self.why.is_empty() {
            NEW.to_string()
        } else {
            self.why.join(",")
        }
    }
}

/// The size whose thumbnail the placeholders are made from: the smallest asked.
pub fn smallest(sizes: &[Size]) -> Size {
    let side = |s: &&Size| {
        s.width
            .unwrap_or(u32::MAX)
            .min(s.height.unwrap_or(u32::MAX))
    };
    *sizes.iter().min_by_key(side).expect("at least one size")
}

/// The recipe of the thumbnail of `size` that came out as `format`.
fn parts_for(config: &Config, size: Size, format: OutputFormat, source: &Source) -> Parts {
    recipe::parts(&config.spec, &config.names, size, format, source)
}

/// The key the placeholders carry: what their pixels come from (the smallest thumbnail's
/// recipe, its encoding left out).
pub fn placeholder_key(config: &Config, source: &Source) -> String {
    let keep = [
        "source",
        "output-version",
        "size",
        "crop",
        "enlarge",
        "linear",
        "keep-icc",
    ];
    let mut parts = parts_for(
        config,
        smallest(&config.spec.sizes),
        OutputFormat::Png,
        source,
    );
    parts.retain(|(name, _)| keep.contains(&name.as_str()));
    recipe::key(&parts)
}

fn format_of(entry: &Entry) -> Option<OutputFormat> {
    OutputFormat::from_extension(&entry.format)
}

/// Whether `entry` is the current thumbnail of `size` made from `source` (`None`: from the
/// source it was made from, for the manifest and `--prune`, which judge options only), and its
/// file is still what was written.
fn is_current(
    config: &Config,
    files: Files,
    entry: &Entry,
    size: Size,
    source: Option<&Source>,
) -> bool {
    let Some(format) = format_of(entry) else {
        return false;
    };
    let source = match source {
        Some(source) => source.clone(),
        None => match entry.recipe.get("source").and_then(|s| Source::parse(s)) {
            Some(source) => source,
            None => return false,
        },
    };
    entry.size == size.to_string()
        && config.spec.format.is_none_or(|f| f == format)
        && recipe::key(&parts_for(config, size, format, &source)) == entry.key
        && file_intact(files, entry)
}

/// Where an entry's file is looked for: the output folder, or a listing of the output prefix.
#[derive(Clone, Copy)]
pub enum Files<'a> {
    Folder(&'a Path),
    Listed(&'a Index),
}

/// The entry's file is where it was written, with the length it was written with. A path that
/// would leave the output folder is never trusted (a record is only a file someone could edit).
fn file_intact(files: Files, entry: &Entry) -> bool {
    safe_relative(&entry.file)
        && match files {
            Files::Folder(dir) => std::fs::metadata(dir.join(&entry.file))
                .is_ok_and(|m| m.is_file() && m.len() == entry.bytes),
            Files::Listed(index) => index.bytes(&entry.file) == Some(entry.bytes),
        }
}

/// A path inside the output folder: relative, no `..`, no root or drive.
pub fn safe_relative(file: &str) -> bool {
    let path = Path::new(file);
    !file.is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The record's current entry for each size asked, from the sources they were made from.
pub fn current_entries<'a>(config: &Config, files: Files, record: &'a Sidecar) -> Vec<&'a Entry> {
    config
        .spec
        .sizes
        .iter()
        .filter_map(|&size| {
            record
                .thumbnails
                .iter()
                .rev()
                .find(|e| is_current(config, files, e, size, None))
        })
        .collect()
}

/// What is stale of an input's thumbnails made from `source`, against its record.
pub fn verdict(config: &Config, source: &Source, found: &Found) -> Verdict {
    let mut verdict = Verdict::default();
    let record = found.record();
    let entries: &[Entry] = record.map_or(&[], |r| &r.thumbnails);
    for &size in &config.spec.sizes {
        if config.force {
            verdict.stale.push(size);
            continue;
        }
        let asked = size.to_string();
        let of_size: Vec<&Entry> = entries.iter().filter(|e| e.size == asked).collect();
        if of_size.iter().any(|e| {
            is_current(
                config,
                Files::Folder(&config.out_dir),
                e,
                size,
                Some(source),
            )
        }) {
            continue;
        }
        verdict.stale.push(size);
        // Why: against the latest entry of this size, in the format it came out in.
        if let Some(last) = of_size.last() {
            let format = format_of(last).unwrap_or(OutputFormat::Png);
            let changed = recipe::changed(&last.parts(), &parts_for(config, size, format, source));
            let reasons = if changed.is_empty() {
                vec!["file changed or removed".to_string()]
            } else {
                changed
            };
            for reason in reasons {
                if !verdict.why.contains(&reason) {
                    verdict.why.push(reason);
                }
            }
        }
    }
    verdict.placeholder = config.force
        || record.and_then(|r| r.placeholder.as_ref()).is_none_or(|p| {
            p.key != placeholder_key(config, source) || (config.blurhash && p.blurhash.is_none())
        });
    if config.force {
        verdict.why = vec![FORCED.to_string()];
    } else if verdict.stale.is_empty() && verdict.placeholder && record.is_some() {
        verdict.why.push("placeholders".to_string());
    }
    verdict
}

/// What is known of an input's earlier thumbnails: its record in the output folder, or nothing
/// with `-o s3://` (whose records are judged by their names, see [`verdict_of`]).
pub fn found(config: &Config, stem: &str) -> Found {
    match &config.upload {
        Some(_) => Found::Absent,
        None => sidecar::read(&config.out_dir, stem),
    }
}

/// What is stale of `stem`'s thumbnails made from `source`: against its record, or against the
/// listing of the output prefix.
pub fn verdict_of(config: &Config, source: &Source, stem: &str, found: &Found) -> Verdict {
    match &config.upload {
        Some(upload) => upload_verdict(config, upload, source, stem),
        None => verdict(config, source, found),
    }
}

/// The source each of a record's entries was made from, if they agree: what a URL is
/// revalidated against when its download is gone.
fn recorded_source(record: &Sidecar) -> Option<Source> {
    let mut sources = record
        .thumbnails
        .iter()
        .filter_map(|e| e.recipe.get("source"));
    let first = sources.next()?;
    sources
        .all(|s| s == first)
        .then(|| Source::parse(first))
        .flatten()
}

pub fn status(job: &Job, config: &Config) -> Decision {
    let decide = |source: &Source, ready: Status| {
        let verdict = verdict_of(config, source, &job.stem, &found(config, &job.stem));
        if verdict.is_done() {
            Decision {
                status: Status::Done,
                why: String::new(),
            }
        } else {
            Decision {
                status: ready,
                why: verdict.why(),
            }
        }
    };
    match (&job.origin, &job.incoming_name) {
        (Origin::File(path), _) => match Source::of_file(path, config.checksum) {
            Ok(source) => decide(&source, Status::Local(path.clone(), Some(source.clone()))),
            // Unreadable: phase two says why, in the words of the read that fails.
            Err(_) => Decision {
                status: Status::Local(path.clone(), None),
                why: NEW.to_string(),
            },
        },
        (Origin::Url(url), Some(name)) => {
            let dest = config.incoming_dir.join(name);
            let fetch = |validator: Option<Source>, why: String| Decision {
                status: Status::Fetch(Task {
                    input: job.input.clone(),
                    url: url.clone(),
                    dest: dest.clone(),
                    validator,
                }),
                why,
            };
            if config.force {
                return fetch(None, FORCED.to_string());
            }
            let kept = sidecar::incoming_source(&config.incoming_dir, name);
            if let Some(listed) = &job.listed {
                // The listing said what the object is: decided without a request, and a copy
                // that is still that object is used as it is.
                let ready = if dest.is_file() && kept.as_ref() == Some(listed) {
                    Status::Downloaded(dest.clone(), Some(listed.clone()))
                } else {
                    fetch(None, String::new()).status
                };
                return decide(listed, ready);
            }
            if dest.is_file() {
                if config.offline {
                    // Trusted as it is: its identity is its server's validator, else its bytes.
                    let source =
                        kept.or_else(|| recipe::content_hash(&dest).ok().map(Source::Content));
                    return match source {
                        Some(source) => decide(
                            &source,
                            Status::Downloaded(dest.clone(), Some(source.clone())),
                        ),
                        None => fetch(None, NEW.to_string()),
                    };
                }
                // Asked again: the server says whether the copy is still its image (a 304), or
                // sends it, compared by content after the download when it gives no validator.
                // (The copy is not read here: what a dry run says comes from the record.)
                let validator = kept.filter(|s| s.validator().is_some());
                let judged = validator
                    .clone()
                    .or_else(|| found(config, &job.stem).record().and_then(recorded_source));
                let why = match judged {
                    Some(source) => {
                        let decided = decide(&source, Status::Downloaded(dest.clone(), None));
                        if decided.status == Status::Done {
                            CHECK.to_string()
                        } else {
                            decided.why
                        }
                    }
                    None => NEW.to_string(),
                };
                return fetch(validator, why);
            }
            // No copy kept: when every thumbnail is current for the source they were made
            // from, a conditional request with that source's validator may save the download.
            let found = found(config, &job.stem);
            let recorded = found.record().and_then(recorded_source);
            match recorded.clone().filter(|s| s.validator().is_some()) {
                Some(source) if verdict(config, &source, &found).is_done() => {
                    fetch(Some(source), CHECK.to_string())
                }
                _ => {
                    let why = match &recorded {
                        Some(source) => verdict(config, source, &found).why(),
                        None => NEW.to_string(),
                    };
                    fetch(None, why)
                }
            }
        }
        (Origin::Url(url), None) => unreachable!("the planner names every URL's download: {url}"),
    }
}
