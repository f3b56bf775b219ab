//! slsa-verifier's own regression cases, run through `ward verify
//! --source-uri …` on the same real artifacts and provenance: npm packages
//! (shared testdata `npm-attestations`, from slsa-verifier's
//! `cli/slsa-verifier/testdata/npm/gha`) and the generic generator's
//! binaries (`tests/fixtures/slsa-verifier/gha_generic-v2.1.0`, from its
//! `cli/slsa-verifier/testdata/gha_generic/v2.1.0`).
//!
//! The table is `Test_runVerifyNpmPackage` in slsa-verifier's
//! `cli/slsa-verifier/main_regression_test.go` (commit aaf98fd), row by row,
//! with its expected error mapped to ward's reason code. Rows about
//! `--package-name` / `--package-version` are left out: ward checks the
//! package's identity against its own metadata instead of a flag.

use crate::common::{TestContext, shared};
use std::path::Path;

/// One row: (name as in slsa-verifier, artifact, --source-uri, --builder-id,
/// expected reason; `None` = verified).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// slsa-verifier's rows.
const CASES: &[Case] = &[
    (
        "valid npm CLI builder",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder short runner name",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner"),
        None,
    ),
    (
        "valid npm CLI builder v1 short runner name",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder no builder",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        None,
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder v1 no builder",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        None,
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder mismatch builder",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner2"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder v1 mismatch builder",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted2"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder no package name",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1 no package name",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder no package version",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1 no package version",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder mismatch source",
        "supreme-googles-cli-v02-tag.tgz",
        "github.com/trishankatdatadog/supreme-goggleS",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("provenance-source-mismatch"),
    ),
    (
        "valid npm CLI builder v1 mismatch source",
        "gundam-visor-cli-v1-tag.tgz",
        "github.com/ramonpetgrave64/gundam-visorS",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("provenance-source-mismatch"),
    ),
    (
        "invalid signature provenance npm CLI",
        "supreme-googles-cli-v02-tag-invalidsigprov.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature provenance npm CLI v1",
        "gundam-visor-cli-v1-tag-invalidsigprov.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature publish npm CLI",
        "supreme-googles-cli-v02-tag-invalidsigpub.tgz",
        "github.com/trishankatdatadog/supreme-goggles",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature publish npm CLI v1",
        "gundam-visor-cli-v1-tag-invalidsigpub.tgz",
        "github.com/ramonpetgrave64/gundam-visor",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "valid npm CLI builder",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder short runner name",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner"),
        None,
    ),
    (
        "valid npm CLI builder v1 short runner name",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder no builder",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        None,
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder v1 no builder",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        None,
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder mismatch builder",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner2"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder v1 mismatch builder",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted2"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm CLI builder no package name",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1 no package name",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder no package version",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder v1 no package version",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted"),
        None,
    ),
    (
        "valid npm CLI builder mismatch source",
        "provenance-npm-test-cli-v02-prega.tgz",
        "github.com/laurentsimon/provenance-npm-test2",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("provenance-source-mismatch"),
    ),
    (
        "valid npm CLI builder v1 mismatch source",
        "provenance-npm-test-cli-v1-prega.tgz",
        "github.com/sigstore/sigstore-js2",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("provenance-source-mismatch"),
    ),
    (
        "invalid signature provenance npm CLI",
        "provenance-npm-test-cli-v02-prega-invalidsigprov.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature provenance npm CLI v1",
        "provenance-npm-test-cli-v1-prega-invalidsigprov.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature publish npm CLI",
        "provenance-npm-test-cli-v02-prega-invalidsigpub.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature publish npm CLI v1",
        "provenance-npm-test-cli-v1-prega-invalidsigpub.tgz",
        "github.com/sigstore/sigstore-js",
        Some("https://github.com/actions/runner/github-hosted"),
        Some("signature-invalid"),
    ),
    (
        "valid npm OSSF builder",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        None,
    ),
    (
        "valid npm OSSF builder no builder",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        None,
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm OSSF builder mismatch builder",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa.yml"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid npm OSSF builder no package name",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        None,
    ),
    (
        "valid npm OSSF builder no package version",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        None,
    ),
    (
        "valid npm OSSF builder mismatch mismatch source",
        "provenance-npm-test-ossf.tgz",
        "github.com/laurentsimon/provenance-npm-test2",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        Some("provenance-source-mismatch"),
    ),
    (
        "invalid signature provenance npm OSSF builder",
        "provenance-npm-test-ossf-invalidsigprov.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        Some("signature-invalid"),
    ),
    (
        "invalid signature publish npm OSSF builder",
        "provenance-npm-test-ossf-invalidsigpub.tgz",
        "github.com/laurentsimon/provenance-npm-test",
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"),
        Some("signature-invalid"),
    ),
];

#[test]
fn slsa_verifier_npm_regression_cases() {
    let ctx = TestContext::new();
    let dir = shared().join("npm-attestations");
    for (name, artifact, source, builder, reason) in CASES {
        let tgz = dir.join(artifact);
        let att = dir.join(format!("{artifact}.json"));
        let mut args = vec![
            "verify".to_string(),
            tgz.display().to_string(),
            "--attestation".into(),
            att.display().to_string(),
            "--source-uri".into(),
            source.to_string(),
        ];
        if let Some(b) = builder {
            args.extend(["--builder-id".to_string(), b.to_string()]);
        }
        let run = ctx.ward(args);
        match reason {
            None => {
                run.expect(0);
            }
            Some(code) => {
                run.expect(1).reason(code);
            }
        }
        eprintln!("ok: {name} ({artifact})");
    }
}

/// The tag rules on a real npm package: gundam-visor 1.0.1 was built from
/// the tag `v1.0.1` (its provenance's workflow ref is `refs/tags/v1.0.1`).
#[test]
fn source_tag_and_versioned_tag_on_a_real_npm_package() {
    let ctx = TestContext::new();
    let dir = shared().join("npm-attestations");
    let tgz = dir.join("gundam-visor-cli-v1-tag.tgz");
    let att = dir.join("gundam-visor-cli-v1-tag.tgz.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            tgz.to_str().unwrap(),
            "--provenance",
            att.to_str().unwrap(),
            "--source-uri",
            "github.com/ramonpetgrave64/gundam-visor",
            "--builder-id",
            "https://github.com/actions/runner/github-hosted",
        ];
        args.extend_from_slice(extra);
        ctx.ward(args)
    };
    run(&["--source-tag", "v1.0.1"]).expect(0);
    run(&["--source-versioned-tag", "v1"]).expect(0);
    run(&["--source-versioned-tag", "v1.0"]).expect(0);
    run(&["--source-tag", "v1.0.2"])
        .expect(1)
        .reason("provenance-ref-mismatch");
    run(&["--source-versioned-tag", "v2"])
        .expect(1)
        .reason("provenance-ref-mismatch");
    run(&["--source-versioned-tag", "v1.1"])
        .expect(1)
        .reason("provenance-ref-mismatch");
    run(&["--source-branch", "main"])
        .expect(1)
        .reason("provenance-ref-mismatch");
    // A versioned tag that is not a semantic version is refused before anything is read.
    run(&["--source-versioned-tag", "1.0"]).expect(2);
}

/// One row of `Test_runVerifyGHAArtifactPath`: (name, artifact, --source-uri,
/// --source-branch, --source-tag, --source-versioned-tag, --builder-id,
/// expected reason; `None` = verified).
type ArtifactRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// slsa-verifier's `Test_runVerifyGHAArtifactPath` (same file) for the
/// generic generator at v2.1.0, the rows whose artifacts are in
/// `tests/fixtures/slsa-verifier/gha_generic-v2.1.0` (the four builds are
/// the same bytes, so one binary stands for all; their provenances are
/// Sigstore v0.3 bundles). As there, a row without its own builder id runs
/// four times: with the builder's name, with none, with `@v2.1.0` and with
/// `@refs/tags/v2.1.0`. Left out: rows about workflow inputs, other
/// builders, and artifacts not in the fixture.
const ARTIFACT_CASES: &[ArtifactRow] = &[
    (
        "valid main branch default",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        None,
        None,
        None,
        None,
        None,
    ),
    (
        "valid main branch default - invalid builderID",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        None,
        None,
        None,
        Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml"),
        Some("provenance-builder-mismatch"),
    ),
    (
        "valid main branch set",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        Some("main"),
        None,
        None,
        None,
        None,
    ),
    (
        "wrong branch master",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        Some("master"),
        None,
        None,
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "branch master not verified",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        None,
        None,
        None,
        None,
        None,
    ),
    (
        "wrong source append A",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/laurentsimon/slsa-verifier-test-genA",
        None,
        None,
        None,
        None,
        Some("provenance-source-mismatch"),
    ),
    (
        "wrong source prepend A",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/laurentsimon/slsa-verifier-test-gen",
        None,
        None,
        None,
        None,
        Some("provenance-source-mismatch"),
    ),
    (
        "wrong source middle A",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/Alaurentsimon/slsa-verifier-test-gen",
        None,
        None,
        None,
        None,
        Some("provenance-source-mismatch"),
    ),
    (
        "tag no match empty tag workflow_dispatch",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        None,
        Some("v1.2.3"),
        None,
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned tag no match empty tag workflow_dispatch",
        "binary-linux-amd64-workflow_dispatch",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "tag v13.0.29 no match v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        Some("v13.0.29"),
        None,
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "tag v13.0 no match v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        Some("v13.0"),
        None,
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "tag v13 no match v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        Some("v13"),
        None,
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13.0.30 match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.0.30"),
        None,
        None,
    ),
    (
        "versioned v13.0 match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.0"),
        None,
        None,
    ),
    (
        "versioned v13 match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13"),
        None,
        None,
    ),
    (
        "versioned v2 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v2"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v0 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v0"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13.1 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v12.9 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v12.9"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13.0.29 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.0.29"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13.0.31 no match push-v13.0.30",
        "binary-linux-amd64-push-v13.0.30",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.0.31"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14 match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14"),
        None,
        None,
    ),
    (
        "versioned v14.0 match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.0"),
        None,
        None,
    ),
    (
        "versioned v14.1 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v15 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v15"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13.2 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13.2"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v15 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v15"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v0 no match push-v14",
        "binary-linux-amd64-push-v14",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v0"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14.2 match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.2"),
        None,
        None,
    ),
    (
        "versioned v14.2.1 match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.2.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14.2.3 match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.2.3"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14 match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14"),
        None,
        None,
    ),
    (
        "versioned v14.1 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14.1.1 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.1.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v14.3.1 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v14.3.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v13 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v13"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v15 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v15"),
        None,
        Some("provenance-ref-mismatch"),
    ),
    (
        "versioned v15.1 no match push-v14.2",
        "binary-linux-amd64-push-v14.2",
        "github.com/slsa-framework/example-package",
        None,
        None,
        Some("v15.1"),
        None,
        Some("provenance-ref-mismatch"),
    ),
];

const GENERIC_BUILDER: &str =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";

#[test]
fn slsa_verifier_artifact_regression_cases_for_the_generic_generator() {
    let ctx = TestContext::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slsa-verifier/gha_generic-v2.1.0");
    let binary = dir.join("binary-linux-amd64");
    let with_version = format!("{GENERIC_BUILDER}@v2.1.0");
    let with_ref = format!("{GENERIC_BUILDER}@refs/tags/v2.1.0");
    for (name, artifact, source, branch, tag, versioned, builder, reason) in ARTIFACT_CASES {
        let provenance = dir.join(format!("{artifact}.intoto.jsonl"));
        let builders: Vec<Option<&str>> = match builder {
            Some(b) => vec![Some(b)],
            None => vec![Some(GENERIC_BUILDER), None, Some(&with_version), Some(&with_ref)],
        };
        for builder in builders {
            let mut args = vec![
                "verify".to_string(),
                binary.display().to_string(),
                "--provenance".into(),
                provenance.display().to_string(),
                "--source-uri".into(),
                source.to_string(),
            ];
            for (flag, value) in [
                ("--source-branch", branch),
                ("--source-tag", tag),
                ("--source-versioned-tag", versioned),
                ("--builder-id", &builder),
            ] {
                if let Some(v) = value {
                    args.extend([flag.to_string(), v.to_string()]);
                }
            }
            let run = ctx.ward(&args);
            match reason {
                None => assert_eq!(run.code, 0, "{name} ({builder:?}): {}", run.stdout),
                Some(code) => {
                    assert_eq!(run.code, 1, "{name} ({builder:?}): {}", run.stdout);
                    run.reason(code);
                }
            }
        }
    }
}
