//! `bench` end to end with tiny settings: tables printed, every export written and consistent.
//! What it measures is not checked here (timings are for benchmarks, not tests).

use crate::util::{names, succeeds, tm_bare};

#[test]
fn bench_sweeps_both_phases_and_writes_every_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = succeeds(
        tm_bare(dir.path())
            .args([
                "bench",
                "--latency",
                "5",
                "--copies",
                "1",
                "-d",
                "1,2",
                "-t",
                "1,2",
            ])
            .args(["--runs", "1", "--compare", "-s", "32"])
            .args(["--export-json", "b.json", "--export-csv", "b.csv"])
            .args(["--export-markdown", "b.md", "--plot", "b.svg"]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("download: 8 URLs, 5 ms latency"),
        "{stdout}"
    );
    assert!(stdout.contains("resize: 8 images"), "{stdout}");
    assert!(stdout.contains("sequential against parallel"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    let download = &json["tables"][0];
    assert_eq!(download["phase"], "download");
    let threads: Vec<_> = download["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["threads"].clone())
        .collect();
    assert_eq!(threads, [1, 2]);
    assert_eq!(download["rows"][0]["speedup"], 1.0);
    assert!(download["rows"][1]["ideal_s"].as_f64().unwrap() > 0.0);
    assert_eq!(json["compare"].as_array().unwrap().len(), 2);

    let csv = std::fs::read_to_string(dir.path().join("b.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 2 + 2,
        "header, two download rows, two resize rows"
    );
    let md = std::fs::read_to_string(dir.path().join("b.md")).unwrap();
    assert!(md.contains("| threads | median s |"));
    let svg = std::fs::read_to_string(dir.path().join("b.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
    // Nothing but the exports is written where it runs (its scratch folder is a temporary one).
    assert_eq!(names(dir.path()), ["b.csv", "b.json", "b.md", "b.svg"]);
}

#[test]
#[cfg(feature = "plot-png")]
fn bench_draws_png_charts_with_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    succeeds(
        tm_bare(dir.path())
            .args([
                "bench",
                "--latency",
                "0",
                "--copies",
                "1",
                "-d",
                "1,2",
                "-t",
                "1",
            ])
            .args(["--runs", "1", "-s", "32", "--plot", "chart.png"]),
    );
    let png = std::fs::read(dir.path().join("chart.png")).unwrap();
    assert_eq!(image::guess_format(&png).unwrap(), image::ImageFormat::Png);
}

#[test]
#[cfg(not(feature = "plot-png"))]
fn bench_names_the_feature_a_png_chart_needs_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = tm_bare(dir.path())
        .args(["bench", "--plot", "chart.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features plot-png"), "{stderr}");
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn bench_refuses_other_chart_names_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = tm_bare(dir.path())
        .args(["bench", "--plot", "chart.gif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name the chart .svg or .png"));
}
