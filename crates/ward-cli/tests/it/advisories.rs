//! `ward advisories import|status|update` (issue 15 item 5): sources kept
//! side by side, fetched from a loopback HTTP server only, with
//! conditional requests; garbage, a truncated zip, the wrong ecosystem, an
//! oversized answer or a server that is down never replace good data; and
//! stale data warns, or denies with `advisories-stale` when told to.

use crate::common::{TestContext, fixtures, shared, zip};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Each request seen: its path and its `If-None-Match`.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// One canned answer: body and ETag.
#[derive(Clone)]
struct Answer {
    body: Vec<u8>,
    etag: String,
}

/// A loopback HTTP/1.1 server answering from a table the test changes,
/// honouring `If-None-Match`, and logging each request's path and
/// conditional header.
struct Server {
    url: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    log: RequestLog,
}

impl Server {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let log: RequestLog = Arc::default();
        let (a, l) = (answers.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut if_none_match = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("if-none-match")
                    {
                        if_none_match = Some(v.trim().to_string());
                    }
                }
                let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                l.lock().unwrap().push((path.clone(), if_none_match.clone()));
                let answer = a.lock().unwrap().get(&path).cloned();
                let reply = match answer {
                    Some(ans) if if_none_match.as_deref() == Some(ans.etag.as_str()) => format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n",
                        ans.etag
                    )
                    .into_bytes(),
                    Some(ans) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {}\r\nLast-Modified: Mon, 23 Nov 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n",
                            ans.body.len(),
                            ans.etag
                        )
                        .into_bytes();
                        r.extend_from_slice(&ans.body);
                        r
                    }
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                };
                let _ = stream.write_all(&reply);
            }
        });
        Self { url, answers, log }
    }

    fn serve(&self, path: &str, body: Vec<u8>, etag: &str) {
        self.answers.lock().unwrap().insert(
            path.to_string(),
            Answer {
                body,
                etag: format!("\"{etag}\""),
            },
        );
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.log.lock().unwrap().clone()
    }
}

/// A zip of the first `n` files of a shared advisory directory.
fn zip_of(dir: &Path, n: usize, out: &Path) -> Vec<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|p| p.is_file())
        .take(n)
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    zip(out, &refs);
    std::fs::read(out).unwrap()
}

fn status(ctx: &TestContext) -> crate::common::Run {
    ctx.ward(["advisories", "status"])
}

/// The `origin … (sha256:…)` line of a source in `status`.
fn digest_of(status: &str, name: &str) -> String {
    let block = status
        .split("source ")
        .find(|b| b.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no source {name} in {status}"));
    let at = block.find("(sha256:").unwrap();
    block[at + 1..at + 72].to_string()
}

#[test]
fn update_fetches_conditionally_and_bad_answers_never_replace_good_data() {
    let ctx = TestContext::new();
    let server = Server::start();
    let go = zip_of(&shared().join("advisories/go/osv"), 40, &ctx.path("go.zip"));
    let pypi = zip_of(
        &shared().join("advisories/pypa/vulns/django"),
        40,
        &ctx.path("pypi.zip"),
    );
    server.serve("/Go/all.zip", go.clone(), "go-1");
    server.serve("/PyPI/all.zip", pypi.clone(), "pypi-1");
    std::fs::create_dir_all(&ctx.data).unwrap();
    let config = format!(
        "max_age = \"7d\"\n\n[[source]]\nname = \"osv-go\"\nurl = \"{u}/Go/all.zip\"\necosystem = \"Go\"\n\n[[source]]\nname = \"osv-pypi\"\nurl = \"{u}/PyPI/all.zip\"\necosystem = \"PyPI\"\nmax_bytes = 10000000\n",
        u = server.url
    );
    std::fs::write(ctx.data.join("advisories.toml"), &config).unwrap();

    // First fetch: both sources, swapped in together.
    let run = ctx.ward(["advisories", "update"]);
    run.expect(0);
    assert!(
        run.stdout.contains("osv-go: fetched") && run.stdout.contains("osv-pypi: fetched"),
        "{}",
        run.stdout
    );
    let first = status(&ctx);
    first.expect(0);
    assert!(
        first.stdout.contains(&format!("origin {}/PyPI/all.zip", server.url)),
        "{}",
        first.stdout
    );
    let go_digest = digest_of(&first.stdout, "osv-go");
    let pypi_digest = digest_of(&first.stdout, "osv-pypi");
    let django = ctx.path("requirements.txt");
    std::fs::write(&django, "django==1.2\n").unwrap();
    let scan = ctx.ward(["scan", "--format", "json", django.to_str().unwrap()]);
    scan.expect(1).reason("advisory-found");

    // Again: conditional requests, 304, nothing replaced.
    let run = ctx.ward(["advisories", "update"]);
    run.expect(0);
    assert!(
        run.stdout.contains("osv-go: unchanged (the server answered 304"),
        "{}",
        run.stdout
    );
    let conditional: Vec<_> = server.requests().into_iter().filter(|(_, inm)| inm.is_some()).collect();
    assert_eq!(conditional.len(), 2, "{conditional:?}");
    assert!(
        conditional
            .iter()
            .any(|(p, inm)| p == "/Go/all.zip" && inm.as_deref() == Some("\"go-1\""))
    );
    let after = status(&ctx);
    assert_eq!(digest_of(&after.stdout, "osv-pypi"), pypi_digest);
    assert!(after.stdout.contains("last confirmed current 20"), "{}", after.stdout);

    // Each bad answer fails its source and keeps the data held.
    let truncated = pypi[..pypi.len() / 2].to_vec();
    let html = b"<html><body>Service Unavailable</body></html>".to_vec();
    for (body, etag, expect) in [
        (html, "garbage", "not a readable zip"),
        (truncated, "truncated", "not a readable zip"),
        (go.clone(), "wrong", "not about PyPI"),
        (vec![b'x'; 10_000_001], "huge", "limit"),
    ] {
        server.serve("/PyPI/all.zip", body, etag);
        let run = ctx.ward(["advisories", "update"]);
        run.expect(2);
        assert!(
            run.stderr.contains("osv-pypi") && run.stderr.contains(expect),
            "{etag}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("its data in the database is unchanged"),
            "{}",
            run.stderr
        );
        let now = status(&ctx);
        assert_eq!(digest_of(&now.stdout, "osv-pypi"), pypi_digest, "{etag}");
        assert_eq!(digest_of(&now.stdout, "osv-go"), go_digest, "{etag}");
        ctx.ward(["scan", "--format", "json", django.to_str().unwrap()])
            .expect(1)
            .reason("advisory-found");
    }

    // The server goes away: an error, the data stays.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        ctx.data.join("advisories.toml"),
        config.replace(&server.url, &format!("http://{down}")),
    )
    .unwrap();
    let run = ctx.ward(["advisories", "update", "--source", "osv-pypi"]);
    run.expect(2);
    assert!(run.stderr.contains("unavailable"), "{}", run.stderr);
    assert_eq!(digest_of(&status(&ctx).stdout, "osv-pypi"), pypi_digest);
    ctx.ward(["scan", "--format", "json", django.to_str().unwrap()])
        .expect(1)
        .reason("advisory-found");
    // Nothing else ever fetches: scans made no request.
    assert!(server.requests().iter().all(|(p, _)| p.ends_with("/all.zip")));
}

#[test]
fn a_directory_mirror_is_read_in_place_and_config_mistakes_are_named() {
    let ctx = TestContext::new();
    std::fs::create_dir_all(&ctx.data).unwrap();
    let mirror = shared().join("advisories/go");
    std::fs::write(
        ctx.data.join("advisories.toml"),
        format!(
            "[[source]]\nname = \"go-mirror\"\npath = \"{}\"\necosystem = \"Go\"\n",
            mirror.display()
        ),
    )
    .unwrap();
    let run = ctx.ward(["advisories", "update"]);
    run.expect(0);
    assert!(run.stdout.contains("go-mirror: fetched"), "{}", run.stdout);
    let run = ctx.ward(["advisories", "update"]);
    run.expect(0);
    assert!(
        run.stdout.contains("go-mirror: unchanged (the same data as held"),
        "{}",
        run.stdout
    );
    for (text, expect) in [
        ("[[source]]\nname = \"a\"\nurl = \"ftp://x\"\n", "not http"),
        ("[[source]]\nname = \"a\"\n", "exactly one of url and path"),
        ("[[source]]\nname = \"A/b\"\npath = \"x\"\n", "source name"),
        (
            "[[source]]\nname = \"a\"\npath = \"x\"\n[[source]]\nname = \"a\"\npath = \"y\"\n",
            "named twice",
        ),
        ("max_age = \"a week\"\n", "whole number of days"),
        ("colour = \"blue\"\n", "unknown field"),
        ("", "no [[source]]"),
    ] {
        std::fs::write(ctx.data.join("advisories.toml"), text).unwrap();
        let run = ctx.ward(["advisories", "update"]);
        run.expect(2);
        assert!(run.stderr.contains(expect), "{text}: {}", run.stderr);
    }
}

#[test]
fn import_adds_or_replaces_by_source_and_status_lists_each() {
    let ctx = TestContext::new();
    let adv = shared().join("advisories");
    for feed in ["rustsec", "pypa", "go"] {
        ctx.ward(["advisories", "import", adv.join(feed).to_str().unwrap()])
            .expect(0);
    }
    let run = status(&ctx);
    run.expect(0);
    for name in ["rustsec", "osv-pypi", "osv-go"] {
        assert!(
            run.stdout.contains(&format!("source {name}: ")),
            "{name}: {}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("from 3 sources"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("origin {}", adv.join("go").display())),
        "{}",
        run.stdout
    );
    // Two paths that would be one source name are refused, nothing changes.
    let run = ctx.ward([
        "advisories",
        "import",
        adv.join("rustsec").to_str().unwrap(),
        adv.join("rustsec-osv").to_str().unwrap(),
    ]);
    run.expect(2);
    assert!(run.stderr.contains("--source rustsec"), "{}", run.stderr);
    // --source names one source of several paths; --replace keeps only it.
    let run = ctx.ward([
        "advisories",
        "import",
        "--replace",
        "--source",
        "rust",
        adv.join("rustsec").to_str().unwrap(),
        adv.join("rustsec-osv").to_str().unwrap(),
    ]);
    run.expect(0);
    let run = status(&ctx);
    assert!(
        run.stdout.contains("from 1 sources") && run.stdout.contains("source rust: "),
        "{}",
        run.stdout
    );
    // The wrong ecosystem is refused when one is named.
    let run = ctx.ward([
        "advisories",
        "import",
        "--ecosystem",
        "PyPI",
        adv.join("go").to_str().unwrap(),
    ]);
    run.expect(2);
    assert!(run.stderr.contains("not the PyPI source"), "{}", run.stderr);
}

#[test]
fn stale_data_warns_and_denies_in_verify_only_when_told_to() {
    let ctx = TestContext::new();
    // RustSec records carry real dates (the shared Go export's are all 0001-01-01).
    ctx.ward([
        "advisories",
        "import",
        shared().join("advisories/rustsec").to_str().unwrap(),
    ])
    .expect(0);
    let keys = fixtures().join("keys");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            keys.join("artifact.txt").display().to_string(),
            "--key".into(),
            keys.join("test-ed25519.pub.pem").display().to_string(),
            "--signature".into(),
            keys.join("artifact.txt.ed25519.sig.b64").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        ctx.ward(&args)
    };
    // The shared data is months old: a warning, still an allow.
    let run = verify(&[]);
    run.expect(0);
    assert!(
        run.stderr.contains("source rustsec is") && run.stderr.contains("days old"),
        "{}",
        run.stderr
    );
    // Told to deny past 30 days: a deny with the stable code.
    verify(&["--deny-advisories-older-than", "30d"])
        .expect(1)
        .reason("advisories-stale");
    // The same from the configuration file.
    std::fs::write(ctx.data.join("advisories.toml"), "deny_after = \"30d\"\n").unwrap();
    verify(&[]).expect(1).reason("advisories-stale");
    // A generous limit allows, without a warning.
    let run = verify(&[
        "--deny-advisories-older-than",
        "100000d",
        "--max-advisory-age",
        "100000d",
    ]);
    run.expect(0);
    assert!(!run.stderr.contains("days old"), "{}", run.stderr);

    // On the day of the newest record (ward's clock pinned), 30 days allows.
    let status = ctx.ward(["advisories", "status"]);
    let newest = status
        .stdout
        .split("newest record modified ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_string();
    let fresh = TestContext::new().at(&newest);
    fresh
        .ward([
            "advisories",
            "import",
            shared().join("advisories/rustsec").to_str().unwrap(),
        ])
        .expect(0);
    let run = fresh.ward([
        "verify",
        keys.join("artifact.txt").to_str().unwrap(),
        "--key",
        keys.join("test-ed25519.pub.pem").to_str().unwrap(),
        "--signature",
        keys.join("artifact.txt.ed25519.sig.b64").to_str().unwrap(),
        "--deny-advisories-older-than",
        "30d",
    ]);
    run.expect(0);
    assert!(!run.all().contains("advisories-stale"), "{}", run.all());
}
