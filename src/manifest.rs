//! `--manifest FILE`: every thumbnail of the run as one JSON line, for web pages and scripts.
//!
//! Written when the run ends, from the output folder's records (so thumbnails a re-run found
//! current are listed too, without a decode), through a temporary file and a rename. Each line
//! stands alone and each input belongs to one shard, so the manifests of shards merge by
//! concatenation: `cat shard-*.jsonl > all.jsonl`.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::output;
use crate::plan::{Names, Planned};
use crate::safety::Fence;
use crate::sidecar;
use crate::status::current_entries;

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

/// Writes the manifest of this run's (or shard's) inputs to `path`, in list order. Returns how
/// many thumbnails it lists.
pub fn write(config: &Config, names: &Names, fence: &Fence, path: &Path) -> io::Result<usize> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = output::temp_file(dir)?;
    let mut out = BufWriter::new(tmp);
    let (mut lines, mut failed) = (0, None);
    names.plan(&config.inputs, config.shard, fence, |_, planned| {
        let Planned::Job(job) = planned else { return };
        if failed.is_some() {
            return;
        }
        let found = sidecar::read(&config.out_dir, &job.stem);
        let Some(record) = found.record() else { return };
        let placeholder = record.placeholder.as_ref();
        for entry in current_entries(config, record) {
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
            if let Err(e) = writeln!(out, "{json}") {
                failed = Some(e);
                return;
            }
            lines += 1;
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let tmp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(lines)
}
