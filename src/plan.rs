//! Turns the input list into jobs with unique, safe file names, and keeps this shard's share.
//!
//! Planning happens before any byte moves and never holds the list itself: the list file is read
//! twice. The first pass keeps one 8-byte hash per input (to drop repeats) and one per stem (to
//! find names that collide); the second pass names each input and hands it on, if it belongs to
//! this shard. A name depends only on its input and on which other inputs share its stem, never
//! on the order of the list or on the shard, so every shard names files as a single run would.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::escape::printable;
use crate::inputs::{expand_one, fnv1a, safe_name, Source};
use crate::output;
use crate::report::{Failure, Stage};
use crate::safety::Fence;

/// Where the inputs come from: the command line, then a list file (one input per line, blank
/// lines and `#` comments skipped). stdin is spooled to a file at the edge so it can be read twice.
#[derive(Debug, Clone, Default)]
pub struct InputSource {
    pub args: Vec<String>,
    pub list: Option<PathBuf>,
}

impl InputSource {
    pub fn from_args(args: Vec<String>) -> Self {
        InputSource { args, list: None }
    }

    /// Each input, in order, read lazily. A list line that cannot be read as text is handed on
    /// as [`Line::Bad`] with its number, and the lines after it still count.
    fn lines(&self) -> io::Result<impl Iterator<Item = io::Result<Line>> + '_> {
        let list = match &self.list {
            Some(path) => Some(list_lines(path)?),
            None => None,
        };
        let listed = list.into_iter().flatten().filter_map(|line| match line {
            Ok(Line::Input(line)) => {
                let line = line.trim();
                (!line.is_empty() && !line.starts_with('#')).then(|| Ok(Line::Input(line.into())))
            }
            other => Some(other),
        });
        Ok(self
            .args
            .iter()
            .cloned()
            .map(|a| Ok(Line::Input(a)))
            .chain(listed))
    }
}

/// One line of the input list.
enum Line {
    Input(String),
    /// A line that is not text: its 1-based number and why.
    Bad {
        number: usize,
        reason: &'static str,
    },
}

type Lines = Box<dyn Iterator<Item = io::Result<Line>>>;

/// The lines of a list file: UTF-8 (a leading byte-order mark dropped, CRLF accepted), or
/// UTF-16 with its byte-order mark (what Windows PowerShell writes by default).
fn list_lines(path: &Path) -> io::Result<Lines> {
    let mut reader = io::BufReader::new(fs::File::open(path)?);
    let head = reader.fill_buf()?;
    let utf16 = match head {
        [0xFF, 0xFE, ..] => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        [0xFE, 0xFF, ..] => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(unit) = utf16 {
        reader.consume(2);
        return Ok(Box::new(Utf16Lines {
            reader,
            unit,
            number: 0,
        }));
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(Box::new(reader.split(b'\n').enumerate().map(
        |(i, line)| {
            let line = line?;
            Ok(match String::from_utf8(line) {
                Ok(text) => Line::Input(text),
                Err(_) => Line::Bad {
                    number: i + 1,
                    reason: "not valid UTF-8 text",
                },
            })
        },
    )))
}

/// Lines of a UTF-16 file, two bytes at a time, without holding the file.
struct Utf16Lines {
    reader: io::BufReader<fs::File>,
    unit: fn([u8; 2]) -> u16,
    number: usize,
}

impl Iterator for Utf16Lines {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut units = Vec::new();
        let mut pair = [0u8; 2];
        let mut any = false;
        loop {
            match io::Read::read_exact(&mut self.reader, &mut pair) {
                Ok(()) => any = true,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Some(Err(e)),
            }
            let unit = (self.unit)(pair);
            if unit == u16::from(b'\n') {
                break;
            }
            units.push(unit);
        }
        if !any {
            return None;
        }
        self.number += 1;
        Some(Ok(match String::from_utf16(&units) {
            Ok(text) => Line::Input(text),
            Err(_) => Line::Bad {
                number: self.number,
                reason: "not valid UTF-16 text",
            },
        }))
    }
}

/// One of N shards, `K/N` on the command line with K from 0 (so Kubernetes'
/// `JOB_COMPLETION_INDEX` fits directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether `input` is this shard's: a stable hash of the input string, so the answer does
    /// not depend on the order or position of lines, and every input is in exactly one shard.
    pub fn contains(&self, input: &str) -> bool {
        // FNV's low bits are weak; a multiplicative mix spreads them before the modulo.
        let mixed = fnv1a(input.as_bytes()).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        mixed % u64::from(self.count) == u64::from(self.index)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let err = || format!("'{text}' is not a shard K/N with 0 <= K < N (example: 0/4)");
        let (k, n) = text.split_once('/').ok_or_else(err)?;
        let (index, count) = (
            k.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One image to make thumbnails of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input as the user gave it (or as a folder listing produced it): how reports name it.
    pub input: String,
    pub source: Source,
    /// Safe and unique within the run; thumbnails are `<stem>_<width>.<ext>`.
    pub stem: String,
    /// For URLs, the file name the download is saved under in the incoming folder.
    pub incoming_name: Option<String>,
}

/// What planning hands on, one at a time.
pub enum Planned {
    Job(Job),
    Failed(Failure),
}

fn key(text: &str) -> u64 {
    fnv1a(text.as_bytes())
}

/// Plans every input of `source` and calls `visit` with those in `shard` (all, without one).
/// The same input listed twice is planned once. Returns how many distinct inputs the whole list
/// has, across all shards.
pub fn plan(
    source: &InputSource,
    shard: Option<Shard>,
    fence: &Fence,
    mut visit: impl FnMut(Planned),
) -> io::Result<usize> {
    // Pass one: which inputs repeat, and how many distinct inputs share each stem. Stems are
    // compared case-insensitively, as macOS and Windows file systems do.
    let mut seen = HashSet::new();
    let mut repeated = HashSet::new();
    let mut stems: HashMap<u64, u32> = HashMap::new();
    for line in source.lines()? {
        let Line::Input(line) = line? else { continue };
        for entry in expand_one(&line, fence).into_iter().flatten() {
            let (input, source) = entry;
            if seen.insert(key(&input)) {
                let (stem, _) = safe_name(&source);
                *stems.entry(key(&stem.to_lowercase())).or_default() += 1;
            } else {
                repeated.insert(key(&input));
            }
        }
    }
    let distinct = seen.len();
    drop(seen);

    // Pass two: name and hand on. Only repeated inputs need remembering here.
    let mut repeats_done = HashSet::new();
    let mine = |input: &str| shard.is_none_or(|s| s.contains(input));
    for line in source.lines()? {
        let line = match line? {
            Line::Input(line) => line,
            Line::Bad { number, reason } => {
                let list = source.list.as_deref().unwrap_or(Path::new("-"));
                let input = format!("{}:{number}", list.display());
                if mine(&input) {
                    visit(Planned::Failed(Failure {
                        input,
                        stage: Stage::Input,
                        error: format!("line {number} of the input list is {reason}"),
                    }));
                }
                continue;
            }
        };
        for entry in expand_one(&line, fence) {
            let (input, source) = match entry {
                Ok(entry) => entry,
                Err(failure) => {
                    if mine(&failure.input) {
                        visit(Planned::Failed(failure));
                    }
                    continue;
                }
            };
            let k = key(&input);
            if repeated.contains(&k) && !repeats_done.insert(k) {
                continue;
            }
            if !mine(&input) {
                continue;
            }
            let (stem, ext) = safe_name(&source);
            // Colliding stems all get a hash of their input, so no two inputs overwrite each
            // other and no name depends on which of them came first.
            let stem = if stems[&key(&stem.to_lowercase())] > 1 {
                format!("{stem}-{:08x}", k as u32)
            } else {
                stem
            };
            let incoming_name = match source {
                Source::Url(_) if ext.is_empty() => Some(stem.clone()),
                Source::Url(_) => Some(format!("{stem}.{ext}")),
                Source::File(_) => None,
            };
            visit(Planned::Job(Job {
                input: crate::url::redact(&input).into_owned(),
                source,
                stem,
                incoming_name,
            }));
        }
    }
    Ok(distinct)
}

/// What `--dry-run` found: how many inputs in all, and of this shard's, how many are done.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub inputs: usize,
    pub planned: usize,
    pub done: usize,
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
    error: Option<&'a str>,
}

/// Prints the plan without fetching, decoding or writing anything: one tab-separated line per
/// input of this shard (status, shard, input, incoming file, thumbnail pattern), or with `json`
/// one JSON document `{"items": [...], "inputs": .., "planned": .., "done": .., "failed": ..}`,
/// streamed item by item so a long list is never held.
pub fn dry_run(config: &Config, json: bool, out: &mut dyn std::io::Write) -> io::Result<DryRun> {
    let shard = config
        .shard
        .map_or_else(|| "-".to_string(), |s| s.to_string());
    let (mut planned, mut done, mut failed) = (0, 0, 0);
    let mut write_error = None;
    let mut first = true;
    if json {
        write_error = write!(out, "{{\"items\": [").err();
    }
    let fence = Fence::new(&config.out_dir);
    let inputs = plan(&config.inputs, config.shard, &fence, |item| {
        let line = match item {
            Planned::Job(job) => {
                planned += 1;
                let status = if output::thumbnails_exist(
                    &config.out_dir,
                    &job.stem,
                    &config.spec.sizes,
                    config.spec.format,
                    &config.names,
                ) {
                    done += 1;
                    "done"
                } else {
                    "todo"
                };
                let incoming = job
                    .incoming_name
                    .as_ref()
                    .map(|n| config.incoming_dir.join(n).display().to_string());
                let thumbs = config.names.patterns(
                    &config.out_dir,
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
                        error: None,
                    };
                    serde_json::to_string(&item).expect("a plan item serialises")
                } else {
                    format!(
                        "{status}\t{shard}\t{}\t{}\t{}",
                        printable(&job.input),
                        printable(incoming.as_deref().unwrap_or("-")),
                        printable(&thumbs.join(" "))
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

#[cfg(test)]
mod tests {
    use super::{plan, InputSource, Job, Planned, Shard};
    use crate::safety::Fence;

    fn jobs(args: &[&str], shard: Option<Shard>) -> Vec<Job> {
        let source = InputSource::from_args(args.iter().map(|s| s.to_string()).collect());
        let mut jobs = Vec::new();
        plan(&source, shard, &Fence::none(), |p| {
            if let Planned::Job(job) = p {
                jobs.push(job);
            }
        })
        .unwrap();
        jobs
    }

    fn stem_of(jobs: &[Job], input: &str) -> String {
        jobs.iter().find(|j| j.input == input).unwrap().stem.clone()
    }

    #[test]
    fn colliding_stems_get_order_independent_suffixes() {
        let a = jobs(
            &["http://a/x.jpg", "http://b/x.jpg", "http://c/y.jpg"],
            None,
        );
        let b = jobs(
            &["http://c/y.jpg", "http://b/x.jpg", "http://a/x.jpg"],
            None,
        );
        assert_eq!(stem_of(&a, "http://c/y.jpg"), "y");
        assert_ne!(stem_of(&a, "http://a/x.jpg"), stem_of(&a, "http://b/x.jpg"));
        assert!(stem_of(&a, "http://a/x.jpg").starts_with("x-"));
        for input in ["http://a/x.jpg", "http://b/x.jpg", "http://c/y.jpg"] {
            assert_eq!(stem_of(&a, input), stem_of(&b, input));
        }
    }

    #[test]
    fn same_stem_different_extension_and_case_collide() {
        let j = jobs(&["http://h/x.jpg", "http://h/X.png"], None);
        assert_ne!(j[0].stem.to_lowercase(), j[1].stem.to_lowercase());
    }

    #[test]
    fn duplicate_inputs_are_planned_once() {
        let j = jobs(&["http://a/x.jpg", "http://a/x.jpg"], None);
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].stem, "x");
        assert_eq!(j[0].incoming_name.as_deref(), Some("x.jpg"));
    }

    #[test]
    fn shards_partition_the_list_whatever_its_order() {
        let inputs: Vec<String> = (0..300)
            .map(|i| format!("http://h/{}/x{}.jpg", i % 7, i))
            .collect();
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let mut reversed = refs.clone();
        reversed.reverse();
        let whole = jobs(&refs, None);
        let mut union = Vec::new();
        for index in 0..3 {
            let shard = Shard { index, count: 3 };
            let part = jobs(&refs, Some(shard));
            let part_reversed = jobs(&reversed, Some(shard));
            assert!(part.len() > 60, "shards are roughly even: {}", part.len());
            let mut a: Vec<_> = part.iter().map(|j| (&j.input, &j.stem)).collect();
            let mut b: Vec<_> = part_reversed.iter().map(|j| (&j.input, &j.stem)).collect();
            a.sort();
            b.sort();
            assert_eq!(
                a, b,
                "shard {index} holds the same inputs, named alike, in any order"
            );
            union.extend(part);
        }
        union.sort_by(|a, b| a.input.cmp(&b.input));
        let mut whole_sorted = whole.clone();
        whole_sorted.sort_by(|a, b| a.input.cmp(&b.input));
        assert_eq!(
            union, whole_sorted,
            "the union of the shards is the whole list, once"
        );
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1/0", "-1/3", "a/b", "3", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
