//! The cooldown and history rules: durations that must carry a unit,
//! a release held back until the right second, and provenance, source and
//! publisher compared with the releases before it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use std::path::Path;
use ward_core::{Artifact, ArtifactKind, CheckKind, Digests};
use ward_policy::release::{
    FetchedProvenance, MetaField, MetaProblem, ProvenanceSource, RecordedRelease, RegistryReleases, ReleaseHistory,
    ReleaseMeta,
};
use ward_policy::{DecisionInput, DiagnosticCode, Policy};
use ward_verify::{Check, fact::unverified};

fn policy(text: &str) -> Policy {
    Policy::parse(text, "ward.toml", Path::new("/nonexistent")).unwrap()
}

fn load_errors(text: &str) -> Vec<(String, usize, String)> {
    let err = Policy::parse(text, "ward.toml", Path::new("/nonexistent")).unwrap_err();
    err.diagnostics
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.line().unwrap(), d.message.clone()))
        .collect()
}

#[test]
fn durations_without_units_negative_vague_or_absurd_are_load_errors_at_their_line() {
    for (value, says) in [
        ("3", "has no unit"),
        ("\"3\"", "has no unit"),
        ("\"72\"", "has no unit"),
        ("\"-3d\"", "negative"),
        ("\"1mo\"", "months or years"),
        ("\"4000d\"", "over ten years"),
        ("\"3 dayz\"", "not a duration"),
    ] {
        let text = format!("[defaults]\nmode = \"enforce\"\ncooldown = {{ min_age = {value} }}\n");
        let found = load_errors(&text);
        assert_eq!(found.len(), 1, "{value}: {found:?}");
        assert_eq!(found[0].0, "invalid-duration", "{value}");
        assert_eq!(found[0].1, 3, "{value}");
        assert!(found[0].2.contains(says), "{value}: {}", found[0].2);
    }
    let scoped = "[[scope]]\npackages = [\"npm:*\"]\n\ncooldown = { min_age = 72 }\n";
    let found = load_errors(scoped);
    assert_eq!(found[0].0, "invalid-duration");
    assert_eq!(found[0].1, 4);
    assert_eq!(DiagnosticCode::InvalidDuration.as_str(), "invalid-duration");
}

#[test]
fn unsupported_security_fix_skipping_and_bad_history_settings_are_load_errors() {
    let found = load_errors("[defaults]\ncooldown = { min_age = \"3d\", allow_security_fixes = true }\n");
    assert_eq!(found[0].0, "not-supported");
    let found =
        load_errors("[[scope]]\npackages = [\"npm:*\"]\nhistory = { provenance_regression = \"maybe\", window = 0 }\n");
    let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(codes, ["wrong-type", "invalid-window"]);
    // Written as the issue does, it loads.
    policy(
        "[defaults]\ncooldown = { min_age = \"3d\", exempt = [\"npm:@acme/*\"], allow_security_fixes = false }\n\
         [[scope]]\npackages = [\"npm:*\"]\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n",
    );
}

fn artifact(purl: &str) -> Artifact {
    Artifact {
        id: purl.parse().unwrap(),
        kind: ArtifactKind::NpmTarball,
        file_name: "a.tgz".into(),
        size: 1,
        digests: Digests::of(b"a"),
        license: None,
    }
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn meta(version: &str, published: &str, publisher: &str, provenance: bool) -> ReleaseMeta {
    ReleaseMeta {
        version: version.into(),
        published: Some(t(published)),
        publisher: Some(publisher.into()),
        provenance,
    }
}

fn registry(release: ReleaseMeta, earlier: Vec<ReleaseMeta>) -> RegistryReleases {
    RegistryReleases {
        source: "npm packument".into(),
        names_publishers: true,
        release,
        earlier,
        problems: Vec::new(),
    }
}

/// The decision input for an artifact with these checks and release history at `now`.
fn input<'a>(
    a: &'a Artifact,
    checks: &'a [Check],
    release: Option<&'a ReleaseHistory>,
    now: Timestamp,
) -> DecisionInput<'a> {
    DecisionInput {
        artifact: a,
        checks,
        now,
        scan: None,
        notes: &[],
        fail_on: None,
        keyless_checked: true,
        risky: None,
        release,
    }
}

fn decide(
    p: &Policy,
    purl: &str,
    checks: &[Check],
    release: Option<&ReleaseHistory>,
    now: Timestamp,
) -> Vec<(String, String)> {
    let a = artifact(purl);
    let d = p.decide(&input(&a, checks, release, now));
    let mut out: Vec<(String, String)> = d
        .reasons
        .iter()
        .map(|r| (format!("deny {}", r.code), r.message.clone()))
        .collect();
    out.extend(
        d.warnings
            .iter()
            .map(|r| (format!("warn {}", r.code), r.message.clone())),
    );
    out.extend(d.audit.iter().map(|r| (format!("audit {}", r.code), r.message.clone())));
    out
}

fn signed() -> Check {
    Check::pass(
        CheckKind::Signature,
        None,
        vec![unverified::signature(
            unverified::key_signer("sha256:00", "ED25519"),
            "a.sig",
        )],
    )
}

fn provenance(repo: &str, workflow: &str) -> Check {
    let mut p = unverified::provenance_of_type("https://slsa.dev/provenance/v1");
    p.builder_id = Some("https://github.com/actions/runner/github-hosted".into());
    p.source_repository = Some(repo.into());
    p.workflow_path = Some(workflow.into());
    let signer = unverified::keyless_signer(
        &format!("{repo}/{workflow}@refs/heads/main"),
        "https://token.actions.githubusercontent.com",
    );
    Check::pass(
        CheckKind::Attestation,
        None,
        vec![unverified::provenance(p, signer, "a.npm-attestations.json")],
    )
}

const COOLDOWN: &str = "[defaults]\ncooldown = { min_age = \"3d\", exempt = [\"npm:@acme/*\"] }\n";

#[test]
fn a_release_younger_than_the_cooldown_is_refused_until_the_exact_second_it_is_eligible() {
    let p = policy(COOLDOWN);
    let h = ReleaseHistory {
        registry: Some(registry(meta("1.0.0", "2026-03-01T10:00:00Z", "alice", false), vec![])),
        ..ReleaseHistory::default()
    };
    let found = decide(
        &p,
        "pkg:npm/left-pad@1.0.0",
        &[signed()],
        Some(&h),
        t("2026-03-04T09:59:59Z"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "deny release-too-new");
    assert!(
        found[0].1.contains("lets it in at 2026-03-04T10:00:00Z (UTC)"),
        "{}",
        found[0].1
    );
    assert!(found[0].1.contains("ward.toml:2"), "{}", found[0].1);
    assert!(
        decide(
            &p,
            "pkg:npm/left-pad@1.0.0",
            &[signed()],
            Some(&h),
            t("2026-03-04T10:00:00Z")
        )
        .is_empty()
    );
    // Exempt packages are not held back.
    assert!(
        decide(
            &p,
            "pkg:npm/%40acme/tool@1.0.0",
            &[signed()],
            Some(&h),
            t("2026-03-01T10:00:01Z")
        )
        .is_empty()
    );
}

#[test]
fn a_release_with_no_known_or_a_future_publish_time_does_not_pass_the_cooldown() {
    let p = policy(COOLDOWN);
    let now = t("2026-03-10T00:00:00Z");
    let found = decide(&p, "pkg:npm/a@1.0.0", &[signed()], None, now);
    assert_eq!(found[0].0, "deny release-age-unknown");
    let mut unknown = registry(meta("1.0.0", "2026-03-01T00:00:00Z", "alice", false), vec![]);
    unknown.release.published = None;
    let h = ReleaseHistory {
        registry: Some(unknown),
        ..ReleaseHistory::default()
    };
    assert_eq!(
        decide(&p, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now)[0].0,
        "deny release-age-unknown"
    );
    let h = ReleaseHistory {
        registry: Some(registry(meta("1.0.0", "2026-03-11T00:00:00Z", "alice", false), vec![])),
        ..ReleaseHistory::default()
    };
    let found = decide(&p, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now);
    assert_eq!(found[0].0, "deny release-metadata-invalid");
    assert!(found[0].1.contains("in the future"), "{}", found[0].1);
    let mut twice = registry(meta("1.0.0", "2026-03-01T00:00:00Z", "alice", false), vec![]);
    twice.problems.push(MetaProblem {
        field: MetaField::Versions,
        message: "versions[\"1.0.0\"] is listed twice in the npm packument".into(),
    });
    let h = ReleaseHistory {
        registry: Some(twice),
        ..ReleaseHistory::default()
    };
    let found = decide(&p, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now);
    assert_eq!(found[0].0, "deny release-metadata-invalid");
    assert!(found[0].1.contains("listed twice"), "{}", found[0].1);
}

const HISTORY: &str = "[[scope]]\npackages = [\"npm:*\"]\nkeys = []\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 2 }\n";

fn history_policy() -> Policy {
    // No trusted signers: the scope's own signature rule fails; only the history reasons are looked at.
    policy(HISTORY)
}

fn codes(found: &[(String, String)], prefix: &str) -> Vec<String> {
    found
        .iter()
        .filter(|(c, _)| c.contains("provenance-") || c.contains("publisher-") || c.contains("release-"))
        .filter(|(c, _)| c.starts_with(prefix))
        .map(|(c, _)| c.clone())
        .collect()
}

#[test]
fn a_release_without_the_provenance_earlier_releases_had_is_a_provenance_regression() {
    let p = history_policy();
    let now = t("2026-03-10T00:00:00Z");
    let h = ReleaseHistory {
        registry: Some(registry(
            meta("1.2.0", "2026-03-05T00:00:00Z", "alice", false),
            vec![
                meta("1.1.0", "2026-02-01T00:00:00Z", "alice", true),
                meta("1.0.0", "2026-01-01T00:00:00Z", "alice", true),
            ],
        )),
        ledger: true,
        ..ReleaseHistory::default()
    };
    let found = decide(&p, "pkg:npm/a@1.2.0", &[signed()], Some(&h), now);
    assert_eq!(codes(&found, ""), ["deny provenance-regression"], "{found:?}");
    let message = &found
        .iter()
        .find(|(c, _)| c.ends_with("provenance-regression"))
        .unwrap()
        .1;
    assert!(message.contains("1.1.0, 1.0.0"), "{message}");
    // With provenance of its own, and nothing verified to compare its source with, it passes.
    let ok = decide(
        &p,
        "pkg:npm/a@1.2.0",
        &[
            signed(),
            provenance("https://github.com/o/r", ".github/workflows/release.yml"),
        ],
        Some(&h),
        now,
    );
    assert!(codes(&ok, "").is_empty(), "{ok:?}");
    // Outside the window, earlier provenance is not compared.
    let mut old = h.clone();
    if let Some(r) = &mut old.registry {
        r.earlier = vec![
            meta("1.1.0", "2026-02-01T00:00:00Z", "alice", false),
            meta("1.0.1", "2026-01-15T00:00:00Z", "alice", false),
            meta("1.0.0", "2026-01-01T00:00:00Z", "alice", true),
        ];
    }
    assert!(codes(&decide(&p, "pkg:npm/a@1.2.0", &[signed()], Some(&old), now), "").is_empty());
}

#[test]
fn provenance_from_another_repository_than_the_ledger_verified_is_a_source_change() {
    let p = history_policy();
    let now = t("2026-03-10T00:00:00Z");
    let h = ReleaseHistory {
        registry: Some(registry(
            meta("1.2.0", "2026-03-05T00:00:00Z", "alice", true),
            vec![meta("1.1.0", "2026-02-01T00:00:00Z", "alice", true)],
        )),
        recorded: vec![RecordedRelease {
            version: "1.1.0".into(),
            index: 7,
            published: Some(t("2026-02-01T00:00:00Z")),
            publisher: Some("alice".into()),
            provenance: Some(ProvenanceSource {
                repository: Some("https://github.com/o/r".into()),
                workflow: Some(".github/workflows/release.yml".into()),
                builder: Some("https://github.com/actions/runner/github-hosted".into()),
            }),
        }],
        ledger: true,
        ..ReleaseHistory::default()
    };
    let same = decide(
        &p,
        "pkg:npm/a@1.2.0",
        &[
            signed(),
            provenance("git+https://GitHub.com/o/r.git", ".github/workflows/release.yml"),
        ],
        Some(&h),
        now,
    );
    assert!(codes(&same, "").is_empty(), "{same:?}");
    let moved = decide(
        &p,
        "pkg:npm/a@1.2.0",
        &[
            signed(),
            provenance("https://github.com/evil/r", ".github/workflows/release.yml"),
        ],
        Some(&h),
        now,
    );
    assert_eq!(codes(&moved, ""), ["deny provenance-source-changed"], "{moved:?}");
    let message = &moved.iter().find(|(c, _)| c.ends_with("source-changed")).unwrap().1;
    assert!(
        message.contains("https://github.com/evil/r") && message.contains("1.1.0 (ledger entry 7)"),
        "{message}"
    );
}

#[test]
fn a_publisher_never_seen_in_the_window_is_a_publisher_change_in_the_rules_mode() {
    let p = history_policy();
    let now = t("2026-03-10T00:00:00Z");
    let h = ReleaseHistory {
        registry: Some(registry(
            meta("1.2.0", "2026-03-05T00:00:00Z", "mallory", false),
            vec![
                meta("1.1.0", "2026-02-01T00:00:00Z", "alice", false),
                meta("1.0.0", "2026-01-01T00:00:00Z", "bob", false),
            ],
        )),
        ledger: true,
        ..ReleaseHistory::default()
    };
    let found = decide(&p, "pkg:npm/a@1.2.0", &[signed()], Some(&h), now);
    assert_eq!(codes(&found, ""), ["warn publisher-changed"], "{found:?}");
    // PyPI names no publisher: the rule cannot be evaluated, and says so.
    let mut pypi = h.clone();
    if let Some(r) = &mut pypi.registry {
        r.names_publishers = false;
        r.source = "PyPI JSON Simple API".into();
    }
    let found = decide(&p, "pkg:npm/a@1.2.0", &[signed()], Some(&pypi), now);
    assert_eq!(codes(&found, ""), ["warn release-history-unknown"], "{found:?}");
    // A ledger whose history cannot be read makes both rules unevaluable.
    let broken = ReleaseHistory {
        recorded_unreadable: Some("disk on fire".into()),
        ..h
    };
    let found = decide(&p, "pkg:npm/a@1.2.0", &[signed()], Some(&broken), now);
    assert_eq!(
        codes(&found, ""),
        ["deny release-history-unknown", "warn release-history-unknown"],
        "{found:?}"
    );
}

#[test]
fn the_cooldown_denies_at_its_own_level_whatever_the_mode_and_can_be_set_to_warn() {
    let h = ReleaseHistory {
        registry: Some(registry(meta("1.0.0", "2026-03-01T10:00:00Z", "alice", false), vec![])),
        ..ReleaseHistory::default()
    };
    let now = t("2026-03-01T11:00:00Z");
    let warn_mode = policy("[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"30m\" }\n");
    let found = decide(&warn_mode, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now);
    assert!(found.is_empty(), "{found:?}");
    let warn_mode = policy("[defaults]\nmode = \"warn\"\ncooldown = { min_age = \"72h\" }\n");
    let found = decide(&warn_mode, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now);
    assert_eq!(found[0].0, "deny release-too-new", "{found:?}");
    let lenient = policy("[defaults]\ncooldown = { min_age = \"3d\", level = \"warn\" }\n");
    let found = decide(&lenient, "pkg:npm/a@1.0.0", &[signed()], Some(&h), now);
    assert_eq!(found[0].0, "warn release-too-new", "{found:?}");
    // A listing hides only what a cooldown at `deny` would refuse.
    let id: ward_core::PackageId = "pkg:npm/a@1.0.0".parse().unwrap();
    assert!(warn_mode.listing_hold(&id, &h, now).is_some());
    assert!(lenient.listing_hold(&id, &h, now).is_none());
}

#[test]
fn listed_provenance_that_does_not_verify_leaves_no_baseline_to_compare_a_source_with() {
    let p = history_policy();
    let now = t("2026-03-10T00:00:00Z");
    let mut h = ReleaseHistory {
        registry: Some(registry(
            meta("1.2.0", "2026-03-05T00:00:00Z", "alice", true),
            vec![meta("1.1.0", "2026-02-01T00:00:00Z", "alice", true)],
        )),
        ledger: true,
        fetched: vec![FetchedProvenance {
            version: "1.1.0".into(),
            evidence: "https://registry.invalid/-/npm/v1/attestations/a@1.1.0".into(),
            provenance: None,
            unverified: Some("signature-invalid".into()),
        }],
        ..ReleaseHistory::default()
    };
    let mine = [
        signed(),
        provenance("https://github.com/o/r", ".github/workflows/release.yml"),
    ];
    let found = decide(&p, "pkg:npm/a@1.2.0", &mine, Some(&h), now);
    assert_eq!(codes(&found, ""), ["deny release-history-unknown"], "{found:?}");
    // Verified, it is the baseline: another repository is a source change.
    h.fetched[0].provenance = Some(ProvenanceSource {
        repository: Some("https://github.com/o/elsewhere".into()),
        workflow: Some(".github/workflows/release.yml".into()),
        builder: Some("https://github.com/actions/runner/github-hosted".into()),
    });
    h.fetched[0].unverified = None;
    let found = decide(&p, "pkg:npm/a@1.2.0", &mine, Some(&h), now);
    assert_eq!(codes(&found, ""), ["deny provenance-source-changed"], "{found:?}");
}

#[test]
fn each_policy_reason_carries_the_file_and_line_of_its_rule() {
    // The cooldown, written on line 2 of the defaults.
    let young = ReleaseHistory {
        registry: Some(registry(meta("1.0.0", "2026-03-01T10:00:00Z", "alice", false), vec![])),
        ..ReleaseHistory::default()
    };
    let a = artifact("pkg:npm/left-pad@1.0.0");
    let checks = [signed()];
    let d = policy(COOLDOWN).decide(&input(&a, &checks, Some(&young), t("2026-03-02T00:00:00Z")));
    let r = d.reasons.iter().find(|r| r.code.as_str() == "release-too-new").unwrap();
    assert_eq!(r.location, Some(ward_core::Location::line("ward.toml", 2)), "{r:?}");
    // The history rule (line 4 of its scope), and the scope's own signer rule, whose
    // location is where the scope says who it trusts.
    let h = ReleaseHistory {
        registry: Some(registry(
            meta("1.2.0", "2026-03-05T00:00:00Z", "alice", false),
            vec![meta("1.1.0", "2026-02-01T00:00:00Z", "alice", true)],
        )),
        ledger: true,
        ..ReleaseHistory::default()
    };
    let a = artifact("pkg:npm/a@1.2.0");
    let d = history_policy().decide(&input(&a, &checks, Some(&h), t("2026-03-10T00:00:00Z")));
    let r = d
        .reasons
        .iter()
        .find(|r| r.code.as_str() == "provenance-regression")
        .unwrap();
    assert_eq!(r.location, Some(ward_core::Location::line("ward.toml", 4)), "{r:?}");
    assert!(
        d.reasons
            .iter()
            .chain(&d.warnings)
            .all(|r| r.location.as_ref().is_some_and(|l| l.file == "ward.toml")),
        "every reason the policy adds names the policy file: {d:?}"
    );
}
