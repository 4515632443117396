//! Where the inputs come from: the command line, then a list file, one input per line.
//!
//! A list is read lazily and twice (the planner's two passes), never held: stdin is spooled to a
//! file at the edge. Lists come from many editors and shells: a UTF-8 byte-order mark is dropped,
//! CRLF accepted, UTF-16 with its mark (PowerShell's `>`) decoded, and a line that is not text
//! fails alone, with its number, instead of ending the run. This module reads; it names nothing.

use std::fs;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

/// Where the inputs come from: the command line, then a list file (one input per line, blank
/// lines and `#` comments skipped). stdin is spooled to a file at the edge so it can be read twice.
#[derive(Debug, Clone, Default)]
pub struct InputSource {
    pub args: Vec<String>,
    pub list: Option<PathBuf>,
}

impl InputSource {
    pub fn from_args(args: Vec<String>) -> Self {
        InputSource { args, list: None }
    }

    /// Each input, in order, read lazily. A list line that cannot be read as text is handed on
    /// as [`Line::Bad`] with its number, and the lines after it still count.
    pub(crate) fn lines(&self) -> io::Result<impl Iterator<Item = io::Result<Line>> + '_> {
        let list = match &self.list {
            Some(path) => Some(list_lines(path)?),
            None => None,
        };
        let listed = list.into_iter().flatten().filter_map(|line| match line {
            Ok(Line::Input(line)) => {
                let line = line.trim();
                (!line.is_empty() && !line.starts_with('#')).then(|| Ok(Line::Input(line.into())))
            }
            other => Some(other),
        });
        Ok(self
            .args
            .iter()
            .cloned()
            .map(|a| Ok(Line::Input(a)))
            .chain(listed))
    }
}

/// One line of the input list.
pub(crate) enum Line {
    Input(String),
    /// A line that is not text: its 1-based number and why.
    Bad {
        number: usize,
        reason: &'static str,
    },
}

type Lines = Box<dyn Iterator<Item = io::Result<Line>>>;

/// The lines of a list file: UTF-8 (a leading byte-order mark dropped, CRLF accepted), or
/// UTF-16 with its byte-order mark (what Windows PowerShell writes by default).
fn list_lines(path: &Path) -> io::Result<Lines> {
    let mut reader = io::BufReader::new(fs::File::open(path)?);
    let head = reader.fill_buf()?;
    let utf16 = match head {
        [0xFF, 0xFE, ..] => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        [0xFE, 0xFF, ..] => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(unit) = utf16 {
        reader.consume(2);
        return Ok(Box::new(Utf16Lines {
            reader,
            unit,
            number: 0,
        }));
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(Box::new(reader.split(b'\n').enumerate().map(
        |(i, line)| {
            let line = line?;
            Ok(match String::from_utf8(line) {
                Ok(text) => Line::Input(text),
                Err(_) => Line::Bad {
                    number: i + 1,
                    reason: "not valid UTF-8 text",
                },
            })
        },
    )))
}

/// Lines of a UTF-16 file, two bytes at a time, without holding the file.
struct Utf16Lines {
    reader: io::BufReader<fs::File>,
    unit: fn([u8; 2]) -> u16,
    number: usize,
}

impl Iterator for Utf16Lines {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut units = Vec::new();
        let mut pair = [0u8; 2];
        let mut any = false;
        loop {
            match io::Read::read_exact(&mut self.reader, &mut pair) {
                Ok(()) => any = true,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Some(Err(e)),
            }
            let unit = (self.unit)(pair);
            if unit == u16::from(b'\n') {
                break;
            }
            units.push(unit);
        }
        if !any {
            return None;
        }
        self.number += 1;
        Some(Ok(match String::from_utf16(&units) {
            Ok(text) => Line::Input(text),
            Err(_) => Line::Bad {
                number: self.number,
                reason: "not valid UTF-16 text",
            },
        }))
    }
}
