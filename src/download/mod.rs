//! Phase one: fetch every URL into the incoming folder with a bounded pool of worker threads.
//!
//! At most N scoped threads each take the next URL as they come free, so never more than N
//! requests are in flight, like a semaphore of N permits. They share one ureq `Agent` (and its connection pool).
//! Network waits happen here and only here: rayon's threads never block on a socket. Bodies stream
//! to a temporary file and are renamed into place once complete and of the announced length.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

use crate::output;
use crate::recipe::Source;
use crate::s3::{self, S3Options};
use crate::sidecar;
mod listing;
mod pool;
mod resolve;
mod tls;

use resolve::LiteralsFirst;

pub use pool::{download_all, download_from, OnDone};
pub use tls::Trust;

/// Network limits; every one is a flag so a user can loosen it.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub connect_timeout: Duration,
    /// Longest wait for any single read: a stalled server is cut off after this.
    pub read_timeout: Duration,
    /// Longest a whole request may take, body included: a server that drips bytes forever is
    /// cut off after this.
    pub request_timeout: Duration,
    /// Largest body accepted; an endless body is cut here instead of filling the disk.
    pub max_bytes: u64,
    /// Further attempts after a transient failure: a connection error, a timeout, a body cut
    /// short, HTTP 408, 429 or 5xx. Other 4xx answers fail at once.
    pub retries: u32,
    /// The longest `Retry-After` we wait for; a server asking for more gets this much.
    pub max_retry_after: Duration,
    /// Extra request headers (`-H 'Name: value'`), sent with every request; those that carry
    /// credentials (`Authorization`, `Cookie`) only to the input's own scheme, host and port.
    pub headers: Vec<(String, String)>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The certificate authorities HTTPS trusts.
    pub trust: Trust,
    /// Honour `http_proxy`, `https_proxy`, `ALL_PROXY` and `NO_PROXY`. Off for `demo` and the
    /// benchmarks, whose loopback traffic must never leave the machine through a proxy.
    pub env_proxy: bool,
    /// Where `s3://` inputs are and as whom they are fetched.
    pub s3: S3Options,
}

/// The defaults of the network options, in the units the command line takes; clap's
/// attributes and [`NetOptions::default`] both read them.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_READ_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_RETRIES: u32 = 3;
/// The tool and its version, so a server's operator knows who is asking.
pub const DEFAULT_USER_AGENT: &str = concat!("thumbnail-maker/", env!("CARGO_PKG_VERSION"));

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            read_timeout: Duration::from_secs(DEFAULT_READ_TIMEOUT_SECS),
            request_timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            max_bytes: DEFAULT_MAX_BYTES,
            retries: DEFAULT_RETRIES,
            max_retry_after: Duration::from_secs(30),
            headers: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            trust: Trust::default(),
            env_proxy: true,
            s3: S3Options::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("server answered HTTP {code}{}", reason.as_ref().map_or(String::new(), |r| format!(" ({r})")))]
    Status {
        code: u16,
        /// What the server's `Retry-After` asked for, in seconds.
        retry_after: Option<Duration>,
        /// An object store's own reason (`SignatureDoesNotMatch`, `NoSuchKey`), from its body.
        reason: Option<String>,
    },
    #[error("{0}")]
    S3(#[from] s3::S3Error),
    #[error("request failed")]
    Transport(#[source] ureq::Error),
    #[error("redirected to a URL we do not follow")]
    Redirect(#[source] crate::url::UrlError),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("body is larger than the limit of {0} bytes (--max-bytes)")]
    TooLarge(u64),
    #[error("truncated: got {got} of the {expected} bytes announced")]
    Truncated { got: u64, expected: u64 },
    #[error("saving to {} failed", path.display())]
    Save {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl DownloadError {
    /// Whether another attempt might succeed.
    fn is_transient(&self) -> bool {
        match self {
            DownloadError::Status { code, .. } => matches!(code, 408 | 429 | 500..=599),
            DownloadError::Transport(e) => matches!(
                e,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound
                    | ureq::Error::Protocol(_)
            ),
            DownloadError::Truncated { .. } => true,
            DownloadError::TooLarge(_)
            | DownloadError::S3(_)
            | DownloadError::Save { .. }
            | DownloadError::Redirect(_)
            | DownloadError::TooManyRedirects => false,
        }
    }
}

/// The pause before attempt `attempt + 1`: 250 ms doubling up to 8 s, each scaled by a jitter
/// of 0.5 to 1.5 so that many workers failing together do not come back together.
fn backoff(attempt: u32, url: &str) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1 << attempt.min(5));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = crate::shard::fnv1a(format!("{url}{attempt}{nanos}").as_bytes());
    let jitter = 0.5 + (seed % 1000) as f64 / 1000.0;
    base.min(Duration::from_secs(8)).mul_f64(jitter)
}

/// Redirects followed for one request, as browsers and curl's `--max-redirs` default allow
/// far more; five is plenty for image hosts and keeps loops short.
const MAX_REDIRECTS: u32 = 5;

/// What one read of a body takes at most, per worker.
const READ_CHUNK: usize = 64 * 1024;

/// One URL and where its body goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// How messages name it: the URL with its password redacted.
    pub input: String,
    pub url: String,
    pub dest: PathBuf,
    /// What the server said of the image last time (`ETag` or `Last-Modified`): sent as
    /// `If-None-Match` or `If-Modified-Since`, so an unchanged image is not sent again.
    pub validator: Option<Source>,
}

/// What a fetch brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    /// Bytes received (none for a 304).
    pub bytes: u64,
    /// The image's identity: its server's validator, if it gave one.
    pub source: Option<Source>,
    /// The server said the image has not changed (304): the copy or thumbnails we have stand.
    pub not_modified: bool,
}

pub struct Fetcher {
    agent: Agent,
    s3: S3Options,
    headers: Vec<(String, String)>,
    max_bytes: u64,
    retries: u32,
    max_retry_after: Duration,
}

impl Fetcher {
    pub fn new(options: &NetOptions) -> Self {
        let mut builder = Agent::config_builder();
        if !options.env_proxy {
            builder = builder.proxy(None);
        }
        let config = builder
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .timeout_global(Some(options.request_timeout))
            // Statuses are ours to judge; as errors they would hide the headers.
            .http_status_as_error(false)
            // Redirects are followed by `fetch_once`, which checks each target as it checks
            // an input: ureq turned `Location: file:///etc/passwd` into a request for the path
            // `/file:///etc/passwd` on the same host.
            .max_redirects(0)
            .user_agent(options.user_agent.clone())
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(options.trust.roots())
                    .build(),
            )
            // Per connection, and -d allows thousands: ureq's 128 KiB each way was 600 MB at
            // -d 2000. Responses are read through the input buffer (which also holds the
            // headers, capped at 64 KiB by ureq); requests are a few hundred bytes.
            .input_buffer_size(64 * 1024)
            .output_buffer_size(16 * 1024)
            .build();
        Fetcher {
            agent: Agent::with_parts(config, DefaultConnector::new(), LiteralsFirst::default()),
            s3: options.s3.clone(),
            headers: options.headers.clone(),
            max_bytes: options.max_bytes,
            retries: options.retries,
            max_retry_after: options.max_retry_after,
        }
    }

    /// Fetches the task's URL into its `dest`, conditionally if it carries a validator,
    /// retrying transient failures. `on_retry` hears of each failed attempt and the pause
    /// before the next.
    pub fn fetch(
        &self,
        task: &Task,
        on_retry: &dyn Fn(&DownloadError, Duration),
    ) -> Result<Landed, DownloadError> {
        // Signed anew for each attempt: a signature carries its time.
        self.retrying(&task.url, on_retry, || {
            let signed = self.signed(&task.url)?;
            self.fetch_once(
                &signed.url,
                &signed.headers,
                &task.dest,
                task.validator.as_ref(),
            )
        })
    }

    /// The request to send: an `s3://` address becomes a SigV4-signed one.
    fn signed(&self, url: &str) -> Result<s3::Signed, DownloadError> {
        if !s3::is_s3(url) {
            return Ok(s3::Signed {
                url: url.to_string(),
                headers: Vec::new(),
            });
        }
        let (bucket, key) = s3::split(url)?;
        Ok(self.s3.get(&bucket, &key)?)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent; transient
    /// failures wait (`Retry-After`, else a jittered backoff) and are told to `on_retry`.
    pub(super) fn retrying<T>(
        &self,
        url: &str,
        on_retry: &dyn Fn(&DownloadError, Duration),
        once: impl Fn() -> Result<T, DownloadError>,
    ) -> Result<T, DownloadError> {
        let mut attempt = 0;
        loop {
            match once() {
                Err(e) if attempt < self.retries && e.is_transient() => {
                    let pause = match &e {
                        DownloadError::Status {
                            retry_after: Some(asked),
                            ..
                        } => (*asked).min(self.max_retry_after),
                        _ => backoff(attempt, url),
                    };
                    on_retry(&e, pause);
                    thread::sleep(pause);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// One attempt; `signing` (an S3 request's signature) goes only to the URL it signs.
    fn fetch_once(
        &self,
        url: &str,
        signing: &[(String, String)],
        dest: &Path,
        validator: Option<&Source>,
    ) -> Result<Landed, DownloadError> {
        let mut url = url.to_string();
        let mut redirects = 0;
        let origin = url.clone();
        let mut response = loop {
            let mut request = self.agent.get(&url);
            for (name, value) in &self.headers {
                let credential = ["authorization", "cookie", "proxy-authorization"]
                    .contains(&name.to_ascii_lowercase().as_str());
                if !credential || crate::url::same_origin(&origin, &url) {
                    request = request.header(name, value);
                }
            }
            if let Some((name, value)) = validator.and_then(Source::validator) {
                request = request.header(name, value);
            }
            if redirects == 0 {
                for (name, value) in signing {
                    request = request.header(name, value);
                }
            }
            let response = request.call().map_err(DownloadError::Transport)?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok());
            match location {
                Some(location) if matches!(status, 301 | 302 | 303 | 307 | 308) => {
                    if redirects == MAX_REDIRECTS {
                        return Err(DownloadError::TooManyRedirects);
                    }
                    url = crate::url::resolve(&url, location).map_err(DownloadError::Redirect)?;
                    redirects += 1;
                }
                _ => break response,
            }
        };
        let status = response.status().as_u16();
        if status == 304 && validator.is_some() {
            return Ok(Landed {
                bytes: 0,
                source: validator.cloned(),
                not_modified: true,
            });
        }
        if !(200..300).contains(&status) {
            return Err(status_error(&mut response));
        }
        let expected = response.body().content_length();
        if expected.is_some_and(|len| len > self.max_bytes) {
            return Err(DownloadError::TooLarge(self.max_bytes));
        }
        let dir = dest.parent().unwrap_or(Path::new("."));
        let save_err = |source| DownloadError::Save {
            path: dest.to_path_buf(),
            source,
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let source = header("etag")
            .map(Source::Etag)
            .or_else(|| header("last-modified").map(Source::Modified));
        let mut tmp = output::temp_file(dir).map_err(save_err)?;
        // One byte over the cap tells an endless body from one exactly at the cap.
        let mut body = response
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .reader();
        let mut buf = vec![0u8; READ_CHUNK];
        let mut got = 0u64;
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e, self.max_bytes)),
            };
            tmp.write_all(&buf[..n]).map_err(save_err)?;
            got += n as u64;
        }
        if let Some(expected) = expected.filter(|&len| len != got) {
            return Err(DownloadError::Truncated { got, expected });
        }
        // The old copy's validator goes before the new copy lands and the new one's after,
        // so a crash between never pairs a validator with bytes it does not describe.
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let validators = |source| {
            sidecar::save_incoming_source(dir, name, source).map_err(|e| match e {
                output::OutputError::Io { source, .. } => save_err(source),
                other => save_err(io::Error::other(other.to_string())),
            })
        };
        validators(None)?;
        tmp.persist(dest).map_err(|e| save_err(e.error))?;
        validators(source.as_ref())?;
        Ok(Landed {
            bytes: got,
            source,
            not_modified: false,
        })
    }
}

/// A refusal, with the server's `Retry-After` (only the seconds form; an HTTP-date is rare and
/// falls back to our own backoff) and an object store's own reason from the start of its body.
pub(super) fn status_error(response: &mut ureq::http::Response<ureq::Body>) -> DownloadError {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let is_xml = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("xml"));
    let reason = is_xml
        .then(|| {
            let body = response
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string();
            body.ok()
                .and_then(|b| s3::error_code(&b).map(str::to_string))
        })
        .flatten();
    DownloadError::Status {
        code: response.status().as_u16(),
        retry_after,
        reason,
    }
}

/// ureq reports body errors through `io::Error`; unwrap them so the reason reads plainly.
fn read_error(e: io::Error, max_bytes: u64) -> DownloadError {
    if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        let inner = e.into_inner().expect("checked above");
        let ureq_error = *inner.downcast::<ureq::Error>().expect("checked above");
        return match ureq_error {
            ureq::Error::BodyExceedsLimit(_) => DownloadError::TooLarge(max_bytes),
            other => DownloadError::Transport(other),
        };
    }
    DownloadError::Transport(ureq::Error::Io(e))
}
