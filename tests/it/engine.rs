//! The engine in-process: `pipeline::run` over the loopback server with the recording
//! progress, as fast as a function call (no binary spawned). What a user would be told, in what
//! order, with and without `--overlap`, and what Ctrl-C leaves.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use thumbnail_maker::config::{Config, Schedule};
use thumbnail_maker::list::InputSource;
use thumbnail_maker::progress::Recorder;
use thumbnail_maker::report::Outcome;
use thumbnail_maker::serve::{Route, Server};

use crate::util::{sample, serve};

fn three_photos(latency: Duration) -> (Server, Vec<String>) {
    let paths = ["/a.jpg", "/b.jpg", "/c.jpg"];
    let server = serve(
        paths
            .iter()
            .map(|p| (*p, Route::file(p, sample("wine.jpg"))))
            .collect(),
        latency,
    );
    let urls = paths.iter().map(|p| server.url(p)).collect();
    (server, urls)
}

fn config(dir: &Path, urls: Vec<String>, schedule: Schedule) -> Config {
    let mut config = Config::new(InputSource::from_args(urls), 2);
    config.out_dir = dir.join("out");
    config.incoming_dir = dir.join("in");
    config.schedule = schedule;
    config.download_threads = 1;
    config.net.env_proxy = false;
    config
}

/// The recorded events without the free-form log lines.
fn events(recorder: &Recorder) -> Vec<String> {
    let events = recorder.events.lock().unwrap();
    events
        .iter()
        .filter(|e| !e.starts_with("log "))
        .cloned()
        .collect()
}

#[test]
fn in_turn_every_download_is_reported_before_phase_two_starts() {
    let (_server, urls) = three_photos(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let report =
        thumbnail_maker::run(&config(dir.path(), urls, Schedule::InTurn), &recorder).unwrap();
    let bytes = sample("wine.jpg").len();
    let mut expected = vec!["Download started 3".to_string()];
    expected.extend((0..3).map(|_| format!("Download finished {bytes}")));
    expected.push("Download done".into());
    expected.push("Resize started 3".into());
    expected.extend((0..3).map(|_| "Resize finished 0".to_string()));
    expected.push("Resize done".into());
    assert_eq!(events(&recorder), expected);
    assert_eq!(
        (
            report.download.ok,
            report.resize.images,
            report.resize.thumbnails
        ),
        (3, 3, 9)
    );
    assert_eq!(report.outcome(), Outcome::AllDone);
    assert!(!report.overlapped);
}

#[test]
fn overlapped_images_are_resized_while_downloads_go_on() {
    // One download thread, 300 ms a request: the first image lands at 0.3 s, the last at 0.9 s.
    let (_server, urls) = three_photos(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let config = config(dir.path(), urls, Schedule::Overlapped);
    let report = thumbnail_maker::run(&config, &recorder).unwrap();
    let events = events(&recorder);
    let at = |e: &str| {
        events
            .iter()
            .position(|x| x == e)
            .unwrap_or_else(|| panic!("{e}: {events:?}"))
    };
    let first_resize = at("Resize finished 0");
    assert!(first_resize < at("Download done"), "{events:?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("Download finished"))
            .count(),
        3
    );
    assert_eq!(
        events.iter().filter(|e| *e == "Resize finished 0").count(),
        3
    );
    assert!(report.overlapped);
    assert_eq!((report.download.ok, report.resize.images), (3, 3));
}

#[test]
fn ctrl_c_starts_nothing_new_and_says_so() {
    let (server, urls) = three_photos(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let config = config(dir.path(), urls, Schedule::InTurn);
    let cancel = std::sync::Arc::clone(&config.cancel);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(450));
        cancel.store(true, Ordering::SeqCst);
    });
    let report = thumbnail_maker::run(&config, &recorder).unwrap();
    stopper.join().unwrap();
    assert_eq!(report.outcome(), Outcome::Interrupted);
    assert!(report.interrupted);
    // The first request finished at 0.3 s and the second was under way at 0.45 s; the third
    // never started, and nothing was resized after the flag was set.
    assert_eq!(server.requests(), 2, "{:?}", events(&recorder));
    assert_eq!(report.download.ok, 2);
    assert_eq!(report.resize.images, 0);
    assert!(
        report.failures.is_empty(),
        "what was not started is not a failure"
    );
}
