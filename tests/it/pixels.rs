//! Thumbnails people trust: orientation, colour, alpha, 16-bit and metadata.
//! Inputs are made here or kept in tests/fixtures, so these run without ../shared; the expected
//! values come from the EXIF spec's corner table and from Pillow (noted where used).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, Rgb, RgbImage, Rgba, RgbaImage};
use thumbnail_maker::decode::Metadata;
use thumbnail_maker::output::{encode, Encoding, OutputFormat};
use thumbnail_maker::resize::{Size, Thumbnailer};
use thumbnail_maker::{make_thumbnails, ThumbnailSpec};

use crate::util::{fixture, tm_bare};

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const BLACK: [u8; 3] = [0, 0, 0];

/// 48x32 as stored: red, green, blue and black corners on white, as the corpus's files.
fn corners() -> RgbImage {
    RgbImage::from_fn(48, 32, |x, y| match (x < 12, x >= 36, y < 8, y >= 24) {
        (true, _, true, _) => Rgb(RED),
        (_, true, true, _) => Rgb(GREEN),
        (true, _, _, true) => Rgb(BLUE),
        (_, true, _, true) => Rgb(BLACK),
        _ => Rgb([255, 255, 255]),
    })
}

/// A big-endian TIFF block with one entry: Orientation = `n`.
fn exif_orientation(n: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, n, 0, 0]);
    tiff.extend([0, 0, 0, 0]);
    tiff
}

/// `image` as an input file of `format` carrying `exif` and `icc`, through the library's own
/// encoder (whose embedding of both is checked on its own in `output::encode`'s tests).
fn encoded(
    image: &DynamicImage,
    format: OutputFormat,
    exif: Option<Vec<u8>>,
    icc: Option<Vec<u8>>,
) -> Vec<u8> {
    let encoding = Encoding {
        format,
        quality: 100,
        progressive: false,
        background: [255, 255, 255],
    };
    encode(image, &encoding, &Metadata { icc, exif }).expect("encodes")
}

/// One PNG thumbnail of `bytes` at `size`, decoded back.
fn thumbnail(bytes: &[u8], size: &str, tweak: impl FnOnce(&mut ThumbnailSpec)) -> DynamicImage {
    let mut spec = ThumbnailSpec {
        sizes: vec![size.parse().unwrap()],
        format: Some(OutputFormat::Png),
        ..ThumbnailSpec::default()
    };
    tweak(&mut spec);
    let made =
        make_thumbnails(bytes, &spec, &mut Thumbnailer::new(spec.linear)).expect("thumbnail");
    image::load_from_memory(&made.thumbnails[0].bytes).unwrap()
}

fn close(got: [u8; 3], want: [u8; 3], tolerance: u8) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| g.abs_diff(w) <= tolerance)
}

#[test]
fn every_exif_orientation_is_turned_upright_in_jpeg_png_and_webp() {
    // Corners after orientation 1 to 8 (checked against Pillow's exif_transpose on the corpus
    // files): top-left, top-right, bottom-left, bottom-right.
    let expected = [
        [RED, GREEN, BLUE, BLACK],
        [GREEN, RED, BLACK, BLUE],
        [BLACK, BLUE, GREEN, RED],
        [BLUE, BLACK, RED, GREEN],
        [RED, BLUE, GREEN, BLACK],
        [BLUE, RED, BLACK, GREEN],
        [BLACK, GREEN, BLUE, RED],
        [GREEN, BLACK, RED, BLUE],
    ];
    let source = DynamicImage::ImageRgb8(corners());
    for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
        for (n, want) in (1..=8u8).zip(expected) {
            let bytes = encoded(&source, format, Some(exif_orientation(n)), None);
            // The upright width, so the pixels are compared unresized.
            let width = if n >= 5 { "32" } else { "48" };
            let out = thumbnail(&bytes, width, |_| {}).to_rgb8();
            let upright = if n >= 5 { (32, 48) } else { (48, 32) };
            assert_eq!(out.dimensions(), upright, "{format:?} orientation {n}");
            let (w, h) = upright;
            let got = [(2, 2), (w - 3, 2), (2, h - 3), (w - 3, h - 3)]
                .map(|(x, y)| out.get_pixel(x, y).0);
            for (corner, (g, w)) in got.iter().zip(want).enumerate() {
                assert!(
                    close(*g, w, 24),
                    "{format:?} orientation {n}, corner {corner}: {g:?}, want {w:?}"
                );
            }
        }
    }
}

#[test]
fn imagemagick_raw_profile_orientation_in_png_is_honoured() {
    // tests/fixtures: the corner pattern with Orientation=3 only in a "Raw profile type exif"
    // tEXt chunk (Pillow reads it as 3 too).
    let bytes =
        std::fs::read(fixture("png_raw_profile_orientation_3_should_turn_180.png")).unwrap();
    let out = thumbnail(&bytes, "48", |_| {}).to_rgb8();
    assert_eq!(out.get_pixel(2, 2).0, BLACK);
    assert_eq!(out.get_pixel(45, 2).0, BLUE);
}

#[test]
fn adobe_cmyk_jpeg_comes_out_with_pillows_colours() {
    // Four ink blocks written by Pillow (Adobe APP14, inverted inks); Pillow's convert("RGB")
    // of the same file gives these.
    let bytes = std::fs::read(fixture("cmyk_adobe_4_inks_should_match_pillow.jpg")).unwrap();
    let out = thumbnail(&bytes, "32", |_| {}).to_rgb8();
    let pillow = [[255, 0, 0], [0, 255, 255], [127, 127, 127], [172, 207, 49]];
    for (block, want) in pillow.into_iter().enumerate() {
        let got = out.get_pixel(block as u32 * 8 + 4, 8).0;
        assert!(
            close(got, want, 2),
            "block {block}: {got:?}, Pillow {want:?}"
        );
    }
}

#[test]
fn transparent_edges_stay_clean_kept_in_png_and_flattened_in_jpeg() {
    // Opaque white on the left, fully transparent *black* on the right: an alpha-unaware resize
    // drags the black into a dark fringe.
    let img = RgbaImage::from_fn(64, 16, |x, _| {
        if x < 32 {
            Rgba([255, 255, 255, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let bytes = encoded(
        &DynamicImage::ImageRgba8(img),
        OutputFormat::Png,
        None,
        None,
    );
    let png = thumbnail(&bytes, "16", |_| {}).to_rgba8();
    assert_eq!(png.get_pixel(0, 2).0, [255, 255, 255, 255]);
    assert_eq!(png.get_pixel(15, 2).0[3], 0, "transparency kept");
    for p in png.pixels().filter(|p| p[3] > 0) {
        assert!(p[0] >= 250, "dark fringe in PNG: {p:?}");
    }
    let spec = ThumbnailSpec {
        sizes: vec![Size::width(16)],
        format: Some(OutputFormat::Jpeg),
        quality: 100,
        background: [255, 0, 0],
        ..ThumbnailSpec::default()
    };
    let made = make_thumbnails(&bytes, &spec, &mut Thumbnailer::default()).unwrap();
    let jpeg = image::load_from_memory(&made.thumbnails[0].bytes)
        .unwrap()
        .to_rgb8();
    assert!(
        close(jpeg.get_pixel(15, 2).0, [255, 0, 0], 8),
        "{:?}",
        jpeg.get_pixel(15, 2)
    );
    assert!(
        close(jpeg.get_pixel(0, 2).0, [255, 255, 255], 8),
        "{:?}",
        jpeg.get_pixel(0, 2)
    );
    for p in jpeg.pixels() {
        // Between white and red only: red stays high, green and blue never go below red's.
        assert!(p[0] >= 240, "dark fringe in JPEG: {p:?}");
    }
}

#[test]
fn sixteen_bit_png_becomes_the_nearest_8_bit_values() {
    // 0x8080 in 16 bits is exactly 128 in 8, 0xFFFF 255 (a half-transparent alpha, so the
    // channel is kept: an alpha of 255 everywhere would be dropped).
    let img = image::ImageBuffer::<Rgba<u16>, _>::from_pixel(
        40,
        20,
        Rgba([0x8080, 0x4040, 0xFFFF, 0x8080]),
    );
    let bytes = encoded(
        &DynamicImage::ImageRgba16(img),
        OutputFormat::Png,
        None,
        None,
    );
    let out = thumbnail(&bytes, "20", |_| {});
    assert_eq!(out.color(), image::ColorType::Rgba8);
    assert_eq!((out.width(), out.height()), (20, 10));
    assert_eq!(out.to_rgba8().get_pixel(10, 5).0, [128, 64, 255, 128]);
    let gray = image::ImageBuffer::<image::Luma<u16>, _>::from_pixel(40, 20, image::Luma([0xC0C0]));
    let bytes = encoded(
        &DynamicImage::ImageLuma16(gray),
        OutputFormat::Png,
        None,
        None,
    );
    let out = thumbnail(&bytes, "20", |_| {});
    assert_eq!(out.color(), image::ColorType::L8);
    assert_eq!(out.to_luma8().get_pixel(10, 5).0, [192]);
}

/// A flat 40x20 PNG in Display P3 (205, 100, 60), with an EXIF block; and its profile.
pub fn p3_png() -> (Vec<u8>, Vec<u8>) {
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 20, Rgb([205, 100, 60])));
    (
        encoded(
            &img,
            OutputFormat::Png,
            Some(exif_orientation(1)),
            Some(p3.clone()),
        ),
        p3,
    )
}

fn icc_and_exif(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut decoder = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    (
        decoder.icc_profile().unwrap(),
        decoder.exif_metadata().unwrap(),
    )
}

#[test]
fn display_p3_is_converted_to_srgb_unless_the_profile_is_kept() {
    let (bytes, p3) = p3_png();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p3.png"), &bytes).unwrap();
    let run = |args: &[&str], out: &str| {
        let status = tm_bare(dir.path())
            .args(["p3.png", "-s", "20", "-q", "-o", out])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}");
        let file = std::fs::read(dir.path().join(out).join("p3_20.png")).unwrap();
        let pixel = image::load_from_memory(&file)
            .unwrap()
            .to_rgb8()
            .get_pixel(10, 5)
            .0;
        let (icc, exif) = icc_and_exif(&file);
        (pixel, icc, exif)
    };
    // Pillow's ImageCms (lcms2) turns P3 (205, 100, 60) into sRGB (220, 92, 46).
    let (pixel, icc, exif) = run(&[], "converted");
    assert!(close(pixel, [220, 92, 46], 1), "{pixel:?}");
    assert_eq!((icc, exif), (None, None), "metadata is stripped by default");
    let (pixel, icc, exif) = run(&["--keep-icc"], "kept");
    assert_eq!(pixel, [205, 100, 60]);
    assert_eq!((icc.as_ref(), exif), (Some(&p3), None));
    let (pixel, icc, exif) = run(&["--keep-metadata"], "all");
    assert_eq!(pixel, [205, 100, 60]);
    assert_eq!(icc.as_ref(), Some(&p3));
    assert_eq!(exif, Some(exif_orientation(1)));
}

#[test]
fn kept_exif_of_a_rotated_jpeg_says_upright() {
    let source = DynamicImage::ImageRgb8(corners());
    let bytes = encoded(&source, OutputFormat::Jpeg, Some(exif_orientation(6)), None);
    let mut spec = ThumbnailSpec {
        sizes: vec![Size::width(16)],
        keep_metadata: true,
        ..ThumbnailSpec::default()
    };
    for progressive in [false, true] {
        spec.progressive = progressive;
        let made = make_thumbnails(&bytes, &spec, &mut Thumbnailer::default()).unwrap();
        let out = &made.thumbnails[0].bytes;
        let (_, exif) = icc_and_exif(out);
        assert_eq!(exif, Some(exif_orientation(1)), "progressive {progressive}");
        assert_eq!(
            image::load_from_memory(out).unwrap().height(),
            24,
            "rotated 32x48 at 16 wide"
        );
        // SOF2 marks a progressive frame.
        assert_eq!(out.windows(2).any(|w| w == [0xFF, 0xC2]), progressive);
    }
}

#[test]
fn linear_light_keeps_thin_bright_lines_bright() {
    // Alternating black and white columns average to 50% light: 188 in sRGB. Resizing the
    // stored values instead gives about 128.
    let img = image::GrayImage::from_fn(64, 64, |x, _| {
        image::Luma([if x % 2 == 0 { 0 } else { 255 }])
    });
    let bytes = encoded(
        &DynamicImage::ImageLuma8(img),
        OutputFormat::Png,
        None,
        None,
    );
    let plain = thumbnail(&bytes, "8", |_| {}).to_luma8().get_pixel(4, 4)[0];
    let linear = thumbnail(&bytes, "8", |s| s.linear = true)
        .to_luma8()
        .get_pixel(4, 4)[0];
    assert!(plain.abs_diff(128) <= 2, "{plain}");
    assert!(linear.abs_diff(188) <= 2, "{linear}");
}

#[test]
fn a_profile_with_only_a_perceptual_table_is_converted_through_it() {
    // Made by scripts/make-lut-profile.py: its only transform is an A2B0 table (as JPEG XL's
    // XYB JPEGs and many printer and camera profiles carry), which swaps red and blue. Pillow's
    // ImageCms (lcms2) turns (200, 100, 50) into (50, 100, 200) with it, at either intent: the
    // ICC rule is to use the table the profile has. Left unconverted, the picture would come
    // out with red and blue swapped and no word said.
    let icc = std::fs::read(fixture("swap-rb-a2b0-only.icc")).unwrap();
    let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 20, Rgb([200, 100, 50])));
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [
        (OutputFormat::Png, "png.png"),
        (OutputFormat::Jpeg, "jpeg.jpg"),
    ] {
        std::fs::write(
            dir.path().join(name),
            encoded(&image, format, None, Some(icc.clone())),
        )
        .unwrap();
    }
    let status = tm_bare(dir.path())
        .args([
            "png.png", "jpeg.jpg", "-s", "20", "-f", "png", "-q", "-o", "out",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    for name in ["png_20.png", "jpeg_20.png"] {
        let file = std::fs::read(dir.path().join("out").join(name)).unwrap();
        let pixel = image::load_from_memory(&file)
            .unwrap()
            .to_rgb8()
            .get_pixel(10, 5)
            .0;
        assert!(close(pixel, [50, 100, 200], 3), "{name}: {pixel:?}");
    }
}

#[test]
fn a_profile_that_cannot_be_used_is_a_warning_in_the_log_and_the_report_not_silence() {
    let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 20, Rgb([200, 100, 50])));
    let dir = tempfile::tempdir().unwrap();
    let broken = encoded(
        &image,
        OutputFormat::Png,
        None,
        Some(b"not a profile".to_vec()),
    );
    std::fs::write(dir.path().join("broken.png"), broken).unwrap();
    std::fs::write(
        dir.path().join("plain.png"),
        encoded(&image, OutputFormat::Png, None, None),
    )
    .unwrap();
    let out = tm_bare(dir.path())
        .args(["broken.png", "plain.png", "-s", "20", "-o", "out", "--json"])
        .args(["--progress", "none"])
        .output()
        .unwrap();
    // Made, as browsers show such an image; exit 0: a warning is not a failure.
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said =
        "warning: broken.png: colours left unconverted: the embedded ICC profile is unreadable";
    assert!(
        stderr.contains(&format!("thumbnail-maker: {said}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 warning:\n  broken.png: colours left"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failures"], serde_json::json!([]));
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["input"], "broken.png");
    assert_eq!(warnings[0]["stage"], "decode");
    assert!(warnings[0]["error"]
        .as_str()
        .unwrap()
        .contains("unreadable"));
    let pixel = image::open(dir.path().join("out/broken_20.png"))
        .unwrap()
        .to_rgb8()
        .get_pixel(5, 5)
        .0;
    assert_eq!(pixel, [200, 100, 50]);
}

#[test]
fn an_alpha_channel_no_pixel_uses_is_dropped_and_one_in_use_is_kept() {
    // GIF frames always decode as RGBA, and many PNGs carry an alpha of 255 everywhere: their
    // thumbnails carried a useless channel. A single transparent pixel keeps it.
    let opaque = RgbaImage::from_pixel(64, 48, Rgba([200, 100, 50, 255]));
    let mut holed = opaque.clone();
    holed.put_pixel(1, 1, Rgba([0, 0, 0, 0]));
    let dir = tempfile::tempdir().unwrap();
    for (name, image, format) in [
        (
            "opaque-png.png",
            DynamicImage::ImageRgba8(opaque.clone()),
            OutputFormat::Png,
        ),
        (
            "opaque-webp.webp",
            DynamicImage::ImageRgba8(opaque),
            OutputFormat::WebP,
        ),
        (
            "holed.png",
            DynamicImage::ImageRgba8(holed),
            OutputFormat::Png,
        ),
    ] {
        std::fs::write(dir.path().join(name), encoded(&image, format, None, None)).unwrap();
    }
    let status = tm_bare(dir.path())
        .args([
            "opaque-png.png",
            "opaque-webp.webp",
            "holed.png",
            "-s",
            "32",
            "-f",
            "png",
        ])
        .args(["-q", "-o", "out"])
        .status()
        .unwrap();
    assert!(status.success());
    let colour_type = |name: &str| {
        let bytes = std::fs::read(dir.path().join("out").join(name)).unwrap();
        image::load_from_memory(&bytes).unwrap().color()
    };
    assert_eq!(colour_type("opaque-png_32.png"), image::ColorType::Rgb8);
    assert_eq!(
        colour_type("opaque-png_32.png"),
        colour_type("opaque-webp_32.png")
    );
    assert_eq!(colour_type("holed_32.png"), image::ColorType::Rgba8);
}

#[test]
fn orientation_stated_only_in_xmp_is_applied_in_jpeg_and_png() {
    // Some editors write tiff:Orientation in XMP and no EXIF; Pillow honours it. 6 = turn
    // 90 degrees clockwise: the 48x32 picture comes out 32x48, blue (bottom left) at top left.
    let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>"#;
    let source = DynamicImage::ImageRgb8(corners());
    let plain_jpeg = encoded(&source, OutputFormat::Jpeg, None, None);
    let segment = [b"http://ns.adobe.com/xap/1.0/\0".as_slice(), xmp.as_bytes()].concat();
    let length = u16::try_from(segment.len() + 2).unwrap().to_be_bytes();
    let jpeg = [
        &plain_jpeg[..2],
        &[0xFF, 0xE1, length[0], length[1]],
        &segment,
        &plain_jpeg[2..],
    ]
    .concat();
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, 48, 32);
        encoder.set_color(png::ColorType::Rgb);
        // The element form, as other tools write it.
        let element = xmp.replace(
            r#" tiff:Orientation="6"/>"#,
            "><tiff:Orientation>6</tiff:Orientation></rdf:Description>",
        );
        encoder
            .add_itxt_chunk("XML:com.adobe.xmp".into(), element)
            .unwrap();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(corners().as_raw()).unwrap();
    }
    for (what, bytes) in [("jpeg", jpeg), ("png", png)] {
        let out = thumbnail(&bytes, "32", |_| {}).to_rgb8();
        assert_eq!(out.dimensions(), (32, 48), "{what}");
        assert!(close(out.get_pixel(2, 2).0, BLUE, 24), "{what}");
        assert!(close(out.get_pixel(29, 45).0, GREEN, 24), "{what}");
    }
}

#[test]
fn a_low_bit_grey_transparency_value_out_of_range_is_masked_like_libpng() {
    // 16x8, 1-bit grey, left half black, right half white, tRNS 0x0101: out of range for one
    // bit, which libpng (and Pillow) mask to the bit depth, 1: white is transparent. Made by
    // hand (IHDR, tRNS, IDAT); the script is in the commit that added it.
    let bytes = std::fs::read(fixture("trns-1bit-out-of-range.png")).unwrap();
    let out = thumbnail(&bytes, "16", |_| {}).to_rgba8();
    assert_eq!(out.get_pixel(2, 2).0, [0, 0, 0, 255]);
    assert_eq!(out.get_pixel(13, 2).0[3], 0, "white is transparent");
}
