//! The pure core: bytes in, thumbnails out. Decode once, turn into sRGB, resize to every size,
//! encode. No disk, no network, no threads: benches, the fuzz target and most tests call this
//! directly, and phase two calls it once per image.

use crate::colour;
use crate::decode::{self, DecodeError, DecodeOptions, Metadata, Target};
use crate::failure::Stage;
use crate::output::{self, Encoding, OutputError, OutputFormat};
use crate::resize::{self, Crop, ResizeError, Size, Thumbnailer};

/// One encoded thumbnail.
pub struct Thumbnail {
    /// The size asked for, which names the file by default.
    pub size: Size,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub bytes: Vec<u8>,
}

/// What came of one image: its thumbnails and the original's pixel count.
pub struct Thumbnails {
    pub source_pixels: u64,
    pub thumbnails: Vec<Thumbnail>,
    /// What went less than right without failing the image (a colour profile that could not
    /// be used), for the log and the report.
    pub warnings: Vec<String>,
    /// The pixels of the thumbnail [`Wanted::pixels_of`] asked for, before encoding.
    pub pixels: Option<image::RgbaImage>,
}

/// Which of the spec's sizes to make: all (the default), or only those a re-run found stale;
/// and the size whose pixels to hand back (for the placeholders), made even if not encoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    pub sizes: Option<&'a [Size]>,
    pub pixels_of: Option<Size>,
}

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Resize(#[from] ResizeError),
    #[error(transparent)]
    Encode(#[from] OutputError),
}

impl ThumbnailError {
    pub fn stage(&self) -> Stage {
        match self {
            ThumbnailError::Decode(DecodeError::Read(_)) => Stage::Input,
            ThumbnailError::Decode(_) => Stage::Decode,
            ThumbnailError::Resize(_) => Stage::Resize,
            ThumbnailError::Encode(_) => Stage::Write,
        }
    }
}

/// What to make of each image.
#[derive(Debug, Clone)]
pub struct ThumbnailSpec {
    pub sizes: Vec<Size>,
    /// Fill boxes (`200x150`) and cut the overflow, instead of fitting inside them.
    pub crop: Option<Crop>,
    /// Enlarge images smaller than a requested size (the default, as vipsthumbnail and sharp).
    pub enlarge: bool,
    /// Resize in linear light.
    pub linear: bool,
    /// `None`: the format follows the input's.
    pub format: Option<OutputFormat>,
    pub quality: u8,
    pub progressive: bool,
    /// What transparent pixels become in a format without alpha (JPEG), as RGB.
    pub background: [u8; 3],
    /// Keep the ICC profile on the thumbnails instead of converting their pixels to sRGB.
    pub keep_icc: bool,
    /// Keep the ICC profile and EXIF (its orientation reset, the pixels being upright).
    pub keep_metadata: bool,
    pub decode: DecodeOptions,
}

/// The original service's thumbnail widths.
pub const DEFAULT_SIZES: [Size; 3] = [Size::width(32), Size::width(64), Size::width(200)];
/// [`DEFAULT_SIZES`] as the command line writes them (a test holds the two together).
pub const DEFAULT_SIZES_TEXT: &str = "32,64,200";
pub const DEFAULT_QUALITY: u8 = 80;
/// What transparency becomes in JPEG output: white, as RRGGBB and as bytes.
pub const DEFAULT_BACKGROUND_TEXT: &str = "ffffff";
pub const DEFAULT_BACKGROUND: [u8; 3] = [255, 255, 255];

/// What the command line does without options: the original service's widths, the format of
/// the input, JPEG quality 80, sRGB, no metadata.
impl Default for ThumbnailSpec {
    fn default() -> Self {
        ThumbnailSpec {
            sizes: DEFAULT_SIZES.to_vec(),
            crop: None,
            enlarge: true,
            linear: false,
            format: None,
            quality: DEFAULT_QUALITY,
            progressive: false,
            background: DEFAULT_BACKGROUND,
            keep_icc: false,
            keep_metadata: false,
            decode: DecodeOptions::default(),
        }
    }
}

/// Decodes `bytes` once and makes a thumbnail for every size.
pub fn make_thumbnails(
    bytes: &[u8],
    spec: &ThumbnailSpec,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let decoded = decode::decode(bytes, &decode_options(spec))?;
    thumbnails_of(decoded, spec, Wanted::default(), thumbnailer)
}

/// [`make_thumbnails`] for a file on disk; a large JPEG is decoded without being held in memory.
pub fn make_thumbnails_from_file(
    path: &std::path::Path,
    spec: &ThumbnailSpec,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    make_some_thumbnails_from_file(path, spec, Wanted::default(), thumbnailer)
}

/// [`make_thumbnails_from_file`] for some of the spec's sizes. The decode is the one all sizes
/// would get, so a thumbnail made alone has the bytes it has when made with the others.
pub fn make_some_thumbnails_from_file(
    path: &std::path::Path,
    spec: &ThumbnailSpec,
    wanted: Wanted,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let decoded = decode::decode_file(path, &decode_options(spec))?;
    thumbnails_of(decoded, spec, wanted, thumbnailer)
}

/// The decoder is told the most any thumbnail needs, so JPEGs can shrink while they load.
fn decode_options(spec: &ThumbnailSpec) -> DecodeOptions {
    let most =
        |side: fn(&Size) -> Option<u32>| spec.sizes.iter().filter_map(side).max().unwrap_or(0);
    DecodeOptions {
        target: Target {
            width: most(|s| s.width),
            height: most(|s| s.height),
        },
        ..spec.decode
    }
}

fn thumbnails_of(
    decoded: decode::Decoded,
    spec: &ThumbnailSpec,
    wanted: Wanted,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let encoding = Encoding {
        format: spec
            .format
            .unwrap_or_else(|| OutputFormat::for_input(decoded.format)),
        quality: spec.quality,
        progressive: spec.progressive,
        background: spec.background,
    };
    let keep_icc = (spec.keep_icc || spec.keep_metadata) && encoding.format.carries_icc();
    let metadata = decoded.metadata;
    let (image, colour_warning) = match &metadata.icc {
        Some(icc) if !keep_icc => colour::to_srgb(decoded.image, icc),
        _ => (decoded.image, None),
    };
    let kept_metadata = Metadata {
        icc: metadata.icc.filter(|_| keep_icc),
        exif: metadata.exif.filter(|_| spec.keep_metadata),
    };
    let (width, height) = decoded.source_size;
    let geometries: Vec<resize::Geometry> = spec
        .sizes
        .iter()
        .map(|&size| resize::geometry(width, height, size, spec.crop.is_some(), spec.enlarge))
        .collect();
    let whole: Vec<(u32, u32)> = geometries.iter().map(|g| g.resized).collect();
    // Linear light and alpha would go through their conversions (premultiplying, the light
    // curve in 8 bits) once more for each step: those thumbnails all come from the decode.
    let sources = if spec.linear || image.color().has_alpha() {
        vec![None; whole.len()]
    } else {
        resize::sources(
            &whole,
            (image.width(), image.height()),
            spec.decode.shrink_margin,
        )
    };
    let encode = |size: &Size| wanted.sizes.is_none_or(|sizes| sizes.contains(size));
    let keep = |size: &Size| wanted.pixels_of == Some(*size);
    let order = resize::order(&whole);
    // What must be resized: the sizes wanted and, smallest first, what they are made from.
    let mut needed: Vec<bool> = spec.sizes.iter().map(|s| encode(s) || keep(s)).collect();
    for &i in order.iter().rev() {
        if let (true, Some(j)) = (needed[i], sources[i]) {
            needed[j] = true;
        }
    }
    let mut users: Vec<usize> = (0..whole.len())
        .map(|j| {
            (0..whole.len())
                .filter(|&i| needed[i] && sources[i] == Some(j))
                .count()
        })
        .collect();
    let mut made: Vec<Option<image::DynamicImage>> = vec![None; whole.len()];
    let mut slots: Vec<Option<Thumbnail>> = (0..whole.len()).map(|_| None).collect();
    let mut pixels = None;
    for i in order.into_iter().filter(|&i| needed[i]) {
        let size = spec.sizes[i];
        let from = match sources[i] {
            Some(j) => made[j]
                .as_ref()
                .expect("a source is made before what it serves"),
            None => &image,
        };
        let resized = thumbnailer.resize_whole(from, whole[i])?;
        if let Some(j) = sources[i] {
            users[j] -= 1;
            if users[j] == 0 {
                made[j] = None;
            }
        }
        if users[i] > 0 {
            made[i] = Some(resized.clone());
        }
        let kept = resize::cut(resized, geometries[i], spec.crop);
        if keep(&size) {
            pixels = Some(kept.to_rgba8());
        }
        if !encode(&size) {
            continue;
        }
        slots[i] = Some(Thumbnail {
            size,
            width: kept.width(),
            height: kept.height(),
            format: encoding.format,
            bytes: output::encode(&kept, &encoding, &kept_metadata)?,
        });
    }
    let thumbnails: Vec<Thumbnail> = slots.into_iter().flatten().collect();
    Ok(Thumbnails {
        source_pixels: u64::from(decoded.source_size.0) * u64::from(decoded.source_size.1),
        thumbnails,
        warnings: colour_warning.into_iter().collect(),
        pixels,
    })
}
