//! The pure core under fuzzing: any bytes in, thumbnails or a typed error out, never a panic,
//! an abort or an allocation past the pixel budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbnail_maker::decode::DecodeOptions;
use thumbnail_maker::resize::Thumbnailer;
use thumbnail_maker::{make_thumbnails, ThumbnailSpec};

fuzz_target!(|data: &[u8]| {
    let spec = ThumbnailSpec {
        widths: vec![32, 200],
        format: None,
        quality: 80,
        enlarge: true,
        background: [255, 255, 255],
        decode: DecodeOptions {
            // Small enough that a fuzzer-made header cannot make libFuzzer's RSS limit trip
            // on a legitimate allocation.
            max_pixels: 4_000_000,
            ..DecodeOptions::default()
        },
    };
    let _ = make_thumbnails(data, &spec, &mut Thumbnailer::default());
});
