//! The run's console, for what reaches the user from outside the pipeline: the log records of
//! the libraries we use (ureq's requests, connections and redirects; rustls's handshakes),
//! shown with `-vv` (debug) or `-vvv` (trace), or as `RUST_LOG` asks in env_logger's syntax
//! (`RUST_LOG=ureq=debug`, `RUST_LOG=info,rustls=trace`), and the Ctrl-C handler's notice.
//! Both go through the [`Console`], so they neither tear the bars (a line printed beside them
//! left a dead bar on the screen) nor miss the log file.
//!
//! `log` has one logger per process; it is installed once and each run points it at its
//! console (tests run several in one process).

use std::sync::{Arc, Once, RwLock};

use crate::progress::Console;

/// The running command's console, and which library records it shows.
static ATTACHED: RwLock<Option<Attached>> = RwLock::new(None);
static INSTALL: Once = Once::new();

struct Attached {
    filter: Option<env_filter::Filter>,
    console: Arc<Console>,
}

struct Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        let attached = ATTACHED.read().unwrap_or_else(|e| e.into_inner());
        attached
            .as_ref()
            .and_then(|a| a.filter.as_ref())
            .is_some_and(|f| f.enabled(metadata))
    }

    fn log(&self, record: &log::Record) {
        let attached = ATTACHED.read().unwrap_or_else(|e| e.into_inner());
        let Some(attached) = attached.as_ref() else {
            return;
        };
        if attached.filter.as_ref().is_some_and(|f| f.matches(record)) {
            attached.console.record(&format!(
                "{} {}: {}",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

/// The filter for `-v` counted `verbosity` times and the value of `RUST_LOG`: `RUST_LOG` wins
/// when set (as in every Rust tool); otherwise `-vv` shows debug records and `-vvv` trace.
/// `None`: no library records at all (the default, and `-v`, which shows our own lines only).
pub fn filter(verbosity: u8, rust_log: Option<&str>) -> Option<env_filter::Filter> {
    let mut builder = env_filter::Builder::new();
    match (rust_log.filter(|s| !s.trim().is_empty()), verbosity) {
        (Some(spec), _) => builder.parse(spec),
        (None, 0 | 1) => return None,
        (None, 2) => builder.filter_level(log::LevelFilter::Debug),
        (None, _) => builder.filter_level(log::LevelFilter::Trace),
    };
    Some(builder.build())
}

/// Sends notices, and library records matching `filter`, to `console` until [`detach`].
pub fn attach(console: Arc<Console>, filter: Option<env_filter::Filter>) {
    INSTALL.call_once(|| {
        // Fails only if a logger is already set (by a program embedding the library): then
        // that logger gets the records, which is what its author wants.
        let _ = log::set_logger(&Bridge);
    });
    let level = filter
        .as_ref()
        .map_or(log::LevelFilter::Off, |f| f.filter());
    log::set_max_level(level);
    *ATTACHED.write().unwrap_or_else(|e| e.into_inner()) = Some(Attached { filter, console });
}

/// The run's console is going away.
pub fn detach() {
    log::set_max_level(log::LevelFilter::Off);
    *ATTACHED.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// A line for the user from outside the pipeline (the Ctrl-C handler): above the bars while a
/// run shows them, else on stderr.
pub fn notice(message: &str) {
    let attached = ATTACHED.read().unwrap_or_else(|e| e.into_inner());
    match attached.as_ref() {
        Some(attached) => attached.console.notice(message),
        None => eprintln!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::filter;
    use log::{Level, LevelFilter, Metadata};

    fn shows(filter: &env_filter::Filter, target: &str, level: Level) -> bool {
        filter.enabled(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn verbosity_and_rust_log_choose_the_records() {
        assert!(filter(0, None).is_none());
        assert!(filter(1, None).is_none());
        assert!(filter(1, Some(" ")).is_none());
        let debug = filter(2, None).unwrap();
        assert_eq!(debug.filter(), LevelFilter::Debug);
        assert!(shows(&debug, "ureq::unversioned::transport", Level::Debug));
        assert!(!shows(&debug, "ureq", Level::Trace));
        assert_eq!(filter(3, None).unwrap().filter(), LevelFilter::Trace);
        // RUST_LOG wins over -v, with env_logger's per-target syntax.
        let ureq_only = filter(3, Some("ureq=debug")).unwrap();
        assert!(shows(&ureq_only, "ureq::pool", Level::Debug));
        assert!(!shows(&ureq_only, "ureq::pool", Level::Trace));
        assert!(!shows(&ureq_only, "rustls::client", Level::Debug));
        assert!(shows(
            &filter(0, Some("info")).unwrap(),
            "rustls",
            Level::Info
        ));
    }
}
