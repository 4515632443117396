//! One image through phase two: read, decode, resize, write every thumbnail, or none of them;
//! and the streak of write failures after which the phase stops.

use std::fs;
use std::path::Path;

use super::{Done, Queued as Item};
use crate::config::Config;
use crate::failure::{Failure, Stage};
use crate::output::{self, OutputError};
use crate::resize::Thumbnailer;

/// Write failures in a row with the same cause after which phase two stops: a read-only or
/// full output folder fails every image alike, and decoding 10,000 images to print 10,000 equal
/// lines helps nobody.
const WRITE_STREAK_LIMIT: usize = 10;

/// Counts write failures of the same kind in a row, across threads; any success resets it.
#[derive(Default)]
pub(super) struct WriteStreak {
    state: std::sync::Mutex<(Option<std::io::ErrorKind>, usize, Option<String>)>,
}

impl WriteStreak {
    pub(super) fn count(
        &self,
        result: &Result<Done, (Failure, Option<std::io::ErrorKind>)>,
        out: &Path,
    ) {
        let mut state = self.state.lock().expect("streak lock");
        match result {
            Err((failure, Some(kind))) => {
                if state.0 == Some(*kind) {
                    state.1 += 1;
                } else {
                    *state = (Some(*kind), 1, state.2.take());
                }
                if state.1 >= WRITE_STREAK_LIMIT && state.2.is_none() {
                    state.2 = Some(format!(
                        "the last {WRITE_STREAK_LIMIT} images could not be written to {} ({}); the rest were not started: fix the folder and run again",
                        out.display(),
                        failure.error.rsplit(": ").next().unwrap_or(&failure.error)
                    ));
                }
            }
            Ok(_) => state.1 = 0,
            Err(_) => {}
        }
    }

    pub(super) fn stopped(&self) -> Option<String> {
        self.state.lock().expect("streak lock").2.clone()
    }
}

/// Reads, decodes, resizes and writes one image. A failure after some of its thumbnails were
/// written removes them, so an image has all its thumbnails or none; a write failure also says
/// its cause's kind, for [`WriteStreak`].
pub(super) fn thumbnails_for(
    item: &Item,
    config: &Config,
    thumbnailer: &mut Thumbnailer,
) -> Result<Done, (Failure, Option<std::io::ErrorKind>)> {
    let input = item.job.input.as_str();
    let made = crate::thumbnail::make_thumbnails_from_file(&item.path, &config.spec, thumbnailer)
        .map_err(|e| (Failure::new(input, e.stage(), &e), None))?;
    let mut written: Vec<(String, &crate::thumbnail::Thumbnail)> =
        Vec::with_capacity(made.thumbnails.len());
    let undo = |written: &[(String, &crate::thumbnail::Thumbnail)]| {
        for (name, _) in written {
            let _ = fs::remove_file(config.out_dir.join(name));
        }
    };
    for thumb in &made.thumbnails {
        let name = config.names.name(
            &item.job.stem,
            thumb.size,
            (thumb.width, thumb.height),
            thumb.format,
        );
        // Two sizes that come out alike under a template naming files by pixel size are the
        // same thumbnail, written once; a name shared by different pixels would lose one.
        if let Some((_, earlier)) = written.iter().find(|(n, _)| *n == name) {
            if earlier.bytes == thumb.bytes {
                continue;
            }
            let clash = output::OutputError::SameName {
                name,
                first: earlier.size,
                second: thumb.size,
            };
            undo(&written);
            return Err((Failure::new(input, Stage::Write, &clash), None));
        }
        if let Err(e) = output::write_atomic(&config.out_dir, &name, &thumb.bytes) {
            undo(&written);
            let kind = match &e {
                OutputError::Io { source, .. } => Some(source.kind()),
                _ => None,
            };
            return Err((Failure::new(input, Stage::Write, &e), kind));
        }
        written.push((name, thumb));
    }
    Ok(Done {
        thumbnails: made.thumbnails.len(),
        pixels: made.source_pixels,
        warnings: made.warnings,
    })
}
