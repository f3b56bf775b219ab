//! HTTP for the webhook sink and ticket pushes: ureq, the client the proxy
//! and `ward trust update` use, configured the same way: no redirect is
//! ever followed (a 3xx is an answer, reported with where it pointed), a
//! global timeout bounds every request (a receiver that hangs cannot hold
//! a delivery forever), the outbound proxy is the one the CLI read from the
//! environment (`ward_registry::Egress`), and the reply body is read only
//! up to a bound.

use std::time::Duration;

/// The most of a reply body read (trackers answer with the created issue).
const MAX_REPLY: u64 = 1 << 20;

/// An HTTP client for JSON requests.
#[derive(Clone, Debug)]
pub struct HttpClient {
    agent: ureq::Agent,
}

/// What the receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// `Location`, for a redirect.
    pub location: Option<String>,
    /// The body (at most 1 MiB; empty when it could not be read).
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Why a reply that is not 2xx is a failure, in words.
    pub fn failure(&self) -> String {
        match (&self.location, self.status) {
            (Some(to), 300..=399) => format!(
                "HTTP {} redirect to {to} (ward never follows a redirect from a webhook or tracker)",
                self.status
            ),
            (_, s) => format!("HTTP {s}"),
        }
    }
}

impl HttpClient {
    /// A client whose every request finishes within `timeout`, through
    /// `proxy` when one is given, with `tls` (ureq's defaults when `None`).
    pub fn new(timeout: Duration, proxy: Option<ureq::Proxy>, tls: Option<ureq::tls::TlsConfig>) -> Self {
        let mut builder = ureq::Agent::config_builder()
            .proxy(proxy)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")));
        if let Some(tls) = tls {
            builder = builder.tls_config(tls);
        }
        Self {
            agent: builder.build().into(),
        }
    }

    /// Sends `body` (JSON) with `method` (`POST`, `PATCH`, `PUT`) to `url`,
    /// with `Authorization: Bearer TOKEN` when a token is given. A transport
    /// error (refused, timed out, TLS) is `Err` with the reason.
    pub fn send_json(&self, method: &str, url: &str, body: &[u8], token: Option<&str>) -> Result<Reply, String> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let with_headers = |b: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            let b = b
                .header("content-type", "application/json")
                .header("accept", "application/json");
            match &auth {
                Some(a) => b.header("authorization", a),
                None => b,
            }
        };
        let request = match method {
            "POST" => with_headers(self.agent.post(url)),
            "PATCH" => with_headers(self.agent.patch(url)),
            "PUT" => with_headers(self.agent.put(url)),
            other => return Err(format!("method {other} is not used here")),
        };
        let mut response = request.send(body).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_vec()
            .unwrap_or_default();
        Ok(Reply { status, location, body })
    }
}
