//! Progressive scan pruning never changes a pixel: every progressive JPEG decoded at 1/8 with
//! the scans it does not use left out equals the whole stream decoded as before, and the
//! scans really were left out.

use std::path::Path;

use mozjpeg::ColorSpace;
use thumbnail_maker::decode::{decode, decode_file, DecodeOptions, Target};

use crate::util::fixture;

/// Options that put any image at scale 1/8, with or without pruning.
fn at_one_eighth(all_scans: bool) -> DecodeOptions {
    DecodeOptions {
        target: Target {
            width: 1,
            height: 0,
        },
        shrink_margin: 0.5,
        all_scans,
        ..DecodeOptions::default()
    }
}

/// Decodes `bytes` both ways; panics unless the results are equal. Returns the bytes pruned.
fn assert_same_both_ways(name: &str, bytes: &[u8]) -> u64 {
    let whole = decode(bytes, &at_one_eighth(true));
    let pruned = decode(bytes, &at_one_eighth(false));
    match (whole, pruned) {
        (Ok(whole), Ok(pruned)) => {
            assert_eq!(whole.skipped_scan_bytes, 0);
            assert_eq!(
                (whole.image.width(), whole.image.height()),
                (pruned.image.width(), pruned.image.height()),
                "{name}"
            );
            assert!(
                whole.image.as_bytes() == pruned.image.as_bytes(),
                "{name}: pruning changed pixels"
            );
            pruned.skipped_scan_bytes
        }
        (Err(whole), Err(pruned)) => {
            assert_eq!(whole.to_string(), pruned.to_string(), "{name}");
            0
        }
        (whole, pruned) => panic!(
            "{name}: one way failed: whole {:?}, pruned {:?}",
            whole.err().map(|e| e.to_string()),
            pruned.err().map(|e| e.to_string())
        ),
    }
}

/// A textured picture (detail in every band, so AC coefficients matter), progressive.
fn progressive(
    width: usize,
    height: usize,
    space: ColorSpace,
    sampling: Option<(u8, u8)>,
    optimize_scans: bool,
) -> Vec<u8> {
    let channels = match space {
        ColorSpace::JCS_GRAYSCALE => 1,
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => 4,
        _ => 3,
    };
    let pixels: Vec<u8> = (0..width * height * channels)
        .map(|i| {
            let (p, c) = (i / channels, i % channels);
            let (x, y) = (p % width, p / width);
            let noise = thumbnail_maker::shard::fnv1a(&(i as u64).to_le_bytes()) as u8 / 4;
            ((x * 5 + y * 3 + c * 40) as u8 ^ ((x / 3 * y / 5) as u8)).wrapping_add(noise)
        })
        .collect();
    let input = if space == ColorSpace::JCS_YCCK {
        ColorSpace::JCS_CMYK
    } else {
        space
    };
    let mut c = mozjpeg::Compress::new(input);
    c.set_color_space(space);
    c.set_size(width, height);
    c.set_quality(85.0);
    if let Some(s) = sampling {
        c.set_chroma_sampling_pixel_sizes(s, s);
    }
    // In this order: turning scan optimisation off clears the scan script.
    c.set_optimize_scans(optimize_scans);
    c.set_progressive_mode();
    let mut started = c.start_compress(Vec::new()).unwrap();
    started.write_scanlines(&pixels).unwrap();
    let jpeg = started.finish().unwrap();
    assert_eq!(jpeg[..2], [0xFF, 0xD8]);
    assert!(
        jpeg.windows(2).any(|w| w == [0xFF, 0xC2]),
        "not progressive: {width}x{height} {space:?} {sampling:?}"
    );
    jpeg
}

#[test]
fn every_sampling_size_and_colour_space_decodes_alike_pruned() {
    let samplings = [
        ("4:4:4", (1, 1)),
        ("4:2:0", (2, 2)),
        ("4:2:2", (2, 1)),
        ("4:4:0", (1, 2)),
        ("4:1:1", (4, 1)),
    ];
    let sizes = [(1, 37), (37, 1), (257, 131), (16, 16), (300, 9), (9, 300)];
    for (label, sampling) in samplings {
        for (w, h) in sizes {
            for optimize_scans in [false, true] {
                let jpeg = progressive(w, h, ColorSpace::JCS_YCbCr, Some(sampling), optimize_scans);
                let name = format!("{label} {w}x{h} optimize_scans={optimize_scans}");
                let skipped = assert_same_both_ways(&name, &jpeg);
                assert!(skipped > 0, "{name}: nothing was pruned");
            }
        }
    }
    for space in [
        ColorSpace::JCS_GRAYSCALE,
        ColorSpace::JCS_CMYK,
        ColorSpace::JCS_YCCK,
    ] {
        for (w, h) in [(257, 131), (1, 20)] {
            let jpeg = progressive(w, h, space, None, false);
            let name = format!("{space:?} {w}x{h}");
            assert!(
                assert_same_both_ways(&name, &jpeg) > 0,
                "{name}: nothing was pruned"
            );
        }
    }
}

#[test]
fn restarts_custom_scripts_and_tables_between_scans_decode_alike_pruned() {
    // Made with libjpeg-turbo's tools; the commands are in tests/fixtures/README.md.
    for name in [
        "progressive_420_restart_every_row.jpg",
        "progressive_420_custom_scans_split_dc.jpg",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert!(
            assert_same_both_ways(name, &bytes) > 0,
            "{name}: nothing was pruned"
        );
        // The file path (streamed from disk) prunes too, to the same pixels.
        let streamed = decode_file(&fixture(name), &at_one_eighth(false)).unwrap();
        let whole = decode(&bytes, &at_one_eighth(true)).unwrap();
        assert!(
            streamed.image.as_bytes() == whole.image.as_bytes(),
            "{name}"
        );
    }
    // Arithmetic coding: decoded (libjpeg-turbo's arith_dec), never pruned, and to the same
    // pixels as the same coefficients Huffman-coded (jpegtran's lossless transcode of it).
    let arithmetic = std::fs::read(fixture("progressive_422_arithmetic.jpg")).unwrap();
    assert_eq!(assert_same_both_ways("arithmetic", &arithmetic), 0);
    let huffman = std::fs::read(fixture("progressive_422_huffman_of_arithmetic.jpg")).unwrap();
    for all_scans in [true, false] {
        let [a, h] = [&arithmetic, &huffman]
            .map(|bytes| decode(bytes, &at_one_eighth(all_scans)).unwrap().image);
        assert_eq!((a.width(), a.height()), (h.width(), h.height()));
        assert!(
            a.as_bytes() == h.as_bytes(),
            "arithmetic and Huffman differ"
        );
    }
}

#[test]
fn files_cut_inside_a_dropped_or_a_kept_scan_keep_the_truncation_rule() {
    let bytes = std::fs::read(fixture("progressive_420_custom_scans_split_dc.jpg")).unwrap();
    let scans: Vec<usize> = bytes
        .windows(2)
        .enumerate()
        .filter(|(_, w)| *w == [0xFF, 0xDA])
        .map(|(i, _)| i)
        .collect();
    // Scan 4 (index 3) is luma AC 1-8, dropped at 1/8; scan 5 is chroma AC, kept.
    for (what, cut) in [("dropped", scans[3] + 40), ("kept", scans[4] + 40)] {
        let cut_bytes = &bytes[..cut];
        assert_same_both_ways(what, cut_bytes);
        let error = match decode(cut_bytes, &at_one_eighth(false)) {
            Ok(_) => panic!("{what}: a cut file decoded"),
            Err(e) => e.to_string(),
        };
        assert!(error.contains("truncated"), "{what}: {error}");
        // Allowed to be partial, the file is decoded whole as before (smoothing and all).
        let partial = DecodeOptions {
            allow_truncated: true,
            ..at_one_eighth(false)
        };
        let decoded = decode(cut_bytes, &partial).unwrap();
        assert_eq!(decoded.skipped_scan_bytes, 0, "{what}");
    }
}

#[test]
fn progressive_corpus_photos_decode_alike_pruned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/photos");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "skipped: {} is not here (it exists beside the repository in CI)",
            dir.display()
        );
        return;
    };
    let mut pruned = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if thumbnail_maker::decode::prune::plan(&bytes).is_none() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let skipped = assert_same_both_ways(&name, &bytes);
        assert!(skipped > 0, "{name}: nothing was pruned");
        let streamed = decode_file(&path, &at_one_eighth(false)).unwrap();
        assert_eq!(
            streamed.skipped_scan_bytes, skipped,
            "{name}: from disk too"
        );
        pruned += 1;
    }
    assert!(
        pruned >= 14,
        "the corpus has 14 progressive photos, found {pruned}"
    );
}
