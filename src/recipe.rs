//! What decides a thumbnail's bytes, and so whether a re-run must make it again.
//!
//! A recipe is a short list of named parts: where the pixels come from (the source's identity)
//! and every option that changes pixels or encoding. Its key is a hash of those parts; a
//! thumbnail is redone exactly when its key changed. The parts are kept beside the key (in the
//! output folder's records, `record.rs`) so a dry run can say which of them changed. Parts that
//! cannot change a format's bytes (quality for PNG) are left out of that format's recipe, so
//! changing them redoes nothing.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::output::{NameTemplate, OutputFormat};
use crate::resize::{Crop, Size};
use crate::shard::{fnv1a, fnv1a_more, FNV1A_START};
use crate::thumbnail::ThumbnailSpec;

/// The version of the tool's own output: raised when a change to decoding, resizing or encoding
/// changes the bytes of thumbnails made with the same options, so re-runs redo them. 2: smaller
/// sizes are resized from a larger thumbnail (`resize/cascade.rs`).
pub const OUTPUT_VERSION: u32 = 2;

/// The named parts of one thumbnail's recipe, in a fixed order.
pub type Parts = Vec<(String, String)>;

/// Where an image's bytes come from, as far as telling a change goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file's size and modification time, as make and rsync judge a change.
    Stat {
        len: u64,
        modified_ns: i128,
    },
    /// A hash of the bytes themselves (`--checksum`, or a URL whose server gives no validator).
    Content(u64),
    /// A URL's validator from its server, `ETag` first (strong or weak), else `Last-Modified`.
    Etag(String),
    Modified(String),
}

impl Source {
    /// A local file's identity: by its size and modification time, or with `checksum` by its
    /// bytes.
    pub fn of_file(path: &Path, checksum: bool) -> io::Result<Source> {
        if checksum {
            return content_hash(path).map(Source::Content);
        }
        let meta = fs::metadata(path)?;
        let modified_ns = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        Ok(Source::Stat {
            len: meta.len(),
            modified_ns,
        })
    }

    /// How the records write it, and how it reads back with [`Source::parse`].
    pub fn text(&self) -> String {
        match self {
            Source::Stat { len, modified_ns } => format!("stat {len} {modified_ns}"),
            Source::Content(hash) => format!("content {hash:016x}"),
            Source::Etag(tag) => format!("etag {tag}"),
            Source::Modified(date) => format!("modified {date}"),
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        let (kind, rest) = text.split_once(' ')?;
        match kind {
            "stat" => {
                let (len, ns) = rest.split_once(' ')?;
                Some(Source::Stat {
                    len: len.parse().ok()?,
                    modified_ns: ns.parse().ok()?,
                })
            }
            "content" => u64::from_str_radix(rest, 16).ok().map(Source::Content),
            "etag" => Some(Source::Etag(rest.to_string())),
            "modified" => Some(Source::Modified(rest.to_string())),
            _ => None,
        }
    }

    /// The validator a conditional request sends, if this identity came from a server.
    pub fn validator(&self) -> Option<(&'static str, &str)> {
        match self {
            Source::Etag(tag) => Some(("If-None-Match", tag)),
            Source::Modified(date) => Some(("If-Modified-Since", date)),
            Source::Stat { .. } | Source::Content(_) => None,
        }
    }
}

/// FNV-1a of a file's bytes (what `shard::fnv1a` gives its whole content), read in large
/// blocks: stable across versions and machines, which the standard library's hasher is not.
pub fn content_hash(path: &Path) -> io::Result<u64> {
    let mut file = fs::File::open(path)?;
    let mut hash = FNV1A_START;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(hash),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hash = fnv1a_more(hash, &buf[..n]);
    }
}

/// The recipe of the thumbnail of `size` in `format` (the one it came out in, when the format
/// follows the input's), made from `source`.
pub fn parts(
    spec: &ThumbnailSpec,
    names: &NameTemplate,
    size: Size,
    format: OutputFormat,
    source: &Source,
) -> Parts {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut parts: Vec<(&str, String)> = vec![
        ("source", source.text()),
        ("output-version", OUTPUT_VERSION.to_string()),
        ("size", size.to_string()),
        (
            "format",
            spec.format
                .map_or("auto".to_string(), |f| f.extension().to_string()),
        ),
        ("names", names.to_string()),
        (
            "crop",
            match spec.crop {
                None => "none",
                Some(Crop::Centre) => "centre",
                Some(Crop::Entropy) => "entropy",
            }
            .to_string(),
        ),
        ("enlarge", yes_no(spec.enlarge)),
        ("linear", yes_no(spec.linear)),
        ("keep-icc", yes_no(spec.keep_icc)),
        ("keep-metadata", yes_no(spec.keep_metadata)),
        ("shrink-margin", spec.decode.shrink_margin.to_string()),
        ("allow-truncated", yes_no(spec.decode.allow_truncated)),
    ];
    // Only lossy encoders read the quality; only JPEG has progressive scans and no alpha (the
    // background fills transparency there).
    if matches!(format, OutputFormat::Jpeg | OutputFormat::Avif) {
        parts.push(("quality", spec.quality.to_string()));
    }
    if format == OutputFormat::Jpeg {
        parts.push(("progressive", yes_no(spec.progressive)));
        let [r, g, b] = spec.background;
        parts.push(("background", format!("{r:02x}{g:02x}{b:02x}")));
    }
    parts
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// The key of a recipe: 16 hex digits, the same on every machine and in every order of the list.
pub fn key(parts: &Parts) -> String {
    let mut text = String::new();
    for (name, value) in parts {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('\n');
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// The names of the parts that differ between an old recipe and a new one, for the dry run.
pub fn changed(old: &Parts, new: &Parts) -> Vec<String> {
    let mut names: Vec<String> = new
        .iter()
        .filter(|(name, value)| {
            old.iter()
                .find(|(n, _)| n == name)
                .is_none_or(|(_, v)| v != value)
        })
        .map(|(name, _)| name.clone())
        .collect();
    names.extend(
        old.iter()
            .filter(|(name, _)| !new.iter().any(|(n, _)| n == name))
            .map(|(name, _)| name.clone()),
    );
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(spec: &ThumbnailSpec, format: OutputFormat) -> Parts {
        let source = Source::Stat {
            len: 10,
            modified_ns: 5,
        };
        parts(
            spec,
            &NameTemplate::default(),
            Size::width(200),
            format,
            &source,
        )
    }

    #[test]
    fn quality_matters_to_jpeg_only_and_is_named_when_it_changes() {
        let a = ThumbnailSpec::default();
        let b = ThumbnailSpec {
            quality: 30,
            ..ThumbnailSpec::default()
        };
        let (ja, jb) = (
            recipe(&a, OutputFormat::Jpeg),
            recipe(&b, OutputFormat::Jpeg),
        );
        assert_ne!(key(&ja), key(&jb));
        assert_eq!(changed(&ja, &jb), ["quality"]);
        assert_eq!(
            key(&recipe(&a, OutputFormat::Png)),
            key(&recipe(&b, OutputFormat::Png))
        );
    }

    #[test]
    fn a_file_hashed_in_blocks_hashes_as_its_whole_content() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let path = dir.path().join("big");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(content_hash(&path).unwrap(), fnv1a(&bytes));
    }

    #[test]
    fn sources_read_back_as_written() {
        for source in [
            Source::Stat {
                len: 3,
                modified_ns: -1_700_000_000_123,
            },
            Source::Content(0xdead_beef),
            Source::Etag("W/\"a b\"".into()),
            Source::Modified("Sat, 28 Nov 2026 20:00:00 GMT".into()),
        ] {
            assert_eq!(Source::parse(&source.text()), Some(source));
        }
        assert_eq!(Source::parse("nonsense"), None);
    }
}
