//! Re-runs that notice change: each thumbnail is redone exactly when its recipe (source and
//! options) changed, URLs are revalidated, `--prune` and `--manifest` (issue 13).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use thumbnail_maker::serve::Route;

use crate::util::{dims, names, run_ok, sample, serve, tm};

/// Every thumbnail file in `out` (not the records) and its inode: an atomic rewrite gives a
/// new inode, so comparing two of these tells exactly which files were written again.
fn inodes(out: &Path) -> BTreeMap<String, u64> {
    names(out)
        .into_iter()
        .map(|n| (n.clone(), std::fs::metadata(out.join(&n)).unwrap().ino()))
        .collect()
}

/// The files of `after` that are new or were rewritten since `before`.
fn written(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<String> {
    after
        .iter()
        .filter(|(name, ino)| before.get(*name) != Some(ino))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A small opaque PNG, distinct per `seed`.
fn png(seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([(x * 5) as u8 ^ seed, (y * 7) as u8, seed.wrapping_mul(31)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// `count` distinct PNGs written into `dir` as `p0.png`, `p1.png`...; their names.
fn pngs(dir: &Path, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("p{i}.png");
            std::fs::write(dir.join(&name), png(i as u8)).unwrap();
            name
        })
        .collect()
}

fn run(dir: &Path, args: &[&str]) -> crate::util::Run {
    let mut c = tm(dir);
    c.args(["a.jpg", "b.png"]).args(args);
    run_ok(c)
}

#[test]
fn each_option_changed_alone_redoes_exactly_the_thumbnails_it_affects() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jpg"), sample("friends.jpg")).unwrap();
    std::fs::write(dir.path().join("b.png"), png(1)).unwrap();
    let out = dir.path().join("out");
    let jpgs = ["a_200.jpg", "a_32.jpg", "a_64.jpg"];
    let all = [
        "a_200.jpg",
        "a_32.jpg",
        "a_64.jpg",
        "b_200.png",
        "b_32.png",
        "b_64.png",
    ];
    // (options, thumbnails written, images decoded)
    let cases: Vec<(&[&str], Vec<&str>, u64)> = vec![
        (&[], vec![], 0),
        (&["--quality", "30"], jpgs.to_vec(), 1),
        (&["--progressive"], jpgs.to_vec(), 1),
        (&["--background", "000000"], jpgs.to_vec(), 1),
        (&["--linear"], all.to_vec(), 2),
        (&["--keep-icc"], all.to_vec(), 2),
        (&["--shrink-margin", "3"], all.to_vec(), 2),
        (
            &["--name-template", "{stem}-{size}.{ext}"],
            vec![
                "a-200.jpg",
                "a-32.jpg",
                "a-64.jpg",
                "b-200.png",
                "b-32.png",
                "b-64.png",
            ],
            2,
        ),
        (&["-s", "32,64,200,100"], vec!["a_100.jpg", "b_100.png"], 2),
        (
            &["-f", "webp"],
            vec![
                "a_200.webp",
                "a_32.webp",
                "a_64.webp",
                "b_200.webp",
                "b_32.webp",
                "b_64.webp",
            ],
            2,
        ),
    ];
    run(dir.path(), &[]);
    for (options, expected, decodes) in cases {
        // Back to the baseline first: whatever the last case changed is made again.
        run(dir.path(), &[]);
        let before = inodes(&out);
        let changed = run(dir.path(), options);
        let after = inodes(&out);
        assert_eq!(written(&before, &after), expected, "{options:?}");
        assert_eq!(
            changed.json["resize"]["images"], decodes,
            "{options:?} decodes"
        );
        assert_eq!(
            changed.json["resize"]["thumbnails"],
            expected.len(),
            "{options:?}"
        );
        // And the same options again: nothing.
        let again = run(dir.path(), options);
        assert_eq!(again.json["resize"]["images"], 0, "{options:?} again");
        assert!(
            written(&after, &inodes(&out)).is_empty(),
            "{options:?} again"
        );
    }

    // Crop centre, then entropy, of the same boxes: both images again.
    run(dir.path(), &["-s", "40x40", "--crop"]);
    let before = inodes(&out);
    let entropy = run(dir.path(), &["-s", "40x40", "--crop=entropy"]);
    assert_eq!(
        written(&before, &inodes(&out)),
        ["a_40x40.jpg", "b_40x40.png"]
    );
    assert_eq!(entropy.json["resize"]["images"], 2);

    // The source edited: its thumbnails only.
    run(dir.path(), &[]);
    let before = inodes(&out);
    std::fs::write(dir.path().join("b.png"), png(2)).unwrap();
    let edited = run(dir.path(), &[]);
    assert_eq!(
        written(&before, &inodes(&out)),
        ["b_200.png", "b_32.png", "b_64.png"]
    );
    assert_eq!(edited.json["resize"]["images"], 1);

    // Lost thumbnails: those files, byte for byte as before, although the smaller sizes are
    // resized from the larger ones and a_200.jpg is not written this time.
    let lost = ["a_32.jpg", "a_64.jpg"];
    let bytes = |name: &str| std::fs::read(out.join(name)).unwrap();
    let was: Vec<Vec<u8>> = lost.iter().map(|name| bytes(name)).collect();
    for name in lost {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    let before = inodes(&out);
    let mended = run(dir.path(), &[]);
    assert_eq!(written(&before, &inodes(&out)), lost);
    assert_eq!(mended.json["resize"]["thumbnails"], 2);
    for (name, was) in lost.iter().zip(&was) {
        assert!(bytes(name) == *was, "{name} came out different");
    }
}

#[test]
fn the_dry_run_says_which_option_made_an_input_stale() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jpg"), sample("friends.jpg")).unwrap();
    std::fs::write(dir.path().join("b.png"), png(1)).unwrap();
    std::fs::write(dir.path().join("c.png"), png(3)).unwrap();
    let mut first = tm(dir.path());
    first.args(["a.jpg", "b.png"]);
    run_ok(first);
    let out = tm(dir.path())
        .args(["a.jpg", "b.png", "c.png", "--quality", "30", "--dry-run"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!((lines[0][0], lines[0][5]), ("stale", "quality"), "{text}");
    assert_eq!((lines[1][0], lines[1][5]), ("done", "-"), "{text}");
    assert_eq!((lines[2][0], lines[2][5]), ("todo", "new"), "{text}");
}

#[test]
fn touching_one_source_of_100_redoes_one_input() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = pngs(dir.path(), 100);
    let go = || {
        let mut c = tm(dir.path());
        c.args(&inputs);
        run_ok(c)
    };
    assert_eq!(go().json["resize"]["images"], 100);
    let unchanged = go();
    assert_eq!(unchanged.json["resize"]["images"], 0);
    assert_eq!(unchanged.json["resize"]["skipped"], 100);
    // Touched: a new modification time, the same bytes.
    let touched = dir.path().join("p42.png");
    let file = std::fs::File::options().write(true).open(&touched).unwrap();
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let rerun = go();
    assert_eq!(rerun.json["resize"]["images"], 1);
    assert_eq!(rerun.json["resize"]["skipped"], 99);
    // With --checksum the same bytes are no change (the first --checksum run records them).
    let mut c = tm(dir.path());
    c.args(&inputs).arg("--checksum");
    assert_eq!(run_ok(c).json["resize"]["images"], 100);
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(9))
        .unwrap();
    let mut c = tm(dir.path());
    c.args(&inputs).arg("--checksum");
    assert_eq!(run_ok(c).json["resize"]["images"], 0);
}

#[test]
fn urls_are_revalidated_and_a_changed_image_is_fetched_and_made_again() {
    let server = serve(
        vec![
            ("/a.png", Route::file("a.png", png(1))),
            (
                "/plain.png",
                Route::file("plain.png", png(2)).without_etag(),
            ),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let urls = [server.url("/a.png"), server.url("/plain.png")];
    let go = || {
        let mut c = tm(dir.path());
        c.args(&urls);
        run_ok(c)
    };
    go();
    assert_eq!(server.bodies_sent(), 2);
    // The dry run cannot know without asking the servers: `check`.
    let dry = tm(dir.path())
        .args(&urls)
        .arg("--dry-run")
        .output()
        .unwrap();
    let dry = String::from_utf8(dry.stdout).unwrap();
    let words: Vec<&str> = dry.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(words, ["check", "check"], "{dry}");
    let again = go();
    assert_eq!(again.json["resize"]["images"], 0, "nothing decoded");
    assert_eq!(server.not_modified(), 1, "the ETag'd image: a 304");
    assert_eq!(
        server.sent("/plain.png"),
        2,
        "no validator: sent again, found equal by content"
    );

    // The image changes on the server: one 200, its thumbnails made again.
    server.set_route("/a.png", Route::file("a.png", png(9)));
    let out = dir.path().join("out");
    let before = inodes(&out);
    let changed = go();
    assert_eq!(changed.json["resize"]["images"], 1);
    assert_eq!(server.sent("/a.png"), 2);
    assert_eq!(
        written(&before, &inodes(&out)),
        ["a_200.png", "a_32.png", "a_64.png"]
    );

    // The download gone, the thumbnails current: a conditional request still saves it.
    std::fs::remove_file(dir.path().join("in/a.png")).unwrap();
    let without_copy = go();
    assert_eq!(without_copy.json["resize"]["images"], 0);
    assert_eq!(server.sent("/a.png"), 2, "answered 304");
}

#[test]
fn a_corrupt_truncated_or_future_record_is_reported_and_the_work_redone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.png"), png(1)).unwrap();
    let record = dir.path().join("out/.thumbnail-maker/b.json");
    let go = || {
        let mut c = tm(dir.path());
        c.arg("b.png");
        run_ok(c)
    };
    go();
    let whole = std::fs::read(&record).unwrap();
    let future =
        String::from_utf8(whole.clone())
            .unwrap()
            .replacen("\"version\": 1", "\"version\": 99", 1);
    for (bad, says) in [
        (b"{\"version\": 1, \"inp".to_vec(), "not a valid record"),
        (whole[..whole.len() / 3].to_vec(), "not a valid record"),
        (vec![0xff, 0x00, 0x13], "not a valid record"),
        (future.into_bytes(), "later version"),
    ] {
        std::fs::write(&record, &bad).unwrap();
        let redone = go();
        assert_eq!(redone.json["resize"]["images"], 1, "{says}");
        let warning = redone.json["warnings"][0]["error"].as_str().unwrap();
        assert!(
            warning.contains(says) && warning.contains("b.json"),
            "{warning}"
        );
        assert_eq!(
            go().json["resize"]["images"],
            0,
            "the record is whole again"
        );
    }
}

#[test]
fn prune_removes_what_no_input_produces_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    for (name, seed) in [("a.png", 1), ("b.png", 2)] {
        std::fs::write(dir.path().join(name), png(seed)).unwrap();
    }
    let mut c = tm(dir.path());
    c.args(["a.png", "b.png"]);
    run_ok(c);
    let out = dir.path().join("out");
    // The user's own files, one named like a thumbnail.
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    std::fs::write(out.join("c_32.png"), b"mine too").unwrap();

    // b left the list; a changed format: b's thumbnails and a's PNGs go, a's WebPs stay.
    let mut c = tm(dir.path());
    c.args(["a.png", "-f", "webp", "--prune"]);
    let pruned = run_ok(c);
    assert_eq!(pruned.json["resize"]["pruned"], 6);
    assert_eq!(
        names(&out),
        [
            "a_200.webp",
            "a_32.webp",
            "a_64.webp",
            "c_32.png",
            "notes.txt"
        ]
    );
    assert_eq!(names(&out.join(".thumbnail-maker")), ["a.json"]);

    // A thumbnail the user replaced with a file of their own is theirs: never removed.
    std::fs::write(out.join("a_32.webp"), b"edited by hand").unwrap();
    let mut c = tm(dir.path());
    c.args(["a.png", "--prune"]);
    run_ok(c);
    assert!(out.join("a_32.webp").is_file());
}

#[test]
fn the_manifest_lists_every_thumbnail_with_its_size_bytes_and_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jpg"), sample("friends.jpg")).unwrap();
    std::fs::write(dir.path().join("b.png"), png(1)).unwrap();
    let manifest = |extra: &[&str]| {
        let mut c = tm(dir.path());
        c.args(["a.jpg", "b.png", "--manifest", "m.jsonl", "--blurhash"])
            .args(extra);
        let report = run_ok(c);
        let text = std::fs::read_to_string(dir.path().join("m.jsonl")).unwrap();
        (report, text)
    };
    let (first, text) = manifest(&[]);
    assert_eq!(first.json["resize"]["images"], 2);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let out = dir.path().join("out");
    for line in &lines {
        let file = out.join(line["file"].as_str().unwrap());
        assert_eq!(
            (
                line["width"].as_u64().unwrap() as u32,
                line["height"].as_u64().unwrap() as u32
            ),
            dims(&file)
        );
        assert_eq!(line["bytes"], std::fs::metadata(&file).unwrap().len());
        assert!(line["blurhash"].as_str().unwrap().len() == 28, "{line}");
        assert!(line["average"].as_str().unwrap().starts_with('#'));
    }
    // The PNG's thumbnails are lossless: its ThumbHash is that of the smallest file's pixels.
    let b32 = image::open(out.join("b_32.png")).unwrap().to_rgba8();
    let b_line = lines.iter().find(|l| l["file"] == "b_32.png").unwrap();
    assert_eq!(
        b_line["thumbhash"],
        thumbnail_maker::placeholder::thumbhash(&b32)
    );
    // A re-run with nothing to do writes the same manifest, from the records, decoding nothing.
    let (again, same) = manifest(&[]);
    assert_eq!(again.json["resize"]["images"], 0);
    assert_eq!(same, text);
}

#[test]
fn an_unchanged_rerun_of_many_local_inputs_touches_no_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let list = pngs(dir.path(), 300).join("\n");
    std::fs::write(dir.path().join("list.txt"), list).unwrap();
    let go = || {
        let mut c = tm(dir.path());
        c.args(["-i", "list.txt", "-s", "16"]);
        run_ok(c)
    };
    go();
    let before = inodes(&dir.path().join("out"));
    let again = go();
    assert_eq!(again.json["resize"]["skipped"], 300);
    assert!(written(&before, &inodes(&dir.path().join("out"))).is_empty());
}

#[test]
fn shard_manifests_merge_into_the_manifest_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = pngs(dir.path(), 12);
    let mut whole = crate::util::tm_bare(dir.path());
    whole
        .args(&inputs)
        .args(["-o", "one", "--manifest", "one.jsonl"]);
    run_ok(whole);
    let mut parts = Vec::new();
    for k in 0..3 {
        let manifest = format!("m{k}.jsonl");
        let mut shard = tm(dir.path());
        shard
            .args(&inputs)
            .args(["--shard", &format!("{k}/3"), "--manifest", &manifest]);
        run_ok(shard);
        parts.push(manifest);
    }
    crate::util::succeeds(
        crate::util::tm_bare(dir.path())
            .args(["report", "manifests", "-o", "all.jsonl"])
            .args(&parts),
    );
    let sorted = |name: &str| {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted("all.jsonl").len(), 36);
    assert_eq!(sorted("all.jsonl"), sorted("one.jsonl"));

    // A line cut short is named, and nothing is written.
    let cut = std::fs::read_to_string(dir.path().join("m1.jsonl")).unwrap();
    std::fs::write(dir.path().join("m1.jsonl"), &cut[..cut.len() - 40]).unwrap();
    let refused = crate::util::tm_bare(dir.path())
        .args(["report", "manifests", "-o", "bad.jsonl"])
        .args(&parts)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr.contains("m1.jsonl:") && stderr.contains("is not a manifest line"),
        "{stderr}"
    );
    assert!(!dir.path().join("bad.jsonl").exists());
}

/// Python's own static server sends `Last-Modified` and no `ETag`, and answers
/// `If-Modified-Since` with 304: the other validator, against a server that is not ours.
#[test]
fn a_last_modified_server_is_revalidated_with_if_modified_since() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("a.png"), png(5)).unwrap();
    let Ok(mut server) = std::process::Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(&site)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        eprintln!("skipped: python3 is not on this machine");
        return;
    };
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .split("port ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    let url = format!("http://127.0.0.1:{port}/a.png");
    let go = || {
        let mut c = tm(dir.path());
        c.arg(&url);
        run_ok(c)
    };
    let made = go();
    let again = go();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(made.json["download"]["ok"], 1);
    assert_eq!(
        again.json["download"]["not_modified"], 1,
        "{}",
        again.stderr
    );
    assert_eq!(again.json["download"]["ok"], 0);
    assert_eq!(again.json["resize"]["images"], 0);
    let kept = std::fs::read_to_string(dir.path().join("in/.thumbnail-maker/a.png.json")).unwrap();
    assert!(kept.contains("modified "), "{kept}");
}
