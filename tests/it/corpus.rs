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

/// The corpus's orientation and colour cases, with the values its README and Pillow give.
#[test]
fn corpus_orientation_and_cmyk_files_match_pillow() {
    use thumbnail_maker::output::OutputFormat;
    use thumbnail_maker::resize::{Size, Thumbnailer};
    use thumbnail_maker::{make_thumbnails, ThumbnailSpec};

    let Some(dir) = bad_corpus() else { return };
    let thumbnail = |name: &str, width: u32| {
        let spec = ThumbnailSpec {
            sizes: vec![Size::width(width)],
            format: Some(OutputFormat::Png),
            ..ThumbnailSpec::default()
        };
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let made = make_thumbnails(&bytes, &spec, &mut Thumbnailer::default()).unwrap();
        image::load_from_memory(&made.thumbnails[0].bytes)
            .unwrap()
            .to_rgb8()
    };
    let nearest = |p: [u8; 3]| {
        let named = [
            ("red", [255, 0, 0]),
            ("green", [0, 255, 0]),
            ("blue", [0, 0, 255]),
            ("black", [0, 0, 0]),
        ];
        let distance = |c: [u8; 3]| {
            c.iter()
                .zip(p)
                .map(|(a, b)| i32::from(a.abs_diff(b)).pow(2))
                .sum::<i32>()
        };
        named.iter().min_by_key(|(_, c)| distance(*c)).unwrap().0
    };
    // Top-left and top-right after orientation, from the README (checked with Pillow).
    let corners = [
        ("red", "green"),
        ("green", "red"),
        ("black", "blue"),
        ("blue", "black"),
        ("red", "blue"),
        ("blue", "red"),
        ("black", "green"),
        ("green", "black"),
    ];
    for (n, (tl, tr)) in (1..=8).zip(corners) {
        let width = if n >= 5 { 32 } else { 48 };
        let out = thumbnail(&format!("exif_orientation_{n}.jpg"), width);
        assert_eq!(
            out.dimensions(),
            if n >= 5 { (32, 48) } else { (48, 32) },
            "orientation {n}"
        );
        let got = (
            nearest(out.get_pixel(2, 2).0),
            nearest(out.get_pixel(width - 3, 2).0),
        );
        assert_eq!(got, (tl, tr), "orientation {n}");
    }
    // Pillow reads orientation 3 from the WebP's prefixed chunk and the PNG's raw profile
    // (both hopper.png upside down): the first row of the upright image is the stored last.
    for (name, stored) in [
        ("pillow_exif_orientation_3.webp", "hopper"),
        ("pillow_exif_orientation.png", "hopper"),
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let stored_image = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let out = thumbnail(name, stored_image.width());
        let (w, h) = out.dimensions();
        let flipped = image::imageops::rotate180(&stored_image);
        let diff = |a: &image::RgbImage, b: &image::RgbImage| -> f64 {
            a.as_raw()
                .iter()
                .zip(b.as_raw())
                .map(|(&x, &y)| f64::from(x.abs_diff(y)))
                .sum::<f64>()
                / (w * h * 3) as f64
        };
        let (turned, unturned) = (diff(&out, &flipped), diff(&out, &stored_image));
        assert!(
            turned < 4.0 && unturned > 8.0,
            "{name} ({stored}) not turned 180: {turned:.1} / {unturned:.1}"
        );
    }
    // Pillow's mean colour of the Adobe CMYK sample is (30, 5, 7).
    let cmyk = thumbnail("pillow_cmyk.jpg", 100);
    let n = f64::from(cmyk.width() * cmyk.height());
    let mean: Vec<f64> = (0..3)
        .map(|c| cmyk.pixels().map(|p| f64::from(p[c])).sum::<f64>() / n)
        .collect();
    for (got, want) in mean.iter().zip([30.0, 5.0, 7.0]) {
        assert!(
            (got - want).abs() <= 2.0,
            "CMYK mean {mean:?}, Pillow (30, 5, 7)"
        );
    }
}
