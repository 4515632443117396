//! TIFFs that `image`'s decoder gets wrong or refuses, read with the `tiff` crate under it:
//!
//! - Palette TIFFs (scans, maps, old archives), refused ("Photometric interpretation
//!   RGBPalette is unsupported"): the indices decode as grey samples once a copy of the file
//!   says the image is grey, and the file's ColorMap turns them into colours.
//! - 8 and 16-bit CMYK TIFFs (print archives) carrying a profile: `image` converts CMYK by the naive
//!   formula and drops the profile; here the inks go through it, as for CMYK JPEGs.
//! - Group 3 fax TIFFs (compression 3, one- or two-dimensional, as fax servers and scanners
//!   store pages), refused by the `tiff` crate ("compression method Fax3"): the strips are
//!   decoded in [`fax3`] on the code tables of the `fax` crate, the one the `tiff` crate uses
//!   for Group 4.
//! - LZW tiles without an end code, which the `tiff` crate fails on: [`lzw_tiles`].
//! - CIE L\*a\*b\* TIFFs, refused: [`lab`].
//! - Old-style JPEG (compression 6), refused: its embedded JPEG is handed back to the JPEG
//!   path.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

use super::{DecodeError, DecodeOptions};

mod fax3;
mod lab;
mod lzw_tiles;

/// PhotometricInterpretation: 1 is BlackIsZero (grey), 3 RGB palette, 5 separated (CMYK).
const PHOTOMETRIC: u16 = 262;
const GREY: u16 = 1;
const PALETTE: u16 = 3;
const SEPARATED: u16 = 5;
/// CIE L*a*b* with signed a* and b* (8), and ICC's encoding with them offset by half (9).
const CIELAB: u16 = 8;
const ICCLAB: u16 = 9;
const RGB: u16 = 2;

/// An image and its ICC profile.
pub type WithProfile = (DynamicImage, Option<Vec<u8>>);

/// A TIFF that `image` refuses or misreads, decoded here: what it is is decided once, from its
/// PhotometricInterpretation (palette, CIE L*a*b*, CMYK with a profile), then its compression
/// (see [`decode_compressed`]). `Ok(None)` for every other TIFF, which `image` reads.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Option<WithProfile>, DecodeError> {
    let without_profile = |image| Some((image, None));
    match photometric_value(bytes) {
        Some(PALETTE) => Ok(without_profile(decode_palette(bytes, options)?)),
        Some(kind @ (CIELAB | ICCLAB)) => Ok(without_profile(lab::decode(bytes, kind, options)?)),
        Some(SEPARATED) => Ok(decode_cmyk(bytes, options)?.and_then(without_profile)),
        _ => decode_compressed(bytes, options),
    }
}

/// The first image's PhotometricInterpretation, where it is one SHORT in its entry.
fn photometric_value(bytes: &[u8]) -> Option<u16> {
    photometric(bytes).map(|(_, value, _)| value)
}

/// An 8 or 16-bit CMYK TIFF with an ICC profile, as RGB through that profile (16-bit inks
/// rounded to 8 bits first, the precision moxcms's 8-bit transform and the thumbnail keep),
/// upright; `Ok(None)` for any other separated TIFF (no profile, extra samples): `image`
/// reads those.
fn decode_cmyk(bytes: &[u8], options: &DecodeOptions) -> Result<Option<DynamicImage>, DecodeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let bits = match decoder.colortype().map_err(corrupt)? {
        ColorType::CMYK(bits @ (8 | 16)) => bits,
        _ => return Ok(None),
    };
    let Some(icc) = decoder.get_tag_u8_vec(Tag::IccProfile).ok() else {
        return Ok(None);
    };
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::decode::check_dimensions(width, height, options)?;
    crate::decode::memory::check(u64::from(width) * u64::from(height) * 4 * u64::from(bits / 8))?;
    let orientation = orientation_of(&mut decoder);
    let inks = match decoder.read_image().map_err(corrupt)? {
        DecodingResult::U8(inks) => inks,
        DecodingResult::U16(inks) => inks
            .iter()
            .map(|&v| ((u32::from(v) + 128) / 257) as u8)
            .collect(),
        _ => return Ok(None),
    };
    if inks.len() < width as usize * height as usize * 4 {
        return Err(DecodeError::Tiff(
            "fewer pixels than the header declares".into(),
        ));
    }
    // TIFF's inks are not inverted (0 is no ink), as `cmyk_to_rgb` takes them.
    let rgb = crate::colour::cmyk_to_rgb(&inks, width, height, Some(&icc));
    let mut image = DynamicImage::ImageRgb8(rgb);
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(Some(image))
}

/// The `tiff` crate's reason, as this module's error.
fn corrupt(error: tiff::TiffError) -> DecodeError {
    DecodeError::Tiff(error.to_string())
}

/// A tag's value as a number, `None` when absent or not one.
fn tag_u32(decoder: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Option<u32> {
    decoder.find_tag(tag).ok()??.into_u32().ok()
}

fn orientation_of(decoder: &mut Decoder<Cursor<&[u8]>>) -> Option<Orientation> {
    decoder
        .find_tag(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(|v| Orientation::from_exif(v.into_u16().ok()?.min(255) as u8))
}

/// Where the first image's PhotometricInterpretation value sits, the value, and whether the
/// file is big-endian; `None` for anything but a plain (not Big)TIFF with that tag inline.
fn photometric(bytes: &[u8]) -> Option<(usize, u16, bool)> {
    inline_short(bytes, PHOTOMETRIC)
}

/// Where the first image's value of `tag` sits, the value, and whether the file is big-endian;
/// `None` for anything but a plain (not Big)TIFF with that tag as one SHORT in its entry.
fn inline_short(bytes: &[u8], tag: u16) -> Option<(usize, u16, bool)> {
    let big = match bytes.get(..4)? {
        b"II*\0" => false,
        b"MM\0*" => true,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let b: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let b: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let ifd = if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    } as usize;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries).find_map(|i| {
        let entry = ifd + 2 + 12 * i;
        // A SHORT (type 3), one of it, stored in the entry itself.
        (u16_at(entry)? == tag && u16_at(entry + 2)? == 3)
            .then(|| Some((entry + 8, u16_at(entry + 8)?, big)))
            .flatten()
    })
}

/// Compression (259) 6: TIFF 6.0's old-style JPEG, withdrawn by its Technical Note 2 (1995)
/// and still found in scans and camera files of the time; JPEGInterchangeFormat (513) and its
/// length (514) point at a JPEG stream inside the file.
const COMPRESSION: u16 = 259;
const OLD_JPEG: u16 = 6;
const JPEG_INTERCHANGE: u16 = 513;
const JPEG_INTERCHANGE_LENGTH: u16 = 514;

/// Whether the first image of this TIFF is old-style JPEG, which the `tiff` crate refuses.
pub fn is_old_jpeg(bytes: &[u8]) -> bool {
    inline_short(bytes, COMPRESSION).is_some_and(|(_, value, _)| value == OLD_JPEG)
}

/// The JPEG stream of an old-style JPEG TIFF, in the form libtiff and Pillow read most often:
/// JPEGInterchangeFormat points at a whole JPEG, scan included, and the TIFF's orientation. A
/// file that keeps its tables there and its scans in the strips is refused by name.
pub fn old_jpeg_stream(bytes: &[u8]) -> Result<(&[u8], Option<Orientation>), DecodeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let start = tag_u32(&mut decoder, Tag::Unknown(JPEG_INTERCHANGE));
    let length = tag_u32(&mut decoder, Tag::Unknown(JPEG_INTERCHANGE_LENGTH));
    let orientation = orientation_of(&mut decoder);
    let stream = start.zip(length).and_then(|(start, length)| {
        let start = start as usize;
        bytes.get(start..start.checked_add(length as usize)?)
    });
    match stream {
        Some(jpeg) if jpeg.starts_with(&[0xFF, 0xD8]) && crate::decode::jpeg::has_scan(jpeg) => {
            Ok((jpeg, orientation))
        }
        _ => Err(DecodeError::Variant(
            "old-style JPEG TIFF (compression 6) without a whole JPEG at its \
             JPEGInterchangeFormat (tables and scans stored apart)"
                .into(),
        )),
    }
}

/// A copy of `bytes` whose first image says it is of `photometric_value`, so that the `tiff`
/// crate reads samples of a kind it refuses as ones it knows.
fn relabelled(bytes: &[u8], photometric_value: u16) -> Result<Vec<u8>, DecodeError> {
    let (at, _, big) =
        photometric(bytes).ok_or_else(|| DecodeError::Tiff("no photometric tag".into()))?;
    let mut copy = bytes.to_vec();
    let value = if big {
        photometric_value.to_be_bytes()
    } else {
        photometric_value.to_le_bytes()
    };
    copy[at..at + 2].copy_from_slice(&value);
    Ok(copy)
}

/// A decoder of `bytes` whose buffers stay within the pixel budget.
fn limited<'a>(
    bytes: &'a [u8],
    options: &DecodeOptions,
) -> Result<Decoder<Cursor<&'a [u8]>>, DecodeError> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(options.max_pixels).unwrap_or(usize::MAX);
    Ok(Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(limits))
}

/// The palette TIFF in `bytes` as RGB, upright, refused over the pixel budget before decoding.
fn decode_palette(bytes: &[u8], options: &DecodeOptions) -> Result<DynamicImage, DecodeError> {
    let grey = relabelled(bytes, GREY)?;
    let mut decoder = limited(&grey, options)?;
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::decode::check_dimensions(width, height, options)?;
    crate::decode::memory::check(u64::from(width) * u64::from(height) * 3)?;
    let bits = match decoder.colortype().map_err(corrupt)? {
        ColorType::Gray(bits @ (1 | 2 | 4 | 8)) => bits,
        other => {
            return Err(DecodeError::Variant(format!(
                "palette TIFF with samples {other:?}"
            )))
        }
    };
    let map = decoder.get_tag_u16_vec(Tag::ColorMap).map_err(corrupt)?;
    let colours = 1usize << bits;
    if map.len() != 3 * colours {
        return Err(DecodeError::Tiff(format!(
            "a colour map of {} entries for {bits}-bit indices",
            map.len()
        )));
    }
    let orientation = orientation_of(&mut decoder);
    let DecodingResult::U8(samples) = decoder.read_image().map_err(corrupt)? else {
        return Err(DecodeError::Tiff(
            "palette indices wider than a byte".into(),
        ));
    };
    let (w, h) = (width as usize, height as usize);
    // Below 8 bits the rows come packed, each starting on a byte, unless already one a byte.
    let packed = bits < 8 && samples.len() != w * h;
    let row_bytes = if packed {
        (w * usize::from(bits)).div_ceil(8)
    } else {
        w
    };
    if samples.len() < row_bytes * h {
        return Err(DecodeError::Tiff(
            "fewer pixels than the header declares".into(),
        ));
    }
    let index = |x: usize, y: usize| -> usize {
        if !packed {
            return usize::from(samples[y * row_bytes + x]);
        }
        let bit = x * usize::from(bits);
        let byte = samples[y * row_bytes + bit / 8];
        let shift = 8 - usize::from(bits) - bit % 8;
        usize::from(byte >> shift) & (colours - 1)
    };
    let mut rgb = RgbImage::new(width, height);
    for (x, y, pixel) in rgb.enumerate_pixels_mut() {
        let i = index(x as usize, y as usize).min(colours - 1);
        // ColorMap holds 16-bit reds, then greens, then blues.
        pixel.0 = [0, 1, 2].map(|c| (map[c * colours + i] >> 8) as u8);
    }
    let mut image = DynamicImage::ImageRgb8(rgb);
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(image)
}

/// Compression 2: CCITT modified Huffman RLE; 3: CCITT Group 3 fax.
const RLE: u32 = 2;
const FAX3: u32 = 3;

/// Compression 5: LZW.
const LZW: u32 = 5;

/// A TIFF whose compression the `tiff` crate refuses or misreads, decoded here from one parse
/// of its header: Group 3 fax and modified Huffman RLE, and LZW tiles (see `lzw_tiles`).
/// `Ok(None)` for every other TIFF, which `image` reads.
fn decode_compressed(
    bytes: &[u8],
    options: &DecodeOptions,
) -> Result<Option<WithProfile>, DecodeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    match tag_u32(&mut decoder, Tag::Compression) {
        Some(code @ (RLE | FAX3)) => {
            let rle = code == RLE;
            Ok(Some((fax3::decode(bytes, decoder, rle, options)?, None)))
        }
        Some(LZW) => lzw_tiles::decode(bytes, decoder, options),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::{photometric_value, PALETTE};

    #[test]
    fn only_tiffs_with_a_palette_photometric_are_taken() {
        let is_palette = |bytes: &[u8]| photometric_value(bytes) == Some(PALETTE);
        // II, offset 8, one entry: 262 SHORT 1 = 3.
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
        tiff.extend([6, 1, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0]);
        assert!(is_palette(&tiff));
        tiff[18] = 2; // RGB
        assert!(!is_palette(&tiff));
        assert!(!is_palette(b"MM\0*\0\0"));
        assert!(!is_palette(b"\x89PNG\r\n\x1a\n"));
    }
}
