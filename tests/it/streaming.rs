//! Long lists in bounded memory: failures kept on disk come back complete and in list order,
//! and reports written before that change still merge. (The memory figures themselves are in
//! the README, measured with `scripts/memory.sh`: timing and memory are never asserted here.)

use std::fs;
use std::time::Duration;

use thumbnail_maker::serve::Route;

use crate::util::{fixture, run_json, sample, serve, tm, tm_bare};

/// A list mixing every stage an input can fail in, and the inputs of it that fail, in order.
fn mixed_list(dir: &std::path::Path, server: &thumbnail_maker::serve::Server) -> Vec<String> {
    fs::write(dir.join("good.jpg"), sample("wine.jpg")).unwrap();
    fs::write(dir.join("corrupt.jpg"), b"not a jpeg at all").unwrap();
    let list = [
        server.url("/gone-1.jpg"),
        "missing.jpg".to_string(),
        "good.jpg".to_string(),
        "corrupt.jpg".to_string(),
        "ftp://example.com/x.jpg".to_string(),
        server.url("/ok.jpg"),
        server.url("/gone-2.jpg"),
        "missing-too.jpg".to_string(),
    ];
    fs::write(dir.join("list.txt"), list.join("\n")).unwrap();
    let failing = [0, 1, 3, 4, 6, 7];
    failing.iter().map(|&i| list[i].clone()).collect()
}

#[test]
fn failures_come_in_list_order_whatever_their_stage_and_schedule() {
    let server = serve(
        vec![
            ("/ok.jpg", Route::file("ok.jpg", sample("seeding.jpg"))),
            ("/gone-1.jpg", Route::status(404, Vec::new())),
            ("/gone-2.jpg", Route::status(404, Vec::new())),
        ],
        Duration::ZERO,
    );
    for schedule in [None, Some("--overlap"), Some("--sequential")] {
        let dir = tempfile::tempdir().unwrap();
        let expected = mixed_list(dir.path(), &server);
        let mut cmd = tm(dir.path());
        cmd.args(["-i", "list.txt", "--retries", "0"]);
        cmd.args(schedule);
        let run = run_json(cmd);
        assert_eq!(run.status, 1, "{schedule:?}: {}", run.stderr);
        let inputs: Vec<&str> = run.json["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["input"].as_str().unwrap())
            .collect();
        assert_eq!(inputs, expected, "{schedule:?}");
        let stages: Vec<&str> = run.json["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["stage"].as_str().unwrap())
            .collect();
        assert_eq!(
            stages,
            ["download", "input", "decode", "input", "download", "input"],
            "{schedule:?}"
        );
        assert_eq!(run.json["resize"]["images"], 2, "{schedule:?}");
    }
}

#[test]
fn failures_past_what_memory_holds_are_all_reported_in_order_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    // 120,000 missing files: each shard of two keeps about 60,000 failures, several megabytes
    // of them, more than the run holds in memory before it sorts them on disk.
    let lines: Vec<String> = (0..120_000).map(|i| format!("missing/{i}.jpg")).collect();
    fs::write(dir.path().join("list.txt"), lines.join("\n")).unwrap();
    let mut totals = 0;
    for shard in 0..2 {
        let mut cmd = tm(dir.path());
        cmd.args(["-i", "list.txt", "--shard", &format!("{shard}/3")])
            .args(["--report", &format!("r{shard}.json")]);
        let run = run_json(cmd);
        assert_eq!(run.status, 1, "{}", run.stderr);
        let failures = run.json["failures"].as_array().unwrap();
        assert!(failures.len() > 35_000, "shard {shard}: {}", failures.len());
        totals += failures.len();
        // In list order: each input's number is larger than the one before.
        let numbers: Vec<u32> = failures
            .iter()
            .map(|f| {
                let input = f["input"].as_str().unwrap();
                input["missing/".len()..input.len() - 4].parse().unwrap()
            })
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "shard {shard}");
        assert!(failures.iter().all(|f| f["stage"] == "input"));
        let file: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join(format!("r{shard}.json"))).unwrap())
                .unwrap();
        assert_eq!(file, run.json, "the report file is what --json printed");
    }
    // The text summary names the first failures and counts the rest.
    let text = tm(dir.path())
        .args(["-i", "list.txt", "--shard", "0/3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("  missing/0.jpg: input failed:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("more (--report FILE or --json lists them all)"),
        "{stdout}"
    );
    assert!(stdout.lines().count() < 40, "{stdout}");

    // Shard 2 comes from a report written before failures were streamed.
    fs::copy(
        fixture("report-16f2dd8-shard-2of3.json"),
        dir.path().join("r2.json"),
    )
    .unwrap();
    let merged = tm_bare(dir.path())
        .args(["report", "merge", "r0.json", "r1.json", "r2.json", "--json"])
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(1), "failures remain");
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["shards"]["merged"], serde_json::json!([0, 1, 2]));
    assert_eq!(
        merged["failures"].as_array().unwrap().len(),
        totals + 12,
        "the old report's 12 failures too"
    );
}

/// `--discard-downloads --overlap`: the incoming folder never holds more originals than there
/// are download threads (sampled through the run), every image is made, and a re-run needs no
/// copy: each URL is answered 304 and nothing is decoded.
#[test]
fn discarded_downloads_keep_the_incoming_folder_to_the_download_threads() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    const IMAGES: usize = 2000;
    const THREADS: usize = 4;
    let body = {
        let image =
            image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let paths: Vec<String> = (0..IMAGES).map(|i| format!("/i{i}.png")).collect();
    let server = serve(
        paths
            .iter()
            .map(|p| (p.as_str(), Route::file(p, body.clone())))
            .collect(),
        Duration::from_millis(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let list: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    fs::write(dir.path().join("urls.txt"), list.join("\n")).unwrap();
    let incoming = dir.path().join("in");
    let (done, most, samples) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let sampler = {
        let (done, most, samples, incoming) = (
            done.clone(),
            most.clone(),
            samples.clone(),
            incoming.clone(),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                // Originals only: not the records folder, not a download still in a temporary.
                let originals = fs::read_dir(&incoming).map_or(0, |entries| {
                    entries
                        .flatten()
                        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                        .count()
                });
                most.fetch_max(originals, Ordering::SeqCst);
                samples.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let go = || {
        let mut c = tm(dir.path());
        c.args([
            "-i",
            "urls.txt",
            "-s",
            "16",
            "--overlap",
            "--discard-downloads",
        ])
        .args(["-d", &THREADS.to_string()]);
        run_json(c)
    };
    let first = go();
    done.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert_eq!(first.json["resize"]["images"], IMAGES);
    let most = most.load(Ordering::SeqCst);
    assert!(
        samples.load(Ordering::SeqCst) > 20,
        "sampled through the run"
    );
    assert!(
        (1..=THREADS).contains(&most),
        "at most {THREADS} originals at once, saw {most}"
    );
    let left: Vec<_> = fs::read_dir(&incoming)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != thumbnail_maker::sidecar::SIDECAR_DIR)
        .collect();
    assert!(left.is_empty(), "every original deleted: {left:?}");
    assert_eq!(crate::util::names(&dir.path().join("out")).len(), IMAGES);

    let again = go();
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(again.json["resize"]["images"], 0);
    assert_eq!(
        server.not_modified(),
        IMAGES,
        "each URL revalidated without a copy"
    );
    assert_eq!(server.bodies_sent(), IMAGES);
}
