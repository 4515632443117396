//! Turns the input list into jobs with unique, safe file names, and keeps this shard's share.
//!
//! Planning happens before any byte moves and never holds the list itself: the list file is read
//! twice. The first pass sorts a pair of hashes per input (on disk past a few megabytes) to find
//! the inputs listed twice and the stems several inputs share, and keeps only those; the second
//! pass names each input and hands it on, if it belongs to this shard. A name depends only on its input and on which other inputs share its stem, never
//! on the order of the list or on the shard, so every shard names files as a single run would.

use std::collections::HashSet;
use std::io;
use std::path::Path;

use crate::failure::{Failure, Stage};
use crate::inputs::{safe_name, Origin};
use crate::list::{InputSource, Line};
use crate::reach::{expand, Entry, Reach};
use crate::recipe::Source;
use crate::shard::{fnv1a, Shard};
use crate::spill::Sorter;

/// One image to make thumbnails of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input as the user gave it (or as a folder listing produced it): how reports name it.
    pub input: String,
    pub origin: Origin,
    /// Safe and unique within the run; thumbnails are `<stem>_<width>.<ext>`.
    pub stem: String,
    /// For URLs, the file name the download is saved under in the incoming folder.
    pub incoming_name: Option<String>,
    /// An S3 object's identity as its listing gave it, for planning only: a queued job has
    /// been decided and does not keep it.
    pub listed: Option<Source>,
}

/// What planning hands on, one at a time.
pub enum Planned {
    Job(Job),
    Failed(Failure),
}

fn key(text: &str) -> u64 {
    fnv1a(text.as_bytes())
}

/// Memory the first pass may hold before it sorts on disk: 8 MiB is half a million inputs.
const SCAN_MEMORY: usize = 8 << 20;

/// What the first pass learns about the whole list: the few inputs listed more than once and
/// the few stems shared by several inputs. Held as sorted keys, so it grows only with those.
pub struct Names {
    repeated: Vec<u64>,
    colliding: Vec<u64>,
    /// Distinct inputs in the whole list, across all shards.
    pub distinct: usize,
    /// Entries of the whole list that cannot be used (bad lines, missing files).
    pub failed: usize,
}

impl Names {
    /// Reads the whole list once. Each input adds one (stem, input) pair of hashes to a sort
    /// that spills to `spill_dir` past a few megabytes; walking the sorted pairs finds repeats
    /// (the same pair twice) and collisions (one stem, several inputs). Stems are compared
    /// case-insensitively, as macOS and Windows file systems do.
    pub fn scan(source: &InputSource, reach: &Reach, spill_dir: &Path) -> io::Result<Names> {
        let mut pairs = Sorter::new(spill_dir, SCAN_MEMORY);
        let mut failed = 0;
        for line in source.lines()? {
            let Line::Input(line) = line? else {
                failed += 1;
                continue;
            };
            for entry in expand(&line, reach) {
                let Ok(Entry { input, origin, .. }) = entry else {
                    failed += 1;
                    continue;
                };
                let (stem, _) = safe_name(&origin);
                pairs.push(&(key(&stem.to_lowercase()), key(&input)))?;
            }
        }
        let mut names = Names {
            repeated: Vec::new(),
            colliding: Vec::new(),
            distinct: 0,
            failed,
        };
        let mut last: Option<(u64, u64)> = None;
        let mut inputs_of_stem = 0;
        for pair in pairs.finish()? {
            let (stem, input) = pair?;
            match last {
                Some(previous) if previous == (stem, input) => {
                    if names.repeated.last() != Some(&input) {
                        names.repeated.push(input);
                    }
                    continue;
                }
                Some((previous, _)) if previous == stem => inputs_of_stem += 1,
                _ => inputs_of_stem = 1,
            }
            if inputs_of_stem == 2 {
                names.colliding.push(stem);
            }
            names.distinct += 1;
            last = Some((stem, input));
        }
        names.repeated.sort_unstable();
        Ok(names)
    }

    fn is_repeated(&self, input: u64) -> bool {
        self.repeated.binary_search(&input).is_ok()
    }

    fn collides(&self, stem: u64) -> bool {
        self.colliding.binary_search(&stem).is_ok()
    }

    /// The second pass: names every input of `source` in `shard` (all, without one) and calls
    /// `visit` with it and its place among them, in list order. An input listed twice is
    /// planned once.
    pub fn plan(
        &self,
        source: &InputSource,
        shard: Option<Shard>,
        reach: &Reach,
        mut visit: impl FnMut(u64, Planned),
    ) -> io::Result<()> {
        let mut order = 0u64;
        let mut visit = |planned| {
            visit(order, planned);
            order += 1;
        };
        // Only repeated inputs need remembering here.
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
            for entry in expand(&line, reach) {
                let Entry {
                    input,
                    origin,
                    listed,
                } = match entry {
                    Ok(entry) => entry,
                    Err(failure) => {
                        if mine(&failure.input) {
                            visit(Planned::Failed(failure));
                        }
                        continue;
                    }
                };
                let k = key(&input);
                if self.is_repeated(k) && !repeats_done.insert(k) {
                    continue;
                }
                if !mine(&input) {
                    continue;
                }
                let (stem, ext) = safe_name(&origin);
                // Colliding stems all get a hash of their input, so no two inputs overwrite
                // each other and no name depends on which of them came first.
                let stem = if self.collides(key(&stem.to_lowercase())) {
                    format!("{stem}-{:08x}", k as u32)
                } else {
                    stem
                };
                let incoming_name = match origin {
                    Origin::Url(_) if ext.is_empty() => Some(stem.clone()),
                    Origin::Url(_) => Some(format!("{stem}.{ext}")),
                    Origin::File(_) => None,
                };
                visit(Planned::Job(Job {
                    input: crate::url::redact(&input).into_owned(),
                    origin,
                    stem,
                    incoming_name,
                    listed,
                }));
            }
        }
        Ok(())
    }
}

/// Both passes at once, for callers that plan once. Returns how many distinct inputs the
/// whole list has, across all shards.
pub fn plan(
    source: &InputSource,
    shard: Option<Shard>,
    reach: &Reach,
    spill_dir: &Path,
    mut visit: impl FnMut(Planned),
) -> io::Result<usize> {
    let names = Names::scan(source, reach, spill_dir)?;
    names.plan(source, shard, reach, |_, planned| visit(planned))?;
    Ok(names.distinct)
}

#[cfg(test)]
mod tests {
    use super::{plan, Job, Planned, Shard};
    use crate::list::InputSource;
    use crate::reach::Reach;
    use crate::safety::Fence;

    fn jobs(args: &[&str], shard: Option<Shard>) -> Vec<Job> {
        let source = InputSource::from_args(args.iter().map(|s| s.to_string()).collect());
        let mut jobs = Vec::new();
        let reach = Reach::local(Fence::none());
        plan(&source, shard, &reach, &std::env::temp_dir(), |p| {
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
}
