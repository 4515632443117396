//! What one item that did not make it looks like, in every stage and in the report.
//!
//! Every stage (inputs, download, decode, write) and the report speak of failures, so the type
//! lives below all of them. A failure keeps its whole cause chain as text and prints as one line.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::escape::printable;

/// The stage of the pipeline an item failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The input itself: a missing file, an unreadable folder, a malformed URL.
    Input,
    Download,
    Decode,
    Resize,
    Write,
    /// In a merged report: a shard whose report is missing or that was interrupted.
    Shard,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Input => "input",
            Stage::Download => "download",
            Stage::Decode => "decode",
            Stage::Resize => "resize",
            Stage::Write => "write",
            Stage::Shard => "shard",
        })
    }
}

/// One item that did not make it, with the reason in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub input: String,
    pub stage: Stage,
    pub error: String,
}

impl Failure {
    /// `error` is rendered with its whole source chain, so the reason is never lost.
    pub fn new(input: impl Into<String>, stage: Stage, error: &dyn std::error::Error) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            // Many errors already print their source; don't say it twice.
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        Failure {
            input: input.into(),
            stage,
            error: text,
        }
    }
}

impl fmt::Display for Failure {
    /// One line, always: names and reasons from outside are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} failed: {}",
            printable(&self.input),
            self.stage,
            printable(&self.error)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{Failure, Stage};

    #[test]
    fn failure_text_keeps_the_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let f = Failure::new("a.jpg", Stage::Input, &io);
        assert_eq!(f.to_string(), "a.jpg: input failed: no such file");
    }
}
