//! `demo`: the bundled sample photos served over loopback and run through both real phases.
//!
//! Nothing here is simulated: the embedded [`Server`] answers real HTTP requests, phase one
//! downloads through the same pool and client as any URL, phase two resizes as usual.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use crate::config::Config;
use crate::pipeline::{self, RunError};
use crate::progress::Progress;
use crate::report::Report;
use crate::samples::SAMPLES;
use crate::serve::{Route, Server};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the demo server on 127.0.0.1")]
    Serve(#[source] io::Error),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// The bundled samples as server routes, each under `/samples/<name>`.
pub fn sample_routes() -> HashMap<String, Route> {
    SAMPLES
        .iter()
        .map(|s| (format!("/samples/{}", s.name), Route::file(s.name, s.bytes)))
        .collect()
}

/// The images of `dir` (not recursive) as routes under `/<name>`, for `serve DIR`.
pub fn folder_routes(dir: &std::path::Path) -> io::Result<HashMap<String, Route>> {
    let mut routes = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            routes.insert(
                format!("/{name}"),
                Route::file(&name, std::fs::read(&path)?),
            );
        }
    }
    Ok(routes)
}

/// Starts the sample server with `latency` per request; the caller owns it (dropping stops it).
pub fn start_server(latency: Duration) -> io::Result<(Server, Vec<String>)> {
    let server = Server::start(sample_routes(), latency)?;
    let urls = SAMPLES
        .iter()
        .map(|s| server.url(&format!("/samples/{}", s.name)))
        .collect();
    Ok((server, urls))
}

/// Runs `config` (its inputs replaced by the sample URLs) against a fresh sample server.
pub fn run(
    mut config: Config,
    latency: Duration,
    progress: &dyn Progress,
) -> Result<Report, DemoError> {
    let (server, urls) = start_server(latency).map_err(DemoError::Serve)?;
    progress.log(&format!(
        "serving {} sample photos at {} with {} ms latency",
        urls.len(),
        server.url("/samples/"),
        latency.as_millis()
    ));
    config.inputs = crate::list::InputSource::from_args(urls);
    config.net.env_proxy = false;
    // A demo always runs both phases; thumbnails from an earlier demo are not a reason to skip.
    config.force = true;
    Ok(pipeline::run(&config, progress)?)
}
