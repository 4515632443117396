//! The pool of download workers: at most N threads, each taking the next URL as it comes free,
//! started only as they are needed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::{DownloadError, Fetcher, Landed, Task};
use crate::failure::{Failure, Stage};
use crate::progress::{Phase, Progress};

/// Stack of a download worker. A request (TLS handshake included) needs far less than the
/// 2 MiB default; with thousands of workers (`-d 4096`) the default would reserve 8 GiB of
/// address space, which a job's memory limit on virtual size refuses.
const DOWNLOAD_STACK: usize = 512 * 1024;

/// Runs `tasks` on `threads` workers. Results come back in task order; a failed URL never stops
/// the others. Once `cancel` is set no new download starts; those left out come back as `None`.
pub fn download_all(
    tasks: &[Task],
    threads: usize,
    fetcher: &Fetcher,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Vec<Option<Result<Landed, Failure>>> {
    let results: Vec<_> = (0..tasks.len()).map(|_| Mutex::new(None)).collect();
    download_from(
        tasks.iter().cloned().enumerate(),
        threads,
        fetcher,
        progress,
        cancel,
        &|i, result| *results[i].lock().expect("result lock") = Some(result),
    );
    results
        .into_iter()
        .map(|r| r.into_inner().expect("result lock"))
        .collect()
}

/// What [`download_from`] calls with each task's tag and its result.
pub type OnDone<'a, T> = dyn Fn(T, Result<Landed, Failure>) + Sync + 'a;

/// Fetches each task as `tasks` yields it, on at most `threads` workers, and calls `on_done`
/// with its tag and the result as each completes (on the worker that did it).
///
/// Each worker takes the next task from `tasks` as it comes free, so a list of any length flows
/// through without being held. Workers start only as they are needed: a worker that takes a
/// task starts one more (up to `threads`), so three URLs never start a thousand threads. Once
/// `cancel` is set no new download starts.
pub fn download_from<T: Send>(
    tasks: impl Iterator<Item = (T, Task)> + Send,
    threads: usize,
    fetcher: &Fetcher,
    progress: &dyn Progress,
    cancel: &AtomicBool,
    on_done: &OnDone<'_, T>,
) {
    let pool = Pool {
        tasks: Mutex::new(tasks),
        threads: threads.max(1),
        started: AtomicUsize::new(0),
        fetcher,
        progress,
        cancel,
        on_done,
    };
    thread::scope(|scope| pool.start_worker(scope));
}

/// The workers of one [`download_from`] call and what they share.
struct Pool<'a, I, T> {
    tasks: Mutex<I>,
    threads: usize,
    started: AtomicUsize,
    fetcher: &'a Fetcher,
    progress: &'a dyn Progress,
    cancel: &'a AtomicBool,
    on_done: &'a OnDone<'a, T>,
}

impl<'a, I: Iterator<Item = (T, Task)> + Send, T: Send> Pool<'a, I, T> {
    fn start_worker<'scope, 'env>(&'env self, scope: &'scope thread::Scope<'scope, 'env>) {
        let n = self.started.fetch_add(1, Ordering::Relaxed);
        if n >= self.threads {
            return;
        }
        thread::Builder::new()
            .name(format!("download-{n}"))
            .stack_size(DOWNLOAD_STACK)
            .spawn_scoped(scope, move || self.work(scope))
            .expect("spawning a download thread");
    }

    fn work<'scope, 'env>(&'env self, scope: &'scope thread::Scope<'scope, 'env>) {
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                break;
            }
            let next = self.tasks.lock().expect("task lock").next();
            let Some((tag, task)) = next else { break };
            // There may be more where this came from: let another worker look.
            if self.started.load(Ordering::Relaxed) < self.threads {
                self.start_worker(scope);
            }
            let started = Instant::now();
            let on_retry = |e: &DownloadError, pause: Duration| {
                self.progress.log(&format!(
                    "{}: {e}; retrying in {:.1} s",
                    task.input,
                    pause.as_secs_f64()
                ));
            };
            let result = self
                .fetcher
                .fetch(&task, &on_retry)
                .map_err(|e| Failure::new(&task.input, Stage::Download, &e));
            match &result {
                Ok(landed) if landed.not_modified => {
                    self.progress.log(&format!(
                        "{} not modified (304) in {:.3} s",
                        task.input,
                        started.elapsed().as_secs_f64()
                    ));
                    self.progress.item_finished(Phase::Download, 0);
                }
                Ok(landed) => {
                    self.progress.log(&format!(
                        "fetched {} ({} bytes) in {:.3} s",
                        task.input,
                        landed.bytes,
                        started.elapsed().as_secs_f64()
                    ));
                    self.progress.item_finished(Phase::Download, landed.bytes);
                }
                Err(failure) => self.progress.item_failed(Phase::Download, failure),
            }
            (self.on_done)(tag, result);
        }
    }
}
