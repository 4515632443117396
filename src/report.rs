//! The run report: what each phase did, how long it took, and every item that failed.
//!
//! One serialisable struct, rendered as a short text summary or as JSON. Durations stay
//! `Duration` until they are printed. This module only describes a finished run; it does not
//! time or run anything.

use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::escape::printable;
use crate::failure::{Failure, Failures};
use crate::shard::Shard;

/// Phase one: downloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadReport {
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub seconds: Duration,
    pub threads: usize,
    pub ok: usize,
    pub failed: usize,
    pub bytes: u64,
    /// Downloads found complete in the incoming folder from an earlier run, not fetched again.
    pub cached: usize,
    /// Revalidations the server answered with 304: nothing sent, the copy or thumbnails stand.
    #[serde(default)]
    pub not_modified: usize,
}

impl DownloadReport {
    /// Counts one download's result.
    pub fn count(&mut self, result: &Result<crate::download::Landed, Failure>) {
        match result {
            Ok(landed) if landed.not_modified => self.not_modified += 1,
            Ok(landed) => {
                self.ok += 1;
                self.bytes += landed.bytes;
            }
            Err(_) => self.failed += 1,
        }
    }
}

/// Phase two: decode, resize, write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResizeReport {
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub seconds: Duration,
    pub threads: usize,
    pub images: usize,
    pub thumbnails: usize,
    pub failed: usize,
    /// Inputs whose thumbnails all existed already (a re-run), left alone.
    pub skipped: usize,
    /// Time the resize threads spent working, per thread: with `--overlap` the phase's wall time
    /// includes waiting for downloads, this does not.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds", default)]
    pub busy_seconds: Duration,
    /// Pixels of the inputs, in millions: the work the phase did.
    pub megapixels: f64,
    /// Thumbnails `--prune` removed: no input of the list produces them any more.
    #[serde(default)]
    pub pruned: usize,
    /// Why the phase stopped before the end (the output folder refused every write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The report's schema: 1 is the one the README documents. Reports without the field were
/// written before it existed, with the same fields otherwise, and read as version 1.
pub const REPORT_VERSION: u32 = 1;

fn report_version() -> u32 {
    REPORT_VERSION
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(default = "report_version")]
    pub version: u32,
    /// The shard this run did, when it did one.
    pub shard: Option<Shard>,
    pub sequential: bool,
    /// Both phases ran at once (`--overlap`).
    #[serde(default)]
    pub overlapped: bool,
    /// Stopped early by Ctrl-C: what was not started is neither done nor failed.
    pub interrupted: bool,
    /// The whole run, end to end.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds", default)]
    pub total_seconds: Duration,
    pub download: DownloadReport,
    pub resize: ResizeReport,
    /// Every item that failed, in the order of the input list. Written last and one at a
    /// time, so a report of a million failures is never held as text.
    pub failures: Failures,
    /// Images made, but with something less than right (a colour profile that could not be
    /// used), in list order; the same shape as failures. Reports before it have none.
    #[serde(default)]
    pub warnings: Failures,
}

pub(crate) fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn from_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
}

/// How a run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    AllDone,
    SomeFailed,
    Interrupted,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            version: REPORT_VERSION,
            shard: None,
            sequential: false,
            overlapped: false,
            interrupted: false,
            total_seconds: Duration::ZERO,
            download: DownloadReport::default(),
            resize: ResizeReport::default(),
            failures: Failures::default(),
            warnings: Failures::default(),
        }
    }
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        if self.interrupted {
            Outcome::Interrupted
        } else if self.failures.is_empty() && self.resize.stopped.is_none() {
            Outcome::AllDone
        } else {
            Outcome::SomeFailed
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The JSON document, streamed to `out`: the way to print a long report.
    pub fn write_json(&self, out: impl io::Write) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// Failures the text summary lists; the rest are counted. Each was printed as it happened, and
/// `--report`/`--json` keep them all.
const LISTED_FAILURES: usize = 20;

/// Lists the first warnings and counts the rest.
pub(crate) fn list_warnings(f: &mut fmt::Formatter<'_>, warnings: &Failures) -> fmt::Result {
    let heading = format!("{}:", plural(warnings.len(), "warning"));
    let line = |w: &Failure| format!("{}: {}", printable(&w.input), printable(&w.error));
    list(f, warnings, &heading, "warnings", line, "")
}

/// Lists the first failures of `failures` and counts the rest.
pub(crate) fn list_failures(f: &mut fmt::Formatter<'_>, failures: &Failures) -> fmt::Result {
    let heading = format!("{} failed:", plural(failures.len(), "item"));
    let more = " (--report FILE or --json lists them all)";
    list(f, failures, &heading, "failures", Failure::to_string, more)
}

/// Under `heading`, the first [`LISTED_FAILURES`] of `items` (named `kind` if they cannot be
/// read back), one `line` each, then how many more there are; nothing when there are none.
fn list(
    f: &mut fmt::Formatter<'_>,
    items: &Failures,
    heading: &str,
    kind: &str,
    line: impl Fn(&Failure) -> String,
    more: &str,
) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(f, "{heading}")?;
    for item in items.iter().take(LISTED_FAILURES) {
        match item {
            Ok(item) => writeln!(f, "  {}", line(&item))?,
            Err(e) => writeln!(f, "  (cannot read the {kind} back: {e})")?,
        }
    }
    if items.len() > LISTED_FAILURES {
        writeln!(f, "  ... and {} more{more}", items.len() - LISTED_FAILURES)?;
    }
    Ok(())
}

/// A rate that reads well when the time is zero (nothing to do).
pub(crate) fn per_second(amount: f64, time: Duration) -> f64 {
    let secs = time.as_secs_f64();
    if secs > 0.0 {
        amount / secs
    } else {
        0.0
    }
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.download;
        let mb = d.bytes as f64 / 1e6;
        if d.ok + d.failed == 0 {
            writeln!(f, "download  nothing to fetch")?;
        } else {
            writeln!(
                f,
                "download  {:>7.3} s  {:>3} threads  {} ok, {} failed  {:.1} MB  {:.1} MB/s",
                d.seconds.as_secs_f64(),
                d.threads,
                d.ok,
                d.failed,
                mb,
                per_second(mb, d.seconds),
            )?;
        }
        let r = &self.resize;
        writeln!(
            f,
            "resize    {:>7.3} s  {:>3} threads  {} ok, {} failed  {} written  {:.1} MP  {:.1} MP/s",
            r.seconds.as_secs_f64(),
            r.threads,
            r.images,
            r.failed,
            plural(r.thumbnails, "thumbnail"),
            r.megapixels,
            per_second(r.megapixels, r.seconds),
        )?;
        if self.overlapped {
            writeln!(
                f,
                "total     {:>7.3} s  phases overlapped; resize threads busy {:.3} s",
                self.total_seconds.as_secs_f64(),
                r.busy_seconds.as_secs_f64()
            )?;
        }
        if d.cached + r.skipped + d.not_modified > 0 {
            writeln!(
                f,
                "already done: {} (thumbnails current), {} downloads reused, {} not modified (304); --force redoes them",
                plural(r.skipped, "input"),
                d.cached,
                d.not_modified
            )?;
        }
        if r.pruned > 0 {
            writeln!(
                f,
                "pruned: {} no input produces any more (--prune)",
                plural(r.pruned, "thumbnail")
            )?;
        }
        if self.interrupted {
            writeln!(f, "interrupted: run the same command again to finish")?;
        }
        if let Some(why) = &r.stopped {
            writeln!(f, "stopped early: {}", printable(why))?;
        }
        list_failures(f, &self.failures)?;
        list_warnings(f, &self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::{DownloadReport, Report, ResizeReport};
    use crate::failure::{Failure, Stage};
    use std::time::Duration;

    fn sample() -> Report {
        Report {
            version: super::REPORT_VERSION,
            shard: None,
            sequential: false,
            overlapped: false,
            interrupted: false,
            total_seconds: Duration::from_millis(760),
            warnings: Default::default(),
            download: DownloadReport {
                seconds: Duration::from_millis(500),
                threads: 8,
                ok: 3,
                failed: 1,
                bytes: 2_500_000,
                cached: 0,
                not_modified: 0,
            },
            resize: ResizeReport {
                seconds: Duration::from_millis(250),
                threads: 2,
                images: 3,
                thumbnails: 9,
                failed: 0,
                skipped: 0,
                pruned: 0,
                busy_seconds: Duration::from_millis(240),
                megapixels: 12.0,
                stopped: None,
            },
            failures: vec![Failure {
                input: "http://x/a.jpg".into(),
                stage: Stage::Download,
                error: "http status 404".into(),
            }]
            .into(),
        }
    }

    #[test]
    fn text_summary_shows_rates_from_fixed_durations() {
        let text = sample().to_string();
        assert!(text.contains("download    0.500 s    8 threads  3 ok, 1 failed  2.5 MB  5.0 MB/s"));
        assert!(text.contains("resize      0.250 s    2 threads  3 ok, 0 failed  9 thumbnails written  12.0 MP  48.0 MP/s"));
        assert!(text.contains("  http://x/a.jpg: download failed: http status 404"));
    }

    #[test]
    fn json_has_the_documented_fields() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["download"]["seconds"], 0.5);
        assert_eq!(v["download"]["bytes"], 2_500_000);
        assert_eq!(v["resize"]["thumbnails"], 9);
        assert_eq!(v["failures"][0]["stage"], "download");
        assert_eq!(v["failures"][0]["input"], "http://x/a.jpg");
        assert_eq!(v["version"], 1);
        let mut old = v.clone();
        old.as_object_mut().unwrap().remove("version");
        let back: Report = serde_json::from_value(old).unwrap();
        assert_eq!(
            back.version, 1,
            "reports from before the field read as version 1"
        );
    }

    #[test]
    fn json_reads_back_as_the_same_report() {
        let report = sample();
        let back: Report = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn zero_time_gives_zero_rate_not_nan() {
        let text = Report::default().to_string();
        assert!(text.contains("download  nothing to fetch"), "{text}");
        assert!(text.contains("0.0 MP/s"), "{text}");
        assert!(!text.contains("NaN"));
    }
}
