//! Thumbnails written to a bucket (`-o s3://...`) on a real S3 server (moto's, started here):
//! what lands is checked with a second client (boto3), byte for byte against a local run
//! (issue 12).

use std::path::Path;
use std::process::Command;

use thumbnail_maker::samples::SAMPLES;

use crate::s3::Moto;
use crate::util::{files, fixture, merge_equals_single, run_ok, succeeds, tm_bare, write_samples};

/// Every object under `prefix` of `bucket`, written under `into` by boto3: (name under the
/// prefix, size, Content-Type), sorted.
fn dump(moto: &Moto, bucket: &str, prefix: &str, into: &Path) -> Vec<(String, u64, String)> {
    let _ = std::fs::remove_dir_all(into);
    std::fs::create_dir_all(into).unwrap();
    let out = moto.script(&["dump", bucket, prefix, &into.display().to_string()]);
    let mut objects: Vec<_> = out
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next().unwrap().to_string();
            let size = fields.next().unwrap().parse().unwrap();
            (name, size, fields.next().unwrap().to_string())
        })
        .collect();
    objects.sort();
    objects
}

/// The records among `objects`, and the thumbnails with their Content-Type checked.
fn records_and_thumbnails(objects: &[(String, u64, String)]) -> (Vec<String>, usize) {
    let mut records = Vec::new();
    let mut thumbnails = 0;
    for (name, size, content_type) in objects {
        if let Some(record) = name.strip_prefix(".thumbnail-maker/") {
            assert_eq!(content_type, "application/json", "{name}");
            records.push(record.to_string());
            continue;
        }
        let expected = match name.rsplit('.').next().unwrap() {
            "jpg" => "image/jpeg",
            "png" => "image/png",
            "webp" => "image/webp",
            other => panic!("{name}: unexpected extension {other}"),
        };
        assert_eq!(content_type, expected, "{name}");
        assert!(*size > 0, "{name}");
        thumbnails += 1;
    }
    (records, thumbnails)
}

/// The tool against `moto`, from `s3://photos/` to `out`, its downloads in `incoming`.
fn to(moto: &Moto, dir: &Path, out: &str, incoming: &str, more: &[&str]) -> Command {
    let mut cmd = tm_bare(dir);
    cmd.args(["s3://photos/", "-o", out, "--incoming", incoming])
        .args(more);
    moto.with_env(cmd, None)
}

#[test]
fn thumbnails_land_labelled_equal_a_local_run_and_a_rerun_redoes_only_what_changed() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("src"));
    let src = |name: &str| dir.path().join("src").join(name).display().to_string();
    let png = fixture("png_raw_profile_orientation_3_should_turn_180.png");
    moto.script(&[
        "put",
        "photos",
        &format!("a.jpg={}", src("friends.jpg")),
        &format!("b.jpg={}", src("aitzgorri_rotated.jpg")),
        &format!("c.png={}", png.display()),
    ]);
    moto.script(&["put", "thumbs"]);
    let local = run_ok(to(&moto, dir.path(), "local", "in-local", &[]));
    assert_eq!(local.json["resize"]["thumbnails"], 9);

    // The bucket's root: moto checks signatures there (under a prefix it refuses even boto3's).
    let first = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &[]));
    assert_eq!(first.json["resize"]["thumbnails"], 9);
    let landed_dir = dir.path().join("landed");
    let landed = dump(&moto, "thumbs", "", &landed_dir);
    let (records, thumbnails) = records_and_thumbnails(&landed);
    assert_eq!(thumbnails, 9);
    assert_eq!(files(&landed_dir), files(&dir.path().join("local")));
    for (record, stem) in records.iter().zip(["a", "b", "c"]) {
        assert!(record.starts_with(&format!("{stem}.")), "{records:?}");
        let text = std::fs::read(landed_dir.join(".thumbnail-maker").join(record)).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(
            json["input"],
            format!("s3://photos/{stem}.{}", &record[2..5])
        );
        assert_eq!(json["thumbnails"].as_array().unwrap().len(), 3);
    }
    // Nothing was left in the local work folder.
    let work = dir.path().join("in/.thumbnail-maker/s3-out");
    assert_eq!(std::fs::read_dir(&work).map_or(0, Iterator::count), 0);

    // Unchanged: nothing is made or written again, and no original is asked for: the input
    // listing's ETags and the output listing decide everything.
    let again = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &[]));
    assert_eq!(again.json["resize"]["thumbnails"], 0);
    assert_eq!(again.json["resize"]["skipped"], 3);
    assert_eq!(again.json["download"]["ok"], 0);
    assert_eq!(again.json["download"]["not_modified"], 0);

    // The manifest lists every thumbnail in the bucket, from the records there.
    let manifest = ["--manifest", "m.jsonl"];
    run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &manifest));
    let text = std::fs::read_to_string(dir.path().join("m.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9, "{text}");
    for line in &lines {
        let file = line["file"].as_str().unwrap();
        let object = landed
            .iter()
            .find(|o| o.0 == file)
            .unwrap_or_else(|| panic!("{file}"));
        assert_eq!(line["bytes"], object.1, "{file}");
        let (w, h) = crate::util::dims(&landed_dir.join(file));
        assert_eq!(
            (line["width"].as_u64(), line["height"].as_u64()),
            (Some(w.into()), Some(h.into()))
        );
        assert!(
            line["thumbhash"].as_str().is_some_and(|t| !t.is_empty()),
            "{line}"
        );
    }
    assert_eq!(dump(&moto, "thumbs", "", &landed_dir), landed);

    // A new JPEG quality redoes the JPEGs, not the PNG; their old records are gone.
    let quality = ["--quality", "60"];
    let requality = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &quality));
    assert_eq!(requality.json["resize"]["thumbnails"], 6);
    assert_eq!(requality.json["resize"]["skipped"], 1);
    let after = dump(&moto, "thumbs", "", &landed_dir);
    let (new_records, _) = records_and_thumbnails(&after);
    assert_eq!(new_records.len(), 3, "{new_records:?}");
    assert_eq!(new_records[2], records[2], "the PNG's record stays");
    assert_ne!(new_records[..2], records[..2]);
    let size_of = |objects: &[(String, u64, String)], name: &str| {
        objects.iter().find(|o| o.0 == name).unwrap().1
    };
    assert!(size_of(&after, "a_200.jpg") < size_of(&landed, "a_200.jpg"));

    // A thumbnail deleted by someone else is noticed from the listing: its input is redone.
    moto.script(&["delete", "thumbs", "b_64.jpg"]);
    let plan = succeeds(to(&moto, dir.path(), "s3://thumbs/", "in", &quality).arg("--dry-run"));
    let plan = String::from_utf8(plan.stdout).unwrap();
    assert!(
        plan.lines().any(|l| l.starts_with("stale")
            && l.contains("s3://photos/b.jpg")
            && l.ends_with("file changed or removed")),
        "{plan}"
    );
    let mend = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &quality));
    assert_eq!(mend.json["resize"]["thumbnails"], 3);
    assert_eq!(mend.json["resize"]["skipped"], 2);
    assert_eq!(dump(&moto, "thumbs", "", &landed_dir), after);

    // A new image under an old key has a new ETag: fetched and made again, alone.
    moto.script(&["put", "photos", &format!("a.jpg={}", src("wine.jpg"))]);
    let changed = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &quality));
    assert_eq!(changed.json["download"]["ok"], 1);
    assert_eq!(changed.json["resize"]["thumbnails"], 3);
    assert_eq!(changed.json["resize"]["skipped"], 2);
    assert_ne!(
        size_of(&dump(&moto, "thumbs", "", &landed_dir), "a_200.jpg"),
        size_of(&after, "a_200.jpg")
    );
}

#[test]
fn a_wrong_secret_or_a_missing_bucket_stops_before_anything_is_planned() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("src"));
    moto.script(&["put", "thumbs"]);
    let input = dir.path().join("src/friends.jpg").display().to_string();
    for (out, secret, reason) in [
        (
            "s3://thumbs/",
            Some("wrong"),
            "HTTP 403 (SignatureDoesNotMatch)",
        ),
        ("s3://no-such-bucket/", None, "HTTP 404 (NoSuchBucket)"),
    ] {
        let mut cmd = tm_bare(dir.path());
        cmd.args([&input, "-o", out, "--incoming", "in"]);
        let run = moto.with_env(cmd, secret).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot list the output {out}")) && stderr.contains(reason),
            "{stderr}"
        );
    }
    // A bucket that refuses writes: each input fails naming the object and the store's
    // reason, the others are still tried, and the run exits 1.
    moto.script(&["put", "locked"]);
    let mut cmd = tm_bare(dir.path());
    cmd.args([&input, dir.path().join("src/life.webp").to_str().unwrap()])
        .args(["-o", "s3://locked/", "--incoming", "in", "--json", "-q"]);
    let run = moto.with_env(cmd, None).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{failures:?}");
    let error = failures[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("cannot write s3://locked/friends_32.jpg")
            && error.contains("HTTP 403 (AccessDenied)"),
        "{error}"
    );
}

#[test]
fn four_shards_from_a_bucket_into_a_prefix_equal_one_local_run() {
    // Unauthenticated: moto's signature check fails on a `/` in a listing's prefix.
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("src"));
    let mut put = vec!["put".to_string(), "photos".to_string()];
    for s in SAMPLES {
        put.push(format!(
            "{}={}",
            s.name,
            dir.path().join("src").join(s.name).display()
        ));
    }
    moto.script(&put.iter().map(String::as_str).collect::<Vec<_>>());
    moto.script(&["put", "thumbs", "elsewhere.txt="]);
    let single = run_ok(to(
        &moto,
        dir.path(),
        "local",
        "in-local",
        &["--manifest", "single.jsonl"],
    ));

    let mut fetched = 0;
    for k in 0..4 {
        // Each shard on its own disk, as on its own machine.
        let shard = [
            "--shard".to_string(),
            format!("{k}/4"),
            "--report".to_string(),
            format!("r{k}.json"),
            "--manifest".to_string(),
            format!("m{k}.jsonl"),
        ];
        let shard: Vec<&str> = shard.iter().map(String::as_str).collect();
        let run = run_ok(to(
            &moto,
            dir.path(),
            "s3://thumbs/site/",
            &format!("in{k}"),
            &shard,
        ));
        fetched += run.json["download"]["ok"].as_u64().unwrap();
    }
    assert_eq!(fetched, SAMPLES.len() as u64, "each object is fetched once");

    let landed_dir = dir.path().join("landed");
    let landed = dump(&moto, "thumbs", "site/", &landed_dir);
    let (records, thumbnails) = records_and_thumbnails(&landed);
    assert_eq!(
        (records.len(), thumbnails),
        (SAMPLES.len(), 3 * SAMPLES.len())
    );
    assert_eq!(files(&landed_dir), files(&dir.path().join("local")));
    // Nothing outside the prefix was written, and what was there is left.
    let all = dump(&moto, "thumbs", "", &dir.path().join("all"));
    assert!(all
        .iter()
        .all(|o| o.0.starts_with("site/") || o.0 == "elsewhere.txt"));
    assert_eq!(all.len(), landed.len() + 1);

    let reports = ["r0.json", "r1.json", "r2.json", "r3.json"];
    merge_equals_single(dir.path(), &reports, &single);

    // The shards' manifests, read from the bucket's records, merge into the local run's.
    succeeds(tm_bare(dir.path()).args([
        "report",
        "manifests",
        "m0.jsonl",
        "m1.jsonl",
        "m2.jsonl",
        "m3.jsonl",
        "-o",
        "merged.jsonl",
    ]));
    let sorted = |name: &str| {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted("merged.jsonl").len(), 3 * SAMPLES.len());
    assert_eq!(sorted("merged.jsonl"), sorted("single.jsonl"));
}

#[test]
fn prune_in_a_bucket_removes_what_no_input_produces_and_nothing_else() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_samples(&dir.path().join("src"));
    let src = |name: &str| dir.path().join("src").join(name).display().to_string();
    moto.script(&[
        "put",
        "photos",
        &format!("a.jpg={}", src("friends.jpg")),
        &format!("b.jpg={}", src("wine.jpg")),
    ]);
    // Someone else's object under the same prefix.
    moto.script(&["put", "thumbs", &format!("notes.txt={}", src("wine.jpg"))]);
    let first = run_ok(to(&moto, dir.path(), "s3://thumbs/", "in", &[]));
    assert_eq!(first.json["resize"]["thumbnails"], 6);

    // Another format: the JPEG thumbnails are replaced by PNGs, and the JPEGs go.
    let png = run_ok(to(
        &moto,
        dir.path(),
        "s3://thumbs/",
        "in",
        &["-f", "png", "--prune"],
    ));
    assert_eq!(png.json["resize"]["thumbnails"], 6);
    assert_eq!(png.json["resize"]["pruned"], 6);
    let landed = dump(&moto, "thumbs", "", &dir.path().join("landed"));
    let files: Vec<&str> = landed
        .iter()
        .map(|o| o.0.as_str())
        .filter(|n| !n.starts_with(".thumbnail-maker/"))
        .collect();
    assert_eq!(
        files,
        [
            "a_200.png",
            "a_32.png",
            "a_64.png",
            "b_200.png",
            "b_32.png",
            "b_64.png",
            "notes.txt"
        ]
    );

    // An input no longer listed loses its thumbnails and record; the rest stays.
    let mut cmd = tm_bare(dir.path());
    cmd.args([
        "s3://photos/a.jpg",
        "-o",
        "s3://thumbs/",
        "--incoming",
        "in",
    ])
    .args(["-f", "png", "--prune"]);
    let only_a = run_ok(moto.with_env(cmd, None));
    assert_eq!(only_a.json["resize"]["pruned"], 3);
    let landed = dump(&moto, "thumbs", "", &dir.path().join("landed"));
    let names: Vec<&str> = landed.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.contains("b_") && !n.contains("/b.")),
        "{names:?}"
    );
    assert!(names.contains(&"notes.txt"));
}
