//! thumbnail-maker: URLs, files and folders in, thumbnails out, as fast as the machine allows.
//!
//! The pipeline has two phases, timed separately: [`download`] fetches URLs with a bounded pool
//! of threads, then rayon fans the images across cores, each one [`decode`]d once, [`resize`]d to
//! every width and written by [`output`]. [`pipeline::run`] drives a whole run from a
//! [`Config`]; [`make_thumbnails`] is the pure core (bytes in, encoded thumbnails out) that
//! benches and tests call directly.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod decode;
pub mod demo;
pub mod download;
pub mod inputs;
pub mod merge;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod report;
pub mod resize;
pub mod samples;
pub mod serve;

pub use config::Config;
pub use pipeline::run;
pub use report::Report;

use decode::{DecodeError, DecodeOptions};
use output::{OutputError, OutputFormat};
use report::Stage;
use resize::{ResizeError, Thumbnailer};

/// One encoded thumbnail.
pub struct Thumbnail {
    /// The width asked for, which names the file; `width` differs only without enlargement.
    pub requested_width: u32,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub bytes: Vec<u8>,
}

/// What came of one image: its thumbnails and the original's pixel count.
pub struct Thumbnails {
    pub source_pixels: u64,
    pub thumbnails: Vec<Thumbnail>,
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
    pub widths: Vec<u32>,
    /// `None`: the format follows the input's.
    pub format: Option<OutputFormat>,
    pub quality: u8,
    /// Enlarge images narrower than a requested width (the default, as vipsthumbnail and sharp).
    pub enlarge: bool,
    /// What transparent pixels become in a format without alpha (JPEG), as RGB.
    pub background: [u8; 3],
    pub decode: DecodeOptions,
}

/// Decodes `bytes` once and makes a thumbnail for every width.
pub fn make_thumbnails(
    bytes: &[u8],
    spec: &ThumbnailSpec,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let decoded = decode::decode(bytes, &decode_options(spec))?;
    thumbnails_of(decoded, spec, thumbnailer)
}

/// [`make_thumbnails`] for a file on disk; a large JPEG is decoded without being held in memory.
pub fn make_thumbnails_from_file(
    path: &std::path::Path,
    spec: &ThumbnailSpec,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let decoded = decode::decode_file(path, &decode_options(spec))?;
    thumbnails_of(decoded, spec, thumbnailer)
}

/// The decoder is told the widest thumbnail, so JPEGs can shrink while they load.
fn decode_options(spec: &ThumbnailSpec) -> DecodeOptions {
    DecodeOptions {
        target_width: spec.widths.iter().copied().max(),
        ..spec.decode
    }
}

fn thumbnails_of(
    decoded: decode::Decoded,
    spec: &ThumbnailSpec,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let format = spec
        .format
        .unwrap_or_else(|| OutputFormat::for_input(decoded.format));
    let mut thumbnails = Vec::with_capacity(spec.widths.len());
    for &width in &spec.widths {
        let image = thumbnailer.resize(&decoded.image, width, spec.enlarge)?;
        thumbnails.push(Thumbnail {
            requested_width: width,
            width: image.width(),
            height: image.height(),
            format,
            bytes: output::encode(&image, format, spec.quality, spec.background)?,
        });
    }
    Ok(Thumbnails {
        source_pixels: decoded.source_pixels,
        thumbnails,
    })
}
