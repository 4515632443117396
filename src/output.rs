//! Encodes thumbnails and puts files in place without ever exposing a partial one.
//!
//! Every file is written under a hidden temporary name in its final folder and renamed into
//! place, so a killed run leaves either the whole file or a stray `.thumbnail-maker-*` temporary,
//! never a truncated file under a final name. This module decides formats and names of outputs;
//! it does not decode or resize.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageFormat};

/// Prefix of every temporary file we create, so a later run can recognise and remove its own.
pub const TEMP_PREFIX: &str = ".thumbnail-maker-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    Png,
    WebP,
}

impl OutputFormat {
    /// The format follows the input's: JPEG stays JPEG, PNG stays PNG, WebP stays WebP. GIF has
    /// no good encoder for photos and becomes PNG, which keeps its transparency.
    pub fn for_input(format: ImageFormat) -> Self {
        match format {
            ImageFormat::Jpeg => OutputFormat::Jpeg,
            ImageFormat::WebP => OutputFormat::WebP,
            _ => OutputFormat::Png,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::WebP => "webp",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("encoding {format:?} failed")]
    Encode {
        format: OutputFormat,
        #[source]
        source: image::ImageError,
    },
    #[error("writing {} failed", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The thumbnail's file name: `<stem>_<width>.<ext>`, the original service's naming.
pub fn file_name(stem: &str, width: u32, format: OutputFormat) -> String {
    format!("{stem}_{width}.{}", format.extension())
}

pub fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    quality: u8,
) -> Result<Vec<u8>, OutputError> {
    let mut out = Vec::with_capacity(16 * 1024);
    let result = match format {
        OutputFormat::Jpeg => {
            // JPEG has no alpha; inputs that have it are flattened (only reachable via a future
            // --format jpeg, since the format otherwise follows the input's).
            let encoder = JpegEncoder::new_with_quality(&mut out, quality);
            match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
                    image.write_with_encoder(encoder)
                }
                other => DynamicImage::ImageRgb8(other.to_rgb8()).write_with_encoder(encoder),
            }
        }
        OutputFormat::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        OutputFormat::WebP => match image {
            DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
                image.write_with_encoder(WebPEncoder::new_lossless(&mut out))
            }
            other => DynamicImage::ImageRgba8(other.to_rgba8())
                .write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        },
    };
    result.map_err(|source| OutputError::Encode { format, source })?;
    Ok(out)
}

/// Writes `bytes` to `dir/name` through a temporary file in `dir` and an atomic rename.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let path = dir.join(name);
    let io_err = |source| OutputError::Io {
        path: path.clone(),
        source,
    };
    let mut tmp = temp_file(dir).map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    tmp.persist(&path).map_err(|e| io_err(e.error))?;
    Ok(path)
}

/// A hidden temporary file in `dir`, removed on drop unless persisted.
pub fn temp_file(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(".part");
    // tempfile's private 0600 would follow the file through the rename; thumbnails are for
    // publishing, so they get the mode any new file gets (0644 under the usual umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Creates a folder the user named (and its parents), saying which one failed.
pub fn ensure_dir(dir: &Path) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::{encode, file_name, write_atomic, OutputFormat, TEMP_PREFIX};
    use image::{DynamicImage, ImageFormat, RgbaImage};

    #[test]
    fn format_follows_input() {
        assert_eq!(
            OutputFormat::for_input(ImageFormat::Jpeg),
            OutputFormat::Jpeg
        );
        assert_eq!(OutputFormat::for_input(ImageFormat::Png), OutputFormat::Png);
        assert_eq!(
            OutputFormat::for_input(ImageFormat::WebP),
            OutputFormat::WebP
        );
        assert_eq!(OutputFormat::for_input(ImageFormat::Gif), OutputFormat::Png);
        assert_eq!(file_name("cat", 64, OutputFormat::Jpeg), "cat_64.jpg");
    }

    #[test]
    fn every_format_encodes_what_it_is_given() {
        let rgba = DynamicImage::ImageRgba8(RgbaImage::new(3, 2));
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
            let bytes = encode(&rgba, format, 80).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (3, 2), "{format:?}");
        }
    }

    #[test]
    fn atomic_write_leaves_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_atomic(dir.path(), "a_32.png", b"data").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["a_32.png"]);
        assert!(!names[0].starts_with(TEMP_PREFIX));
    }
}
