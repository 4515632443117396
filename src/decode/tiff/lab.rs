//! CIE L*a*b* TIFFs (CIELab and ICCLab), which the `tiff` crate refuses: read as RGB samples
//! from a relabelled copy, converted to sRGB here.

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use tiff::decoder::DecodingResult;
use tiff::tags::Tag;
use tiff::ColorType;

use super::{corrupt, limited, orientation_of, relabelled, CIELAB, RGB};
use crate::decode::{DecodeError, DecodeOptions};

/// The CIE L*a*b* TIFF in `bytes` (8 or 16 bits a sample, alpha kept; `kind` its photometric
/// value, CIELab or ICCLab) as sRGB, upright. The Lab is relative to the file's WhitePoint, D50
/// without one (libtiff's default, after Adobe's TIFF technical note: Photoshop's Lab), adapted
/// to sRGB's D65.
pub(super) fn decode(
    bytes: &[u8],
    kind: u16,
    options: &DecodeOptions,
) -> Result<DynamicImage, DecodeError> {
    let rgb = relabelled(bytes, RGB)?;
    let mut decoder = limited(&rgb, options)?;
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::decode::check_dimensions(width, height, options)?;
    // Up to four samples of one byte as decoded, of two as widened here, and the output.
    crate::decode::memory::check(u64::from(width) * u64::from(height) * 16)?;
    let channels = match decoder.colortype().map_err(corrupt)? {
        ColorType::RGB(8 | 16) => 3,
        ColorType::RGBA(8 | 16) => 4,
        other => {
            return Err(DecodeError::Variant(format!(
                "Lab TIFF with samples {other:?}"
            )))
        }
    };
    let white = match decoder.find_tag(Tag::Unknown(WHITE_POINT)) {
        Ok(Some(tiff::decoder::ifd::Value::List(xy))) => match xy.as_slice() {
            [tiff::decoder::ifd::Value::Rational(xn, xd), tiff::decoder::ifd::Value::Rational(yn, yd)]
                if *xd > 0 && *yn > 0 && *yd > 0 =>
            {
                [
                    f64::from(*xn) / f64::from(*xd),
                    f64::from(*yn) / f64::from(*yd),
                ]
            }
            _ => D50,
        },
        _ => D50,
    };
    let orientation = orientation_of(&mut decoder);
    let (samples, depth): (Vec<u16>, u32) = match decoder.read_image().map_err(corrupt)? {
        DecodingResult::U8(v) => (v.into_iter().map(u16::from).collect(), 8),
        DecodingResult::U16(v) => (v, 16),
        _ => return Err(DecodeError::Variant("Lab TIFF of that depth".into())),
    };
    let pixels = width as usize * height as usize;
    if samples.len() < pixels * channels {
        return Err(DecodeError::Tiff(
            "fewer pixels than the header declares".into(),
        ));
    }
    let full = f64::from((1u32 << depth) - 1);
    let half = 1u32 << (depth - 1);
    // a* and b* in units of one: CIELab stores them signed (two's complement), ICCLab offset
    // by half the range; 16-bit samples carry 8 bits of fraction.
    let ab = |sample: u16| {
        let s = u32::from(sample);
        let signed = match kind {
            CIELAB if s >= half => f64::from(s) - f64::from(2 * half),
            CIELAB => f64::from(s),
            _ => f64::from(s) - f64::from(half),
        };
        signed / f64::from(1u32 << (depth - 8))
    };
    let lab = crate::colour::LabToSrgb::new(white);
    let mut out = Vec::with_capacity(pixels * channels);
    for pixel in samples.chunks_exact(channels).take(pixels) {
        let l = f64::from(pixel[0]) / full * 100.0;
        out.extend(lab.convert(l, ab(pixel[1]), ab(pixel[2])));
        if channels == 4 {
            out.push((f64::from(pixel[3]) / full * 255.0).round() as u8);
        }
    }
    let mut image = if channels == 4 {
        DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, out).expect("sized"))
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, out).expect("sized"))
    };
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(image)
}

/// WhitePoint: the chromaticity (x, y) of the image's white.
const WHITE_POINT: u16 = 318;
/// CIE D50's chromaticity, ICC's profile connection white.
const D50: [f64; 2] = [0.3457, 0.3585];
