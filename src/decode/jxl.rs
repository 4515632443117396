//! JPEG XL input (the `jxl` feature), through jxl-oxide's `image` integration: pure Rust,
//! rendered to the image's own colour encoding with its ICC profile, which `colour` then
//! converts to sRGB like any other profile.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat};
use jxl_oxide::integration::JxlDecoder;

use super::Metadata;
use super::{check_dimensions, memory, sniff, DecodeError, DecodeOptions, Decoded};

/// Whether `bytes` start like a JPEG XL codestream or container.
pub fn is_jxl(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n")
}

pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let mut decoder = JxlDecoder::new(Cursor::new(bytes)).map_err(sniff::classify)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, options)?;
    memory::check(decoder.total_bytes())?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(sniff::classify)?;
    Ok(Decoded {
        source_size: (image.width(), image.height()),
        image: super::without_opaque_alpha(super::to_8_bit(image)),
        // image 0.25 has no JPEG XL format; `same` writes PNG for it, as for GIF or TIFF.
        format: ImageFormat::Png,
        metadata: Metadata { icc, exif: None },
        skipped_scan_bytes: 0,
        memory: None,
    })
}
