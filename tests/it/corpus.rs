//! The hostile and edge-case corpus (../shared/corpus/bad), through the whole pipeline, as local
//! files and over loopback. Its README says what a good tool does with each file; this test reads
//! that column and holds the binary to it. Skipped, saying so, where ../shared is absent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thumbnail_maker::serve::Route;

use crate::util::{files, run_json, serve, tm};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Thumbnails at every width.
    Thumbnails,
    /// A failure entry naming the file.
    Failure,
    /// Either is acceptable; what matters is no crash and a clear outcome.
    Either,
}

fn bad_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/bad");
    if dir.join("README.md").is_file() {
        Some(dir)
    } else {
        println!(
            "skipped: {} is absent (it exists in CI and on dev machines)",
            dir.display()
        );
        None
    }
}

/// (file name, expectation) from the README's table.
fn expectations(dir: &Path) -> Vec<(String, Expect)> {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_string();
            let should = cells[3].to_lowercase();
            let expect = if should.contains(" or ") || should.contains("(or ") {
                Expect::Either
            } else if should.starts_with("decode fine") {
                Expect::Thumbnails
            } else {
                Expect::Failure
            };
            (name, expect)
        })
        .collect()
}

fn check(
    run: &crate::util::Run,
    out: &Path,
    cases: &[(String, Expect)],
    input_of: impl Fn(&str) -> String,
) {
    assert!(
        run.status == 0 || run.status == 1,
        "exit {}: {}",
        run.status,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let failures = run.json["failures"].as_array().unwrap();
    let made: Vec<String> = files(out).into_iter().map(|f| f.0).collect();
    let mut decoded = 0;
    for (name, expect) in cases {
        let input = input_of(name);
        let failed = failures.iter().find(|f| f["input"] == input.as_str());
        let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();
        let thumbs = [32, 64, 200]
            .iter()
            .filter(|w| made.iter().any(|m| m.starts_with(&format!("{stem}_{w}."))))
            .count();
        match (expect, failed) {
            (Expect::Failure, None) => panic!("{name}: expected a clear failure, got thumbnails"),
            (Expect::Thumbnails, Some(f)) => panic!("{name}: expected thumbnails, got {f}"),
            (_, Some(f)) => {
                let error = f["error"].as_str().unwrap();
                assert!(
                    !error.is_empty() && !error.contains('\n'),
                    "{name}: {error:?}"
                );
                assert_eq!(thumbs, 0, "{name} failed but left thumbnails");
            }
            (_, None) => {
                assert_eq!(thumbs, 3, "{name}: not every thumbnail was made");
                decoded += 1;
            }
        }
    }
    println!(
        "{decoded} of {} files decoded, {} refused or failed",
        cases.len(),
        failures.len()
    );
}

#[test]
fn every_bad_file_as_a_local_file_gets_its_expected_outcome() {
    let Some(dir) = bad_corpus() else { return };
    let cases = expectations(&dir);
    assert!(cases.len() >= 60, "the README lists {} files", cases.len());
    let work = tempfile::tempdir().unwrap();
    let mut cmd = tm(work.path());
    cmd.args(cases.iter().map(|(name, _)| dir.join(name)));
    let run = run_json(cmd);
    check(&run, &work.path().join("out"), &cases, |name| {
        dir.join(name).display().to_string()
    });
}

#[test]
fn every_bad_file_served_over_loopback_gets_its_expected_outcome() {
    let Some(dir) = bad_corpus() else { return };
    let cases = expectations(&dir);
    let routes: Vec<(String, Route)> = cases
        .iter()
        .map(|(name, _)| {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            (format!("/bad/{name}"), Route::file(name, bytes))
        })
        .collect();
    let server = serve(routes, Duration::ZERO);
    let work = tempfile::tempdir().unwrap();
    let mut cmd = tm(work.path());
    cmd.args(
        cases
            .iter()
            .map(|(name, _)| server.url(&format!("/bad/{name}"))),
    );
    let run = run_json(cmd);
    check(&run, &work.path().join("out"), &cases, |name| {
        server.url(&format!("/bad/{name}"))
    });
}
