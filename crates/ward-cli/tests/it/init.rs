//! `ward init`: the starter policy it writes (a snapshot), that the real
//! loader accepts it, what it learns from the proxy cache (and says it could
//! not learn without one), and that it never overwrites a file unasked.
//!
//! The proxy cache is built the way the proxy lays it out (`meta/<hash>` and
//! `meta/<hash>.info` with the URL it came from); the packuments and the
//! PyPI page in it are made for this test, shaped as the registries serve
//! them (npm `dist.attestations`, PEP 740 `provenance` links).

use crate::common::{TEST_NOW, TestContext};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Writes one cached metadata document as the proxy keeps it.
fn cached(cache: &Path, key: &str, url: &str, doc: &serde_json::Value) {
    let meta = cache.join("meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(meta.join(key), serde_json::to_vec(doc).unwrap()).unwrap();
    std::fs::write(
        meta.join(format!("{key}.info")),
        serde_json::to_vec(&json!({"url": url, "checked": 0, "validators": {}})).unwrap(),
    )
    .unwrap();
}

fn npm_world(ctx: &TestContext) -> (PathBuf, PathBuf) {
    let lock = ctx.path("package-lock.json");
    std::fs::write(
        &lock,
        serde_json::to_vec_pretty(&json!({
            "name": "app", "version": "1.0.0", "lockfileVersion": 3,
            "packages": {
                "": {"name": "app", "version": "1.0.0"},
                "node_modules/gundam-visor": {"version": "1.0.1", "resolved": "https://registry.npmjs.org/gundam-visor/-/gundam-visor-1.0.1.tgz"},
                "node_modules/ms": {"version": "2.1.3", "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"},
                "node_modules/@scope/odd": {"version": "0.1.0", "resolved": "https://registry.npmjs.org/@scope/odd/-/odd-0.1.0.tgz"},
                "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"}
            }
        }))
        .unwrap(),
    )
    .unwrap();
    let cache = ctx.path("proxy-cache");
    cached(
        &cache,
        "a1",
        "https://registry.npmjs.org/gundam-visor",
        &json!({"name": "gundam-visor", "repository": {"type": "git", "url": "git+https://github.com/ramonpetgrave64/gundam-visor.git"},
            "versions": {"1.0.1": {"name": "gundam-visor", "version": "1.0.1",
                "dist": {"tarball": "https://registry.npmjs.org/gundam-visor/-/gundam-visor-1.0.1.tgz",
                    "attestations": {"url": "https://registry.npmjs.org/-/npm/v1/attestations/gundam-visor@1.0.1", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}}}}}),
    );
    cached(
        &cache,
        "a2",
        "https://registry.npmjs.org/ms",
        &json!({"name": "ms", "repository": {"url": "git+https://github.com/vercel/ms.git"},
            "versions": {"2.1.3": {"name": "ms", "version": "2.1.3", "dist": {"tarball": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"}}}}),
    );
    cached(
        &cache,
        "a3",
        "https://registry.npmjs.org/@scope%2fodd",
        &json!({"name": "@scope/odd", "repository": "https://gitlab.com/scope/odd",
            "versions": {"0.1.0": {"dist": {"attestations": {"url": "x", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}}}}}),
    );
    (lock, cache)
}

#[test]
fn init_from_a_lockfile_writes_a_policy_the_loader_accepts() {
    let ctx = TestContext::new().at(TEST_NOW);
    let (lock, cache) = npm_world(&ctx);
    let out = ctx.path("ward.toml");
    let run = ctx.ward([
        "init",
        "--from",
        lock.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    run.expect(0);
    assert!(run.stdout.contains("1 with a provenance scope"), "{}", run.stdout);
    let text = std::fs::read_to_string(&out).unwrap();
    // The package that publishes provenance gets a scope requiring it from its repository.
    assert!(text.contains("packages = [\"npm:gundam-visor\"]"), "{text}");
    assert!(
        text.contains("source_uri = \"github.com/ramonpetgrave64/gundam-visor\""),
        "{text}"
    );
    // One without provenance gets none; one from elsewhere is named; one the cache lacks is listed.
    assert!(!text.contains("npm:ms\""), "{text}");
    assert!(
        text.contains("@scope/odd 0.1.0 publishes provenance, but its packument names no github.com repository"),
        "{text}"
    );
    assert!(text.contains("pkg:npm/left-pad@1.3.0: the proxy cache at"), "{text}");
    // The real loader accepts what init wrote.
    ctx.ward(["policy", "check", out.to_str().unwrap()]).expect(0);
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (pattern, replacement) in ctx.filters() {
        settings.add_filter(&pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!("init-npm-from-lockfile", text));
}

#[test]
fn the_generated_policy_holds_back_the_pinned_versions_it_decides_on() {
    // The generated provenance scope is live: gundam-visor 1.0.1 verifies
    // through it with its real provenance, and another package's provenance
    // (another repository) would not.
    let ctx = TestContext::new();
    let (lock, cache) = npm_world(&ctx);
    let out = ctx.path("ward.toml");
    ctx.ward([
        "init",
        "--from",
        lock.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ])
    .expect(0);
    let dir = crate::common::shared().join("npm-attestations");
    let tgz = dir.join("gundam-visor-cli-v1-tag.tgz");
    let att = dir.join("gundam-visor-cli-v1-tag.tgz.json");
    let run = ctx.ward([
        "verify",
        tgz.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--policy",
        out.to_str().unwrap(),
    ]);
    // Not through the proxy, so the cooldown has no publish time: that (and
    // only rules of that kind) is what stands between it and an allow.
    let denied: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("deny:"))
        .collect();
    assert!(
        denied.iter().all(|l| l.contains("[release-age-unknown]")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("provenance-source-mismatch"), "{}", run.stdout);
}

#[test]
fn without_a_cache_init_says_what_it_could_not_learn_and_fetches_nothing() {
    let ctx = TestContext::new();
    let (lock, _) = npm_world(&ctx);
    let out = ctx.path("ward.toml");
    let run = ctx.ward([
        "init",
        "--from",
        lock.to_str().unwrap(),
        "--cache",
        ctx.path("no-such-cache").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    run.expect(0);
    assert!(run.stdout.contains("4 not learned"), "{}", run.stdout);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("ward init never fetches"), "{text}");
    assert!(text.contains("#   pkg:npm/gundam-visor@1.0.1"), "{text}");
    assert!(!text.contains("[[scope]]\nname = \"gundam-visor"), "{text}");
    ctx.ward(["policy", "check", out.to_str().unwrap()]).expect(0);
}

#[test]
fn init_never_overwrites_without_force() {
    let ctx = TestContext::new();
    let out = ctx.path("ward.toml");
    std::fs::write(&out, "# mine\n").unwrap();
    let run = ctx.ward(["init", "--ecosystem", "pypi", "--output", out.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
    ctx.ward([
        "init",
        "--ecosystem",
        "pypi",
        "--output",
        out.to_str().unwrap(),
        "--force",
    ])
    .expect(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("packages = [\"pypi:*\"]"), "{text}");
    assert!(text.contains("deny_pth_files = true"), "{text}");
    ctx.ward(["policy", "check", out.to_str().unwrap()]).expect(0);
}

#[test]
fn pypi_packages_with_pep_740_provenance_get_a_scope_from_their_publisher() {
    let ctx = TestContext::new();
    let req = ctx.path("requirements.txt");
    std::fs::write(&req, "requests==2.32.3\nsix==1.16.0\n").unwrap();
    let cache = ctx.path("proxy-cache");
    let provenance = "https://pypi.org/integrity/requests/2.32.3/requests-2.32.3-py3-none-any.whl/provenance";
    cached(
        &cache,
        "p1",
        "https://pypi.org/simple/requests/",
        &json!({"meta": {"api-version": "1.1"}, "name": "requests", "files": [
            {"filename": "requests-2.32.3-py3-none-any.whl", "url": "https://files.pythonhosted.org/r.whl", "hashes": {"sha256": "00"}, "provenance": provenance},
            {"filename": "requests-2.32.3.tar.gz", "url": "https://files.pythonhosted.org/r.tar.gz", "hashes": {"sha256": "01"}}
        ]}),
    );
    cached(
        &cache,
        "p2",
        provenance,
        &json!({"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub", "repository": "psf/requests", "workflow": "publish.yml"}, "attestations": []}]}),
    );
    cached(
        &cache,
        "p3",
        "https://pypi.org/simple/six/",
        &json!({"meta": {"api-version": "1.1"}, "name": "six", "files": [
            {"filename": "six-1.16.0-py2.py3-none-any.whl", "url": "https://files.pythonhosted.org/s.whl", "hashes": {"sha256": "02"}}
        ]}),
    );
    let out = ctx.path("ward.toml");
    ctx.ward([
        "init",
        "--from",
        req.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ])
    .expect(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("packages = [\"pypi:requests\"]"), "{text}");
    assert!(
        text.contains("identity_regex = 'https://github\\.com/psf/requests/.+'"),
        "{text}"
    );
    assert!(
        text.contains("required_predicate_types = [\"https://docs.pypi.org/attestations/publish/v1\"]"),
        "{text}"
    );
    assert!(!text.contains("pypi:six\""), "{text}");
    assert!(
        text.contains("1 package(s) publish provenance, 1 publish none, 0 could not be learned"),
        "{text}"
    );
    assert!(text.contains("deny_pth_files = true"), "{text}");
    ctx.ward(["policy", "check", out.to_str().unwrap()]).expect(0);
}
