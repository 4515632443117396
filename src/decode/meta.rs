//! Metadata read alongside the pixels: orientation from the places `image` 0.25 does not look,
//! the ICC profile split across JPEG segments, and EXIF to keep with `--keep-metadata`.

use std::io::Cursor;

use image::metadata::Orientation;

/// What a thumbnail may carry over from its original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The embedded ICC profile.
    pub icc: Option<Vec<u8>>,
    /// The EXIF block as a TIFF structure (no `Exif\0\0` prefix), orientation reset to 1
    /// because the decoder turns the pixels upright.
    pub exif: Option<Vec<u8>>,
}

/// EXIF without its optional `Exif\0\0` prefix, with the orientation taken out (set to 1).
/// Returns the orientation it held.
pub fn upright_exif(exif: &[u8]) -> (Vec<u8>, Option<Orientation>) {
    let mut exif = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif).to_vec();
    let orientation = Orientation::remove_from_exif_chunk(&mut exif);
    (exif, orientation)
}

/// The orientation an XMP packet states (`tiff:Orientation`, as an attribute or an element),
/// used when there is no EXIF orientation, as Pillow does: some editors write only XMP.
pub fn xmp_orientation(xmp: &[u8]) -> Option<Orientation> {
    let text = std::str::from_utf8(xmp).ok()?;
    let at = text.find("tiff:Orientation")? + "tiff:Orientation".len();
    // `tiff:Orientation="6"` or `<tiff:Orientation>6</tiff:Orientation>`
    let value = text[at..].trim_start_matches(['=', '"', '\'', '>', ' ']);
    let digit = value.chars().next()?.to_digit(10)?;
    Orientation::from_exif(digit as u8)
}

/// The XMP packet of a JPEG's APP1 segment, if that segment is one.
pub fn jpeg_xmp(app1: &[u8]) -> Option<&[u8]> {
    app1.strip_prefix(b"http://ns.adobe.com/xap/1.0/\0")
}

/// The ICC profile of a JPEG, whose APP2 `ICC_PROFILE` segments each carry a numbered part.
pub fn jpeg_icc<'a>(app2: impl Iterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut parts: Vec<(u8, &[u8])> = app2
        .filter_map(|data| data.strip_prefix(b"ICC_PROFILE\0"))
        .filter(|data| data.len() > 2)
        .map(|data| (data[0], &data[2..]))
        .collect();
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|&(sequence, _)| sequence);
    Some(
        parts
            .into_iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}

/// A WebP chunk (`EXIF`, `ICCP`), found by walking the RIFF chunks within the file's bytes.
///
/// `image` 0.25 misses the `Exif\0\0`-prefixed chunks that many tools write, and allocates a
/// chunk's declared size before reading it: a 4 KB file declaring a 4 GiB EXIF chunk (found by
/// fuzzing) made it ask for 4 GiB. Here a chunk that does not fit the file is never read.
pub fn webp_chunk<'a>(bytes: &'a [u8], wanted: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12; // "RIFF", size, "WEBP"
    while at + 8 <= bytes.len() {
        let kind = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        let start = at + 8;
        let end = start
            .checked_add(size as usize)
            .filter(|&end| end <= bytes.len())?;
        if kind == wanted {
            return Some(&bytes[start..end]);
        }
        at = end + (size as usize & 1); // chunks are padded to an even length
    }
    None
}

/// EXIF that ImageMagick stores in a PNG as hex text ("Raw profile type exif" or "APP1"), which
/// Pillow reads and `image` does not: `\nexif\n  <length>\n<hex digits, wrapped>`.
pub fn png_raw_profile_exif(bytes: &[u8]) -> Option<Vec<u8>> {
    // The chunks before the pixel data are all the decoder reads here; compressed text is
    // inflated only for the two keywords, and never past 1 MiB (a text bomb stays shut).
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_ignore_iccp_chunk(true);
    let reader = decoder.read_info().ok()?;
    let info = reader.info();
    let wanted =
        |keyword: &str| matches!(keyword, "Raw profile type exif" | "Raw profile type APP1");
    let text = info
        .uncompressed_latin1_text
        .iter()
        .find(|c| wanted(&c.keyword))
        .map(|c| c.text.clone())
        .or_else(|| {
            info.compressed_latin1_text
                .iter()
                .find(|c| wanted(&c.keyword))
                .and_then(|c| {
                    let mut c = c.clone();
                    c.decompress_text_with_limit(1 << 20).ok()?;
                    c.get_text().ok()
                })
        })?;
    // Skip the profile name and length lines, then read hex digits, ignoring line breaks.
    let mut lines = text.trim_start().splitn(3, '\n');
    let (_name, length, hex) = (lines.next()?, lines.next()?, lines.next()?);
    let length: usize = length.trim().parse().ok()?;
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
    if length > digits.len() / 2 {
        return None;
    }
    let nibble = |d: u8| (d as char).to_digit(16).unwrap_or(0) as u8;
    Some(
        digits
            .chunks_exact(2)
            .take(length)
            .map(|p| nibble(p[0]) << 4 | nibble(p[1]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::{jpeg_icc, png_raw_profile_exif, upright_exif, webp_chunk};
    use image::metadata::Orientation;

    #[test]
    fn webp_orientation_reads_prefixed_exif_and_skips_chunks_past_the_end() {
        let rotated = include_bytes!("../../tests/fixtures/webp_exif_prefixed_orientation_3.webp");
        let exif = webp_chunk(rotated, b"EXIF").unwrap();
        assert_eq!(upright_exif(exif).1, Some(Orientation::Rotate180));
        // Found by fuzzing: an EXIF chunk declaring ~4 GiB in a 4 KB file.
        let hostile =
            include_bytes!("../../tests/fixtures/fuzz_webp_exif_chunk_declares_4gib.webp");
        assert_eq!(webp_chunk(hostile, b"EXIF"), None);
    }

    #[test]
    fn png_raw_profile_orientation_is_read() {
        let png = include_bytes!(
            "../../tests/fixtures/png_raw_profile_orientation_3_should_turn_180.png"
        );
        let exif = png_raw_profile_exif(png).expect("the raw profile is read");
        let (_, orientation) = upright_exif(&exif);
        assert_eq!(orientation, Some(Orientation::Rotate180));
    }

    #[test]
    fn kept_exif_says_upright() {
        let png = include_bytes!(
            "../../tests/fixtures/png_raw_profile_orientation_3_should_turn_180.png"
        );
        let (exif, _) = upright_exif(&png_raw_profile_exif(png).unwrap());
        assert_eq!(
            Orientation::from_exif_chunk(&exif),
            Some(Orientation::NoTransforms)
        );
    }

    #[test]
    fn icc_parts_are_joined_in_their_numbered_order() {
        let second = b"ICC_PROFILE\0\x02\x02world".as_slice();
        let first = b"ICC_PROFILE\0\x01\x02hello ".as_slice();
        let other = b"MPF\0whatever".as_slice();
        assert_eq!(
            jpeg_icc([second, other, first].into_iter()).unwrap(),
            b"hello world"
        );
        assert_eq!(jpeg_icc([other].into_iter()), None);
    }
}
