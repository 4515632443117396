//! `--discard-downloads`: each original is deleted once its image is done with, and with
//! `--overlap` no more than N originals (N download threads) are ever on disk, whatever the
//! length of the list: a download starts only when one of N permits is free, and a permit is
//! freed when its original is deleted (or its download failed).

use super::Queued;
use crate::config::Config;
use crate::inputs::Origin;
use crate::sidecar;

/// Deletes a downloaded original and its kept validator once phase two is done with it
/// (made, found current, or failed: a re-run fetches it again if it needs it). A local input
/// is never touched.
pub(super) fn discard(config: &Config, item: &Queued) {
    if !config.discard_downloads || !matches!(item.job.origin, Origin::Url(_)) {
        return;
    }
    let _ = std::fs::remove_file(&item.path);
    if let Some(name) = &item.job.incoming_name {
        let _ = sidecar::save_incoming_source(&config.incoming_dir, name, None);
    }
}
