//! A small HTTP/1.1 server on 127.0.0.1 for `demo`, the tests and the benchmarks.
//!
//! It serves a fixed table of paths, optionally after a delay per request, one thread per
//! connection so that delays overlap as they would on a real server. It counts requests, per path
//! too, and the peak number in flight, so a test can check the download pool's bound from the
//! other side of the socket. It binds to loopback only and is not meant for anything else.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Extra response headers: name and value.
pub type Headers = Vec<(&'static str, String)>;

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Headers,
    pub body: Arc<[u8]>,
    pub fault: Fault,
    /// The first N requests for this path get this status and these headers, with no body.
    pub fail_first: Option<(usize, u16, Headers)>,
    /// The `ETag` a 200 carries and `If-None-Match` is matched against, as static servers
    /// do: a hash of the body, made once with the route (hashing a 3 MB photo per request
    /// would load the very downloads `bench` and `demo` time). `None`: no validator.
    pub etag: Option<String>,
}

/// Ways a route can misbehave, for the fault tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The body one byte at a time, with this pause after each.
    Drip(Duration),
    /// No length announced and bytes without end (stopped at 1 GiB, or when the client leaves).
    Endless,
    /// The full length announced, then the connection closed after this many bytes.
    CutAt(usize),
}

/// Where an endless body stops anyway, so a test server can never run away.
const ENDLESS_CAP: usize = 1 << 30;

impl Route {
    pub fn ok(content_type: &'static str, body: impl Into<Arc<[u8]>>) -> Self {
        let body: Arc<[u8]> = body.into();
        Route {
            status: 200,
            content_type,
            headers: Vec::new(),
            // Quoted, as nginx and most servers make one.
            etag: Some(format!("\"{:016x}\"", crate::shard::fnv1a(&body))),
            body,
            fault: Fault::None,
            fail_first: None,
        }
    }

    /// The same route without an `ETag`, like a server that gives no validator.
    pub fn without_etag(mut self) -> Self {
        self.etag = None;
        self
    }

    /// The route's `ETag`: its own header's if it sets one, else the body's hash on a 200.
    fn etag(&self) -> Option<String> {
        let own = self
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("etag"));
        match own {
            Some((_, value)) => Some(value.clone()),
            None => self.etag.clone().filter(|_| self.status == 200),
        }
    }

    /// An image, typed by its file name as a plain static server would.
    pub fn file(name: &str, body: impl Into<Arc<[u8]>>) -> Self {
        let lower = name.to_ascii_lowercase();
        let content_type = match lower.rsplit('.').next() {
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("png") => "image/png",
            Some("webp") => "image/webp",
            Some("gif") => "image/gif",
            _ => "application/octet-stream",
        };
        Route::ok(content_type, body)
    }

    /// Any status with an empty body, such as a redirect with its `Location` header.
    pub fn status(status: u16, headers: Headers) -> Self {
        Route {
            status,
            headers,
            ..Route::ok("text/plain", Vec::new())
        }
    }

    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// Answers the first `n` requests with `status` (and `headers`) before serving normally.
    pub fn failing_first(mut self, n: usize, status: u16, headers: Headers) -> Self {
        self.fail_first = Some((n, status, headers));
        self
    }
}

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    requests: AtomicUsize,
    /// Requests answered 304 Not Modified, in all and per path.
    not_modified: AtomicUsize,
    not_modified_hits: Mutex<HashMap<String, usize>>,
    hits: Mutex<HashMap<String, usize>>,
    /// The header lines of the last request for each path, as received.
    heads: Mutex<HashMap<String, Vec<String>>>,
}

/// Connections the kernel may queue before `accept`: Linux's own default ceiling (somaxconn).
const LISTEN_BACKLOG: i32 = 4096;

pub struct Server {
    addr: SocketAddr,
    routes: Arc<RwLock<HashMap<String, Route>>>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving `routes` on an ephemeral loopback port; unknown paths get a 404 page.
    pub fn start(routes: HashMap<String, Route>, latency: Duration) -> io::Result<Server> {
        // std listens with a backlog of 128: 2,000 download threads connecting at once
        // overflowed it, and the dropped connections came back a second later (TCP's SYN
        // retry), which measured the server, not the client. The kernel caps this at somaxconn.
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        socket.listen(LISTEN_BACKLOG)?;
        let listener: TcpListener = socket.into();
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let routes = Arc::new(RwLock::new(routes));
        let acceptor = {
            let (stats, stop, routes) =
                (Arc::clone(&stats), Arc::clone(&stop), Arc::clone(&routes));
            thread::Builder::new().name("serve".into()).spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, stats) = (Arc::clone(&routes), Arc::clone(&stats));
                    thread::spawn(move || {
                        // A client that vanishes mid-request is its own problem, not ours.
                        let _ = handle(stream, &routes, &stats, latency);
                    });
                }
            })?
        };
        Ok(Server {
            addr,
            routes,
            stats,
            stop,
            acceptor: Some(acceptor),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The most requests that were being served at the same moment.
    pub fn peak_in_flight(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// How many requests were answered 304 Not Modified.
    pub fn not_modified(&self) -> usize {
        self.stats.not_modified.load(Ordering::SeqCst)
    }

    /// How many requests were answered with the body (all but the 304s).
    pub fn bodies_sent(&self) -> usize {
        self.requests() - self.not_modified()
    }

    /// How many requests for `path` were answered with its body (all but the 304s).
    pub fn sent(&self, path: &str) -> usize {
        let not_modified = self.stats.not_modified_hits.lock().expect("stats lock");
        self.hits(path) - not_modified.get(path).copied().unwrap_or(0)
    }

    /// Serves `route` at `path` from now on: an image that changed on the server.
    pub fn set_route(&self, path: &str, route: Route) {
        let mut routes = self.routes.write().expect("routes lock");
        routes.insert(path.to_string(), route);
    }

    /// How many times `path` was requested.
    /// The header lines (`Name: value`) of the last request for `path`.
    pub fn request_headers(&self, path: &str) -> Vec<String> {
        let heads = self.stats.heads.lock().expect("stats lock");
        heads.get(path).cloned().unwrap_or_default()
    }

    pub fn hits(&self, path: &str) -> usize {
        let hits = self.stats.hits.lock().expect("stats lock");
        hits.get(path).copied().unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn handle(
    stream: TcpStream,
    routes: &RwLock<HashMap<String, Route>>,
    stats: &Stats,
    latency: Duration,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    // The head and the body are two writes; Nagle would hold a small body back until the
    // client acknowledged the head.
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read the headers; nothing in them changes the answer, but tests ask what was sent.
    let mut head = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let path = path.to_string();

    stats.requests.fetch_add(1, Ordering::SeqCst);
    stats
        .heads
        .lock()
        .expect("stats lock")
        .insert(path.clone(), head.clone());
    let hit = {
        let mut hits = stats.hits.lock().expect("stats lock");
        let count = hits.entry(path.clone()).or_default();
        *count += 1;
        *count
    };
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.peak.fetch_max(now, Ordering::SeqCst);
    thread::sleep(latency);
    // Leave the count before answering: the client cannot send its next request until it has
    // the answer, so a request is never counted twice over and the peak is exact.
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    let not_found = Route {
        status: 404,
        content_type: "text/html",
        ..Route::ok(
            "",
            &b"<!DOCTYPE html><html><body>404 Not Found</body></html>"[..],
        )
    };
    // The query never selects a file, so `?copy=2` gives distinct URLs for the same image.
    let file_path = path.split('?').next().unwrap_or("");
    let route = routes
        .read()
        .expect("routes lock")
        .get(file_path)
        .cloned()
        .unwrap_or(not_found);
    let asked = head.iter().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_string())
    });
    match &route.fail_first {
        Some((n, status, headers)) if hit <= *n => {
            let early = Route::status(*status, headers.clone());
            respond(stream, method, &early)
        }
        _ if asked.is_some() && asked == route.etag() => {
            stats.not_modified.fetch_add(1, Ordering::SeqCst);
            *stats
                .not_modified_hits
                .lock()
                .expect("stats lock")
                .entry(path.clone())
                .or_default() += 1;
            let etag = vec![("ETag", asked.unwrap_or_default())];
            let not_modified = Route::status(304, etag).without_etag();
            respond(stream, method, &not_modified)
        }
        _ => respond(stream, method, &route),
    }
}

fn respond(mut stream: TcpStream, method: &str, route: &Route) -> io::Result<()> {
    let reason = match route.status {
        200 => "OK",
        301 | 302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nConnection: close\r\n",
        route.status, reason, route.content_type
    );
    // A 304 has no body, and no length of one.
    if route.fault != Fault::Endless && route.status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", route.body.len()));
    }
    let own_etag = route
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("etag"));
    if let Some(etag) = route.etag().filter(|_| !own_etag) {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    for (name, value) in &route.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method == "HEAD" {
        return stream.flush();
    }
    match route.fault {
        Fault::None => stream.write_all(&route.body)?,
        Fault::CutAt(n) => stream.write_all(&route.body[..n.min(route.body.len())])?,
        Fault::Drip(pause) => {
            for byte in route.body.iter() {
                stream.write_all(&[*byte])?;
                stream.flush()?;
                thread::sleep(pause);
            }
        }
        Fault::Endless => {
            let chunk = [b'x'; 64 * 1024];
            for _ in 0..ENDLESS_CAP / chunk.len() {
                stream.write_all(&chunk)?;
            }
        }
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::{Fault, Route, Server};
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    fn get(server: &Server, path: &str) -> String {
        let addr = server.url("").trim_start_matches("http://").to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_routes_counts_hits_and_404s_the_rest() {
        let routes =
            HashMap::from([("/a.txt".to_string(), Route::ok("text/plain", &b"hello"[..]))]);
        let server = Server::start(routes, Duration::ZERO).unwrap();
        let reply = get(&server, "/a.txt");
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("\r\n\r\nhello"));
        assert!(get(&server, "/missing").starts_with("HTTP/1.1 404"));
        assert_eq!(server.hits("/a.txt"), 1);
        assert_eq!(server.requests(), 2);
        assert_eq!(server.peak_in_flight(), 1);
    }

    #[test]
    fn faults_do_what_they_say() {
        let routes = HashMap::from([
            (
                "/flaky".to_string(),
                Route::ok("text/plain", &b"fine"[..]).failing_first(
                    1,
                    503,
                    vec![("Retry-After", "1".into())],
                ),
            ),
            (
                "/cut".to_string(),
                Route::ok("text/plain", &b"0123456789"[..]).with_fault(Fault::CutAt(4)),
            ),
        ]);
        let server = Server::start(routes, Duration::ZERO).unwrap();
        let first = get(&server, "/flaky");
        assert!(first.starts_with("HTTP/1.1 503") && first.contains("Retry-After: 1\r\n"));
        assert!(get(&server, "/flaky").ends_with("fine"));
        let cut = get(&server, "/cut");
        assert!(cut.contains("Content-Length: 10\r\n") && cut.ends_with("\r\n\r\n0123"));
    }
}
