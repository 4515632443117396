//! Pixels to file bytes: JPEG, PNG or WebP, with or without the original's ICC profile and EXIF.

#[cfg(feature = "avif")]
use image::codecs::avif::AvifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder};

use super::{OutputError, OutputFormat};
use crate::decode::Metadata;

/// rav1e's fastest setting: measured on a 200 px thumbnail, 29 ms at 10 against 73 ms at 8
/// and 98 ms at 6, for files 18% larger than at 6.
#[cfg(feature = "avif")]
const AVIF_SPEED: u8 = 10;

/// How thumbnails are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub format: OutputFormat,
    /// JPEG and AVIF quality, 1 to 100.
    pub quality: u8,
    /// Progressive JPEG (mozjpeg's encoder; `image` writes baseline only).
    pub progressive: bool,
    /// What transparent pixels become in JPEG, as RGB.
    pub background: [u8; 3],
}

/// Encodes `image`, embedding what `metadata` holds (the caller decides what to keep). JPEG has
/// no alpha: a transparent image is flattened onto the background first, as vipsthumbnail and
/// sharp do, instead of showing whatever colour its transparent pixels happen to store.
pub fn encode(
    image: &DynamicImage,
    encoding: &Encoding,
    metadata: &Metadata,
) -> Result<Vec<u8>, OutputError> {
    let format = encoding.format;
    let mut out = Vec::with_capacity(16 * 1024);
    let flat;
    let image = match (format, image) {
        (OutputFormat::Jpeg, DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_)) => image,
        (OutputFormat::Jpeg, other) => {
            flat = flatten(other, encoding.background);
            &flat
        }
        (OutputFormat::WebP, DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_)) => image,
        (OutputFormat::WebP, other) => {
            flat = DynamicImage::ImageRgba8(other.to_rgba8());
            &flat
        }
        (OutputFormat::Png | OutputFormat::Avif, _) => image,
    };
    if format == OutputFormat::Jpeg && (encoding.progressive || encoding.quality > 23) {
        return libjpeg(image, encoding.quality, encoding.progressive, metadata);
    }
    let result = match format {
        OutputFormat::Jpeg => with_metadata(
            JpegEncoder::new_with_quality(&mut out, encoding.quality),
            image,
            metadata,
        ),
        OutputFormat::Png => with_metadata(PngEncoder::new(&mut out), image, metadata),
        OutputFormat::WebP => with_metadata(WebPEncoder::new_lossless(&mut out), image, metadata),
        // One thread per encode: phase two already runs one image per core.
        #[cfg(feature = "avif")]
        OutputFormat::Avif => with_metadata(
            AvifEncoder::new_with_speed_quality(&mut out, AVIF_SPEED, encoding.quality)
                .with_num_threads(Some(1)),
            image,
            metadata,
        ),
        // The command line refuses `-f avif` in such a build, naming the feature.
        #[cfg(not(feature = "avif"))]
        OutputFormat::Avif => {
            use image::error::{ImageFormatHint, UnsupportedError, UnsupportedErrorKind};
            let avif = ImageFormatHint::Exact(image::ImageFormat::Avif);
            Err(image::ImageError::Unsupported(
                UnsupportedError::from_format_and_kind(
                    avif.clone(),
                    UnsupportedErrorKind::Format(avif),
                ),
            ))
        }
    };
    result.map_err(|source| OutputError::Encode { format, source })?;
    Ok(out)
}

fn with_metadata(
    mut encoder: impl ImageEncoder,
    image: &DynamicImage,
    metadata: &Metadata,
) -> image::ImageResult<()> {
    // The three encoders we use accept both; an error here would only mean "not embedded".
    if let Some(icc) = &metadata.icc {
        let _ = encoder.set_icc_profile(icc.clone());
    }
    if let Some(exif) = &metadata.exif {
        let _ = encoder.set_exif_metadata(exif.clone());
    }
    image.write_with_encoder(encoder)
}

/// A JPEG from the libjpeg-turbo linked for decoding (the `mozjpeg` crate).
///
/// Baseline (the default) is libjpeg-turbo's own encoder (`set_fastest_defaults`: no trellis, no
/// scan search) with its SIMD colour conversion, forward DCT and Huffman coding, the Annex K
/// tables scaled as `image`'s encoder scales them, 4:4:4 as `image` writes, and Huffman tables
/// optimised per image: the same quantisation as before, so the same quality, in smaller files
/// made faster. `image`'s encoder still writes quality 23 and below, where libjpeg's tables
/// would need 16-bit entries (no longer baseline JPEG).
///
/// Progressive is mozjpeg with its defaults: trellis quantisation and Huffman tables optimised
/// for the image. Measured on the corpus (72 thumbnails): 198 KB against 295 KB for baseline,
/// and 235 KB with `set_fastest_defaults`, which saved only ~3% of the run. mozjpeg's quality
/// scale uses its own tables, tuned for how images look rather than for PSNR.
fn libjpeg(
    image: &DynamicImage,
    quality: u8,
    progressive: bool,
    metadata: &Metadata,
) -> Result<Vec<u8>, OutputError> {
    let (colour, pixels) = match image {
        DynamicImage::ImageLuma8(gray) => (mozjpeg::ColorSpace::JCS_GRAYSCALE, gray.as_raw()),
        DynamicImage::ImageRgb8(rgb) => (mozjpeg::ColorSpace::JCS_RGB, rgb.as_raw()),
        _ => unreachable!("flattened to L8 or RGB8 before"),
    };
    // libjpeg reports errors by unwinding out of its callbacks.
    crate::catch::quietly(|| -> std::io::Result<Vec<u8>> {
        let mut jpeg = mozjpeg::Compress::new(colour);
        if !progressive {
            jpeg.set_fastest_defaults();
        }
        jpeg.set_size(image.width() as usize, image.height() as usize);
        jpeg.set_quality(f32::from(quality));
        if progressive {
            jpeg.set_progressive_mode();
        } else if colour == mozjpeg::ColorSpace::JCS_RGB {
            jpeg.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
        }
        jpeg.set_optimize_coding(true);
        let mut started = jpeg.start_compress(Vec::with_capacity(16 * 1024))?;
        if let Some(exif) = &metadata.exif {
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend_from_slice(exif);
            started.write_marker(mozjpeg::Marker::APP(1), &app1);
        }
        if let Some(icc) = &metadata.icc {
            // Not mozjpeg's write_icc_profile: it numbers the parts from 0, and readers
            // (zune-jpeg among them) want them numbered from 1, as the ICC spec says.
            let parts = icc.chunks(65_519);
            let count = parts.len().min(255) as u8;
            for (i, part) in parts.take(255).enumerate() {
                let mut app2 = b"ICC_PROFILE\0".to_vec();
                app2.extend([i as u8 + 1, count]);
                app2.extend_from_slice(part);
                started.write_marker(mozjpeg::Marker::APP(2), &app2);
            }
        }
        started.write_scanlines(pixels)?;
        started.finish()
    })
    .map_err(OutputError::Libjpeg)?
    .map_err(OutputError::Jpeg)
}

/// `image` composited over an opaque `background`.
fn flatten(image: &DynamicImage, background: [u8; 3]) -> DynamicImage {
    let mut rgba = image.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels_mut()) {
        let alpha = u32::from(px[3]);
        for c in 0..3 {
            let mixed = u32::from(px[c]) * alpha + u32::from(background[c]) * (255 - alpha);
            out[c] = ((mixed + 127) / 255) as u8;
        }
    }
    DynamicImage::ImageRgb8(rgb)
}

#[cfg(test)]
mod tests {
    use super::{encode, Encoding};
    use crate::decode::Metadata;
    use crate::output::OutputFormat;
    use image::{DynamicImage, ImageDecoder, RgbaImage};

    fn encoding(format: OutputFormat) -> Encoding {
        Encoding {
            format,
            quality: 95,
            progressive: false,
            background: [255, 255, 255],
        }
    }

    #[test]
    fn every_format_encodes_what_it_is_given() {
        let rgba = DynamicImage::ImageRgba8(RgbaImage::new(3, 2));
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
            for progressive in [false, true] {
                let e = Encoding {
                    progressive,
                    ..encoding(format)
                };
                let bytes = encode(&rgba, &e, &Metadata::default()).unwrap();
                let back = image::load_from_memory(&bytes).unwrap();
                assert_eq!((back.width(), back.height()), (3, 2), "{format:?}");
            }
        }
    }

    #[test]
    fn progressive_jpeg_is_progressive() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([x as u8 * 4, y as u8 * 5, 90])
        }));
        let e = Encoding {
            progressive: true,
            ..encoding(OutputFormat::Jpeg)
        };
        let bytes = encode(&img, &e, &Metadata::default()).unwrap();
        // SOF2 is the progressive frame marker; a baseline file has SOF0.
        assert!(
            bytes.windows(2).any(|w| w == [0xFF, 0xC2]),
            "no SOF2 marker"
        );
        let baseline = encode(&img, &encoding(OutputFormat::Jpeg), &Metadata::default()).unwrap();
        assert!(!baseline.windows(2).any(|w| w == [0xFF, 0xC2]));
    }

    #[test]
    fn kept_metadata_is_embedded_in_every_format() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
        let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        // A minimal little-endian TIFF header with no entries.
        let exif = b"II*\0\x08\0\0\0\0\0".to_vec();
        let metadata = Metadata {
            icc: Some(icc.clone()),
            exif: Some(exif.clone()),
        };
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
            for progressive in [false, true] {
                let e = Encoding {
                    progressive,
                    ..encoding(format)
                };
                let bytes = encode(&img, &e, &metadata).unwrap();
                let mut decoder = image::ImageReader::new(std::io::Cursor::new(&bytes))
                    .with_guessed_format()
                    .unwrap()
                    .into_decoder()
                    .unwrap();
                assert_eq!(
                    decoder.icc_profile().unwrap().as_ref(),
                    Some(&icc),
                    "{format:?} {progressive}"
                );
                assert_eq!(
                    decoder.exif_metadata().unwrap().as_ref(),
                    Some(&exif),
                    "{format:?} {progressive}"
                );
            }
        }
        let stripped = encode(&img, &encoding(OutputFormat::Jpeg), &Metadata::default()).unwrap();
        assert!(!stripped.windows(11).any(|w| w == b"ICC_PROFILE"));
        assert!(!stripped.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn transparency_is_flattened_onto_the_background_for_jpeg() {
        use image::Rgba;
        // Transparent black on the left, opaque red on the right.
        let img = RgbaImage::from_fn(16, 8, |x, _| {
            if x < 8 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([255, 0, 0, 255])
            }
        });
        let bytes = encode(
            &DynamicImage::ImageRgba8(img),
            &encoding(OutputFormat::Jpeg),
            &Metadata::default(),
        )
        .unwrap();
        let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (left, right) = (back.get_pixel(2, 4), back.get_pixel(13, 4));
        assert!(
            left.0.iter().all(|&c| c > 240),
            "transparent became {left:?}, not white"
        );
        assert!(
            right[0] > 230 && right[1] < 30 && right[2] < 30,
            "{right:?}"
        );
    }
}
