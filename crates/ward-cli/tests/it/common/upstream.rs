//! [`FakeRegistry`]: the one loopback HTTP/1.1 server the tests use as an
//! upstream registry, advisory feed or webhook receiver. It answers from a
//! table of paths the test fills (and may change at any time), 404
//! otherwise; gives every body an ETag and answers a matching
//! `If-None-Match` with 304; records every request (method, path,
//! `If-None-Match`, body); and can misbehave on purpose (slow, truncated,
//! dripping, redirecting, a bare status) or go down.
//!
//! Written by hand: it must misbehave in ways a well-kept server crate
//! would not let it, and it binds 127.0.0.1 only.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers one path.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// 200 with this body (and its ETag).
    Body(Vec<u8>),
    /// Waits, then answers 200 with this body.
    Slow(Duration, Vec<u8>),
    /// Claims this Content-Length, sends the bytes, closes.
    Truncated(u64, Vec<u8>),
    /// Sends one byte every interval.
    Drip(Duration, Vec<u8>),
    /// 302 to this URL.
    Redirect(String),
    /// An empty answer with this status.
    Status(u16),
    /// An empty answer with this status the first time, then the other answer.
    FirstThen(u16, Box<Answer>),
}

/// One answer and the headers sent with it.
#[derive(Clone, Debug)]
struct Route {
    answer: Answer,
    /// The ETag of a 200 (quoted); by default a digest of the body.
    etag: Option<String>,
    /// More headers for a 200.
    headers: Vec<(String, String)>,
}

/// One request the server received.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub method: String,
    /// The path, query left out and `%2f` decoded (npm's scoped names).
    pub path: String,
    pub if_none_match: Option<String>,
    pub body: Vec<u8>,
}

/// A loopback registry; clones share the same server.
#[derive(Clone, Default)]
pub(crate) struct FakeRegistry {
    routes: Arc<Mutex<HashMap<String, Route>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    /// 304 answers, by path.
    not_modified: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    pub port: u16,
}

impl FakeRegistry {
    /// Starts serving on a free port of 127.0.0.1 (for as long as the test
    /// process lives, or until [`FakeRegistry::shutdown`]).
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let up = Self {
            port: listener.local_addr().expect("local address").port(),
            ..Default::default()
        };
        let server = up.clone();
        listener.set_nonblocking(true).expect("non-blocking listener");
        std::thread::spawn(move || {
            while !server.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let s = server.clone();
                        std::thread::spawn(move || s.handle(stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        up
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers `path` so from now on.
    pub(crate) fn set(&self, path: &str, answer: Answer) {
        self.route(path, answer, None, &[]);
    }

    /// Answers `path` with 200 and `body`.
    pub(crate) fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.set(path, Answer::Body(body.into()));
    }

    /// Answers `path` with 200 and `body` under this ETag (quoted here) and
    /// these extra headers.
    pub(crate) fn put_with(&self, path: &str, body: Vec<u8>, etag: &str, headers: &[(&str, &str)]) {
        self.route(path, Answer::Body(body), Some(format!("\"{etag}\"")), headers);
    }

    fn route(&self, path: &str, answer: Answer, etag: Option<String>, headers: &[(&str, &str)]) {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), Route { answer, etag, headers });
    }

    /// Serves every file below `dir` at its path relative to `dir` (and an
    /// `index.html` at its directory's path too, as a static web server
    /// does), with the bytes the files hold now.
    pub(crate) fn put_dir(&self, dir: &Path) {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("read dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(dir)
                    .expect("below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                let body = std::fs::read(&path).expect("read file");
                if let Some(parent) = rel.strip_suffix("index.html") {
                    self.put(&format!("/{parent}"), body.clone());
                }
                self.put(&format!("/{rel}"), body);
            }
        }
    }

    /// Answers `path` with 404 from now on.
    pub(crate) fn remove(&self, path: &str) {
        self.routes.lock().expect("routes").remove(path);
    }

    /// The body `path` is answered with (a 200 set by `put` or `set`).
    pub(crate) fn body(&self, path: &str) -> Vec<u8> {
        match self.routes.lock().expect("routes").get(path).map(|r| r.answer.clone()) {
            Some(Answer::Body(b) | Answer::Slow(_, b)) => b,
            other => panic!("{path} has no body to read: {other:?}"),
        }
    }

    /// Every request so far, in order.
    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests").clone()
    }

    /// How many requests named `path`.
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    /// Every request so far, counted by path.
    pub(crate) fn all_hits(&self) -> HashMap<String, usize> {
        let mut hits = HashMap::new();
        for r in self.requests() {
            *hits.entry(r.path).or_default() += 1;
        }
        hits
    }

    /// How many requests for `path` were answered 304.
    pub(crate) fn not_modified(&self, path: &str) -> usize {
        self.not_modified
            .lock()
            .expect("not modified")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// The bodies POSTed to `path`, in order.
    pub(crate) fn posted(&self, path: &str) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// Stops accepting and answering: the registry is down.
    pub(crate) fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn handle(&self, stream: TcpStream) {
        stream.set_nonblocking(false).ok();
        let Ok(read_half) = stream.try_clone() else { return };
        let mut reader = BufReader::new(read_half);
        let mut out = stream;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut if_none_match = None;
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((k, v)) = header.split_once(':') {
                    if k.eq_ignore_ascii_case("if-none-match") {
                        if_none_match = Some(v.trim().to_string());
                    } else if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() || self.stop.load(Ordering::SeqCst) {
                return;
            }
            let mut words = line.split_whitespace();
            let method = words.next().unwrap_or("GET").to_string();
            let path = words
                .next()
                .unwrap_or("/")
                .split('?')
                .next()
                .unwrap_or("/")
                .replace("%2f", "/")
                .replace("%2F", "/");
            self.requests.lock().expect("requests").push(Request {
                method,
                path: path.clone(),
                if_none_match: if_none_match.clone(),
                body,
            });
            let route = {
                let mut routes = self.routes.lock().expect("routes");
                let route = routes.get_mut(&path);
                match route {
                    Some(r) => {
                        let now = r.clone();
                        if let Answer::FirstThen(code, then) = &r.answer {
                            let code = *code;
                            r.answer = (**then).clone();
                            Some(Route {
                                answer: Answer::Status(code),
                                ..now
                            })
                        } else {
                            Some(now)
                        }
                    }
                    None => None,
                }
            };
            if !self.answer(&mut out, &path, route, if_none_match.as_deref()) {
                return;
            }
        }
    }

    /// Writes the answer; whether the connection can take another request.
    fn answer(&self, out: &mut TcpStream, path: &str, route: Option<Route>, if_none_match: Option<&str>) -> bool {
        let Some(route) = route else {
            return out
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .is_ok();
        };
        let ok = |body: &[u8], out: &mut TcpStream| {
            use sha2::Digest as _;
            let etag = route
                .etag
                .clone()
                .unwrap_or_else(|| format!("\"{}\"", hex::encode(&sha2::Sha256::digest(body)[..8])));
            if if_none_match == Some(etag.as_str()) {
                *self
                    .not_modified
                    .lock()
                    .expect("not modified")
                    .entry(path.to_string())
                    .or_default() += 1;
                let head = format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n");
                return out.write_all(head.as_bytes());
            }
            let mut head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\n", body.len());
            for (k, v) in &route.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            out.write_all(head.as_bytes()).and_then(|()| out.write_all(body))
        };
        let written = match route.answer {
            Answer::Body(b) => ok(&b, out),
            Answer::Slow(d, b) => {
                std::thread::sleep(d);
                ok(&b, out)
            }
            Answer::Status(code) | Answer::FirstThen(code, _) => {
                out.write_all(format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n\r\n").as_bytes())
            }
            Answer::Redirect(to) => {
                out.write_all(format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n").as_bytes())
            }
            Answer::Truncated(claimed, b) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\n\r\n");
                let _ = out.write_all(head.as_bytes()).and_then(|()| out.write_all(&b));
                return false;
            }
            Answer::Drip(every, b) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len());
                let _ = out.write_all(head.as_bytes());
                for byte in b {
                    std::thread::sleep(every);
                    if out.write_all(&[byte]).is_err() {
                        break;
                    }
                }
                return false;
            }
        };
        written.is_ok()
    }
}
