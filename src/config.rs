//! The validated settings a run needs, with no command-line types in them.
//!
//! `cli.rs` builds a [`Config`] from the arguments; tests, benches and `demo` build one directly.
//! Reading the environment (cores, terminal) happens at the edge, never here.

use std::path::PathBuf;

use crate::decode::DecodeOptions;
use crate::download::NetOptions;

/// The original service's thumbnail widths.
pub const DEFAULT_WIDTHS: [u32; 3] = [32, 64, 200];

#[derive(Debug, Clone)]
pub struct Config {
    /// URLs, files and folders, as given.
    pub inputs: Vec<String>,
    pub out_dir: PathBuf,
    pub incoming_dir: PathBuf,
    /// Distinct, non-zero thumbnail widths.
    pub widths: Vec<u32>,
    pub download_threads: usize,
    pub resize_threads: usize,
    /// One download at a time and resizing on the calling thread: the baseline to compare with.
    pub sequential: bool,
    /// JPEG quality, 1-100.
    pub quality: u8,
    pub net: NetOptions,
    pub decode: DecodeOptions,
}

impl Config {
    /// Defaults for everything but the inputs, with `resize_threads` given by the caller (who
    /// knows the machine).
    pub fn new(inputs: Vec<String>, resize_threads: usize) -> Self {
        Config {
            inputs,
            out_dir: PathBuf::from("outgoing"),
            incoming_dir: PathBuf::from("incoming"),
            widths: DEFAULT_WIDTHS.to_vec(),
            download_threads: 8,
            resize_threads: resize_threads.max(1),
            sequential: false,
            quality: 80,
            net: NetOptions::default(),
            decode: DecodeOptions::default(),
        }
    }
}
