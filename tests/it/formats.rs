//! Every input format users have: TIFF in its compressions, depths and layouts, BMP and ICO
//! (fixtures from `scripts/make-tiff-fixtures.py`: one 64x48 picture of four coloured
//! quadrants each), and the formats we recognise but do not read, named in the error.

use std::path::{Path, PathBuf};

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

/// Thumbnails of every image in the fixture folder `folder`, made with `args`; the run must
/// succeed. The temporary folder (the files go with it) and the output folder in it.
fn thumbnails_of(folder: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg(fixture(folder)).args(args);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    (dir, out)
}

#[test]
fn tiff_bmp_and_ico_in_every_common_variant_become_upright_thumbnails() {
    // The folder is an input: its .tif, .bmp and .ico files are picked up.
    let (_dir, out) = thumbnails_of("tiff", &["-s", "32", "-f", "png"]);
    let colour = |q: [u8; 3]| q;
    let luma = |q: [u8; 3]| [grey(q); 3];
    let bilevel = |q: [u8; 3]| [if grey(q) > 128 { 255 } else { 0 }; 3];
    let palette_2bit = |q: [u8; 3]| q.map(|v| (u16::from(v) * 3 / 255 * 85) as u8);
    let cases: [(&str, &Expected, u8); 21] = [
        ("rgb-raw", &colour, 2),
        ("rgb-tiff_lzw", &colour, 2),
        ("rgb-tiff_adobe_deflate", &colour, 2),
        ("rgb-packbits", &colour, 2),
        ("rgb-jpeg", &colour, 16),
        ("rgb-tiled-deflate", &colour, 2),
        ("rgb-tiled-lzw", &colour, 2),
        ("rgba-lzw", &colour, 2),
        ("cmyk-lzw", &colour, 3),
        ("palette-8bit", &colour, 2),
        ("palette-2bit", &palette_2bit, 2),
        ("grey16", &luma, 2),
        ("bilevel-g4", &bilevel, 2),
        ("bilevel-g3", &bilevel, 2),
        ("bilevel-g3-lsb-strips", &bilevel, 2),
        ("orientation-6", &colour, 2),
        // Old-style JPEG: its JPEG decoded as any, then the TIFF's Orientation 6 applied.
        ("old-jpeg-orientation-6", &colour, 6),
        ("two-pages", &colour, 2),
        ("quadrants", &colour, 2),
        ("icon-png", &colour, 2),
        ("icon-bmp", &colour, 2),
    ];
    for (stem, expect, tolerance) in cases {
        let (size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        // 64x48 (the icons 48x36; the orientation-6 ones are stored 48x64 and turned upright)
        // at 32 wide.
        assert_eq!(size, [32, 24], "{stem}");
        for (g, q) in got.iter().zip(QUADRANTS) {
            assert!(near(*g, expect(q), tolerance), "{stem}: {got:?}");
        }
    }
    assert_eq!(names(&out).len(), 23);
    // CMYK inks through the file's profile, as lcms2 (Pillow's ImageCms, perceptual intent,
    // black point compensation) converts them; the naive formula image uses would give
    // (255, 25, 25), (55, 255, 25), (25, 75, 255).
    // The same inks at 16 bits a sample (ImageMagick's copy) go through the profile too;
    // before, `image` took them and applied the naive formula.
    for stem in ["cmyk-profile", "cmyk16-profile"] {
        let (_, got) = quadrants(&out.join(format!("{stem}_32.png")));
        let lcms2 = [[255, 85, 85], [0, 255, 63], [37, 147, 255], [255, 255, 255]];
        for (g, want) in got.iter().zip(lcms2) {
            assert!(near(*g, want, 3), "{stem}: {got:?}");
        }
    }
}

#[test]
fn lab_tiffs_become_srgb_relative_to_their_white() {
    // tests/fixtures/lab (make-tiff-fixtures.py): the quadrants as CIE L*a*b* relative to D50,
    // worked out by the script (Bradford from D65), in 16-bit CIELab with no WhitePoint tag
    // (D50 is libtiff's default) and in 8-bit ICCLab (a*, b* offset by 128, rounded to whole
    // units); and ImageMagick's 8-bit CIELab with a D65 WhitePoint. Pillow reads neither of
    // the first two; vipsthumbnail takes the first as D65 and the second as CIELab.
    let (_dir, out) = thumbnails_of("lab", &["-s", "32", "-f", "png"]);
    for (stem, tolerance) in [("cielab16-d50", 1), ("icclab8-d50", 2)] {
        let (size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        assert_eq!(size, [32, 24], "{stem}");
        for (g, q) in got.iter().zip(QUADRANTS) {
            assert!(near(*g, q, tolerance), "{stem}: {got:?}");
        }
    }
    // ImageMagick stores the green as (70.6, -70, 63) where it is (70.7, -68.7, 62.6): CIE's
    // formulas take what it stored to these (numpy, from the file's bytes).
    let (_, got) = quadrants(&out.join("cielab8-imagemagick-d65_32.png"));
    let stored = [[220, 32, 31], [13, 200, 38], [0, 41, 212], [250, 251, 252]];
    for (g, want) in got.iter().zip(stored) {
        assert!(near(*g, want, 1), "ImageMagick's: {got:?}");
    }
}

/// The error of the one failure of a run over a file of `bytes` named `name`, which must fail.
fn failure_of(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg(name);
        c
    });
    assert_eq!(run.status, 1, "{}", run.stderr);
    run.json["failures"][0]["error"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_lzw_tiled_tiff_declaring_huge_tiles_fails_without_allocating_them() {
    // The LZW-tiled fixture (little-endian) with 65535x65535 tiles and one tile offset: the
    // tiff crate finds that consistent, and the tile buffer would be 12.9 GB.
    let mut tiff = std::fs::read(fixture("tiff/rgb-tiled-lzw.tif")).unwrap();
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let ifd = u32_at(&tiff, 4) as usize;
    for i in 0..usize::from(u16_at(&tiff, ifd)) {
        let entry = ifd + 2 + 12 * i;
        match u16_at(&tiff, entry) {
            // TileWidth, TileLength (SHORT)
            322 | 323 => tiff[entry + 8..entry + 10].copy_from_slice(&65535u16.to_le_bytes()),
            // TileOffsets, TileByteCounts: one value, inline
            324 | 325 => {
                let (kind, at) = (u16_at(&tiff, entry + 2), u32_at(&tiff, entry + 8) as usize);
                let first = if kind == 3 {
                    u32::from(u16_at(&tiff, at))
                } else {
                    u32_at(&tiff, at)
                };
                tiff[entry + 4..entry + 8].copy_from_slice(&1u32.to_le_bytes());
                tiff[entry + 8..entry + 12].copy_from_slice(&first.to_le_bytes());
            }
            _ => {}
        }
    }
    assert_eq!(
        failure_of("huge-tiles.tif", &tiff),
        "corrupt TIFF: tiles of 65535x65535 for a 64x48 image"
    );
}

#[test]
fn group_3_fax_in_every_coding_gives_the_page_itself() {
    // A dithered page of rings (`tests/fixtures/fax`, from make-tiff-fixtures.py) as a PNG and
    // in libtiff's fax codings: Group 4 (the tiff crate decodes it), Group 3 one-dimensional,
    // two-dimensional, and two-dimensional with byte-aligned EOLs, bits least significant
    // first and strips of 16 rows; and modified Huffman RLE (compression 2, encoded by the
    // script, which Pillow's libtiff decodes to the page). Each must give the PNG's
    // thumbnails byte for byte.
    let (_dir, out) = thumbnails_of("fax", &["-s", "173,40", "-f", "png"]);
    let read = |name: String| std::fs::read(out.join(name)).unwrap();
    for size in [173, 40] {
        let page = read(format!("fax-page_{size}.png"));
        for stem in [
            "fax-g4",
            "fax-g3-1d",
            "fax-g3-2d",
            "fax-g3-2d-fill-lsb-strips",
        ] {
            assert!(
                read(format!("{stem}_{size}.png")) == page,
                "{stem} at {size} px"
            );
        }
    }
    // A damaged line fails with the row it is on (libtiff: "Bad code word at line 51").
    let mut tiff = std::fs::read(fixture("fax/fax-g3-2d.tif")).unwrap();
    tiff[2000..2004].fill(0xFF);
    assert_eq!(
        failure_of("damaged.tif", &tiff),
        "corrupt TIFF: Group 3 fax row 51 of 97: a vertical code outside the line"
    );
}

#[test]
fn old_style_jpeg_with_tables_apart_from_its_scans_is_named() {
    // The old-style JPEG fixture with JPEGInterchangeFormatLength (514, LONG) cut to 20
    // bytes: the stream then holds no scan, as in files that keep their scans in the strips.
    let mut tiff = std::fs::read(fixture("tiff/old-jpeg-orientation-6.tif")).unwrap();
    let entry = tiff
        .windows(4)
        .position(|w| w == [0x02, 0x02, 0x04, 0x00])
        .expect("a JPEGInterchangeFormatLength entry");
    tiff[entry + 8..entry + 12].copy_from_slice(&20u32.to_le_bytes());
    let error = failure_of("apart.tif", &tiff);
    assert!(
        error.starts_with("not supported: old-style JPEG TIFF (compression 6) without a whole"),
        "{error}"
    );
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
    // Likewise HEIF and AVIF without the `heif` feature.
    if !cfg!(feature = "heif") {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        files.push(("a.heic", heic, "HEIF/HEIC"));
        let avif = b"\0\0\0\x18ftypavif\0\0\0\0mif1avif".to_vec();
        files.push(("a.avif", avif, "AVIF"));
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
    let (_dir, out) = thumbnails_of("jxl", &["-s", "32"]);
    for (stem, tolerance) in [("quad-lossless", 2), ("quad-lossy", 6)] {
        let (size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        assert_eq!(size, [32, 24], "{stem}");
        for (g, q) in got.iter().zip(QUADRANTS) {
            assert!(near(*g, q, tolerance), "{stem}: {got:?}");
        }
    }
}

#[test]
#[cfg(feature = "heif")]
fn heif_and_avif_become_upright_thumbnails_in_their_own_colours_with_the_feature() {
    // Fixtures from scripts/make-heif-fixtures.py (heif-enc, lossy, then boxes put in by hand).
    let dir = tempfile::tempdir().unwrap();
    // quad.heic and quad.avif would share a stem (and get a hash each): copied as two names.
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for entry in std::fs::read_dir(fixture("heif")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        let name = name.replace("quad.", &format!("quad-{}.", &name[5..]));
        std::fs::copy(&path, inputs.join(name)).unwrap();
    }
    let run = run_json({
        let mut c = tm(dir.path());
        c.arg("in").args(["-s", "32", "-f", "png"]);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    let [tl, tr, bl, br] = QUADRANTS;
    let cases = [
        // A phone's HEVC still and a web AVIF.
        ("quad-heic", [32, 24], QUADRANTS),
        ("quad-avif", [32, 24], QUADRANTS),
        // 10 bits a sample, made 8.
        ("quad-10bit", [32, 24], QUADRANTS),
        // irot: 48x64 upright, the left column now the former bottom row.
        ("quad-irot-90cw", [32, 42], [bl, tl, br, tr]),
        // imir 1: left and right exchanged.
        ("quad-imir-left-right", [32, 24], [tr, tl, br, bl]),
    ];
    for (stem, size, want) in cases {
        let (got_size, got) = quadrants(&out.join(format!("{stem}_32.png")));
        assert_eq!(got_size, size, "{stem}");
        for (g, w) in got.iter().zip(want) {
            assert!(near(*g, w, 4), "{stem}: {got:?}");
        }
    }
    // Alpha kept: the transparent left half stays transparent.
    let alpha = image::open(out.join("quad-left-transparent_32.png")).unwrap();
    let alpha = alpha.as_rgba8().expect("an RGBA thumbnail");
    assert_eq!(alpha.get_pixel(8, 6)[3], 0);
    let right = alpha.get_pixel(24, 6).0;
    assert!(
        near([right[0], right[1], right[2]], tr, 4) && right[3] == 255,
        "{right:?}"
    );
    // Display P3 (204, 128, 51) in sRGB: (216.6, 123.4, 21.1) by the standard matrices
    // (P3-D65 and sRGB to XYZ, numpy); unconverted it would stay (204, 128, 51).
    let (_, got) = quadrants(&out.join("flat-p3-nclx_32.png"));
    assert!(near(got[0], [217, 123, 21], 4), "{got:?}");
}

#[test]
#[cfg(feature = "heif")]
fn a_cut_heif_fails_alone_with_libheifs_reason_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(fixture("heif/quad.heic")).unwrap();
    std::fs::write(dir.path().join("cut.heic"), &whole[..whole.len() - 200]).unwrap();
    std::fs::write(dir.path().join("whole.heic"), &whole).unwrap();
    let run = run_json({
        let mut c = tm(dir.path());
        c.args(["cut.heic", "whole.heic", "-s", "32"]);
        c
    });
    assert_eq!(run.status, 1, "{}", run.stderr);
    let failures = run.json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    let error = failures[0]["error"].as_str().unwrap();
    assert_eq!(
        error,
        "corrupt or truncated image: Invalid input: Unexpected end of file: Extent in iloc box \
         references data outside of file bounds (points to file position 465)"
    );
    assert_eq!(names(&dir.path().join("out")), ["whole_32.png"]);
}
