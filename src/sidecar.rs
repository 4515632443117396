//! What the tool wrote, kept beside what it wrote: a small JSON record per input in the output
//! folder's `.thumbnail-maker/` (each thumbnail's file, pixel size, bytes and recipe, and the
//! image's placeholders), and per download in the incoming folder's `.thumbnail-maker/` (the
//! server's validators).
//!
//! One file per input, written atomically by the only run that works on that input, so shards on
//! shared storage never write the same record and no record depends on the order of the list.
//! A record that cannot be trusted (corrupt, cut short, from a future version) is reported and
//! treated as absent: its input's work is done again, never skipped on its word.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::output::{self, OutputError};
use crate::recipe::{Parts, Source};

/// The hidden folder of records, in the output folder and in the incoming folder.
pub const SIDECAR_DIR: &str = ".thumbnail-maker";
/// The records' own format; a record of a later version is not trusted.
pub const SIDECAR_VERSION: u32 = 1;

/// Everything the tool knows about one input's thumbnails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    pub version: u32,
    pub input: String,
    pub thumbnails: Vec<Entry>,
    pub placeholder: Option<Placeholder>,
}

/// One thumbnail file the tool wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The size as asked (`200`, `x150`, `200x150`).
    pub size: String,
    /// The file's path inside the output folder.
    pub file: String,
    /// Its format's file extension.
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub key: String,
    pub recipe: BTreeMap<String, String>,
}

/// What a page shows while the thumbnail loads, made from the smallest thumbnail's pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placeholder {
    /// The recipe key of the pixels it was made from.
    pub key: String,
    /// ThumbHash, base64 without padding, as its author's demo writes it.
    pub thumbhash: String,
    /// BlurHash with 4x3 components (`--blurhash`).
    pub blurhash: Option<String>,
    /// The mean colour, `#rrggbb`.
    pub average: String,
}

impl Entry {
    pub fn parts(&self) -> Parts {
        self.recipe
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// What reading a record found.
#[derive(Debug)]
pub enum Found {
    Absent,
    Record(Sidecar),
    /// There is one, but it cannot be trusted: why, in words.
    Unusable(String),
}

impl Found {
    pub fn record(&self) -> Option<&Sidecar> {
        match self {
            Found::Record(sidecar) => Some(sidecar),
            Found::Absent | Found::Unusable(_) => None,
        }
    }
}

/// The record of the input whose thumbnails are named after `stem`, inside the output folder.
pub fn relative_path(stem: &str) -> String {
    format!("{SIDECAR_DIR}/{stem}.json")
}

pub fn read(out_dir: &Path, stem: &str) -> Found {
    let path = out_dir.join(relative_path(stem));
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Absent,
        Err(e) => return Found::Unusable(format!("{}: {e}", path.display())),
    };
    match serde_json::from_slice::<Sidecar>(&text) {
        Ok(record) if record.version > SIDECAR_VERSION => Found::Unusable(format!(
            "{} is from a later version of thumbnail-maker (record version {})",
            path.display(),
            record.version
        )),
        Ok(record) => Found::Record(record),
        Err(e) => Found::Unusable(format!("{} is not a valid record ({e})", path.display())),
    }
}

/// Writes the record of `stem` atomically.
pub fn write(out_dir: &Path, stem: &str, sidecar: &Sidecar) -> Result<PathBuf, OutputError> {
    output::write_atomic(out_dir, &relative_path(stem), &json(sidecar))
}

/// The bytes a record is stored as, in a folder or a bucket: indented JSON, for people who
/// open it.
pub fn json(sidecar: &Sidecar) -> Vec<u8> {
    serde_json::to_vec_pretty(sidecar).expect("a record always serialises")
}

/// Removes the record of `stem`; one already gone is no error.
pub fn remove(out_dir: &Path, stem: &str) -> io::Result<()> {
    remove_if_there(&out_dir.join(relative_path(stem)))
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The stems that have a record in `out_dir`.
pub fn stems(out_dir: &Path) -> io::Result<Vec<String>> {
    let dir = out_dir.join(SIDECAR_DIR);
    let entries = match fs::read_dir(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other?,
    };
    let mut stems = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) {
            stems.push(stem.to_string());
        }
    }
    Ok(stems)
}

/// The server's validators for a download, kept beside it in the incoming folder.
#[derive(Serialize, Deserialize)]
struct Validators {
    version: u32,
    source: String,
}

fn incoming_record(name: &str) -> String {
    format!("{SIDECAR_DIR}/{name}.json")
}

/// The identity of the download `name` in `incoming_dir`, as its server gave it, if it did.
pub fn incoming_source(incoming_dir: &Path, name: &str) -> Option<Source> {
    let text = fs::read(incoming_dir.join(incoming_record(name))).ok()?;
    let validators: Validators = serde_json::from_slice(&text).ok()?;
    (validators.version <= SIDECAR_VERSION)
        .then(|| Source::parse(&validators.source))
        .flatten()
}

/// Keeps (or, without one, forgets) the server's validator of the download `name`.
pub fn save_incoming_source(
    incoming_dir: &Path,
    name: &str,
    source: Option<&Source>,
) -> Result<(), OutputError> {
    match source {
        Some(source) => {
            let json = serde_json::to_vec(&Validators {
                version: SIDECAR_VERSION,
                source: source.text(),
            })
            .expect("validators always serialise");
            output::write_atomic(incoming_dir, &incoming_record(name), &json).map(|_| ())
        }
        None => {
            let path = incoming_dir.join(incoming_record(name));
            remove_if_there(&path).map_err(|source| OutputError::Io { path, source })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_truncated_and_future_records_are_unusable_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let record = Sidecar {
            version: SIDECAR_VERSION,
            input: "a.jpg".into(),
            ..Sidecar::default()
        };
        write(dir.path(), "a", &record).unwrap();
        assert_eq!(read(dir.path(), "a").record(), Some(&record));
        assert!(matches!(read(dir.path(), "b"), Found::Absent));

        let path = dir.path().join(relative_path("a"));
        let whole = fs::read(&path).unwrap();
        fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        assert!(
            matches!(read(dir.path(), "a"), Found::Unusable(why) if why.contains("not a valid record"))
        );
        fs::write(&path, b"\x00\xffgarbage").unwrap();
        assert!(matches!(read(dir.path(), "a"), Found::Unusable(_)));
        let future = serde_json::to_vec(&Sidecar {
            version: SIDECAR_VERSION + 1,
            ..record
        })
        .unwrap();
        fs::write(&path, future).unwrap();
        assert!(
            matches!(read(dir.path(), "a"), Found::Unusable(why) if why.contains("later version"))
        );
        assert_eq!(stems(dir.path()).unwrap(), ["a"]);
    }
}
