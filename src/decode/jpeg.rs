//! JPEG decoding scaled in the DCT domain (shrink-on-load), through libjpeg-turbo's API as built
//! by the `mozjpeg` crate (C compiler only, no nasm).
//!
//! A thumbnail of a 12-megapixel photo needs a small fraction of its pixels: libjpeg can decode
//! at n/8 of the size by running a smaller inverse DCT per block, which skips most of the
//! decoder's work and most of the resizer's. We pick the smallest n that leaves the decoded
//! image `shrink_margin` times wider than the widest thumbnail, so Lanczos3 still has real
//! pixels to work with. CMYK and YCCK files are decoded to inks, scaled the same way, and turned
//! into RGB through their profile (see `colour`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use mozjpeg::{ColorSpace, Decompress, Marker};

use super::meta::{self, Metadata};
use super::prune::{self, Header, Pruner};
use super::{DecodeError, DecodeOptions, Decoded, Target};

/// The DCT scale numerator (out of 8): the smallest that keeps the decoded image at least
/// `margin` times what `target` needs of it, moved up to a scale with a SIMD inverse DCT where
/// that costs less (see [`faster_scale`]). 8 means full size.
pub fn scale_numerator(upright: (u32, u32), target: Target, margin: f32) -> u8 {
    if target.is_full_size() {
        return 8;
    }
    let upright_width = upright.0;
    let needed = f64::from(target.width_for(upright.0, upright.1)) * f64::from(margin);
    let least = (1..8)
        .find(|&n| (u64::from(upright_width) * u64::from(n)).div_ceil(8) as f64 >= needed)
        .unwrap_or(8);
    faster_scale(least)
}

/// libjpeg-turbo has vector inverse DCTs for 1/8, 2/8, 4/8 and 8/8 only; 3/8, 6/8 and 7/8 run
/// scalar code (7/8 a 7x7 IDCT, and a 14x14 one for chroma) and cost more than the next SIMD
/// scale up. Measured with `djpeg -scale` on 400 files of `scripts/make-small-set.py`, one
/// process each: 3/8 0.78 s, 4/8 0.71 s; 6/8 0.92 s, 7/8 1.07 s, 8/8 0.84-0.89 s; 5/8 0.83-0.87 s
/// (a tie, and 8/8 would give the resizer 2.6 times the pixels: 5/8 stays). Going up only ever
/// adds detail. Without SIMD (no nasm at build time, see build.rs) every IDCT is scalar and the
/// smallest scale is the fastest: it is kept.
fn faster_scale(least: u8) -> u8 {
    if !cfg!(jpeg_simd) {
        return least;
    }
    match least {
        3 => 4,
        6 | 7 => 8,
        n => n,
    }
}

/// Decodes a JPEG, scaled for `options.target` and turned upright. `Ok(None)` means this file
/// is better decoded by the general path (a colour space libjpeg cannot name).
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Option<Decoded>, DecodeError> {
    if let Some(header) = pruning(bytes, options) {
        let pruned = Pruner::new(bytes, header.dc_only.clone());
        let skipped = pruned.skipped();
        if let Some(result) = decode_from(pruned, options, Some(&header))? {
            return Ok(with_skipped(result, &skipped));
        }
    }
    Ok(decode_from(bytes, options, None)?.flatten())
}

/// The headers of a progressive file worth pruning for this decode: one whose scale comes out
/// at 1/8, read whole (a file allowed to be cut short keeps today's decode, block smoothing of
/// its missing scans included).
fn pruning(head: &[u8], options: &DecodeOptions) -> Option<Header> {
    if options.allow_truncated || options.all_scans {
        return None;
    }
    let header = prune::plan(head)?;
    let upright = upright_size(header.width, header.height, header.orientation);
    (scale_numerator(upright, options.target, options.shrink_margin) == 1).then_some(header)
}

fn with_skipped(decoded: Option<Decoded>, skipped: &AtomicU64) -> Option<Decoded> {
    decoded.map(|d| Decoded {
        skipped_scan_bytes: skipped.load(Ordering::Relaxed),
        memory: None,
        ..d
    })
}

pub(super) fn upright_size(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    let swaps_axes = matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    );
    if swaps_axes {
        (height, width)
    } else {
        (width, height)
    }
}

/// How much of a file is read first: enough for the headers of nearly every JPEG.
pub const HEAD: usize = 64 * 1024;
/// How much of a file's end is searched for the end-of-image marker.
const TAIL: u64 = 4096;

/// Decodes a large JPEG straight from its open `file`, whose first bytes are `head`, without
/// holding the file in memory (a 16 MB camera file is 16 MB less at the peak). `Ok(None)` means:
/// read the file whole and use [`decode`] (a small file, headers over 64 KB, data after the end
/// marker); the file's position is then unspecified.
pub fn decode_file(
    file: &mut File,
    head: &[u8],
    options: &DecodeOptions,
) -> Result<Option<Decoded>, DecodeError> {
    let read_err = DecodeError::Read;
    let length = file.metadata().map_err(read_err)?.len();
    if head.len() < HEAD || length <= HEAD as u64 {
        return Ok(None);
    }
    let Some(scan) = first_scan(head) else {
        return Ok(None);
    };
    if !options.allow_truncated {
        let from = (length.saturating_sub(TAIL)).max(scan as u64);
        file.seek(SeekFrom::Start(from)).map_err(read_err)?;
        let mut tail = Vec::with_capacity(TAIL as usize);
        file.read_to_end(&mut tail).map_err(read_err)?;
        if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
            // Truncated, or data after the marker: the whole-file check decides.
            return Ok(None);
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    if let Some(header) = pruning(head, options) {
        let pruned = Pruner::new(
            BufReader::with_capacity(HEAD, &mut *file),
            header.dc_only.clone(),
        );
        let skipped = pruned.skipped();
        if let Some(result) = decode_from(pruned, options, Some(&header))? {
            return Ok(with_skipped(result, &skipped));
        }
        file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    }
    Ok(decode_from(BufReader::with_capacity(HEAD, file), options, None)?.flatten())
}

/// Decodes from `reader`; with `pruned`, the reader is missing the scans that header says a
/// 1/8 decode does not use. `Ok(None)` then means libjpeg saw the file otherwise (another
/// scale, other components): decode the whole stream instead. `Ok(Some(None))` means: use the
/// general path.
fn decode_from<R: BufRead>(
    reader: R,
    options: &DecodeOptions,
    pruned: Option<&Header>,
) -> Result<Option<Option<Decoded>>, DecodeError> {
    // libjpeg reports fatal errors by unwinding out of its callbacks; the mozjpeg crate turns
    // them into a panic payload with the message.
    crate::catch::quietly(|| decode_inner(reader, options, pruned)).unwrap_or_else(|message| {
        Err(DecodeError::Jpeg(
            message
                .trim_start_matches("libjpeg fatal error: ")
                .to_string(),
        ))
    })
}

fn decode_inner<R: BufRead>(
    reader: R,
    options: &DecodeOptions,
    pruned: Option<&Header>,
) -> Result<Option<Option<Decoded>>, DecodeError> {
    let io_err = DecodeError::JpegRead;
    let mut jpeg = Decompress::builder()
        .with_markers(&[Marker::APP(1), Marker::APP(2), Marker::APP(14)])
        .from_reader(reader)
        .map_err(io_err)?;
    let (width, height) = (jpeg.width() as u32, jpeg.height() as u32);
    super::check_dimensions(width, height, options)?;
    let output = match jpeg.color_space() {
        ColorSpace::JCS_GRAYSCALE => ColorSpace::JCS_GRAYSCALE,
        ColorSpace::JCS_YCbCr | ColorSpace::JCS_RGB => ColorSpace::JCS_RGB,
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => ColorSpace::JCS_CMYK,
        _ => return Ok(Some(None)),
    };
    let exif = jpeg
        .markers()
        .filter(|m| m.marker == Marker::APP(1))
        .find_map(|m| m.data.strip_prefix(b"Exif\0\0"))
        .map(meta::upright_exif);
    let xmp_orientation = || {
        jpeg.markers()
            .filter(|m| m.marker == Marker::APP(1))
            .find_map(|m| meta::jpeg_xmp(m.data))
            .and_then(meta::xmp_orientation)
    };
    let orientation = exif
        .as_ref()
        .and_then(|(_, o)| *o)
        .or_else(xmp_orientation)
        .unwrap_or(Orientation::NoTransforms);
    let mut metadata = Metadata {
        icc: meta::jpeg_icc(
            jpeg.markers()
                .filter(|m| m.marker == Marker::APP(2))
                .map(|m| m.data),
        ),
        exif: exif.map(|(exif, _)| exif),
    };
    // Photoshop, the usual author of CMYK JPEGs, stores inks inverted and says so in APP14.
    let adobe = jpeg
        .markers()
        .any(|m| m.marker == Marker::APP(14) && m.data.starts_with(b"Adobe"));
    let upright = upright_size(width, height, orientation);
    let scale = scale_numerator(upright, options.target, options.shrink_margin);
    if let Some(header) = pruned {
        // The pruned stream is right only for the decode it was planned for; libjpeg's own
        // reading of the headers must agree with ours, or the whole file is decoded instead.
        let components = jpeg.components();
        let (max_h, max_v) = components.iter().fold((0, 0), |(h, v), c| {
            (h.max(c.h_samp_factor), v.max(c.v_samp_factor))
        });
        let dc_only: Vec<u8> = components
            .iter()
            .filter(|c| !(max_h % (2 * c.h_samp_factor) == 0 && max_v % (2 * c.v_samp_factor) == 0))
            .map(|c| c.component_id as u8)
            .collect();
        let agrees = scale == 1
            && (header.width, header.height) == (width, height)
            && header.orientation == orientation
            && header.dc_only == dc_only;
        if !agrees {
            return Ok(None);
        }
        // Smoothing would guess the AC coefficients the pruned stream leaves unknown; with
        // the whole stream they are all known and smoothing does nothing.
        jpeg.do_block_smoothing(false);
    }
    jpeg.scale(scale);

    let mut started = jpeg.to_colorspace(output).map_err(io_err)?;
    let (w, h) = (started.width() as u32, started.height() as u32);
    let samples = if output == ColorSpace::JCS_GRAYSCALE {
        1
    } else {
        4
    };
    super::memory::check(u64::from(w) * u64::from(h) * samples)?;
    let mut pixels: Vec<u8> = started.read_scanlines().map_err(io_err)?;
    started.finish().map_err(io_err)?;
    let short = || DecodeError::Jpeg("decoder returned fewer pixels than announced".into());
    let mut image = match output {
        ColorSpace::JCS_GRAYSCALE => {
            GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        ColorSpace::JCS_RGB => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        _ => {
            if pixels.len() < (w as usize) * (h as usize) * 4 {
                return Err(short());
            }
            if adobe {
                pixels.iter_mut().for_each(|v| *v = 255 - *v);
            }
            // The result is sRGB: the CMYK profile has done its work and is not kept.
            let icc = metadata.icc.take();
            Some(DynamicImage::ImageRgb8(crate::colour::cmyk_to_rgb(
                &pixels,
                w,
                h,
                icc.as_deref(),
            )))
        }
    }
    .ok_or_else(short)?;
    image.apply_orientation(orientation);
    Ok(Some(Some(Decoded {
        image,
        format: ImageFormat::Jpeg,
        source_size: upright,
        metadata,
        skipped_scan_bytes: 0,
        memory: None,
    })))
}

/// Whether the JPEG's compressed data is followed by its end-of-image marker. libjpeg (like
/// zune-jpeg) fills a truncated file's missing part with grey and reports success, so a cut
/// download would otherwise become a half-grey thumbnail.
pub fn has_end_marker(bytes: &[u8]) -> bool {
    let Some(scan) = first_scan(bytes) else {
        return false;
    };
    // Entropy-coded data never holds FF D9 (an FF in it is always stuffed as FF 00), and the
    // segments before the first scan, where an EXIF thumbnail and its own EOI live, are skipped.
    // Searching from the end finds a whole file's marker in its last bytes.
    bytes[scan..].windows(2).rev().any(|w| w == [0xFF, 0xD9])
}

/// Whether the JPEG is lossless (SOF3, or SOF7, SOF11, SOF15): a process libjpeg-turbo's
/// lossy decoder refuses with "Unsupported JPEG process: SOF type 0xc3", which names nothing a
/// user knows.
pub fn is_lossless(bytes: &[u8]) -> bool {
    matches!(frame_marker(bytes), Some(0xC3 | 0xC7 | 0xCB | 0xCF))
}

/// The start-of-frame marker (SOF0 to SOF15) before the first scan; `None` without a scan.
fn frame_marker(bytes: &[u8]) -> Option<u8> {
    let mut frame = None;
    for (_, marker) in markers(bytes) {
        if marker == 0xDA {
            return frame;
        }
        let sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof && frame.is_none() {
            frame = Some(marker);
        }
    }
    None
}

/// Whether the JPEG has a scan, not only tables.
pub fn has_scan(bytes: &[u8]) -> bool {
    first_scan(bytes).is_some()
}

/// Offset of the first start-of-scan marker.
fn first_scan(bytes: &[u8]) -> Option<usize> {
    markers(bytes)
        .find(|&(_, marker)| marker == 0xDA)
        .map(|(at, _)| at)
}

/// The markers up to and including the first start-of-scan, with their offsets, walking the
/// segments by their lengths. Bytes where a marker should be (junk between segments, or a
/// segment longer than it declares) are skipped to the next marker, as libjpeg does with its
/// "extraneous bytes before marker" warning: such files are complete, and libjpeg, Pillow and
/// libvips decode them.
fn markers(bytes: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut i = 2; // after SOI
    let mut scanned = false;
    std::iter::from_fn(move || {
        while !scanned && i + 4 <= bytes.len() {
            if bytes[i] != 0xFF {
                // The next FF followed by a marker code (not a stuffed 00, not a fill FF).
                let skip = bytes[i..]
                    .windows(2)
                    .position(|w| w[0] == 0xFF && w[1] != 0x00 && w[1] != 0xFF)?;
                i += skip;
                continue;
            }
            let (at, marker) = (i, bytes[i + 1]);
            if marker == 0xFF {
                i += 1; // fill byte
                continue;
            }
            if marker == 0xDA {
                scanned = true;
            } else {
                i += 2 + usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            }
            return Some((at, marker));
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::{has_end_marker, scale_numerator, Target};

    #[test]
    fn scale_keeps_the_margin_over_the_widest_thumbnail() {
        let wide = |width| Target { width, height: 0 };
        // 4000 px wide, 200 px thumbnails, margin 2: 1/8 gives 500 >= 400.
        assert_eq!(scale_numerator((4000, 3000), wide(200), 2.0), 1);
        // 1600 px: 1/8 gives 200 < 400, 2/8 gives 400.
        assert_eq!(scale_numerator((1600, 1200), wide(200), 2.0), 2);
        // 1000 px: 4/8 = 500 >= 400 after 3/8 = 375 falls short.
        assert_eq!(scale_numerator((1000, 750), wide(200), 2.0), 4);
        // Smaller than the margin wants: full size, never more.
        assert_eq!(scale_numerator((300, 200), wide(200), 2.0), 8);
        assert_eq!(scale_numerator((4000, 3000), Target::default(), 2.0), 8);
        // A height of 600 on a 4000x1000 strip needs 2400 px of width: 5/8 = 2500 >= 2400
        // at margin 1.
        let tall = Target {
            width: 32,
            height: 600,
        };
        assert_eq!(scale_numerator((4000, 1000), tall, 1.0), 5);
        // With SIMD, 1200 px wide needing 400: 3/8 = 450 would do, 4/8 is taken instead;
        // 532 px wide (a portrait catalogue photo): 7/8 = 466 would do, 8/8 it is.
        let simd = cfg!(jpeg_simd);
        assert_eq!(
            scale_numerator((1200, 800), wide(200), 2.0),
            if simd { 4 } else { 3 }
        );
        assert_eq!(
            scale_numerator((532, 800), wide(200), 2.0),
            if simd { 8 } else { 7 }
        );
        assert_eq!(
            scale_numerator((620, 800), wide(200), 2.0),
            if simd { 8 } else { 6 }
        );
        assert_eq!(
            scale_numerator((700, 800), wide(200), 2.0),
            5,
            "5/8 = 438 stays"
        );
    }

    #[test]
    fn end_marker_is_looked_for_after_the_headers() {
        // SOI, an APP1 segment holding a stray FF D9, SOS, data, EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9];
        jpeg.extend([0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0x00]);
        assert!(!has_end_marker(&jpeg), "the APP1's FF D9 does not count");
        jpeg.extend([0xFF, 0xD9]);
        assert!(has_end_marker(&jpeg));
    }
}
