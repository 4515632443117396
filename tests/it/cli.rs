//! End-to-end behaviour of the binary, as a user sees it: files made, sizes, reports, exit codes.

use std::time::Duration;

use thumbnail_maker::serve::Route;

use crate::util::{
    dims, files, fixture, run_json, run_ok, sample, serve, tm, tm_bare, write_samples,
};

#[test]
fn download_pool_never_has_more_requests_in_flight_than_threads() {
    let image = sample("seeding.jpg");
    let paths: Vec<String> = (0..12).map(|i| format!("/img{i}.jpg")).collect();
    let server = serve(
        paths
            .iter()
            .map(|p| (p.as_str(), Route::file(p, image)))
            .collect(),
        Duration::from_millis(300),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args(["-d", "4"])
        .args(paths.iter().map(|p| server.url(p)));
    let run = run_json(cmd);

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(server.peak_in_flight(), 4);
    assert_eq!(server.requests(), 12);
    assert_eq!(run.json["download"]["ok"], 12);
    assert_eq!(run.json["download"]["threads"], 4);
    // 12 URLs through 4 workers is three waves of 300 ms at the least.
    let seconds = run.json["download"]["seconds"].as_f64().unwrap();
    assert!(seconds >= 0.9, "download phase took {seconds} s");
    assert_eq!(run.json["resize"]["thumbnails"], 36);
    for i in 0..12 {
        assert!(dir.path().join(format!("in/img{i}.jpg")).is_file());
        assert_eq!(
            dims(&dir.path().join(format!("out/img{i}_200.jpg"))),
            (200, 112)
        );
    }
}

#[test]
fn one_download_thread_means_one_request_at_a_time() {
    let image = sample("seeding.jpg");
    let paths = ["/a.jpg", "/b.jpg", "/c.jpg", "/d.jpg"];
    let server = serve(
        paths.iter().map(|p| (*p, Route::file(p, image))).collect(),
        Duration::from_millis(300),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args(["-d", "1"])
        .args(paths.iter().map(|p| server.url(p)));
    let run = run_ok(cmd);
    assert_eq!(server.peak_in_flight(), 1);
    assert!(run.json["download"]["seconds"].as_f64().unwrap() >= 1.2);
}

#[test]
fn thumbnails_have_exact_sizes_for_jpeg_png_and_exif_rotated_jpeg() {
    let rotated = std::fs::read(fixture("exif_orientation_6_should_be_32x48.jpg")).unwrap();
    let server = serve(
        vec![
            ("/p.jpg", Route::file("p.jpg", sample("picosdeeuropa.jpg"))),
            ("/q.png", Route::file("q.png", sample("picture0b.png"))),
            (
                "/r.jpg",
                Route::file("r.jpg", sample("aitzgorri_rotated.jpg")),
            ),
            ("/s.jpg", Route::file("s.jpg", rotated)),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args(["/p.jpg", "/q.png", "/r.jpg", "/s.jpg"].map(|p| server.url(p)));
    run_ok(cmd);

    let out = dir.path().join("out");
    let expected = [
        // 1600x1200 JPEG
        ("p_32.jpg", (32, 24)),
        ("p_64.jpg", (64, 48)),
        ("p_200.jpg", (200, 150)),
        // 1000x677 PNG: heights round down
        ("q_32.png", (32, 21)),
        ("q_64.png", (64, 43)),
        ("q_200.png", (200, 135)),
        // stored 1065x1600 with Orientation=6: upright it is 1600x1065
        ("r_32.jpg", (32, 21)),
        ("r_64.jpg", (64, 42)),
        ("r_200.jpg", (200, 133)),
        // stored 48x32 with Orientation=6: upright it is 32x48
        ("s_32.jpg", (32, 48)),
        ("s_64.jpg", (64, 96)),
        ("s_200.jpg", (200, 300)),
    ];
    for (name, size) in expected {
        assert_eq!(dims(&out.join(name)), size, "{name}");
    }
    assert_eq!(files(&out).len(), expected.len(), "no other files");

    // The fixture's corners, upright: top-left blue, top-right red.
    let s = image::open(out.join("s_32.jpg")).unwrap().to_rgb8();
    let (tl, tr) = (s.get_pixel(1, 1).0, s.get_pixel(30, 1).0);
    assert!(tl[2] > 180 && tl[0] < 80, "top-left should be blue: {tl:?}");
    assert!(tr[0] > 180 && tr[2] < 80, "top-right should be red: {tr:?}");
}

#[test]
fn failures_name_their_input_and_the_rest_still_finish() {
    let corrupt = std::fs::read(fixture("truncated_should_fail.png")).unwrap();
    let server = serve(
        vec![
            ("/good.jpg", Route::file("good.jpg", sample("wine.jpg"))),
            (
                "/page.jpg",
                Route::ok(
                    "text/html",
                    &b"<!DOCTYPE html><html><body>Sorry</body></html>"[..],
                ),
            ),
            ("/corrupt.png", Route::file("corrupt.png", corrupt)),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = server.url("/missing.jpg");
    let page = server.url("/page.jpg");
    let corrupt_url = server.url("/corrupt.png");
    let mut cmd = tm(dir.path());
    cmd.arg(server.url("/good.jpg"))
        .arg(&missing)
        .arg(&page)
        .arg(&corrupt_url);
    let run = run_json(cmd);

    assert_eq!(run.status, 1, "some items failed: {}", run.stderr);
    let failures = run.json["failures"].as_array().unwrap();
    let find = |input: &str| {
        failures
            .iter()
            .find(|f| f["input"] == input)
            .unwrap_or_else(|| panic!("no failure for {input} in {failures:?}"))
    };
    assert_eq!(failures.len(), 3);
    assert_eq!(find(&missing)["stage"], "download");
    assert!(find(&missing)["error"].as_str().unwrap().contains("404"));
    assert_eq!(find(&page)["stage"], "decode");
    assert!(find(&page)["error"].as_str().unwrap().contains("HTML page"));
    assert_eq!(find(&corrupt_url)["stage"], "decode");
    // One line per failure on stderr, even with -q, naming the input.
    for url in [&missing, &page, &corrupt_url] {
        assert_eq!(
            run.stderr
                .lines()
                .filter(|l| l.contains(url.as_str()))
                .count(),
            1
        );
    }
    let out = dir.path().join("out");
    for w in [32, 64, 200] {
        assert!(out.join(format!("good_{w}.jpg")).is_file());
    }
    assert_eq!(files(&out).len(), 3);
}

#[test]
fn sequential_and_parallel_runs_write_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("photos"));
    let mut parallel = tm_bare(dir.path());
    parallel.args(["photos", "-o", "par", "-t", "2"]);
    let mut sequential = tm_bare(dir.path());
    sequential.args(["photos", "-o", "seq", "--sequential"]);
    let (par, seq) = (run_json(parallel), run_json(sequential));
    assert_eq!(
        (par.status, seq.status),
        (0, 0),
        "{} {}",
        par.stderr,
        seq.stderr
    );
    assert_eq!(seq.json["resize"]["threads"], 1);
    assert_eq!(seq.json["sequential"], true);
    assert_eq!(par.json["resize"]["thumbnails"], 24);
    let (par, seq) = (
        files(&dir.path().join("par")),
        files(&dir.path().join("seq")),
    );
    assert_eq!(par.len(), 24);
    assert!(par == seq, "sequential and parallel outputs differ");
}

#[test]
fn input_list_skips_blanks_and_comments_and_reads_folders() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("photos"));
    // A stray temporary file from an earlier run is not an input.
    std::fs::write(dir.path().join("photos/.thumbnail-maker-x.part"), b"junk").unwrap();
    std::fs::write(
        dir.path().join("list.txt"),
        "# my photos\n\nphotos/wine.jpg\n   \nphotos/life.webp\n",
    )
    .unwrap();
    let mut cmd = tm(dir.path());
    cmd.args(["-i", "list.txt", "-s", "100"]);
    run_ok(cmd);
    let names: Vec<_> = files(&dir.path().join("out"))
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(names, ["life_100.webp", "wine_100.jpg"]);
    assert_eq!(dims(&dir.path().join("out/wine_100.jpg")), (100, 149));
    assert!(
        !dir.path().join("in").exists(),
        "local files are not copied to incoming"
    );
}

#[test]
fn format_flag_changes_the_output_format_and_extension() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("photos"));
    let mut cmd = tm(dir.path());
    cmd.args([
        "photos/wine.jpg",
        "photos/picture0b.png",
        "-f",
        "webp",
        "-s",
        "64",
    ]);
    run_ok(cmd);
    let out = dir.path().join("out");
    for name in ["wine_64.webp", "picture0b_64.webp"] {
        let bytes = std::fs::read(out.join(name)).unwrap();
        assert_eq!(
            image::guess_format(&bytes).unwrap(),
            image::ImageFormat::WebP,
            "{name}"
        );
    }
    assert_eq!(dims(&out.join("wine_64.webp")), (64, 95));
}

#[test]
fn local_files_are_never_deleted_or_modified() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("photos"));
    let before = files(&dir.path().join("photos"));
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg("photos");
        c
    });
    assert_eq!(run.status, 0);
    assert_eq!(files(&dir.path().join("photos")), before);
}

#[test]
fn missing_local_file_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("photos"));
    let mut cmd = tm(dir.path());
    cmd.args(["photos/wine.jpg", "photos/nope.jpg"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    assert_eq!(run.json["failures"][0]["input"], "photos/nope.jpg");
    assert_eq!(run.json["failures"][0]["stage"], "input");
    assert!(dir.path().join("out/wine_200.jpg").is_file());
}

#[test]
fn demo_downloads_and_resizes_every_bundled_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm_bare(dir.path());
    cmd.args(["demo", "-o", "out", "--incoming", "in"])
        // A proxy in the user's environment must not capture the demo's loopback traffic.
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9");
    let run = run_ok(cmd);
    assert_eq!(run.json["download"]["ok"], 8);
    assert_eq!(run.json["resize"]["thumbnails"], 24);
    assert_eq!(files(&dir.path().join("in")).len(), 8);
    assert_eq!(files(&dir.path().join("out")).len(), 24);
}

#[test]
fn bad_usage_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 12] = [
        (&["--no-such-flag", "x.jpg"], "--no-such-flag"),
        (&["--sizes", "0", "x.jpg"], "out of range"),
        (&["--sizes", "abc", "x.jpg"], "'abc' is not a size"),
        (&["--crop", "x.jpg"], "--crop fills a box"),
        (&["--crop=sideways", "-s", "9x9", "x.jpg"], "sideways"),
        (
            &["--name-template", "{stem}.{ext}", "x.jpg"],
            "gives every size the same name",
        ),
        (
            &["--name-template", "../{stem}_{size}.{ext}", "x.jpg"],
            "inside the output folder",
        ),
        (
            &["--name-template", "{stem}_{px}.{ext}", "x.jpg"],
            "unknown field {px}",
        ),
        (
            &["-f", "avif", "--keep-icc", "x.jpg"],
            "AVIF thumbnails cannot carry a profile",
        ),
        (&["--download-threads", "0", "x.jpg"], "download-threads"),
        (&["--quality", "101", "x.jpg"], "quality"),
        (&[], "no inputs"),
    ];
    for (args, message) in cases {
        let out = tm(dir.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        // One format, whoever found the error (clap or the tool's own checks): clap's.
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.ends_with("\n\nFor more information, try '--help'.\n"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        !dir.path().join("out").exists(),
        "a usage error writes nothing"
    );
    // A subcommand's error shows that subcommand's usage.
    let out = tm_bare(dir.path())
        .args(["bench", "--plot", "chart.gif"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: --plot chart.gif: name the chart .svg or .png\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\nUsage: thumbnail-maker bench [OPTIONS]"),
        "{stderr}"
    );
}

#[test]
fn overlap_resizes_while_downloads_go_on_and_writes_the_same_files() {
    let paths = ["/a.jpg", "/b.jpg", "/c.jpg", "/d.jpg"];
    let server = serve(
        paths
            .iter()
            .map(|p| (*p, Route::file(p, sample("wine.jpg"))))
            .collect(),
        Duration::from_millis(300),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut overlapped = tm_bare(dir.path());
    overlapped
        .args([
            "--overlap",
            "-d",
            "1",
            "-o",
            "ov",
            "--incoming",
            "in-ov",
            "--log-file",
            "log.txt",
        ])
        .args(paths.iter().map(|p| server.url(p)));
    let run = run_json(overlapped);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.json["overlapped"], true);
    let log = std::fs::read_to_string(dir.path().join("log.txt")).unwrap();
    let first_resize = log.find("resized ").expect("resize lines in the log");
    let last_fetch = log.rfind("fetched ").expect("fetch lines in the log");
    assert!(
        first_resize < last_fetch,
        "nothing was resized before the downloads ended:\n{log}"
    );

    let mut in_turn = tm_bare(dir.path());
    in_turn
        .args(["-d", "4", "-o", "turn", "--incoming", "in-turn"])
        .args(paths.iter().map(|p| server.url(p)));
    assert_eq!(run_json(in_turn).status, 0);
    let (a, b) = (
        files(&dir.path().join("ov")),
        files(&dir.path().join("turn")),
    );
    assert_eq!(a.len(), 12);
    assert!(a == b, "overlapped and in-turn outputs differ");
}

#[test]
fn decoding_from_a_file_and_from_memory_make_the_same_thumbnails() {
    use thumbnail_maker::resize::Thumbnailer;
    use thumbnail_maker::{make_thumbnails, make_thumbnails_from_file, ThumbnailSpec};
    let dir = tempfile::tempdir().unwrap();
    write_samples(dir.path());
    let spec = ThumbnailSpec::default();
    for s in thumbnail_maker::samples::SAMPLES {
        let mut t = Thumbnailer::default();
        let from_memory = make_thumbnails(s.bytes, &spec, &mut t).unwrap();
        let from_file = make_thumbnails_from_file(&dir.path().join(s.name), &spec, &mut t).unwrap();
        assert_eq!(
            from_memory.source_pixels, from_file.source_pixels,
            "{}",
            s.name
        );
        for (a, b) in from_memory.thumbnails.iter().zip(&from_file.thumbnails) {
            assert!(a.bytes == b.bytes, "{} at {} px differs", s.name, a.size);
        }
    }
}

#[test]
fn the_log_file_is_appended_to_and_reports_carry_their_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("samples"));
    for _ in 0..2 {
        let mut cmd = tm(dir.path());
        cmd.args([
            "samples/wine.jpg",
            "missing.jpg",
            "-v",
            "--log-file",
            "run.log",
        ]);
        let run = run_json(cmd);
        assert_eq!(run.status, 1);
        assert_eq!(run.json["version"], 1);
    }
    let log = std::fs::read_to_string(dir.path().join("run.log")).unwrap();
    assert_eq!(
        log.matches("--- thumbnail-maker ").count(),
        2,
        "one header per run, the first run's lines kept:\n{log}"
    );
    assert_eq!(log.matches("missing.jpg: input failed").count(), 2, "{log}");
    let merged = tm_bare(dir.path())
        .args(["report", "merge", "--json"])
        .arg(fixture("report-16f2dd8-shard-2of3.json"))
        .output()
        .unwrap();
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["version"], 1);
}

#[test]
fn sizes_and_durations_take_units_and_j_sets_the_resize_threads() {
    let server = serve(
        vec![("/a.jpg", Route::file("a.jpg", sample("wine.jpg")))],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.arg(server.url("/a.jpg")).args([
        "--max-bytes",
        "1KiB",
        "--timeout",
        "2m",
        "--retries",
        "0",
    ]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("limit of 1024 bytes"), "{error}");

    let mut cmd = tm(dir.path());
    cmd.arg(server.url("/a.jpg")).args([
        "--max-bytes",
        "10MB",
        "--connect-timeout",
        "1m",
        "-j",
        "1",
    ]);
    let run = run_ok(cmd);
    assert_eq!(run.json["resize"]["threads"], 1);

    let refused = tm(dir.path())
        .arg(server.url("/a.jpg"))
        .args(["--read-timeout", "2d"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("outside 1 s to 1 day"));
}

#[test]
fn headers_and_the_user_agent_are_sent_and_credentials_stay_with_their_host() {
    // Two servers: two origins. The first redirects to the second.
    let other = serve(
        vec![("/b.jpg", Route::file("b.jpg", sample("wine.jpg")))],
        Duration::ZERO,
    );
    let first = serve(
        vec![
            ("/a.jpg", Route::file("a.jpg", sample("seeding.jpg"))),
            (
                "/moved.jpg",
                Route::status(302, vec![("Location", other.url("/b.jpg"))]),
            ),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args([first.url("/a.jpg"), first.url("/moved.jpg")])
        .args(["-H", "X-Gallery: 42", "-H", "Authorization: Bearer s3cret"])
        .args(["--user-agent", "gallery-bot/2"]);
    run_ok(cmd);
    let sent = first.request_headers("/a.jpg");
    for expected in [
        "x-gallery: 42",
        "authorization: bearer s3cret",
        "user-agent: gallery-bot/2",
    ] {
        assert!(
            sent.iter().any(|h| h.eq_ignore_ascii_case(expected)),
            "{expected} not in {sent:?}"
        );
    }
    let redirected = other.request_headers("/b.jpg");
    assert!(redirected
        .iter()
        .any(|h| h.eq_ignore_ascii_case("x-gallery: 42")));
    assert!(
        !redirected
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("authorization")),
        "credentials followed a redirect to another host: {redirected:?}"
    );

    let mut plain = tm(dir.path());
    plain.arg(first.url("/a.jpg")).arg("--force");
    run_ok(plain);
    let sent = first.request_headers("/a.jpg");
    let agent = format!("user-agent: thumbnail-maker/{}", env!("CARGO_PKG_VERSION"));
    assert!(
        sent.iter().any(|h| h.to_ascii_lowercase() == agent),
        "{sent:?}"
    );

    let bad = tm(dir.path())
        .args([&first.url("/a.jpg"), "-H", "no colon here"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'Name: value'"));
}

#[test]
fn a_mistyped_subcommand_is_named_and_a_run_with_nothing_usable_creates_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let typo = tm_bare(dir.path()).arg("benchh").output().unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean the subcommand `bench`?"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
    let mut missing = tm(dir.path());
    missing.args(["missing.jpg", "gone/photo.png"]);
    let run = run_json(missing);
    assert_eq!(run.status, 1);
    assert_eq!(run.json["failures"].as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no outgoing or incoming folder for a run that could write nothing"
    );
}

#[test]
fn bash_completes_options_from_the_generated_script_and_the_man_page_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
source <("$TM" --generate complete-bash)
function=$(complete -p thumbnail-maker | sed 's/.*-F \([^ ]*\).*/\1/')
COMP_WORDS=(thumbnail-maker --sh); COMP_CWORD=1
COMP_LINE="thumbnail-maker --sh"; COMP_POINT=${#COMP_LINE}
"$function" thumbnail-maker --sh thumbnail-maker
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("TM", env!("CARGO_BIN_EXE_thumbnail-maker"))
        .current_dir(dir.path())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut offered: Vec<&str> = stdout.lines().collect();
    offered.sort_unstable();
    assert_eq!(
        offered,
        ["--shard", "--shrink-margin"],
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (kind, says) in [
        ("complete-zsh", "#compdef thumbnail-maker"),
        ("complete-fish", "complete -c thumbnail-maker"),
        ("man", ".TH thumbnail-maker 1"),
    ] {
        let out = tm_bare(dir.path())
            .args(["--generate", kind])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{kind}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(says),
            "{kind}: {}",
            &text[..text.len().min(200)]
        );
        assert!(
            text.contains("shrink-margin") || text.contains("shrink\\-margin"),
            "{kind}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no folder made"
    );
}

#[test]
fn help_is_grouped_and_the_long_help_says_more() {
    let dir = tempfile::tempdir().unwrap();
    let help = |flag: &str| {
        let out = tm_bare(dir.path()).arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (short, long) = (help("-h"), help("--help"));
    for heading in [
        "Input:",
        "Output:",
        "Image:",
        "Speed:",
        "Network:",
        "Resume and shards:",
        "Reporting:",
    ] {
        assert!(short.lines().any(|l| l == heading), "-h lacks {heading}");
        assert!(long.lines().any(|l| l == heading), "--help lacks {heading}");
    }
    let network = short.split("Network:").nth(1).unwrap();
    let network = network.split("\n\n").next().unwrap();
    assert!(network.contains("--timeout") && network.contains("--header"));
    assert!(!short.contains("Every shard reads the same list"));
    assert!(long.contains("Every shard reads the same list"));
}

#[test]
fn off_a_terminal_progress_comes_as_plain_lines_during_the_run() {
    // 12 downloads of 300 ms on one thread: 3.6 s, longer than the 3 s between lines.
    let paths: Vec<String> = (0..12).map(|i| format!("/p{i}.jpg")).collect();
    let server = serve(
        paths
            .iter()
            .map(|p| (p.as_str(), Route::file(p, sample("wine.jpg"))))
            .collect(),
        Duration::from_millis(300),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = tm(dir.path())
        .args(["-d", "1"])
        .args(paths.iter().map(|p| server.url(p)))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let during: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("download ") && l.contains("/s, ETA "))
        .collect();
    assert!(!during.is_empty(), "no line while downloading:\n{stderr}");
    assert!(during[0].contains("/12 ("), "{}", during[0]);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("download 12/12 done in ")),
        "{stderr}"
    );

    let quiet = tm(dir.path())
        .args(["-q", "--force", "-d", "4"])
        .args(paths.iter().map(|p| server.url(p)))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&quiet.stderr),
        "",
        "-q prints no progress"
    );
}

#[test]
fn vv_and_rust_log_show_the_http_library_records_and_v_alone_does_not() {
    let server = serve(
        vec![("/a.jpg", Route::file("/a.jpg", sample("wine.jpg")))],
        Duration::ZERO,
    );
    let url = server.url("/a.jpg");
    let stderr_of = |args: &[&str], rust_log: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = tm(dir.path());
        cmd.arg(&url).args(["-s", "32"]).args(args);
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let request = "DEBUG ureq::run: GET http://127.0.0.1:";
    let v = stderr_of(&["-v"], None);
    assert!(
        v.contains("resize phase finished") && !v.contains(request),
        "{v}"
    );
    let vv = stderr_of(&["-vv"], None);
    assert!(
        vv.contains(request) && vv.contains("s download-0] DEBUG ureq"),
        "{vv}"
    );
    assert!(!vv.contains("TRACE "), "{vv}");
    assert!(stderr_of(&["-vvv"], None).contains("TRACE "));
    // RUST_LOG chooses instead of -v, in env_logger's syntax; our own -v lines stay off.
    let ureq_only = stderr_of(&[], Some("ureq=debug"));
    assert!(ureq_only.contains(request), "{ureq_only}");
    assert!(!ureq_only.contains("phase finished"), "{ureq_only}");
    assert!(!stderr_of(&["-vv"], Some("rustls=debug")).contains(request));
}
