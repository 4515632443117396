//! Interrupted and repeated runs: nothing lost, nothing partial, nothing done twice.

use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use thumbnail_maker::serve::{Route, Server};

use crate::util::{files, fixture, run_json, sample, serve, tm};

fn eight_photos(latency: Duration) -> (Server, Vec<String>) {
    let paths: Vec<String> = (0..8).map(|i| format!("/p{i}.jpg")).collect();
    let server = serve(
        paths
            .iter()
            .map(|p| (p.as_str(), Route::file(p, sample("seeding.jpg"))))
            .collect(),
        latency,
    );
    let urls = paths.iter().map(|p| server.url(p)).collect();
    (server, urls)
}

fn temp_files(dir: &std::path::Path) -> Vec<String> {
    ["in", "out"]
        .iter()
        .flat_map(|sub| files(&dir.join(sub)))
        .map(|f| f.0)
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_rerun_skips_what_is_done_and_force_redoes_it() {
    let (server, urls) = eight_photos(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let first = run_json({
        let mut c = tm(dir.path());
        c.args(&urls);
        c
    });
    assert_eq!(first.status, 0, "{}", first.stderr);
    let again = run_json({
        let mut c = tm(dir.path());
        c.args(&urls);
        c
    });
    assert_eq!(again.status, 0);
    assert_eq!(again.json["resize"]["skipped"], 8);
    assert_eq!(again.json["resize"]["images"], 0);
    assert_eq!(server.bodies_sent(), 8, "nothing fetched again");
    assert_eq!(server.not_modified(), 8, "each copy revalidated once");
    assert_eq!(again.json["download"]["not_modified"], 8);

    // A thumbnail lost but the download kept: that one thumbnail is made again from the
    // incoming folder, nothing fetched, nothing else rewritten.
    std::fs::remove_file(dir.path().join("out/p3_64.jpg")).unwrap();
    let mended = run_json({
        let mut c = tm(dir.path());
        c.args(&urls);
        c
    });
    assert_eq!(mended.json["resize"]["images"], 1);
    assert_eq!(mended.json["resize"]["thumbnails"], 1);
    assert_eq!(server.bodies_sent(), 8);
    assert!(dir.path().join("out/p3_64.jpg").is_file());

    // Offline: the copies are trusted without a request.
    let offline = run_json({
        let mut c = tm(dir.path());
        c.arg("--offline").args(&urls);
        c
    });
    assert_eq!(offline.json["resize"]["skipped"], 8);
    assert_eq!(server.requests(), 24, "no request at all");

    let forced = run_json({
        let mut c = tm(dir.path());
        c.arg("--force").args(&urls);
        c
    });
    assert_eq!(forced.json["resize"]["images"], 8);
    assert_eq!(server.bodies_sent(), 16);
}

#[test]
fn sigkill_mid_run_then_rerun_completes_without_refetching() {
    let (server, urls) = eight_photos(Duration::from_millis(400));
    let dir = tempfile::tempdir().unwrap();
    let mut child = tm(dir.path())
        .args(["-d", "2", "-q"])
        .args(&urls)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Two waves of downloads done, the third in flight.
    thread::sleep(Duration::from_millis(1000));
    child.kill().unwrap();
    child.wait().unwrap();
    let finished: Vec<String> = files(&dir.path().join("in"))
        .into_iter()
        .map(|f| f.0)
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(
        !finished.is_empty() && finished.len() < 8,
        "killed mid-run: {finished:?}"
    );

    let rerun = run_json({
        let mut c = tm(dir.path());
        c.args(&urls);
        c
    });
    assert_eq!(rerun.status, 0, "{}", rerun.stderr);
    for name in &finished {
        assert_eq!(
            server.sent(&format!("/{name}")),
            1,
            "{name} was complete; not fetched again"
        );
    }
    let out = files(&dir.path().join("out"));
    assert_eq!(out.len(), 24);
    for (name, bytes) in &out {
        let image = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(image.width() > 0);
    }
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
}

#[test]
fn ctrl_c_stops_new_work_reports_and_exits_130() {
    let (server, urls) = eight_photos(Duration::from_millis(400));
    let dir = tempfile::tempdir().unwrap();
    let child = tm(dir.path())
        .args(["-d", "1", "--json", "-q"])
        .args(&urls)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(600));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    let ok = report["download"]["ok"].as_u64().unwrap();
    assert!(
        (1..8).contains(&ok),
        "the download under way finished, no new one began: {ok}"
    );
    assert!(temp_files(dir.path()).is_empty());
    // Every thumbnail written is whole, and a re-run finishes the rest without refetching.
    let rerun = run_json({
        let mut c = tm(dir.path());
        c.args(&urls);
        c
    });
    assert_eq!(rerun.status, 0, "{}", rerun.stderr);
    assert_eq!(server.bodies_sent(), 8);
    assert_eq!(files(&dir.path().join("out")).len(), 24);
}

#[test]
fn a_truncated_local_jpeg_fails_clearly_unless_partial_images_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("truncated_should_fail_unless_partial.jpg");
    let input = input.to_str().unwrap();
    let strict = run_json({
        let mut c = tm(dir.path());
        c.arg(input);
        c
    });
    assert_eq!(strict.status, 1);
    let error = strict.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("truncated JPEG"), "{error}");
    let lenient = run_json({
        let mut c = tm(dir.path());
        c.args(["--allow-partial", input]);
        c
    });
    assert_eq!(lenient.status, 0, "{}", lenient.stderr);
    assert_eq!(lenient.json["resize"]["thumbnails"], 3);
}

#[test]
fn a_large_truncated_jpeg_read_from_disk_is_caught_too() {
    // Large enough (over 64 KB) to be decoded straight from the file, not from memory.
    let whole = sample("seeding.jpg");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cut.jpg"), &whole[..whole.len() * 6 / 10]).unwrap();
    let strict = run_json({
        let mut c = tm(dir.path());
        c.arg("cut.jpg");
        c
    });
    assert_eq!(strict.status, 1);
    let error = strict.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("truncated JPEG"), "{error}");
    let lenient = run_json({
        let mut c = tm(dir.path());
        c.args(["--allow-partial", "cut.jpg"]);
        c
    });
    assert_eq!(lenient.status, 0, "{}", lenient.stderr);
}

/// `jpeg` with `insert` placed before its second marker segment (after APP0).
fn with_bytes_before_second_segment(jpeg: &[u8], insert: &[u8]) -> Vec<u8> {
    let app0_length = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    let at = 4 + app0_length;
    assert_eq!(jpeg[at], 0xFF, "a marker follows APP0");
    [&jpeg[..at], insert, &jpeg[at..]].concat()
}

#[test]
fn complete_jpegs_with_stray_bytes_between_segments_are_decoded_like_the_clean_file() {
    // What libjpeg calls "extraneous bytes before marker" and decodes anyway, as Pillow and
    // libvips do: junk before a marker, an APP segment declaring less than it holds, junk
    // before the scan. Each file still ends with its end marker; none is truncated.
    let clean = sample("seeding.jpg");
    let sos = clean.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let variants: [(&str, Vec<u8>); 3] = [
        (
            "junk",
            with_bytes_before_second_segment(clean, &[0x12, 0x34, 0x00, 0x99]),
        ),
        (
            "short-app",
            with_bytes_before_second_segment(clean, b"\xFF\xE1\x00\x08Exif\x00\x00GARBAGE"),
        ),
        (
            "before-scan",
            [&clean[..sos], b"\x00junk", &clean[sos..]].concat(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clean.jpg"), clean).unwrap();
    for (name, bytes) in &variants {
        std::fs::write(dir.path().join(format!("{name}.jpg")), bytes).unwrap();
    }
    // Over 64 KB each, so read straight from disk; PNG output, so equal pixels mean equal bytes.
    let run = run_json({
        let mut c = tm(dir.path());
        c.args(["clean.jpg", "junk.jpg", "short-app.jpg", "before-scan.jpg"])
            .args(["-s", "64", "-f", "png"]);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    let want = std::fs::read(out.join("clean_64.png")).unwrap();
    for (name, bytes) in &variants {
        let got = std::fs::read(out.join(format!("{name}_64.png"))).unwrap();
        assert!(
            got == want,
            "{name} differs from the clean file's thumbnail"
        );
        // The same from memory (the path small files and downloads take).
        let spec = thumbnail_maker::ThumbnailSpec {
            sizes: vec!["64".parse().unwrap()],
            format: Some(thumbnail_maker::output::OutputFormat::Png),
            ..thumbnail_maker::ThumbnailSpec::default()
        };
        let mut thumbnailer = thumbnail_maker::resize::Thumbnailer::new(false);
        let made = thumbnail_maker::make_thumbnails(bytes, &spec, &mut thumbnailer).unwrap();
        assert!(made.thumbnails[0].bytes == want, "{name} from memory");
    }
    // Stray bytes are no licence to be cut short: the junk file without its end is refused.
    let junk = &variants[0].1;
    std::fs::write(dir.path().join("cut.jpg"), &junk[..junk.len() * 6 / 10]).unwrap();
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg("cut.jpg");
        c
    });
    assert_eq!(run.status, 1);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("truncated JPEG"), "{error}");
}
