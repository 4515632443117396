//! What one item that did not make it looks like, in every stage and in the report.
//!
//! Every stage (inputs, download, decode, write) and the report speak of failures, so the type
//! lives below all of them. A failure keeps its whole cause chain as text and prints as one line.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::escape::printable;
use crate::spill::{self, Record, Sorter};

/// The stage of the pipeline an item failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The input itself: a missing file, an unreadable folder, a malformed URL.
    Input,
    Download,
    Decode,
    Resize,
    Write,
    /// In a merged report: a shard whose report is missing or that was interrupted.
    Shard,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Input => "input",
            Stage::Download => "download",
            Stage::Decode => "decode",
            Stage::Resize => "resize",
            Stage::Write => "write",
            Stage::Shard => "shard",
        })
    }
}

/// One item that did not make it, with the reason in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub input: String,
    pub stage: Stage,
    pub error: String,
}

impl Failure {
    /// `error` is rendered with its whole source chain, so the reason is never lost.
    pub fn new(input: impl Into<String>, stage: Stage, error: &dyn std::error::Error) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            // Many errors already print their source; don't say it twice.
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        Failure {
            input: input.into(),
            stage,
            error: text,
        }
    }
}

impl fmt::Display for Failure {
    /// One line, always: names and reasons from outside are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} failed: {}",
            printable(&self.input),
            self.stage,
            printable(&self.error)
        )
    }
}

/// Memory the failures of a run may hold before they go to disk.
const LOG_MEMORY: usize = 4 << 20;

/// A failure and its input's place in the list, so the report can keep the list's order.
struct Numbered {
    order: u64,
    failure: Failure,
}

impl Record for Numbered {
    type Key = u64;

    fn key(&self) -> u64 {
        self.order
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        spill::write_u64(out, self.order)?;
        spill::write_field(out, &serde_json::to_vec(&self.failure)?)
    }

    fn read_from(input: &mut impl BufRead) -> io::Result<Option<Self>> {
        let Some(order) = spill::read_u64(input)? else {
            return Ok(None);
        };
        let failure = serde_json::from_slice(&spill::read_more(input)?)?;
        Ok(Some(Numbered { order, failure }))
    }
}

/// Where a run's failures go as they happen, from any thread. A few are held; past a few
/// megabytes they are sorted onto disk, so a shard of a million failing inputs needs no more
/// memory than one of a thousand.
pub struct FailureLog {
    /// The sorter, and the first error writing to it: reported at the end, never dropped.
    sorter: Mutex<(Sorter<Numbered>, Option<io::Error>)>,
    count: std::sync::atomic::AtomicUsize,
}

impl FailureLog {
    /// Failures past the memory limit go to unnamed files in `spill_dir`.
    pub fn new(spill_dir: &Path) -> Self {
        FailureLog {
            sorter: Mutex::new((Sorter::new(spill_dir, LOG_MEMORY), None)),
            count: Default::default(),
        }
    }

    /// Keeps `failure` of the input at place `order` in the list. A disk error is kept for
    /// [`FailureLog::finish`] to return: the run goes on, but cannot end with a report that
    /// silently lacks failures.
    pub fn push(&self, order: u64, failure: Failure) {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut guard = self.sorter.lock().expect("failure log lock");
        let (sorter, error) = &mut *guard;
        if error.is_none() {
            if let Err(e) = sorter.push(&Numbered { order, failure }) {
                *error = Some(e);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every failure, in list order: in memory if they stayed there, else in one sorted file
    /// that the report can read as often as it is printed.
    pub fn finish(self) -> io::Result<Failures> {
        let count = self.len();
        let (sorter, error) = self.sorter.into_inner().expect("failure log lock");
        if let Some(e) = error {
            return Err(e);
        }
        if !sorter.spilled() {
            let held = sorter
                .finish()?
                .map(|numbered| numbered.map(|n| n.failure))
                .collect::<io::Result<_>>()?;
            return Ok(Failures::Held(held));
        }
        Ok(Failures::Spilled {
            file: Arc::new(sorter.into_file()?),
            count,
        })
    }
}

/// A finished run's failures: held in memory, or in a sorted file for long lists. Either way
/// they serialise as one JSON array, written one failure at a time.
#[derive(Debug, Clone)]
pub enum Failures {
    Held(Vec<Failure>),
    Spilled { file: Arc<File>, count: usize },
}

impl Default for Failures {
    fn default() -> Self {
        Failures::Held(Vec::new())
    }
}

impl Failures {
    pub fn len(&self) -> usize {
        match self {
            Failures::Held(held) => held.len(),
            Failures::Spilled { count, .. } => *count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each failure in order. A spilled list is read from its start each time; a read error
    /// (the disk failing under us) ends the list with that error.
    pub fn iter(&self) -> Box<dyn Iterator<Item = io::Result<Failure>> + '_> {
        match self {
            Failures::Held(held) => Box::new(held.iter().cloned().map(Ok)),
            Failures::Spilled { file, .. } => {
                let mut file: &File = file;
                if let Err(e) = file.rewind() {
                    return Box::new(std::iter::once(Err(e)));
                }
                let mut reader = BufReader::new(file);
                Box::new(std::iter::from_fn(move || {
                    Numbered::read_from(&mut reader)
                        .transpose()
                        .map(|numbered| numbered.map(|n| n.failure))
                }))
            }
        }
    }

    /// Adds a failure; a spilled list is first read back into memory (only merged reports,
    /// which are built in memory, add to a list).
    pub fn push(&mut self, failure: Failure) {
        if let Failures::Spilled { .. } = self {
            let held = self.iter().filter_map(Result::ok).collect();
            *self = Failures::Held(held);
        }
        if let Failures::Held(held) = self {
            held.push(failure);
        }
    }
}

impl From<Vec<Failure>> for Failures {
    fn from(held: Vec<Failure>) -> Self {
        Failures::Held(held)
    }
}

impl PartialEq for Failures {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| matches!((a, b), (Ok(a), Ok(b)) if a == b))
    }
}

impl Serialize for Failures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for failure in self.iter() {
            seq.serialize_element(&failure.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Failures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Failure>::deserialize(d).map(Failures::Held)
    }
}

#[cfg(test)]
mod tests {
    use super::{Failure, FailureLog, Failures, Stage};

    #[test]
    fn a_long_log_spills_and_comes_back_in_list_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = FailureLog::new(dir.path());
        // Pushed out of order, as threads finish them: 200,000 failures, ~10 MB of text.
        for i in (0..200_000u64).map(|i| (i * 7919) % 200_000) {
            let failure = Failure {
                input: format!("http://h/{i}.jpg"),
                stage: Stage::Download,
                error: "server answered HTTP 404".into(),
            };
            log.push(i, failure);
        }
        assert_eq!(log.len(), 200_000);
        let failures = log.finish().unwrap();
        assert!(matches!(failures, Failures::Spilled { .. }), "went to disk");
        for _ in 0..2 {
            let inputs: Vec<String> = failures.iter().map(|f| f.unwrap().input).collect();
            assert_eq!(inputs.len(), 200_000);
            assert!(inputs
                .iter()
                .enumerate()
                .all(|(i, s)| *s == format!("http://h/{i}.jpg")));
        }
        let json = serde_json::to_value(&failures).unwrap();
        assert_eq!(json[199_999]["stage"], "download");
        let back: Failures = serde_json::from_value(json).unwrap();
        assert_eq!(back, failures);
    }

    #[test]
    fn failure_text_keeps_the_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let f = Failure::new("a.jpg", Stage::Input, &io);
        assert_eq!(f.to_string(), "a.jpg: input failed: no such file");
    }
}
