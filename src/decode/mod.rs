//! Bytes in, one upright image out.
//!
//! The format comes from the content (magic bytes) checked against an allow-list, never from the
//! file name. The header's dimensions are checked against a pixel budget before the pixel buffer
//! is allocated: `image`'s `from_decoder` path (the one that lets us read EXIF orientation) does
//! not apply `max_alloc`, so a 74-byte PNG declaring 100000x100000 would otherwise abort the
//! process. JPEGs take the [`jpeg`] path, scaled while decoding; the other formats go through
//! `image`. This module neither resizes nor touches the disk.

#[cfg(feature = "heif")]
mod heif;
pub mod jpeg;
#[cfg(feature = "jxl")]
mod jxl;
mod memory;
mod meta;
pub mod prune;
mod sniff;
mod tiff;

use sniff::classify;
pub use sniff::sniff;

pub use meta::Metadata;

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Formats we decode. `image` is built with only these, so nothing else can slip through.
pub const ALLOWED: &[ImageFormat] = &[
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Gif,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
    ImageFormat::Ico,
];

/// Pillow's decompression-bomb error threshold: a limit users already know.
pub const DEFAULT_MAX_PIXELS: u64 = 178_956_970;

/// How much wider than the widest thumbnail a shrunk-on-load JPEG stays. Measured on the photo
/// corpus (README, Performance): below 2 the 200 px thumbnails lose detail visibly in PSNR.
pub const DEFAULT_SHRINK_MARGIN: f32 = 2.0;

#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    pub max_pixels: u64,
    /// What the thumbnails need; JPEGs are decoded at a reduced size that still covers it.
    /// The default (zero) decodes at full size.
    pub target: Target,
    pub shrink_margin: f32,
    /// Accept a JPEG without its end marker (the missing part comes out grey).
    pub allow_truncated: bool,
    /// Read every scan of a progressive JPEG, even those a 1/8 decode never uses (see
    /// `prune`): the pixels are the same; for the tests that prove it and for timing.
    pub all_scans: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: DEFAULT_MAX_PIXELS,
            target: Target::default(),
            shrink_margin: DEFAULT_SHRINK_MARGIN,
            allow_truncated: false,
            all_scans: false,
        }
    }
}

/// The least the thumbnails need of a decoded image: `width` pixels wide, and tall enough for
/// `height` (the larger of the two wins, once the image's shape is known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Target {
    pub width: u32,
    pub height: u32,
}

impl Target {
    /// The width an upright `width` x `height` image must keep to meet the target.
    pub fn width_for(&self, width: u32, height: u32) -> u32 {
        let for_height = u64::from(self.height) * u64::from(width) / u64::from(height.max(1));
        u64::from(self.width).max(for_height).min(u64::from(width)) as u32
    }

    pub fn is_full_size(&self) -> bool {
        self.width == 0 && self.height == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not an image: the content is {0}")]
    NotAnImage(&'static str),
    #[error("{0:?} images are not supported {only}", only = formats_read())]
    Unsupported(ImageFormat),
    /// A format we recognise and do not decode, named so the user knows what they have.
    #[error("{name} images are not supported {why}", name = .0, why = not_read_because(.0))]
    Recognised(&'static str),
    #[error("image is {width}x{height}, {} megapixels, over the limit of {} megapixels (--max-pixels)", mp(*width as u64 * *height as u64), mp(*max))]
    TooLarge { width: u32, height: u32, max: u64 },
    #[error("needs about {} GB of memory to decode, more than the {} GB {limit} leaves this process (lower --max-pixels, or raise the limit)", gb(*need), gb(*room))]
    TooBigForMemory {
        need: u64,
        room: u64,
        limit: &'static str,
    },
    #[error("image has no pixels ({width}x{height})")]
    Empty { width: u32, height: u32 },
    /// The decoder's reason, in words for people (see [`plain`]).
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
    #[error("corrupt TIFF: {0}")]
    Tiff(String),
    /// A file of a format we read, using a variant of it the decoder does not support.
    #[error("not supported: {0}")]
    Variant(String),
    /// libjpeg's own message for a fatal error.
    #[error("corrupt JPEG: {0}")]
    Jpeg(String),
    #[error("corrupt JPEG")]
    JpegRead(#[source] std::io::Error),
    #[error("truncated JPEG: the data stops before its end marker (--allow-partial accepts it)")]
    Truncated,
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// The decoder crate panicked on this input (a bug of theirs, caught here).
    #[error("malformed image: the {0:?} decoder gave up ({1})")]
    Malformed(ImageFormat, String),
}

/// The formats this build reads, for an error about one it does not.
fn formats_read() -> &'static str {
    if cfg!(feature = "jxl") {
        "(only JPEG, PNG, WebP, GIF, TIFF, BMP, ICO and JPEG XL)"
    } else {
        "(only JPEG, PNG, WebP, GIF, TIFF, BMP and ICO)"
    }
}

/// Why a recognised format is not read: a cargo feature this build lacks, or no decoder at all.
fn not_read_because(format: &str) -> &'static str {
    match format {
        "JPEG XL" => "by this build (the `jxl` cargo feature reads them)",
        "HEIF/HEIC" | "AVIF" => "by this build (the `heif` cargo feature reads them, with libheif)",
        _ if cfg!(feature = "jxl") => {
            "(only JPEG, PNG, WebP, GIF, TIFF, BMP, ICO and JPEG XL; HEIF and AVIF with the \
             `heif` feature)"
        }
        _ => "(only JPEG, PNG, WebP, GIF, TIFF, BMP and ICO; JPEG XL, HEIF and AVIF with features)",
    }
}

fn gb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e9)
}

fn mp(pixels: u64) -> String {
    format!("{:.1}", pixels as f64 / 1e6)
}

/// A decoded image with its orientation already applied.
pub struct Decoded {
    /// Possibly smaller than the original, when decoded scaled.
    pub image: DynamicImage,
    pub format: ImageFormat,
    /// The original's size, upright: what the thumbnails' shapes are computed from.
    pub source_size: (u32, u32),
    /// The original's ICC profile and EXIF; the pixels are still in the profile's colours.
    pub metadata: Metadata,
    /// Bytes of progressive scans left unread because the decode had no use for them.
    pub skipped_scan_bytes: u64,
    /// The memory a large decode counted on, released with the pixels (see `memory`).
    pub memory: Option<memory::Reservation>,
}

/// Decodes `bytes`; see [`decode_file`] for a file.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    holding_reservation(decode_bytes(bytes, options))
}

/// The decoded image holds the reservation its decode took on this thread; a failed decode
/// gives it back.
fn holding_reservation(result: Result<Decoded, DecodeError>) -> Result<Decoded, DecodeError> {
    let reservation = memory::take();
    result.map(|decoded| Decoded {
        memory: reservation,
        ..decoded
    })
}

fn decode_bytes(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    #[cfg(feature = "jxl")]
    if jxl::is_jxl(bytes) {
        return crate::catch::quietly(|| jxl::decode(bytes, options))
            .unwrap_or_else(|message| Err(DecodeError::Variant(format!("JPEG XL: {message}"))));
    }
    #[cfg(feature = "heif")]
    if heif::is_heif(bytes) {
        return crate::catch::quietly(|| heif::decode(bytes, options))
            .unwrap_or_else(|message| Err(DecodeError::Variant(format!("HEIF: {message}"))));
    }
    let format = sniff(bytes)?;
    if format == ImageFormat::Tiff && tiff::is_old_jpeg(bytes) {
        let (stream, orientation) = tiff::old_jpeg_stream(bytes)?;
        return decode_bytes(stream, options).map(|decoded| as_tiff(decoded, orientation));
    }
    if format == ImageFormat::Jpeg {
        if jpeg::is_lossless(bytes) {
            return Err(DecodeError::Recognised("lossless JPEG (SOF3)"));
        }
        if !options.allow_truncated && !jpeg::has_end_marker(bytes) {
            return Err(DecodeError::Truncated);
        }
        if let Some(decoded) = jpeg::decode(bytes, options)? {
            return Ok(decoded);
        }
    }
    // Decoders are meant to return errors, but fuzzing found image-webp 0.2.4 panicking on a
    // malformed file; a panic here must fail this image, not the whole run.
    match crate::catch::quietly(|| decode_general(bytes, format, options)) {
        Ok(result) => result,
        Err(message) => Err(DecodeError::Malformed(format, message)),
    }
}

/// An old-style JPEG TIFF's picture: the JPEG inside it decoded as any JPEG is (scaled, its
/// profile kept), then turned by the TIFF's Orientation tag.
fn as_tiff(decoded: Decoded, orientation: Option<Orientation>) -> Decoded {
    let orientation = orientation.unwrap_or(Orientation::NoTransforms);
    let mut image = decoded.image;
    image.apply_orientation(orientation);
    let (width, height) = decoded.source_size;
    Decoded {
        image,
        format: ImageFormat::Tiff,
        source_size: jpeg::upright_size(width, height, orientation),
        ..decoded
    }
}

/// Files up to this size are read whole: at most this much memory per resize thread.
const SMALL_FILE: u64 = 1024 * 1024;

/// Decodes what is in the file at `path`. Large JPEGs are decoded straight from the file; every
/// other file is read whole and goes through [`decode`].
pub fn decode_file(path: &Path, options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    holding_reservation(decode_file_unheld(path, options))
}

fn decode_file_unheld(path: &Path, options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let read_err = DecodeError::Read;
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    // A small file is read in one call and decoded from memory: the streaming path below
    // reads a head, the tail, then the head again (ten system calls for a 100 KB photo).
    let length = file.metadata().map_err(read_err)?.len();
    if length <= SMALL_FILE {
        let mut bytes = vec![0; length as usize];
        file.read_exact(&mut bytes).map_err(read_err)?;
        return decode_bytes(&bytes, options);
    }
    let mut head = Vec::with_capacity(jpeg::HEAD);
    (&mut file)
        .take(jpeg::HEAD as u64)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    if sniff(&head)? == ImageFormat::Jpeg {
        if jpeg::is_lossless(&head) {
            return Err(DecodeError::Recognised("lossless JPEG (SOF3)"));
        }
        if let Some(decoded) = jpeg::decode_file(&mut file, &head, options)? {
            return Ok(decoded);
        }
        // The JPEG path may have moved through the file; the rest starts after the head.
        file.seek(SeekFrom::Start(head.len() as u64))
            .map_err(read_err)?;
    }
    let mut bytes = head;
    file.read_to_end(&mut bytes).map_err(read_err)?;
    decode_bytes(&bytes, options)
}

/// Decoding through `image`, for every format but the JPEGs that `jpeg` takes.
fn decode_general(
    bytes: &[u8],
    format: ImageFormat,
    options: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    let special_tiff = if format == ImageFormat::Tiff {
        tiff::decode(bytes, options)?
    } else {
        None
    };
    if let Some((image, icc)) = special_tiff {
        return Ok(Decoded {
            source_size: (image.width(), image.height()),
            image: without_opaque_alpha(image),
            format,
            metadata: Metadata { icc, exif: None },
            skipped_scan_bytes: 0,
            memory: None,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // Decoders allocate their own working memory too (zune-jpeg, png's inflate window); the
    // budget covers the largest image we accept at 16-bit RGBA plus slack.
    limits.max_alloc = Some(
        options
            .max_pixels
            .saturating_mul(8)
            .saturating_add(64 << 20),
    );
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(classify)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, options)?;
    memory::check(decoder.total_bytes())?;
    // Missing or unreadable metadata is not worth failing the image over. WebP chunks are
    // walked by hand (see `meta::webp_chunk`); PNG orientation may hide in ImageMagick's text.
    let (icc, exif) = match format {
        ImageFormat::WebP => (
            meta::webp_chunk(bytes, b"ICCP").map(<[u8]>::to_vec),
            meta::webp_chunk(bytes, b"EXIF").map(<[u8]>::to_vec),
        ),
        _ => (
            decoder.icc_profile().ok().flatten(),
            decoder.exif_metadata().ok().flatten().or_else(|| {
                (format == ImageFormat::Png)
                    .then(|| meta::png_raw_profile_exif(bytes))
                    .flatten()
            }),
        ),
    };
    let (exif, orientation) = match exif {
        Some(exif) => {
            let (exif, orientation) = meta::upright_exif(&exif);
            (Some(exif), orientation)
        }
        // A TIFF keeps its orientation in a tag of its own image directory, not in EXIF.
        None if format == ImageFormat::Tiff => (None, decoder.orientation().ok()),
        None => (None, None),
    };
    let orientation = orientation.or_else(|| {
        let xmp = match format {
            ImageFormat::WebP => meta::webp_chunk(bytes, b"XMP ").map(<[u8]>::to_vec),
            _ => decoder.xmp_metadata().ok().flatten(),
        };
        xmp.as_deref().and_then(meta::xmp_orientation)
    });
    let mut image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(Decoded {
        source_size: (image.width(), image.height()),
        image: without_opaque_alpha(to_8_bit(image)),
        format,
        metadata: Metadata { icc, exif },
        skipped_scan_bytes: 0,
        memory: None,
    })
}

/// Refuses empty images and images over the pixel budget, from the header alone.
fn check_dimensions(width: u32, height: u32, options: &DecodeOptions) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty { width, height });
    }
    if u64::from(width) * u64::from(height) > options.max_pixels {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max: options.max_pixels,
        });
    }
    Ok(())
}

/// The image without its alpha channel when no pixel uses it. GIF frames always come as RGBA,
/// and many PNGs and TIFFs carry an alpha channel that is 255 everywhere: their thumbnails had
/// a useless alpha channel (a third larger PNG, and the resize worked on four channels).
fn without_opaque_alpha(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageRgba8(rgba) if rgba.pixels().all(|p| p[3] == 255) => {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
        }
        DynamicImage::ImageLumaA8(la) if la.pixels().all(|p| p[1] == 255) => {
            DynamicImage::ImageLuma8(DynamicImage::ImageLumaA8(la).to_luma8())
        }
        other => other,
    }
}

/// Thumbnails are 8-bit; converting once here means the resizer and encoders only ever see
/// L8, La8, Rgb8 or Rgba8.
fn to_8_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, DecodeError, DecodeOptions};
    use image::ImageFormat;

    /// A valid PNG structure declaring `width`x`height` RGBA, with no pixel data behind it.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &[]), (b"IEND", &[])] {
            png.extend((data.len() as u32).to_be_bytes());
            let chunk = [kind, data].concat();
            png.extend(&chunk);
            png.extend(crc32(&chunk).to_be_bytes());
        }
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn declared_giant_is_refused_from_the_header() {
        let err = decode(&png_header(100_000, 100_000), &DecodeOptions::default())
            .err()
            .expect("must be refused");
        assert!(
            matches!(err, DecodeError::TooLarge { width: 100_000, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("10000.0 megapixels"), "{err}");
    }

    #[test]
    fn a_decoder_panic_becomes_this_images_error() {
        // Regression (fuzzing): image-webp 0.2.4 indexes out of range on this file.
        let bytes =
            include_bytes!("../../tests/fixtures/fuzz_webp_panics_image_webp_should_fail.webp");
        let err = decode(bytes, &DecodeOptions::default())
            .err()
            .expect("must fail");
        assert!(
            matches!(err, DecodeError::Malformed(ImageFormat::WebP, _)),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("malformed image: the WebP decoder gave up"),
            "{err}"
        );
    }

    #[test]
    fn pixel_cap_counts_pixels_not_axes() {
        let options = DecodeOptions {
            max_pixels: 20_000,
            ..DecodeOptions::default()
        };
        // 10000x1 is within a 20000-pixel budget: it must not be refused for its width alone
        // (it fails later for want of data, which is a different error).
        let err = decode(&png_header(10_000, 1), &options).err().unwrap();
        assert!(!matches!(err, DecodeError::TooLarge { .. }), "{err}");
        let err = decode(&png_header(200, 200), &options).err().unwrap();
        assert!(matches!(err, DecodeError::TooLarge { .. }), "{err}");
    }
}
