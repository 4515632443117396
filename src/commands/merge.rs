//! `report merge`: shard reports combined, printed as text or JSON; `report manifests`: their
//! manifests combined into one file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::CliError;
use crate::report::Outcome;

pub fn merge_reports(files: &[PathBuf], json: bool) -> Result<Outcome, CliError> {
    let merged = crate::merge::merge_files(files).map_err(|e| CliError::Usage(format!("{e:#}")))?;
    if json {
        let text = serde_json::to_string_pretty(&merged).expect("a merged report serialises");
        let _ = writeln!(io::stdout().lock(), "{text}");
    } else {
        let _ = write!(io::stdout().lock(), "{merged}");
    }
    Ok(if merged.complete() {
        Outcome::AllDone
    } else {
        Outcome::SomeFailed
    })
}

pub fn merge_manifests(files: &[PathBuf], output: &Path) -> Result<Outcome, CliError> {
    let lines = crate::manifest::merge(files, output)
        .map_err(|e| CliError::Fatal(anyhow::Error::new(e)))?;
    eprintln!(
        "{}: {lines} thumbnails from {} manifests",
        output.display(),
        files.len()
    );
    Ok(Outcome::AllDone)
}
