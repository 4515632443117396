//! `--manifest FILE`: every thumbnail of the run as one JSON line, for web pages and scripts.
//!
//! Written when the run ends, from the output folder's records, or the output prefix's (so
//! thumbnails a re-run found current are listed too, without a decode), through a temporary
//! file and a rename. Each line
//! stands alone and each input belongs to one shard, so the manifests of shards merge by
//! concatenation; `report manifests` does it with checks ([`merge`]).

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::output;
use crate::plan::{Job, Names, Planned};
use crate::reach::Reach;
use crate::sidecar::{self, Sidecar};
use crate::status::{current_entries, Files};
use crate::upload::{Index, Upload};

/// One thumbnail, as a manifest line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The input as given.
    pub input: String,
    /// The thumbnail's path inside the output folder: what an `<img src>` under it names.
    pub file: String,
    /// The size asked for (`200`, `x150`, `200x150`).
    pub size: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// The file's extension: `jpg`, `png`, `webp`, `avif`.
    pub format: String,
    /// The recipe key: changes exactly when the thumbnail's bytes would.
    pub key: String,
    /// ThumbHash of the image (base64, no padding), from its smallest thumbnail.
    pub thumbhash: Option<String>,
    /// BlurHash (4x3), with `--blurhash`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blurhash: Option<String>,
    /// Mean colour, `#rrggbb`.
    pub average: Option<String>,
}

/// Jobs whose records are read together: with `-o s3://`, by `-d` threads at a time.
const BATCH: usize = 256;

/// Writes the manifest of this run's (or shard's) inputs to `path`, in list order. Returns how
/// many thumbnails it lists. With `-o s3://`, the output prefix is listed again (the run's
/// own records are in it now) and each input's record is read with one GET.
pub fn write(config: &Config, names: &Names, reach: &Reach, path: &Path) -> io::Result<usize> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let listed = match &config.upload {
        Some(upload) => Some(upload.relist().map_err(io::Error::other)?),
        None => None,
    };
    let files = match &listed {
        Some(index) => Files::Listed(index),
        None => Files::Folder(&config.out_dir),
    };
    let tmp = output::temp_file(dir)?;
    let mut out = BufWriter::new(tmp);
    let mut lines = 0;
    let mut failed = None;
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Job>| -> io::Result<()> {
        let records = match (&config.upload, &listed) {
            (Some(upload), Some(index)) => bucket_records(config, upload, index, batch)?,
            _ => batch
                .iter()
                .map(|job| sidecar::read(&config.out_dir, &job.stem).record().cloned())
                .collect(),
        };
        for (job, record) in batch.drain(..).zip(records) {
            if let Some(record) = record {
                lines += write_lines(&mut out, config, files, &job, &record)?;
            }
        }
        Ok(())
    };
    names.plan(&config.inputs, config.shard, reach, |_, planned| {
        let Planned::Job(job) = planned else { return };
        if failed.is_some() {
            return;
        }
        batch.push(job);
        if batch.len() >= BATCH {
            failed = flush(&mut batch).err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    flush(&mut batch)?;
    let tmp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(lines)
}

/// One input's lines: each of its current thumbnails.
fn write_lines(
    out: &mut impl Write,
    config: &Config,
    files: Files,
    job: &Job,
    record: &Sidecar,
) -> io::Result<usize> {
    let placeholder = record.placeholder.as_ref();
    let entries = current_entries(config, files, record);
    for entry in &entries {
        let line = Line {
            input: job.input.clone(),
            file: entry.file.clone(),
            size: entry.size.clone(),
            width: entry.width,
            height: entry.height,
            bytes: entry.bytes,
            format: entry.format.clone(),
            key: entry.key.clone(),
            thumbhash: placeholder.map(|p| p.thumbhash.clone()),
            blurhash: placeholder
                .and_then(|p| p.blurhash.clone())
                .filter(|_| config.blurhash),
            average: placeholder.map(|p| p.average.clone()),
        };
        let json = serde_json::to_string(&line).expect("a manifest line serialises");
        writeln!(out, "{json}")?;
    }
    Ok(entries.len())
}

/// The records of `jobs` in the bucket, read by `-d` threads. A record that is not valid JSON
/// is passed over, as in a folder; one that cannot be read fails the manifest.
fn bucket_records(
    config: &Config,
    upload: &Upload,
    index: &Index,
    jobs: &[Job],
) -> io::Result<Vec<Option<Sidecar>>> {
    let read = |job: &Job| -> io::Result<Option<Sidecar>> {
        // After the run an input has one record; should a failed delete have left two, the
        // one whose thumbnails are all current is the one to list.
        let mut best: Option<(usize, Sidecar)> = None;
        for record in index.records(&job.stem) {
            let text = upload
                .record_text(&job.stem, record)
                .map_err(io::Error::other)?;
            let Ok(record) = serde_json::from_str::<Sidecar>(&text) else {
                continue;
            };
            let current = current_entries(config, Files::Listed(index), &record).len();
            if best.as_ref().is_none_or(|(most, _)| current > *most) {
                best = Some((current, record));
            }
        }
        Ok(best.map(|(_, record)| record))
    };
    let threads = config.download_threads.max(1);
    let chunk = jobs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(read).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("a record reader panicked"))
            .collect()
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {}", .0.display())]
    Read(PathBuf, #[source] io::Error),
    #[error("{}:{line} is not a manifest line ({reason})", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{file} is listed for two inputs, {first} and {second}: these manifests are not of one job's shards")]
    Conflict {
        file: String,
        first: String,
        second: String,
    },
    #[error("cannot write {}", .0.display())]
    Write(PathBuf, #[source] io::Error),
}

/// Merges the manifests of a sharded job into `out`, sorted by input then file. A line that is
/// not a manifest line (corrupt, cut short) fails the merge naming its file and line: a merged
/// manifest with lines silently missing would be worse than none. The same line in two
/// manifests is kept once; one file listed for two inputs is refused. Holds every line (about
/// 300 bytes per thumbnail).
pub fn merge(files: &[PathBuf], out: &Path) -> Result<usize, ManifestError> {
    let mut lines: Vec<Line> = Vec::new();
    for path in files {
        let read_err = |e| ManifestError::Read(path.clone(), e);
        let file = std::fs::File::open(path).map_err(read_err)?;
        for (number, text) in io::BufReader::new(file).lines().enumerate() {
            let text = text.map_err(read_err)?;
            if text.trim().is_empty() {
                continue;
            }
            let line = serde_json::from_str(&text).map_err(|e| ManifestError::Line {
                path: path.clone(),
                line: number + 1,
                reason: e.to_string(),
            })?;
            lines.push(line);
        }
    }
    lines.sort_by(|a, b| (&a.file, &a.input).cmp(&(&b.file, &b.input)));
    lines.dedup();
    if let Some(pair) = lines.windows(2).find(|w| w[0].file == w[1].file) {
        return Err(ManifestError::Conflict {
            file: pair[0].file.clone(),
            first: pair[0].input.clone(),
            second: pair[1].input.clone(),
        });
    }
    lines.sort_by(|a, b| (&a.input, &a.file).cmp(&(&b.input, &b.file)));
    let write_err = |e| ManifestError::Write(out.to_path_buf(), e);
    let mut text = Vec::new();
    for line in &lines {
        serde_json::to_writer(&mut text, line).expect("a manifest line serialises");
        text.push(b'\n');
    }
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = output::temp_file(dir).map_err(write_err)?;
    tmp.write_all(&text).map_err(write_err)?;
    tmp.persist(out).map_err(|e| write_err(e.error))?;
    Ok(lines.len())
}
