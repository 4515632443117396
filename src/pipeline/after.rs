//! After both phases: `--prune`, then `--manifest`, from the output folder's records.

use super::RunError;
use crate::config::Config;
use crate::plan::Names;
use crate::progress::Progress;
use crate::reach::Reach;
use crate::report::Report;
use crate::safety::Fence;

/// What a finished run does with the output folder's records: `--prune`, then `--manifest`.
/// An interrupted run does neither: its records are not the whole picture.
pub(super) fn after(
    config: &Config,
    progress: &dyn Progress,
    names: &Names,
    report: &mut Report,
) -> Result<(), RunError> {
    if report.interrupted || names.distinct == 0 {
        return Ok(());
    }
    let reach = Reach::with_s3(Fence::new(&config.out_dir), &config.net);
    if config.prune {
        let pruned = crate::tidy::prune(config, names, &reach).map_err(|e| {
            let place = config
                .upload
                .as_ref()
                .map_or_else(|| config.out_dir.clone(), |u| u.address().into());
            RunError::Prune(place, e)
        })?;
        let place = |file: &str| match &config.upload {
            Some(upload) => format!("{}{file}", upload.address()),
            None => config.out_dir.join(file).display().to_string(),
        };
        for file in &pruned.files {
            progress.log(&format!("pruned {}", place(file)));
        }
        report.resize.pruned += pruned.files.len();
    }
    if let Some(path) = &config.manifest {
        let lines = crate::manifest::write(config, names, &reach, path)
            .map_err(|e| RunError::Manifest(path.clone(), e))?;
        progress.log(&format!("manifest {}: {lines} thumbnails", path.display()));
    }
    Ok(())
}
