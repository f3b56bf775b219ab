//! slsa-verifier's rules for `verify-artifact` (and, for npm CLI
//! provenance, `verify-npm-package`), ported rule by rule so a provenance
//! ward accepts is one slsa-verifier accepts, and a refusal names the same
//! rule.
//!
//! Ported by hand from slsa-framework/slsa-verifier (v2, commit aaf98fd):
//! `verifiers/utils/builder.go` (builder ids, `MatchesLoose`/`MatchesFull`,
//! builder tags), `verifiers/utils/git.go` (git URIs and refs),
//! `verifiers/utils/source_tag.go` (versioned tags),
//! `verifiers/internal/gha/provenance.go` (source URI, tag, branch, builder
//! checks), `verifiers/internal/gha/builder.go` (the certificate's builder
//! identity and the default trusted builders) and the provenance accessors
//! of `verifiers/internal/gha/slsaprovenance`. Their regression tables are
//! ported as the tests below. The Go module `golang.org/x/mod/semver` they
//! rely on (a `v` prefix, `v1` and `v1.2` shorthands) has no Rust crate
//! with the same rules, so its parser is ported here too ([`gosemver`]).
//!
//! What ward does differently, on purpose: the subject digest is bound to
//! the artifact before a statement becomes a fact (so it is not checked
//! again here); the certificate's source repository is the one ward already
//! reconciled with the statement; npm CLI provenance carries no
//! `GITHUB_REF_TYPE`, so its tag and branch are read from the workflow ref
//! (slsa-verifier fails there).

use serde_json::Value;
use std::fmt;
use ward_core::ReasonCode;

/// The GitHub Actions OIDC issuer, the only one slsa-verifier accepts.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
const HTTPS_GITHUB_COM: &str = "https://github.com/";
const TRUSTED_BUILDER_REPOSITORY: &str = "https://github.com/slsa-framework/slsa-github-generator";
const JRELEASER_REPOSITORY: &str = "https://github.com/jreleaser/release-action";

/// Builder ids slsa-verifier knows (`slsaprovenance/common/builders.go`).
pub mod builders {
    /// The generic generator.
    pub const GENERIC_GENERATOR: &str =
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";
    /// The Go builder.
    pub const GO: &str =
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml";
    /// The container-based builder.
    pub const CONTAINER_BASED: &str =
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml";
    /// The BYOB generic delegator.
    pub const GENERIC_DELEGATOR: &str =
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml";
    /// The BYOB low-permissions delegator.
    pub const GENERIC_LOW_PERMS_DELEGATOR: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml";
    /// npm CLI, legacy id (taken as GitHub-hosted).
    pub const NPM_CLI_LEGACY: &str = "https://github.com/actions/runner";
    /// npm CLI on GitHub-hosted runners.
    pub const NPM_CLI_HOSTED: &str = "https://github.com/actions/runner/github-hosted";
    /// npm CLI on self-hosted runners.
    pub const NPM_CLI_SELF_HOSTED: &str = "https://github.com/actions/runner/self-hosted";
    /// The container generator.
    pub const CONTAINER_GENERATOR: &str =
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml";
    /// bazel-contrib's ruleset release workflow.
    pub const BCR_RELEASER: &str = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml";
    /// bazel-contrib's publish-to-bcr workflow.
    pub const BCR_PUBLISHER: &str = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml";
}

/// Build types slsa-verifier tells apart (`slsaprovenance/common/buildtypes.go`).
pub mod buildtypes {
    /// BYOB delegated builders.
    pub const BYOB_BUILD_TYPE_V0: &str = "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0";
    /// npm CLI, v1.
    pub const NPM_CLI_BUILD_TYPE_V1: &str = "https://github.com/npm/cli/gha@v1";
    /// npm CLI, v2.
    pub const NPM_CLI_BUILD_TYPE_V2: &str = "https://github.com/npm/cli/gha/v2";
    /// npm CLI from GitHub Actions (SLSA v1).
    pub const NPM_CLI_GITHUB_ACTIONS_BUILD_TYPE_V1: &str =
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
    /// GitHub's own attestations (`actions/attest-build-provenance`).
    pub const GITHUB_ACTIONS_BUILD_TYPE_V1: &str = "https://actions.github.io/buildtypes/workflow/v1";
    /// The container-based builder.
    pub const CONTAINER_BASED_BUILD_TYPE_V01_DRAFT: &str = "https://slsa.dev/container-based-build/v0.1?draft";
    /// The Go builder.
    pub const GO_BUILDER_BUILD_TYPE_V1: &str = "https://github.com/slsa-framework/slsa-github-generator/go@v1";
    /// The generic generator.
    pub const GENERIC_GENERATOR_BUILD_TYPE_V1: &str =
        "https://github.com/slsa-framework/slsa-github-generator/generic@v1";
    /// The container generator.
    pub const CONTAINER_GENERATOR_BUILD_TYPE_V1: &str =
        "https://github.com/slsa-framework/slsa-github-generator/container@v1";
    /// A legacy Go builder build type.
    pub const LEGACY_GO_BUILDER_BUILD_TYPE_V1: &str = "https://github.com/slsa-framework/slsa-github-generator-go@v1";
    /// A legacy generic build type.
    pub const LEGACY_BUILDER_BUILD_TYPE_V1: &str = "https://github.com/slsa-framework/slsa-github-generator@v1";
}

/// The `buildTypeMap`s of `slsaprovenance/v0.2/provenance.go` and
/// `slsaprovenance/v1.0/provenance.go`: which builder's provenance
/// slsa-verifier reads at all, and with which build types.
fn build_type_supported(v1: bool, builder: &str, build_type: &str) -> R<()> {
    use buildtypes as t;
    let map: &[(&str, &str)] = if v1 {
        &[
            (builders::GENERIC_DELEGATOR, t::BYOB_BUILD_TYPE_V0),
            (builders::GENERIC_LOW_PERMS_DELEGATOR, t::BYOB_BUILD_TYPE_V0),
            (builders::CONTAINER_BASED, t::CONTAINER_BASED_BUILD_TYPE_V01_DRAFT),
            (builders::NPM_CLI_HOSTED, t::NPM_CLI_GITHUB_ACTIONS_BUILD_TYPE_V1),
            (builders::BCR_RELEASER, t::GITHUB_ACTIONS_BUILD_TYPE_V1),
            (builders::BCR_PUBLISHER, t::GITHUB_ACTIONS_BUILD_TYPE_V1),
        ]
    } else {
        &[
            (builders::GENERIC_DELEGATOR, t::BYOB_BUILD_TYPE_V0),
            (builders::GENERIC_LOW_PERMS_DELEGATOR, t::BYOB_BUILD_TYPE_V0),
            (builders::GO, t::GO_BUILDER_BUILD_TYPE_V1),
            (builders::GO, t::LEGACY_BUILDER_BUILD_TYPE_V1),
            (builders::GO, t::LEGACY_GO_BUILDER_BUILD_TYPE_V1),
            (builders::GENERIC_GENERATOR, t::GENERIC_GENERATOR_BUILD_TYPE_V1),
            (builders::CONTAINER_GENERATOR, t::CONTAINER_GENERATOR_BUILD_TYPE_V1),
            (builders::NPM_CLI_LEGACY, t::NPM_CLI_BUILD_TYPE_V1),
            (builders::NPM_CLI_LEGACY, t::NPM_CLI_BUILD_TYPE_V2),
            (builders::NPM_CLI_HOSTED, t::NPM_CLI_BUILD_TYPE_V1),
            (builders::NPM_CLI_HOSTED, t::NPM_CLI_BUILD_TYPE_V2),
        ]
    };
    if !map.iter().any(|(b, _)| *b == builder) {
        return Err(SlsaError::new(
            Kind::InvalidBuilderId,
            format!(
                "slsa-verifier reads no SLSA {} provenance from builder {builder:?}",
                if v1 { "v1" } else { "v0.2" }
            ),
        ));
    }
    if !map.iter().any(|(b, bt)| *b == builder && *bt == build_type) {
        return Err(SlsaError::new(
            Kind::InvalidBuildType,
            format!("{build_type:?} for builder ID {builder:?}"),
        ));
    }
    Ok(())
}

/// The reusable workflows `verify-artifact` trusts without `--builder-id`
/// (`defaultArtifactTrustedReusableWorkflows` and the BYOB delegators).
pub const DEFAULT_TRUSTED_BUILDERS: &[&str] = &[
    builders::GENERIC_GENERATOR,
    builders::GO,
    builders::CONTAINER_BASED,
    builders::GENERIC_DELEGATOR,
    builders::GENERIC_LOW_PERMS_DELEGATOR,
];
const BYOB_BUILDERS: &[&str] = &[builders::GENERIC_DELEGATOR, builders::GENERIC_LOW_PERMS_DELEGATOR];

/// slsa-verifier's error kinds (`errors/errors.go`) that these rules return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Kind {
    MalformedUri,
    MismatchSource,
    InvalidDssePayload,
    InvalidRef,
    InvalidSemver,
    MismatchVersionedTag,
    MismatchTag,
    MismatchBranch,
    MismatchBuilderId,
    InvalidFormat,
    InvalidBuilderId,
    InvalidBuildType,
    UntrustedReusableWorkflow,
    InvalidOidcIssuer,
    NotSupported,
}

/// A rule that failed: slsa-verifier's error kind and what was compared.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlsaError {
    /// The kind, as slsa-verifier names it.
    pub kind: Kind,
    /// What was expected and found.
    pub message: String,
}

impl SlsaError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for SlsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

type R<T> = Result<T, SlsaError>;

/// `golang.org/x/mod/semver`, the parts slsa-verifier calls.
pub mod gosemver {
    struct Parsed<'a> {
        major: &'a str,
        short: &'static str,
        prerelease: &'a str,
        build: &'a str,
    }

    fn parse_int(v: &str) -> Option<(&str, &str)> {
        let b = v.as_bytes();
        if b.is_empty() || !b[0].is_ascii_digit() {
            return None;
        }
        let mut i = 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if b[0] == b'0' && i != 1 {
            return None;
        }
        Some((&v[..i], &v[i..]))
    }

    fn is_ident_char(c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'-'
    }

    fn is_bad_num(v: &str) -> bool {
        let b = v.as_bytes();
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        digits == b.len() && digits > 1 && b[0] == b'0'
    }

    fn parse_prerelease(v: &str) -> Option<(&str, &str)> {
        let b = v.as_bytes();
        if b.first() != Some(&b'-') {
            return None;
        }
        let (mut i, mut start) = (1, 1);
        while i < b.len() && b[i] != b'+' {
            if !is_ident_char(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i || is_bad_num(&v[start..i]) {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i || is_bad_num(&v[start..i]) {
            return None;
        }
        Some((&v[..i], &v[i..]))
    }

    fn parse_build(v: &str) -> Option<(&str, &str)> {
        let b = v.as_bytes();
        if b.first() != Some(&b'+') {
            return None;
        }
        let (mut i, mut start) = (1, 1);
        while i < b.len() {
            if !is_ident_char(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i {
            return None;
        }
        Some((&v[..i], &v[i..]))
    }

    fn parse(v: &str) -> Option<Parsed<'_>> {
        let rest = v.strip_prefix('v')?;
        let (major, rest) = parse_int(rest)?;
        let mut p = Parsed {
            major,
            short: "",
            prerelease: "",
            build: "",
        };
        if rest.is_empty() {
            p.short = ".0.0";
            return Some(p);
        }
        let (_, rest) = parse_int(rest.strip_prefix('.')?)?;
        if rest.is_empty() {
            p.short = ".0";
            return Some(p);
        }
        let (_, mut rest) = parse_int(rest.strip_prefix('.')?)?;
        if rest.starts_with('-') {
            (p.prerelease, rest) = parse_prerelease(rest)?;
        }
        if rest.starts_with('+') {
            (p.build, rest) = parse_build(rest)?;
        }
        rest.is_empty().then_some(p)
    }

    /// `semver.IsValid`.
    pub fn is_valid(v: &str) -> bool {
        parse(v).is_some()
    }

    /// `semver.Canonical`: `vMAJOR.MINOR.PATCH[-PRERELEASE]`, build dropped;
    /// empty when invalid.
    pub fn canonical(v: &str) -> String {
        match parse(v) {
            None => String::new(),
            Some(p) if !p.build.is_empty() => v[..v.len() - p.build.len()].to_string(),
            Some(p) => format!("{v}{}", p.short),
        }
    }

    /// `semver.Major`: `vMAJOR`; empty when invalid.
    pub fn major(v: &str) -> &str {
        parse(v).map(|p| &v[..1 + p.major.len()]).unwrap_or("")
    }

    /// `semver.Prerelease`.
    pub fn prerelease(v: &str) -> &str {
        parse(v).map(|p| p.prerelease).unwrap_or("")
    }

    /// `semver.Build`.
    pub fn build(v: &str) -> &str {
        parse(v).map(|p| p.build).unwrap_or("")
    }
}

/// `NormalizeGitURI`: `github.com/o/r` → `git+https://github.com/o/r`.
pub fn normalize_git_uri(s: &str) -> String {
    if s.starts_with("git+") {
        s.to_string()
    } else if s.contains("://") {
        format!("git+{s}")
    } else {
        format!("git+https://{s}")
    }
}

/// `ParseGitURIAndRef`: `git+URI@REF` → (`git+URI`, `REF`); the ref is
/// empty when there is no `@`.
pub fn parse_git_uri_and_ref(uri: &str) -> R<(String, String)> {
    if uri.is_empty() {
        return Err(SlsaError::new(Kind::MalformedUri, "empty uri"));
    }
    if !uri.starts_with("git+") {
        return Err(SlsaError::new(Kind::MalformedUri, format!("not a git URI: {uri:?}")));
    }
    Ok(match uri.split_once('@') {
        Some((u, r)) => (u.to_string(), r.to_string()),
        None => (uri.to_string(), String::new()),
    })
}

/// `ParseGitRef`: `refs/TYPE/NAME` → (`TYPE`, `NAME`); anything else is
/// (``, the ref).
pub fn parse_git_ref(r: &str) -> (&str, &str) {
    let mut parts = r.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("refs"), Some(t), Some(name)) => (t, name),
        _ => ("", r),
    }
}

fn validate_git_ref<'a>(ref_type: &str, r: &'a str) -> R<&'a str> {
    let (t, name) = parse_git_ref(r);
    if t != ref_type {
        return Err(SlsaError::new(
            Kind::InvalidRef,
            format!("{r:?}: unexpected ref type: {t:?}"),
        ));
    }
    if name.is_empty() {
        return Err(SlsaError::new(Kind::InvalidRef, format!("{r:?}: empty ref name")));
    }
    Ok(name)
}

/// `TagFromGitRef`.
pub fn tag_from_git_ref(r: &str) -> R<&str> {
    validate_git_ref("tags", r)
}

/// `BranchFromGitRef`.
pub fn branch_from_git_ref(r: &str) -> R<&str> {
    validate_git_ref("heads", r)
}

/// A builder id, `NAME[@VERSION]` (`TrustedBuilderID`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuilderId {
    /// The builder's URI.
    pub name: String,
    /// Its version or ref; empty when none was given.
    pub version: String,
}

/// `ParseBuilderID`.
pub fn parse_builder_id(id: &str, need_version: bool) -> R<(String, String)> {
    let parts: Vec<&str> = id.split('@').collect();
    let bad = || SlsaError::new(Kind::InvalidFormat, format!("builderID: {id:?}"));
    match parts.as_slice() {
        [_, ""] => Err(bad()),
        [name, version] => Ok(((*name).to_string(), (*version).to_string())),
        [name] if !need_version => Ok(((*name).to_string(), String::new())),
        _ => Err(bad()),
    }
}

impl BuilderId {
    /// `TrustedBuilderIDNew`.
    pub fn new(id: &str, need_version: bool) -> R<Self> {
        let (name, version) = parse_builder_id(id, need_version)?;
        Ok(Self { name, version })
    }

    fn mismatch(what: &str, expected: &str, got: &str) -> SlsaError {
        SlsaError::new(
            Kind::MismatchBuilderId,
            format!("builder id: expected {what} {expected:?}, got {got:?}"),
        )
    }

    /// `MatchesLoose`: names must be equal; a version in `builder_id` must
    /// equal this one's (with `allow_ref`, `V` also matches `refs/tags/V`).
    pub fn matches_loose(&self, builder_id: &str, allow_ref: bool) -> R<()> {
        let (name, version) = parse_builder_id(builder_id, false)?;
        if name != self.name {
            return Err(Self::mismatch("name", &self.name, &name));
        }
        if !version.is_empty() && version != self.version {
            if allow_ref && format!("refs/tags/{version}") == self.version {
                return Ok(());
            }
            return Err(Self::mismatch("version", &version, &self.version));
        }
        Ok(())
    }

    /// `MatchesFull`: name and version both equal (with `allow_ref`, `V`
    /// also matches `refs/tags/V`).
    pub fn matches_full(&self, builder_id: &str, allow_ref: bool) -> R<()> {
        let (name, version) = parse_builder_id(builder_id, false)?;
        if name != self.name {
            return Err(Self::mismatch("name", &self.name, &name));
        }
        if version != self.version {
            if allow_ref && format!("refs/tags/{version}") == self.version {
                return Ok(());
            }
            return Err(Self::mismatch("version", &version, &self.version));
        }
        Ok(())
    }
}

impl fmt::Display for BuilderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}@{}", self.name, self.version)
        }
    }
}

/// `IsValidBuilderTag`: `refs/tags/vX.Y.Z`, no pre-release or build
/// (with `testing`, a pre-release is allowed).
pub fn is_valid_builder_tag(r: &str, testing: bool) -> R<()> {
    let pin = tag_from_git_ref(r)?;
    let ok = if testing {
        let core = pin.split('-').next().unwrap_or("");
        gosemver::is_valid(pin) && core.split('.').count() == 3 && gosemver::build(pin).is_empty()
    } else {
        gosemver::is_valid(pin)
            && pin.split('.').count() == 3
            && gosemver::prerelease(pin).is_empty()
            && gosemver::build(pin).is_empty()
    };
    if ok {
        Ok(())
    } else {
        Err(SlsaError::new(
            Kind::InvalidRef,
            format!("{pin}: builder tag not of the form vX.Y.Z"),
        ))
    }
}

fn is_valid_jreleaser_builder_tag(r: &str) -> R<()> {
    let pin = tag_from_git_ref(r)?;
    if gosemver::is_valid(pin)
        && pin.split('.').count() == 3
        && gosemver::prerelease(pin) == "-java"
        && gosemver::build(pin).is_empty()
    {
        Ok(())
    } else {
        Err(SlsaError::new(
            Kind::InvalidRef,
            format!("{pin}: not of the form vX.Y.Z-<language>"),
        ))
    }
}

fn version_part(v: &str, i: usize) -> Option<&str> {
    v.split('.').nth(i)
}

/// `utils.VerifyVersionedTag`: the provenance's tag matches `expected` by
/// semantic-version prefix (`v1` matches `v1.x.y`, `v1.2` matches
/// `v1.2.y`); a tag that is not a semantic version never matches.
pub fn verify_versioned_tag(provenance_tag: &str, expected: &str) -> R<()> {
    if !gosemver::is_valid(expected) {
        return Err(SlsaError::new(
            Kind::InvalidSemver,
            format!("{expected}: invalid semver"),
        ));
    }
    let sem_tag = gosemver::canonical(provenance_tag);
    if !gosemver::is_valid(&sem_tag) {
        return Err(SlsaError::new(
            Kind::InvalidSemver,
            format!("{provenance_tag}: invalid semver"),
        ));
    }
    let mismatch = |what: &str, e: &str, g: &str| {
        SlsaError::new(
            Kind::MismatchVersionedTag,
            format!("versioned tag: {what} version expected {e:?}, got {g:?} (tag {provenance_tag})"),
        )
    };
    let (em, m) = (gosemver::major(expected), gosemver::major(&sem_tag));
    if em != m {
        return Err(mismatch("major", em, m));
    }
    let invalid = |v: &str| SlsaError::new(Kind::InvalidSemver, format!("{v}: invalid semver"));
    if let Some(expected_minor) = version_part(expected, 1) {
        let minor = version_part(&sem_tag, 1).ok_or_else(|| invalid(&sem_tag))?;
        if minor != expected_minor {
            return Err(mismatch("minor", expected_minor, minor));
        }
    }
    if let Some(expected_patch) = version_part(expected, 2) {
        let expected_patch = expected_patch
            .strip_suffix(gosemver::build(expected))
            .unwrap_or(expected_patch);
        let patch = version_part(&sem_tag, 2).ok_or_else(|| invalid(&sem_tag))?;
        let patch = patch.strip_suffix(gosemver::build(&sem_tag)).unwrap_or(patch);
        if patch != expected_patch {
            return Err(mismatch("patch", expected_patch, patch));
        }
    }
    Ok(())
}

/// `verifySourceURI`: the trigger and the source (first material or
/// resolved dependency) both name `expected` (as `git+https://github.com/…`),
/// both with a ref (except npm CLI v1 and BYOB sources), and the same ref.
pub fn verify_source_uri(build_type: &str, trigger: &str, source: &str, expected: &str) -> R<()> {
    let expected = normalize_git_uri(expected);
    if !expected.starts_with("git+https://github.com/") {
        return Err(SlsaError::new(
            Kind::MalformedUri,
            format!("expected source github.com repository {expected:?}"),
        ));
    }
    let (trigger_uri, trigger_ref) = parse_git_uri_and_ref(trigger)?;
    if trigger_uri != expected {
        return Err(SlsaError::new(
            Kind::MismatchSource,
            format!("expected trigger {trigger:?} to match source-uri {expected:?}"),
        ));
    }
    if trigger_ref.is_empty() {
        return Err(SlsaError::new(Kind::MalformedUri, format!("missing ref: {trigger:?}")));
    }
    let (source_uri, source_ref) = parse_git_uri_and_ref(source)?;
    if source_uri != expected {
        return Err(SlsaError::new(
            Kind::MismatchSource,
            format!("expected source {source:?} to match source-uri {expected:?}"),
        ));
    }
    if source_ref.is_empty() {
        if build_type == buildtypes::NPM_CLI_BUILD_TYPE_V1 || build_type == buildtypes::BYOB_BUILD_TYPE_V0 {
            return Ok(());
        }
        return Err(SlsaError::new(Kind::MalformedUri, format!("missing ref: {source:?}")));
    }
    if trigger != source {
        return Err(SlsaError::new(
            Kind::InvalidDssePayload,
            format!("source and trigger URIs do not match: {trigger:?} != {source:?}"),
        ));
    }
    Ok(())
}

/// What the policy or the command line expects (slsa-verifier's flags).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Expectations {
    /// `--source-uri` (`github.com/o/r`, any of the forms slsa-verifier takes).
    pub source_uri: String,
    /// `--source-tag`.
    pub source_tag: Option<String>,
    /// `--source-branch`.
    pub source_branch: Option<String>,
    /// `--source-versioned-tag`.
    pub source_versioned_tag: Option<String>,
    /// `--builder-id` (`NAME` or `NAME@REF`).
    pub builder_id: Option<String>,
}

impl Expectations {
    /// Checks what slsa-verifier would refuse before looking at any
    /// provenance: a source URI outside github.com, a tag together with a
    /// versioned tag, a versioned tag that is not a semantic version, a
    /// malformed builder id.
    pub fn validate(&self) -> Result<(), String> {
        let source = normalize_git_uri(&self.source_uri);
        if !source.starts_with("git+https://github.com/") {
            return Err(format!(
                "source_uri {:?}: slsa-verifier's rules take a github.com repository (github.com/OWNER/REPO)",
                self.source_uri
            ));
        }
        if self.source_tag.is_some() && self.source_versioned_tag.is_some() {
            return Err("give source_tag or source_versioned_tag, not both".into());
        }
        if let Some(v) = &self.source_versioned_tag
            && !gosemver::is_valid(v)
        {
            return Err(format!(
                "source_versioned_tag {v:?} is not a semantic version like v1, v1.2 or v1.2.3"
            ));
        }
        if let Some(b) = &self.builder_id {
            parse_builder_id(b, false).map_err(|e| format!("builder_id {b:?}: {e}"))?;
        }
        Ok(())
    }
}

/// What the rules read from a provenance predicate, the way
/// slsa-verifier's accessors read it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProvenanceView {
    /// SLSA v1 (else v0.2).
    pub v1: bool,
    /// `builder.id` / `runDetails.builder.id`.
    pub builder_id: String,
    /// The build type.
    pub build_type: String,
    /// `TriggerURI()` (`git+URI@REF`), empty when absent.
    pub trigger_uri: String,
    /// `SourceURI()` (first material or resolved dependency), empty when absent.
    pub source_uri: String,
    /// `GetTag()`: the tag ref, or why there is none.
    pub tag: Result<String, SlsaError>,
    /// `GetBranch()`: the branch ref, or why there is none.
    pub branch: Result<String, SlsaError>,
}

fn s<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn env_str(env: &Value, key: &str) -> R<String> {
    match env.get(key) {
        None => Err(SlsaError::new(
            Kind::InvalidDssePayload,
            format!("environment type for {key}"),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(SlsaError::new(
            Kind::InvalidDssePayload,
            format!("environment type string '{key}'"),
        )),
    }
}

/// `common.GetTag`.
fn env_tag(env: &Value, upper: bool) -> R<String> {
    let key = |k: &str| if upper { k.to_ascii_uppercase() } else { k.to_string() };
    match env_str(env, &key("github_ref_type"))?.as_str() {
        "branch" => Ok(String::new()),
        "tag" => env_str(env, &key("github_ref")),
        other => Err(SlsaError::new(
            Kind::InvalidDssePayload,
            format!("unknown ref type {other:?}"),
        )),
    }
}

/// `common.GetBranch` (with `getBranchForTag`).
fn env_branch(env: &Value, upper: bool) -> R<String> {
    let key = |k: &str| if upper { k.to_ascii_uppercase() } else { k.to_string() };
    match env_str(env, &key("github_ref_type"))?.as_str() {
        "branch" => env_str(env, &key("github_ref")),
        "tag" => {
            let base = env_str(env, &key("github_base_ref"))?;
            if !base.is_empty() {
                return Ok(base);
            }
            let event = env_str(env, &key("github_event_name"))?;
            let payload = env
                .get(key("github_event_payload").as_str())
                .filter(|p| p.is_object())
                .ok_or_else(|| SlsaError::new(Kind::InvalidDssePayload, "parameters type event payload"))?;
            match event.as_str() {
                "push" => match payload.get("base_ref") {
                    None => Err(SlsaError::new(
                        Kind::InvalidDssePayload,
                        "environment type for base_ref",
                    )),
                    Some(v) => Ok(v.as_str().unwrap_or("").to_string()),
                },
                "release" => {
                    let release = payload
                        .get("release")
                        .filter(|r| r.is_object())
                        .ok_or_else(|| SlsaError::new(Kind::InvalidDssePayload, "release absent from payload"))?;
                    Ok(format!("refs/heads/{}", env_str(release, "target_commitish")?))
                }
                _ => Ok(String::new()),
            }
        }
        other => Err(SlsaError::new(
            Kind::InvalidDssePayload,
            format!("unknown ref type {other:?}"),
        )),
    }
}

impl ProvenanceView {
    /// Reads a SLSA v0.2 or v1 predicate.
    pub fn read(predicate_type: &str, p: &Value) -> Self {
        let text = |ptr: &str| s(p, ptr).unwrap_or("").to_string();
        if predicate_type == crate::provenance::SLSA_V1 {
            let build_type = text("/buildDefinition/buildType");
            let workflow_trigger = || -> Option<String> {
                let repo = s(p, "/buildDefinition/externalParameters/workflow/repository")?;
                let r = s(p, "/buildDefinition/externalParameters/workflow/ref")?;
                Some(format!("git+{repo}@{r}"))
            };
            let workflow_ref = s(p, "/buildDefinition/externalParameters/workflow/ref").unwrap_or("");
            let (trigger_uri, tag, branch) = if build_type == buildtypes::NPM_CLI_GITHUB_ACTIONS_BUILD_TYPE_V1
                || build_type == buildtypes::GITHUB_ACTIONS_BUILD_TYPE_V1
            {
                // No GITHUB_REF_TYPE in these: the workflow ref says it (ward's reading).
                let (t, name) = parse_git_ref(workflow_ref);
                (
                    workflow_trigger().unwrap_or_default(),
                    Ok(if t == "tags" && !name.is_empty() {
                        workflow_ref.to_string()
                    } else {
                        String::new()
                    }),
                    Ok(if t == "heads" && !name.is_empty() {
                        workflow_ref.to_string()
                    } else {
                        String::new()
                    }),
                )
            } else {
                let internal = p
                    .pointer("/buildDefinition/internalParameters")
                    .cloned()
                    .unwrap_or(Value::Null);
                // GITHUB_WORKFLOW_REF = OWNER/REPO/PATH@REF.
                let trigger = s(&internal, "/GITHUB_WORKFLOW_REF")
                    .and_then(|w| {
                        let parts: Vec<&str> = w.split('@').collect();
                        let [repo_and_path, r] = parts.as_slice() else {
                            return None;
                        };
                        let segs: Vec<&str> = repo_and_path.split('/').collect();
                        (segs.len() >= 2).then(|| format!("git+https://github.com/{}/{}@{r}", segs[0], segs[1]))
                    })
                    .unwrap_or_default();
                let tag = if internal.is_object() {
                    env_tag(&internal, true)
                } else {
                    Err(SlsaError::new(Kind::InvalidDssePayload, "system parameters type"))
                };
                let branch = if internal.is_object() {
                    env_branch(&internal, true)
                } else {
                    Err(SlsaError::new(Kind::InvalidDssePayload, "internal parameters type"))
                };
                (trigger, tag, branch)
            };
            Self {
                v1: true,
                builder_id: text("/runDetails/builder/id"),
                build_type,
                trigger_uri,
                source_uri: text("/buildDefinition/resolvedDependencies/0/uri"),
                tag,
                branch,
            }
        } else {
            let env = p.pointer("/invocation/environment").cloned().unwrap_or(Value::Null);
            let not_map = || SlsaError::new(Kind::InvalidDssePayload, "parameters type");
            Self {
                v1: false,
                builder_id: text("/builder/id"),
                build_type: text("/buildType"),
                trigger_uri: text("/invocation/configSource/uri"),
                source_uri: text("/materials/0/uri"),
                tag: if env.is_object() {
                    env_tag(&env, false)
                } else {
                    Err(not_map())
                },
                branch: if env.is_object() {
                    env_branch(&env, false)
                } else {
                    Err(not_map())
                },
            }
        }
    }
}

/// The signing certificate, as far as the rules need it.
#[derive(Clone, Copy, Debug)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Signing<'a> {
    /// The OIDC issuer.
    pub issuer: &'a str,
    /// The certificate's SAN: the workflow that signed, `https://github.com/O/R/PATH@REF`.
    pub identity: &'a str,
    /// The source repository (`https://github.com/O/R`), from the certificate.
    pub source_repository: Option<&'a str>,
    /// `github-hosted` or `self-hosted`, from the certificate.
    pub runner_environment: Option<&'a str>,
}

/// Which ward rule a failure belongs to.
fn code(kind: Kind, step: Step) -> ReasonCode {
    match (step, kind) {
        (Step::Builder, _) => ReasonCode::ProvenanceBuilderMismatch,
        (Step::Source, _) => ReasonCode::ProvenanceSourceMismatch,
        (Step::Ref, _) => ReasonCode::ProvenanceRefMismatch,
    }
}

#[derive(Clone, Copy)]
enum Step {
    Builder,
    Source,
    Ref,
}

fn at<T>(step: Step, r: R<T>) -> Result<T, (ReasonCode, SlsaError)> {
    r.map_err(|e| (code(e.kind, step), e))
}

fn verify_cert_source(signing: &Signing<'_>, expected: &str) -> R<()> {
    let expected = expected.strip_prefix("git+https://").unwrap_or(expected);
    let expected = expected.strip_prefix("github.com/").unwrap_or(expected);
    let got = signing
        .source_repository
        .map(|s| s.strip_prefix(HTTPS_GITHUB_COM).unwrap_or(s))
        .unwrap_or("");
    if got != expected {
        return Err(SlsaError::new(
            Kind::MismatchSource,
            format!("expected source '{expected}', got '{got}' (signing certificate)"),
        ));
    }
    Ok(())
}

fn common_options(view: &ProvenanceView, e: &Expectations) -> Result<(), (ReasonCode, SlsaError)> {
    at(
        Step::Source,
        verify_source_uri(&view.build_type, &view.trigger_uri, &view.source_uri, &e.source_uri),
    )?;
    if let Some(expected) = &e.source_branch {
        at(Step::Ref, verify_branch(&view.branch, expected))?;
    }
    if let Some(expected) = &e.source_tag {
        at(Step::Ref, verify_tag(&view.tag, expected))?;
    }
    if let Some(expected) = &e.source_versioned_tag {
        at(
            Step::Ref,
            view.tag.clone().and_then(|r| {
                let tag = tag_from_git_ref(&r)?;
                verify_versioned_tag(tag, expected)
            }),
        )?;
    }
    Ok(())
}

/// `VerifyBranch` over what `GetBranch` returned.
pub fn verify_branch(branch_ref: &R<String>, expected: &str) -> R<()> {
    let r = branch_ref.clone()?;
    let branch = branch_from_git_ref(&r)?;
    if branch != expected {
        return Err(SlsaError::new(
            Kind::MismatchBranch,
            format!("expected branch '{expected}', got '{branch}'"),
        ));
    }
    Ok(())
}

/// `VerifyTag` over what `GetTag` returned.
pub fn verify_tag(tag_ref: &R<String>, expected: &str) -> R<()> {
    let r = tag_ref.clone()?;
    let tag = tag_from_git_ref(&r)?;
    if tag != expected {
        return Err(SlsaError::new(
            Kind::MismatchTag,
            format!("expected tag '{expected}', got '{tag}'"),
        ));
    }
    Ok(())
}

/// The certificate's builder (`VerifyBuilderIdentity` and
/// `verifyTrustedBuilderID`): (the builder id, whether it is a BYOB delegator).
fn builder_identity(signing: &Signing<'_>, expected: Option<&str>, defaults: &[&str]) -> R<(BuilderId, bool)> {
    if signing.issuer != GITHUB_ACTIONS_ISSUER {
        return Err(SlsaError::new(
            Kind::InvalidOidcIssuer,
            format!("{:?} is not the GitHub Actions issuer", signing.issuer),
        ));
    }
    let san = signing.identity;
    let (name, tag) = match san.rfind('@') {
        Some(i) if san.starts_with(HTTPS_GITHUB_COM) => (&san[..i], &san[i + 1..]),
        _ => ("", ""),
    };
    if name.is_empty() || tag.is_empty() {
        return Err(SlsaError::new(Kind::MalformedUri, format!("workflow uri: {san:?}")));
    }
    let cert_builder = BuilderId::new(&format!("{name}@{tag}"), true)?;
    // isTrustedDelegatorBuilder: a BYOB delegator the defaults trust.
    let byob = BYOB_BUILDERS
        .iter()
        .find(|b| cert_builder.matches_loose(b, true).is_ok())
        .is_some_and(|b| defaults.contains(b));
    match expected.filter(|e| !e.is_empty()) {
        None => {
            if !defaults.contains(&name) {
                return Err(SlsaError::new(
                    Kind::UntrustedReusableWorkflow,
                    format!("{name} is not a trusted builder (give builder_id / --builder-id to trust another)"),
                ));
            }
        }
        Some(expected) => {
            if !byob {
                cert_builder
                    .matches_loose(expected, true)
                    .map_err(|e| SlsaError::new(Kind::UntrustedReusableWorkflow, e.message))?;
            }
        }
    }
    is_valid_builder_tag(tag, false)?;
    Ok((cert_builder, byob))
}

/// `isValidDelegatorBuilderID`.
fn valid_delegator_builder_id(view: &ProvenanceView) -> R<()> {
    let parts: Vec<&str> = view.builder_id.split('@').collect();
    let [name, builder_ref] = parts.as_slice() else {
        return Err(SlsaError::new(Kind::InvalidBuilderId, format!("{:?}", view.builder_id)));
    };
    if name.starts_with(JRELEASER_REPOSITORY) {
        return is_valid_jreleaser_builder_tag(builder_ref);
    }
    is_valid_builder_tag(builder_ref, false)
}

/// slsa-verifier over one verified provenance: `verify-npm-package`'s
/// rules for an npm package (`npm_package`), else `verify-artifact`'s: the
/// certificate's builder, its source repository, the provenance's builder
/// id, source URI, branch, tag and versioned tag. Returns the verified
/// builder id, or the ward reason code and slsa-verifier's error.
pub fn verify(
    expected: &Expectations,
    signing: Option<&Signing<'_>>,
    view: &ProvenanceView,
    npm_package: bool,
) -> Result<BuilderId, (ReasonCode, SlsaError)> {
    let Some(signing) = signing else {
        return Err((
            ReasonCode::ProvenanceBuilderMismatch,
            SlsaError::new(
                Kind::InvalidOidcIssuer,
                "the provenance is not signed by a GitHub Actions workflow identity (a key signed it)",
            ),
        ));
    };
    if npm_package {
        return verify_npm(expected, signing, view);
    }
    let (cert_builder, byob) = at(
        Step::Builder,
        builder_identity(signing, expected.builder_id.as_deref(), DEFAULT_TRUSTED_BUILDERS),
    )?;
    at(Step::Source, verify_cert_source(signing, &expected.source_uri))?;
    at(
        Step::Builder,
        build_type_supported(view.v1, &cert_builder.name, &view.build_type),
    )?;
    let prov_builder = at(Step::Builder, BuilderId::new(&view.builder_id, false))?;
    if byob {
        at(Step::Builder, valid_delegator_builder_id(view))?;
        let wanted = match &expected.builder_id {
            Some(b) => b.clone(),
            None => {
                let prefix = format!("{TRUSTED_BUILDER_REPOSITORY}/.github/workflows/");
                if !prov_builder.name.starts_with(&prefix) {
                    return Err((
                        ReasonCode::ProvenanceBuilderMismatch,
                        SlsaError::new(
                            Kind::InvalidBuilderId,
                            format!(
                                "builder id path mismatch: got {:?}, expected prefix {prefix:?}",
                                prov_builder.name
                            ),
                        ),
                    ));
                }
                prov_builder.name.clone()
            }
        };
        at(Step::Builder, prov_builder.matches_loose(&wanted, true))?;
    } else {
        at(
            Step::Builder,
            prov_builder.matches_full(&cert_builder.to_string(), true),
        )?;
    }
    common_options(view, expected)?;
    if byob {
        return at(Step::Builder, BuilderId::new(&view.builder_id, true));
    }
    Ok(cert_builder)
}

/// `verifyNpmEnvAndCert` and `VerifyNpmPackageProvenance`: a BYOB
/// delegator's provenance (the builder id the user gives is matched), or
/// the npm CLI's own (the builder id must be one of the three runner ids and
/// agree with where the certificate says the build ran). A builder id is
/// always required.
fn verify_npm(
    expected: &Expectations,
    signing: &Signing<'_>,
    view: &ProvenanceView,
) -> Result<BuilderId, (ReasonCode, SlsaError)> {
    // slsa-verifier asks for the low-permissions delegator here, under a name
    // no certificate can carry; so a BYOB delegator is trusted as such, and
    // any other workflow is the npm CLI's "untrusted" path.
    let impossible = format!("{HTTPS_GITHUB_COM}{}", builders::GENERIC_LOW_PERMS_DELEGATOR);
    let trusted = match builder_identity(signing, Some(&impossible), BYOB_BUILDERS) {
        Ok((builder, true)) => Some(builder),
        Ok((_, false)) => {
            return Err((
                ReasonCode::ProvenanceBuilderMismatch,
                SlsaError::new(Kind::InvalidBuilderId, "byob is false"),
            ));
        }
        Err(e) if e.kind == Kind::UntrustedReusableWorkflow => None,
        Err(e) => return Err((ReasonCode::ProvenanceBuilderMismatch, e)),
    };
    at(Step::Source, verify_cert_source(signing, &expected.source_uri))?;
    let builder_mismatch = |kind: Kind, m: String| (ReasonCode::ProvenanceBuilderMismatch, SlsaError::new(kind, m));
    let Some(wanted) = expected.builder_id.as_deref() else {
        return Err(builder_mismatch(
            Kind::InvalidBuilderId,
            format!(
                "npm package provenance: no expected builder ID (slsa-verifier requires one, e.g. {})",
                builders::NPM_CLI_HOSTED
            ),
        ));
    };
    let trusted = match trusted {
        Some(delegator) => {
            if signing.runner_environment.is_some_and(|r| r != "github-hosted") {
                return Err(builder_mismatch(
                    Kind::MismatchBuilderId,
                    "self hosted re-usable workflow".into(),
                ));
            }
            delegator
        }
        None => {
            let hosted = match signing.runner_environment {
                Some("github-hosted") => true,
                Some("self-hosted") => false,
                _ => return Err(builder_mismatch(Kind::NotSupported, "hosted status unknown".into())),
            };
            match wanted {
                builders::NPM_CLI_LEGACY | builders::NPM_CLI_HOSTED if !hosted => {
                    return Err(builder_mismatch(
                        Kind::MismatchBuilderId,
                        "re-usable workflow is self-hosted".into(),
                    ));
                }
                builders::NPM_CLI_SELF_HOSTED if hosted => {
                    return Err(builder_mismatch(
                        Kind::MismatchBuilderId,
                        "re-usable workflow is GitHub-hosted".into(),
                    ));
                }
                builders::NPM_CLI_LEGACY | builders::NPM_CLI_HOSTED | builders::NPM_CLI_SELF_HOSTED => {}
                other => {
                    return Err(builder_mismatch(
                        Kind::NotSupported,
                        format!(
                            "builder {other}. Expected one of {}, {}",
                            builders::NPM_CLI_SELF_HOSTED,
                            builders::NPM_CLI_HOSTED
                        ),
                    ));
                }
            }
            at(Step::Builder, BuilderId::new(wanted, false))?
        }
    };
    at(
        Step::Builder,
        build_type_supported(view.v1, &trusted.name, &view.build_type),
    )?;
    // verifyBuilderIDLooseMatch, retried with the hosted suffix added or removed.
    let prov_builder = at(Step::Builder, BuilderId::new(&view.builder_id, false))?;
    if let Err(e) = prov_builder.matches_loose(wanted, true) {
        let other = match wanted.strip_suffix("/github-hosted") {
            Some(short) => short.to_string(),
            None => format!("{wanted}/github-hosted"),
        };
        if prov_builder.matches_loose(&other, true).is_err() {
            return Err((ReasonCode::ProvenanceBuilderMismatch, e));
        }
    }
    common_options(view, expected)?;
    Ok(trusted)
}

#[cfg(test)]
mod tests;
