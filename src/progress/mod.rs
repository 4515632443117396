//! How a run tells the outside world what it is doing, behind one small interface.
//!
//! The pipeline calls [`Progress`] and never checks whether a terminal is attached: that choice is
//! made once, at the edge, by picking an implementation. [`Console`] draws indicatif bars on stderr
//! (only when stderr is a terminal), prints one line per failure and, with `-v`, log lines that name
//! their thread; [`Silent`] and [`Recorder`] keep tests quiet and observable.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use console::Term;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use term::Narrower;

use crate::escape::printable;
use crate::failure::Failure;

mod term;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Download,
    Resize,
    /// `bench`'s timed runs.
    Bench,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Download => "download",
            Phase::Resize => "resize",
            Phase::Bench => "bench",
        })
    }
}

/// Events of a run, in the order the pipeline emits them for each phase:
/// started (with the number of queued items), then one finished or failed per item, then finished.
pub trait Progress: Sync {
    fn phase_started(&self, phase: Phase, items: usize);
    /// One item done; `bytes` is what a download fetched (0 for resizes).
    fn item_finished(&self, phase: Phase, bytes: u64);
    fn item_failed(&self, phase: Phase, failure: &Failure);
    /// One item done, with something less than right (`warning.error` says what).
    fn item_warned(&self, phase: Phase, warning: &Failure) {
        let _ = phase;
        self.log(&format!(
            "warning: {}: {}",
            printable(&warning.input),
            printable(&warning.error)
        ));
    }
    fn phase_finished(&self, phase: Phase);
    /// A detail line, shown with `-v` or written to the log file.
    fn log(&self, message: &str);
}

/// Says nothing: for tests and for library callers that want no output.
pub struct Silent;

impl Progress for Silent {
    fn phase_started(&self, _: Phase, _: usize) {}
    fn item_finished(&self, _: Phase, _: u64) {}
    fn item_failed(&self, _: Phase, _: &Failure) {}
    fn phase_finished(&self, _: Phase) {}
    fn log(&self, _: &str) {}
}

/// Remembers every event, so tests can assert what a user would have been told.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<String>>,
}

impl Recorder {
    fn push(&self, event: String) {
        self.events.lock().expect("recorder lock").push(event);
    }
}

impl Progress for Recorder {
    fn phase_started(&self, phase: Phase, items: usize) {
        self.push(format!("{phase:?} started {items}"));
    }
    fn item_finished(&self, phase: Phase, bytes: u64) {
        self.push(format!("{phase:?} finished {bytes}"));
    }
    fn item_failed(&self, phase: Phase, failure: &Failure) {
        self.push(format!("{phase:?} failed {failure}"));
    }
    fn phase_finished(&self, phase: Phase) {
        self.push(format!("{phase:?} done"));
    }
    fn log(&self, message: &str) {
        self.push(format!("log {message}"));
    }
}

/// How a [`Console`] shows progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Bars that redraw in place: for a terminal.
    Bars,
    /// A line per phase every few seconds (done/total, rate, ETA): for logs with no terminal,
    /// under Kubernetes, Slurm, cron or CI, which would otherwise show nothing until the end.
    Plain,
    /// Nothing but failures.
    Off,
}

/// Seconds between two plain progress lines of a phase.
const PLAIN_EVERY: Duration = Duration::from_secs(3);

/// What the user sees on a terminal, or plain lines on stderr when it is not one.
pub struct Console {
    multi: MultiProgress,
    bars: bool,
    plain: bool,
    verbose: bool,
    quiet: bool,
    start: Instant,
    log_file: Option<Mutex<File>>,
    /// One bar per running phase (both at once with `--overlap`).
    shown: Mutex<Vec<Shown>>,
}

/// A running phase's bar, its byte count, and when it last printed a plain line.
struct Shown {
    phase: Phase,
    bar: ProgressBar,
    bytes: u64,
    plain_at: Instant,
}

impl Console {
    /// `terminal`: stderr is a terminal (read once, at the edge). `quiet` hides bars and logs but
    /// never failures: a user must always learn which item failed and why.
    pub fn new(display: Display, quiet: bool, verbose: bool, log_file: Option<File>) -> Self {
        let bars = display == Display::Bars;
        let target = if bars {
            // 20 Hz, as indicatif's own stderr target.
            ProgressDrawTarget::term_like_with_hz(Box::new(Narrower(Term::stderr())), 20)
        } else {
            ProgressDrawTarget::hidden()
        };
        Console {
            multi: MultiProgress::with_draw_target(target),
            bars,
            plain: display == Display::Plain,
            verbose: verbose && !quiet,
            quiet,
            start: Instant::now(),
            log_file: log_file.map(Mutex::new),
            shown: Mutex::new(Vec::new()),
        }
    }

    /// Prints a line without tearing the bars. Names in it are escaped, so it stays one line.
    fn line(&self, text: &str) {
        let text = &*printable(text);
        if self.bars {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    /// A log line: wall-clock time (RFC 3339, UTC, milliseconds, so lines from many shards
    /// sort together), seconds since the start, the thread's name, the message.
    fn stamp(&self, message: &str) -> String {
        let thread = std::thread::current();
        format!(
            "{} [{:>8.3}s {}] {}",
            rfc3339_utc(std::time::SystemTime::now()),
            self.start.elapsed().as_secs_f64(),
            thread.name().unwrap_or("main"),
            printable(message)
        )
    }

    /// A plain progress line for `shown`'s phase if it is time for one (or `last`, at its end).
    fn plain_line(&self, shown: &mut Shown, last: bool) {
        let now = Instant::now();
        if !self.plain || (!last && now.duration_since(shown.plain_at) < PLAIN_EVERY) {
            return;
        }
        shown.plain_at = now;
        let (phase, bar) = (shown.phase, &shown.bar);
        let (done, total) = (bar.position(), bar.length().unwrap_or(0));
        let secs = bar.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let line = if last {
            format!("{phase} {done}/{total} done in {secs:.1} s")
        } else {
            let eta = if rate > 0.0 {
                format!("{:.0} s", total.saturating_sub(done) as f64 / rate)
            } else {
                "unknown".into()
            };
            let percent = (100 * done).checked_div(total).unwrap_or(0);
            format!("{phase} {done}/{total} ({percent}%), {rate:.1}/s, ETA {eta}")
        };
        eprintln!("{line}");
    }

    /// A library's log record (see `logging`): asked for with `-vv` or `RUST_LOG`, so shown
    /// whatever `-v` says, but not with `-q`; always written to the log file.
    pub fn record(&self, message: &str) {
        let line = self.stamp(message);
        if !self.quiet {
            self.line(&line);
        }
        self.to_file(&line);
    }

    /// A line from outside the pipeline (see `logging::notice`), shown even with `-q`.
    pub fn notice(&self, message: &str) {
        self.line(message);
        self.to_file(&self.stamp(message));
    }

    fn to_file(&self, line: &str) {
        if let Some(file) = &self.log_file {
            let mut file = file.lock().expect("log file lock");
            let _ = writeln!(file, "{line}");
        }
    }
}

/// `2026-11-28T16:31:05.123Z`.
fn rfc3339_utc(now: std::time::SystemTime) -> String {
    let t = crate::utc::Utc::at(now);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress templates are fixed and valid")
        .progress_chars("=> ")
}

impl Progress for Console {
    fn phase_started(&self, phase: Phase, items: usize) {
        let bar = self.multi.add(ProgressBar::new(items as u64));
        match phase {
            Phase::Download => {
                bar.set_style(style("download [{bar:30}] {pos}/{len} {msg} {elapsed}"));
            }
            Phase::Resize => {
                bar.set_style(style("resize   [{bar:30}] {pos}/{len} images, ETA {eta}"));
            }
            Phase::Bench => {
                bar.set_style(style("bench    [{bar:30}] {pos}/{len} runs, ETA {eta}"));
            }
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        self.shown.lock().expect("progress lock").push(Shown {
            phase,
            bar,
            bytes: 0,
            plain_at: Instant::now(),
        });
        self.log(&format!("{phase} phase: {items} items queued"));
    }

    fn item_finished(&self, phase: Phase, bytes: u64) {
        let mut shown = self.shown.lock().expect("progress lock");
        if let Some(shown) = shown.iter_mut().find(|s| s.phase == phase) {
            shown.bar.inc(1);
            if phase == Phase::Download {
                shown.bytes += bytes;
                let secs = shown.bar.elapsed().as_secs_f64().max(1e-3);
                let mb = shown.bytes as f64 / 1e6;
                shown
                    .bar
                    .set_message(format!("{mb:.1} MB, {:.1} MB/s", mb / secs));
            }
            self.plain_line(shown, false);
        }
    }

    fn item_failed(&self, phase: Phase, failure: &Failure) {
        let mut shown = self.shown.lock().expect("progress lock");
        if let Some(shown) = shown.iter_mut().find(|s| s.phase == phase) {
            shown.bar.inc(1);
            self.plain_line(shown, false);
        }
        drop(shown);
        let text = format!("thumbnail-maker: {failure}");
        self.line(&text);
        self.to_file(&self.stamp(&text));
    }

    fn item_warned(&self, _: Phase, warning: &Failure) {
        // Said as it happens, like a failure, but `-q` hides it: the image was made.
        let text = format!(
            "thumbnail-maker: warning: {}: {}",
            warning.input, warning.error
        );
        if !self.quiet {
            self.line(&text);
        }
        self.to_file(&self.stamp(&text));
    }

    fn phase_finished(&self, phase: Phase) {
        let mut shown = self.shown.lock().expect("progress lock");
        if let Some(i) = shown.iter().position(|s| s.phase == phase) {
            let mut ended = shown.remove(i);
            // A phase shorter than the interval printed no line and needs no closing one.
            if ended.bar.length().unwrap_or(0) > 0 && ended.bar.elapsed() >= PLAIN_EVERY {
                self.plain_line(&mut ended, true);
            }
            ended.bar.finish_and_clear();
            self.multi.remove(&ended.bar);
        }
        drop(shown);
        self.log(&format!("{phase} phase finished"));
    }

    fn log(&self, message: &str) {
        if self.quiet && self.log_file.is_none() {
            return;
        }
        let line = self.stamp(message);
        if self.verbose {
            self.line(&line);
        }
        self.to_file(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::{rfc3339_utc, Phase, Progress, Recorder};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn log_times_are_rfc3339_utc_with_milliseconds() {
        let at = |secs: u64, millis: u64| {
            rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @1795883465` says Sat Nov 28 16:31:05 UTC 2026.
        assert_eq!(at(1_795_883_465, 123), "2026-11-28T16:31:05.123Z");
        // A leap day, and the last second of a century year that is not a leap year.
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.007Z");
        assert_eq!(at(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
    }
    use crate::failure::{Failure, Stage};

    #[test]
    fn recorder_sees_events_in_order() {
        let r = Recorder::default();
        r.phase_started(Phase::Download, 2);
        r.item_finished(Phase::Download, 10);
        let f = Failure {
            input: "u".into(),
            stage: Stage::Download,
            error: "boom".into(),
        };
        r.item_failed(Phase::Download, &f);
        r.phase_finished(Phase::Download);
        let events = r.events.lock().unwrap().clone();
        assert_eq!(
            events,
            [
                "Download started 2",
                "Download finished 10",
                "Download failed u: download failed: boom",
                "Download done"
            ]
        );
    }
}
