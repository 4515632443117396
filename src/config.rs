//! The validated settings a run needs, with no command-line types in them.
//!
//! `cli.rs` builds a [`Config`] from the arguments; tests, benches and `demo` build one directly.
//! Reading the environment (cores, terminal) happens at the edge, never here.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::download::NetOptions;
use crate::list::InputSource;
use crate::output::NameTemplate;
use crate::plan::Shard;
use crate::ThumbnailSpec;

#[derive(Debug, Clone)]
pub struct Config {
    /// URLs, files and folders, as given, and list files of them.
    pub inputs: InputSource,
    /// Do only this shard's share of the inputs.
    pub shard: Option<Shard>,
    pub out_dir: PathBuf,
    pub incoming_dir: PathBuf,
    /// Sizes, format, quality, colour and decoding limits of the thumbnails.
    pub spec: ThumbnailSpec,
    /// How thumbnail files are named.
    pub names: NameTemplate,
    pub download_threads: usize,
    pub resize_threads: usize,
    /// One download at a time and resizing on the calling thread: the baseline to compare with.
    pub sequential: bool,
    pub net: NetOptions,
    /// Resize each image as soon as it has landed, while other downloads go on.
    pub overlap: bool,
    /// Redo inputs whose thumbnails exist and downloads already in the incoming folder.
    pub force: bool,
    /// Set (by Ctrl-C) to stop starting new work; what runs finishes, the report says so.
    pub cancel: Arc<AtomicBool>,
}

impl Config {
    /// Defaults for everything but the inputs, with `resize_threads` given by the caller (who
    /// knows the machine).
    pub fn new(inputs: InputSource, resize_threads: usize) -> Self {
        Config {
            inputs,
            shard: None,
            out_dir: PathBuf::from("outgoing"),
            incoming_dir: PathBuf::from("incoming"),
            spec: ThumbnailSpec::default(),
            names: NameTemplate::default(),
            download_threads: 8,
            resize_threads: resize_threads.max(1),
            sequential: false,
            net: NetOptions::default(),
            overlap: false,
            force: false,
            cancel: Arc::default(),
        }
    }
}
