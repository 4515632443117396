//! One image through phase two: read, decode, resize and encode on a resize thread, then
//! write every thumbnail, or none of them, on a writer thread; and the streak of write
//! failures after which the phase stops.

use std::path::Path;

use super::{Done, Queued as Item};
use crate::catch;
use crate::config::Config;
use crate::failure::{Failure, Stage};
use crate::inputs::Origin;
use crate::output::{self, Outgoing, OutputError, OutputFormat};
use crate::placeholder::placeholders;
use crate::recipe::{self, content_hash, Source};
use crate::resize::Thumbnailer;
use crate::sidecar::{self, Entry, Found, Placeholder, Sidecar, SIDECAR_VERSION};
use crate::status;
use crate::thumbnail::{make_some_thumbnails_from_file, Thumbnail, Wanted};
use crate::upload;

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

/// Reads, decodes and resizes one image: those of its thumbnails that are stale (all, the first
/// time), encoded, and its new record, as the writes [`write`] carries out.
pub(super) fn thumbnails_for(
    item: &Item,
    config: &Config,
    thumbnailer: &mut Thumbnailer,
) -> Result<Done, (Failure, Option<std::io::ErrorKind>)> {
    let input = item.job.input.as_str();
    let stem = item.job.stem.as_str();
    let read_failure = |e: std::io::Error| {
        let e = crate::decode::DecodeError::Read(e);
        (Failure::new(input, Stage::Input, &e), None)
    };
    // What the bytes are: a local file by its stat (or content), as planning found it, a
    // download by what its server said of it, else by its content.
    let source = match (&item.job.origin, &item.source) {
        (_, Some(source)) => source.clone(),
        (Origin::File(path), None) => {
            Source::of_file(path, config.checksum).map_err(read_failure)?
        }
        (Origin::Url(_), None) => Source::Content(content_hash(&item.path).map_err(read_failure)?),
    };
    let found = status::found(config, stem);
    let verdict = status::verdict_of(config, &source, stem, &found);
    if verdict.is_done() {
        return Ok(Done {
            skipped: true,
            ..Done::default()
        });
    }
    let mut warnings = Vec::new();
    if let Found::Unusable(why) = &found {
        warnings.push(format!("{why}: not trusted, its thumbnails are made again"));
    }
    let smallest = status::smallest(&config.spec.sizes);
    let wanted = Wanted {
        sizes: Some(&verdict.stale),
        pixels_of: Some(smallest),
    };
    let made = make_some_thumbnails_from_file(&item.path, &config.spec, wanted, thumbnailer)
        .map_err(|e| (Failure::new(input, e.stage(), &e), None))?;
    warnings.extend(made.warnings);
    let mut written: Vec<(String, &Thumbnail)> = Vec::with_capacity(made.thumbnails.len());
    let mut files = Vec::new();
    for thumb in &made.thumbnails {
        let name = config
            .names
            .name(stem, thumb.size, (thumb.width, thumb.height), thumb.format);
        // Two sizes that come out alike under a template naming files by pixel size are the
        // same thumbnail, written once; a name shared by different pixels would lose one.
        if let Some((_, earlier)) = written.iter().find(|(n, _)| *n == name) {
            if earlier.bytes == thumb.bytes {
                written.push((name, thumb));
                continue;
            }
            let clash = output::OutputError::SameName {
                name,
                first: earlier.size,
                second: thumb.size,
            };
            return Err((Failure::new(input, Stage::Write, &clash), None));
        }
        files.push((name.clone(), thumb.bytes.clone(), thumb.format.mime()));
        written.push((name, thumb));
    }
    let record = updated_record(config, item, &source, found, &written, made.pixels.as_ref());
    let record_name = match &config.upload {
        // One format for all of an image's thumbnails: the record's name carries it.
        Some(_) => {
            let format = made
                .thumbnails
                .first()
                .map_or(OutputFormat::Png, |t| t.format);
            upload::record_name(
                stem,
                &upload::RecordName {
                    extension: format.extension().to_string(),
                    digest: status::upload_digest(config, &source, stem, format),
                },
            )
        }
        None => sidecar::relative_path(stem),
    };
    let outgoing = Outgoing {
        stem: stem.to_string(),
        files,
        record: (record_name, sidecar::json(&record)),
    };
    Ok(Done {
        skipped: false,
        thumbnails: made.thumbnails.len(),
        pixels: made.source_pixels,
        warnings,
        outgoing: Some(outgoing),
    })
}

/// Carries out one input's writes (on a writer thread, or on the one thread of
/// `--sequential`): into the output folder, or to the bucket; with `-o s3:// --prune`, the
/// files the input's new record no longer names are deleted and returned. A write failure
/// says its cause's kind, for [`WriteStreak`].
pub(super) fn write(
    config: &Config,
    input: &str,
    outgoing: &Outgoing,
) -> Result<Vec<String>, (Failure, Option<std::io::ErrorKind>)> {
    let Some(upload) = &config.upload else {
        return match output::write_all(&config.out_dir, outgoing) {
            Ok(()) => Ok(Vec::new()),
            Err(e) => {
                let kind = match &e {
                    OutputError::Io { source, .. } => Some(source.kind()),
                    _ => None,
                };
                Err((Failure::new(input, Stage::Write, &e), kind))
            }
        };
    };
    // As on the resize threads, a panic costs only its image.
    catch::caught(|| upload.send(outgoing, config.prune))
        .unwrap_or_else(|_| Err(crate::upload::UploadError::Bug(upload.address())))
        .map_err(|e| (Failure::new(input, Stage::Write, &e), None))
}

/// The input's record after this run's thumbnails: an entry per file written (replacing any
/// entry of the same file), entries of files that are gone dropped, the placeholders renewed.
fn updated_record(
    config: &Config,
    item: &Item,
    source: &Source,
    found: Found,
    written: &[(String, &Thumbnail)],
    pixels: Option<&image::RgbaImage>,
) -> Sidecar {
    let mut record = match found {
        Found::Record(record) => record,
        Found::Absent | Found::Unusable(_) => Sidecar::default(),
    };
    record.version = SIDECAR_VERSION;
    record.input = item.job.input.clone();
    record.thumbnails.retain(|e| {
        !written.iter().any(|(name, _)| *name == e.file)
            && status::safe_relative(&e.file)
            && config.out_dir.join(&e.file).is_file()
    });
    for (name, thumb) in written {
        let parts = recipe::parts(
            &config.spec,
            &config.names,
            thumb.size,
            thumb.format,
            source,
        );
        record.thumbnails.push(Entry {
            size: thumb.size.to_string(),
            file: name.clone(),
            format: thumb.format.extension().to_string(),
            width: thumb.width,
            height: thumb.height,
            bytes: thumb.bytes.len() as u64,
            key: recipe::key(&parts),
            recipe: parts.into_iter().collect(),
        });
    }
    if let Some(pixels) = pixels {
        let made = placeholders(pixels, config.blurhash);
        record.placeholder = Some(Placeholder {
            key: status::placeholder_key(config, source),
            thumbhash: made.thumbhash,
            blurhash: made.blurhash,
            average: made.average,
        });
    }
    record
}
