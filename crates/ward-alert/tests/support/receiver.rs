//! A scripted HTTP receiver on 127.0.0.1 for the tests: each connection
//! gets the next behaviour (hang, answer a status, redirect), and every
//! body that got a 2xx is kept, in order.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub(crate) enum Behaviour {
    /// Read the request and never answer (until the client gives up).
    Hang,
    /// Answer this status.
    Status(u16),
    /// Answer 307 to another host.
    Redirect(&'static str),
    /// Answer 201 with this JSON body.
    Created(String),
}

pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) accepted: Arc<Mutex<Vec<(String, String, Vec<u8>)>>>,
    pub(crate) attempts: Arc<Mutex<usize>>,
}

/// Starts a receiver answering connections by `script`, then `then` for ever.
pub(crate) fn start(script: Vec<Behaviour>, then: Behaviour) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let attempts = Arc::new(Mutex::new(0));
    let (acc, att) = (Arc::clone(&accepted), Arc::clone(&attempts));
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let behaviour = script.next().unwrap_or_else(|| then.clone());
            *att.lock().unwrap() += 1;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap_or(0);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap_or(());
            let mut words = request_line.split_whitespace();
            let (method, path) = (
                words.next().unwrap_or("").to_string(),
                words.next().unwrap_or("").to_string(),
            );
            let answer = match behaviour {
                Behaviour::Hang => {
                    // Hold the connection open without answering (on its
                    // own thread: the next connection is served meanwhile).
                    std::thread::spawn(move || {
                        let _held = stream;
                        std::thread::sleep(std::time::Duration::from_secs(30));
                    });
                    continue;
                }
                Behaviour::Status(s) => {
                    if (200..300).contains(&s) {
                        acc.lock().unwrap().push((method, path, body));
                    }
                    format!("HTTP/1.1 {s} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                }
                Behaviour::Redirect(to) => {
                    format!("HTTP/1.1 307 Moved\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                }
                Behaviour::Created(json) => {
                    acc.lock().unwrap().push((method, path, body));
                    format!(
                        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                        json.len()
                    )
                }
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    Receiver {
        url,
        accepted,
        attempts,
    }
}
