//! Release cooldown and provenance history end to end (issue 13 items 2,
//! 3): real npm through `ward proxy` from a loopback HTTP upstream whose
//! packuments carry publish times, publishers and `dist.attestations`, with
//! ward's clock pinned (`WARD_TEST_NOW`).
//!
//! - cooldown: a release younger than `min_age` is left out of the
//!   packument (npm picks the older one), its download is refused with
//!   `release-too-new` and the second it becomes eligible, and at that
//!   second a restarted proxy lets it in;
//! - the same through real pip from a PEP 691 JSON page with `upload-time`:
//!   the young version's files leave the page, its download is refused;
//! - history: the real attested gundam-visor 1.0.1 (its npm attestations
//!   from `../shared/testdata/npm-attestations`) installs and is recorded
//!   with its verified provenance; a 1.0.2 without attestations is refused
//!   with `provenance-regression`, naming the earlier release the ledger's
//!   index holds.

use crate::common::{FakeRegistry, ProxyOptions, TestContext, npm_manifest, repack, shared};
use crate::proxy::{have, npm, pip};
use std::path::Path;

/// One version as the upstream's packument lists it.
struct Version<'a> {
    version: &'a str,
    tarball: Vec<u8>,
    time: &'a str,
    publisher: &'a str,
    /// The npm attestations response served for it, if any.
    attestations: Option<Vec<u8>>,
}

/// Serves from `up` a full packument of `name` with these versions (the
/// last is `latest`), their tarballs and attestations.
fn publish(up: &FakeRegistry, name: &str, versions: &[Version<'_>]) {
    let mut docs = serde_json::Map::new();
    let mut times = serde_json::Map::new();
    for v in versions {
        let mut doc = npm_manifest(&v.tarball);
        let path = format!("/{name}/-/{name}-{}.tgz", v.version);
        doc["_npmUser"] = serde_json::json!({"name": v.publisher, "email": format!("{}@example.invalid", v.publisher)});
        doc["dist"] = serde_json::json!({
            "tarball": format!("{}{path}", up.base()),
            "integrity": crate::common::sha512_sri(&v.tarball),
        });
        if let Some(att) = &v.attestations {
            let at = format!("/-/npm/v1/attestations/{name}@{}", v.version);
            doc["dist"]["attestations"] = serde_json::json!({
                "url": format!("{}{at}", up.base()),
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
            });
            up.put(&at, att.clone());
        }
        docs.insert(v.version.to_string(), doc);
        times.insert(v.version.to_string(), v.time.into());
        up.put(&path, v.tarball.clone());
    }
    times.insert("created".into(), "2020-01-01T00:00:00.000Z".into());
    let latest = versions.last().map(|v| v.version).unwrap_or_default();
    let packument = serde_json::json!({
        "name": name,
        "dist-tags": {"latest": latest},
        "versions": docs,
        "time": times,
    });
    up.put(&format!("/{name}"), serde_json::to_vec(&packument).unwrap());
}

/// A real tarball with its version changed (everything else kept).
fn bumped(src: &Path, version: &str, dir: &Path) -> Vec<u8> {
    repack(
        src,
        |j| j["version"] = version.into(),
        &[],
        &dir.join(format!("bumped-{version}.tgz")),
    )
}

fn installed_version(prefix: &Path, name: &str) -> String {
    let text = std::fs::read(prefix.join("node_modules").join(name).join("package.json")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    json["version"].as_str().unwrap().to_string()
}

#[test]
fn npm_cooldown_hides_young_releases_refuses_their_download_and_lets_them_in_at_the_second() {
    if !have("npm", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let n = shared().join("npm-neighbours");
    let up = FakeRegistry::start();
    publish(
        &up,
        "chalk",
        &[
            Version {
                version: "5.6.0",
                tarball: std::fs::read(n.join("chalk-5.6.0.tgz")).unwrap(),
                time: "2026-01-01T00:00:00.000Z",
                publisher: "sindresorhus",
                attestations: None,
            },
            Version {
                version: "5.6.2",
                tarball: std::fs::read(n.join("chalk-5.6.2.tgz")).unwrap(),
                time: "2026-03-01T10:00:00.000Z",
                publisher: "sindresorhus",
                attestations: None,
            },
        ],
    );
    // A package whose only release is young.
    publish(
        &up,
        "ms",
        &[Version {
            version: "2.1.3",
            tarball: std::fs::read(n.join("ms-2.1.3.tgz")).unwrap(),
            time: "2026-03-03T00:00:00.000Z",
            publisher: "vercel-release-bot",
            attestations: None,
        }],
    );
    // Unsigned packages only warn; the cooldown denies at its own level.
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();
    let opts = ProxyOptions::new().npm(up.base()).policy(&policy);

    // One second before 5.6.2 has been public for three days.
    let proxy = ctx.proxy(opts.clone().at("2026-03-04T09:59:59Z"));
    let doc: serde_json::Value = serde_json::from_str(&proxy.get("/npm/chalk").text()).unwrap();
    assert!(doc["versions"].get("5.6.2").is_none(), "5.6.2 is listed: {doc}");
    assert!(doc["versions"].get("5.6.0").is_some());
    assert_eq!(doc["dist-tags"]["latest"], "5.6.0");
    // npm resolves to the older release.
    let older = ctx.path("older");
    let out = npm(&proxy.base, &older, "chalk");
    assert!(out.ok, "{}", out.text);
    assert_eq!(installed_version(&older, "chalk"), "5.6.0");
    // Asked for by name (as a lockfile does), the download is refused with the eligible time.
    let out = npm(&proxy.base, &ctx.path("young"), "chalk@5.6.2");
    assert!(!out.ok, "{}", out.text);
    let tarball = proxy.get("/npm/chalk/-/chalk-5.6.2.tgz").text();
    assert!(tarball.contains("release-too-new"), "{tarball}");
    assert!(
        tarball.contains("lets it in at 2026-03-04T10:00:00Z (UTC)"),
        "{tarball}"
    );
    // With no older release to fall back on, npm is told why.
    let out = npm(&proxy.base, &ctx.path("only-young"), "ms");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("release-too-new"), "{}", out.text);
    drop(proxy);

    // At the second it becomes eligible, the same proxy data lets it in.
    let proxy = ctx.proxy(opts.clone().at("2026-03-04T10:00:00Z"));
    let doc: serde_json::Value = serde_json::from_str(&proxy.get("/npm/chalk").text()).unwrap();
    assert_eq!(doc["dist-tags"]["latest"], "5.6.2");
    let now_ok = ctx.path("eligible");
    let out = npm(&proxy.base, &now_ok, "chalk@5.6.2");
    assert!(out.ok, "{}", out.text);
    assert_eq!(installed_version(&now_ok, "chalk"), "5.6.2");
}

#[test]
fn npm_release_without_the_provenance_its_predecessor_carried_is_a_provenance_regression() {
    if !have("npm", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let a = shared().join("npm-attestations");
    let real = a.join("gundam-visor-cli-v1-tag.tgz");
    let up = FakeRegistry::start();
    publish(
        &up,
        "gundam-visor",
        &[
            Version {
                version: "1.0.1",
                tarball: std::fs::read(&real).unwrap(),
                time: "2024-06-01T00:00:00.000Z",
                publisher: "ramonpetgrave64",
                attestations: Some(std::fs::read(a.join("gundam-visor-cli-v1-tag.tgz.json")).unwrap()),
            },
            Version {
                version: "1.0.2",
                tarball: bumped(&real, "1.0.2", ctx.dir()),
                time: "2024-07-01T00:00:00.000Z",
                publisher: "ramonpetgrave64",
                attestations: None,
            },
        ],
    );
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\n\n[[scope]]\nname = \"gundam\"\npackages = [\"npm:gundam-visor\"]\nmode = \"warn\"\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n",
    )
    .unwrap();
    let opts = ProxyOptions::new().npm(up.base()).policy(&policy);
    let proxy = ctx.proxy(opts.clone().at("2024-08-01T00:00:00Z"));

    // The attested release installs; its verified provenance goes into the ledger.
    let out = npm(&proxy.base, &ctx.path("first"), "gundam-visor@1.0.1");
    assert!(out.ok, "{}", out.text);

    // The next release has none: refused, naming what it was compared with.
    let out = npm(&proxy.base, &ctx.path("second"), "gundam-visor@1.0.2");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("provenance-regression"), "{}", out.text);
    let refused = proxy.get("/npm/gundam-visor/-/gundam-visor-1.0.2.tgz").text();
    assert!(refused.contains("provenance-regression"), "{refused}");
    assert!(refused.contains("1.0.1 (ledger entry"), "{refused}");
    assert!(
        refused.contains("https://github.com/ramonpetgrave64/gundam-visor .github/workflows/npm-publish.yml"),
        "{refused}"
    );
    drop(proxy);

    // A proxy that never saw 1.0.1: the packument says it carried provenance,
    // and its attestations, fetched and verified against its listed sha512,
    // say from where.
    let proxy = ctx.proxy(opts.data(ctx.path("fresh")).at("2024-08-01T00:00:00Z"));
    let out = npm(&proxy.base, &ctx.path("third"), "gundam-visor@1.0.2");
    assert!(!out.ok, "{}", out.text);
    let refused = proxy.get("/npm/gundam-visor/-/gundam-visor-1.0.2.tgz").text();
    assert!(refused.contains("provenance-regression"), "{refused}");
    assert!(!refused.contains("ledger entry"), "{refused}");
    assert!(
        refused.contains("(from https://github.com/ramonpetgrave64/gundam-visor .github/workflows/npm-publish.yml"),
        "{refused}"
    );
}

#[test]
fn pip_cooldown_leaves_young_files_off_the_page_and_refuses_their_download() {
    use sha2::Digest as _;
    if !have("python3", "--version") {
        return;
    }
    let reg = crate::proxy::Registries::new();
    let up = FakeRegistry::start();
    let mut files = Vec::new();
    for (version, uploaded) in [
        ("1.0.0", "2026-01-01T00:00:00.000000Z"),
        ("1.1.0", "2026-03-01T10:00:00.000000Z"),
    ] {
        let wheel = reg.wheel("demo-pkg", version, false);
        let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&wheel).unwrap();
        files.push(serde_json::json!({
            "filename": name,
            "url": format!("{}/files/{name}", up.base()),
            "hashes": {"sha256": format!("{:x}", sha2::Sha256::digest(&bytes))},
            "upload-time": uploaded,
        }));
        up.put(&format!("/files/{name}"), bytes);
    }
    let page = serde_json::json!({"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": files});
    up.put("/simple/demo-pkg/", serde_json::to_vec(&page).unwrap());
    let ctx = TestContext::new();
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();
    let opts = ProxyOptions::new().pypi(up.base()).policy(&policy);
    let proxy = ctx.proxy(opts.clone().at("2026-03-04T09:59:59Z"));
    let listed = proxy.get("/pypi/simple/demo-pkg/").text();
    assert!(listed.contains("demo_pkg-1.0.0-py3-none-any.whl"), "{listed}");
    assert!(!listed.contains("demo_pkg-1.1.0"), "{listed}");
    let site = ctx.path("site");
    let out = pip(&proxy.base, &site, "demo-pkg");
    assert!(out.ok, "{}", out.text);
    assert!(site.join("demo_pkg-1.0.0.dist-info").is_dir(), "{}", out.text);
    let out = pip(&proxy.base, &ctx.path("young"), "demo-pkg==1.1.0");
    assert!(!out.ok, "{}", out.text);
    let refused = proxy.get("/pypi/files/demo-pkg/demo_pkg-1.1.0-py3-none-any.whl").text();
    assert!(refused.contains("release-too-new"), "{refused}");
    assert!(
        refused.contains("lets it in at 2026-03-04T10:00:00Z (UTC)"),
        "{refused}"
    );
    drop(proxy);

    let proxy = ctx.proxy(opts.clone().at("2026-03-04T10:00:00Z"));
    let site = ctx.path("eligible");
    let out = pip(&proxy.base, &site, "demo-pkg==1.1.0");
    assert!(out.ok, "{}", out.text);
    assert!(site.join("demo_pkg-1.1.0.dist-info").is_dir());
}

#[test]
fn policy_explain_shows_the_cooldown_and_history_rules_and_bad_durations_fail_to_load() {
    let ctx = TestContext::new();
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "[defaults]\ncooldown = { min_age = \"3d\", exempt = [\"npm:@acme/*\"] }\n\n[[scope]]\npackages = [\"npm:left-pad\"]\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n",
    )
    .unwrap();
    let run = ctx.ward(["policy", "explain", policy.to_str().unwrap(), "pkg:npm/left-pad@1.3.0"]);
    run.expect(0);
    assert!(
        run.stdout.contains("  cooldown: 3d at deny, except npm:@acme/*"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  history: provenance_regression deny, publisher_change warn, over the last 10 releases (line 6)"
        ),
        "{}",
        run.stdout
    );
    let run = ctx.ward(["policy", "explain", policy.to_str().unwrap(), "pkg:npm/chalk@5.6.2"]);
    run.expect(0);
    assert!(run.stdout.contains("  cooldown: 3d at deny"), "{}", run.stdout);
    // A bare number is a load error at its line, with its stable code.
    std::fs::write(&policy, "version = 1\n[defaults]\ncooldown = { min_age = 3 }\n").unwrap();
    let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
    run.expect(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("invalid-duration"), "{all}");
    assert!(all.contains(":3:"), "{all}");
    assert!(all.contains("has no unit"), "{all}");
}

#[test]
fn a_packument_listing_a_version_twice_or_with_a_future_time_cannot_pass_the_cooldown() {
    let ctx = TestContext::new();
    let n = shared().join("npm-neighbours");
    let up = FakeRegistry::start();
    let version = |v: &'static str, time: &'static str, file: &str| Version {
        version: v,
        tarball: std::fs::read(n.join(file)).unwrap(),
        time,
        publisher: "qix",
        attestations: None,
    };
    publish(
        &up,
        "debug",
        &[version("4.4.1", "2025-01-01T00:00:00.000Z", "debug-4.4.1.tgz")],
    );
    // The same version twice in `time` (serde_json alone would keep the last silently).
    let doc = String::from_utf8(up.body("/debug")).unwrap();
    let doubled = doc.replacen("\"time\":{", "\"time\":{\"4.4.1\":\"2026-03-04T00:00:00.000Z\",", 1);
    assert_ne!(doc, doubled);
    up.put("/debug", doubled.into_bytes());
    publish(
        &up,
        "ms",
        &[version("2.1.3", "2031-01-01T00:00:00.000Z", "ms-2.1.3.tgz")],
    );
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"1d\" }\n",
    )
    .unwrap();
    let opts = ProxyOptions::new().npm(up.base()).policy(&policy);
    let proxy = ctx.proxy(opts.at("2026-06-01T00:00:00Z"));
    let refused = proxy.get("/npm/debug/-/debug-4.4.1.tgz").text();
    assert!(refused.contains("release-metadata-invalid"), "{refused}");
    assert!(refused.contains("time[\\\"4.4.1\\\"] is listed twice"), "{refused}");
    let refused = proxy.get("/npm/ms/-/ms-2.1.3.tgz").text();
    assert!(refused.contains("release-metadata-invalid"), "{refused}");
    assert!(refused.contains("in the future"), "{refused}");
}
