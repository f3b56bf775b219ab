//! Where metadata and targets come from: a [`Fetcher`] opens a URL as a
//! stream, and [`read_limited`] reads at most the limit for that file, so an
//! endless or oversized answer (a 1 GB timestamp.json) is refused after
//! `limit + 1` bytes, never read whole.

use crate::TufError;
use std::io::Read;
use std::time::Duration;

/// Opens files of a TUF repository.
pub trait Fetcher {
    /// Opens `url` for reading. A missing file (HTTP 403 or 404) is
    /// [`TufError::NotFound`]; other failures are [`TufError::Fetch`].
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError>;
}

/// Reads at most `limit` bytes of `what` from `reader`; more is an error
/// (rule `endless-data`) and is detected after reading `limit + 1` bytes.
pub fn read_limited(mut reader: impl Read, limit: u64, what: &str) -> Result<Vec<u8>, TufError> {
    let mut out = Vec::new();
    (&mut reader)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| TufError::Fetch {
            url: what.to_string(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(TufError::TooLong {
            what: what.to_string(),
            limit,
        });
    }
    Ok(out)
}

/// Fetches over HTTP(S) with ureq: no redirects followed, a global timeout.
pub struct HttpFetcher {
    agent: ureq::Agent,
}

impl HttpFetcher {
    /// A fetcher whose every request finishes within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { agent: config.into() }
    }
}

impl Fetcher for HttpFetcher {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        let response = self.agent.get(url).call().map_err(|e| TufError::Fetch {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = response.status().as_u16();
        if status == 403 || status == 404 {
            return Err(TufError::NotFound { url: url.to_string() });
        }
        if status != 200 {
            return Err(TufError::Fetch {
                url: url.to_string(),
                reason: format!("HTTP {status}"),
            });
        }
        Ok(Box::new(response.into_body().into_reader()))
    }
}

/// Fetches from a directory mirror (an air-gapped copy of a repository in
/// its served layout): the "URL" is a path. Only regular files are opened
/// (a FIFO or device is refused without blocking); a missing file is
/// [`TufError::NotFound`].
pub struct DirFetcher;

impl Fetcher for DirFetcher {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        let path = std::path::Path::new(url);
        match ward_input::InputFile::new(path, "TUF mirror file", u64::MAX).open() {
            Ok(file) => Ok(Box::new(file)),
            Err(e) if e.is_not_found() => Err(TufError::NotFound { url: url.to_string() }),
            Err(e) => Err(TufError::Fetch {
                url: url.to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Counts the bytes it hands out from an endless stream.
    struct Endless<'a>(&'a Cell<u64>);
    impl Read for Endless<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b' ');
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
    }

    #[test]
    fn an_endless_stream_is_refused_after_the_limit() {
        let read = Cell::new(0);
        let err = read_limited(Endless(&read), 16384, "timestamp.json").unwrap_err();
        assert_eq!(err.rule(), "endless-data");
        // Read stops right after the limit (one read buffer at most).
        assert!(read.get() <= 16384 + 1 + 64 * 1024, "read {} bytes", read.get());
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        assert_eq!(read_limited(&[7u8; 10][..], 10, "x").unwrap().len(), 10);
        assert_eq!(
            read_limited(&[7u8; 11][..], 10, "x").unwrap_err().rule(),
            "endless-data"
        );
    }
}
