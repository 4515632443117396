//! HEIF/HEIC and AVIF input (the `heif` feature), through the system's libheif (1.14 or
//! later; Debian 12 has 1.15, which decodes HEVC with libde265 and AV1 with dav1d or aom).
//!
//! libheif applies the file's own geometry (`irot`, `imir`, `clap`) while decoding; the EXIF
//! orientation of a HEIF is informative only (the spec says so, and phones write both), so it
//! is reset rather than applied a second time. Colour comes from the ICC profile when there is
//! one; an `nclx` box naming anything but sRGB's primaries and an SDR curve becomes an ICC
//! profile (moxcms builds it from the code points) that `colour` converts like any other.

use image::{DynamicImage, ImageBuffer, ImageFormat};
use libheif_rs::{
    color_profile_types, ColorProfile as _, ColorSpace, HeifContext, HeifError, ImageHandle,
    LibHeif, RgbChroma,
};
use moxcms::TransferCharacteristics as Curve;
use moxcms::{CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients};

use super::{check_dimensions, memory, meta, DecodeError, DecodeOptions, Decoded, Metadata};

/// Whether `bytes` start like a HEIF or AVIF file (an `ftyp` box with one of their brands).
pub fn is_heif(bytes: &[u8]) -> bool {
    super::sniff::heif_kind(bytes).is_some()
}

/// libheif, initialised once for the process: `LibHeif::new` is `heif_init`, and dropping it
/// (after every image) would unregister the decoders only to register them again.
fn libheif() -> &'static LibHeif {
    static LIBHEIF: std::sync::OnceLock<LibHeif> = std::sync::OnceLock::new();
    LIBHEIF.get_or_init(LibHeif::new)
}

pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let libheif = libheif();
    let context = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    // Width and height after the file's rotation and crop, as the decode will give them.
    let (width, height) = (handle.width(), handle.height());
    check_dimensions(width, height, options)?;
    let alpha = handle.has_alpha_channel();
    let deep = handle.luma_bits_per_pixel() > 8;
    let channels = if alpha { 4 } else { 3 };
    let sample = if deep { 2 } else { 1 };
    // The coded planes and the interleaved RGB libheif converts them to live at once.
    memory::check(2 * u64::from(width) * u64::from(height) * channels * sample)?;
    let chroma = match (alpha, deep) {
        (false, false) => RgbChroma::Rgb,
        (true, false) => RgbChroma::Rgba,
        (false, true) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    };
    let decoded = libheif
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(corrupt)?;
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| DecodeError::Variant("HEIF: no interleaved RGB from libheif".into()))?;
    let image = pixels(
        plane.data,
        plane.width,
        plane.height,
        plane.stride,
        plane.bits_per_pixel,
        channels as usize,
        deep,
    )?;
    Ok(Decoded {
        source_size: (image.width(), image.height()),
        image: super::without_opaque_alpha(super::to_8_bit(image)),
        // `same` writes PNG for these, as for JPEG XL, GIF or TIFF.
        format: ImageFormat::Png,
        metadata: Metadata {
            icc: icc(&handle),
            exif: exif(&handle),
        },
        skipped_scan_bytes: 0,
        memory: None,
    })
}

/// The interleaved samples as an image: rows copied out of libheif's strided plane, deep
/// samples (little-endian, `bits` significant) stretched to 16 bits.
fn pixels(
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    bits: u8,
    channels: usize,
    deep: bool,
) -> Result<DynamicImage, DecodeError> {
    let row = width as usize * channels * if deep { 2 } else { 1 };
    let short = || DecodeError::Variant("HEIF: libheif gave a plane shorter than its size".into());
    let mut packed = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        packed.extend_from_slice(data.get(y * stride..y * stride + row).ok_or_else(short)?);
    }
    let image = if deep {
        let max = (1u32 << bits.clamp(1, 16)) - 1;
        let samples: Vec<u16> = packed
            .chunks_exact(2)
            .map(|s| {
                let v = u32::from(u16::from_le_bytes([s[0], s[1]])).min(max);
                // 10-bit 1023 becomes 65535, rounded to the nearest step.
                ((v * 65535 + max / 2) / max) as u16
            })
            .collect();
        match channels {
            4 => ImageBuffer::from_raw(width, height, samples).map(DynamicImage::ImageRgba16),
            _ => ImageBuffer::from_raw(width, height, samples).map(DynamicImage::ImageRgb16),
        }
    } else {
        match channels {
            4 => ImageBuffer::from_raw(width, height, packed).map(DynamicImage::ImageRgba8),
            _ => ImageBuffer::from_raw(width, height, packed).map(DynamicImage::ImageRgb8),
        }
    };
    image.ok_or_else(short)
}

/// The ICC profile to convert from: the file's own, or one made from its `nclx` code points
/// when they are not sRGB's. `None` means sRGB (also the reading of a file that says nothing).
fn icc(handle: &ImageHandle) -> Option<Vec<u8>> {
    // libheif hands out an ICC profile raw and an nclx box parsed; with both, ICC wins, as in
    // libvips and browsers.
    if let Some(raw) = handle.color_profile_raw() {
        if raw.profile_type() != color_profile_types::NCLX {
            return Some(raw.data);
        }
    }
    let nclx = handle.color_profile_nclx()?;
    let primaries = CicpColorPrimaries::try_from(nclx.color_primaries() as u8).ok()?;
    // An unspecified curve is read as sRGB's, as every viewer does.
    let curve = match Curve::try_from(nclx.transfer_characteristics() as u8) {
        Ok(Curve::Unspecified) | Err(_) => Curve::Srgb,
        Ok(curve) => curve,
    };
    if is_srgb(primaries, curve) {
        return None;
    }
    let profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries: primaries,
        transfer_characteristics: curve,
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    });
    profile.encode().ok()
}

/// sRGB's primaries (BT.709's) with one of the curves every viewer shows as sRGB: BT.709 and
/// BT.601 are camera curves that browsers and libvips display unconverted, like sRGB's own.
fn is_srgb(primaries: CicpColorPrimaries, curve: Curve) -> bool {
    use CicpColorPrimaries as P;
    matches!(primaries, P::Bt709 | P::Unspecified)
        && matches!(
            curve,
            Curve::Srgb | Curve::Bt709 | Curve::Bt601 | Curve::Bt202010bit
        )
}

/// The EXIF block without libheif's 4-byte offset prefix, its orientation reset: the pixels
/// are already turned by `irot`/`imir`.
fn exif(handle: &ImageHandle) -> Option<Vec<u8>> {
    let mut ids = [0; 1];
    if handle.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return None;
    }
    let block = handle.metadata(ids[0]).ok()?;
    let offset = u32::from_be_bytes(block.get(..4)?.try_into().ok()?) as usize;
    let tiff = block.get(4usize.checked_add(offset)?..)?;
    Some(meta::upright_exif(tiff).0)
}

/// libheif's reason, without its Rust debug codes: "Invalid input: No 'ftyp' box".
fn corrupt(error: HeifError) -> DecodeError {
    use libheif_rs::HeifErrorCode as Code;
    // libheif's messages end in a newline.
    let text = match error.message.trim() {
        "" => format!("{:?}", error.code),
        message => message.to_string(),
    };
    match error.code {
        Code::UnsupportedFeature
        | Code::UnsupportedFileType
        | Code::DecoderPluginError
        | Code::MemoryAllocationError => DecodeError::Variant(format!("HEIF: {text}")),
        _ => DecodeError::Corrupt(text),
    }
}
