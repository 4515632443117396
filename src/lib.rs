//! thumbnail-maker: URLs, files and folders in, thumbnails out, as fast as the machine allows.
//!
//! The pipeline has two phases, timed separately: [`download`] fetches URLs with a bounded pool
//! of threads, then rayon fans the images across cores, each one [`decode`]d once, [`resize`]d to
//! every width and written by [`output`]. [`pipeline::run`] drives a whole run from a
//! [`Config`]; [`thumbnail`] is the pure core (bytes in, encoded thumbnails out) that
//! benches and tests call directly.

pub mod bench;
pub mod catch;
pub mod cli;
pub mod colour;
pub mod commands;
pub mod config;
pub mod decode;
pub mod demo;
pub mod download;
pub mod dry_run;
pub mod escape;
pub mod failure;
pub mod inputs;
pub mod list;
pub mod logging;
pub mod manifest;
pub mod merge;
pub mod output;
pub mod pipeline;
pub mod placeholder;
pub mod plan;
pub mod progress;
pub mod reach;
pub mod recipe;
pub mod report;
pub mod resize;
pub mod s3;
pub mod safety;
pub mod samples;
pub mod serve;
pub mod shard;
pub mod sidecar;
pub mod spill;
pub mod status;
pub mod thumbnail;
pub mod tidy;
pub mod upload;
pub mod url;
pub mod utc;

pub use config::Config;
pub use pipeline::run;
pub use report::Report;
pub use thumbnail::{
    make_thumbnails, make_thumbnails_from_file, Thumbnail, ThumbnailError, ThumbnailSpec,
    Thumbnails, DEFAULT_SIZES,
};
