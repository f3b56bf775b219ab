//! `ward advisories import|status|update` (issue 15 item 5): sources kept
//! side by side, fetched from a loopback HTTP server only, with
//! conditional requests; garbage, a truncated zip, the wrong ecosystem, an
//! oversized answer or a server that is down never replace good data; and
//! stale data warns, or denies with `advisories-stale` when told to.

use crate::common::{FakeRegistry, TEST_NOW, TestContext, fixtures, shared, zip};
use std::path::{Path, PathBuf};

/// Serves `body` at `path` under this ETag, with a `Last-Modified`, as
/// the advisory feeds do.
fn serve(server: &FakeRegistry, path: &str, body: Vec<u8>, etag: &str) {
    server.put_with(path, body, etag, &[("Last-Modified", "Mon, 23 Nov 2026 00:00:00 GMT")]);
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
    let server = FakeRegistry::start();
    let go = zip_of(&shared().join("advisories/go/osv"), 40, &ctx.path("go.zip"));
    let pypi = zip_of(
        &shared().join("advisories/pypa/vulns/django"),
        40,
        &ctx.path("pypi.zip"),
    );
    serve(&server, "/Go/all.zip", go.clone(), "go-1");
    serve(&server, "/PyPI/all.zip", pypi.clone(), "pypi-1");
    std::fs::create_dir_all(&ctx.data).unwrap();
    let config = format!(
        "max_age = \"7d\"\n\n[[source]]\nname = \"osv-go\"\nurl = \"{u}/Go/all.zip\"\necosystem = \"Go\"\n\n[[source]]\nname = \"osv-pypi\"\nurl = \"{u}/PyPI/all.zip\"\necosystem = \"PyPI\"\nmax_bytes = 10000000\n",
        u = server.base()
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
        first.stdout.contains(&format!("origin {}/PyPI/all.zip", server.base())),
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
    let conditional: Vec<_> = server
        .requests()
        .into_iter()
        .filter_map(|r| r.if_none_match.map(|inm| (r.path, inm)))
        .collect();
    assert_eq!(conditional.len(), 2, "{conditional:?}");
    assert!(
        conditional
            .iter()
            .any(|(p, inm)| p == "/Go/all.zip" && inm == "\"go-1\"")
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
        serve(&server, "/PyPI/all.zip", body, etag);
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
        config.replace(&server.base(), &format!("http://{down}")),
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
    assert!(server.requests().iter().all(|r| r.path.ends_with("/all.zip")));
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
    let status = ctx.ward(["advisories", "status"]);
    let newest = status
        .stdout
        .split("newest record modified ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_string();
    // ward's clock pinned 120 days past the newest record, whatever today is.
    let months_later =
        (newest.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_hours(120 * 24)).to_string();
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
        ctx.ward_at(&months_later, &args)
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

    // On the day of the newest record, 30 days allows.
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

/// A gzip-compressed tar of the RustSec advisory-db directory under
/// `advisory-db-main/`, files in path order (as GitHub's archives are).
fn rustsec_tar_gz() -> Vec<u8> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for e in entries {
            if e.is_dir() { walk(&e, out) } else { out.push(e) }
        }
    }
    let root = shared().join("advisories/rustsec");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for f in files {
        b.append_path_with_name(&f, Path::new("advisory-db-main").join(f.strip_prefix(&root).unwrap()))
            .unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// `.tar.gz` sources (a GitHub archive of the RustSec advisory-db), told
/// apart by the URL or, without an extension, by the gzip magic; a
/// truncated tarball never replaces good data; `status --format json`
/// describes every source.
#[test]
fn tar_gz_sources_update_and_status_reads_as_json() {
    let ctx = TestContext::new();
    let server = FakeRegistry::start();
    let tarball = rustsec_tar_gz();
    serve(&server, "/rustsec/main.tar.gz", tarball.clone(), "r-1");
    serve(&server, "/rustsec/archive", tarball.clone(), "r-1");
    std::fs::create_dir_all(&ctx.data).unwrap();
    let config = format!(
        "[[source]]\nname = \"rustsec\"\nurl = \"{u}/rustsec/main.tar.gz\"\necosystem = \"crates.io\"\n\n[[source]]\nname = \"rustsec-noext\"\nurl = \"{u}/rustsec/archive\"\necosystem = \"crates.io\"\n",
        u = server.base()
    );
    std::fs::write(ctx.data.join("advisories.toml"), &config).unwrap();
    let run = ctx.ward(["advisories", "update"]);
    run.expect(0);
    assert!(
        run.stdout.contains("rustsec: fetched") && run.stdout.contains("rustsec-noext: fetched"),
        "{}",
        run.all()
    );

    let json = ctx.ward(["advisories", "status", "--format", "json"]);
    json.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(doc["schema"], "https://ward.invalid/schemas/advisories-status/v1");
    let sources = doc["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    let rustsec = &sources[0];
    assert_eq!(rustsec["name"], "rustsec");
    assert_eq!(rustsec["origin"], format!("{}/rustsec/main.tar.gz", server.base()));
    assert!(rustsec["advisories"].as_u64().unwrap() > 1000, "{rustsec}");
    assert_eq!(rustsec["advisories"], sources[1]["advisories"]);
    assert_eq!(rustsec["etag"], "\"r-1\"");
    assert_eq!(rustsec["ecosystem"], "crates.io");
    assert!(rustsec["digest"].as_str().unwrap().starts_with("sha256:"));
    // Just confirmed current by the update: fresh, whatever the records' dates.
    assert_eq!(rustsec["stale"], false);
    assert_eq!(rustsec["age_days"], 0);
    assert!(rustsec["checked_at"].is_string(), "{rustsec}");
    let ecosystems = doc["ecosystems"].as_object().unwrap();
    assert!(
        ecosystems
            .values()
            .any(|e| e["advisories"].as_u64().unwrap_or(0) > 1000),
        "{ecosystems:?}"
    );
    // Imported by hand, the same data is as old as its newest record: stale,
    // and the warning goes to stderr, not into the JSON.
    let by_hand = TestContext::new();
    by_hand
        .ward([
            "advisories",
            "import",
            shared().join("advisories/rustsec").to_str().unwrap(),
        ])
        .expect(0);
    let status = |now: &str| by_hand.ward_at(now, ["advisories", "status", "--format", "json"]);
    let newest =
        serde_json::from_str::<serde_json::Value>(&status(TEST_NOW).stdout).unwrap()["sources"][0]["newest_modified"]
            .as_str()
            .unwrap()
            .to_string();
    let later = (newest.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_hours(30 * 24)).to_string();
    let old = status(&later);
    let old_doc: serde_json::Value = serde_json::from_str(&old.stdout).unwrap();
    assert_eq!(old_doc["sources"][0]["stale"], true);
    assert!(old_doc["sources"][0]["age_days"].as_i64().unwrap() > 7);
    assert!(old_doc["sources"][0]["checked_at"].is_null());
    assert!(old.stderr.contains("days old"), "{}", old.stderr);
    let digest = rustsec["digest"].clone();

    // A truncated tarball (a new ETag): refused, the good data kept.
    serve(
        &server,
        "/rustsec/main.tar.gz",
        tarball[..tarball.len() / 2].to_vec(),
        "r-2",
    );
    let run = ctx.ward(["advisories", "update", "--source", "rustsec"]);
    run.expect(2);
    assert!(run.all().contains("rustsec"), "{}", run.all());
    let after: serde_json::Value =
        serde_json::from_str(&ctx.ward(["advisories", "status", "--format", "json"]).stdout).unwrap();
    assert_eq!(after["sources"][0]["digest"], digest);
    assert_eq!(after["sources"][0]["etag"], "\"r-1\"");
}

/// Issue 15 item 5 at the proxy: with `deny_after` in advisories.toml and
/// data older than that, the proxy refuses downloads (`advisories-stale`);
/// on a day the data is fresh (clock pinned), the same download is served.
#[test]
fn the_proxy_refuses_downloads_while_the_advisory_data_is_past_deny_after() {
    let reg = crate::proxy::Registries::new();
    reg.crate_file("demo-crate", "1.0.0", false);
    let data = reg.publisher.path("data");
    let ctx = TestContext::new();
    ctx.ward_in(
        &data,
        [
            "advisories",
            "import",
            shared().join("advisories/rustsec").to_str().unwrap(),
        ],
    )
    .expect(0);
    std::fs::write(data.join("advisories.toml"), "deny_after = \"30d\"\n").unwrap();
    let newest: serde_json::Value =
        serde_json::from_str(&ctx.ward_in(&data, ["advisories", "status", "--format", "json"]).stdout).unwrap();
    let newest = newest["sources"][0]["newest_modified"].as_str().unwrap().to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let download = |base: &str| {
        let got = agent
            .get(&format!("{base}/cargo/api/v1/crates/demo-crate/1.0.0/download"))
            .call()
            .unwrap();
        let status = got.status().as_u16();
        (status, got.into_body().read_to_string().unwrap_or_default())
    };

    // 31 days past the newest record: more than 30 (the clock pinned, so
    // the answer does not depend on the day the test runs).
    let stale = (newest.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_hours(31 * 24)).to_string();
    let proxy = ctx.proxy(reg.proxy_options().data(&data).at(&stale));
    let (status, body) = download(&proxy.base);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("advisories-stale"), "{body}");
    assert!(proxy.log_with("advisories-stale").contains("advisories-stale"));
    drop(proxy);

    // The day of the newest record: fresh, served (a stale-data refusal is
    // not remembered across restarts: fresh data lifts it).
    let proxy = ctx.proxy(reg.proxy_options().data(&data).at(&newest));
    let (status, body) = download(&proxy.base);
    assert_eq!(status, 200, "{body}");
}
