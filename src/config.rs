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
use crate::shard::Shard;
use crate::thumbnail::ThumbnailSpec;

/// Where thumbnails go, where downloads land, and how many downloads run at once, unless the
/// command line says otherwise (its defaults are these).
pub const DEFAULT_OUT_DIR: &str = "outgoing";
pub const DEFAULT_INCOMING_DIR: &str = "incoming";
pub const DEFAULT_DOWNLOAD_THREADS: u16 = 8;

/// How the two phases run, chosen once from `--sequential` and `--overlap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// One download at a time, then resizing on the calling thread: the baseline to compare with.
    Sequential,
    /// Phase one with all its threads, then phase two with all of its.
    InTurn,
    /// Each image resized as soon as it has landed, while other downloads go on.
    Overlapped,
}

impl Schedule {
    pub fn from_flags(sequential: bool, overlap: bool) -> Self {
        match (sequential, overlap) {
            (true, _) => Schedule::Sequential,
            (false, true) => Schedule::Overlapped,
            (false, false) => Schedule::InTurn,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// URLs, files and folders, as given, and list files of them.
    pub inputs: InputSource,
    /// Do only this shard's share of the inputs.
    pub shard: Option<Shard>,
    /// The thumbnails' folder; with `upload`, the local folder of the run's work queues.
    pub out_dir: PathBuf,
    pub incoming_dir: PathBuf,
    /// Thumbnails go to this S3 prefix instead of `out_dir` (`-o s3://bucket/prefix/`).
    pub upload: Option<Arc<crate::upload::Upload>>,
    /// Sizes, format, quality, colour and decoding limits of the thumbnails.
    pub spec: ThumbnailSpec,
    /// How thumbnail files are named.
    pub names: NameTemplate,
    pub download_threads: usize,
    pub resize_threads: usize,
    /// How the two phases run: one thing at a time, in turn, or overlapped.
    pub schedule: Schedule,
    pub net: NetOptions,
    /// Redo inputs whose thumbnails exist and downloads already in the incoming folder.
    pub force: bool,
    /// Tell a local file's change by its bytes, not its size and modification time.
    pub checksum: bool,
    /// Trust downloads in the incoming folder without asking their servers.
    pub offline: bool,
    /// Add BlurHash to the placeholders.
    pub blurhash: bool,
    /// Write a JSON Lines manifest of every thumbnail of the run here.
    pub manifest: Option<PathBuf>,
    /// Remove thumbnails the tool wrote that no input of the list produces any more.
    pub prune: bool,
    /// Delete each download once its image is done with (bounded disk with `--overlap`).
    pub discard_downloads: bool,
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
            out_dir: PathBuf::from(DEFAULT_OUT_DIR),
            incoming_dir: PathBuf::from(DEFAULT_INCOMING_DIR),
            upload: None,
            spec: ThumbnailSpec::default(),
            names: NameTemplate::default(),
            download_threads: usize::from(DEFAULT_DOWNLOAD_THREADS),
            resize_threads: resize_threads.max(1),
            schedule: Schedule::InTurn,
            net: NetOptions::default(),
            force: false,
            checksum: false,
            offline: false,
            blurhash: false,
            manifest: None,
            prune: false,
            discard_downloads: false,
            cancel: Arc::default(),
        }
    }
}
