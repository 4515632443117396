//! `--prune`: removes the thumbnails this tool wrote that no input of the list produces any
//! more: those of inputs no longer listed, and those an option change left behind (another
//! format or name). Only files named in the output folder's records are ever touched, and only
//! while they still have the length the tool wrote; everything else in the folder is the
//! user's.
//!
//! With `--shard`, the records of every input of the whole list are kept (other shards own
//! them); a shard tidies the records of its own inputs and removes those of inputs no shard
//! lists, which every shard agrees on. Under `-o s3://` the same rules hold, read from a
//! listing of the prefix and the records in it.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

use crate::config::Config;
use crate::plan::{Names, Planned};
use crate::reach::Reach;
use crate::sidecar::{self, Entry};
use crate::status::{current_entries, safe_relative, Files};
use crate::upload::{Upload, UploadError};

/// What `--prune` removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// The thumbnail files removed, as paths inside the output folder.
    pub files: Vec<String>,
    /// Inputs no longer listed whose records went with their files.
    pub inputs: usize,
}

pub fn prune(config: &Config, names: &Names, reach: &Reach) -> io::Result<Pruned> {
    let stems = |shard| -> io::Result<HashSet<String>> {
        let mut stems = HashSet::new();
        names.plan(&config.inputs, shard, reach, |_, planned| {
            if let Planned::Job(job) = planned {
                stems.insert(job.stem);
            }
        })?;
        Ok(stems)
    };
    let listed = stems(None)?;
    let mine = match config.shard {
        Some(_) => stems(config.shard)?,
        None => listed.clone(),
    };
    let mut pruned = Pruned::default();
    if let Some(upload) = &config.upload {
        prune_bucket(upload, &listed, &mut pruned).map_err(io::Error::other)?;
        return Ok(pruned);
    }
    for stem in sidecar::stems(&config.out_dir)? {
        let Some(record) = sidecar::read(&config.out_dir, &stem).record().cloned() else {
            // A record we cannot read names nothing we may remove.
            continue;
        };
        if !listed.contains(&stem) {
            for entry in &record.thumbnails {
                remove(&config.out_dir, entry, &mut pruned)?;
            }
            sidecar::remove(&config.out_dir, &stem)?;
            pruned.inputs += 1;
            continue;
        }
        if !mine.contains(&stem) {
            continue;
        }
        let current: Vec<Entry> = current_entries(config, Files::Folder(&config.out_dir), &record)
            .into_iter()
            .cloned()
            .collect();
        if current.len() == record.thumbnails.len() {
            continue;
        }
        for entry in &record.thumbnails {
            if !current.iter().any(|c| c.file == entry.file) {
                remove(&config.out_dir, entry, &mut pruned)?;
            }
        }
        let kept = sidecar::Sidecar {
            thumbnails: current,
            ..record
        };
        sidecar::write(&config.out_dir, &stem, &kept)
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    Ok(pruned)
}

/// `--prune` under `-o s3://`: the inputs no longer listed lose their thumbnails and records
/// (from a listing made now). What an option change left behind of a listed input went when
/// its new record was written (`Upload::send`), so nothing else is left to do.
fn prune_bucket(
    upload: &Upload,
    listed: &HashSet<String>,
    pruned: &mut Pruned,
) -> Result<(), UploadError> {
    let index = upload.relist()?;
    for (stem, _) in index.all_records() {
        if listed.contains(stem) {
            continue;
        }
        pruned.files.extend(upload.remove_input(&index, stem)?);
        pruned.inputs += 1;
    }
    Ok(())
}

/// Removes one recorded thumbnail, if it is still inside the folder and as the tool wrote it.
fn remove(out_dir: &Path, entry: &Entry, pruned: &mut Pruned) -> io::Result<()> {
    if !safe_relative(&entry.file) {
        return Ok(());
    }
    let path = out_dir.join(&entry.file);
    let ours = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == entry.bytes);
    if !ours {
        return Ok(());
    }
    match fs::remove_file(&path) {
        Ok(()) => {
            pruned.files.push(entry.file.clone());
            Ok(())
        }
        // Another shard pruning the same input got there first.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
