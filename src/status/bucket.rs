//! The rule of [`super`] for thumbnails in a bucket (`-o s3://`), where a record's name says
//! what it vouches for and one listing of the output prefix decides every input.

use super::{parts_for, placeholder_key, Verdict, FORCED, NEW};
use crate::config::Config;
use crate::output::OutputFormat;
use crate::recipe::{self, Parts, Source};
use crate::upload::Upload;

/// The digest an uploaded record's name carries (`upload.rs`): every thumbnail's name (when
/// a name can be known before decoding) and recipe key for `format`, and the placeholders'.
pub fn upload_digest(config: &Config, source: &Source, stem: &str, format: OutputFormat) -> String {
    let mut parts: Parts = config
        .spec
        .sizes
        .iter()
        .map(|&size| {
            let name = config.names.predicted_name(stem, size, format);
            let key = recipe::key(&parts_for(config, size, format, source));
            (
                size.to_string(),
                format!("{} {key}", name.unwrap_or_default()),
            )
        })
        .collect();
    let placeholder = placeholder_key(config, source);
    parts.push((
        "placeholder".into(),
        format!("{placeholder} {}", config.blurhash),
    ));
    recipe::key(&parts)
}

/// With `-o s3://`: done when the listing holds a record of `stem` with the digest this run
/// computes for its format, and every thumbnail it names with bytes; else everything is made
/// again (a bucket's record is not read, so what changed is not known to the size).
pub(super) fn upload_verdict(
    config: &Config,
    upload: &Upload,
    source: &Source,
    stem: &str,
) -> Verdict {
    let index = upload.index();
    let records = index.records(stem);
    // The records whose digest this run computes, and whether their files are all listed.
    let vouched: Vec<bool> = records
        .iter()
        .filter_map(|record| {
            let format = OutputFormat::from_extension(&record.extension)?;
            (config.spec.format.is_none_or(|f| f == format)
                && upload_digest(config, source, stem, format) == record.digest)
                .then(|| {
                    config.spec.sizes.iter().all(|&size| {
                        config
                            .names
                            .predicted_name(stem, size, format)
                            .is_none_or(|name| index.bytes(&name).is_some_and(|b| b > 0))
                    })
                })
        })
        .collect();
    if !config.force && vouched.contains(&true) {
        return Verdict::default();
    }
    let why = if config.force {
        FORCED
    } else if records.is_empty() {
        NEW
    } else if vouched.is_empty() {
        "source or options"
    } else {
        "file changed or removed"
    };
    Verdict {
        stale: config.spec.sizes.clone(),
        placeholder: true,
        why: vec![why.to_string()],
    }
}
