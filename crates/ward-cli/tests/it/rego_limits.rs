//! Hostile policies against the real binary: recursion is refused at load,
//! huge allocations are `rego-error` denies, FIFOs and devices are refused
//! at once. Every run has a deadline, so a regression (a hang, or an abort
//! with exit 134) fails the test instead of stalling CI.

use crate::common::{Run, TestContext, shared};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs ward, killing it and failing the test if it outlives `limit`.
fn ward_within<I, S>(ctx: &TestContext, limit: Duration, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let run = ctx
        .ward_within(limit, args)
        .unwrap_or_else(|| panic!("ward ran longer than {limit:?}"));
    // A process killed by a signal (an abort, exit 134) has no exit code.
    assert!(run.code != -1, "ward was killed by a signal:\n{}", run.all());
    run
}

const LIMIT: Duration = Duration::from_secs(60);

fn rego_policy(dir: &Path, rego: &str) -> PathBuf {
    std::fs::write(dir.join("rule.rego"), rego).unwrap();
    let path = dir.join("ward.toml");
    std::fs::write(&path, "[[scope]]\npackages = [\"npm:*\"]\nrego = [\"rule.rego\"]\n").unwrap();
    path
}

fn verify(ctx: &TestContext, policy: &Path) -> Run {
    let dir = shared().join("npm-attestations");
    ward_within(
        ctx,
        LIMIT,
        [
            "verify".as_ref(),
            dir.join("gundam-visor-cli-v1-tag.tgz").as_os_str(),
            "--attestation".as_ref(),
            dir.join("gundam-visor-cli-v1-tag.tgz.json").as_os_str(),
            "--policy".as_ref(),
            policy.as_os_str(),
        ],
    )
}

#[test]
fn recursive_rego_is_refused_at_load_not_a_crash() {
    let ctx = TestContext::new();
    for rego in [
        "package ward\nimport rego.v1\nf(x) := y if { y := f(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
        "package ward\nimport rego.v1\nf(x, z) := y if { y := f(z, x) }\ndeny contains msg if { f(1, 2) == 2; msg := \"x\" }\n",
        "package ward\nimport rego.v1\nf(x) := y if { y := g(x) }\ng(x) := y if { y := f(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
        "package ward\nimport rego.v1\nr := x if { x := r }\ndeny contains msg if { r == 2; msg := \"x\" }\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let policy = rego_policy(dir.path(), rego);
        let run = ward_within(&ctx, LIMIT, ["policy".as_ref(), "check".as_ref(), policy.as_os_str()]);
        run.expect(2).reason("policy-invalid");
        assert!(run.all().contains("recursion"), "{}", run.all());
        assert!(run.all().contains("rule.rego:3"), "{}", run.all());
        verify(&ctx, &policy).expect(2).reason("policy-invalid");
    }
}

#[test]
fn huge_allocations_in_rego_are_rego_error_denies() {
    let ctx = TestContext::new();
    for body in [
        "x := numbers.range(1, 1e9)\n  count(x) > 0",
        "x := numbers.range(1, 1e8)\n  count(x) > 0",
        "x := sprintf(\"%03000000000d\", [1])\n  x != \"\"",
        "x := bits.lsh(1, 4000000000)\n  x > 0",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let policy = rego_policy(
            dir.path(),
            &format!("package ward\nimport rego.v1\ndeny contains msg if {{\n  {body}\n  msg := \"never\"\n}}\n"),
        );
        ward_within(&ctx, LIMIT, ["policy".as_ref(), "check".as_ref(), policy.as_os_str()]).expect(0);
        let start = Instant::now();
        let run = verify(&ctx, &policy);
        run.expect(1).reason("rego-error");
        assert!(run.all().contains("limit"), "{}", run.all());
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{body}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn a_fifo_or_device_as_policy_or_rego_file_fails_fast() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for policy in [fifo.as_path(), Path::new("/dev/zero")] {
        let run = ward_within(&ctx, LIMIT, ["policy".as_ref(), "check".as_ref(), policy.as_os_str()]);
        run.expect(2).reason("policy-invalid");
        assert!(run.all().contains("not a regular file"), "{}", run.all());
    }
    for rego in ["fifo", "/dev/zero"] {
        let path = dir.path().join("ward.toml");
        std::fs::write(
            &path,
            format!("[[scope]]\npackages = [\"npm:*\"]\nrego = [\"{rego}\"]\n"),
        )
        .unwrap();
        let run = ward_within(&ctx, LIMIT, ["policy".as_ref(), "check".as_ref(), path.as_os_str()]);
        run.expect(2).reason("policy-invalid");
        assert!(run.all().contains("ward.toml:3"), "{}", run.all());
        assert!(run.all().contains("not a regular file"), "{}", run.all());
        verify(&ctx, &path).expect(2).reason("policy-invalid");
    }
}

#[test]
fn deeply_nested_rego_is_refused_quickly() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = rego_policy(
        dir.path(),
        &format!(
            "package ward\nimport rego.v1\nx := {}1{}\ndeny contains msg if {{ count(x) > 5; msg := \"x\" }}\n",
            "[".repeat(1000),
            "]".repeat(1000)
        ),
    );
    let start = Instant::now();
    let run = ward_within(&ctx, LIMIT, ["policy".as_ref(), "check".as_ref(), policy.as_os_str()]);
    run.expect(2).reason("policy-invalid");
    assert!(run.all().contains("nested"), "{}", run.all());
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
}

#[test]
fn the_proxy_survives_a_policy_that_asks_for_gigabytes_and_refuses_a_recursive_one() {
    let ctx = TestContext::new();
    use crate::proxy::Registries;
    let reg = Registries::new();
    reg.npm_package("demo-pkg", "1.0.0", false);
    let dir = reg.policy.parent().unwrap().to_path_buf();
    std::fs::write(
        dir.join("bomb.rego"),
        "package ward\nimport rego.v1\ndeny contains msg if {\n  x := sprintf(\"%03000000000d\", [1])\n  x != \"\"\n  msg := \"never\"\n}\n",
    )
    .unwrap();
    let policy = std::fs::read_to_string(&reg.policy).unwrap() + "rego = [\"bomb.rego\"]\n";
    std::fs::write(&reg.policy, policy).unwrap();
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    for _ in 0..2 {
        let got = proxy.get("/npm/demo-pkg/-/demo-pkg-1.0.0.tgz");
        assert_eq!(got.status, 403, "{}", got.reason);
        assert!(got.reason.contains("rego-error"), "{}", got.reason);
        // Still serving.
        assert_eq!(proxy.get("/npm/demo-pkg").status, 200);
    }
    drop(proxy);

    std::fs::write(
        dir.join("bomb.rego"),
        "package ward\nimport rego.v1\nf(x) := y if { y := f(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
    )
    .unwrap();
    let mut args = vec!["proxy".to_string(), "--listen".into(), "127.0.0.1:0".into()];
    args.extend(reg.upstream_args());
    let run = ward_within(&ctx, LIMIT, &args);
    run.expect(2).reason("policy-invalid");
    assert!(run.all().contains("recursion"), "{}", run.all());
}
