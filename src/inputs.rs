//! What one input is: a URL, a file, or a folder of images, and the safe file name it gets.
//!
//! Every name is made safe to use as a file name here, so no name can point outside the folders
//! the user named; `plan` makes names unique across the run. Reading folders is the only disk
//! access; fetching and decoding belong to later stages.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::failure::{Failure, Stage};
use crate::safety::Fence;

/// File endings a folder is scanned for. Content decides the real format later.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "webp", "gif", "tif", "tiff", "bmp", "ico", "jxl", "heic", "heif",
    "hif", "avif",
];

/// The longest stem we produce, in bytes (cut on a character boundary): file systems cap names
/// at 255 bytes, and the thumbnail suffix, a disambiguating hash and a template's own text still
/// have to fit. Counting characters let 99 emoji (396 bytes) through.
pub const MAX_STEM_BYTES: usize = 100;

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Url(String),
    File(PathBuf),
}

/// Whether `input` is meant as an http(s) URL (well formed or not).
pub fn is_url(input: &str) -> bool {
    matches!(
        crate::url::scheme_of(input).as_deref(),
        Some("http" | "https")
    )
}

/// Whether a folder input takes a file of this name as an image.
pub fn is_image_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.')
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What one input stands for: itself (a URL or a file), a folder's images (sorted, not
/// recursive, hidden files skipped), or a failure saying why it cannot be used. The text
/// returned with each source is the input as given, for hashing and de-duplication; reports
/// name it through [`crate::url::redact`].
pub fn expand_one(input: &str, fence: &Fence) -> Vec<Result<(String, Origin), Failure>> {
    let refuse = |why: String| {
        vec![Err(Failure {
            input: crate::url::redact(input).into_owned(),
            stage: Stage::Input,
            error: why,
        })]
    };
    if is_url(input) {
        return match crate::url::check(input) {
            Ok(()) => vec![Ok((input.to_string(), Origin::Url(input.to_string())))],
            Err(e) => refuse(e.to_string()),
        };
    }
    let path = PathBuf::from(input);
    // One system call for a plain file; a symlink is followed, and known to be one.
    let found = fs::symlink_metadata(&path).and_then(|meta| {
        if meta.is_symlink() {
            fs::metadata(&path).map(|target| (target, true))
        } else {
            Ok((meta, false))
        }
    });
    let (meta, linked) = match found {
        Ok(found) => found,
        // `data:...`, `ftp://...`: not a missing file but a scheme we do not fetch.
        Err(_) if crate::url::scheme_of(input).is_some() => {
            let scheme = crate::url::scheme_of(input).unwrap_or_default();
            return refuse(crate::url::UrlError::Scheme(scheme).to_string());
        }
        Err(e) => return vec![Err(Failure::new(input, Stage::Input, &e))],
    };
    if let Some(why) = fence.refuses(&path, meta.is_file() && !linked) {
        return refuse(why);
    }
    if meta.is_dir() {
        return match folder_images(&path) {
            Ok(files) => files
                .into_iter()
                .map(|f| Ok((f.display().to_string(), Origin::File(f))))
                .collect(),
            Err(e) => vec![Err(Failure::new(input, Stage::Input, &e))],
        };
    }
    if !meta.is_file() {
        // A FIFO would block the run until someone writes to it; a device never ends.
        return refuse(format!("not a regular file ({})", file_kind(&meta)));
    }
    vec![Ok((input.to_string(), Origin::File(path)))]
}

fn file_kind(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "not a file or folder"
}

fn folder_images(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if is_image_name(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The safe stem and lower-case extension a source's files are named after.
pub fn safe_name(source: &Origin) -> (String, String) {
    let file_name = match source {
        Origin::Url(url) => url_file_name(url),
        Origin::File(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    split_extension(&sanitize(&file_name))
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
    if out.len() > MAX_STEM_BYTES {
        let mut cut = MAX_STEM_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
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
    use super::{expand_one, is_url, safe_name, sanitize, url_file_name, Origin};
    use crate::safety::Fence;

    #[cfg(unix)]
    #[test]
    fn a_symlink_into_the_output_folder_is_refused_after_a_plain_file_of_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (photos, out) = (dir.path().join("photos"), dir.path().join("out"));
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(photos.join("a.jpg"), b"x").unwrap();
        std::fs::write(out.join("a_200.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(out.join("a_200.jpg"), photos.join("link.jpg")).unwrap();
        // One fence for the whole list, as planning uses it: the plain file comes first.
        let fence = Fence::new(&out);
        let plain = expand_one(photos.join("a.jpg").to_str().unwrap(), &fence);
        assert!(plain[0].is_ok());
        let link = expand_one(photos.join("link.jpg").to_str().unwrap(), &fence);
        let error = &link[0].as_ref().unwrap_err().error;
        assert!(error.contains("inside the output folder"), "{error}");
        let again = expand_one(photos.join("a.jpg").to_str().unwrap(), &fence);
        assert!(again[0].is_ok());
    }

    fn stem_of_url(url: &str) -> String {
        safe_name(&Origin::Url(url.to_string())).0
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
        // 99 four-byte characters: cut to 25 whole ones, never inside one.
        let emoji = sanitize(&"\u{1F600}".repeat(99));
        assert_eq!((emoji.len(), emoji.chars().count()), (100, 25));
        assert_eq!(sanitize(&"é".repeat(60)).len(), 100);
        assert_eq!(sanitize(&format!("a{}", "é".repeat(60))).len(), 99);
    }

    #[test]
    fn url_detection_and_missing_files() {
        assert!(is_url("HTTPS://x/y.jpg"));
        assert!(!is_url("photos/http.jpg"));
        let none = Fence::none();
        let error = |input: &str| {
            expand_one(input, &none)[0]
                .as_ref()
                .unwrap_err()
                .error
                .clone()
        };
        assert!(error("ftp://x/y.jpg").contains("unsupported URL scheme ftp"));
        assert!(error("data:image/png;base64,AAAA").contains("unsupported URL scheme data"));
        assert!(error("http:/host/x.jpg").contains("followed by // and a host"));
        assert!(error("http://h:99999/x.jpg").contains("port 99999"));
        assert!(error("http://").contains("no host"));
        assert!(error("/no/such/file.jpg").contains("No such file"));
    }
}
