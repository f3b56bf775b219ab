//! Every decision of `ward verify`, allow or deny, lands in the ledger with a
//! proof a third party can check with only the checkpoint key.

use crate::common::{BEACON_IDENTITY, GITHUB_ISSUER, TestContext, conformance, json_of};
use std::path::Path;
use ward_ledger::{NoteVerifier, SignedCheckpoint, leaf_hash, record::open_record, verify_inclusion};

fn verify_into(ctx: &TestContext, ledger: &Path, identity: &str) -> crate::common::Run {
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        "--ledger",
        ledger.to_str().unwrap(),
        "--format",
        "json",
    ])
}

/// What an auditor does with a `--format json` receipt and nothing else.
fn check_receipt(doc: &serde_json::Value, ledger: &Path) {
    let r = &doc["ledger"];
    let key = NoteVerifier::parse(r["verifier_key"].as_str().unwrap()).unwrap();
    let cp = SignedCheckpoint::verify(r["checkpoint"].as_str().unwrap().as_bytes(), &key).unwrap();
    let index = r["index"].as_u64().unwrap();
    let proof: Vec<[u8; 32]> = r["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    let leaf: [u8; 32] = hex::decode(r["leaf_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    verify_inclusion(&leaf, index, cp.checkpoint.size, &proof, &cp.checkpoint.root).unwrap();
    // The stored entry is the leaf, and its record is signed by the same key.
    let stored = ward_ledger::EmbeddedLedger::open(ledger, "unused")
        .unwrap()
        .entry(index)
        .unwrap();
    assert_eq!(leaf_hash(&stored), leaf);
    let statement = open_record(&stored, &key).unwrap();
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        doc["artifact"]["digests"]["sha256"]
    );
    let want = if doc["decision"]["verdict"] == "allow" {
        "PASSED"
    } else {
        "FAILED"
    };
    assert_eq!(statement["predicate"]["verificationResult"], want);
}

#[test]
fn allows_and_denies_are_both_recorded_with_checkable_proofs() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let allow = verify_into(&ctx, &ledger, BEACON_IDENTITY);
    allow.expect(0);
    let doc = json_of(&allow);
    assert_eq!(doc["ledger"]["index"], 0);
    check_receipt(&doc, &ledger);
    let deny = verify_into(&ctx, &ledger, "https://github.com/someone/else");
    deny.expect(1);
    let doc = json_of(&deny);
    assert_eq!(doc["ledger"]["index"], 1);
    check_receipt(&doc, &ledger);

    let l = ledger.to_str().unwrap();
    let run = ctx.ward(["ledger", "verify", "--ledger", l]);
    run.expect(0);
    assert!(run.stdout.contains("recomputed 2 entries"));
    let run = ctx.ward(["ledger", "search", "--purl", "pkg:generic/a.txt", "--ledger", l]);
    run.expect(0);
    assert!(
        run.stdout.contains("entry 0: PASSED") && run.stdout.contains("entry 1: FAILED"),
        "{}",
        run.stdout
    );
    let sha = doc["artifact"]["digests"]["sha256"].as_str().unwrap();
    ctx.ward(["ledger", "search", "--digest", sha, "--ledger", l]).expect(0);
    ctx.ward(["ledger", "search", "--digest", &"0".repeat(64), "--ledger", l])
        .expect(1);
    let run = ctx.ward(["ledger", "show", "1", "--ledger", l]);
    run.expect(0);
    assert_eq!(json_of(&run)["predicate"]["reasons"][0]["code"], "identity-mismatch");
    let run = ctx.ward(["ledger", "prove", "0", "--ledger", l]);
    run.expect(0);
    assert!(
        run.stdout.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n"),
        "{}",
        run.stdout
    );
    ctx.ward(["ledger", "show", "5", "--ledger", l]).expect(2);
}

#[test]
fn a_tampered_ledger_fails_its_audit() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for _ in 0..3 {
        verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    }
    let log = ledger.join("entries.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    let run = ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()]);
    run.expect(1);
    assert!(run.stderr.contains("FAILED"), "{}", run.stderr);
}

#[test]
fn a_ledger_that_cannot_be_opened_blocks_the_install() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    verify_into(&ctx, &not_a_dir, BEACON_IDENTITY).expect(2);
}

/// A `ward ledger serve` on a free loopback port, killed on drop.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(ctx: &TestContext, ledger: &Path, token_file: &Path) -> Server {
    use std::io::BufRead;
    let mut child = ctx
        .command()
        .args([
            "ledger",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token-file",
            token_file.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();
    Server { child, url }
}

#[test]
fn concurrent_appends_through_serve_are_each_answered_with_a_proof_of_their_own() {
    let ctx = TestContext::new();
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    let key = NoteVerifier::parse(std::fs::read_to_string(ledger.join("ledger.pub")).unwrap().trim()).unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "append test-token-not-a-secret-0123\n").unwrap();
    let server = serve(&ctx, &ledger, &tokens);
    let clients = 24usize;
    let start = std::sync::Barrier::new(clients);
    let answers: Vec<(Vec<u8>, u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (url, start) = (&server.url, &start);
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    let body = format!("concurrent entry {c}").into_bytes();
                    start.wait();
                    let mut r = agent
                        .post(&format!("{url}/add"))
                        .header("Authorization", "Bearer test-token-not-a-secret-0123")
                        .send(&body[..])
                        .unwrap();
                    (body, r.status().as_u16(), r.body_mut().read_to_string().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut indices = Vec::new();
    for (body, status, text) in &answers {
        assert_eq!(*status, 200, "{text}");
        // c2sp.org/tlog-proof: index, proof hashes, a blank line, the checkpoint.
        let (head, checkpoint) = text.split_once("\n\n").unwrap();
        let mut lines = head.lines().skip(1);
        let index: u64 = lines.next().unwrap().strip_prefix("index ").unwrap().parse().unwrap();
        let proof: Vec<[u8; 32]> = lines
            .map(|l| {
                base64::engine::general_purpose::STANDARD
                    .decode(l)
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        let cp = SignedCheckpoint::verify(checkpoint.as_bytes(), &key)
            .unwrap()
            .checkpoint;
        verify_inclusion(&leaf_hash(body), index, cp.size, &proof, &cp.root).unwrap();
        indices.push(index);
    }
    indices.sort_unstable();
    assert_eq!(indices, (1..=clients as u64).collect::<Vec<_>>());
    drop(server);
    let run = ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()]);
    run.expect(0);
    assert!(
        run.stdout.contains(&format!("recomputed {} entries", clients + 1)),
        "{}",
        run.stdout
    );
}

#[test]
fn the_served_log_reads_without_credentials_appends_with_a_token_and_is_monitored() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    let vkey = std::fs::read_to_string(ledger.join("ledger.pub")).unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "append test-token-not-a-secret-0123\n").unwrap();
    let server = serve(&ctx, &ledger, &tokens);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let get = |path: &str| {
        let mut r = agent.get(&format!("{}/{path}", server.url)).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
    };
    let (status, cp) = get("checkpoint");
    assert_eq!(status, 200);
    let key = NoteVerifier::parse(vkey.trim()).unwrap();
    assert_eq!(SignedCheckpoint::verify(&cp, &key).unwrap().checkpoint.size, 1);
    assert_eq!(get("tile/0/000.p/1").1.len(), 32);
    assert_eq!(get("tile/0/000.p/2").0, 404);
    assert_eq!(get("tile/entries/000.p/1").0, 200);

    let post = |auth: Option<&str>, body: &[u8]| {
        let mut req = agent.post(&format!("{}/add", server.url));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let mut r = req.send(body).unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    assert_eq!(post(None, b"entry").0, 401);
    assert_eq!(post(Some("Bearer wrong-token-0123456789"), b"entry").0, 403);
    let (status, proof) = post(Some("Bearer test-token-not-a-secret-0123"), b"an appended entry");
    assert_eq!(status, 200, "{proof}");
    assert!(proof.starts_with("c2sp.org/tlog-proof@v1\nindex 1\n"), "{proof}");

    let state = dir.path().join("monitor.state");
    let monitor = || {
        ctx.ward([
            "ledger",
            "monitor",
            &server.url,
            "--key",
            vkey.trim(),
            "--state",
            state.to_str().unwrap(),
        ])
    };
    let run = monitor();
    run.expect(0);
    assert!(
        run.stdout.contains("first checkpoint") && run.stdout.contains("2 entries"),
        "{}",
        run.stdout
    );
    post(Some("Bearer test-token-not-a-secret-0123"), b"a third entry");
    let run = monitor();
    run.expect(0);
    assert!(run.stdout.contains("grew from 2 to 3"), "{}", run.stdout);

    // The same log exported to a directory is monitored the same way; an older copy is a rollback.
    drop(server);
    let site = dir.path().join("site");
    ctx.ward([
        "ledger",
        "export",
        site.to_str().unwrap(),
        "--ledger",
        ledger.to_str().unwrap(),
    ])
    .expect(0);
    let dir_state = dir.path().join("dir.state");
    ctx.ward([
        "ledger",
        "monitor",
        site.to_str().unwrap(),
        "--key",
        vkey.trim(),
        "--state",
        dir_state.to_str().unwrap(),
    ])
    .expect(0);
    std::fs::write(site.join("checkpoint"), &cp).unwrap();
    let run = ctx.ward([
        "ledger",
        "monitor",
        site.to_str().unwrap(),
        "--key",
        vkey.trim(),
        "--state",
        dir_state.to_str().unwrap(),
    ]);
    run.expect(1);
    assert!(run.stderr.contains("ALERT rollback"), "{}", run.stderr);
}

#[test]
fn verify_records_into_a_postgres_ledger_too() {
    let Ok(url) = std::env::var("WARD_TEST_POSTGRES_URL") else {
        assert_ne!(
            std::env::var("WARD_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "PostgreSQL required but not configured"
        );
        return;
    };
    let ctx = TestContext::new();
    let schema = format!("ward_cli_{}", std::process::id());
    let run = |args: &[&str]| {
        let out = ctx
            .command()
            .args(args)
            .env("WARD_LEDGER_SCHEMA", &schema)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    for _ in 0..2 {
        let (code, out) = run(&[
            "verify",
            art.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--certificate-identity",
            BEACON_IDENTITY,
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
            "--ledger",
            &url,
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("recorded: ledger entry"), "{out}");
    }
    let (code, out) = run(&["ledger", "verify", "--ledger", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("recomputed 2 entries"), "{out}");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}

#[test]
fn a_full_disk_is_reported_and_never_acknowledged() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for _ in 0..3 {
        verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    }
    let log_size = std::fs::metadata(ledger.join("entries.log")).unwrap().len();
    // The file-size limit (1 KiB blocks in bash) leaves less room than one
    // more record: the append fails with EFBIG, as on a full disk.
    let blocks = log_size / 1024 + 1;
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    let script = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" verify \"$1\" --bundle \"$2\" --certificate-identity \"$3\" --certificate-oidc-issuer \"$4\" --ledger \"$5\""
    );
    let out = ctx
        .isolate(&mut std::process::Command::new("bash"), dir.path())
        .args(["-c", &script, env!("CARGO_BIN_EXE_ward")])
        .args([
            art.to_str().unwrap(),
            bundle.to_str().unwrap(),
            BEACON_IDENTITY,
            GITHUB_ISSUER,
            ledger.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an allow that cannot be recorded must not allow: {stderr}"
    );
    assert!(stderr.contains("NOT recorded"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("recorded: ledger entry"));
    // The log is still consistent and holds exactly what was acknowledged.
    let run = ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()]);
    run.expect(0);
    assert!(run.stdout.contains("recomputed 3 entries"), "{}", run.stdout);
    let run = verify_into(&ctx, &ledger, BEACON_IDENTITY);
    run.expect(0);
    assert_eq!(json_of(&run)["ledger"]["index"], 3);
}

fn ledger_lens(ledger: &Path) -> Vec<u64> {
    ["entries.log", "leaves.bin", "offsets.bin"]
        .iter()
        .map(|f| std::fs::metadata(ledger.join(f)).unwrap().len())
        .collect()
}

#[test]
fn a_rolled_back_or_missing_checkpoint_is_refused_not_truncated() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let l = ledger.to_str().unwrap();
    let cp = ledger.join("checkpoint");
    let mut at_3 = vec![];
    for i in 0..6 {
        verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
        if i == 2 {
            at_3 = std::fs::read(&cp).unwrap();
        }
    }
    let latest = std::fs::read(&cp).unwrap();
    let lens = ledger_lens(&ledger);
    for tamper in ["restore", "delete"] {
        if tamper == "restore" {
            std::fs::write(&cp, &at_3).unwrap();
        } else {
            std::fs::remove_file(&cp).unwrap();
        }
        let run = verify_into(&ctx, &ledger, BEACON_IDENTITY);
        run.expect(2);
        assert!(
            run.stderr.contains(cp.to_str().unwrap()) && !run.stdout.contains("recorded: ledger entry"),
            "{tamper}: {}",
            run.stderr
        );
        let audit = ctx.ward(["ledger", "verify", "--ledger", l]);
        assert_ne!(audit.code, 0, "{tamper}: ledger verify passed: {}", audit.stdout);
        assert!(audit.stderr.contains("checkpoint"), "{}", audit.stderr);
        assert_eq!(ledger_lens(&ledger), lens, "{tamper}: the log was cut");
    }
    std::fs::write(&cp, &latest).unwrap();
    let run = ctx.ward(["ledger", "verify", "--ledger", l]);
    run.expect(0);
    assert!(run.stdout.contains("recomputed 6 entries"), "{}", run.stdout);
}

#[test]
fn a_tampered_ledger_is_never_extended() {
    let ctx = TestContext::new();
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for _ in 0..3 {
        verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    }
    let log = ledger.join("entries.log");
    let original = std::fs::read(&log).unwrap();
    let offsets = std::fs::read(ledger.join("offsets.bin")).unwrap();
    let at = |i: usize| usize::try_from(u64::from_be_bytes(offsets[i * 8..i * 8 + 8].try_into().unwrap())).unwrap();
    let len = |i: usize| u32::from_be_bytes(original[at(i)..at(i) + 4].try_into().unwrap()) as usize;
    let cp = std::fs::read(ledger.join("checkpoint")).unwrap();
    type Tamper<'a> = Box<dyn Fn(&mut Vec<u8>) + 'a>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "a flipped byte in entry 0",
            Box::new(|b: &mut Vec<u8>| b[at(0) + 40] ^= 1),
        ),
        (
            "a flipped checksum byte of entry 0",
            Box::new(|b: &mut Vec<u8>| b[at(0) + 5] ^= 1),
        ),
        (
            "entry 0 rewritten with its checksum fixed",
            Box::new(|b: &mut Vec<u8>| {
                let body = at(0) + 8..at(0) + 8 + len(0);
                let i = b[body.clone()].iter().position(|&c| c == b'a').unwrap() + body.start;
                b[i] = b'b';
                let sum = sha2::Sha256::digest(&b[body]);
                b[at(0) + 4..at(0) + 8].copy_from_slice(&sum[..4]);
            }),
        ),
    ];
    for (what, tamper) in cases {
        let mut bytes = original.clone();
        tamper(&mut bytes);
        std::fs::write(&log, &bytes).unwrap();
        let run = verify_into(&ctx, &ledger, BEACON_IDENTITY);
        run.expect(2);
        assert!(run.stderr.contains("corrupt"), "{what}: {}", run.stderr);
        assert_eq!(std::fs::read(&log).unwrap(), bytes, "{what}: the log changed");
        assert_eq!(
            std::fs::read(ledger.join("checkpoint")).unwrap(),
            cp,
            "{what}: a new checkpoint"
        );
        ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()])
            .expect(1);
    }
    std::fs::write(&log, &original).unwrap();
    // A corrupted offsets.bin.
    let mut bad = offsets.clone();
    bad[15] ^= 0x04;
    std::fs::write(ledger.join("offsets.bin"), &bad).unwrap();
    verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(2);
    assert_ne!(
        ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()])
            .code,
        0
    );
    assert_eq!(std::fs::read(ledger.join("checkpoint")).unwrap(), cp);
    std::fs::write(ledger.join("offsets.bin"), &offsets).unwrap();
    verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
}

#[test]
fn reading_commands_read_the_checkpointed_prefix_past_a_torn_tail() {
    let ctx = TestContext::new();
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for _ in 0..3 {
        verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    }
    for (file, junk) in [("leaves.bin", &[7u8; 40][..]), ("offsets.bin", &[1u8; 11][..])] {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(ledger.join(file))
            .unwrap();
        f.write_all(junk).unwrap();
    }
    let l = ledger.to_str().unwrap();
    let run = ctx.ward(["ledger", "verify", "--ledger", l]);
    run.expect(0);
    assert!(run.stdout.contains("recomputed 3 entries"), "{}", run.stdout);
    ctx.ward(["ledger", "show", "2", "--ledger", l]).expect(0);
    ctx.ward(["ledger", "prove", "1", "--ledger", l]).expect(0);
    ctx.ward(["ledger", "checkpoint", "--ledger", l]).expect(0);
}

#[test]
fn an_endless_checkpoint_file_is_refused_at_once() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    verify_into(&ctx, &ledger, BEACON_IDENTITY).expect(0);
    let cp = ledger.join("checkpoint");
    std::fs::remove_file(&cp).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &cp).unwrap();
    let run = verify_into(&ctx, &ledger, BEACON_IDENTITY);
    run.expect(2);
    assert!(run.stderr.contains("ledger checkpoint"), "{}", run.stderr);
    let run = ctx.ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}

/// Runs ward with its own data directory, failing the test if it has not
/// ended within `limit`.
fn ward_within(ctx: &TestContext, data: &Path, limit: std::time::Duration, args: &[&str]) -> crate::common::Run {
    ctx.ward_within_in(data, limit, args)
        .unwrap_or_else(|| panic!("ward {args:?} was still running after {limit:?}"))
}

#[test]
fn a_second_writer_fails_at_once_naming_the_running_writer() {
    let ctx = TestContext::new();
    let data = tempfile::tempdir().unwrap();
    let tokens = data.path().join("tokens");
    std::fs::write(&tokens, "append test-token-not-a-secret-0123\n").unwrap();
    // The data directory's default ledger, held by a running `ledger serve`.
    let server = serve(&ctx, &data.path().join("ledger"), &tokens);
    let pid = server.child.id();
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    let run = ward_within(
        &ctx,
        data.path(),
        std::time::Duration::from_secs(10),
        &[
            "verify",
            art.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--certificate-identity",
            BEACON_IDENTITY,
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    );
    run.expect(2);
    assert!(run.stderr.contains(&format!("PID {pid}")), "{}", run.stderr);
    assert!(
        run.stderr.contains("--ledger") && run.stderr.contains("postgres://"),
        "{}",
        run.stderr
    );
    // Readers still work beside the writer, and once it is gone the same
    // command records its decision.
    ctx.ward_in(data.path(), ["ledger", "verify"]).expect(0);
    drop(server);
    let run = ward_within(
        &ctx,
        data.path(),
        std::time::Duration::from_secs(30),
        &[
            "verify",
            art.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--certificate-identity",
            BEACON_IDENTITY,
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    );
    run.expect(0);
}

#[test]
fn a_bare_search_lists_the_latest_decisions_and_filters_by_verdict() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let l = ledger.to_str().unwrap();
    // An empty ledger: nothing found is exit 1, not a success.
    let run = ctx.ward(["ledger", "search", "--ledger", l]);
    run.expect(1);
    assert!(run.stdout.contains("no decision found"), "{}", run.stdout);
    // Entries 0, 2, 4 allowed; 1, 3 denied.
    for i in 0..5 {
        let identity = if i % 2 == 0 {
            BEACON_IDENTITY
        } else {
            "https://github.com/someone/else"
        };
        verify_into(&ctx, &ledger, identity).expect(if i % 2 == 0 { 0 } else { 1 });
    }
    let entries = |run: &crate::common::Run| -> Vec<String> {
        run.stdout
            .lines()
            .filter_map(|line| {
                line.split(':')
                    .next()
                    .filter(|e| e.starts_with("entry "))
                    .map(str::to_string)
            })
            .collect()
    };
    let run = ctx.ward(["ledger", "search", "--ledger", l]);
    run.expect(0);
    assert_eq!(
        entries(&run),
        ["entry 0", "entry 1", "entry 2", "entry 3", "entry 4"],
        "{}",
        run.stdout
    );
    let run = ctx.ward(["ledger", "search", "--limit", "2", "--ledger", l]);
    run.expect(0);
    assert_eq!(entries(&run), ["entry 3", "entry 4"], "{}", run.stdout);
    let run = ctx.ward(["ledger", "search", "--verdict", "deny", "--ledger", l]);
    run.expect(0);
    assert_eq!(entries(&run), ["entry 1", "entry 3"], "{}", run.stdout);
    assert!(run.stdout.contains("entry 1: FAILED"), "{}", run.stdout);
    let run = ctx.ward(["ledger", "search", "--verdict", "allow", "--limit", "1", "--ledger", l]);
    run.expect(0);
    assert_eq!(entries(&run), ["entry 4"], "{}", run.stdout);
    let run = ctx.ward([
        "ledger",
        "search",
        "--purl",
        "pkg:generic/a.txt",
        "--verdict",
        "deny",
        "--ledger",
        l,
    ]);
    run.expect(0);
    assert_eq!(entries(&run), ["entry 1", "entry 3"], "{}", run.stdout);
    // A filter that matches nothing: exit 1 with the message.
    let run = ctx.ward(["ledger", "search", "--purl", "pkg:generic/other.txt", "--ledger", l]);
    run.expect(1);
    assert!(run.stdout.contains("no decision found"), "{}", run.stdout);
    ctx.ward(["ledger", "search", "--verdict", "maybe", "--ledger", l])
        .expect(2);
    ctx.ward(["ledger", "search", "--limit", "0", "--ledger", l]).expect(2);
}
