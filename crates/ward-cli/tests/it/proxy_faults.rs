//! `ward proxy` against a misbehaving HTTP upstream: down, oversized,
//! truncated, dripping, redirecting elsewhere, malformed; one fetch for
//! concurrent clients; a changed release; a changed policy.
//!
//! The upstream is the tests' [`FakeRegistry`], whose answers each test
//! scripts; the proxy is the real `ward proxy` binary, started in the
//! publisher's [`TestContext`].

use crate::common::{Answer, Entry, FakeRegistry, ProxyOptions, ProxyProcess, Publisher, TestContext, get, tgz};
use crate::proxy::ledger_size;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A signed npm package served by `up`: packument, tarball and bundle.
struct Package {
    tarball: Vec<u8>,
    bundle: Vec<u8>,
}

fn package(p: &Publisher, name: &str, version: &str, body: &str) -> Package {
    let path = p.path(&format!("{name}-{version}.tgz"));
    let manifest = format!("{{\"name\": \"{name}\", \"version\": \"{version}\"}}");
    tgz(
        &path,
        &[
            Entry::File("package/package.json", manifest.as_bytes()),
            Entry::File("package/index.js", body.as_bytes()),
        ],
    );
    p.ctx
        .ward(["sign", "--key", p.key.to_str().unwrap(), path.to_str().unwrap()])
        .expect(0);
    Package {
        tarball: std::fs::read(&path).unwrap(),
        bundle: std::fs::read(format!("{}.sigstore.json", path.display())).unwrap(),
    }
}

fn serve_package(up: &FakeRegistry, name: &str, versions: &[(&str, &Package)]) {
    let mut v = serde_json::Map::new();
    for (version, pkg) in versions {
        let file = format!("{name}-{version}.tgz");
        let integrity = crate::common::sha512_sri(&pkg.tarball);
        v.insert(
            version.to_string(),
            serde_json::json!({"name": name, "version": version,
                "dist": {"tarball": format!("{}/{name}/-/{file}", up.base()), "integrity": integrity}}),
        );
        up.set(&format!("/{name}/-/{file}"), Answer::Body(pkg.tarball.clone()));
        up.set(
            &format!("/{name}/-/{file}.sigstore.json"),
            Answer::Body(pkg.bundle.clone()),
        );
    }
    let doc = serde_json::json!({"name": name, "versions": v});
    up.set(&format!("/{name}"), Answer::Body(serde_json::to_vec(&doc).unwrap()));
}

fn policy(p: &Publisher, extra: &str) -> String {
    std::fs::copy(&p.public, p.path("release.pub")).unwrap();
    let path = p.path("ward.toml");
    std::fs::write(
        &path,
        format!("version = 1\n\n[[scope]]\npackages = [\"*\"]\nkeys = [\"release.pub\"]\n{extra}"),
    )
    .unwrap();
    path.display().to_string()
}

/// The proxy most tests here start: `up` as the npm upstream (the bundles
/// sit beside the tarballs, so probing is on), the publisher's key as the
/// policy, the cache in `data`.
fn npm_proxy(p: &Publisher, up: &FakeRegistry, data: &Path) -> ProxyOptions {
    ProxyOptions::new()
        .data(data)
        .npm(up.base())
        .probe("npm")
        .policy(policy(p, ""))
        .cache(data.join("cache"))
}

/// Starts [`npm_proxy`] with these flags more, in the publisher's context.
fn proxy(p: &Publisher, up: &FakeRegistry, data: &Path, extra: &[&str]) -> ProxyProcess {
    p.ctx.proxy(npm_proxy(p, up, data).args(extra.iter().copied()))
}

fn spool_is_empty(data: &Path) -> bool {
    std::fs::read_dir(data.join("cache/spool")).unwrap().next().is_none()
}

#[test]
fn concurrent_clients_cause_one_fetch_and_one_verification_and_the_cache_survives_upstream_down() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    let v2 = package(&p, "demo", "2.0.0", "two");
    serve_package(&up, "demo", &[("1.0.0", &v1), ("2.0.0", &v2)]);
    // A slow upstream, so that the clients really overlap.
    up.set(
        "/demo/-/demo-1.0.0.tgz",
        Answer::Slow(Duration::from_millis(500), v1.tarball.clone()),
    );
    let data = p.path("data");
    let proxy = proxy(&p, &up, &data, &[]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let url = format!("{}/npm/demo/-/demo-1.0.0.tgz", proxy.base);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&url))
        })
        .collect();
    for c in clients {
        let got = c.join().unwrap();
        assert_eq!(got.status, 200, "{}", got.reason);
        assert_eq!(got.body, v1.tarball);
    }
    assert_eq!(up.hits("/demo/-/demo-1.0.0.tgz"), 1, "one upstream fetch");
    assert_eq!(ledger_size(&data), 1, "one verification, one ledger entry");

    // Upstream goes away: what was allowed is still served, metadata from
    // the last good copy; what was never fetched is a clear 502.
    up.shutdown();
    std::thread::sleep(Duration::from_millis(50));
    let cached = get(&url);
    assert_eq!((cached.status, cached.body == v1.tarball), (200, true));
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let never = proxy.get("/npm/demo/-/demo-2.0.0.tgz");
    assert_eq!(never.status, 502, "{}", never.reason);
    assert!(never.reason.contains("upstream-failed"), "{}", never.reason);
    assert!(spool_is_empty(&data));
}

#[test]
fn oversized_truncated_and_dripping_bodies_are_refused_and_the_spool_cleaned() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let data = p.path("data");
    let limit = (v1.tarball.len() - 1).to_string();
    let proxy = proxy(
        &p,
        &up,
        &data,
        &["--max-artifact-bytes", &limit, "--upstream-timeout", "2"],
    );
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let url = format!("{}/npm/demo/-/demo-1.0.0.tgz", proxy.base);
    let big = get(&url);
    assert_eq!(big.status, 502);
    assert!(big.reason.contains("limit"), "{}", big.reason);
    assert!(spool_is_empty(&data));
    drop(proxy);

    let data = p.path("data2");
    let proxy = self::proxy(&p, &up, &data, &["--upstream-timeout", "2"]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let url = format!("{}/npm/demo/-/demo-1.0.0.tgz", proxy.base);
    up.set(
        "/demo/-/demo-1.0.0.tgz",
        Answer::Truncated(v1.tarball.len() as u64, v1.tarball[..100].to_vec()),
    );
    let cut = get(&url);
    assert_eq!(cut.status, 502);
    assert!(
        cut.reason.contains("truncated") || cut.reason.contains("unavailable"),
        "{}",
        cut.reason
    );
    assert!(spool_is_empty(&data));

    up.set(
        "/demo/-/demo-1.0.0.tgz",
        Answer::Drip(Duration::from_millis(100), v1.tarball.clone()),
    );
    let started = Instant::now();
    let slow = get(&url);
    assert_eq!(slow.status, 502);
    assert!(slow.reason.contains("longer than"), "{}", slow.reason);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the deadline ends a slow drip"
    );
    assert!(spool_is_empty(&data));
    assert_eq!(ledger_size_or_zero(&data), 0, "nothing was evaluated, nothing allowed");
    drop(proxy);

    // Evidence is bounded like metadata, not like artifacts: a 2 MiB "bundle"
    // is not read; a probed sidecar is optional, so it counts as absent (and
    // the log says why), leaving the tarball unsigned.
    up.set("/demo/-/demo-1.0.0.tgz", Answer::Body(v1.tarball.clone()));
    up.set(
        "/demo/-/demo-1.0.0.tgz.sigstore.json",
        Answer::Body(vec![b' '; 2 << 20]),
    );
    let data = p.path("data3");
    let proxy = self::proxy(&p, &up, &data, &["--max-metadata-bytes", "1048576"]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let huge = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
    assert_eq!(huge.status, 403, "{}", huge.reason);
    assert!(huge.reason.contains("signature-missing"), "{}", huge.reason);
    let log = proxy.log_with("limit");
    assert!(
        log.contains("evidence absent") && log.contains("sigstore.json") && log.contains("limit"),
        "{log}"
    );
    assert!(spool_is_empty(&data));
}

fn ledger_size_or_zero(data: &Path) -> u64 {
    if data.join("ledger/checkpoint").is_file() {
        ledger_size(data)
    } else {
        0
    }
}

#[test]
fn redirects_to_other_hosts_and_malformed_metadata_are_refused() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let elsewhere = format!("http://localhost:{}/mirror/demo-1.0.0.tgz", up.port);
    up.set("/mirror/demo-1.0.0.tgz", Answer::Body(v1.tarball.clone()));
    up.set("/demo/-/demo-1.0.0.tgz", Answer::Redirect(elsewhere));
    let data = p.path("data");
    let proxy = proxy(&p, &up, &data, &[]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let url = format!("{}/npm/demo/-/demo-1.0.0.tgz", proxy.base);
    let refused = get(&url);
    assert_eq!(refused.status, 502);
    assert!(refused.reason.contains("another host"), "{}", refused.reason);
    assert_eq!(
        up.hits("/mirror/demo-1.0.0.tgz"),
        0,
        "the other host is never contacted"
    );
    drop(proxy);
    // Allowed explicitly, the redirect is followed.
    let data = p.path("data2");
    let host = format!("localhost:{}", up.port);
    let proxy = self::proxy(&p, &up, &data, &["--allow-redirect-host", &host]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    assert_eq!(proxy.get("/npm/demo/-/demo-1.0.0.tgz").status, 200);

    // A packument whose tarball URL names another host is refused the same way.
    let mut doc: serde_json::Value = serde_json::from_slice(&up.body("/demo")).unwrap();
    doc["versions"]["1.0.0"]["dist"]["tarball"] =
        format!("http://elsewhere.invalid:{}/demo/-/demo-1.0.0.tgz", up.port).into();
    doc["name"] = "other".into();
    up.set("/other", Answer::Body(serde_json::to_vec(&doc).unwrap()));
    assert_eq!(proxy.get("/npm/other").status, 200);
    let elsewhere = proxy.get("/npm/other/-/demo-1.0.0.tgz");
    assert_eq!(elsewhere.status, 502, "{}", elsewhere.reason);
    assert!(elsewhere.reason.contains("another host"), "{}", elsewhere.reason);

    up.set("/broken", Answer::Body(b"{\"versions\": ".to_vec()));
    let broken = proxy.get("/npm/broken");
    assert_eq!(broken.status, 502);
    assert!(broken.reason.contains("malformed"), "{}", broken.reason);
    drop(proxy);
    let data = p.path("data3");
    let proxy = self::proxy(&p, &up, &data, &["--max-metadata-bytes", "64"]);
    let huge = proxy.get("/npm/demo");
    assert_eq!(huge.status, 502);
    assert!(huge.reason.contains("limit"), "{}", huge.reason);
}

#[test]
fn a_changed_release_is_refused_and_a_policy_change_reverifies() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let data = p.path("data");
    let fetch = |proxy: &ProxyProcess| {
        assert_eq!(proxy.get("/npm/demo").status, 200);
        proxy.get("/npm/demo/-/demo-1.0.0.tgz")
    };
    {
        let proxy = proxy(&p, &up, &data, &[]);
        assert_eq!(fetch(&proxy).status, 200);
    }
    assert_eq!(ledger_size(&data), 1);
    // Same policy, restarted: served from the cache, nothing re-verified.
    {
        let proxy = proxy(&p, &up, &data, &[]);
        assert_eq!(fetch(&proxy).status, 200);
    }
    assert_eq!(ledger_size(&data), 1);
    // A changed policy invalidates cached decisions.
    {
        let proxy = p.ctx.proxy(
            ProxyOptions::new()
                .data(&data)
                .npm(up.base())
                .probe("npm")
                .policy(policy(&p, "max_signature_age_days = 3650\n"))
                .cache(data.join("cache")),
        );
        let got = fetch(&proxy);
        // Offline key signatures carry no verified time: this policy denies, and says why.
        assert_eq!(got.status, 403, "{}", got.reason);
        assert!(got.reason.contains("signature-too-old"), "{}", got.reason);
    }
    assert_eq!(ledger_size(&data), 2);

    // Upstream republishes 1.0.0 with other bytes, validly signed: a fresh
    // cache re-fetches it, and the ledger's earlier allow refuses it.
    let republished = package(&p, "demo", "1.0.0", "something else");
    serve_package(&up, "demo", &[("1.0.0", &republished)]);
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .probe("npm")
            .policy(policy(&p, ""))
            .cache(p.path("other-cache")),
    );
    let got = fetch(&proxy);
    assert_eq!(got.status, 403, "{}", got.reason);
    assert!(
        got.reason.contains("release-changed") && got.reason.contains("ledger entry 0"),
        "{}",
        got.reason
    );
}

/// Adds `dist.signatures` to a served packument, as the npm registry signs
/// `name@version:integrity` (here with a test key standing in for the registry's).
fn sign_packument(
    up: &FakeRegistry,
    name: &str,
    version: &str,
    key: &ward_sign::SigningKey,
    key_id: &str,
    tamper: bool,
) {
    use base64::Engine as _;
    let path = format!("/{name}");
    let bytes = up.body(&path);
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let integrity = doc["versions"][version]["dist"]["integrity"]
        .as_str()
        .unwrap()
        .to_string();
    let signed_name = if tamper {
        format!("{name}-other")
    } else {
        name.to_string()
    };
    let sig = key
        .sign(format!("{signed_name}@{version}:{integrity}").as_bytes())
        .unwrap();
    doc["versions"][version]["dist"]["signatures"] =
        serde_json::json!([{"keyid": key_id, "sig": base64::engine::general_purpose::STANDARD.encode(sig)}]);
    up.set(&path, Answer::Body(serde_json::to_vec(&doc).unwrap()));
}

#[test]
fn npm_registry_signatures_are_checked_when_the_packument_carries_them() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let registry = ward_sign::keygen(ward_sign::Algorithm::EcdsaP256, None).unwrap();
    let registry_key = ward_sign::SigningKey::from_pem(&registry.private_pem, None).unwrap();
    let spki: String = registry
        .public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let keys = p.path("npm-keys.json");
    std::fs::write(
        &keys,
        serde_json::json!({"keys": [{"keyid": "SHA256:ward-test-registry-key", "keytype": "ecdsa-sha2-nistp256",
            "scheme": "ecdsa-sha2-nistp256", "key": spki, "expires": null}]})
        .to_string(),
    )
    .unwrap();
    let run = |data: &str| {
        let data = p.path(data);
        let proxy = proxy(&p, &up, &data, &["--npm-keys", keys.to_str().unwrap()]);
        assert_eq!(proxy.get("/npm/demo").status, 200);
        proxy.get("/npm/demo/-/demo-1.0.0.tgz")
    };
    sign_packument(
        &up,
        "demo",
        "1.0.0",
        &registry_key,
        "SHA256:ward-test-registry-key",
        false,
    );
    let good = run("good");
    assert_eq!(good.status, 200, "{}", good.reason);
    // A signature over another name (a manifest-confusion packument) does not verify.
    sign_packument(
        &up,
        "demo",
        "1.0.0",
        &registry_key,
        "SHA256:ward-test-registry-key",
        true,
    );
    let bad = run("bad");
    assert_eq!(bad.status, 403);
    assert!(
        bad.reason.contains("signature-invalid") && bad.reason.contains("npm registry signature"),
        "{}",
        bad.reason
    );
    // A key the registry keys do not name cannot vouch for anything.
    sign_packument(&up, "demo", "1.0.0", &registry_key, "SHA256:someone-else", false);
    let unknown = run("unknown");
    assert_eq!(unknown.status, 403);
    assert!(unknown.reason.contains("key-not-trusted"), "{}", unknown.reason);
}

#[test]
fn a_configuration_file_sets_upstreams_policy_and_limits() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    policy(&p, "");
    let config = p.path("proxy.toml");
    std::fs::write(
        &config,
        format!(
            "# paths are relative to this file\npolicy = \"ward.toml\"\ncache = \"proxy-cache\"\nmax_artifact_bytes = 10000000\n\n[npm]\nupstream = \"{}\"\nprobe_sidecars = true\n",
            up.base()
        ),
    )
    .unwrap();
    let data = p.path("data");
    let proxy = ctx.proxy(ProxyOptions::new().data(&data).config(&config));
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let got = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
    assert_eq!(got.status, 200, "{}", got.reason);
    assert!(
        p.path("proxy-cache/blobs").is_dir(),
        "the cache named in the file is used"
    );
    drop(proxy);
    // A flag overrides the file: a limit below the tarball's size refuses it.
    let limit = (v1.tarball.len() - 1).to_string();
    let proxy = ctx.proxy(
        ProxyOptions::new()
            .data(p.path("data2"))
            .config(&config)
            .args(["--max-artifact-bytes", &limit])
            .cache(p.path("cache2")),
    );
    assert_eq!(proxy.get("/npm/demo").status, 200);
    assert_eq!(proxy.get("/npm/demo/-/demo-1.0.0.tgz").status, 502);
    drop(proxy);
    // Unknown keys are refused, as in ward.toml.
    std::fs::write(&config, "polcy = \"ward.toml\"\n").unwrap();
    let run = ctx.ward_in(&p.path("data3"), ["proxy", "--config", config.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("polcy"), "{}", run.stderr);
}

#[test]
fn bytes_that_differ_from_the_index_digest_are_refused() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    let other = package(&p, "demo", "1.0.0", "swapped after the index was written");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    // The tarball (and its own valid signature) change; the packument's integrity does not.
    up.set("/demo/-/demo-1.0.0.tgz", Answer::Body(other.tarball.clone()));
    up.set(
        "/demo/-/demo-1.0.0.tgz.sigstore.json",
        Answer::Body(other.bundle.clone()),
    );
    let data = p.path("data");
    let proxy = proxy(&p, &up, &data, &[]);
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let got = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
    assert_eq!(got.status, 403, "{}", got.reason);
    assert!(
        got.reason.contains("index-digest-mismatch") && got.reason.contains("the registry index"),
        "{}",
        got.reason
    );
}

/// The process id of the `ward proxy` whose command line names `marker`.
fn proxy_pid(marker: &str) -> u32 {
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).unwrap_or_default()).into_owned();
        if cmd.contains(marker) && cmd.contains("proxy") {
            return pid;
        }
    }
    panic!("no ward proxy names {marker}");
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

/// A PEP 503 page with `n` links for `project`.
fn simple_html(project: &str, n: usize) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut s = String::from("<html><body>\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "<a href=\"/files/{project}-{i}.0.tar.gz#sha256={i:064x}\">{project}-{i}.0.tar.gz</a><br/>"
        );
    }
    s.push_str("</body></html>\n");
    s.into_bytes()
}

/// A PEP 691 page with `n` files for `project`.
fn simple_json(project: &str, n: usize) -> Vec<u8> {
    let files: Vec<_> = (0..n)
        .map(|i| {
            serde_json::json!({"filename": format!("{project}-{i}.0.tar.gz"),
                "url": format!("/files/{project}-{i}.0.tar.gz"), "hashes": {"sha256": format!("{i:064x}")}})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"meta": {"api-version": "1.0"}, "name": project, "files": files})).unwrap()
}

/// A packument with `n` versions of `name`.
fn packument(up: &FakeRegistry, name: &str, n: usize) -> Vec<u8> {
    let mut versions = serde_json::Map::new();
    for i in 0..n {
        let v = format!("1.0.{i}");
        versions.insert(
            v.clone(),
            serde_json::json!({"name": name, "version": v,
                "dist": {"tarball": format!("{}/{name}/-/{name}-{v}.tgz", up.base()), "integrity": "sha512-AAAA"}}),
        );
    }
    serde_json::to_vec(&serde_json::json!({"name": name, "versions": versions})).unwrap()
}

#[test]
fn huge_listings_are_refused_and_listed_files_stay_bounded_in_memory() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let data = p.path("data");
    let cache = data.join("cache-huge-listings");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .pypi(up.base())
            .npm(up.base())
            .probe("npm")
            .policy(policy(&p, ""))
            .cache(&cache),
    );
    let pid = proxy_pid(&cache.display().to_string());
    up.set("/simple/small/", Answer::Body(simple_html("small", 3)));
    assert_eq!(proxy.get("/pypi/simple/small/").status, 200);
    let before = rss_mib(pid);

    // Over the listing limit (50,000 by default): refused with the reason, in every format.
    up.set("/simple/huge-html/", Answer::Body(simple_html("huge-html", 60_000)));
    up.set("/simple/huge-json/", Answer::Body(simple_json("huge-json", 60_000)));
    up.set("/huge", Answer::Body(packument(&up, "huge", 60_000)));
    for url in ["pypi/simple/huge-html/", "pypi/simple/huge-json/", "npm/huge"] {
        for _ in 0..3 {
            let got = proxy.get(&format!("/{url}"));
            assert_eq!(got.status, 502, "{url}: {}", got.reason);
            assert!(got.reason.contains("listing-too-large"), "{url}: {}", got.reason);
            assert!(got.reason.contains("max_listing_entries"), "{url}: {}", got.reason);
        }
    }
    // Under the limit, listed and remembered, but only up to a bounded memory:
    // twenty projects of 40,000 files each stay far below what keeping them all takes.
    for i in 0..20 {
        let project = format!("big{i}");
        let page = if i % 2 == 0 {
            simple_html(&project, 40_000)
        } else {
            simple_json(&project, 40_000)
        };
        up.set(&format!("/simple/{project}/"), Answer::Body(page));
        let got = proxy.get(&format!("/pypi/simple/{project}/"));
        assert_eq!(got.status, 200, "{}", got.reason);
        up.remove(&format!("/simple/{project}/"));
    }
    let after = rss_mib(pid);
    assert!(
        after < before + 300,
        "the proxy grew from {before} MiB to {after} MiB after listing big projects"
    );
}

#[test]
fn a_forgotten_listing_is_fetched_again_and_still_checked() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    let other = package(&p, "demo", "1.0.0", "swapped after the index was written");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    policy(&p, "");
    // Nothing fits in one byte: every listed file is forgotten at once.
    let config = p.path("proxy.toml");
    std::fs::write(
        &config,
        format!(
            "policy = \"ward.toml\"\nlisting_memory_bytes = 1\ndecision_memory_bytes = 1\n\n[npm]\nupstream = \"{}\"\nprobe_sidecars = true\n",
            up.base()
        ),
    )
    .unwrap();
    let data = p.path("data");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .config(&config)
            .cache(data.join("cache")),
    );
    assert_eq!(proxy.get("/npm/demo").status, 200);
    assert_eq!(up.hits("/demo"), 1);
    let got = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
    assert_eq!(got.status, 200, "{}", got.reason);
    assert_eq!(got.body, v1.tarball);
    assert_eq!(
        up.hits("/demo"),
        2,
        "the forgotten tarball was looked up in the packument again"
    );
    // The bytes change upstream but the packument does not: the re-read index digest refuses them.
    up.set("/demo/-/demo-1.0.0.tgz", Answer::Body(other.tarball.clone()));
    up.set(
        "/demo/-/demo-1.0.0.tgz.sigstore.json",
        Answer::Body(other.bundle.clone()),
    );
    let data = p.path("data2");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .config(&config)
            .cache(data.join("cache")),
    );
    for _ in 0..2 {
        let got = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
        assert_eq!(got.status, 403, "{}", got.reason);
        assert!(got.reason.contains("index-digest-mismatch"), "{}", got.reason);
    }
}

/// Opens a connection that sends part of a request head and stops.
fn stalled(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /npm/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    s
}

/// Whether the proxy closes `s` within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn limits_config(p: &Publisher, up: &FakeRegistry, name: &str, extra: &str) -> String {
    policy(p, "");
    let config = p.path(name);
    std::fs::write(
        &config,
        format!(
            "policy = \"ward.toml\"\n{extra}\n[npm]\nupstream = \"{}\"\nprobe_sidecars = true\n",
            up.base()
        ),
    )
    .unwrap();
    config.display().to_string()
}

#[test]
fn stalled_request_heads_are_cut_and_do_not_lock_out_clients() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let config = limits_config(&p, &up, "a.toml", "header_timeout = 1\nidle_timeout = 2\n");
    let data = p.path("data");
    let proxy = p.ctx.proxy(ProxyOptions::new().data(&data).config(config));
    // 200 connections stop mid-header; a client still gets its answer at once.
    let started = Instant::now();
    let mut stalled_conns: Vec<TcpStream> = (0..200).map(|_| stalled(&proxy.base)).collect();
    let got = proxy.get("/npm/demo");
    assert_eq!(got.status, 200, "{}", got.reason);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Every stalled connection is closed once the header timeout (1 s) has passed.
    for s in &mut stalled_conns {
        let left = Duration::from_secs(8)
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        assert!(
            closed_within(s, left),
            "a stalled connection is still open after {:?}",
            started.elapsed()
        );
    }
    // A keep-alive connection with nothing to do is closed after the idle timeout (2 s).
    let addr = proxy.base.trim_start_matches("http://").to_string();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let opened = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(8)),
        "an idle connection stays open"
    );
    assert!(
        opened.elapsed() >= Duration::from_millis(1500),
        "closed before the idle timeout"
    );
    // A request that takes longer than both timeouts upstream is not cut.
    let packument = up.body("/demo");
    up.set("/demo", Answer::Slow(Duration::from_secs(3), packument));
    let slow = proxy.get("/npm/demo");
    assert_eq!(slow.status, 200, "{}", slow.reason);
}

#[test]
fn the_connection_limit_holds_new_clients_until_a_slot_frees() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let config = limits_config(&p, &up, "b.toml", "header_timeout = 2\nmax_connections = 20\n");
    let data = p.path("data");
    let proxy = p.ctx.proxy(ProxyOptions::new().data(&data).config(config));
    let started = Instant::now();
    let _held: Vec<TcpStream> = (0..20).map(|_| stalled(&proxy.base)).collect();
    std::thread::sleep(Duration::from_millis(200));
    // The 21st connection waits for a slot, which the header timeout frees.
    let got = proxy.get("/npm/demo");
    assert_eq!(got.status, 200, "{}", got.reason);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "answered after {waited:?}: no limit"
    );
    assert!(waited < Duration::from_secs(10), "answered after {waited:?}");
}

/// `openssl` with arguments, in `dir`; whether it succeeded.
fn openssl(dir: &Path, args: &[&str]) -> bool {
    std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// An HTTPS server (`openssl s_server -WWW`, serving `dir`) with a
/// certificate from a CA made here; its base URL and the CA's PEM file.
struct HttpsUpstream {
    child: std::process::Child,
    base: String,
    ca: std::path::PathBuf,
}

impl Drop for HttpsUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn https_upstream(dir: &Path) -> Option<HttpsUpstream> {
    if !crate::proxy::have("openssl", "version") {
        return None;
    }
    let made = openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ward test CA",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ) && {
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
            ],
        )
    };
    assert!(made, "openssl could not make the test CA");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-WWW", "-cert", "leaf.pem", "-key", "leaf.key"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(HttpsUpstream {
        child,
        base: format!("https://127.0.0.1:{port}"),
        ca: dir.join("ca.pem"),
    })
}

#[test]
fn an_upstream_ca_is_trusted_only_when_named_and_the_refusal_says_how() {
    let p = Publisher::new("ecdsa-p256");
    let site = p.path("site");
    std::fs::create_dir_all(&site).unwrap();
    let Some(up) = https_upstream(&site) else { return };
    std::fs::write(site.join("demo"), br#"{"name": "demo", "versions": {}}"#).unwrap();
    let opts = |data: &str| {
        ProxyOptions::new()
            .data(p.path(data))
            .npm(&up.base)
            .cache(p.path(data).join("cache"))
    };
    // The test CA is in no store the proxy reads: refused, naming the fix.
    let proxy = p.ctx.proxy(opts("d1"));
    let refused = proxy.get("/npm/demo");
    assert_eq!(refused.status, 502, "{}", refused.reason);
    assert!(
        refused.reason.contains("not trusted") && refused.reason.contains("--ca-cert"),
        "{}",
        refused.reason
    );
    drop(proxy);
    // Named with --ca-cert, or in the configuration file, it is trusted.
    let proxy = p.ctx.proxy(opts("d2").args(["--ca-cert", up.ca.to_str().unwrap()]));
    let got = proxy.get("/npm/demo");
    assert_eq!(got.status, 200, "{}", got.reason);
    drop(proxy);
    let config = p.path("proxy.toml");
    std::fs::write(&config, "ca_certs = [\"site/ca.pem\"]\n").unwrap();
    let proxy = p.ctx.proxy(opts("d3").config(&config));
    assert_eq!(proxy.get("/npm/demo").status, 200);
}

#[test]
fn an_unusable_ca_file_is_a_usage_error_naming_it() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let not_pem = p.path("corp-ca.crt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let empty = p.path("empty-ca.pem");
    std::fs::write(&empty, "").unwrap();
    let missing = p.path("missing-ca.pem");
    for file in [&not_pem, &empty, &missing] {
        let run = ctx.ward_in(
            &p.path("data"),
            ["proxy", "--listen", "127.0.0.1:0", "--ca-cert", file.to_str().unwrap()],
        );
        run.expect(2);
        assert!(run.stderr.contains(file.to_str().unwrap()), "{}", run.stderr);
    }
    let config = p.path("proxy.toml");
    std::fs::write(&config, "ca_certs = [\"corp-ca.crt\"]\n").unwrap();
    let run = ctx.ward_in(&p.path("data"), ["proxy", "--config", config.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("corp-ca.crt"), "{}", run.stderr);
}

#[test]
fn a_refused_file_stays_refused_when_its_listing_is_forgotten() {
    use sha2::Digest as _;
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let bytes = b"not an sdist at all".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    up.set(
        "/simple/evil/",
        Answer::Body(format!("<a href=\"/files/evil-1.0.tar.gz#sha256={sha}\">evil-1.0.tar.gz</a>").into_bytes()),
    );
    up.set("/files/evil-1.0.tar.gz", Answer::Body(bytes));
    policy(&p, "");
    let config = p.path("proxy.toml");
    std::fs::write(
        &config,
        format!(
            "policy = \"ward.toml\"\nlisting_memory_bytes = 1\n\n[pypi]\nupstream = \"{}\"\nprobe_sidecars = true\n",
            up.base()
        ),
    )
    .unwrap();
    let data = p.path("data");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .config(&config)
            .cache(data.join("cache")),
    );
    assert_eq!(proxy.get("/pypi/simple/evil/").status, 200);
    let url = format!("{}/pypi/files/evil/evil-1.0.tar.gz", proxy.base);
    let first = get(&url);
    assert_eq!(first.status, 403, "{}", first.reason);
    // Nothing remembers the listing: the download is still refused with the
    // same reason, not "not found", and the page marks the file as yanked.
    let again = get(&url);
    assert_eq!(again.status, 403, "{}", again.reason);
    assert_eq!(again.reason, first.reason);
    assert_eq!(
        up.hits("/files/evil-1.0.tar.gz"),
        1,
        "the denial is remembered, not re-fetched"
    );
}

/// Three signed packages upstream (bundles beside the tarballs, and in a
/// local evidence directory), one advertising an attestations URL.
fn three_packages(p: &Publisher, up: &FakeRegistry) -> (Vec<&'static str>, std::path::PathBuf) {
    let names = vec!["alpha", "beta", "gamma"];
    let evidence = p.path("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    for name in &names {
        let pkg = package(p, name, "1.0.0", name);
        serve_package(up, name, &[("1.0.0", &pkg)]);
        std::fs::write(evidence.join(format!("{name}-1.0.0.tgz.sigstore.json")), &pkg.bundle).unwrap();
    }
    // alpha advertises attestations (upstream has none: 404).
    let mut doc: serde_json::Value = serde_json::from_slice(&up.body("/alpha")).unwrap();
    doc["versions"]["1.0.0"]["dist"]["attestations"] =
        serde_json::json!({"url": format!("{}/-/npm/v1/attestations/alpha@1.0.0", up.base())});
    up.set("/alpha", Answer::Body(serde_json::to_vec(&doc).unwrap()));
    (names, evidence)
}

#[test]
fn a_cold_install_makes_one_upstream_request_per_artifact_and_no_blind_probes() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let (names, evidence) = three_packages(&p, &up);
    let data = p.path("data");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .policy(policy(&p, ""))
            .evidence(&evidence)
            .cache(data.join("cache")),
    );
    for name in &names {
        assert_eq!(proxy.get(&format!("/npm/{name}")).status, 200);
        let got = proxy.get(&format!("/npm/{name}/-/{name}-1.0.0.tgz"));
        assert_eq!(got.status, 200, "{}", got.reason);
    }
    let hits = up.all_hits();
    let probes: Vec<_> = hits
        .keys()
        .filter(|k| k.contains(".sigstore") || k.contains(".intoto"))
        .collect();
    assert!(probes.is_empty(), "blind probes: {probes:?}");
    // One packument and one tarball per package, plus the one advertised attestation.
    let total: usize = hits.values().sum();
    assert!(total <= 2 * names.len() + 1, "{hits:?}");
    assert_eq!(up.hits("/-/npm/v1/attestations/alpha@1.0.0"), 1, "{hits:?}");
}

#[test]
fn a_failed_optional_probe_means_absent_not_a_failed_artifact() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let (names, evidence) = three_packages(&p, &up);
    // A storage-backed mirror: 403 for what it does not have, 500 for a bad day.
    up.set("/alpha/-/alpha-1.0.0.tgz.sigstore.json", Answer::Status(403));
    up.set("/alpha/-/alpha-1.0.0.tgz.sigstore", Answer::Status(500));
    up.set("/alpha/-/alpha-1.0.0.tgz.intoto.jsonl", Answer::Status(403));
    let data = p.path("data");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .probe("npm")
            .policy(policy(&p, ""))
            .evidence(&evidence)
            .cache(data.join("cache")),
    );
    let got = proxy.get("/npm/alpha/-/alpha-1.0.0.tgz");
    assert_eq!(got.status, 200, "{}", got.reason);
    // Probing is on here: the others were probed and found.
    let got = get(&format!("{}/npm/{}/-/{}-1.0.0.tgz", proxy.base, names[1], names[1]));
    assert_eq!(got.status, 200, "{}", got.reason);
    assert_eq!(up.hits("/beta/-/beta-1.0.0.tgz.sigstore.json"), 1);
    let log = proxy.log_with("HTTP 500");
    assert!(
        log.contains("alpha-1.0.0.tgz.sigstore") && log.contains("absent"),
        "{log}"
    );
}

#[test]
fn metadata_is_served_within_its_ttl_and_revalidated_after_it() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let (names, evidence) = three_packages(&p, &up);
    let data = p.path("data");
    // The proxy's clock is pinned: "later" is a restart ten seconds on, not a sleep.
    let start = |ttl: &str, now: &str| {
        p.ctx.proxy(
            ProxyOptions::new()
                .data(&data)
                .npm(up.base())
                .args(["--metadata-ttl", ttl])
                .policy(policy(&p, ""))
                .evidence(&evidence)
                .cache(data.join("cache"))
                .at(now),
        )
    };
    let install = |proxy: &ProxyProcess| {
        for name in &names {
            assert_eq!(proxy.get(&format!("/npm/{name}")).status, 200);
            let got = proxy.get(&format!("/npm/{name}/-/{name}-1.0.0.tgz"));
            assert_eq!(got.status, 200, "{}", got.reason);
        }
    };
    let t0 = "2026-12-01T00:00:00Z";
    let proxy = start("300", t0);
    install(&proxy);
    let cold: usize = up.all_hits().values().sum();
    // A warm install within the TTL, even after a restart: no upstream request at all.
    install(&proxy);
    drop(proxy);
    let proxy = start("300", "2026-12-01T00:04:59Z");
    install(&proxy);
    assert_eq!(up.all_hits().values().sum::<usize>(), cold, "{:?}", up.all_hits());
    drop(proxy);
    // Past the TTL: one conditional request per packument, answered 304, and
    // still no tarball request.
    let proxy = start("300", "2026-12-01T00:05:01Z");
    install(&proxy);
    for name in &names {
        assert_eq!(up.hits(&format!("/{name}")), 2, "{:?}", up.all_hits());
        assert_eq!(up.not_modified(&format!("/{name}")), 1);
        assert_eq!(up.hits(&format!("/{name}/-/{name}-1.0.0.tgz")), 1);
    }
}

#[test]
fn the_proxy_logs_every_decision_as_text_or_json() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let (_, evidence) = three_packages(&p, &up);
    // beta has no evidence anywhere: refused.
    std::fs::remove_file(evidence.join("beta-1.0.0.tgz.sigstore.json")).unwrap();
    let data = p.path("data");
    let opts = |format: &str, cache: &str| {
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .args(["--log-format", format])
            .policy(policy(&p, ""))
            .evidence(&evidence)
            .cache(data.join(cache))
    };
    let proxy = p.ctx.proxy(opts("text", "c1"));
    assert_eq!(proxy.get("/npm/alpha/-/alpha-1.0.0.tgz").status, 200);
    assert_eq!(proxy.get("/npm/alpha/-/alpha-1.0.0.tgz").status, 200);
    assert_eq!(proxy.get("/npm/beta/-/beta-1.0.0.tgz").status, 403);
    assert_eq!(proxy.get("/npm/nosuch").status, 404);
    let log = proxy.log_with("metadata npm/nosuch");
    let lines: Vec<&str> = log.lines().collect();
    let allow: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(" allow pkg:npm/alpha@1.0.0 alpha-1.0.0.tgz "))
        .collect();
    assert_eq!(allow.len(), 2, "{log}");
    assert!(
        allow[0].contains("cache=miss") && allow[1].contains("cache=hit"),
        "{log}"
    );
    assert!(
        allow[0].contains(" 127.0.0.1:") && allow[0].contains(" ledger=0 "),
        "{log}"
    );
    assert!(allow[0].contains(" total=") && allow[0].contains(" upstream="), "{log}");
    let deny = lines
        .iter()
        .find(|l| l.contains(" deny pkg:npm/beta@1.0.0 beta-1.0.0.tgz "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        deny.contains("codes=signature-missing") && deny.contains("ledger=1"),
        "{log}"
    );
    assert!(log.contains("metadata npm/nosuch 404"), "{log}");
    drop(proxy);

    let proxy = p.ctx.proxy(opts("json", "c2"));
    assert_eq!(proxy.get("/npm/beta/-/beta-1.0.0.tgz").status, 403);
    let log = proxy.log_with("\"deny\"");
    let events: Vec<serde_json::Value> = log.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let deny = events
        .iter()
        .find(|e| e["verdict"] == "deny")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(deny["purl"], "pkg:npm/beta@1.0.0");
    assert_eq!(deny["codes"], serde_json::json!(["signature-missing"]));
    assert_eq!(deny["cache_hit"], false);
    assert!(deny["ledger_index"].is_u64() && deny["total_ms"].is_u64() && deny["time"].is_string());
}

#[test]
fn cached_crates_are_served_while_upstream_is_down_after_a_restart() {
    let reg = crate::proxy::Registries::new();
    let file = reg.crate_file("demo-crate", "1.0.0", false);
    let up = FakeRegistry::start();
    up.set(
        "/config.json",
        Answer::Body(format!("{{\"dl\": \"{}/dl\"}}", up.base()).into_bytes()),
    );
    up.set(
        "/de/mo/demo-crate",
        Answer::Body(std::fs::read(reg.cargo.join("de/mo/demo-crate")).unwrap()),
    );
    up.set(
        "/dl/demo-crate/1.0.0/download",
        Answer::Body(std::fs::read(&file).unwrap()),
    );
    let evidence = reg.publisher.path("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    std::fs::copy(
        format!("{}.sigstore.json", file.display()),
        evidence.join("demo-crate-1.0.0.crate.sigstore.json"),
    )
    .unwrap();
    let data = reg.publisher.path("data");
    let opts = ProxyOptions::new()
        .data(&data)
        .cargo(up.base())
        .policy(&reg.policy)
        .evidence(&evidence)
        .cache(data.join("cache"));
    let url = |proxy: &ProxyProcess| format!("{}/cargo/api/v1/crates/demo-crate/1.0.0/download", proxy.base);
    let proxy = reg.publisher.ctx.proxy(opts.clone());
    let got = get(&url(&proxy));
    assert_eq!(got.status, 200, "{}", got.reason);
    drop(proxy);
    // Upstream goes down; a new proxy process has never read config.json itself.
    up.shutdown();
    let proxy = reg.publisher.ctx.proxy(opts.clone());
    let got = get(&url(&proxy));
    assert_eq!(got.status, 200, "{}", got.reason);
    assert_eq!(got.body, std::fs::read(&file).unwrap());
}

#[test]
fn the_banner_names_npm_replace_registry_host() {
    let p = Publisher::new("ecdsa-p256");
    let mut child = p
        .ctx
        .proxy_command(&ProxyOptions::new().data(p.path("data")).cache(p.path("cache")))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..3 {
        out.read_line(&mut banner).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let npm = banner.lines().find(|l| l.contains("npm:")).unwrap_or_default();
    assert!(
        npm.contains("--registry http://127.0.0.1:") && npm.contains("--replace-registry-host=always"),
        "{banner}"
    );
}

#[test]
fn warn_mode_allows_are_logged_as_warnings_from_the_cache_too() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let (_, evidence) = three_packages(&p, &up);
    std::fs::remove_file(evidence.join("beta-1.0.0.tgz.sigstore.json")).unwrap();
    let data = p.path("data");
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .policy(policy(&p, "mode = \"warn\"\n"))
            .evidence(&evidence)
            .cache(data.join("cache")),
    );
    for _ in 0..2 {
        let got = proxy.get("/npm/beta/-/beta-1.0.0.tgz");
        assert_eq!(got.status, 200, "{}", got.reason);
    }
    let log = proxy.log_with("cache=hit");
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("ward: warning: ") && l.contains(" warn pkg:npm/beta@1.0.0 "))
        .collect();
    assert_eq!(warned.len(), 2, "{log}");
    assert!(
        warned[0].contains("cache=miss") && warned[1].contains("cache=hit"),
        "{log}"
    );
    assert!(warned.iter().all(|l| l.contains("codes=signature-missing")), "{log}");
}

#[test]
fn ward_proxy_stops_cleanly_on_sigterm() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let data = p.path("data");
    let mut proxy = proxy(&p, &up, &data, &[]);
    let status = proxy.terminate().expect("ward proxy did not stop on SIGTERM");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn refusals_are_marked_in_listings_and_remembered_across_restarts_until_the_policy_changes() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    let v2 = package(&p, "demo", "2.0.0", "two");
    serve_package(&up, "demo", &[("1.0.0", &v1), ("2.0.0", &v2)]);
    // 2.0.0 has no evidence anywhere: refused.
    up.set("/demo/-/demo-2.0.0.tgz.sigstore.json", Answer::Status(404));
    let data = p.path("data");
    let tarball = "/demo/-/demo-2.0.0.tgz";
    let packument = |proxy: &ProxyProcess| -> serde_json::Value {
        let got = proxy.get("/npm/demo");
        assert_eq!(got.status, 200, "{}", got.reason);
        serde_json::from_slice(&got.body).unwrap()
    };
    let first_reason = {
        let proxy = proxy(&p, &up, &data, &["--metadata-ttl", "0"]);
        let before = packument(&proxy);
        assert!(before["versions"]["2.0.0"].get("deprecated").is_none());
        let refused = proxy.get(&format!("/npm{tarball}"));
        assert_eq!(refused.status, 403, "{}", refused.reason);
        assert!(
            refused.reason.starts_with("ward: signature-missing"),
            "{}",
            refused.reason
        );
        // The refused version stays listed, deprecated with ward's reason;
        // the allowed one is untouched.
        let after = packument(&proxy);
        assert_eq!(
            after["versions"]["2.0.0"]["deprecated"],
            refused.reason.replacen("ward: ", "ward: refused: ", 1).as_str()
        );
        assert!(after["versions"]["1.0.0"].get("deprecated").is_none());
        assert_eq!(proxy.get("/npm/demo/-/demo-1.0.0.tgz").status, 200);
        refused.reason
    };
    assert_eq!(up.hits(tarball), 1);
    assert_eq!(ledger_size(&data), 2);
    assert!(data.join("cache/denials.jsonl").is_file());

    // Restarted under the same policy: the listing still marks it, and the
    // download is refused with the same reason without a fetch or a new entry.
    {
        let proxy = proxy(&p, &up, &data, &["--metadata-ttl", "0"]);
        let listed = packument(&proxy);
        assert_eq!(
            listed["versions"]["2.0.0"]["deprecated"],
            first_reason.replacen("ward: ", "ward: refused: ", 1).as_str()
        );
        let again = proxy.get(&format!("/npm{tarball}"));
        assert_eq!((again.status, again.reason.as_str()), (403, first_reason.as_str()));
        let log = proxy.log_with("deny pkg:npm/demo");
        assert!(log.contains("cache=hit") && log.contains("ledger=0"), "{log}");
    }
    assert_eq!(up.hits(tarball), 1, "a remembered denial is not fetched again");
    assert_eq!(ledger_size(&data), 2, "nor recorded again");

    // Other bytes under the same name are judged afresh: the remembered
    // denial is for the digest it was made on.
    let v2b = package(&p, "demo", "2.0.0", "two, again");
    serve_package(&up, "demo", &[("1.0.0", &v1), ("2.0.0", &v2b)]);
    up.set("/demo/-/demo-2.0.0.tgz.sigstore.json", Answer::Status(404));
    {
        let proxy = proxy(&p, &up, &data, &["--metadata-ttl", "0"]);
        assert!(packument(&proxy)["versions"]["2.0.0"].get("deprecated").is_none());
        assert_eq!(proxy.get(&format!("/npm{tarball}")).status, 403);
    }
    assert_eq!(up.hits(tarball), 2);
    assert_eq!(ledger_size(&data), 3);

    // A changed policy re-verifies.
    let proxy = p.ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .probe("npm")
            .policy(policy(&p, "# changed\n"))
            .cache(data.join("cache"))
            .args(["--metadata-ttl", "0"]),
    );
    assert!(packument(&proxy)["versions"]["2.0.0"].get("deprecated").is_none());
    assert_eq!(proxy.get(&format!("/npm{tarball}")).status, 403);
    assert_eq!(up.hits(tarball), 3);
    assert_eq!(ledger_size(&data), 4);
}

/// A loopback HTTP CONNECT proxy that tunnels to the target and counts the
/// tunnels it opened and the `Proxy-Authorization` headers it saw.
#[derive(Clone, Default)]
struct ConnectProxy {
    connects: Arc<Mutex<Vec<String>>>,
    auth: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl ConnectProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let me = ConnectProxy {
            port: listener.local_addr().unwrap().port(),
            ..Default::default()
        };
        let server = me.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let s = server.clone();
                std::thread::spawn(move || s.tunnel(stream));
            }
        });
        me
    }

    fn tunnel(&self, client: TcpStream) {
        let mut reader = BufReader::new(client.try_clone().unwrap());
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            return;
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("proxy-authorization")
            {
                self.auth.lock().unwrap().push(value.trim().to_string());
            }
        }
        let mut client = client;
        let Some(target) = first.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()) else {
            let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        self.connects.lock().unwrap().push(target.to_string());
        let Ok(upstream) = TcpStream::connect(target) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
        let mut client_write = client.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut reader, &mut up_write);
            let _ = up_write.shutdown(std::net::Shutdown::Write);
        });
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Write);
    }

    fn connects(&self) -> usize {
        self.connects.lock().unwrap().len()
    }
}

#[test]
fn upstream_requests_go_through_the_egress_proxy_the_environment_names() {
    let p = Publisher::new("ecdsa-p256");
    let up = FakeRegistry::start();
    let v1 = package(&p, "demo", "1.0.0", "one");
    serve_package(&up, "demo", &[("1.0.0", &v1)]);
    let egress = ConnectProxy::start();
    let data = p.path("data");
    let opts = |cache: &str| {
        ProxyOptions::new()
            .data(&data)
            .npm(up.base())
            .probe("npm")
            .policy(policy(&p, ""))
            .cache(data.join(cache))
    };
    // HTTP_PROXY (the upstream is http://), with credentials: the tunnel
    // carries the request, the proxy gets the credentials, the log never shows them.
    let proxy_url = format!("http://alice:s3cret@127.0.0.1:{}", egress.port);
    let proxy = p.ctx.proxy(opts("cache-a").env("HTTP_PROXY", &proxy_url));
    assert_eq!(proxy.get("/npm/demo").status, 200);
    let got = proxy.get("/npm/demo/-/demo-1.0.0.tgz");
    assert_eq!(got.status, 200, "{}", got.reason);
    assert_eq!(got.body, v1.tarball);
    let tunnels = egress.connects();
    assert!(tunnels >= 1, "the upstream was reached through the proxy");
    assert!(
        egress
            .connects
            .lock()
            .unwrap()
            .iter()
            .all(|t| *t == format!("127.0.0.1:{}", up.port)),
        "{:?}",
        egress.connects.lock().unwrap()
    );
    {
        use base64::Engine as _;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
        );
        assert!(egress.auth.lock().unwrap().iter().all(|a| *a == expected));
        assert!(!egress.auth.lock().unwrap().is_empty());
    }
    let log = proxy.log_with("allow pkg:npm/demo");
    assert!(!log.contains("s3cret"), "{log}");
    drop(proxy);

    // NO_PROXY naming the upstream's host: straight there.
    let before = egress.connects();
    let proxy = p.ctx.proxy(
        opts("cache-b")
            .env("http_proxy", &proxy_url)
            .env("NO_PROXY", "localhost,127.0.0.1"),
    );
    assert_eq!(proxy.get("/npm/demo").status, 200);
    assert_eq!(proxy.get("/npm/demo/-/demo-1.0.0.tgz").status, 200);
    assert_eq!(egress.connects(), before, "NO_PROXY hosts are reached directly");
    drop(proxy);

    // HTTPS_PROXY alone covers https:// URLs only: this http:// upstream is reached directly.
    let proxy = p.ctx.proxy(opts("cache-c").env("HTTPS_PROXY", &proxy_url));
    assert_eq!(proxy.get("/npm/demo").status, 200);
    assert_eq!(egress.connects(), before);
    drop(proxy);

    // A value that does not parse is a usage error naming the variable,
    // with the credentials left out.
    let out = p
        .ctx
        .proxy_command(&opts("cache-d").env("HTTPS_PROXY", "http://alice:s3cret@proxy.example:port"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HTTPS_PROXY") && !stderr.contains("s3cret"), "{stderr}");
}
