//! The crates.io paths of the proxy over a sparse index directory, under a
//! policy with a cooldown (so every request reads the index's release
//! metadata as well as its `cksum`s): the index file served with refused
//! versions marked yanked and versions under the cooldown left out, every
//! other line byte for byte (a line that is not JSON too), and downloads
//! allowed, refused for their digest, or held back by the cooldown.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::sync::Arc;
use ward_registry::{
    Cache, FetchLimits, Fetcher, Keeper, MemoryLimits, Proxy, ProxyOptions, ServerLimits, Upstream, Upstreams,
};

const NAME: &str = "demo-crate";

/// A signed `.crate` of `NAME` at `version` under `root/crates/NAME/`; returns its sha256.
fn crate_file(root: &Path, key: &ward_sign::SigningKey, version: &str) -> String {
    use sha2::Digest as _;
    let dir = root.join("crates").join(NAME);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{NAME}-{version}.crate"));
    let file = std::fs::File::create(&path).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    let manifest = format!(
        "[package]\nname = \"{NAME}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n[lib]\npath = \"src/lib.rs\"\n"
    );
    for (name, data) in [
        (format!("{NAME}-{version}/Cargo.toml"), manifest.as_bytes()),
        (
            format!("{NAME}-{version}/src/lib.rs"),
            &b"pub const VALUE: u32 = 1;\n"[..],
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
    let bundle = ward_sign::sign_artifact(key, &path).unwrap();
    std::fs::write(format!("{}.sigstore.json", path.display()), bundle.to_string()).unwrap();
    hex::encode(sha2::Sha256::digest(std::fs::read(&path).unwrap()))
}

#[test]
fn the_index_is_served_marked_and_held_back_and_downloads_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cargo");
    let generated = ward_sign::keygen(ward_sign::Algorithm::EcdsaP256, None).unwrap();
    let key = ward_sign::SigningKey::from_pem(&generated.private_pem, None).unwrap();
    std::fs::write(dir.path().join("release.pub"), &generated.public_pem).unwrap();
    let old = "2020-01-01T00:00:00Z";
    let recent = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string();
    // 0.9.0's index cksum is not its file's: refused, then marked yanked.
    crate_file(&root, &key, "0.9.0");
    let refused = format!(
        r#"{{"name":"{NAME}","vers":"0.9.0","deps":[],"cksum":"{}","features":{{}},"yanked":false,"pubtime":"{old}"}}"#,
        "0".repeat(64)
    );
    let allowed = format!(
        r#"{{"name":"{NAME}","vers":"1.0.0","deps":[],"cksum":"{}","features":{{}},"yanked":false,"pubtime":"{old}"}}"#,
        crate_file(&root, &key, "1.0.0")
    );
    // Spacing and key order of its own: passed as written, not re-serialised.
    let spaced = format!(
        r#"{{ "vers": "1.0.1",  "name": "{NAME}", "cksum": "{}", "deps": [], "features": {{}}, "pubtime": "{old}" }}"#,
        crate_file(&root, &key, "1.0.1")
    );
    let held = format!(
        r#"{{"name":"{NAME}","vers":"1.1.0","deps":[],"cksum":"{}","features":{{}},"yanked":false,"pubtime":"{recent}"}}"#,
        crate_file(&root, &key, "1.1.0")
    );
    let index_dir = root.join(&NAME[..2]).join(&NAME[2..4]);
    std::fs::create_dir_all(&index_dir).unwrap();
    std::fs::write(
        index_dir.join(NAME),
        format!("{refused}\n{allowed}\nnot json\n{spaced}\n{held}\n"),
    )
    .unwrap();
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[scope]]\npackages = [\"cargo:*\"]\nkeys = [\"release.pub\"]\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ledger = ward_ledger::EmbeddedLedger::open(&dir.path().join("ledger"), "test.ward.invalid/log").unwrap();
    let gate = ward_gate::Gate::new(ward_verify::TrustRoot::production().unwrap())
        .with_policy(ward_policy::Policy::load(&policy).unwrap())
        .with_ledger(Box::new(ledger));
    let cache = Cache::open(&dir.path().join("cache")).unwrap();
    let keeper = Keeper::new(gate, cache, Fetcher::new(FetchLimits::default(), Vec::new()), None).unwrap();
    let proxy = Proxy::with_options(
        keeper,
        Upstreams {
            cargo: Some(Upstream::Dir(root)),
            ..Upstreams::default()
        },
        &MemoryLimits::default(),
        ServerLimits::default(),
        ProxyOptions::default(),
    );
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let p = Arc::clone(&proxy);
    rt.spawn(async move { p.serve(listener, std::future::pending()).await });

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let get = |path: &str| {
        let response = agent.get(&format!("{base}{path}")).call().unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_string().unwrap_or_default())
    };
    let index = format!("/cargo/index/{}/{}/{NAME}", &NAME[..2], &NAME[2..4]);
    let download = |version: &str| get(&format!("/cargo/api/v1/crates/{NAME}/{version}/download"));

    // Before any download: only the version under the cooldown is left out.
    let (status, body) = get(&index);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, format!("{refused}\n{allowed}\nnot json\n{spaced}\n"));

    let (status, body) = download("1.0.0");
    assert_eq!(status, 200, "{body}");
    let (status, body) = download("1.0.1");
    assert_eq!(status, 200, "{body}");
    let (status, body) = download("1.1.0");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("release-too-new"), "{body}");
    let (status, body) = download("0.9.0");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("index-digest-mismatch"), "{body}");
    let (status, body) = download("2.0.0");
    assert_eq!(status, 404, "{body}");

    // After: the refused version is marked yanked, every other line as before.
    let (status, body) = get(&index);
    assert_eq!(status, 200, "{body}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4, "{body}");
    let marked: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let mut expected: serde_json::Value = serde_json::from_str(&refused).unwrap();
    expected["yanked"] = serde_json::Value::Bool(true);
    assert_eq!(marked, expected);
    assert_eq!(&lines[1..], [allowed.as_str(), "not json", spaced.as_str()]);
}
