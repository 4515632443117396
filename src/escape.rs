//! Names and URLs as we print them: one failure is exactly one line, whatever a file is called.
//!
//! A file name may hold a newline and terminal escapes; printed raw it forges a second line of
//! output or recolours the terminal. Everything we print that came from outside goes through
//! [`printable`], which shows control characters (and the bidirectional overrides that reorder
//! text on screen) as escapes. JSON needs none of this: serde escapes them already.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with control and bidi-override characters written as `\n`, `\t`, `\x1b`, `\u{202e}`.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain ünïcode.jpg"), "plain ünïcode.jpg");
        assert_eq!(
            printable("a\nthumbnail-maker: b\x1b[31m.jpg"),
            "a\\nthumbnail-maker: b\\x1b[31m.jpg"
        );
        assert_eq!(printable("t\tr\r\u{7f}"), "t\\tr\\r\\x7f");
        assert_eq!(printable("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
    }
}
