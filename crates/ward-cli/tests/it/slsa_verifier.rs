//! slsa-verifier's own regression cases for npm packages, run through
//! `ward verify --source-uri … --builder-id …` on the same real tarballs and
//! attestations (shared testdata `npm-attestations`, taken from
//! slsa-verifier's `cli/slsa-verifier/testdata/npm/gha`).
//!
//! The table is `Test_runVerifyNpmPackage` in slsa-verifier's
//! `cli/slsa-verifier/main_regression_test.go` (commit aaf98fd), row by row,
//! with its expected error mapped to ward's reason code. Rows about
//! `--package-name` / `--package-version` are left out: ward checks the
//! package's identity against its own metadata instead of a flag.

use crate::common::{TestContext, shared};

/// (name as in slsa-verifier, artifact, --source-uri, --builder-id, expected reason; `None` = verified).
const CASES: &[(&str, &str, &str, Option<&str>, Option<&str>)] = &[
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
