//! What the proxy benches share: one keep-alive HTTP/1.1 client
//! connection, written by hand so that the client's own cost stays out of
//! the numbers.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    pub(crate) fn open(addr: &str) -> Self {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Self {
            reader: BufReader::with_capacity(256 * 1024, s.try_clone().unwrap()),
            writer: s,
            host: addr.to_string(),
        }
    }

    /// GETs `path`, reads and discards the body; returns status and body length.
    pub(crate) fn get(&mut self, path: &str) -> (u16, u64) {
        write!(self.writer, "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut len = 0u64;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let copied = std::io::copy(&mut (&mut self.reader).take(len), &mut std::io::sink()).unwrap();
        (status, copied)
    }
}
