//! `report merge`: shard reports combined, printed as text or JSON.

use std::io::{self, Write};
use std::path::PathBuf;

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
