//! The pure core under fuzzing: any bytes in, thumbnails or a typed error out, never a panic,
//! an abort or an allocation past the pixel budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbnail_maker::decode::DecodeOptions;
use thumbnail_maker::resize::{Crop, Size, Thumbnailer};
use thumbnail_maker::{make_thumbnails, ThumbnailSpec};

fuzz_target!(|data: &[u8]| {
    // Half the inputs keep their metadata (EXIF and ICC written back out), the other half have
    // their ICC profile converted to sRGB: both paths read untrusted profiles.
    let keep_metadata = data.len() % 2 == 0;
    // A third of the inputs want only an 8 px thumbnail, so every JPEG from 128 px wide is
    // decoded at 1/8 and a progressive one goes through scan pruning (decode/prune.rs), whose
    // marker walk reads untrusted bytes too.
    let sizes = if data.len() % 3 == 0 {
        vec![Size::width(8)]
    } else {
        vec![Size::width(32), "200x150".parse().unwrap()]
    };
    let spec = ThumbnailSpec {
        sizes,
        crop: Some(Crop::Entropy),
        keep_metadata,
        decode: DecodeOptions {
            // Small enough that a fuzzer-made header cannot make libFuzzer's RSS limit trip
            // on a legitimate allocation.
            max_pixels: 4_000_000,
            ..DecodeOptions::default()
        },
        ..ThumbnailSpec::default()
    };
    let _ = make_thumbnails(data, &spec, &mut Thumbnailer::default());
});
