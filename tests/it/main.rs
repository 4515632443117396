//! The integration tests: one binary, a module per area, shared helpers in `util`.
//! Every run happens in its own temporary folder against a loopback server started by the test.

mod bench;
mod cli;
mod corpus;
mod engine;
mod faults;
mod formats;
mod hardening;
mod house;
mod outputs;
mod pixels;
mod prune;
mod quality;
mod rerun;
mod resume;
mod s3;
mod shard;
mod slurm;
mod streaming;
mod terminal;
mod tls;
mod upload;
mod util;
