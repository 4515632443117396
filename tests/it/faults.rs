//! Network faults and hostile names: every fault ends in a clear failure or a correct result,
//! never a hang, and nothing is written outside the folders named on the command line.

use std::path::Path;
use std::time::Duration;

use thumbnail_maker::serve::{Fault, Route};

use crate::util::{dims, files, names, run_json, run_ok, sample, serve, tm};

fn failure_of<'a>(run: &'a crate::util::Run, input: &str) -> &'a serde_json::Value {
    run.json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["input"] == input)
        .unwrap_or_else(|| panic!("no failure for {input}: {}", run.json))
}

/// No temporary file and no partial download anywhere under `dir`.
fn assert_no_temp_files(dir: &Path) {
    for sub in ["in", "out"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries {
                let name = e.unwrap().file_name().into_string().unwrap();
                assert!(!name.starts_with('.'), "temporary file left: {sub}/{name}");
            }
        }
    }
}

#[test]
fn a_server_that_drips_is_cut_off_by_the_request_timeout() {
    let drip = Route::file("d.jpg", sample("wine.jpg"))
        .with_fault(Fault::Drip(Duration::from_millis(200)));
    let server = serve(vec![("/d.jpg", drip)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/d.jpg");
    let mut cmd = tm(dir.path());
    // Each byte arrives well within the read timeout; only the whole-request limit stops it.
    cmd.args([
        "--read-timeout",
        "5",
        "--timeout",
        "2",
        "--retries",
        "0",
        &url,
    ]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    let failure = failure_of(&run, &url);
    assert_eq!(failure["stage"], "download");
    assert!(
        failure["error"].as_str().unwrap().contains("timeout"),
        "{failure}"
    );
    assert!(!dir.path().join("in/d.jpg").exists());
    assert_no_temp_files(dir.path());
}

#[test]
fn an_endless_body_is_cut_at_the_byte_cap() {
    let endless = Route::file("e.jpg", Vec::new()).with_fault(Fault::Endless);
    let server = serve(vec![("/e.jpg", endless)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/e.jpg");
    let mut cmd = tm(dir.path());
    cmd.args(["--max-bytes", "1000000", &url]);
    let run = run_json(cmd);
    let failure = failure_of(&run, &url);
    assert!(failure["error"]
        .as_str()
        .unwrap()
        .contains("larger than the limit of 1000000 bytes"));
    assert_eq!(
        server.hits("/e.jpg"),
        1,
        "a body over the cap is not retried"
    );
    assert!(!dir.path().join("in/e.jpg").exists());
    assert_no_temp_files(dir.path());
}

#[test]
fn a_body_shorter_than_announced_fails_after_its_retries() {
    let bytes = sample("wine.jpg");
    let cut = Route::file("c.jpg", bytes).with_fault(Fault::CutAt(bytes.len() / 2));
    let server = serve(vec![("/c.jpg", cut)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/c.jpg");
    let mut cmd = tm(dir.path());
    cmd.args(["--retries", "2", &url]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    assert_eq!(failure_of(&run, &url)["stage"], "download");
    assert_eq!(server.hits("/c.jpg"), 3, "one attempt and two retries");
    assert!(
        !dir.path().join("in/c.jpg").exists(),
        "no partial file under the final name"
    );
    assert_no_temp_files(dir.path());
}

#[test]
fn a_503_is_retried_and_then_succeeds_while_a_404_is_not_retried() {
    let flaky = Route::file("f.jpg", sample("wine.jpg")).failing_first(1, 503, vec![]);
    let server = serve(vec![("/f.jpg", flaky)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args([server.url("/f.jpg"), server.url("/gone.jpg")]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1, "the 404 fails the run");
    assert_eq!(server.hits("/f.jpg"), 2);
    assert_eq!(server.hits("/gone.jpg"), 1, "a 404 is final");
    assert_eq!(dims(&dir.path().join("out/f_200.jpg")), (200, 299));
}

#[test]
fn retry_after_is_honoured() {
    let limited = Route::file("r.jpg", sample("wine.jpg")).failing_first(
        1,
        429,
        vec![("Retry-After", "1".to_string())],
    );
    let server = serve(vec![("/r.jpg", limited)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.arg(server.url("/r.jpg"));
    let run = run_ok(cmd);
    assert_eq!(server.hits("/r.jpg"), 2);
    // The second attempt waited the second the server asked for.
    assert!(run.json["download"]["seconds"].as_f64().unwrap() >= 1.0);
}

#[test]
fn traversal_names_stay_inside_the_named_folders() {
    let image = sample("seeding.jpg");
    let paths = [
        "/..%2f..%2fescape.jpg",
        "/a/..%2F..%2F..%2Fetc%2Fpasswd.jpg",
        "/%2e%2e%5c%2e%2e%5cwin.jpg",
        "/CON.jpg",
    ];
    let server = serve(
        paths
            .iter()
            .map(|p| (*p, Route::file("x.jpg", image)))
            .collect(),
        Duration::ZERO,
    );
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut cmd = tm(&work);
    cmd.args(paths.iter().map(|p| server.url(p)));
    run_ok(cmd);
    // Only the two named folders exist, beside nothing else, and they hold only plain names.
    assert_eq!(names(root.path()), ["work"]);
    assert_eq!(names(&work), ["in", "out"]);
    assert_eq!(files(&work.join("in")).len(), 4);
    assert_eq!(files(&work.join("out")).len(), 12);
}

#[test]
fn same_basename_from_two_places_keeps_both_and_a_repeated_url_is_fetched_once() {
    let server = serve(
        vec![
            ("/a/x.jpg", Route::file("x.jpg", sample("seeding.jpg"))),
            ("/b/x.jpg", Route::file("x.jpg", sample("wine.jpg"))),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let a = server.url("/a/x.jpg");
    let mut cmd = tm(dir.path());
    cmd.args([&a, &server.url("/b/x.jpg"), &a]);
    run_ok(cmd);
    assert_eq!(server.hits("/a/x.jpg"), 1);
    let out = files(&dir.path().join("out"));
    assert_eq!(out.len(), 6, "two images, three widths each");
    // Different pictures, so the two 200 px thumbnails differ in shape.
    let heights: Vec<_> = out
        .iter()
        .filter(|(n, _)| n.ends_with("_200.jpg"))
        .map(|(n, _)| dims(&dir.path().join("out").join(n)).1)
        .collect();
    assert_eq!(heights.len(), 2);
    assert_ne!(heights[0], heights[1]);
}

#[test]
fn redirects_are_followed_a_few_times_and_only_to_http() {
    let server = serve(
        vec![
            ("/img.jpg", Route::file("img.jpg", sample("wine.jpg"))),
            (
                "/moved.jpg",
                Route::status(302, vec![("Location", "/img.jpg".into())]),
            ),
            (
                "/loop.jpg",
                Route::status(302, vec![("Location", "/loop.jpg".into())]),
            ),
            (
                "/to-file.jpg",
                Route::status(302, vec![("Location", "file:///etc/passwd".into())]),
            ),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let (moved, looping, to_file) = (
        server.url("/moved.jpg"),
        server.url("/loop.jpg"),
        server.url("/to-file.jpg"),
    );
    let mut cmd = tm(dir.path());
    cmd.args(["--retries", "0", &moved, &looping, &to_file]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    assert!(
        dir.path().join("out/moved_200.jpg").is_file(),
        "a plain redirect is followed"
    );
    assert_eq!(failure_of(&run, &looping)["stage"], "download");
    assert!(
        server.hits("/loop.jpg") <= 6,
        "at most 5 redirects: {}",
        server.hits("/loop.jpg")
    );
    assert_eq!(failure_of(&run, &to_file)["stage"], "download");
    assert_eq!(
        files(&dir.path().join("in")).len(),
        1,
        "only the real image was saved"
    );
}
