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

use image::ImageFormat;

use crate::resize::Size;

mod encode;
mod name;

pub use encode::{encode, Encoding};
pub use name::{NameTemplate, DEFAULT_TEMPLATE};

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
    /// Only when asked for (`-f avif`): no input is AVIF, and its encoder is the slowest.
    Avif,
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

    /// Whether our encoder for the format can embed an ICC profile. `image`'s AVIF encoder
    /// cannot, so AVIF thumbnails are always converted to sRGB.
    pub fn carries_icc(self) -> bool {
        self != OutputFormat::Avif
    }

    /// The media type an upload is labelled with.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::WebP => "image/webp",
            OutputFormat::Avif => "image/avif",
        }
    }

    /// The format a file extension of ours names.
    pub fn from_extension(extension: &str) -> Option<Self> {
        [
            OutputFormat::Jpeg,
            OutputFormat::Png,
            OutputFormat::WebP,
            OutputFormat::Avif,
        ]
        .into_iter()
        .find(|f| f.extension() == extension)
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::WebP => "webp",
            OutputFormat::Avif => "avif",
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
    #[error("encoding JPEG failed")]
    Jpeg(#[source] io::Error),
    /// libjpeg's own fatal message.
    #[error("encoding JPEG failed: {0}")]
    Libjpeg(String),
    #[error("the name template gives sizes {first} and {second} the same file name {name}")]
    SameName {
        name: String,
        first: Size,
        second: Size,
    },
    #[error("writing {} failed", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Whether every thumbnail of `stem` is already in `dir`, as far as names can tell (an empty
/// file, left by something other than us, does not count). With the
/// format following the input's content (`format` is `None`), any of the formats we write counts.
/// A template that names files by their pixel size cannot be checked before decoding: `false`.
pub fn thumbnails_exist(
    dir: &Path,
    stem: &str,
    sizes: &[Size],
    format: Option<OutputFormat>,
    names: &NameTemplate,
) -> bool {
    let formats = match format {
        Some(format) => vec![format],
        None => vec![OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP],
    };
    sizes.iter().all(|&size| {
        formats.iter().any(|&format| {
            names
                .predicted(dir, stem, size, format)
                .and_then(|path| fs::metadata(path).ok())
                .is_some_and(|meta| meta.is_file() && meta.len() > 0)
        })
    })
}

/// One input's writes, made by a resize thread and carried out by a writer thread (to the
/// output folder, or to the bucket with `-o s3://`), so the cores never wait on the disk or
/// the store.
pub struct Outgoing {
    pub stem: String,
    /// Each thumbnail: its name in the folder or under the prefix, its bytes, its Content-Type.
    pub files: Vec<(String, Vec<u8>, &'static str)>,
    /// The record's name, and its JSON: written after the thumbnails, as the proof they are
    /// all there.
    pub record: (String, Vec<u8>),
}

impl Outgoing {
    /// What the writes hold in memory.
    pub fn bytes(&self) -> usize {
        self.files
            .iter()
            .map(|(_, bytes, _)| bytes.len())
            .sum::<usize>()
            + self.record.1.len()
    }
}

/// Writes one input's thumbnails into `dir`, each atomically, then its record; if any write
/// fails, the thumbnails already written are removed again, so an input has all its new
/// thumbnails or none.
pub fn write_all(dir: &Path, outgoing: &Outgoing) -> Result<(), OutputError> {
    let mut written = Vec::with_capacity(outgoing.files.len());
    let (record, json) = &outgoing.record;
    let files = outgoing.files.iter().map(|(name, bytes, _)| (name, bytes));
    for (name, bytes) in files.chain([(record, json)]) {
        if let Err(e) = write_atomic(dir, name, bytes) {
            for path in written {
                let _ = fs::remove_file(path);
            }
            return Err(e);
        }
        written.push(dir.join(name));
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` through a temporary file in `dir` and an atomic rename. `name`
/// may hold subfolders (from a name template), created as needed; the temporary file stays in
/// `dir` itself, where a later run looks for leftovers, and the rename moves it down.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let path = dir.join(name);
    let io_err = |source| OutputError::Io {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| *p != dir) {
        fs::create_dir_all(parent).map_err(io_err)?;
    }
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
    use super::{write_all, write_atomic, Outgoing, OutputFormat, TEMP_PREFIX};
    use image::ImageFormat;

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

    #[test]
    fn a_name_with_folders_lands_in_them_and_its_temporary_in_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_atomic(dir.path(), "200/a.png", b"data").unwrap();
        assert_eq!(path, dir.path().join("200/a.png"));
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
        let root: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(root, ["200"]);
    }

    #[test]
    fn an_input_gets_all_its_files_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let outgoing = |record: &str| Outgoing {
            stem: "a".into(),
            files: vec![
                ("a_200.jpg".into(), b"big".to_vec(), "image/jpeg"),
                ("a_32.jpg".into(), b"small".to_vec(), "image/jpeg"),
            ],
            record: (record.into(), b"{}".to_vec()),
        };
        write_all(dir.path(), &outgoing("records/a.json")).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("a_32.jpg")).unwrap(),
            b"small"
        );
        assert_eq!(
            std::fs::read(dir.path().join("records/a.json")).unwrap(),
            b"{}"
        );
        // The record cannot be written (its folder is a file): the thumbnails go again.
        std::fs::remove_dir_all(dir.path()).unwrap();
        std::fs::create_dir(dir.path()).unwrap();
        std::fs::write(dir.path().join("records"), b"in the way").unwrap();
        let error = write_all(dir.path(), &outgoing("records/a.json")).unwrap_err();
        assert!(error.to_string().contains("records/a.json"), "{error}");
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["records"]);
    }
}
