//! Turns what the user typed (URLs, files, folders, list files) into jobs with their file names.
//!
//! Planning is pure and happens before any byte moves: every job gets a stem that is safe to use
//! as a file name and unique within the run, so no two inputs can overwrite each other and no
//! name can point outside the folders the user named. Reading folders and list files is the only
//! disk access here; fetching and decoding belong to later stages.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use crate::report::{Failure, Stage};

/// File endings a folder is scanned for. Content decides the real format later.
const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "jpe", "png", "webp", "gif"];

/// The longest stem we produce, in characters; file systems cap names at 255 bytes and the
/// thumbnail suffix and a disambiguating hash still have to fit.
const MAX_STEM_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Url(String),
    File(PathBuf),
}

/// One image to make thumbnails of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input as the user gave it (or as a folder listing produced it): how reports name it.
    pub input: String,
    pub source: Source,
    /// Safe and unique within the run; thumbnails are `<stem>_<width>.<ext>`.
    pub stem: String,
    /// For URLs, the file name the download is saved under in the incoming folder.
    pub incoming_name: Option<String>,
}

/// Reads an input list: one input per line, blank lines and `#` comments skipped. `-` is stdin.
pub fn read_list(path: &Path) -> io::Result<Vec<String>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(io::BufReader::new(fs::File::open(path)?))
    };
    let mut inputs = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            inputs.push(line.to_string());
        }
    }
    Ok(inputs)
}

pub fn is_url(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Expands folders into their images (sorted, not recursive, hidden files skipped) and checks
/// that files exist. Inputs that cannot be used become failures; the rest go on.
pub fn expand(raw: &[String]) -> (Vec<(String, Source)>, Vec<Failure>) {
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for input in raw {
        if is_url(input) {
            sources.push((input.clone(), Source::Url(input.clone())));
            continue;
        }
        if input.contains("://") {
            failures.push(Failure {
                input: input.clone(),
                stage: Stage::Input,
                error: "unsupported URL scheme (only http and https)".into(),
            });
            continue;
        }
        let path = PathBuf::from(input);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => match folder_images(&path) {
                Ok(files) => sources.extend(
                    files
                        .into_iter()
                        .map(|f| (f.display().to_string(), Source::File(f))),
                ),
                Err(e) => failures.push(Failure::new(input.as_str(), Stage::Input, &e)),
            },
            Ok(_) => sources.push((input.clone(), Source::File(path))),
            Err(e) => failures.push(Failure::new(input.as_str(), Stage::Input, &e)),
        }
    }
    (sources, failures)
}

fn folder_images(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let wanted = !name.starts_with('.')
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if wanted && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Gives every source a safe, unique stem. The same input listed twice is kept once.
///
/// Stems that collide (case-insensitively, for macOS and Windows file systems) all get a short
/// hash of their input appended, so a name depends only on the input and the set of inputs that
/// share its stem, never on the order of the list.
pub fn plan(sources: Vec<(String, Source)>) -> Vec<Job> {
    let mut seen = HashSet::new();
    let sources: Vec<_> = sources
        .into_iter()
        .filter(|(input, _)| seen.insert(input.clone()))
        .collect();

    let named: Vec<(String, Source, String, String)> = sources
        .into_iter()
        .map(|(input, source)| {
            let file_name = match &source {
                Source::Url(url) => url_file_name(url),
                Source::File(path) => path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            let safe = sanitize(&file_name);
            let (stem, ext) = split_extension(&safe);
            (input, source, stem, ext)
        })
        .collect();

    let mut counts: HashMap<String, usize> = HashMap::new();
    for (_, _, stem, _) in &named {
        *counts.entry(stem.to_lowercase()).or_default() += 1;
    }

    named
        .into_iter()
        .map(|(input, source, stem, ext)| {
            let stem = if counts[&stem.to_lowercase()] > 1 {
                format!("{stem}-{:08x}", fnv1a(input.as_bytes()) as u32)
            } else {
                stem
            };
            let incoming_name = match source {
                Source::Url(_) if ext.is_empty() => Some(stem.clone()),
                Source::Url(_) => Some(format!("{stem}.{ext}")),
                Source::File(_) => None,
            };
            Job {
                input,
                source,
                stem,
                incoming_name,
            }
        })
        .collect()
}

/// FNV-1a, 64 bits: a hash that is the same on every machine and Rust version, unlike std's.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The last path segment of a URL, percent-decoded; query and fragment ignored.
fn url_file_name(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split_once('/')
        .map_or("", |(_, path)| path);
    let segment = path.rsplit('/').next().unwrap_or("");
    percent_decode(segment)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes a file name safe on every common file system: no path separators, `..`, control
/// characters, Windows reserved names or trailing dots and spaces; never empty.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Leading dots would hide the file (and `..` would climb); trailing dots and spaces are
    // silently dropped by Windows, which would merge names.
    out = out.trim_start_matches(['.', ' ']).to_string();
    out = out.trim_end_matches(['.', ' ']).to_string();
    if out.chars().count() > MAX_STEM_CHARS {
        out = out.chars().take(MAX_STEM_CHARS).collect();
        out = out.trim_end_matches(['.', ' ']).to_string();
    }
    let base = out.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((base.starts_with("COM") || base.starts_with("LPT"))
            && base.len() == 4
            && base.as_bytes()[3].is_ascii_digit());
    if reserved {
        out.insert(0, '_');
    }
    if out.is_empty() {
        out = "image".to_string();
    }
    out
}

/// Splits `name.ext` into stem and lower-case extension; a name without one keeps it whole.
fn split_extension(name: &str) -> (String, String) {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty() && !ext.is_empty() && ext.len() <= 5 && ext.is_ascii() =>
        {
            (stem.to_string(), ext.to_ascii_lowercase())
        }
        _ => (name.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::{expand, is_url, plan, sanitize, url_file_name, Source};
    use std::path::PathBuf;

    fn urls(list: &[&str]) -> Vec<(String, Source)> {
        list.iter()
            .map(|u| (u.to_string(), Source::Url(u.to_string())))
            .collect()
    }

    #[test]
    fn url_name_is_last_segment_decoded_without_query() {
        assert_eq!(
            url_file_name("http://h/a/b/photo%20one.jpg?x=1#f"),
            "photo one.jpg"
        );
        assert_eq!(url_file_name("https://h"), "");
        assert_eq!(url_file_name("http://h/dir/"), "");
    }

    #[test]
    fn traversal_and_hostile_names_stay_inside_the_folder() {
        let jobs = plan(urls(&[
            "http://h/..%2f..%2fetc%2fpasswd.jpg",
            "http://h/%2e%2e",
            "http://h/a%00b%0a.png",
            "http://h/CON.jpg",
            "http://h/trailing.%20.",
        ]));
        let stems: Vec<_> = jobs.iter().map(|j| j.stem.as_str()).collect();
        assert_eq!(
            stems,
            ["_.._etc_passwd", "image", "a_b_", "_CON", "trailing"]
        );
        for job in &jobs {
            let name = job.incoming_name.as_deref().unwrap();
            assert!(!name.contains('/') && !name.contains('\\') && !name.starts_with('.'));
        }
    }

    #[test]
    fn sanitize_never_returns_empty_or_dots() {
        for bad in ["", ".", "..", " . ", "/", "\\\\"] {
            let s = sanitize(bad);
            assert!(!s.is_empty() && s != "." && s != "..", "{bad:?} -> {s:?}");
        }
        assert_eq!(sanitize(&"x".repeat(300)).len(), 100);
    }

    #[test]
    fn colliding_stems_get_order_independent_suffixes() {
        let a = plan(urls(&[
            "http://a/x.jpg",
            "http://b/x.jpg",
            "http://c/y.jpg",
        ]));
        let b = plan(urls(&[
            "http://c/y.jpg",
            "http://b/x.jpg",
            "http://a/x.jpg",
        ]));
        let stem_of = |jobs: &[super::Job], input: &str| {
            jobs.iter().find(|j| j.input == input).unwrap().stem.clone()
        };
        assert_eq!(stem_of(&a, "http://c/y.jpg"), "y");
        assert_ne!(stem_of(&a, "http://a/x.jpg"), stem_of(&a, "http://b/x.jpg"));
        assert!(stem_of(&a, "http://a/x.jpg").starts_with("x-"));
        for input in ["http://a/x.jpg", "http://b/x.jpg", "http://c/y.jpg"] {
            assert_eq!(stem_of(&a, input), stem_of(&b, input));
        }
    }

    #[test]
    fn same_stem_different_extension_and_case_collide() {
        let jobs = plan(vec![
            ("d/x.jpg".into(), Source::File(PathBuf::from("d/x.jpg"))),
            ("d/X.png".into(), Source::File(PathBuf::from("d/X.png"))),
        ]);
        assert_ne!(jobs[0].stem.to_lowercase(), jobs[1].stem.to_lowercase());
    }

    #[test]
    fn duplicate_inputs_are_planned_once() {
        let jobs = plan(urls(&["http://a/x.jpg", "http://a/x.jpg"]));
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].stem, "x");
        assert_eq!(jobs[0].incoming_name.as_deref(), Some("x.jpg"));
    }

    #[test]
    fn url_detection_and_missing_files() {
        assert!(is_url("HTTPS://x/y.jpg"));
        assert!(!is_url("photos/http.jpg"));
        let (ok, failed) = expand(&["ftp://x/y.jpg".into(), "/no/such/file.jpg".into()]);
        assert!(ok.is_empty());
        assert_eq!(failed.len(), 2);
        assert!(failed[0].error.contains("unsupported URL scheme"));
    }
}
