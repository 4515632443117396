//! Encodes thumbnails and puts files in place without ever exposing a partial one.
//!
//! Every file is written under a hidden temporary name in its final folder and renamed into
//! place, so a killed run leaves either the whole file or a stray `.thumbnail-maker-*` temporary,
//! never a truncated file under a final name. This module decides formats and names of outputs;
//! it does not decode or resize.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageFormat};

/// Prefix of every temporary file we create, so a later run can recognise and remove its own.
/// The full name is `.thumbnail-maker-<host>_<pid>_<random>.part`.
pub const TEMP_PREFIX: &str = ".thumbnail-maker-";

/// A temporary file of another machine (on shared storage) is only removed after this long
/// untouched: we cannot ask that machine whether its writer is still alive.
const FOREIGN_TEMP_AGE: Duration = Duration::from_secs(3600);

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

/// Whether every thumbnail of `stem` is already in `dir`. With the format following the input's
/// content (`format` is `None`), any of the formats we write counts.
pub fn thumbnails_exist(
    dir: &Path,
    stem: &str,
    widths: &[u32],
    format: Option<OutputFormat>,
) -> bool {
    let formats = match format {
        Some(format) => vec![format],
        None => vec![OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP],
    };
    widths.iter().all(|&width| {
        formats
            .iter()
            .any(|&format| dir.join(file_name(stem, width, format)).is_file())
    })
}

/// Encodes `image` as `format`. JPEG has no alpha: a transparent image is flattened onto
/// `background` (RGB) first, as vipsthumbnail and sharp do, instead of showing whatever colour
/// its transparent pixels happen to store.
pub fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    quality: u8,
    background: [u8; 3],
) -> Result<Vec<u8>, OutputError> {
    let mut out = Vec::with_capacity(16 * 1024);
    let result = match format {
        OutputFormat::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut out, quality);
            match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
                    image.write_with_encoder(encoder)
                }
                other => flatten(other, background).write_with_encoder(encoder),
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
    let prefix = format!("{TEMP_PREFIX}{}_{}_", host(), std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    // tempfile's private 0600 would follow the file through the rename; thumbnails are for
    // publishing, so they get the mode any new file gets (0644 under the usual umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// This machine's name, reduced to characters safe in a file name; "host" where unknown.
fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let name = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name: String = name
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        if name.is_empty() {
            "host".to_string()
        } else {
            name
        }
    })
}

/// Removes temporary files that no running writer owns: ours from a process of this machine that
/// is gone (a killed run), and any left untouched for an hour. Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let can_see_processes = Path::new("/proc/self").exists();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .filter(|n| n.ends_with(".part"))
        else {
            continue;
        };
        let mut parts = rest.splitn(3, '_');
        let (owner, pid) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let writer_gone = can_see_processes
            && owner == host()
            && pid.parse::<u32>().is_ok_and(|pid| {
                pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
            });
        let untouched = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > FOREIGN_TEMP_AGE);
        if (writer_gone || untouched) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
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
            let bytes = encode(&rgba, format, 80, [255, 255, 255]).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (3, 2), "{format:?}");
        }
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
            OutputFormat::Jpeg,
            95,
            [255, 255, 255],
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

    #[test]
    #[cfg(target_os = "linux")]
    fn stale_temps_of_dead_writers_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let live = super::temp_file(dir.path()).unwrap();
        // PIDs are below 2^22 on Linux; this one cannot be running.
        let dead = dir.path().join(format!(
            "{TEMP_PREFIX}{}_4294967295_abc.part",
            super::host()
        ));
        std::fs::write(&dead, b"partial").unwrap();
        let unrelated = dir.path().join("photo_200.jpg");
        std::fs::write(&unrelated, b"x").unwrap();
        assert_eq!(super::remove_stale_temps(dir.path()), 1);
        assert!(!dead.exists());
        assert!(live.path().exists(), "our own temp file is in use");
        assert!(unrelated.exists());
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
