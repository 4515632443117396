//! Numbers of a benchmark sweep and their renderings: text table, Markdown, CSV, JSON.
//!
//! Everything here is computed from recorded durations, so it is tested with fixed ones; no
//! timing happens in this module.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// One thread count, measured `runs` times.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub threads: usize,
    pub times: Vec<Duration>,
    /// The work of one run: MB downloaded, or input megapixels resized.
    pub amount: f64,
}

/// One thread count, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub threads: usize,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// `amount` per second at the median.
    pub throughput: f64,
    /// The baseline's median (1 thread, or the fewest measured) over this median.
    pub speedup: f64,
    /// Speedup per thread.
    pub efficiency: f64,
    /// Downloads only: ceil(K / N) x (latency + one request's own time at one thread).
    pub ideal_s: Option<f64>,
}

/// One phase's sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseTable {
    /// "download" or "resize".
    pub phase: &'static str,
    /// "MB/s" or "MP/s".
    pub unit: &'static str,
    /// What a run does, in words: "64 URLs, 100 ms latency".
    pub work: String,
    pub rows: Vec<Row>,
}

pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Summarises `points`. For downloads, `requests` and `latency` give the ideal column: each
/// worker serves ceil(K / N) requests one after the other, each costing the latency plus what a
/// request costs beyond it, measured at one thread.
pub fn rows(points: &[Point], ideal: Option<(usize, Duration)>) -> Vec<Row> {
    let Some(base) = points.iter().min_by_key(|p| p.threads) else {
        return Vec::new();
    };
    let base_median = median(&base.times).as_secs_f64();
    // What one request costs, latency included, as measured at the baseline.
    let per_request = ideal.map(|(requests, latency)| {
        let rounds = requests.div_ceil(base.threads) as f64;
        (base_median / rounds).max(latency.as_secs_f64())
    });
    points
        .iter()
        .map(|p| {
            let m = median(&p.times).as_secs_f64();
            let speedup = if m > 0.0 { base_median / m } else { 0.0 };
            Row {
                threads: p.threads,
                median_s: m,
                min_s: p.times.iter().min().map_or(0.0, Duration::as_secs_f64),
                max_s: p.times.iter().max().map_or(0.0, Duration::as_secs_f64),
                throughput: if m > 0.0 { p.amount / m } else { 0.0 },
                speedup,
                efficiency: speedup * base.threads as f64 / p.threads as f64,
                ideal_s: ideal
                    .zip(per_request)
                    .map(|((requests, _), each)| requests.div_ceil(p.threads) as f64 * each),
            }
        })
        .collect()
}

impl PhaseTable {
    /// A table in the spirit of hyperfine's, for the terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}: {}\n", self.phase, self.work);
        let ideal = self.rows.iter().any(|r| r.ideal_s.is_some());
        let _ = writeln!(
            out,
            "  threads     median            min–max  {:>8}   speedup  efficiency{}",
            self.unit,
            if ideal { "      ideal" } else { "" }
        );
        for r in &self.rows {
            let _ = write!(
                out,
                "  {:>7}  {:>7.3} s  {:>17}  {:>8.1}   {:>6.2}x  {:>9.0}%",
                r.threads,
                r.median_s,
                format!("{:.3}–{:.3} s", r.min_s, r.max_s),
                r.throughput,
                r.speedup,
                r.efficiency * 100.0
            );
            if let Some(ideal) = r.ideal_s {
                let _ = write!(out, "  {ideal:>7.3} s");
            }
            out.push('\n');
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let ideal = self.rows.iter().any(|r| r.ideal_s.is_some());
        let mut out = format!("**{}**: {}\n\n", self.phase, self.work);
        let _ = writeln!(
            out,
            "| threads | median s | min–max s | {} | speedup | efficiency |{}",
            self.unit,
            if ideal { " ideal s |" } else { "" }
        );
        let _ = writeln!(
            out,
            "|---:|---:|---:|---:|---:|---:|{}",
            if ideal { "---:|" } else { "" }
        );
        for r in &self.rows {
            let _ = write!(
                out,
                "| {} | {:.3} | {:.3}–{:.3} | {:.1} | {:.2}x | {:.0}% |",
                r.threads,
                r.median_s,
                r.min_s,
                r.max_s,
                r.throughput,
                r.speedup,
                r.efficiency * 100.0
            );
            if let Some(ideal) = r.ideal_s {
                let _ = write!(out, " {ideal:.3} |");
            }
            out.push('\n');
        }
        out
    }
}

/// All phases as CSV, one row per phase and thread count.
pub fn to_csv(tables: &[PhaseTable]) -> String {
    let mut out = String::from(
        "phase,threads,median_s,min_s,max_s,throughput,unit,speedup,efficiency,ideal_s\n",
    );
    for t in tables {
        for r in &t.rows {
            let _ = writeln!(
                out,
                "{},{},{:.6},{:.6},{:.6},{:.3},{},{:.4},{:.4},{}",
                t.phase,
                r.threads,
                r.median_s,
                r.min_s,
                r.max_s,
                r.throughput,
                t.unit,
                r.speedup,
                r.efficiency,
                r.ideal_s.map_or(String::new(), |s| format!("{s:.6}"))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{median, rows, to_csv, PhaseTable, Point};
    use std::time::Duration;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&ms(&[30, 10, 20])), Duration::from_millis(20));
        assert_eq!(median(&ms(&[40, 10, 20, 30])), Duration::from_millis(25));
    }

    fn download_table() -> PhaseTable {
        // 8 requests at 100 ms latency; 1 thread takes 0.88 s (10 ms of transfer each).
        let points = vec![
            Point {
                threads: 1,
                times: ms(&[880, 900, 870]),
                amount: 8.0,
            },
            Point {
                threads: 4,
                times: ms(&[230, 220, 240]),
                amount: 8.0,
            },
        ];
        PhaseTable {
            phase: "download",
            unit: "MB/s",
            work: "8 URLs, 100 ms latency".into(),
            rows: rows(&points, Some((8, Duration::from_millis(100)))),
        }
    }

    #[test]
    fn speedup_efficiency_and_ideal_from_fixed_durations() {
        let t = download_table();
        let r = &t.rows[1];
        assert!((r.speedup - 880.0 / 230.0).abs() < 1e-9);
        assert!((r.efficiency - 880.0 / 230.0 / 4.0).abs() < 1e-9);
        assert!((r.throughput - 8.0 / 0.23).abs() < 1e-9);
        // ceil(8 / 4) = 2 rounds of (100 ms latency + 10 ms measured per request).
        assert!((r.ideal_s.unwrap() - 0.22).abs() < 1e-9, "{:?}", r.ideal_s);
        assert!((t.rows[0].ideal_s.unwrap() - 0.88).abs() < 1e-9);
    }

    #[test]
    fn renderings_show_the_same_rows() {
        let t = download_table();
        let text = t.to_text();
        assert!(text.contains("download: 8 URLs, 100 ms latency"), "{text}");
        assert!(
            text.contains("        4    0.230 s      0.220–0.240 s      34.8     3.83x         96%    0.220 s"),
            "{text}"
        );
        let md = t.to_markdown();
        assert!(
            md.contains("| 4 | 0.230 | 0.220–0.240 | 34.8 | 3.83x | 96% | 0.220 |"),
            "{md}"
        );
        let csv = to_csv(&[t]);
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.contains(
                "download,4,0.230000,0.220000,0.240000,34.783,MB/s,3.8261,0.9565,0.220000"
            ),
            "{csv}"
        );
    }
}
