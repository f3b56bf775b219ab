//! Upstream TLS against a loopback HTTPS server whose certificate comes
//! from a CA generated here: refused without the CA (with a message naming
//! the fix), accepted with it as a CA file or through `SSL_CERT_FILE`;
//! CA files that are not PEM, empty or unreadable are errors naming them.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ward_registry::{CaError, FetchLimits, Fetcher, Source, TrustedRoots, UpstreamError};

/// A CA (its PEM in `dir/ca.pem`) and an HTTPS server on loopback with a
/// certificate it issued, answering every request with `hello`.
fn https_upstream(dir: &Path) -> (String, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ward test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (format!("https://127.0.0.1:{port}/simple/demo/"), ca_pem)
}

fn fetch(roots: &TrustedRoots, url: &str) -> Result<Vec<u8>, UpstreamError> {
    let fetcher = Fetcher::with_roots(FetchLimits::default(), Vec::new(), roots);
    fetcher.metadata(&Source::Url(url.to_string()), None).map(|(b, _)| b)
}

#[test]
fn an_untrusted_upstream_is_refused_with_the_fix_and_a_ca_file_trusts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ca) = https_upstream(dir.path());
    // An empty store stands for a system that does not know the CA.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let system = TrustedRoots::load_with(&[], None, Some(&empty)).unwrap();
    let refused = fetch(&system, &url).unwrap_err().to_string();
    assert!(
        refused.contains("not trusted") && refused.contains("--ca-cert") && refused.contains("SSL_CERT_FILE"),
        "{refused}"
    );
    let with_ca = TrustedRoots::load_with(std::slice::from_ref(&ca), None, Some(&empty)).unwrap();
    assert_eq!(with_ca.extra, 1);
    assert_eq!(fetch(&with_ca, &url).unwrap(), b"hello");
    // SSL_CERT_FILE names the store, as OpenSSL reads it.
    let from_env = TrustedRoots::load_with(&[], Some(&ca), None).unwrap();
    assert_eq!(from_env.system, 1);
    assert_eq!(fetch(&from_env, &url).unwrap(), b"hello");
}

#[test]
fn ssl_cert_file_in_the_environment_is_honoured() {
    // The variable is read by `TrustedRoots::load` in a child process
    // (setting it here would race the other tests).
    if let Some(url) = std::env::var_os("WARD_TLS_CHILD_URL") {
        let roots = TrustedRoots::load(&[]).unwrap();
        assert_eq!(fetch(&roots, url.to_str().unwrap()).unwrap(), b"hello");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (url, ca) = https_upstream(dir.path());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ssl_cert_file_in_the_environment_is_honoured",
            "--test-threads",
            "1",
        ])
        .env("WARD_TLS_CHILD_URL", &url)
        .env("SSL_CERT_FILE", &ca)
        .env_remove("SSL_CERT_DIR")
        .status()
        .unwrap();
    assert!(status.success());
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ssl_cert_file_in_the_environment_is_honoured",
            "--test-threads",
            "1",
        ])
        .env("WARD_TLS_CHILD_URL", &url)
        .env("SSL_CERT_FILE", dir.path().join("nothing-here.pem"))
        .env("SSL_CERT_DIR", &empty)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "without the CA in SSL_CERT_FILE the upstream is not trusted"
    );
}

#[test]
fn unusable_ca_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-pem.crt");
    std::fs::write(&not_pem, b"this is not a certificate\n").unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("missing.pem");
    let bad_base64 = dir.path().join("bad.pem");
    std::fs::write(
        &bad_base64,
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let directory = dir.path().to_path_buf();
    for path in [&not_pem, &empty, &missing, &bad_base64, &directory] {
        let e = TrustedRoots::load_with(std::slice::from_ref(path), None, None).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(
            matches!(
                e,
                CaError::Unreadable(..) | CaError::NoCertificate(_) | CaError::NotPem(..)
            ),
            "{text}"
        );
    }
}
