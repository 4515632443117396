//! What files a run makes: size syntax, crops, name templates with folders, AVIF on request.

use crate::pixels::p3_png;
use crate::util::{dims, names, succeeds, tm, tm_bare};

#[test]
fn sizes_crops_and_name_templates_make_exactly_the_files_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    // 1600x1200 landscape and 1065x1600 portrait samples.
    for name in ["picosdeeuropa.jpg", "friends.jpg"] {
        std::fs::write(dir.path().join(name), crate::util::sample(name)).unwrap();
    }
    let status = tm(dir.path())
        .args([
            "picosdeeuropa.jpg",
            "friends.jpg",
            "-q",
            "-s",
            "200,x150,100x100",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("out");
    let expect = [
        ("picosdeeuropa_200.jpg", (200, 150)),
        ("picosdeeuropa_x150.jpg", (200, 150)),
        ("picosdeeuropa_100x100.jpg", (100, 75)),
        ("friends_200.jpg", (200, 300)),
        ("friends_x150.jpg", (99, 150)),
        ("friends_100x100.jpg", (66, 100)),
    ];
    for (name, size) in expect {
        assert_eq!(dims(&out.join(name)), size, "{name}");
    }
    assert_eq!(names(&out).len(), 6);

    for (crop, folder) in [("--crop", "centre"), ("--crop=entropy", "entropy")] {
        let status = tm_bare(dir.path())
            .args([
                "picosdeeuropa.jpg",
                "friends.jpg",
                "-q",
                "-s",
                "100x100,64x32",
                crop,
                "-o",
                folder,
            ])
            .args(["-f", "webp", "--name-template"])
            .arg("{size}/{stem}-{width}x{height}.{ext}")
            .status()
            .unwrap();
        assert!(status.success(), "{crop}");
        let out = dir.path().join(folder);
        assert_eq!(
            names(&out),
            ["100x100", "64x32"],
            "only the folders the template names"
        );
        for stem in ["picosdeeuropa", "friends"] {
            assert_eq!(
                dims(&out.join(format!("100x100/{stem}-100x100.webp"))),
                (100, 100),
                "{crop}"
            );
            assert_eq!(
                dims(&out.join(format!("64x32/{stem}-64x32.webp"))),
                (64, 32),
                "{crop}"
            );
        }
    }
}

#[test]
#[cfg(not(feature = "avif"))]
fn avif_output_names_the_feature_it_needs_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p3.png"), p3_png().0).unwrap();
    let out = tm(dir.path())
        .args(["p3.png", "-f", "avif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features avif"), "{stderr}");
    assert_eq!(names(dir.path()), ["p3.png"]);
}

#[test]
#[cfg(feature = "avif")]
fn avif_output_is_written_on_request_in_srgb() {
    let (bytes, _) = p3_png();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p3.png"), &bytes).unwrap();
    let status = tm(dir.path())
        .args([
            "p3.png",
            "-s",
            "32,20",
            "-q",
            "-f",
            "avif",
            "--keep-metadata",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("out");
    assert_eq!(names(&out), ["p3_20.avif", "p3_32.avif"]);
    for name in names(&out) {
        let file = std::fs::read(out.join(&name)).unwrap();
        assert_eq!(&file[4..12], b"ftypavif", "{name}");
        // No ICC box: the pixels were converted to sRGB instead ("colr" with "prof" would
        // carry a profile).
        assert!(!file.windows(8).any(|w| w == b"colrprof"), "{name}");
    }
}

#[test]
fn sizes_that_share_a_name_are_written_once_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let name = "picosdeeuropa.jpg"; // 1600x1200
    std::fs::write(dir.path().join(name), crate::util::sample(name)).unwrap();
    // 200 and 200x150 are the same 200x150 thumbnail: one file.
    succeeds(tm(dir.path()).args([
        name,
        "-q",
        "-s",
        "200,200x150",
        "--name-template",
        "{stem}_{width}.{ext}",
    ]));
    assert_eq!(names(&dir.path().join("out")), ["picosdeeuropa_200.jpg"]);
    // 200 and a 200x100 crop are both 200 wide but not the same pixels: an error, not a loss.
    let out = tm_bare(dir.path())
        .args([name, "-q", "-o", "clash", "-s", "200,200x100", "--crop"])
        .args(["--name-template", "{stem}_{width}.{ext}"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gives sizes 200 and 200x100 the same file name picosdeeuropa_200.jpg"),
        "{stderr}"
    );
}
