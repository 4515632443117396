//! Helpers shared by the integration tests: the binary, a loopback server, sample files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use thumbnail_maker::samples::SAMPLES;
use thumbnail_maker::serve::{Route, Server};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn sample(name: &str) -> &'static [u8] {
    SAMPLES
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no bundled sample {name}"))
        .bytes
}

/// Starts a loopback server with `routes` (path -> route).
pub fn serve(routes: Vec<(impl Into<String>, Route)>, latency: Duration) -> Server {
    let routes: HashMap<String, Route> = routes
        .into_iter()
        .map(|(path, route)| (path.into(), route))
        .collect();
    Server::start(routes, latency).expect("loopback server")
}

/// The built binary, run in `dir`, with its output folders `out` and `in` inside `dir`.
pub fn tm(dir: &Path) -> Command {
    let mut cmd = tm_bare(dir);
    cmd.args(["-o", "out", "--incoming", "in"]);
    cmd
}

/// The built binary, run in `dir`, with no arguments yet (for subcommands).
pub fn tm_bare(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_thumbnail-maker"));
    cmd.current_dir(dir)
        // The tests' loopback traffic must never go through a proxy from the environment, for
        // people behind one too.
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        // Nor may a developer's log filter or CA bundle change what the tests see.
        .env_remove("RUST_LOG")
        .env_remove("SSL_CERT_FILE");
    cmd
}

pub struct Run {
    pub status: i32,
    pub stderr: String,
    pub json: serde_json::Value,
}

/// Runs with `--json -q` and parses the report.
pub fn run_json(mut cmd: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.args(["--json", "-q"]).output().expect("binary runs");
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    let json = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON report ({e}); stderr: {stderr}"));
    Run {
        status: status.code().expect("exited, not killed"),
        stderr,
        json,
    }
}

/// Runs `cmd` as it is (a subcommand, or output not JSON), asserts it exited 0 (showing its
/// stderr if not), and returns its output.
pub fn succeeds(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs with `--json -q`, asserts the run succeeded (status 0, saying why not), and returns
/// the report.
pub fn run_ok(cmd: Command) -> Run {
    let run = run_json(cmd);
    assert_eq!(run.status, 0, "{}", run.stderr);
    run
}

pub fn dims(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of everything in `dir` (files and folders), sorted; not the records folder.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != thumbnail_maker::sidecar::SIDECAR_DIR)
        .collect();
    names.sort();
    names
}

/// Every file in `dir`, sorted, with its bytes; not the records folder (`.thumbnail-maker`),
/// which the tests of re-runs read on their own.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != thumbnail_maker::sidecar::SIDECAR_DIR)
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The bundled samples written as local files into `dir`.
pub fn write_samples(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for s in SAMPLES {
        std::fs::write(dir.join(s.name), s.bytes).unwrap();
    }
}

/// `report merge FILES --json` in `dir`, checked against one unsharded run's report: every
/// shard there, the same images and thumbnails. Returns the merged report.
pub fn merge_equals_single(dir: &Path, reports: &[&str], single: &Run) -> serde_json::Value {
    let merged = succeeds(
        tm_bare(dir)
            .args(["report", "merge"])
            .args(reports)
            .arg("--json"),
    );
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["shards"]["missing"], serde_json::json!([]));
    assert_eq!(merged["resize"]["ok"], single.json["resize"]["images"]);
    assert_eq!(
        merged["resize"]["amount"],
        single.json["resize"]["thumbnails"]
    );
    merged
}
