//! Thumbnails written to object storage (`-o s3://bucket/prefix/`): what is there already,
//! learnt by listing the prefix once, and the writes of one input's thumbnails and record.
//!
//! A record in a bucket cannot be read without one request per input, so its name says what it
//! vouches for: `.thumbnail-maker/<stem>.<ext>.<digest>.json`, where the digest covers the
//! recipe key and name of every thumbnail made, and the placeholders (`status.rs` computes it).
//! One listing then tells, with no other request, whether an input's thumbnails are current:
//! a record with the digest this run computes, and every file it names listed with bytes. The
//! writes keep that true after a crash at any point: the input's old records go first, then
//! its thumbnails, then its new record. Shards share the prefix: each input, its thumbnails
//! and its record belong to one shard. `--manifest` and `--prune` read the records themselves
//! (a GET each), as they read a folder's.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::download::{DownloadError, Fetcher, NetOptions};
use crate::output::Outgoing;
use crate::s3::{self, S3Error};
use crate::sidecar::SIDECAR_DIR;

/// A write under the output prefix that failed, naming the object.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("cannot list the output {0}")]
    List(String, #[source] DownloadError),
    #[error("cannot write {0}")]
    Put(String, #[source] DownloadError),
    #[error("cannot read {0}")]
    Get(String, #[source] DownloadError),
    #[error("internal error while writing to {0} (a bug in thumbnail-maker; please report it)")]
    Bug(String),
    #[error("cannot remove {0}")]
    Delete(String, #[source] DownloadError),
}

/// Where thumbnails go in a bucket, and, once listed, what is there.
pub struct Upload {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
    listed: OnceLock<(Index, Fetcher)>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({})", self.address())
    }
}

/// What the output prefix held when the run started.
#[derive(Debug, Default)]
pub struct Index {
    /// Each object under the prefix (its key without the prefix) and its bytes.
    files: HashMap<String, u64>,
    /// The records of each stem, as their names tell.
    records: HashMap<String, Vec<RecordName>>,
}

/// What a record's name says: the format its thumbnails came out in, and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordName {
    pub extension: String,
    pub digest: String,
}

impl Index {
    /// The bytes of the object named `name` under the prefix, if listed.
    pub fn bytes(&self, name: &str) -> Option<u64> {
        self.files.get(name).copied()
    }

    /// The records listed for `stem`.
    pub fn records(&self, stem: &str) -> &[RecordName] {
        self.records.get(stem).map_or(&[], Vec::as_slice)
    }

    /// Every stem that has a record, with its records.
    pub fn all_records(&self) -> impl Iterator<Item = (&String, &Vec<RecordName>)> {
        self.records.iter()
    }

    fn add(&mut self, name: String, bytes: u64) {
        if let Some((stem, record)) = record_of(&name) {
            self.records.entry(stem).or_default().push(record);
        }
        self.files.insert(name, bytes);
    }
}

/// The key, under the prefix, of `stem`'s record.
pub fn record_name(stem: &str, record: &RecordName) -> String {
    format!(
        "{SIDECAR_DIR}/{stem}.{}.{}.json",
        record.extension, record.digest
    )
}

/// A record's stem and name, read back from its key under the prefix.
fn record_of(name: &str) -> Option<(String, RecordName)> {
    let rest = name
        .strip_prefix(SIDECAR_DIR)?
        .strip_prefix('/')?
        .strip_suffix(".json")?;
    let (rest, digest) = rest.rsplit_once('.')?;
    let (stem, extension) = rest.rsplit_once('.')?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain(digest) && plain(extension) && !stem.is_empty()).then(|| {
        (
            stem.to_string(),
            RecordName {
                extension: extension.to_string(),
                digest: digest.to_string(),
            },
        )
    })
}

impl Upload {
    /// The output `s3://bucket/prefix/`; a prefix not ending in `/` is taken as a folder.
    pub fn parse(address: &str) -> Result<Upload, S3Error> {
        let (bucket, mut prefix) = s3::split(address)?;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Upload {
            bucket,
            prefix,
            listed: OnceLock::new(),
        })
    }

    pub fn address(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Lists the prefix, once per run, with `net`'s endpoint, credentials and limits.
    pub fn list(&self, net: &NetOptions) -> Result<(), UploadError> {
        if self.listed.get().is_some() {
            return Ok(());
        }
        let fetcher = Fetcher::new(net);
        let index = self.index_with(&fetcher)?;
        let _ = self.listed.set((index, fetcher));
        Ok(())
    }

    /// What the prefix holds now (for `--manifest`, after the run's writes).
    pub fn relist(&self) -> Result<Index, UploadError> {
        self.index_with(&self.listed().1)
    }

    fn index_with(&self, fetcher: &Fetcher) -> Result<Index, UploadError> {
        let mut index = Index::default();
        let mut token = None;
        loop {
            let (page, next) = fetcher
                .list_page(&self.bucket, &self.prefix, token.as_deref())
                .map_err(|e| UploadError::List(self.address(), e))?;
            for object in page {
                if let Some(name) = object.key.strip_prefix(&self.prefix) {
                    index.add(name.to_string(), object.size);
                }
            }
            match next {
                Some(next) => token = Some(next),
                None => return Ok(index),
            }
        }
    }

    /// The text of `stem`'s record named `record`.
    pub fn record_text(&self, stem: &str, record: &RecordName) -> Result<String, UploadError> {
        let key = self.key(&record_name(stem, record));
        self.listed()
            .1
            .get_text_object(&self.bucket, &key)
            .map_err(|e| UploadError::Get(format!("s3://{}/{key}", self.bucket), e))
    }

    fn listed(&self) -> &(Index, Fetcher) {
        self.listed
            .get()
            .expect("the output prefix is listed before anything is planned")
    }

    pub fn index(&self) -> &Index {
        &self.listed().0
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Writes one input's thumbnails and record, in the order that keeps a crash honest: its
    /// old records deleted, then its thumbnails put, then its new record. With `prune`, the
    /// files its old records name and the new one does not (another format, another name) are
    /// deleted last, if the listing still shows them with the bytes recorded; their names are
    /// returned.
    pub fn send(&self, outgoing: &Outgoing, prune: bool) -> Result<Vec<String>, UploadError> {
        let superseded = if prune {
            self.recorded_files(self.index(), &outgoing.stem)?
        } else {
            Vec::new()
        };
        self.forget(&outgoing.stem)?;
        for (name, body, content_type) in &outgoing.files {
            self.put(name, body, content_type)?;
        }
        let (name, json) = &outgoing.record;
        self.put(name, json, "application/json")?;
        let mut pruned = Vec::new();
        for (file, bytes) in superseded {
            let rewritten = outgoing.files.iter().any(|(name, ..)| *name == file);
            if !rewritten && self.index().bytes(&file) == Some(bytes) {
                self.delete(&file)?;
                pruned.push(file);
            }
        }
        Ok(pruned)
    }

    /// The files (and their recorded bytes) that `stem`'s records in `index` name. A record
    /// that is not valid JSON names nothing we may remove.
    fn recorded_files(&self, index: &Index, stem: &str) -> Result<Vec<(String, u64)>, UploadError> {
        let mut files = Vec::new();
        for record in index.records(stem) {
            let text = self.record_text(stem, record)?;
            if let Ok(record) = serde_json::from_str::<crate::sidecar::Sidecar>(&text) {
                // A record is only an object someone could edit: a name that would leave the
                // prefix is never followed.
                let inside = |file: &str| {
                    !file.is_empty() && !file.starts_with('/') && s3::check_key(file).is_ok()
                };
                files.extend(
                    record
                        .thumbnails
                        .into_iter()
                        .filter(|e| inside(&e.file))
                        .map(|e| (e.file, e.bytes)),
                );
            }
        }
        Ok(files)
    }

    /// Removes `stem`'s records and the files they name that `index` shows with the bytes
    /// recorded (`--prune`, for an input no longer listed). Returns the files removed.
    pub fn remove_input(&self, index: &Index, stem: &str) -> Result<Vec<String>, UploadError> {
        let mut removed = Vec::new();
        for (file, bytes) in self.recorded_files(index, stem)? {
            if index.bytes(&file) == Some(bytes) {
                self.delete(&file)?;
                removed.push(file);
            }
        }
        for record in index.records(stem) {
            self.delete(&record_name(stem, record))?;
        }
        Ok(removed)
    }

    fn delete(&self, name: &str) -> Result<(), UploadError> {
        let key = self.key(name);
        self.listed()
            .1
            .delete_object(&self.bucket, &key)
            .map_err(|e| UploadError::Delete(format!("s3://{}/{key}", self.bucket), e))
    }

    /// Removes every record of `stem` the listing found: from here until its new record is
    /// written, nothing claims the input's thumbnails are current.
    fn forget(&self, stem: &str) -> Result<(), UploadError> {
        for record in self.index().records(stem) {
            self.delete(&record_name(stem, record))?;
        }
        Ok(())
    }

    /// Writes one object under the prefix.
    fn put(&self, name: &str, body: &[u8], content_type: &str) -> Result<(), UploadError> {
        let key = self.key(name);
        let failed = |e| UploadError::Put(format!("s3://{}/{key}", self.bucket), e);
        s3::check_key(name).map_err(|e| failed(e.into()))?;
        self.listed()
            .1
            .put_object(&self.bucket, &key, body, content_type)
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::{record_name, record_of, Index, RecordName, Upload};

    #[test]
    fn record_names_read_back_and_other_keys_are_files_only() {
        let record = RecordName {
            extension: "jpg".into(),
            digest: "0123abcd".into(),
        };
        let name = record_name("a.b c", &record);
        assert_eq!(name, ".thumbnail-maker/a.b c.jpg.0123abcd.json");
        assert_eq!(
            record_of(&name),
            Some(("a.b c".to_string(), record.clone()))
        );
        for other in [
            "a_200.jpg",
            ".thumbnail-maker/a.json",
            ".thumbnail-maker/.jpg.0123.json",
            ".thumbnail-maker/a.j/g.0123.json",
        ] {
            assert_eq!(record_of(other), None, "{other}");
        }
        let mut index = Index::default();
        index.add(name, 900);
        index.add("a.b c_200.jpg".into(), 4000);
        assert_eq!(index.records("a.b c"), [record]);
        assert_eq!(index.bytes("a.b c_200.jpg"), Some(4000));
        assert_eq!(index.bytes("a.b c_64.jpg"), None);
    }

    #[test]
    fn an_output_address_is_a_bucket_and_a_folder() {
        let upload = Upload::parse("s3://thumbs/site/200").unwrap();
        assert_eq!(
            (upload.bucket.as_str(), upload.prefix.as_str()),
            ("thumbs", "site/200/")
        );
        assert_eq!(Upload::parse("s3://thumbs").unwrap().prefix, "");
        assert!(Upload::parse("s3://Bad_Bucket/x").is_err());
        assert!(Upload::parse("s3://thumbs/a/../b/").is_err());
    }
}
