//! The outbound (egress) proxy, from the environment as curl, pip and npm
//! read it: `https_proxy` / `HTTPS_PROXY` for `https://` URLs,
//! `http_proxy` / `HTTP_PROXY` for `http://` URLs, `all_proxy` /
//! `ALL_PROXY` for either when the specific one is unset (lower case first),
//! and `no_proxy` / `NO_PROXY` for hosts reached directly.
//!
//! The connections themselves are ureq's ([`ureq::Proxy`], an HTTP CONNECT
//! tunnel); this module only reads and checks the settings. A value that
//! does not parse, or names a scheme other than `http://` / `https://`, is
//! an error naming the variable, so that a typo is not silently a direct
//! connection. Credentials in a proxy URL are used, never shown: every
//! description here replaces them with `***`.

use std::fmt;

/// The proxies for outbound requests, by scheme of the URL fetched.
#[derive(Clone, Default)]
pub struct Egress {
    /// For `https://` URLs.
    pub https: Option<ureq::Proxy>,
    /// For `http://` URLs.
    pub http: Option<ureq::Proxy>,
    /// Where they came from, credentials redacted (for messages).
    described: Vec<String>,
}

impl fmt::Debug for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Egress").field("proxies", &self.described).finish()
    }
}

/// A proxy variable that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{var}={value} is not a usable proxy: {why} (expected http://[user:password@]host:port)")]
pub struct EgressError {
    /// The variable.
    pub var: String,
    /// Its value, credentials redacted.
    pub value: String,
    /// What is wrong with it.
    pub why: String,
}

/// `value` with any `user:password@` replaced by `***@`.
pub fn redact(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), value),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}***@{host}{tail}"),
        None => value.to_string(),
    }
}

impl Egress {
    /// No proxy: every request goes straight to its host.
    pub fn direct() -> Self {
        Self::default()
    }

    /// The proxies the process environment names.
    pub fn from_env() -> Result<Self, EgressError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxies `var` names (a lookup of environment variables).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, EgressError> {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()).map(|v| (n.to_string(), v)))
        };
        let no_proxy: Vec<String> = first(&["no_proxy", "NO_PROXY"])
            .map(|(_, v)| {
                v.split(',')
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let https = first(&["https_proxy", "HTTPS_PROXY"]).or_else(|| all.clone());
        let http = first(&["http_proxy", "HTTP_PROXY"]).or(all);
        let mut described = Vec::new();
        let mut build = |found: Option<(String, String)>| -> Result<Option<ureq::Proxy>, EgressError> {
            let Some((name, value)) = found else { return Ok(None) };
            let proxy = parse(&name, &value, &no_proxy)?;
            described.push(format!("{name}={}", redact(&value)));
            Ok(Some(proxy))
        };
        let https = build(https)?;
        let http = build(http)?;
        Ok(Self { https, http, described })
    }

    /// The proxy for a URL of this scheme, if any.
    pub fn for_scheme(&self, https: bool) -> Option<ureq::Proxy> {
        if https { self.https.clone() } else { self.http.clone() }
    }

    /// The proxies in use, credentials redacted (`HTTPS_PROXY=http://***@proxy:3128`).
    pub fn describe(&self) -> &[String] {
        &self.described
    }
}

fn parse(var: &str, value: &str, no_proxy: &[String]) -> Result<ureq::Proxy, EgressError> {
    let err = |why: &str| EgressError {
        var: var.to_string(),
        value: redact(value),
        why: why.to_string(),
    };
    let value = value.trim();
    let scheme = value.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if let Some(s) = &scheme
        && s != "http"
        && s != "https"
    {
        return Err(err(&format!("the {s}:// scheme is not supported")));
    }
    // The authority must name a host (and a port, if any, must be a number).
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err(err("no host"));
    }
    if !host_port.ends_with(']')
        && let Some((_, port)) = host_port.rsplit_once(':')
        && port.parse::<u16>().is_err()
    {
        return Err(err("the port is not a number"));
    }
    let parsed = ureq::Proxy::new(value).map_err(|e| err(&e.to_string()))?;
    if no_proxy.is_empty() {
        return Ok(parsed);
    }
    let mut builder = ureq::Proxy::builder(parsed.protocol())
        .host(parsed.host())
        .port(parsed.port());
    if let Some(user) = parsed.username() {
        builder = builder.username(user);
    }
    if let Some(password) = parsed.password() {
        builder = builder.password(password);
    }
    for entry in no_proxy {
        builder = builder.no_proxy(entry);
    }
    builder.build().map_err(|e| err(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn proxies_are_chosen_by_scheme_lower_case_first() {
        let e = Egress::from_vars(vars(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("ALL_PROXY", "http://all:3"),
        ]))
        .unwrap();
        assert_eq!(e.https.as_ref().unwrap().host(), "lower");
        assert_eq!(e.http.as_ref().unwrap().host(), "all");
        assert!(Egress::from_vars(vars(&[])).unwrap().https.is_none());
    }

    #[test]
    fn no_proxy_hosts_are_reached_directly() {
        let e = Egress::from_vars(vars(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "localhost, .internal,registry.example"),
        ]))
        .unwrap();
        let p = e.https.unwrap();
        let uri = |u: &str| u.parse::<ureq::http::Uri>().unwrap();
        assert!(p.is_no_proxy(&uri("https://registry.example/x")));
        assert!(p.is_no_proxy(&uri("https://a.internal/x")));
        assert!(!p.is_no_proxy(&uri("https://pypi.org/simple/")));
    }

    #[test]
    fn bad_values_are_errors_and_credentials_are_never_shown() {
        for bad in [
            "http://",
            "socks5://proxy:1080",
            "http://proxy:port",
            "ftp://x:1",
            "http://:3128",
        ] {
            let e = Egress::from_vars(vars(&[("HTTPS_PROXY", bad)])).unwrap_err();
            assert_eq!(e.var, "HTTPS_PROXY", "{bad}");
        }
        let e = Egress::from_vars(vars(&[("HTTPS_PROXY", "http://alice:s3cret@proxy:notaport")])).unwrap_err();
        assert!(
            !e.to_string().contains("s3cret") && !e.to_string().contains("alice"),
            "{e}"
        );
        let ok = Egress::from_vars(vars(&[("https_proxy", "http://alice:s3cret@proxy:3128")])).unwrap();
        assert_eq!(ok.describe(), ["https_proxy=http://***@proxy:3128"]);
        assert!(!format!("{ok:?}").contains("s3cret"));
        assert_eq!(ok.https.unwrap().password(), Some("s3cret"));
    }
}
