//! Sharding for job arrays: shards of one list, run as separate processes, add up to exactly
//! one unsharded run, and their reports merge into its totals.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use thumbnail_maker::samples::SAMPLES;
use thumbnail_maker::serve::{Route, Server};

use crate::util::{files, merge_equals_single, names, run_json, serve, tm, tm_bare};

/// Sixteen URLs: every sample twice, once under /a/ and once under /b/, so names collide.
fn server_and_list() -> (Server, String) {
    let mut routes = Vec::new();
    let mut paths = Vec::new();
    for dir in ["a", "b"] {
        for s in SAMPLES {
            let path = format!("/{dir}/{}", s.name);
            routes.push((path.clone(), Route::file(s.name, s.bytes)));
            paths.push(path);
        }
    }
    let server = serve(routes, Duration::ZERO);
    let list: String = paths
        .iter()
        .map(|p| format!("{}\n", server.url(p)))
        .collect();
    (server, list)
}

#[test]
fn three_shards_equal_one_run_byte_for_byte_and_their_reports_merge() {
    let (server, list) = server_and_list();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list.txt"), &list).unwrap();

    let mut shard_runs = Vec::new();
    for k in 0..3 {
        let mut cmd = tm_bare(dir.path());
        cmd.args([
            "-i",
            "list.txt",
            "-o",
            "sharded",
            "--incoming",
            "in-sharded",
        ])
        .args([
            "--shard",
            &format!("{k}/3"),
            "--report",
            &format!("r{k}.json"),
        ]);
        let run = run_json(cmd);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.json["shard"]["index"], k);
        shard_runs.push(run);
    }
    for (path, hits) in (0..16).map(|i| {
        let dir = if i < 8 { "a" } else { "b" };
        let path = format!("/{dir}/{}", SAMPLES[i % 8].name);
        let hits = server.hits(&path);
        (path, hits)
    }) {
        assert_eq!(hits, 1, "{path} fetched by exactly one shard");
    }
    let sizes: Vec<u64> = shard_runs
        .iter()
        .map(|r| r.json["resize"]["images"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes.iter().sum::<u64>(), 16);
    assert!(
        sizes.iter().all(|&n| n > 0),
        "every shard got work: {sizes:?}"
    );

    let mut single = tm_bare(dir.path());
    single.args(["-i", "list.txt", "-o", "single", "--incoming", "in-single"]);
    let single = run_json(single);
    assert_eq!(single.status, 0);
    let (sharded, whole) = (
        files(&dir.path().join("sharded")),
        files(&dir.path().join("single")),
    );
    assert_eq!(whole.len(), 48);
    assert!(
        sharded == whole,
        "the shards' union differs from a single run"
    );

    let merged = merge_equals_single(dir.path(), &["r0.json", "r1.json", "r2.json"], &single);
    assert_eq!(
        merged["download"]["amount"],
        single.json["download"]["bytes"]
    );

    // Without shard 1, the merge says which one is missing and exits 1.
    let partial = tm_bare(dir.path())
        .args(["report", "merge", "r0.json", "r2.json"])
        .output()
        .unwrap();
    assert_eq!(partial.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&partial.stdout).contains("shard 1/3: shard failed: no report"));
}

#[test]
fn bad_shards_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["3/3", "1/0", "x", "-1/2", "1/2/3"] {
        let out = tm(dir.path())
            .args([format!("--shard={bad}").as_str(), "x.jpg"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("is not a shard K/N"), "{bad}: {stderr}");
    }
}

#[test]
fn dry_run_lists_the_shard_whatever_the_order_and_touches_nothing() {
    let (server, list) = server_and_list();
    let dir = tempfile::tempdir().unwrap();
    let reversed: String = list.lines().rev().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("list.txt"), &list).unwrap();
    std::fs::write(dir.path().join("reversed.txt"), &reversed).unwrap();
    let plan_of = |file: &str| {
        let out = tm(dir.path())
            .args(["-i", file, "--dry-run", "--shard", "1/3"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let mut lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    let plan = plan_of("list.txt");
    assert!(!plan.is_empty() && plan.len() < 16);
    assert!(
        plan.iter().all(|l| l.starts_with("todo\t1/3\thttp://")),
        "{plan:?}"
    );
    assert_eq!(plan, plan_of("reversed.txt"));
    assert_eq!(server.requests(), 0);
    assert_eq!(names(dir.path()), ["list.txt", "reversed.txt"]);
}

#[test]
fn an_input_list_can_come_from_stdin() {
    let (_server, list) = server_and_list();
    let dir = tempfile::tempdir().unwrap();
    let mut child = tm(dir.path())
        .args(["-i", "-", "--json", "-q", "-s", "32"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["resize"]["thumbnails"], 16);
}
