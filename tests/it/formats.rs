//! Every input format users have: TIFF in its compressions, depths and layouts, BMP and ICO
//! (fixtures from `scripts/make-tiff-fixtures.py`: one 64x48 picture of four coloured
//! quadrants each), and the formats we recognise but do not read, named in the error.

use std::path::Path;

use crate::util::{fixture, names, run_json, sample, tm};

/// The picture's quadrants: top left, top right, bottom left, bottom right.
const QUADRANTS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 40], [20, 40, 210], [250, 250, 250]];

/// Pillow's grey of each quadrant (`convert("L")`: 299 R + 587 G + 114 B, / 1000).
fn grey(rgb: [u8; 3]) -> u8 {
    ((299 * u32::from(rgb[0]) + 587 * u32::from(rgb[1]) + 114 * u32::from(rgb[2]) + 500) / 1000)
        as u8
}

/// The colour at the middle of each quadrant of a thumbnail.
fn quadrants(path: &Path) -> ([u32; 2], [[u8; 3]; 4]) {
    let image = image::open(path).unwrap().to_rgb8();
    let (w, h) = image.dimensions();
    let at = |x: u32, y: u32| image.get_pixel(x, y).0;
    (
        [w, h],
        [
            at(w / 4, h / 4),
            at(3 * w / 4, h / 4),
            at(w / 4, 3 * h / 4),
            at(3 * w / 4, 3 * h / 4),
        ],
    )
}

/// What a fixture's quadrant should become, from the source colour.
type Expected = dyn Fn([u8; 3]) -> [u8; 3];

fn near(got: [u8; 3], want: [u8; 3], tolerance: u8) -> bool {
    got.iter()
        .zip(want)
        .all(|(&g, w)| g.abs_diff(w) <= tolerance)
}

#[test]
fn tiff_bmp_and_ico_in_every_common_variant_become_upright_thumbnails() {
    let dir = tempfile::tempdir().unwrap();
    // The folder is an input: its .tif, .bmp and .ico files are picked up.
    let folder = fixture("tiff");
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg(&folder).args(["-s", "32", "-f", "png"]);
        c
    });
    let out = dir.path().join("out");
    let colour = |q: [u8; 3]| q;
    let luma = |q: [u8; 3]| [grey(q); 3];
    let bilevel = |q: [u8; 3]| [if grey(q) > 128 { 255 } else { 0 }; 3];
    let palette_2bit = |q: [u8; 3]| q.map(|v| (u16::from(v) * 3 / 255 * 85) as u8);
    let cases: [(&str, &Expected, u8); 17] = [
        ("rgb-raw", &colour, 2),
        ("rgb-tiff_lzw", &colour, 2),
        ("rgb-tiff_adobe_deflate", &colour, 2),
        ("rgb-packbits", &colour, 2),
        ("rgb-jpeg", &colour, 16),
        ("rgb-tiled-deflate", &colour, 2),
        ("rgba-lzw", &colour, 2),
        ("cmyk-lzw", &colour, 3),
        ("palette-8bit", &colour, 2),
        ("palette-2bit", &palette_2bit, 2),
        ("grey16", &luma, 2),
        ("bilevel-g4", &bilevel, 2),
        ("orientation-6", &colour, 2),
        ("two-pages", &colour, 2),
        ("quadrants", &colour, 2),
        ("icon-png", &colour, 2),
        ("icon-bmp", &colour, 2),
    ];
    for (stem, expect, tolerance) in cases {
        let (size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        // 64x48 (the icons 48x36; orientation-6 is stored 48x64 and turned upright) at 32 wide.
        assert_eq!(size, [32, 24], "{stem}");
        for (g, q) in got.iter().zip(QUADRANTS) {
            assert!(near(*g, expect(q), tolerance), "{stem}: {got:?}");
        }
    }
    // Group 3 fax is the one variant here the decoder lacks: named, and the rest still made.
    assert_eq!(run.status, 1, "{}", run.stderr);
    let failures = run.json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let error = failures[0]["error"].as_str().unwrap();
    assert!(failures[0]["input"]
        .as_str()
        .unwrap()
        .ends_with("bilevel-g3.tif"));
    assert!(
        error.contains("not supported") && error.contains("Fax3"),
        "{error}"
    );
    assert_eq!(names(&out).len(), 18);
    // CMYK inks through the file's profile, as lcms2 (Pillow's ImageCms, relative intent,
    // falling back to the profile's only, perceptual, table) converts them; the naive formula
    // image uses would give (255, 25, 25), (55, 255, 25), (25, 75, 255).
    let (_, got) = quadrants(&out.join("cmyk-profile_32.png"));
    let lcms2 = [[255, 87, 87], [0, 255, 65], [38, 147, 255], [255, 255, 255]];
    for (g, want) in got.iter().zip(lcms2) {
        assert!(near(*g, want, 3), "cmyk-profile: {got:?}");
    }
}

#[test]
fn formats_we_recognise_but_do_not_read_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A JPEG whose frame header says lossless (SOF3): libjpeg-turbo's message was
    // "Unsupported JPEG process: SOF type 0xc3".
    let mut lossless = sample("wine.jpg").to_vec();
    let sof = lossless
        .windows(2)
        .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0..=0xC2))
        .unwrap();
    lossless[sof + 1] = 0xC3;
    let mut files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("lossless.jpg", lossless, "lossless JPEG (SOF3)"),
        (
            "a.jp2",
            b"\0\0\0\x0cjP  \r\n\x87\n\0\0\0\x14ftypjp2 ".to_vec(),
            "JPEG 2000",
        ),
        (
            "a.heic",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            "HEIF/HEIC",
        ),
        (
            "a.psd",
            b"8BPS\0\x01\0\0\0\0\0\0".to_vec(),
            "Photoshop (PSD)",
        ),
        ("a.jxr", b"II\xbc\x01\x08\0\0\0".to_vec(), "JPEG XR"),
    ];
    // Without the `jxl` feature, JPEG XL is named too (with it, these headers are read and
    // fail as the broken files they are).
    if !cfg!(feature = "jxl") {
        files.push(("a.jxl", b"\0\0\0\x0cJXL \r\n\x87\n".to_vec(), "JPEG XL"));
        files.push(("b.jxl", b"\xff\x0a\xfa\x7f".to_vec(), "JPEG XL"));
    }
    for (name, bytes, _) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let run = run_json({
        let mut c = tm(dir.path());
        c.args(files.iter().map(|(name, _, _)| *name));
        c
    });
    assert_eq!(run.status, 1);
    let failures = run.json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), files.len());
    for (failure, (name, _, says)) in failures.iter().zip(&files) {
        assert_eq!(failure["input"], *name);
        let error = failure["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("{says} images are not supported")),
            "{name}: {error}"
        );
    }
}

#[test]
#[cfg(feature = "jxl")]
fn jpeg_xl_lossless_and_lossy_become_thumbnails_with_the_feature() {
    // cjxl 0.7 (Debian's libjxl-tools) from the quadrants picture: `-d 0` (lossless, 62 bytes)
    // and `-d 1` (lossy, XYB, 467 bytes).
    let dir = tempfile::tempdir().unwrap();
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg(fixture("jxl")).args(["-s", "32"]);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    for (stem, tolerance) in [("quad-lossless", 2), ("quad-lossy", 6)] {
        let (size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        assert_eq!(size, [32, 24], "{stem}");
        for (g, q) in got.iter().zip(QUADRANTS) {
            assert!(near(*g, q, tolerance), "{stem}: {got:?}");
        }
    }
}
