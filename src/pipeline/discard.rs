//! `--discard-downloads`: each original is deleted once its image is done with, and with
//! `--overlap` no more than N originals (N download threads) are ever on disk, whatever the
//! length of the list: a download starts only when one of N permits is free, and a permit is
//! freed when its original is deleted (or its download failed).

use std::sync::{Condvar, Mutex};

use super::Queued;
use crate::config::Config;
use crate::inputs::Origin;
use crate::sidecar;

/// Counts originals on disk against a ceiling; taking one waits while the ceiling is reached.
pub(super) struct Permits {
    taken: Mutex<usize>,
    freed: Condvar,
    most: usize,
}

impl Permits {
    pub(super) fn new(most: usize) -> Self {
        Permits {
            taken: Mutex::new(0),
            freed: Condvar::new(),
            most: most.max(1),
        }
    }

    pub(super) fn take(&self) {
        let mut taken = self.taken.lock().expect("permits lock");
        while *taken >= self.most {
            taken = self.freed.wait(taken).expect("permits lock");
        }
        *taken += 1;
    }

    pub(super) fn give_back(&self) {
        let mut taken = self.taken.lock().expect("permits lock");
        *taken = taken.saturating_sub(1);
        self.freed.notify_one();
    }
}

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
