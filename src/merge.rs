//! `report merge`: shard reports combined into one view of the whole job.
//!
//! Shards run side by side on other machines, so their times add up to busy time (what the job
//! cost) while the longest one bounds the wall time (when it was done). A merged report names
//! the shards whose report is missing or that were interrupted: the job is not finished until
//! they are re-run. This module reads reports; it runs nothing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::failure::{Failure, Failures, Stage};
use crate::report::{per_second as rate, seconds, Report};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read report {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("{} is not a thumbnail-maker report", .0.display())]
    Parse(PathBuf, #[source] serde_json::Error),
    #[error("{} and {} are both reports of shard {index}: give each shard's report once", first_path.display(), path.display())]
    Duplicate {
        first_path: PathBuf,
        index: u32,
        path: PathBuf,
    },
    #[error("{} and {} are reports of different shardings ({first} and {second} shards)", first_path.display(), path.display())]
    Mixed {
        first_path: PathBuf,
        first: u32,
        second: u32,
        path: PathBuf,
    },
}

#[derive(Debug, Default, Serialize)]
pub struct Shards {
    /// How many shards the job has (1 for unsharded reports).
    pub count: u32,
    pub merged: Vec<u32>,
    pub missing: Vec<u32>,
    pub interrupted: Vec<u32>,
}

#[derive(Debug, Default, Serialize)]
pub struct PhaseTotals {
    /// The phase's time summed over shards: what the job cost.
    #[serde(serialize_with = "seconds")]
    pub busy_seconds: Duration,
    /// The longest shard's phase time: how long the job took, shards running side by side.
    #[serde(serialize_with = "seconds")]
    pub longest_seconds: Duration,
    pub ok: usize,
    pub failed: usize,
    /// Downloads: bytes. Resizes: thumbnails written.
    pub amount: u64,
    /// Downloads: MB per busy second. Resizes: input megapixels per busy second.
    pub throughput: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Merged {
    /// The schema, as in a run's report ([`crate::report::REPORT_VERSION`]).
    pub version: u32,
    pub shards: Shards,
    pub download: PhaseTotals,
    pub resize: PhaseTotals,
    pub megapixels: f64,
    pub failures: Failures,
    pub warnings: Failures,
}

impl Merged {
    /// Every shard reported, none was interrupted, nothing failed.
    pub fn complete(&self) -> bool {
        self.shards.missing.is_empty()
            && self.shards.interrupted.is_empty()
            && self.failures.is_empty()
    }
}

/// Reads and merges `files`. Unsharded reports count as shard 0 of 1.
pub fn merge_files(files: &[PathBuf]) -> Result<Merged, MergeError> {
    let mut reports = Vec::with_capacity(files.len());
    for path in files {
        let file = std::fs::File::open(path).map_err(|e| MergeError::Read(path.clone(), e))?;
        let report: Report = serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| MergeError::Parse(path.clone(), e))?;
        reports.push((path.as_path(), report));
    }
    merge(&reports)
}

pub fn merge(reports: &[(&Path, Report)]) -> Result<Merged, MergeError> {
    let count_of = |r: &Report| r.shard.map_or(1, |s| s.count);
    let mut merged = Merged {
        version: crate::report::REPORT_VERSION,
        ..Merged::default()
    };
    let Some((first_path, first)) = reports.first() else {
        return Ok(merged);
    };
    merged.shards.count = count_of(first);
    let mut present = std::collections::BTreeMap::new();
    let mut pixels = 0.0;
    for (path, report) in reports {
        if count_of(report) != merged.shards.count {
            return Err(MergeError::Mixed {
                first_path: first_path.to_path_buf(),
                first: merged.shards.count,
                second: count_of(report),
                path: path.to_path_buf(),
            });
        }
        let index = report.shard.map_or(0, |s| s.index);
        if let Some(first_path) = present.insert(index, *path) {
            return Err(MergeError::Duplicate {
                first_path: first_path.to_path_buf(),
                index,
                path: path.to_path_buf(),
            });
        }
        if report.interrupted {
            merged.shards.interrupted.push(index);
        }
        let (d, r) = (&report.download, &report.resize);
        add(&mut merged.download, d.seconds, d.ok, d.failed, d.bytes);
        add(
            &mut merged.resize,
            r.seconds,
            r.images,
            r.failed,
            r.thumbnails as u64,
        );
        pixels += r.megapixels;
        // Reports read back are held in memory, so reading them cannot fail.
        for failure in report.failures.iter().flatten() {
            merged.failures.push(failure);
        }
        for warning in report.warnings.iter().flatten() {
            merged.warnings.push(warning);
        }
    }
    merged.shards.merged = present.keys().copied().collect();
    merged.shards.missing = (0..merged.shards.count)
        .filter(|i| !present.contains_key(i))
        .collect();
    for &index in &merged.shards.missing {
        merged
            .failures
            .push(shard_failure(index, merged.shards.count, "no report"));
    }
    for &index in &merged.shards.interrupted {
        merged.failures.push(shard_failure(
            index,
            merged.shards.count,
            "interrupted; run it again",
        ));
    }
    merged.megapixels = pixels;
    merged.download.throughput = rate(
        merged.download.amount as f64 / 1e6,
        merged.download.busy_seconds,
    );
    merged.resize.throughput = rate(pixels, merged.resize.busy_seconds);
    Ok(merged)
}

fn add(totals: &mut PhaseTotals, time: Duration, ok: usize, failed: usize, amount: u64) {
    totals.busy_seconds += time;
    totals.longest_seconds = totals.longest_seconds.max(time);
    totals.ok += ok;
    totals.failed += failed;
    totals.amount += amount;
}

fn shard_failure(index: u32, count: u32, why: &str) -> Failure {
    Failure {
        input: format!("shard {index}/{count}"),
        stage: Stage::Shard,
        error: why.to_string(),
    }
}

impl fmt::Display for Merged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shards;
        writeln!(f, "shards    {} of {} merged", s.merged.len(), s.count)?;
        let (d, r) = (&self.download, &self.resize);
        writeln!(
            f,
            "download  busy {:.3} s, longest shard {:.3} s  {} ok, {} failed  {:.1} MB  {:.1} MB/s busy",
            d.busy_seconds.as_secs_f64(),
            d.longest_seconds.as_secs_f64(),
            d.ok,
            d.failed,
            d.amount as f64 / 1e6,
            d.throughput
        )?;
        writeln!(
            f,
            "resize    busy {:.3} s, longest shard {:.3} s  {} ok, {} failed  {} thumbnails  {:.1} MP  {:.1} MP/s busy",
            r.busy_seconds.as_secs_f64(),
            r.longest_seconds.as_secs_f64(),
            r.ok,
            r.failed,
            r.amount,
            self.megapixels,
            r.throughput
        )?;
        crate::report::list_failures(f, &self.failures)?;
        crate::report::list_warnings(f, &self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use crate::failure::{Failure, Stage};
    use crate::report::Report;
    use crate::shard::Shard;
    use std::path::Path;
    use std::time::Duration;

    fn shard(index: u32, seconds: u64, images: usize) -> Report {
        let mut r = Report {
            shard: Some(Shard { index, count: 3 }),
            ..Report::default()
        };
        r.resize.seconds = Duration::from_secs(seconds);
        r.resize.images = images;
        r.resize.thumbnails = images * 3;
        r.resize.megapixels = images as f64;
        r
    }

    #[test]
    fn totals_add_up_busy_time_sums_and_missing_shards_are_named() {
        let mut second = shard(2, 4, 5);
        second.failures.push(Failure {
            input: "x.jpg".into(),
            stage: Stage::Decode,
            error: "bad".into(),
        });
        let mut first = shard(0, 2, 3);
        first.warnings.push(Failure {
            input: "w.png".into(),
            stage: Stage::Decode,
            error: "colours left unconverted: ...".into(),
        });
        let reports = [(Path::new("a"), first), (Path::new("b"), second)];
        let m = merge(&reports).unwrap();
        // Warnings are carried over, and do not make a job incomplete.
        let warned: Vec<_> = m.warnings.iter().map(|w| w.unwrap().input).collect();
        assert_eq!(warned, ["w.png"]);
        assert!(m
            .to_string()
            .contains("1 warning:\n  w.png: colours left unconverted"));
        assert_eq!(m.resize.ok, 8);
        assert_eq!(m.resize.amount, 24);
        assert_eq!(m.resize.busy_seconds, Duration::from_secs(6));
        assert_eq!(m.resize.longest_seconds, Duration::from_secs(4));
        assert_eq!(m.resize.throughput, 8.0 / 6.0);
        assert_eq!(m.shards.missing, [1]);
        assert!(!m.complete());
        let inputs: Vec<_> = m.failures.iter().map(|f| f.unwrap().input).collect();
        assert_eq!(inputs, ["x.jpg", "shard 1/3"]);
        assert!(m.to_string().contains("shards    2 of 3 merged"));
    }

    #[test]
    fn a_shard_given_twice_is_refused_not_counted_twice() {
        let reports = [
            (Path::new("a"), shard(0, 1, 1)),
            (Path::new("a"), shard(0, 1, 1)),
        ];
        let error = merge(&reports).unwrap_err().to_string();
        assert!(error.contains("both reports of shard 0"), "{error}");
    }

    #[test]
    fn reports_of_different_shardings_do_not_mix() {
        let mut other = shard(0, 1, 1);
        other.shard = Some(Shard { index: 0, count: 2 });
        let reports = [(Path::new("a"), shard(0, 1, 1)), (Path::new("b"), other)];
        assert!(merge(&reports).is_err());
    }
}
