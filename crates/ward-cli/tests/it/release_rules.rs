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

use crate::common::{Entry, shared, tgz};
use crate::proxy::{client, have, start_proxy_with_env};
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A loopback npm registry: fixed answers by path, 404 otherwise.
#[derive(Clone, Default)]
struct Upstream {
    answers: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    port: u16,
}

/// One version as the upstream's packument lists it.
struct Version<'a> {
    version: &'a str,
    tarball: Vec<u8>,
    time: &'a str,
    publisher: &'a str,
    /// The npm attestations response served for it, if any.
    attestations: Option<Vec<u8>>,
}

impl Upstream {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let up = Upstream {
            port: listener.local_addr().unwrap().port(),
            ..Default::default()
        };
        let server = up.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let s = server.clone();
                std::thread::spawn(move || s.handle(stream));
            }
        });
        up
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn handle(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut request = String::new();
            if reader.read_line(&mut request).unwrap_or(0) == 0 {
                return;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .replace("%2f", "/")
                .replace("%2F", "/");
            let body = self.answers.lock().unwrap().get(&path).cloned();
            let mut out = stream.try_clone().unwrap();
            let written = match body {
                Some(b) => out
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()).as_bytes())
                    .and_then(|()| out.write_all(&b)),
                None => out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
            };
            if written.is_err() {
                return;
            }
        }
    }

    /// Serves `bytes` at `path`.
    fn put(&self, path: &str, bytes: Vec<u8>) {
        self.answers.lock().unwrap().insert(path.to_string(), bytes);
    }

    /// Serves a full packument of `name` with these versions (the last is
    /// `latest`), their tarballs and attestations.
    fn publish(&self, name: &str, versions: &[Version<'_>]) {
        use base64::Engine as _;
        use sha2::Digest as _;
        let mut docs = serde_json::Map::new();
        let mut times = serde_json::Map::new();
        let mut answers = self.answers.lock().unwrap();
        for v in versions {
            let mut doc = package_json(&v.tarball);
            let path = format!("/{name}/-/{name}-{}.tgz", v.version);
            doc["_npmUser"] =
                serde_json::json!({"name": v.publisher, "email": format!("{}@example.invalid", v.publisher)});
            doc["dist"] = serde_json::json!({
                "tarball": format!("{}{path}", self.base()),
                "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&v.tarball))),
            });
            if let Some(att) = &v.attestations {
                let at = format!("/-/npm/v1/attestations/{name}@{}", v.version);
                doc["dist"]["attestations"] = serde_json::json!({
                    "url": format!("{}{at}", self.base()),
                    "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
                });
                answers.insert(at, att.clone());
            }
            docs.insert(v.version.to_string(), doc);
            times.insert(v.version.to_string(), v.time.into());
            answers.insert(path, v.tarball.clone());
        }
        times.insert("created".into(), "2020-01-01T00:00:00.000Z".into());
        let latest = versions.last().map(|v| v.version).unwrap_or_default();
        let packument = serde_json::json!({
            "name": name,
            "dist-tags": {"latest": latest},
            "versions": docs,
            "time": times,
        });
        answers.insert(format!("/{name}"), serde_json::to_vec(&packument).unwrap());
    }
}

/// The `package/package.json` inside a tarball.
fn package_json(tgz: &[u8]) -> serde_json::Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == "package/package.json" {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).unwrap();
            return serde_json::from_slice(&text).unwrap();
        }
    }
    panic!("no package/package.json");
}

/// A real tarball with its version changed (everything else kept).
fn bumped(src: &Path, version: &str, dir: &Path) -> Vec<u8> {
    let bytes = std::fs::read(src).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path == "package/package.json" {
            let mut json: serde_json::Value = serde_json::from_slice(&data).unwrap();
            json["version"] = version.into();
            data = serde_json::to_vec_pretty(&json).unwrap();
        }
        files.push((path, data));
    }
    let entries: Vec<Entry<'_>> = files.iter().map(|(p, d)| Entry::File(p, d)).collect();
    let out = dir.join(format!("bumped-{version}.tgz"));
    tgz(&out, &entries);
    std::fs::read(&out).unwrap()
}

fn npm(base: &str, prefix: &Path, spec: &str) -> crate::proxy::Output {
    std::fs::create_dir_all(prefix).unwrap();
    client(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-update-notifier",
                "--ignore-scripts",
            ])
            .args(["--registry", &format!("{base}/npm/")])
            .arg("--prefix")
            .arg(prefix)
            .arg("--cache")
            .arg(prefix.join(".npm-cache"))
            .arg(spec)
            .env("npm_config_userconfig", "/dev/null"),
    )
}

/// A plain HTTP GET through the proxy: the body.
fn get(base: &str, path: &str) -> String {
    let hostport = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(hostport).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
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
    let dir = tempfile::tempdir().unwrap();
    let n = shared().join("npm-neighbours");
    let up = Upstream::start();
    up.publish(
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
    up.publish(
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
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = [
        "--npm-upstream".to_string(),
        up.base(),
        "--policy".into(),
        policy.display().to_string(),
    ];

    // One second before 5.6.2 has been public for three days.
    let proxy = start_proxy_with_env(&data, &args, &[("WARD_TEST_NOW", "2026-03-04T09:59:59Z")]);
    let doc: serde_json::Value = serde_json::from_str(&get(&proxy.base, "/npm/chalk")).unwrap();
    assert!(doc["versions"].get("5.6.2").is_none(), "5.6.2 is listed: {doc}");
    assert!(doc["versions"].get("5.6.0").is_some());
    assert_eq!(doc["dist-tags"]["latest"], "5.6.0");
    // npm resolves to the older release.
    let older = dir.path().join("older");
    let out = npm(&proxy.base, &older, "chalk");
    assert!(out.ok, "{}", out.text);
    assert_eq!(installed_version(&older, "chalk"), "5.6.0");
    // Asked for by name (as a lockfile does), the download is refused with the eligible time.
    let out = npm(&proxy.base, &dir.path().join("young"), "chalk@5.6.2");
    assert!(!out.ok, "{}", out.text);
    let tarball = get(&proxy.base, "/npm/chalk/-/chalk-5.6.2.tgz");
    assert!(tarball.contains("release-too-new"), "{tarball}");
    assert!(
        tarball.contains("lets it in at 2026-03-04T10:00:00Z (UTC)"),
        "{tarball}"
    );
    // With no older release to fall back on, npm is told why.
    let out = npm(&proxy.base, &dir.path().join("only-young"), "ms");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("release-too-new"), "{}", out.text);
    drop(proxy);

    // At the second it becomes eligible, the same proxy data lets it in.
    let proxy = start_proxy_with_env(&data, &args, &[("WARD_TEST_NOW", "2026-03-04T10:00:00Z")]);
    let doc: serde_json::Value = serde_json::from_str(&get(&proxy.base, "/npm/chalk")).unwrap();
    assert_eq!(doc["dist-tags"]["latest"], "5.6.2");
    let now_ok = dir.path().join("eligible");
    let out = npm(&proxy.base, &now_ok, "chalk@5.6.2");
    assert!(out.ok, "{}", out.text);
    assert_eq!(installed_version(&now_ok, "chalk"), "5.6.2");
}

#[test]
fn npm_release_without_the_provenance_its_predecessor_carried_is_a_provenance_regression() {
    if !have("npm", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = shared().join("npm-attestations");
    let real = a.join("gundam-visor-cli-v1-tag.tgz");
    let up = Upstream::start();
    up.publish(
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
                tarball: bumped(&real, "1.0.2", dir.path()),
                time: "2024-07-01T00:00:00.000Z",
                publisher: "ramonpetgrave64",
                attestations: None,
            },
        ],
    );
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\n\n[[scope]]\nname = \"gundam\"\npackages = [\"npm:gundam-visor\"]\nmode = \"warn\"\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = [
        "--npm-upstream".to_string(),
        up.base(),
        "--policy".into(),
        policy.display().to_string(),
    ];
    let proxy = start_proxy_with_env(&data, &args, &[("WARD_TEST_NOW", "2024-08-01T00:00:00Z")]);

    // The attested release installs; its verified provenance goes into the ledger.
    let out = npm(&proxy.base, &dir.path().join("first"), "gundam-visor@1.0.1");
    assert!(out.ok, "{}", out.text);

    // The next release has none: refused, naming what it was compared with.
    let out = npm(&proxy.base, &dir.path().join("second"), "gundam-visor@1.0.2");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("provenance-regression"), "{}", out.text);
    let refused = get(&proxy.base, "/npm/gundam-visor/-/gundam-visor-1.0.2.tgz");
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
    let proxy = start_proxy_with_env(
        &dir.path().join("fresh"),
        &args,
        &[("WARD_TEST_NOW", "2024-08-01T00:00:00Z")],
    );
    let out = npm(&proxy.base, &dir.path().join("third"), "gundam-visor@1.0.2");
    assert!(!out.ok, "{}", out.text);
    let refused = get(&proxy.base, "/npm/gundam-visor/-/gundam-visor-1.0.2.tgz");
    assert!(refused.contains("provenance-regression"), "{refused}");
    assert!(!refused.contains("ledger entry"), "{refused}");
    assert!(
        refused.contains("(from https://github.com/ramonpetgrave64/gundam-visor .github/workflows/npm-publish.yml"),
        "{refused}"
    );
}

fn pip(base: &str, target: &Path, requirement: &str) -> crate::proxy::Output {
    client(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(["--index-url", &format!("{base}/pypi/simple/")])
            .arg("--target")
            .arg(target)
            .arg(requirement)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env_remove("PIP_FIND_LINKS")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL"),
    )
}

#[test]
fn pip_cooldown_leaves_young_files_off_the_page_and_refuses_their_download() {
    use sha2::Digest as _;
    if !have("python3", "--version") {
        return;
    }
    let reg = crate::proxy::Registries::new();
    let up = Upstream::start();
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
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = [
        "--pypi-upstream".to_string(),
        up.base(),
        "--policy".into(),
        policy.display().to_string(),
    ];
    let proxy = start_proxy_with_env(&data, &args, &[("WARD_TEST_NOW", "2026-03-04T09:59:59Z")]);
    let listed = get(&proxy.base, "/pypi/simple/demo-pkg/");
    assert!(listed.contains("demo_pkg-1.0.0-py3-none-any.whl"), "{listed}");
    assert!(!listed.contains("demo_pkg-1.1.0"), "{listed}");
    let site = dir.path().join("site");
    let out = pip(&proxy.base, &site, "demo-pkg");
    assert!(out.ok, "{}", out.text);
    assert!(site.join("demo_pkg-1.0.0.dist-info").is_dir(), "{}", out.text);
    let out = pip(&proxy.base, &dir.path().join("young"), "demo-pkg==1.1.0");
    assert!(!out.ok, "{}", out.text);
    let refused = get(&proxy.base, "/pypi/files/demo-pkg/demo_pkg-1.1.0-py3-none-any.whl");
    assert!(refused.contains("release-too-new"), "{refused}");
    assert!(
        refused.contains("lets it in at 2026-03-04T10:00:00Z (UTC)"),
        "{refused}"
    );
    drop(proxy);

    let proxy = start_proxy_with_env(&data, &args, &[("WARD_TEST_NOW", "2026-03-04T10:00:00Z")]);
    let site = dir.path().join("eligible");
    let out = pip(&proxy.base, &site, "demo-pkg==1.1.0");
    assert!(out.ok, "{}", out.text);
    assert!(site.join("demo_pkg-1.1.0.dist-info").is_dir());
}

#[test]
fn policy_explain_shows_the_cooldown_and_history_rules_and_bad_durations_fail_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "[defaults]\ncooldown = { min_age = \"3d\", exempt = [\"npm:@acme/*\"] }\n\n[[scope]]\npackages = [\"npm:left-pad\"]\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n",
    )
    .unwrap();
    let ctx = crate::common::TestContext::new();
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
    let dir = tempfile::tempdir().unwrap();
    let n = shared().join("npm-neighbours");
    let up = Upstream::start();
    let version = |v: &'static str, time: &'static str, file: &str| Version {
        version: v,
        tarball: std::fs::read(n.join(file)).unwrap(),
        time,
        publisher: "qix",
        attestations: None,
    };
    up.publish(
        "debug",
        &[version("4.4.1", "2025-01-01T00:00:00.000Z", "debug-4.4.1.tgz")],
    );
    // The same version twice in `time` (serde_json alone would keep the last silently).
    let doc = String::from_utf8(up.answers.lock().unwrap()["/debug"].clone()).unwrap();
    let doubled = doc.replacen("\"time\":{", "\"time\":{\"4.4.1\":\"2026-03-04T00:00:00.000Z\",", 1);
    assert_ne!(doc, doubled);
    up.put("/debug", doubled.into_bytes());
    up.publish("ms", &[version("2.1.3", "2031-01-01T00:00:00.000Z", "ms-2.1.3.tgz")]);
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"1d\" }\n",
    )
    .unwrap();
    let args = [
        "--npm-upstream".to_string(),
        up.base(),
        "--policy".into(),
        policy.display().to_string(),
    ];
    let proxy = start_proxy_with_env(
        &dir.path().join("data"),
        &args,
        &[("WARD_TEST_NOW", "2026-06-01T00:00:00Z")],
    );
    let refused = get(&proxy.base, "/npm/debug/-/debug-4.4.1.tgz");
    assert!(refused.contains("release-metadata-invalid"), "{refused}");
    assert!(refused.contains("time[\\\"4.4.1\\\"] is listed twice"), "{refused}");
    let refused = get(&proxy.base, "/npm/ms/-/ms-2.1.3.tgz");
    assert!(refused.contains("release-metadata-invalid"), "{refused}");
    assert!(refused.contains("in the future"), "{refused}");
}
