//! A careless or hostile command line: no input destroyed, no panic on an option, the right
//! port or an error, no password printed, one line per failure, JSON on every exit path.
//! Each test is named after the rule it holds; the numbers are the items of issue 17.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use thumbnail_maker::serve::Route;

use crate::util::{
    files, fixture, names, run_json, run_ok, sample, serve, tm, tm_bare, write_samples,
};

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and expects a usage error (status 2) whose message contains `says`, with nothing made.
fn assert_usage_error(dir: &Path, args: &[&str], says: &str) {
    let output = tm(dir).args(args).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(says),
        "{args:?} should say {says:?}: {stderr}"
    );
    // One line says what is wrong; clap's usage line and --help hint follow, as for every
    // usage error.
    let first = stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("error: ") && first.contains(says),
        "the first line says it: {stderr}"
    );
    assert!(stderr.ends_with("try '--help'.\n"), "{stderr}");
    assert!(
        !dir.join("out").exists(),
        "{args:?} created the output folder"
    );
}

#[test]
fn item_1_a_log_or_report_that_is_an_input_is_refused_before_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("photo.jpg"), sample("wine.jpg")).unwrap();
    std::fs::write(d.join("urls.txt"), "photo.jpg\n").unwrap();
    assert_usage_error(d, &["photo.jpg", "--log-file", "photo.jpg"], "is an input");
    assert_usage_error(d, &["photo.jpg", "--report", "./photo.jpg"], "is an input");
    assert_usage_error(
        d,
        &["-i", "urls.txt", "--log-file", "urls.txt"],
        "input list",
    );
    std::fs::write(d.join("second.jpg"), sample("wine.jpg")).unwrap();
    std::fs::write(d.join("urls.txt"), "photo.jpg\nsecond.jpg\n").unwrap();
    assert_usage_error(
        d,
        &["-i", "urls.txt", "--report", "second.jpg"],
        "listed as an input",
    );
    assert_usage_error(
        d,
        &["photo.jpg", "--report", "out/r.json"],
        "inside the output",
    );
    assert_usage_error(
        d,
        &["photo.jpg", "--log-file", "in/log"],
        "inside the output or incoming",
    );
    assert_usage_error(
        d,
        &["photo.jpg", "--log-file", "x.log", "--report", "x.log"],
        "already writes",
    );
    assert_eq!(
        std::fs::read(d.join("photo.jpg")).unwrap(),
        sample("wine.jpg")
    );
    assert_eq!(
        std::fs::read(d.join("second.jpg")).unwrap(),
        sample("wine.jpg")
    );
    assert_eq!(
        std::fs::read_to_string(d.join("urls.txt")).unwrap(),
        "photo.jpg\nsecond.jpg\n"
    );
    // A report beside the photos of a folder input is no image: re-running with it is fine.
    std::fs::create_dir(d.join("photos")).unwrap();
    std::fs::write(d.join("photos/a.jpg"), sample("wine.jpg")).unwrap();
    for _ in 0..2 {
        let run = tm(d)
            .args(["photos", "--report", "photos/report.json"])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", stderr_of(&run));
    }
}

#[test]
fn item_2_incoming_and_output_folders_must_not_meet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("wine.jpg"), sample("wine.jpg")).unwrap();
    for (out, incoming) in [("x", "x"), ("x", "x/downloads"), ("x/thumbs", "./x")] {
        let output = tm_bare(d)
            .args(["wine.jpg", "-o", out, "--incoming", incoming])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{out} {incoming}");
        assert!(stderr_of(&output).contains("must be separate folders"));
        assert!(!d.join("x").exists());
    }
}

#[test]
fn item_3_an_output_folder_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_samples(&d.join("photos"));
    let before = files(&d.join("photos"));
    for args in [
        ["photos", "-o", "photos"],
        ["photos", "-o", "./photos/"],
        ["photos/wine.jpg", "-o", "photos"],
    ] {
        let output = tm_bare(d).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr_of(&output).contains("inside the output folder"));
    }
    // Listed inputs inside the output folder fail alone; the others are done.
    std::fs::write(d.join("list.txt"), "photos/wine.jpg\nphotos/seeding.jpg\n").unwrap();
    let mut cmd = tm_bare(d);
    cmd.args(["-i", "list.txt", "-o", "photos", "--incoming", "in"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    assert_eq!(run.json["failures"].as_array().unwrap().len(), 2);
    assert_eq!(
        files(&d.join("photos")),
        before,
        "nothing written among the inputs"
    );
}

#[test]
fn item_4_names_are_cut_by_bytes_and_a_failed_image_leaves_no_partial_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = format!("{}.jpg", "\u{1F600}".repeat(60));
    std::fs::write(d.join(&long), sample("wine.jpg")).unwrap();
    let run = run_json({
        let mut cmd = tm(d);
        cmd.arg(&long);
        cmd
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let made = names(&d.join("out"));
    assert_eq!(made.len(), 3, "{made:?}");
    assert!(made
        .iter()
        .all(|n| n.len() <= 255 && n.starts_with('\u{1F600}')));

    // Sizes 64 and 64x64 (cropped) are different pictures named alike by {width}: the image
    // fails, and the 64 px thumbnail written first is taken back.
    let output = tm_bare(d)
        .args([
            "-s",
            "64,64x64",
            "--crop",
            "--name-template",
            "{stem}_{width}.{ext}",
        ])
        .arg(d.join(&long))
        .args(["-o", "out2", "--incoming", "in"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("the same file name"));
    assert_eq!(names(&d.join("out2")), Vec::<String>::new());
}

#[test]
fn item_5_templates_that_look_like_temporary_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jpg"), sample("wine.jpg")).unwrap();
    let output = tm(d)
        .args([
            "a.jpg",
            "--name-template",
            ".thumbnail-maker-x_1_{stem}_{size}.{ext}.part",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("hidden names"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn item_6_bad_ports_and_hosts_are_input_errors_not_port_80() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        ("http://127.0.0.1:99999/x.jpg", "port 99999"),
        ("http://127.0.0.1:65536/x.jpg", "port 65536"),
        ("http://", "no host"),
        ("http:/127.0.0.1/x.jpg", "followed by // and a host"),
        (
            "data:image/png;base64,iVBORw0KGgo=",
            "unsupported URL scheme data",
        ),
    ];
    let mut cmd = tm(dir.path());
    cmd.args(inputs.map(|(url, _)| url));
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    let failures = run.json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), inputs.len());
    for (url, says) in inputs {
        let f = failures.iter().find(|f| f["input"] == url).unwrap();
        assert_eq!(f["stage"], "input", "{url}");
        assert!(f["error"].as_str().unwrap().contains(says), "{url}: {f}");
    }
    assert_eq!(
        run.json["download"]["ok"].as_u64().unwrap()
            + run.json["download"]["failed"].as_u64().unwrap(),
        0
    );
}

#[test]
fn item_7_passwords_in_urls_are_never_printed_or_stored() {
    let server = serve(
        vec![("/a.jpg", Route::file("a.jpg", sample("wine.jpg")))],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let with_password = |path: &str| server.url(path).replace("http://", "http://alice:s3cret@");
    let (good, missing) = (with_password("/a.jpg"), with_password("/missing.jpg"));
    let output = tm(d)
        .args([&good, &missing, "-v", "--json", "--retries", "0"])
        .args(["--log-file", "run.log", "--report", "report.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        d.join("out/a_200.jpg").is_file(),
        "the password is still sent"
    );
    let everything = [
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr_of(&output),
        std::fs::read_to_string(d.join("run.log")).unwrap(),
        std::fs::read_to_string(d.join("report.json")).unwrap(),
    ];
    for (i, text) in everything.iter().enumerate() {
        assert!(
            !text.contains("s3cret"),
            "output {i} shows the password: {text}"
        );
    }
    assert!(everything[3].contains("http://alice:***@127.0.0.1"));
    assert!(everything[1].contains("alice:***@"), "{}", everything[1]);
}

#[test]
fn item_8_a_redirect_to_another_scheme_fails_without_a_request() {
    let server = serve(
        vec![(
            "/to-file.jpg",
            Route::status(302, vec![("Location", "file:///etc/passwd".into())]),
        )],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("/to-file.jpg");
    let mut cmd = tm(dir.path());
    cmd.args([&url, "--retries", "0"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("unsupported URL scheme file"), "{error}");
    assert_eq!(
        server.hits("/file:///etc/passwd"),
        0,
        "no request for the path"
    );
    assert_eq!(server.requests(), 1);
}

#[test]
fn item_9_durations_are_bounded_when_parsed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jpg"), sample("wine.jpg")).unwrap();
    for args in [
        ["--timeout", "9223372036854775808"],
        ["--connect-timeout", "18446744073709551615"],
        ["--read-timeout", "0"],
        ["--timeout", "0"],
    ] {
        let output = tm(dir.path()).arg("a.jpg").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!dir.path().join("out").exists());
    }
}

#[test]
fn item_10_lists_with_a_bom_crlf_utf16_or_one_bad_line_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_samples(&d.join("p"));
    let mut utf8 = b"\xEF\xBB\xBFp/wine.jpg\r\n".to_vec();
    utf8.extend_from_slice(b"p/\xFF\xFEbad.jpg\r\np/seeding.jpg\r\n");
    std::fs::write(d.join("list.txt"), utf8).unwrap();
    let mut cmd = tm(d);
    cmd.args(["-i", "list.txt"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(run.json["resize"]["images"], 2);
    assert_eq!(run.json["failures"][0]["input"], "list.txt:2");
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("line 2") && error.contains("UTF-8"),
        "{error}"
    );

    let text = "p/friends.jpg\r\np/wine.jpg\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(d.join("list16.txt"), utf16).unwrap();
    let mut cmd = tm_bare(d);
    cmd.args(["-i", "list16.txt", "-o", "out16"]);
    let run = run_ok(cmd);
    assert_eq!(run.json["resize"]["images"], 2);
}

#[test]
fn item_11_a_hostile_file_name_is_one_escaped_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = "bad\nthumbnail-maker: forged line\x1b[31m.jpg";
    std::fs::write(d.join(name), b"not an image at all").unwrap();
    let output = tm(d).arg(name).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(!stderr.contains('\x1b'));
    assert!(
        stderr.contains("bad\\nthumbnail-maker: forged line\\x1b[31m.jpg"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains('\x1b') && stdout.contains("\\x1b"),
        "{stdout}"
    );
}

#[test]
fn item_12_messages_say_what_is_wrong_and_fifos_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jpg"), sample("wine.jpg")).unwrap();
    std::fs::write(d.join("file"), b"x").unwrap();
    for (out, incoming, says) in [
        ("file", "in", "--out-dir file"),
        ("out", "file", "--incoming file"),
    ] {
        let output = tm_bare(d)
            .args(["a.jpg", "-o", out, "--incoming", incoming])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!("{says}: is a file, not a folder")),
            "{stderr}"
        );
    }
    let mut cmd = tm(d);
    cmd.args(["/dev/zero"]);
    let run = run_json(cmd);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("not a regular file (a device)"), "{error}");
    let fifo = d.join("pipe.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the FIFO case: mkfifo is not available");
        return;
    }
    let mut cmd = tm(d);
    cmd.args(["pipe.jpg", "a.jpg"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    assert_eq!(run.json["resize"]["images"], 1);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("not a regular file (a FIFO)"), "{error}");
}

#[test]
fn item_13_report_and_plot_paths_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jpg"), sample("wine.jpg")).unwrap();
    assert_usage_error(d, &["a.jpg", "--report", "nodir/x.json"], "does not exist");
    let started = std::time::Instant::now();
    let output = tm_bare(d)
        .args(["bench", "--plot", "nodir/x.svg", "--latency", "0", "-q"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("does not exist"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "refused before the sweep"
    );
}

#[test]
fn item_14_an_unwritable_output_folder_stops_the_run_early() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photos = d.join("p");
    std::fs::create_dir(&photos).unwrap();
    for i in 0..40 {
        std::fs::write(photos.join(format!("{i:02}.jpg")), sample("seeding.jpg")).unwrap();
    }
    // Every thumbnail goes into out/32/, and out/32 is a file: every write fails alike (a
    // read-only folder would not, for root).
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::write(d.join("out/32"), b"in the way").unwrap();
    let mut cmd = tm(d);
    cmd.args([
        "p",
        "-s",
        "32",
        "-t",
        "1",
        "--name-template",
        "{size}/{stem}.{ext}",
    ]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    let failed = run.json["failures"].as_array().unwrap().len();
    assert!(
        (10..40).contains(&failed),
        "stopped after a streak, not at the end: {failed}"
    );
    let stopped = run.json["resize"]["stopped"].as_str().unwrap();
    assert!(stopped.contains("could not be written"), "{stopped}");
}

#[test]
fn item_15_every_exit_path_with_json_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let json_of = |args: &[&str]| {
        let output = tm(d).args(args).arg("--json").output().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {:?}", output.stdout));
        (output.status.code().unwrap(), value)
    };
    let (status, v) = json_of(&["--quality", "0", "a.jpg"]);
    assert_eq!(
        (status, &v["status"], &v["error"]["kind"]),
        (2, &2.into(), &"usage".into())
    );
    let (status, v) = json_of(&["a.jpg", "--crop"]);
    assert_eq!(status, 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("--crop"));
    let (status, v) = json_of(&[]);
    assert_eq!((status, &v["error"]["kind"]), (2, &"usage".into()));

    std::fs::write(d.join("a.jpg"), sample("wine.jpg")).unwrap();
    let (status, v) = json_of(&["a.jpg", "missing.jpg", "--dry-run"]);
    assert_eq!(
        status, 1,
        "an unusable input makes the dry run exit 1, as the run would"
    );
    assert_eq!(
        (v["inputs"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["items"][0]["status"], "todo");
    assert_eq!(v["items"][0]["thumbnails"].as_array().unwrap().len(), 3);
    assert_eq!(v["items"][1]["status"], "error");
    let (status, _) = json_of(&["a.jpg", "--dry-run"]);
    assert_eq!(status, 0, "all usable: 0");
}

#[test]
fn item_16_duplicate_shards_empty_thumbnails_and_empty_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jpg"), sample("wine.jpg")).unwrap();
    let output = tm(d)
        .args(["a.jpg", "--report", "r.json", "-q"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let merged = tm_bare(d)
        .args(["report", "merge", "r.json", "r.json"])
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(2));
    assert!(stderr_of(&merged).contains("both reports of shard 0"));

    // Empty files under the thumbnails' names are not a finished input.
    for size in [32, 64, 200] {
        std::fs::write(d.join(format!("out/a_{size}.jpg")), b"").unwrap();
    }
    let mut cmd = tm(d);
    cmd.arg("a.jpg");
    let run = run_json(cmd);
    assert_eq!((run.status, &run.json["resize"]["images"]), (0, &1.into()));
    assert!(std::fs::metadata(d.join("out/a_200.jpg")).unwrap().len() > 0);

    std::fs::write(d.join("empty.txt"), "# nothing yet\n\n").unwrap();
    std::fs::create_dir(d.join("nothing")).unwrap();
    for args in [&["-i", "empty.txt"][..], &["nothing"][..]] {
        let output = tm_bare(d).args(args).args(["-o", "o2"]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr_of(&output).contains("no inputs"));
        assert!(!d.join("o2").exists());
    }
}

#[test]
fn an_image_too_big_for_the_memory_left_fails_alone_instead_of_aborting_the_run() {
    // A 74-byte PNG declaring 65536x65536 RGB (a 12.9 GB buffer), allowed by a raised
    // --max-pixels, under a 4 GB address-space limit: the allocation failed and Rust aborted
    // the process (SIGABRT, exit 134, no report, the other image never made).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("png-declares-65536x65536-rgb.png"),
        dir.path().join("big.png"),
    )
    .unwrap();
    std::fs::write(dir.path().join("wine.jpg"), sample("wine.jpg")).unwrap();
    let out = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(r#"ulimit -v 4000000 && exec "$0" big.png wine.jpg --max-pixels 5000000000 -o out --json -q"#)
        .arg(env!("CARGO_BIN_EXE_thumbnail-maker"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["input"], "big.png");
    let error = failures[0]["error"].as_str().unwrap();
    assert!(
        error.contains("of memory to decode") && error.contains("address-space limit (ulimit -v)"),
        "{error}"
    );
    assert_eq!(report["resize"]["images"], 1, "the other image is made");
    assert_eq!(names(&dir.path().join("out")).len(), 3);
}
