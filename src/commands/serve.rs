//! `serve`: the loopback server in the foreground, for comparing download tools.

use std::io::{self, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::CliError;
use crate::cli::ServeArgs;
use crate::demo;

/// Runs the loopback server in the foreground, printing one URL per file on stdout, until
/// `stop` is set (Ctrl-C).
pub fn serve(args: &ServeArgs, stop: &AtomicBool) -> Result<(), CliError> {
    let latency = Duration::from_millis(args.latency);
    let routes = match &args.dir {
        Some(dir) => demo::folder_routes(dir)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", dir.display())))?,
        None => demo::sample_routes(),
    };
    let mut paths: Vec<String> = routes.keys().cloned().collect();
    paths.sort();
    let server = crate::serve::Server::start(routes, latency).map_err(|e| {
        CliError::Fatal(anyhow::Error::new(e).context("cannot listen on 127.0.0.1"))
    })?;
    eprintln!(
        "serving {} files on {} with {} ms latency; Ctrl-C stops",
        paths.len(),
        server.url("/"),
        args.latency
    );
    let mut stdout = io::stdout().lock();
    for path in &paths {
        let _ = writeln!(stdout, "{}", server.url(path));
    }
    let _ = stdout.flush();
    drop(stdout);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    Ok(())
}
