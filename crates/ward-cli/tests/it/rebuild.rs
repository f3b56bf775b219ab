//! Reproducible builds: OSS Rebuild's real attestation for chalk 5.6.0 as
//! evidence, the policy's `[[rebuilder]]` and `rebuild` rules, and
//! `ward rebuild compare` with its signed statements.

use crate::common::{Entry, Publisher, SLSA_V1, TestContext, json_of, shared, slsa_v1, tgz};
use base64::Engine as _;
use serde_json::json;
use std::path::{Path, PathBuf};

fn oss() -> PathBuf {
    shared().join("oss-rebuild")
}

/// A copy of the real chalk tarball and its attestation in `dir`, so the
/// sidecar is found beside it; returns the tarball.
fn chalk_in(dir: &Path) -> PathBuf {
    for f in [
        "chalk-5.6.0.tgz",
        "chalk-5.6.0.tgz.rebuild.intoto.jsonl",
        "oss-rebuild.pub",
    ] {
        std::fs::copy(oss().join(f), dir.join(f)).unwrap();
    }
    dir.join("chalk-5.6.0.tgz")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A policy trusting OSS Rebuild's key and, optionally, a second rebuilder.
fn policy(ctx: &TestContext, rule: &str, extra_rebuilder: Option<&Path>) -> PathBuf {
    std::fs::copy(oss().join("oss-rebuild.pub"), ctx.path("oss-rebuild.pub")).unwrap();
    let mut text = String::from("version = 1\n\n[[rebuilder]]\nname = \"oss-rebuild\"\nkeys = [\"oss-rebuild.pub\"]\n");
    if let Some(key) = extra_rebuilder {
        std::fs::copy(key, ctx.path("team-rebuilder.pub")).unwrap();
        text.push_str("\n[[rebuilder]]\nname = \"team\"\nkeys = [\"team-rebuilder.pub\"]\n");
    }
    text.push_str(&format!(
        "\n[[scope]]\nname = \"npm\"\npackages = [\"npm:*\"]\nrebuild = {rule}\n"
    ));
    let path = ctx.path("ward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Done-when: chalk 5.6.0 verifies with its real OSS Rebuild evidence under
/// a policy that requires one rebuilder, with the facts it states.
#[test]
fn chalk_verifies_with_its_real_oss_rebuild_evidence() {
    let ctx = TestContext::new();
    let artifact = chalk_in(ctx.dir());
    let policy = policy(&ctx, "{ required = 1, rebuilders = [\"oss-rebuild\"] }", None);
    let run = ctx.ward(["verify", s(&artifact), "--policy", s(&policy), "--format", "json"]);
    run.expect(0);
    let doc = json_of(&run);
    let rebuild = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "rebuild")
        .unwrap();
    assert_eq!(rebuild["result"], "pass");
    let fact = rebuild["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "rebuild")
        .unwrap();
    assert_eq!(fact["outcome"], "reproduced");
    assert_eq!(fact["source_repository"], "https://github.com/chalk/chalk");
    assert_eq!(fact["source_commit"], "5c91505e184aff4609c0a7fb235770c2f71db4a3");
    assert_eq!(fact["rebuilder"], "https://docs.oss-rebuild.dev/hosts/Google");
    // The same, given explicitly with --rebuild and --key, in text.
    let run = ctx.ward([
        "verify",
        s(&artifact),
        "--rebuild",
        s(&oss().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl")),
        "--key",
        s(&oss().join("oss-rebuild.pub")),
    ]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("rebuild reproduced by https://docs.oss-rebuild.dev/hosts/Google")
            && run
                .stdout
                .contains("https://github.com/chalk/chalk@5c91505e184aff4609c0a7fb235770c2f71db4a3"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_changed_byte_is_refused() {
    let ctx = TestContext::new();
    let artifact = chalk_in(ctx.dir());
    let mut bytes = std::fs::read(&artifact).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x01;
    std::fs::write(&artifact, bytes).unwrap();
    let policy = policy(&ctx, "{ required = 1 }", None);
    ctx.ward(["verify", s(&artifact), "--policy", s(&policy)])
        .expect(1)
        .reason("rebuild-subject-mismatch");
}

#[test]
fn the_wrong_key_is_refused() {
    let ctx = TestContext::new();
    let artifact = chalk_in(ctx.dir());
    let other = Publisher::new("ecdsa-p256");
    ctx.ward(["verify", s(&artifact), "--key", s(&other.public)])
        .expect(1)
        .reason("signature-invalid");
    // No key at all: the rebuilder's key is needed.
    ctx.ward(["verify", s(&artifact)]).expect(1).reason("key-not-trusted");
}

/// The statements of another artifact (chalk 5.6.0's, for 5.6.2) vouch
/// for nothing here, even in a policy's `audit` mode.
#[test]
fn the_statements_of_another_artifact_are_refused() {
    let ctx = TestContext::new();
    let other = ctx.path("chalk-5.6.2.tgz");
    std::fs::copy(shared().join("npm-neighbours/chalk-5.6.2.tgz"), &other).unwrap();
    let policy = policy(&ctx, "{ required = 1 }", None);
    let text = std::fs::read_to_string(&policy)
        .unwrap()
        .replace("name = \"npm\"", "name = \"npm\"\nmode = \"audit\"");
    std::fs::write(&policy, text).unwrap();
    ctx.ward([
        "verify",
        s(&other),
        "--rebuild",
        s(&oss().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl")),
        "--policy",
        s(&policy),
    ])
    .expect(1)
    .reason("rebuild-subject-mismatch");
}

#[test]
fn missing_evidence_is_unknown_unless_required() {
    let ctx = TestContext::new();
    let artifact = ctx.path("chalk-5.6.0.tgz");
    std::fs::copy(oss().join("chalk-5.6.0.tgz"), &artifact).unwrap();
    // Required: rebuild-missing.
    let policy_path = policy(&ctx, "{ required = 1 }", None);
    ctx.ward(["verify", s(&artifact), "--policy", s(&policy_path)])
        .expect(1)
        .reason("rebuild-missing");
    // Not required: no rebuild reason at all (the scope still wants a signature).
    let policy_path = policy(&ctx, "{ on_divergence = \"deny\" }", None);
    let run = ctx.ward(["verify", s(&artifact), "--policy", s(&policy_path)]);
    assert!(!run.all().contains("rebuild-"), "{}", run.all());
}

/// K distinct rebuilders must agree: OSS Rebuild alone is one of two.
#[test]
fn two_rebuilders_required_and_one_presented_is_missing() {
    let ctx = TestContext::new();
    let artifact = chalk_in(ctx.dir());
    let team = Publisher::new("ecdsa-p256");
    let policy = policy(
        &ctx,
        "{ required = 2, rebuilders = [\"oss-rebuild\", \"team\"] }",
        Some(&team.public),
    );
    let run = ctx.ward(["verify", s(&artifact), "--policy", s(&policy)]);
    run.expect(1).reason("rebuild-missing");
    assert!(run.all().contains("1 of the 2 trusted rebuilder(s)"), "{}", run.all());
    // The team rebuilds too (here: the published tarball itself) and signs equivalence.
    let rebuilt_dir = ctx.path("rebuilt");
    std::fs::create_dir_all(&rebuilt_dir).unwrap();
    let rebuilt = rebuilt_dir.join("chalk-5.6.0.tgz");
    std::fs::copy(&artifact, &rebuilt).unwrap();
    let team_statement = ctx.path("team.rebuild.intoto.jsonl");
    team.ctx
        .ward([
            "rebuild",
            "compare",
            s(&artifact),
            s(&rebuilt),
            "--attest",
            "--key",
            s(&team.key),
            "--output",
            s(&team_statement),
        ])
        .expect(0);
    ctx.ward([
        "verify",
        s(&artifact),
        "--rebuild",
        s(&oss().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl")),
        "--rebuild",
        s(&team_statement),
        "--policy",
        s(&policy),
    ])
    .expect(0);
    // A policy cannot require more rebuilders than it lists.
    let bad = policy_text_with(&ctx, "{ required = 3, rebuilders = [\"oss-rebuild\"] }");
    ctx.ward(["policy", "check", s(&bad)]).expect(2);
}

fn policy_text_with(ctx: &TestContext, rule: &str) -> PathBuf {
    policy(ctx, rule, None)
}

/// A demo package and a rebuild of it that differs in one file.
fn divergent(dir: &Path) -> (PathBuf, PathBuf) {
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let pkg: &[u8] = br#"{"name":"demo","version":"1.0.0"}"#;
    let (pa, pb) = (a.join("demo-1.0.0.tgz"), b.join("demo-1.0.0.tgz"));
    tgz(
        &pa,
        &[
            Entry::File("package/package.json", pkg),
            Entry::File("package/index.js", b"module.exports = 1;\n"),
        ],
    );
    tgz(
        &pb,
        &[
            Entry::File("package/index.js", b"module.exports = require('child_process');\n"),
            Entry::File("package/package.json", pkg),
        ],
    );
    (pa, pb)
}

#[test]
fn compare_explains_a_divergence_file_by_file_and_signs_it() {
    let team = Publisher::new("ecdsa-p256");
    let (original, rebuilt) = divergent(team.dir.path());
    let run = team.ctx.ward(["rebuild", "compare", s(&original), s(&rebuilt)]);
    run.expect(1);
    assert!(
        run.stdout.starts_with("divergent: pkg:npm/demo@1.0.0: 1 difference(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("changed: package/index.js: original 20 bytes, sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+module.exports = require('child_process');"),
        "{}",
        run.stdout
    );
    let doc = json_of(
        &team
            .ctx
            .ward(["rebuild", "compare", s(&original), s(&rebuilt), "--format", "json"]),
    );
    assert_eq!(doc["equivalent"], false);
    assert_eq!(doc["differences"][0]["difference"], "changed");
    assert_eq!(doc["differences"][0]["original"]["size"], 20);
    // Signed, the divergence denies under a policy trusting the team.
    team.ctx
        .ward([
            "rebuild",
            "compare",
            s(&original),
            s(&rebuilt),
            "--attest",
            "--key",
            s(&team.key),
        ])
        .expect(1);
    let sidecar = PathBuf::from(format!("{}.rebuild.intoto.jsonl", original.display()));
    assert!(sidecar.is_file());
    let ctx = TestContext::new();
    let policy = policy(&ctx, "{ rebuilders = [\"team\"] }", Some(&team.public));
    let run = ctx.ward(["verify", s(&original), "--policy", s(&policy)]);
    run.expect(1).reason("rebuild-diverged");
    assert!(run.stdout.contains("rebuild DIVERGED"), "{}", run.stdout);
    // on_divergence = "warn": reported, not denied by that rule.
    let policy = policy_with_team(
        &ctx,
        "{ rebuilders = [\"team\"], on_divergence = \"warn\" }",
        &team.public,
    );
    let run = ctx.ward(["verify", s(&original), "--policy", s(&policy), "--format", "json"]);
    let doc = json_of(&run);
    let warnings = doc["decision"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["code"] == "rebuild-diverged"),
        "{}",
        run.all()
    );
    // Without any policy, a divergence signed by a key given on the command line denies.
    ctx.ward(["verify", s(&original), "--key", s(&team.public)])
        .expect(1)
        .reason("rebuild-diverged");
}

fn policy_with_team(ctx: &TestContext, rule: &str, team: &Path) -> PathBuf {
    policy(ctx, rule, Some(team))
}

#[test]
fn compare_signs_equivalence_that_verify_accepts() {
    let team = Publisher::new("ed25519");
    let (original, _) = divergent(team.dir.path());
    let again = team.path("again");
    std::fs::create_dir_all(&again).unwrap();
    let rebuilt = again.join("demo-1.0.0.tgz");
    // Same files, other order and compression.
    let file = std::fs::File::create(&rebuilt).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    for (name, data) in [
        ("package/index.js", &b"module.exports = 1;\n"[..]),
        ("package/package.json", br#"{"name":"demo","version":"1.0.0"}"#),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
    let run = team.ctx.ward([
        "rebuild",
        "compare",
        s(&original),
        s(&rebuilt),
        "--attest",
        "--key",
        s(&team.key),
    ]);
    run.expect(0);
    assert!(
        run.stdout.starts_with("equivalent: pkg:npm/demo@1.0.0"),
        "{}",
        run.stdout
    );
    let ctx = TestContext::new();
    let policy = policy(&ctx, "{ required = 1, rebuilders = [\"team\"] }", Some(&team.public));
    ctx.ward(["verify", s(&original), "--policy", s(&policy)]).expect(0);
}

/// Archives crafted so that a careless normaliser would call them equal.
#[test]
fn compare_never_calls_hostile_archives_equal() {
    let ctx = TestContext::new();
    let (original, _) = divergent(ctx.dir());
    let hostile = ctx.path("hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    let trailing = hostile.join("demo-1.0.0.tgz");
    let mut bytes = std::fs::read(&original).unwrap();
    let extra = ctx.path("extra.tgz");
    tgz(&extra, &[Entry::File("package/evil.js", b"steal()")]);
    bytes.extend(std::fs::read(&extra).unwrap());
    std::fs::write(&trailing, bytes).unwrap();
    let run = ctx.ward(["rebuild", "compare", s(&original), s(&trailing)]);
    run.expect(1);
    assert!(
        run.stdout.contains("refused: the rebuilt") && run.stdout.contains("[archive-ambiguous]"),
        "{}",
        run.stdout
    );
    let run = ctx.ward(["rebuild", "compare", s(&trailing), s(&trailing)]);
    run.expect(1);
    // Two entries that one file system folds into one.
    let shadow = ctx.path("shadow");
    std::fs::create_dir_all(&shadow).unwrap();
    let shadowed = shadow.join("demo-1.0.0.tgz");
    tgz(
        &shadowed,
        &[
            Entry::File("package/package.json", br#"{"name":"demo","version":"1.0.0"}"#),
            Entry::File("package/index.js", b"module.exports = 1;\n"),
            Entry::File("package/Index.js", b"evil"),
        ],
    );
    ctx.ward(["rebuild", "compare", s(&original), s(&shadowed)]).expect(1);
    // A file that cannot be read at all is an error, not a verdict.
    ctx.ward(["rebuild", "compare", s(&original), "/nonexistent/x.tgz"])
        .expect(2);
}

/// A rebuild from another commit than the package's own provenance names.
#[test]
fn a_rebuild_from_another_commit_than_the_provenance_is_a_source_mismatch() {
    let publisher = Publisher::new("ecdsa-p256");
    let artifact = chalk_in(publisher.dir.path());
    let provenance = publisher.attest(
        &artifact,
        SLSA_V1,
        &slsa_v1(
            "https://github.com/chalk/chalk",
            "refs/tags/v5.6.0",
            "https://github.com/actions/runner/github-hosted",
            "github-hosted",
        ),
        "chalk.provenance.json",
    );
    publisher
        .ctx
        .ward([
            "verify",
            s(&artifact),
            "--attestation",
            s(&provenance),
            "--key",
            s(&publisher.public),
            "--key",
            s(&oss().join("oss-rebuild.pub")),
        ])
        .expect(1)
        .reason("rebuild-source-mismatch");
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn envelope(key: &ward_sign::SigningKey, statement: &serde_json::Value) -> String {
    let payload = serde_json::to_vec(statement).unwrap();
    let t = "application/vnd.in-toto+json";
    let sig = key.sign(&ward_verify::dsse::pae(t, &payload)).unwrap();
    serde_json::to_string(
        &json!({"payloadType": t, "payload": b64(&payload), "signatures": [{"keyid": "", "sig": b64(&sig)}]}),
    )
    .unwrap()
}

/// A Rebuild statement whose subject is not the equivalence's candidate:
/// both signed by the trusted key, but not one rebuild.
#[test]
fn a_rebuild_statement_about_another_candidate_is_refused() {
    let team = Publisher::new("ecdsa-p256");
    let (original, rebuilt) = divergent(team.dir.path());
    let equal = team.path("equal.tgz");
    std::fs::copy(&original, &equal).unwrap();
    team.ctx
        .ward([
            "rebuild",
            "compare",
            s(&original),
            s(&original),
            "--attest",
            "--key",
            s(&team.key),
            "-o",
            s(&team.path("eq.jsonl")),
        ])
        .expect(0);
    let key = ward_sign::SigningKey::from_file(&team.key, None).unwrap();
    let other = ward_identify::hash::digest_reader(std::fs::File::open(&rebuilt).unwrap())
        .unwrap()
        .0;
    let rebuild = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "rebuild/demo-1.0.0.tgz", "digest": {"sha256": other.sha256.to_hex()}}],
        "predicateType": SLSA_V1,
        "predicate": {"buildDefinition": {"buildType": "https://docs.oss-rebuild.dev/builds/Rebuild@v0.1",
            "externalParameters": {"ecosystem": "npm", "package": "demo", "version": "1.0.0"},
            "resolvedDependencies": [{"name": "git+https://example.invalid/demo", "digest": {"sha1": "00"}}]},
            "runDetails": {"builder": {"id": "https://example.invalid/test-rebuilder"}}}
    });
    let mut text = std::fs::read_to_string(team.path("eq.jsonl")).unwrap();
    text.push_str(&envelope(&key, &rebuild));
    text.push('\n');
    let file = team.path("mixed.jsonl");
    std::fs::write(&file, text).unwrap();
    team.ctx
        .ward(["verify", s(&original), "--rebuild", s(&file), "--key", s(&team.public)])
        .expect(1)
        .reason("rebuild-candidate-mismatch");
    // Garbage is malformed.
    let junk = team.path("junk.jsonl");
    std::fs::write(&junk, "{\"not\": \"an envelope\"}\n").unwrap();
    team.ctx
        .ward(["verify", s(&original), "--rebuild", s(&junk), "--key", s(&team.public)])
        .expect(1)
        .reason("rebuild-malformed");
}

/// History: chalk 5.6.0 reproduced (recorded in the ledger with OSS
/// Rebuild's evidence); 5.6.2, signed by its publisher but with no rebuild,
/// warns `rebuild-regressed` by default and denies when the policy says so.
#[test]
fn a_release_that_no_longer_reproduces_is_a_regression() {
    let ctx = TestContext::new();
    let publisher = Publisher::new("ecdsa-p256");
    let first = chalk_in(ctx.dir());
    let next_dir = ctx.path("next");
    std::fs::create_dir_all(&next_dir).unwrap();
    let next = next_dir.join("chalk-5.6.2.tgz");
    std::fs::copy(shared().join("npm-neighbours/chalk-5.6.2.tgz"), &next).unwrap();
    publisher
        .ctx
        .ward(["sign", "--key", s(&publisher.key), s(&next)])
        .expect(0);
    std::fs::copy(&publisher.public, ctx.path("publisher.pub")).unwrap();
    let write_policy = |regression: &str| {
        let path = policy(&ctx, &format!("{{ rebuilders = [\"oss-rebuild\"]{regression} }}"), None);
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "packages = [\"npm:*\"]",
            "packages = [\"npm:*\"]\nkeys = [\"publisher.pub\", \"oss-rebuild.pub\"]",
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let warn = write_policy("");
    ctx.ward(["verify", s(&first), "--policy", s(&warn)]).expect(0);
    let run = ctx.ward(["verify", s(&next), "--policy", s(&warn), "--format", "json"]);
    run.expect(0);
    let doc = json_of(&run);
    let warnings = doc["decision"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["code"] == "rebuild-regressed"
            && w["message"]
                .as_str()
                .unwrap()
                .contains("release 5.6.0 (ledger entry 0)")),
        "{}",
        run.all()
    );
    let deny = write_policy(", on_regression = \"deny\"");
    ctx.ward(["verify", s(&next), "--policy", s(&deny)])
        .expect(1)
        .reason("rebuild-regressed");
    // Off: not checked.
    let off = write_policy(", on_regression = \"off\"");
    let run = ctx.ward(["verify", s(&next), "--policy", s(&off)]);
    run.expect(0);
    assert!(!run.all().contains("rebuild-regressed"), "{}", run.all());
    // The release that reproduced is no regression of itself.
    let run = ctx.ward(["verify", s(&first), "--policy", s(&deny)]);
    run.expect(0);
}

/// The proxy fetches each artifact's rebuild attestation from a configured
/// rebuilder source (here a directory in OSS Rebuild's bucket layout): the
/// real chalk 5.6.0 is served under a policy requiring one rebuilder, and
/// refused (`rebuild-missing`) by a proxy without the source.
#[test]
fn the_proxy_fetches_rebuild_attestations_from_a_configured_source() {
    use sha2::Digest as _;
    let ctx = TestContext::new();
    let npm = ctx.path("npm");
    let pkg = npm.join("chalk");
    std::fs::create_dir_all(&pkg).unwrap();
    let bytes = std::fs::read(oss().join("chalk-5.6.0.tgz")).unwrap();
    std::fs::write(pkg.join("chalk-5.6.0.tgz"), &bytes).unwrap();
    let integrity = format!("sha512-{}", b64(&sha2::Sha512::digest(&bytes)));
    let packument = json!({
        "name": "chalk",
        "dist-tags": {"latest": "5.6.0"},
        "versions": {"5.6.0": {"name": "chalk", "version": "5.6.0",
            "dist": {"tarball": "http://upstream.invalid/chalk/-/chalk-5.6.0.tgz", "integrity": integrity}}},
    });
    std::fs::write(pkg.join("package.json"), serde_json::to_vec(&packument).unwrap()).unwrap();
    let store = ctx.path("rebuilds/npm/chalk/5.6.0/chalk-5.6.0.tgz");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(
        oss().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl"),
        store.join("rebuild.intoto.jsonl"),
    )
    .unwrap();
    let policy = policy(&ctx, "{ required = 1 }", None);
    let template = format!(
        "{}/{{ecosystem}}/{{name}}/{{version}}/{{file}}/rebuild.intoto.jsonl",
        ctx.path("rebuilds").display()
    );
    without_then_with_source(
        &ctx,
        ["--npm-upstream", &npm.display().to_string()],
        &policy,
        template,
        "/npm/chalk/-/chalk-5.6.0.tgz",
    );
}

/// PyPI downloads consult the rebuild sources as npm's do: the proxy names
/// the wheel's package (PEP 503 name, version from the file name) in the
/// source's template, so a rebuilderd link kept in a directory in OSS
/// Rebuild's layout lets `demo-pkg` through a policy requiring one
/// rebuilder, and a proxy without the source refuses it (`rebuild-missing`).
#[test]
fn the_proxy_fetches_rebuild_attestations_for_pypi_files() {
    let ctx = TestContext::new();
    let rebuilder = Publisher::new("ed25519");
    let pypi = ctx.path("pypi");
    std::fs::create_dir_all(&pypi).unwrap();
    let file = "Demo_Pkg-1.0-py3-none-any.whl";
    let wheel = pypi.join(file);
    crate::common::zip(
        &wheel,
        &[
            ("demo_pkg/__init__.py", b"VALUE = 1\n"),
            (
                "demo_pkg-1.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\nLicense-Expression: MIT\n\n",
            ),
            (
                "demo_pkg-1.0.dist-info/WHEEL",
                b"Wheel-Version: 1.0\nGenerator: ward-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
            (
                "demo_pkg-1.0.dist-info/RECORD",
                b"demo_pkg/__init__.py,,\ndemo_pkg-1.0.dist-info/METADATA,,\ndemo_pkg-1.0.dist-info/WHEEL,,\ndemo_pkg-1.0.dist-info/RECORD,,\n",
            ),
        ],
    );
    // Kept under the normalised name, away from the wheel (not a sidecar).
    let store = ctx.path(&format!("rebuilds/pypi/demo-pkg/1.0/{file}"));
    std::fs::create_dir_all(&store).unwrap();
    rebuilderd_link(&rebuilder.key, &wheel, &store.join("rebuild.intoto.jsonl"));
    std::fs::copy(&rebuilder.public, ctx.path("rebuilder.pub")).unwrap();
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[[rebuilder]]\nname = \"rebuilder\"\nkeys = [\"rebuilder.pub\"]\n\n[[scope]]\nname = \"pypi\"\npackages = [\"pypi:*\"]\nrebuild = { required = 1 }\n",
    )
    .unwrap();
    let template = format!(
        "{}/{{ecosystem}}/{{name}}/{{version}}/{{file}}/rebuild.intoto.jsonl",
        ctx.path("rebuilds").display()
    );
    without_then_with_source(
        &ctx,
        ["--pypi-upstream", &pypi.display().to_string()],
        &policy,
        template,
        &format!("/pypi/files/demo-pkg/{file}"),
    );
}

/// The file at `path` through a proxy over `upstream` under `policy`
/// (which requires a rebuild): refused `rebuild-missing` with no rebuild
/// source, let through with the source `template`. Each proxy has its own
/// data directory, so the first answer is not remembered.
fn without_then_with_source(ctx: &TestContext, upstream: [&str; 2], policy: &Path, template: String, path: &str) {
    let get = |extra: &[&str], data: &str| {
        let mut args: Vec<String> = upstream.iter().map(|a| a.to_string()).collect();
        args.extend(["--policy".to_string(), policy.display().to_string()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let data = ctx.path(data);
        std::fs::create_dir_all(&data).unwrap();
        let proxy = ctx.proxy(crate::common::ProxyOptions::new().data(&data).args(args));
        let got = proxy.get(path);
        (got.status, got.text())
    };
    let (status, body) = get(&[], "data-without");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("rebuild-missing"), "{body}");
    let (status, body) = get(&["--rebuild-source", &template], "data-with");
    assert_eq!(status, 200, "{body}");
}

/// A rebuilderd-style signed in-toto link (`rebuild FILE`, the rebuilt
/// file as its product), signed with Ed25519 as rebuilderd does.
fn rebuilderd_link(key: &Path, artifact: &Path, out: &Path) {
    let bytes = std::fs::read(artifact).unwrap();
    let name = artifact.file_name().unwrap().to_str().unwrap();
    use sha2::Digest as _;
    let signed = json!({
        "_type": "link",
        "name": format!("rebuild {name}"),
        "materials": {"demo-1.0.0.src.tar.gz": {"sha256": "00".repeat(32)}},
        "products": {name: {
            "sha256": hex::encode(sha2::Sha256::digest(&bytes)),
            "sha512": hex::encode(sha2::Sha512::digest(&bytes)),
        }},
        "byproducts": {}, "command": [], "environment": {},
    });
    let key = ward_sign::SigningKey::from_file(key, None).unwrap();
    let sig = key
        .sign(&ward_verify::rebuild_link::canonical_json(&signed).unwrap())
        .unwrap();
    let link = json!({"signatures": [{"keyid": key.fingerprint(), "sig": hex::encode(sig)}], "signed": signed});
    std::fs::write(out, serde_json::to_vec_pretty(&link).unwrap()).unwrap();
}

/// Debian's rule, "two rebuilders must agree", as a policy threshold over
/// rebuilderd links: one link is short, two distinct rebuilders pass, and
/// a link for other bytes is refused.
#[test]
fn rebuilderd_links_from_two_rebuilders_meet_a_threshold_of_two() {
    let ctx = TestContext::new();
    let (a, b) = (Publisher::new("ed25519"), Publisher::new("ed25519"));
    let (original, rebuilt) = divergent(ctx.dir());
    let (la, lb) = (ctx.path("a.link"), ctx.path("b.link"));
    rebuilderd_link(&a.key, &original, &la);
    rebuilderd_link(&b.key, &original, &lb);
    std::fs::copy(&a.public, ctx.path("a.pub")).unwrap();
    std::fs::copy(&b.public, ctx.path("b.pub")).unwrap();
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[[rebuilder]]\nname = \"rebuilder-a\"\nkeys = [\"a.pub\"]\n\n[[rebuilder]]\nname = \"rebuilder-b\"\nkeys = [\"b.pub\"]\n\n[[scope]]\npackages = [\"npm:*\"]\nrebuild = { required = 2 }\n",
    )
    .unwrap();
    let verify = |links: &[&Path], artifact: &Path| {
        let mut args = vec![
            "verify".to_string(),
            s(artifact).into(),
            "--policy".into(),
            s(&policy).into(),
        ];
        for l in links {
            args.extend(["--rebuild".to_string(), s(l).into()]);
        }
        ctx.ward(args)
    };
    verify(&[&la], &original).expect(1).reason("rebuild-missing");
    // The same rebuilder twice is still one rebuilder.
    verify(&[&la, &la], &original).expect(1).reason("rebuild-missing");
    verify(&[&la, &lb], &original).expect(0);
    // The links are about the original, not the other build.
    verify(&[&la, &lb], &rebuilt)
        .expect(1)
        .reason("rebuild-subject-mismatch");
}

/// Runs git in `dir` with a fixed author, for test fixtures.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A local git repository with two commits of `files`, the second
/// changing `changed` to `second`; returns (repo, first commit, second commit).
fn fixture_repo(dir: &Path, files: &[(&str, &str)], changed: (&str, &str)) -> (PathBuf, String, String) {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    for (name, text) in files {
        let p = repo.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join(changed.0), changed.1).unwrap();
    git(&repo, &["commit", "--quiet", "-am", "second"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    (repo, first, second)
}

/// Done-when: `ward rebuild run` reproduces a small npm package from a
/// local git fixture (the published tarball made by `npm pack` elsewhere),
/// records it in the ledger, signs it, and `ward verify` reads the commit;
/// built from another commit, it diverges file by file.
#[test]
fn rebuild_run_reproduces_an_npm_package_from_a_local_git_checkout() {
    if !crate::proxy::have("npm", "--version") || !crate::proxy::have("git", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let (repo, first, second) = fixture_repo(
        ctx.dir(),
        &[
            (
                "package.json",
                r#"{"name": "demo-rebuild", "version": "1.0.0", "license": "MIT", "main": "index.js"}"#,
            ),
            ("index.js", "module.exports = 1;\n"),
        ],
        ("index.js", "module.exports = 2;\n"),
    );
    // "Published": packed by the publisher from the second commit, in its own environment.
    let published = ctx.path("published");
    std::fs::create_dir_all(&published).unwrap();
    let pack = std::process::Command::new("npm")
        .current_dir(&repo)
        .env("HOME", ctx.home.as_path())
        .args(["pack", "--offline", "--ignore-scripts", "--pack-destination"])
        .arg(&published)
        .output()
        .unwrap();
    assert!(pack.status.success(), "{}", String::from_utf8_lossy(&pack.stderr));
    let original = published.join("demo-rebuild-1.0.0.tgz");
    let team = Publisher::new("ed25519");
    let run = ctx.ward([
        "rebuild",
        "run",
        s(&original),
        "--source",
        s(&repo),
        "--commit",
        &second,
        "--source-repository",
        "https://example.invalid/demo-rebuild",
        "--attest",
        "--key",
        s(&team.key),
    ]);
    run.expect(0);
    assert!(
        run.stdout.contains(&format!("rebuilt from commit {second} with npm ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("equivalent: pkg:npm/demo-rebuild@1.0.0"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("recorded: ledger entry 0"), "{}", run.stdout);
    // The signed statements carry the commit; verify reads them as facts.
    let run = ctx.ward(["verify", s(&original), "--key", s(&team.public), "--format", "json"]);
    run.expect(0);
    let doc = json_of(&run);
    let fact = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["facts"].as_array().cloned().unwrap_or_default())
        .find(|f| f["type"] == "rebuild")
        .unwrap();
    assert_eq!(fact["source_commit"], second.as_str());
    assert_eq!(fact["source_repository"], "https://example.invalid/demo-rebuild");
    assert!(fact["build_steps_digest"].as_str().unwrap().starts_with("sha256:"));
    // From the first commit: a divergence, explained, and recorded too.
    let run = ctx.ward(["rebuild", "run", s(&original), "--source", s(&repo), "--commit", &first]);
    run.expect(1);
    assert!(run.stdout.contains("changed: package/index.js"), "{}", run.stdout);
    assert!(
        run.stdout.contains("-module.exports = 2;") && run.stdout.contains("+module.exports = 1;"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("recorded: ledger entry"), "{}", run.stdout);
    // A source that is not a local directory is refused before anything runs.
    ctx.ward([
        "rebuild",
        "run",
        s(&original),
        "--source",
        "https://example.invalid/repo.git",
    ])
    .expect(2);
}

/// The same for a crate: `cargo package`, offline, in a fresh cargo home.
#[test]
fn rebuild_run_reproduces_a_crate_from_a_local_git_checkout() {
    if !crate::proxy::have("cargo", "--version") || !crate::proxy::have("git", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let (repo, first, second) = fixture_repo(
        ctx.dir(),
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"demo-rebuild\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"a test crate for ward rebuild run\"\n",
            ),
            ("src/lib.rs", "pub fn one() -> u32 { 1 }\n"),
        ],
        ("src/lib.rs", "pub fn one() -> u32 { 2 }\n"),
    );
    let target = ctx.path("publisher-target");
    let pack = std::process::Command::new("cargo")
        .current_dir(&repo)
        .env("CARGO_HOME", ctx.path("publisher-cargo-home"))
        .args(["package", "--offline", "--no-verify", "--quiet", "--target-dir"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(pack.status.success(), "{}", String::from_utf8_lossy(&pack.stderr));
    let original = target.join("package/demo-rebuild-0.1.0.crate");
    // ward's HOME is the test's own: tell rustup where the toolchains are.
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))
        .unwrap();
    let ward = |commit: &str| {
        let out = ctx
            .command()
            .env("RUSTUP_HOME", &rustup)
            .args(["rebuild", "run", s(&original), "--source", s(&repo), "--commit", commit])
            .output()
            .unwrap();
        crate::common::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let run = ward(&second);
    run.expect(0);
    assert!(run.stdout.contains("with cargo "), "{}", run.stdout);
    assert!(
        run.stdout.contains("equivalent: pkg:cargo/demo-rebuild@0.1.0"),
        "{}",
        run.stdout
    );
    let run = ward(&first);
    run.expect(1);
    assert!(
        run.stdout.contains("changed: demo-rebuild-0.1.0/src/lib.rs"),
        "{}",
        run.stdout
    );
}

/// `ward attest --build-inputs` records the toolchain, the lockfile and
/// config digests, allowlisted variables and the image (a tag is a warning
/// in the predicate); `ward verify` shows them as facts, and a policy can
/// require them (`required_predicate_types`).
#[test]
fn build_inputs_are_recorded_signed_and_shown_as_facts() {
    if !crate::proxy::have("npm", "--version") {
        return;
    }
    let p = Publisher::new("ecdsa-p256");
    let (artifact, _) = divergent(p.dir.path());
    let lock = p.path("package-lock.json");
    std::fs::write(&lock, r#"{"name":"demo","lockfileVersion":3,"packages":{}}"#).unwrap();
    let npmrc = p.path(".npmrc");
    std::fs::write(&npmrc, "//registry.example.invalid/:_authToken=test-token-not-real\n").unwrap();
    let out = p.path("inputs.intoto.jsonl");
    let run = p
        .ctx
        .command()
        .env("NODE_ENV", "production")
        .args([
            "attest",
            "--key",
            s(&p.key),
            "--build-inputs",
            "--lockfile",
            s(&lock),
            "--config-file",
            s(&npmrc),
            "--env",
            "NODE_ENV",
            "--env",
            "SECRET_NOT_ALLOWLISTED_ANYWAY",
            "--image",
            "docker.io/library/node:22",
            "--output",
            s(&out),
            s(&artifact),
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let bundle = std::fs::read_to_string(&out).unwrap();
    assert!(!bundle.contains("test-token-not-real"));
    let run = p
        .ctx
        .ward(["verify", s(&artifact), "--attestation", s(&out), "--key", s(&p.public)]);
    run.expect(0);
    assert!(run.stdout.contains("build inputs (signed by key"), "{}", run.stdout);
    assert!(
        run.stdout.contains("npm ") && run.stdout.contains("node v"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NODE_ENV=production"), "{}", run.stdout);
    assert!(
        run.stdout.contains("lockfile ") && run.stdout.contains("package-lock.json sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("WARNING: container image docker.io/library/node:22 is named by tag"),
        "{}",
        run.stdout
    );
    let doc = json_of(&p.ctx.ward([
        "verify",
        s(&artifact),
        "--attestation",
        s(&out),
        "--key",
        s(&p.public),
        "--format",
        "json",
    ]));
    let fact = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["facts"].as_array().cloned().unwrap_or_default())
        .find(|f| f["type"] == "build-inputs")
        .unwrap();
    assert_eq!(fact["environment"]["NODE_ENV"], "production");
    assert!(fact["environment"]["SECRET_NOT_ALLOWLISTED_ANYWAY"].is_null());
    // A policy that requires recorded build inputs.
    std::fs::copy(&p.public, p.path("publisher.pub")).unwrap();
    let policy = p.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[[scope]]\npackages = [\"npm:*\"]\nkeys = [\"publisher.pub\"]\nrequired_predicate_types = [\"https://ward.invalid/attestation/build-inputs/v1\"]\n",
    )
    .unwrap();
    p.ctx
        .ward(["verify", s(&artifact), "--attestation", s(&out), "--policy", s(&policy)])
        .expect(0);
    // Signed, but without the inputs: the policy refuses it.
    p.ctx.ward(["sign", "--key", s(&p.key), s(&artifact)]).expect(0);
    p.ctx
        .ward([
            "verify",
            s(&artifact),
            "--policy",
            s(&policy),
            "--attestation",
            s(&p.path("none.jsonl")),
        ])
        .expect(2);
    p.ctx
        .ward(["verify", s(&artifact), "--policy", s(&policy)])
        .expect(1)
        .reason("predicate-type-missing");
}

#[test]
fn policy_explain_shows_the_rebuild_rule() {
    let ctx = TestContext::new();
    let policy = policy(
        &ctx,
        "{ required = 1, on_divergence = \"warn\", on_regression = \"deny\", window = 3 }",
        None,
    );
    let run = ctx.ward(["policy", "explain", s(&policy), "pkg:npm/chalk@5.6.0"]);
    run.expect(0);
    assert!(
        run.stdout.contains(
            "rebuild: 1 of oss-rebuild reproduced (line 10); divergence: warn; regression over the last 3 releases: deny"
        ),
        "{}",
        run.stdout
    );
}
