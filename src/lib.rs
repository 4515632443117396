//! thumbnail-maker: URLs, files and folders in, thumbnails out, as fast as the machine allows.
//!
//! The pipeline has two phases, timed separately: [`download`] fetches URLs with a bounded pool
//! of threads, then rayon fans the images across cores, each one [`decode`]d once, [`resize`]d to
//! every width and written by [`output`]. [`pipeline::run`] drives a whole run from a
//! [`Config`]; [`make_thumbnails`] is the pure core (bytes in, encoded thumbnails out) that
//! benches and tests call directly.

pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod download;
pub mod inputs;
pub mod output;
pub mod pipeline;
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
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub bytes: Vec<u8>,
}

/// What came of one image: its thumbnails and the size of the decoded original.
pub struct Thumbnails {
    pub source_width: u32,
    pub source_height: u32,
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
            ThumbnailError::Decode(_) => Stage::Decode,
            ThumbnailError::Resize(_) => Stage::Resize,
            ThumbnailError::Encode(_) => Stage::Write,
        }
    }
}

/// Decodes `bytes` once and makes a thumbnail for every width, in the input's format.
pub fn make_thumbnails(
    bytes: &[u8],
    widths: &[u32],
    quality: u8,
    decode_options: &DecodeOptions,
    thumbnailer: &mut Thumbnailer,
) -> Result<Thumbnails, ThumbnailError> {
    let decoded = decode::decode(bytes, decode_options)?;
    let format = OutputFormat::for_input(decoded.format);
    let mut thumbnails = Vec::with_capacity(widths.len());
    for &width in widths {
        let image = thumbnailer.resize(&decoded.image, width)?;
        thumbnails.push(Thumbnail {
            width: image.width(),
            height: image.height(),
            format,
            bytes: output::encode(&image, format, quality)?,
        });
    }
    Ok(Thumbnails {
        source_width: decoded.image.width(),
        source_height: decoded.image.height(),
        thumbnails,
    })
}
