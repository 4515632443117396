//! What one input is: a URL, a file, or a folder of images, and the safe file name it gets.
//!
//! Every name is made safe to use as a file name here, so no name can point outside the folders
//! the user named; `plan` makes names unique across the run. Reading folders is the only disk
//! access; fetching and decoding belong to later stages.

use std::fs;
use std::io;
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

pub fn is_url(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// What one input stands for: itself (a URL or a file), a folder's images (sorted, not
/// recursive, hidden files skipped), or a failure saying why it cannot be used.
pub fn expand_one(input: &str) -> Vec<Result<(String, Source), Failure>> {
    if is_url(input) {
        return vec![Ok((input.to_string(), Source::Url(input.to_string())))];
    }
    if input.contains("://") {
        return vec![Err(Failure {
            input: input.to_string(),
            stage: Stage::Input,
            error: "unsupported URL scheme (only http and https)".into(),
        })];
    }
    let path = PathBuf::from(input);
    match fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => match folder_images(&path) {
            Ok(files) => files
                .into_iter()
                .map(|f| Ok((f.display().to_string(), Source::File(f))))
                .collect(),
            Err(e) => vec![Err(Failure::new(input, Stage::Input, &e))],
        },
        Ok(_) => vec![Ok((input.to_string(), Source::File(path)))],
        Err(e) => vec![Err(Failure::new(input, Stage::Input, &e))],
    }
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

/// The safe stem and lower-case extension a source's files are named after.
pub fn safe_name(source: &Source) -> (String, String) {
    let file_name = match source {
        Source::Url(url) => url_file_name(url),
        Source::File(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    split_extension(&sanitize(&file_name))
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
    use super::{expand_one, is_url, safe_name, sanitize, url_file_name, Source};

    fn stem_of_url(url: &str) -> String {
        safe_name(&Source::Url(url.to_string())).0
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
        let stems: Vec<_> = [
            "http://h/..%2f..%2fetc%2fpasswd.jpg",
            "http://h/%2e%2e",
            "http://h/a%00b%0a.png",
            "http://h/CON.jpg",
            "http://h/trailing.%20.",
        ]
        .iter()
        .map(|u| stem_of_url(u))
        .collect();
        assert_eq!(
            stems,
            ["_.._etc_passwd", "image", "a_b_", "_CON", "trailing"]
        );
        for stem in &stems {
            assert!(!stem.contains('/') && !stem.contains('\\') && !stem.starts_with('.'));
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
    fn url_detection_and_missing_files() {
        assert!(is_url("HTTPS://x/y.jpg"));
        assert!(!is_url("photos/http.jpg"));
        let failed = expand_one("ftp://x/y.jpg");
        assert!(failed[0]
            .as_ref()
            .unwrap_err()
            .error
            .contains("unsupported URL scheme"));
        assert!(expand_one("/no/such/file.jpg")[0].is_err());
    }
}
