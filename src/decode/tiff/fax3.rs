//! Group 3 fax lines (ITU-T T.4), one- and two-dimensional, read with the `fax` crate's code
//! tables. The crate's own decoder reads one-dimensional lines only, and the `tiff` crate
//! refuses Group 3 altogether. A two-dimensional line is coded as Group 4 (T.6) codes a line:
//! each change of colour relative to the line above. Every line starts with an EOL, followed in
//! two-dimensional files by one bit saying how that line is coded. Found and resynchronised as
//! libtiff does: the decoder skips to the next EOL at each row.

use std::convert::Infallible;
use std::io::Cursor;

use fax::maps::{black, mode, white, Mode};
use fax::{BitReader, ByteReader, Color};
use image::metadata::Orientation;
use image::DynamicImage;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::{corrupt, orientation_of, tag_u32};
use crate::decode::{DecodeError, DecodeOptions};

/// TIFF tags the `tiff` crate has no name for.
const T4_OPTIONS: u16 = 292;
const FILL_ORDER: u16 = 266;

/// Why a strip's rows stopped early, for the error line.
pub type Stop = &'static str;

/// How a file's lines are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Group 3 (compression 3): each line after an EOL; `two_d` when the file's T4Options say
    /// lines may be two-dimensional (each then says which it is).
    Group3 { two_d: bool },
    /// CCITT modified Huffman RLE (compression 2, old scanners): one-dimensional lines without
    /// EOLs, each starting on a byte.
    Rle,
}

/// Decodes `rows` lines of `width` pixels from one strip's `bytes` (most significant bit
/// first), handing each to `line` as the positions where the colour changes, starting from
/// white (`fax::decoder::pels` turns them into pixels). On failure, the number of lines
/// decoded, and why it stopped.
pub fn decode_strip(
    bytes: impl ExactSizeIterator<Item = u8>,
    width: u16,
    coding: Coding,
    rows: usize,
    mut line: impl FnMut(&[u16]),
) -> Result<(), (usize, Stop)> {
    let data_bits = bytes.len() as u64 * 8;
    // Zeros after the data: the code tables look up to 13 bits ahead, further than a strip's
    // last code may reach, and zeros run into no code (the EOL search then ends the data).
    let input = bytes.chain([0; 4]).map(Ok::<u8, Infallible>);
    let Ok(reader) = ByteReader::new(input);
    let mut reader = Counted { reader, used: 0 };
    // Two-dimensional lines are coded against the line above, white above the first.
    let mut above = Vec::new();
    let mut current = Vec::new();
    for row in 0..rows {
        let one_d = match coding {
            Coding::Rle => {
                let to_byte = reader.bits_to_byte_boundary();
                skip(&mut reader, to_byte);
                if reader.used >= data_bits {
                    return Err((row, "the data ends before the line"));
                }
                true
            }
            Coding::Group3 { two_d } => {
                skip_to_eol(&mut reader).map_err(|why| (row, why))?;
                !two_d || {
                    let tag = reader.peek(1).ok_or((row, "the data ends"))?;
                    skip(&mut reader, 1);
                    tag == 1
                }
            }
        };
        current.clear();
        if one_d {
            line_1d(&mut reader, width, coding != Coding::Rle, &mut current)
        } else {
            line_2d(&mut reader, width, &above, &mut current)
        }
        .map_err(|why| (row, why))?;
        // A line that ran into the zeros after the data was cut short, not ended by an EOL.
        if reader.used > data_bits {
            return Err((row, "the data ends inside the line"));
        }
        line(&current);
        std::mem::swap(&mut above, &mut current);
    }
    Ok(())
}

/// A bit reader that counts the bits it has consumed.
struct Counted<R> {
    reader: R,
    used: u64,
}

impl<R: BitReader> BitReader for Counted<R> {
    type Error = R::Error;

    fn peek(&self, bits: u8) -> Option<u16> {
        self.reader.peek(bits)
    }

    fn consume(&mut self, bits: u8) -> Result<(), Self::Error> {
        self.used += u64::from(bits);
        self.reader.consume(bits)
    }

    fn bits_to_byte_boundary(&self) -> u8 {
        self.reader.bits_to_byte_boundary()
    }
}

fn skip<R: BitReader<Error = Infallible>>(reader: &mut R, bits: u8) {
    let Ok(()) = reader.consume(bits);
}

/// Skips to just after the next EOL (eleven or more zero bits, then a one), as libtiff does:
/// anything before it (a stray code after a line's last run) is passed over.
fn skip_to_eol<R: BitReader<Error = Infallible>>(reader: &mut R) -> Result<(), Stop> {
    const DATA_ENDS: Stop = "the data ends before the next line";
    while reader.peek(11).ok_or(DATA_ENDS)? != 0 {
        skip(reader, 1);
    }
    while reader.peek(1).ok_or(DATA_ENDS)? == 0 {
        skip(reader, 1);
    }
    skip(reader, 1);
    Ok(())
}

/// An EOL (with fill bits) comes next: eight zero bits begin no code of either table.
fn eol_ahead<R: BitReader>(reader: &R) -> bool {
    reader.peek(8) == Some(0)
}

/// One run of `colour`: make-up codes (64 and up) until a terminating code (below 64).
fn run<R: BitReader>(reader: &mut R, colour: Color) -> Result<u16, Stop> {
    let mut sum: u16 = 0;
    loop {
        let n = match colour {
            Color::White => white::decode(reader),
            Color::Black => black::decode(reader),
        }
        .ok_or("a code that is no run length")?;
        sum = sum.saturating_add(n);
        if n < 64 {
            return Ok(sum);
        }
    }
}

/// A line cut short by an EOL is white to its end, as libtiff fills it.
fn end_white(out: &mut Vec<u16>, at: u16) {
    if out.len() % 2 == 1 {
        out.push(at);
    }
}

/// A one-dimensional line: alternating white and black runs from the left edge. Runs past the
/// width are cut at it, as libtiff cuts them. `eols`: an EOL may end the line early (Group 3;
/// RLE has none, so zeros there are a line cut short).
fn line_1d<R: BitReader>(
    reader: &mut R,
    width: u16,
    eols: bool,
    out: &mut Vec<u16>,
) -> Result<(), Stop> {
    let (mut a0, mut colour) = (0u16, Color::White);
    while a0 < width {
        if eol_ahead(reader) {
            if !eols {
                return Err("a line shorter than the image is wide");
            }
            end_white(out, a0);
            return Ok(());
        }
        a0 = a0.saturating_add(run(reader, colour)?).min(width);
        if a0 < width {
            out.push(a0);
        }
        colour = !colour;
    }
    Ok(())
}

/// A two-dimensional line against the line `above` (both as positions of colour changes, the
/// first a change to black): T.6's pass, horizontal and vertical modes.
fn line_2d<R: BitReader>(
    reader: &mut R,
    width: u16,
    above: &[u16],
    out: &mut Vec<u16>,
) -> Result<(), Stop> {
    let (mut a0, mut colour) = (0u16, Color::White);
    // At the start, a0 stands before the first pixel, so a change at 0 counts as after it.
    let mut start = true;
    while a0 < width {
        if eol_ahead(reader) {
            end_white(out, a0);
            return Ok(());
        }
        // b1: the first change above, right of a0, to the colour a0 is not; b2 the one after.
        // Changes at even positions of the list are to black.
        let from = if start { 0 } else { a0 + 1 };
        let mut k = above.partition_point(|&p| p < from);
        if (k % 2 == 0) != (colour == Color::White) {
            k += 1;
        }
        let b1 = above.get(k).copied().unwrap_or(width);
        let b2 = above.get(k + 1).copied().unwrap_or(width);
        match mode::decode(reader).ok_or("a code that is no two-dimensional mode")? {
            Mode::Pass => a0 = b2,
            Mode::Vertical(delta) => {
                let a1 = i32::from(b1) + i32::from(delta);
                if a1 < i32::from(if start { 0 } else { a0 }) || a1 > i32::from(width) {
                    return Err("a vertical code outside the line");
                }
                a0 = a1 as u16;
                if a0 < width {
                    out.push(a0);
                }
                colour = !colour;
            }
            Mode::Horizontal => {
                let a1 = a0.saturating_add(run(reader, colour)?).min(width);
                let a2 = a1.saturating_add(run(reader, !colour)?).min(width);
                out.extend([a1, a2].into_iter().filter(|&a| a < width));
                a0 = a2;
            }
            Mode::Extension => return Err("uncompressed mode, which is not read"),
            Mode::EOF => return Err("an end of data inside a line"),
        }
        start = false;
    }
    Ok(())
}

/// The Group 3 fax TIFF (`rle`: modified Huffman RLE) in `bytes`, its header in `decoder`,
/// as grey, upright.
pub(super) fn decode(
    bytes: &[u8],
    mut decoder: Decoder<Cursor<&[u8]>>,
    rle: bool,
    options: &DecodeOptions,
) -> Result<DynamicImage, DecodeError> {
    let mut tag = |tag: Tag| tag_u32(&mut decoder, tag);
    let coding = if rle {
        Coding::Rle
    } else {
        // T4Options bit 0: lines may be two-dimensional.
        let two_d = tag(Tag::Unknown(T4_OPTIONS)).unwrap_or(0) & 1 != 0;
        Coding::Group3 { two_d }
    };
    // Fax's white runs are bits of 0, which a BlackIsZero file (1) shows as black.
    let white = if tag(Tag::PhotometricInterpretation) == Some(1) {
        0
    } else {
        255
    };
    let lsb_first = tag(Tag::Unknown(FILL_ORDER)) == Some(2);
    let rows_per_strip = tag(Tag::RowsPerStrip);
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::decode::check_dimensions(width, height, options)?;
    crate::decode::memory::check(u64::from(width) * u64::from(height))?;
    let width16 = u16::try_from(width)
        .map_err(|_| DecodeError::Variant(format!("a fax {width} pixels wide")))?;
    let rows_per_strip = rows_per_strip.unwrap_or(height).clamp(1, height) as usize;
    let offsets = decoder
        .get_tag_u64_vec(Tag::StripOffsets)
        .map_err(corrupt)?;
    let counts = decoder
        .get_tag_u64_vec(Tag::StripByteCounts)
        .map_err(corrupt)?;
    let orientation = orientation_of(&mut decoder);
    let (w, h) = (width as usize, height as usize);
    let mut grey = vec![white; w * h];
    let strips = offsets.len().min(counts.len());
    if strips < h.div_ceil(rows_per_strip) {
        return Err(DecodeError::Tiff(format!(
            "{strips} fax strips of {rows_per_strip} rows for {h} rows"
        )));
    }
    for (strip, rows) in grey.chunks_mut(w * rows_per_strip).enumerate() {
        let start = usize::try_from(offsets[strip]).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(counts[strip]).unwrap_or(usize::MAX));
        let data = bytes
            .get(start..end)
            .ok_or_else(|| DecodeError::Tiff(format!("strip {strip} lies outside the file")))?;
        let input = data
            .iter()
            .map(|&b| if lsb_first { b.reverse_bits() } else { b });
        let count = rows.len() / w;
        let mut lines = rows.chunks_mut(w);
        let put = |transitions: &[u16]| {
            let line = lines.next().expect("one line a row");
            for (pixel, colour) in line
                .iter_mut()
                .zip(fax::decoder::pels(transitions, width16))
            {
                if colour == fax::Color::Black {
                    *pixel = 255 - white;
                }
            }
        };
        decode_strip(input, width16, coding, count, put).map_err(|(row, why)| {
            let row = strip * rows_per_strip + row;
            let kind = match coding {
                Coding::Rle => "CCITT RLE",
                Coding::Group3 { .. } => "Group 3 fax",
            };
            DecodeError::Tiff(format!("{kind} row {row} of {h}: {why}"))
        })?;
    }
    let luma = image::GrayImage::from_raw(width, height, grey).expect("sized above");
    let mut image = DynamicImage::ImageLuma8(luma);
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::{decode_strip, Coding};

    /// The lines of `bits` (a string of 0 and 1, spaces ignored), `width` wide.
    fn lines(bits: &str, width: u16, coding: Coding, rows: usize) -> Vec<Vec<u16>> {
        try_lines(bits, width, coding, rows).unwrap()
    }

    fn try_lines(
        bits: &str,
        width: u16,
        coding: Coding,
        rows: usize,
    ) -> Result<Vec<Vec<u16>>, (usize, super::Stop)> {
        let bits: Vec<u8> = bits
            .bytes()
            .filter(|b| *b != b' ')
            .map(|b| b - b'0')
            .collect();
        let bytes = bits.chunks(8).map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |byte, (i, &bit)| byte | bit << (7 - i))
        });
        let mut out = Vec::new();
        decode_strip(bytes, width, coding, rows, |line| out.push(line.to_vec()))?;
        Ok(out)
    }

    #[test]
    fn rle_lines_start_on_a_byte_and_a_cut_one_fails() {
        // Width 16, no EOLs. White 4 (1011), black 4 (011), white 8 (10011), padded to a byte;
        // then white 16 (101010), padded.
        let bits = "1011 011 10011 0000  101010 00";
        assert_eq!(lines(bits, 16, Coding::Rle, 2), [vec![4, 8], vec![]]);
        // The second line cut after its first code (the rest of its byte zeros), or missing.
        assert_eq!(
            try_lines("1011 011 10011 0000  1000 0000", 16, Coding::Rle, 2),
            Err((1, "a line shorter than the image is wide"))
        );
        assert_eq!(
            try_lines("1011 011 10011 0000", 16, Coding::Rle, 2),
            Err((1, "the data ends before the line"))
        );
    }

    #[test]
    fn two_dimensional_lines_follow_the_line_above() {
        // Width 16. Line 1, 1-D (tag 1): white 4 (1011), black 4 (011), white 8 (10011).
        // Line 2, 2-D (tag 0): V0 (1) puts a change at 4, VR1 (011) at 9, V0 ends the line.
        // Line 3, 2-D: pass (0001) skips 4..9, horizontal (001) white 2 (0111), black 3 (10):
        // changes at 11 and 14, V0 ends the line.
        let eol = "000000000001";
        let bits =
            format!("{eol}1 1011 011 10011  {eol}0 1 011 1  {eol}0 0001 001 0111 10 1  0000");
        assert_eq!(
            lines(&bits, 16, Coding::Group3 { two_d: true }, 3),
            [vec![4, 8], vec![4, 9], vec![11, 14]]
        );
    }

    #[test]
    fn a_line_cut_short_by_an_eol_is_white_to_its_end() {
        // White 4, then the next EOL: the rest of the 16 is white, not black. Then white 16.
        let eol = "000000000001";
        let bits = format!("{eol} 1011 {eol} 101010 00");
        assert_eq!(
            lines(&bits, 16, Coding::Group3 { two_d: false }, 2),
            [vec![4, 4], vec![]]
        );
    }
}
