//! What a file is, by its first bytes, and decoders' reasons in words for people: the format
//! we decode it with, a format we know and do not read (named), or what the content looks
//! like instead ("an HTML page"), so a wrong download is obvious from the message.

use image::{ImageError, ImageFormat};

use super::{DecodeError, ALLOWED};

/// The format by magic bytes, or a description of what the content is instead.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, DecodeError> {
    if let Some(name) = recognised(bytes) {
        return Err(DecodeError::Recognised(name));
    }
    match image::guess_format(bytes) {
        Ok(format) if ALLOWED.contains(&format) => Ok(format),
        Ok(format) => Err(DecodeError::Unsupported(format)),
        Err(_) => Err(DecodeError::NotAnImage(describe(bytes))),
    }
}

/// Image formats we know by their magic bytes and do not decode, so the error names them
/// rather than calling them "of an unknown kind". (JPEG XL, HEIF and AVIF are decoded before
/// this is asked, in a build with their feature.)
fn recognised(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x00, 0x00, 0x00, 0x0C, b'j', b'P', b' ', b' ', ..] | [0xFF, 0x4F, 0xFF, 0x51, ..] => {
            Some("JPEG 2000")
        }
        [0x00, 0x00, 0x00, 0x0C, b'J', b'X', b'L', b' ', ..] | [0xFF, 0x0A, ..] => Some("JPEG XL"),
        [b'I', b'I', 0xBC, ..] => Some("JPEG XR"),
        [b'8', b'B', b'P', b'S', ..] => Some("Photoshop (PSD)"),
        _ => heif_kind(bytes),
    }
}

/// "AVIF" or "HEIF/HEIC" for a file of the still-image HEIF family: an `ftyp` box with an AV1
/// brand, an HEVC one, or the structural brands (`mif1`, `msf1`) files of either declare.
pub(super) fn heif_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    match bytes.get(8..12)? {
        b"avif" | b"avis" => Some("AVIF"),
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
            Some("HEIF/HEIC")
        }
        _ => None,
    }
}

/// Names what a non-image looks like, so "got an HTML error page" is obvious from the message.
fn describe(bytes: &[u8]) -> &'static str {
    if bytes.is_empty() {
        return "empty (0 bytes)";
    }
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html") {
        "an HTML page"
    } else if trimmed.contains("<svg") {
        "an SVG drawing"
    } else if trimmed.starts_with('<') {
        "XML or HTML text"
    } else if std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "of an unknown kind"
    }
}

pub(super) fn classify(error: ImageError) -> DecodeError {
    match error {
        // The format was recognised (by its magic bytes) but this file uses a part of it the
        // decoder lacks: say which, rather than "of an unknown kind".
        ImageError::Unsupported(e) => DecodeError::Variant(e.to_string()),
        other => DecodeError::Corrupt(plain(&other.to_string())),
    }
}

/// A decoder's message for people: the png crate prints its chunk types as Rust debug
/// structures (`ChunkType { type: IDAT, critical: true, private: false, ... }`, garbled bytes
/// and all), and prefixes everything with "Format error decoding Png:".
fn plain(message: &str) -> String {
    let mut text = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("ChunkType { type: ") {
        text.push_str(&rest[..start]);
        let after = &rest[start + "ChunkType { type: ".len()..];
        let name = after.split(',').next().unwrap_or("?");
        let printable = name.chars().all(|c| c.is_ascii_alphanumeric());
        text.push_str(if printable { name } else { "an unreadable" });
        // The struct ends after its last field; a garbled type may hold `\u{81}` braces.
        let end = after
            .find("safecopy: ")
            .and_then(|field| after[field..].find('}').map(|brace| field + brace));
        rest = end.map_or("", |end| &after[end + 1..]);
    }
    text.push_str(rest);
    let text = text
        .trim_start_matches("Format error decoding ")
        .trim_end_matches('.')
        .to_string();
    // "Png: CRC error: expected 0x4353554d have 0xd02f14c9 while decoding IDAT chunk"
    if let Some(at) = text.find("CRC error") {
        if let Some(chunk) = text[at..].split("while decoding ").nth(1) {
            let format = text.split(':').next().unwrap_or("");
            return format!("{format}: {} checksum mismatch", chunk.trim());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn decoder_messages_name_chunks_in_words() {
        use super::plain;
        assert_eq!(
            plain("Format error decoding Png: CRC error: expected 0x4353554d have 0xd02f14c9 while decoding ChunkType { type: IDAT, critical: true, private: false, reserved: false, safecopy: false } chunk."),
            "Png: IDAT chunk checksum mismatch"
        );
        assert_eq!(
            plain("Format error decoding Png: ChunkType { type: ô¨\\u{81}á, critical: false, private: true, reserved: false, safecopy: true } chunk appeared before IHDR chunk"),
            "Png: an unreadable chunk appeared before IHDR chunk"
        );
        assert_eq!(plain("unexpected end of file"), "unexpected end of file");
    }

    #[test]
    fn html_and_empty_content_are_named() {
        let html = sniff(b"<!DOCTYPE html><html><body>404</body></html>").unwrap_err();
        assert_eq!(
            html.to_string(),
            "not an image: the content is an HTML page"
        );
        let empty = sniff(b"").unwrap_err();
        assert_eq!(
            empty.to_string(),
            "not an image: the content is empty (0 bytes)"
        );
    }
}
