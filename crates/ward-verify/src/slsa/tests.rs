//! slsa-verifier's own regression tables, ported row by row (inputs and
//! expected error kinds as written there). Sources, at slsa-verifier
//! commit aaf98fd: `verifiers/utils/builder_test.go` (Test_ParseBuilderID,
//! Test_MatchesLoose, Test_MatchesFull, Test_IsValidBuilderTag),
//! `verifiers/utils/git_test.go` (Test_NormalizeGitURI,
//! Test_ParseGitURIAndRef) and `verifiers/internal/gha/provenance_test.go`
//! (Test_verifySourceURI, Test_VerifyBranch, Test_VerifyTag,
//! Test_VerifyVersionedTag).

use super::*;

/// (name, builder id, need version, name, version, error).
type ParseRow = (
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static str,
    Option<Kind>,
);
/// (name, trusted builder id, need version, allow ref, candidate, error).
type MatchRow = (&'static str, &'static str, bool, bool, &'static str, Option<Kind>);
/// (name, build type, materials URI, trigger URI, expected source URI, error).
type SourceRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<Kind>,
);

fn kind<T>(r: &R<T>) -> Option<Kind> {
    r.as_ref().err().map(|e| e.kind)
}

/// `verifiers/utils/builder_test.go` Test_ParseBuilderID.
#[test]
fn parse_builder_id_table() {
    let table: &[ParseRow] = &[
        (
            "valid builder with version - need version",
            "some/name@v1.2.3",
            true,
            "some/name",
            "v1.2.3",
            None,
        ),
        (
            "valid builder with version - no need version",
            "some/name@v1.2.3",
            false,
            "some/name",
            "v1.2.3",
            None,
        ),
        (
            "valid builder without version - no need version",
            "some/name",
            false,
            "some/name",
            "",
            None,
        ),
        (
            "no version ID - need version",
            "",
            true,
            "",
            "",
            Some(Kind::InvalidFormat),
        ),
        (
            "too many '@' - need version",
            "some/name@vla@blo",
            true,
            "",
            "",
            Some(Kind::InvalidFormat),
        ),
        (
            "too many '@' - no need version",
            "some/name@vla@blo",
            false,
            "",
            "",
            Some(Kind::InvalidFormat),
        ),
        (
            "empty version - need version",
            "some/name@",
            true,
            "",
            "",
            Some(Kind::InvalidFormat),
        ),
        (
            "empty version - no need version",
            "some/name@",
            false,
            "",
            "",
            Some(Kind::InvalidFormat),
        ),
    ];
    for (name, id, need, want_name, want_version, err) in table {
        let got = parse_builder_id(id, *need);
        assert_eq!(kind(&got), *err, "{name}");
        if let Ok((n, v)) = got {
            assert_eq!((n.as_str(), v.as_str()), (*want_name, *want_version), "{name}");
        }
    }
}

fn matches_table(table: &[MatchRow], full: bool) {
    for (name, trusted, need, allow_ref, candidate, err) in table {
        let trusted = BuilderId::new(trusted, *need).expect(name);
        let got = if full {
            trusted.matches_full(candidate, *allow_ref)
        } else {
            trusted.matches_loose(candidate, *allow_ref)
        };
        assert_eq!(kind(&got), *err, "{name}");
    }
}

/// `verifiers/utils/builder_test.go` Test_MatchesLoose.
#[test]
fn matches_loose_table() {
    matches_table(
        &[
            (
                "match full need version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                None,
            ),
            (
                "match full with ref",
                "some/name@refs/tags/v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match full no need version",
                "some/name@v1.2.3",
                false,
                false,
                "some/name@v1.2.3",
                None,
            ),
            (
                "match name no need version",
                "some/name",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            ("match name", "some/name@v1.2.3", true, false, "some/name", None),
            (
                "mismatch name",
                "some/name@v1.2.3",
                true,
                false,
                "some/name2",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@v1.2.4",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "invalid empty version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - need version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - no need version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            ("match full", "some/name@v1.2.3", true, true, "some/name@v1.2.3", None),
            (
                "match full no need version",
                "some/name@v1.2.3",
                false,
                true,
                "some/name@v1.2.3",
                None,
            ),
            (
                "match name no need version",
                "some/name",
                false,
                true,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            ("match name", "some/name@v1.2.3", true, true, "some/name", None),
            ("match name", "some/name@v1.2.3", true, true, "some/name", None),
            (
                "mismatch name",
                "some/name@v1.2.3",
                true,
                true,
                "some/name2",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@v1.2.4",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "invalid empty version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - need version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - no need version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "match long tag match short",
                "some/name@refs/tags/v1.2.3",
                true,
                true,
                "some/name@v1.2.3",
                None,
            ),
            (
                "long tag match short no ref",
                "some/name@refs/tags/v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tags",
                "some/name@refs/tags/v1.2.3",
                true,
                true,
                "some/name@refs/tags/v1.2.3",
                None,
            ),
            (
                "mismatch tag length",
                "some/name@refs/tags/v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch tag length inversed",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@refs/tags/v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tag match short",
                "some/name@refs/tags/v1.2.3",
                false,
                true,
                "some/name@v1.2.3",
                None,
            ),
            (
                "long tag match short no ref",
                "some/name@refs/tags/v1.2.3",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tags",
                "some/name@refs/tags/v1.2.3",
                false,
                true,
                "some/name@refs/tags/v1.2.3",
                None,
            ),
            (
                "mismatch tag length",
                "some/name@refs/tags/v1.2.3",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch tag length inversed",
                "some/name@v1.2.3",
                false,
                false,
                "some/name@refs/tags/v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
        ],
        false,
    );
}

/// `verifiers/utils/builder_test.go` Test_MatchesFull.
#[test]
fn matches_full_table() {
    matches_table(
        &[
            ("match full", "some/name@v1.2.3", true, false, "some/name@v1.2.3", None),
            (
                "match name no need version",
                "some/name@v1.2.3",
                false,
                false,
                "some/name",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match name full no need version",
                "some/name",
                false,
                false,
                "some/name",
                None,
            ),
            (
                "match full no need version",
                "some/name",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match name",
                "some/name@v1.2.3",
                true,
                false,
                "some/name",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch name",
                "some/name@v1.2.3",
                true,
                false,
                "some/name2",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@v1.2.4",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "invalid empty version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - need version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - no need version",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            ("match full", "some/name@v1.2.3", true, true, "some/name@v1.2.3", None),
            (
                "match name",
                "some/name@v1.2.3",
                true,
                true,
                "some/name",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch name",
                "some/name@v1.2.3",
                true,
                true,
                "some/name2",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@v1.2.4",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "invalid empty version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - need version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "too many '@' - no need version",
                "some/name@v1.2.3",
                true,
                true,
                "some/name@vla@blo",
                Some(Kind::InvalidFormat),
            ),
            (
                "match long tag match short",
                "some/name@refs/tags/v1.2.3",
                true,
                true,
                "some/name@v1.2.3",
                None,
            ),
            (
                "long tag match short no ref",
                "some/name@refs/tags/v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tags",
                "some/name@refs/tags/v1.2.3",
                true,
                true,
                "some/name@refs/tags/v1.2.3",
                None,
            ),
            (
                "mismatch tag length",
                "some/name@refs/tags/v1.2.3",
                true,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch tag length inversed",
                "some/name@v1.2.3",
                true,
                false,
                "some/name@refs/tags/v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tag match short",
                "some/name@refs/tags/v1.2.3",
                false,
                true,
                "some/name@v1.2.3",
                None,
            ),
            (
                "long tag match short no ref",
                "some/name@refs/tags/v1.2.3",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "match long tags",
                "some/name@refs/tags/v1.2.3",
                false,
                true,
                "some/name@refs/tags/v1.2.3",
                None,
            ),
            (
                "mismatch tag length",
                "some/name@refs/tags/v1.2.3",
                false,
                false,
                "some/name@v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
            (
                "mismatch tag length inversed",
                "some/name@v1.2.3",
                false,
                false,
                "some/name@refs/tags/v1.2.3",
                Some(Kind::MismatchBuilderId),
            ),
        ],
        true,
    );
}

/// `verifiers/utils/builder_test.go` Test_IsValidBuilderTag.
#[test]
fn builder_tag_table() {
    let table: &[(&str, &str, bool, Option<Kind>)] = &[
        ("valid full semver", "refs/tags/v1.2.3", false, None),
        (
            "valid semver: no patch",
            "refs/tags/v1.2",
            false,
            Some(Kind::InvalidRef),
        ),
        ("valid semver: no minor", "refs/tags/v1", false, Some(Kind::InvalidRef)),
        (
            "valid semver: pre-release",
            "refs/tags/v1.2.3-rc.0",
            false,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: pre-release w/ build",
            "refs/tags/v1.2.3-rc.0+build1",
            false,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: build",
            "refs/tags/v1.2.3+build1",
            false,
            Some(Kind::InvalidRef),
        ),
        ("invalid semver", "refs/tags/1.2.3", false, Some(Kind::InvalidRef)),
        ("invalid ref", "refs/v1.2.3", false, Some(Kind::InvalidRef)),
        ("valid full semver (testing)", "refs/tags/v1.2.3", true, None),
        (
            "valid semver: no patch (testing)",
            "refs/tags/v1.2",
            true,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: no minor (testing)",
            "refs/tags/v1",
            true,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: no minor (testing)",
            "refs/tags/v1",
            true,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: pre-release (testing)",
            "refs/tags/v1.2.3-rc.0",
            true,
            None,
        ),
        (
            "valid semver: pre-release w/ build (testing)",
            "refs/tags/v1.2.3-rc.0+build1",
            true,
            Some(Kind::InvalidRef),
        ),
        (
            "valid semver: build (testing)",
            "refs/tags/v1.2.3+build1",
            true,
            Some(Kind::InvalidRef),
        ),
        (
            "invalid semver (testing)",
            "refs/tags/1.2.3",
            true,
            Some(Kind::InvalidRef),
        ),
        ("invalid ref (testing)", "refs/v1.2.3", true, Some(Kind::InvalidRef)),
    ];
    for (name, r, testing, err) in table {
        assert_eq!(kind(&is_valid_builder_tag(r, *testing)), *err, "{name}");
    }
}

/// `verifiers/utils/git_test.go` Test_NormalizeGitURI and Test_ParseGitURIAndRef.
#[test]
fn git_uri_tables() {
    for (uri, want) in [
        ("", "git+https://"),
        (
            "https://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
            "git+https://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
        ),
        (
            "http://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
            "git+http://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
        ),
        (
            "git+https://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
            "git+https://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
        ),
        (
            "github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
            "git+https://github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
        ),
        (
            "git+github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
            "git+github.com/kubernetes/kubernetes@refs/tags/v1.0.0",
        ),
        (
            "https://github.com/kubernetes/kubernetes",
            "git+https://github.com/kubernetes/kubernetes",
        ),
        (
            "http://github.com/kubernetes/kubernetes",
            "git+http://github.com/kubernetes/kubernetes",
        ),
        (
            "git+https://github.com/kubernetes/kubernetes",
            "git+https://github.com/kubernetes/kubernetes",
        ),
        (
            "github.com/kubernetes/kubernetes",
            "git+https://github.com/kubernetes/kubernetes",
        ),
        (
            "git+github.com/kubernetes/kubernetes",
            "git+github.com/kubernetes/kubernetes",
        ),
    ] {
        assert_eq!(normalize_git_uri(uri), want, "{uri}");
    }
    assert_eq!(kind(&parse_git_uri_and_ref("")), Some(Kind::MalformedUri));
    assert_eq!(
        kind(&parse_git_uri_and_ref("github.com/kubernetes/kubernetes@v1.0.0")),
        Some(Kind::MalformedUri)
    );
    assert_eq!(
        kind(&parse_git_uri_and_ref(
            "https://github.com/kubernetes/kubernetes@v1.0.0"
        )),
        Some(Kind::MalformedUri)
    );
    assert_eq!(
        parse_git_uri_and_ref("git+https://github.com/kubernetes/kubernetes@v1.0.0").unwrap(),
        (
            "git+https://github.com/kubernetes/kubernetes".to_string(),
            "v1.0.0".to_string()
        )
    );
}

/// `verifiers/internal/gha/provenance_test.go` Test_verifySourceURI:
/// (name, build type, materials URI, trigger URI, expected source URI, error).
#[test]
fn source_uri_table() {
    let table: &[SourceRow] = &[
        (
            "source has no @",
            "",
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "empty materials",
            "",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "empty configSource",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "empty uri materials",
            "",
            " ",
            "",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "no tag uri materials",
            "",
            "",
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "no tag uri configSource",
            "",
            "git+https://github.com/some/repo",
            "",
            "git+https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "not github repo",
            "",
            "git+https://notgithub.com/some/repo@v1.2.3",
            "git+https://notgithub.com/some/repo@v1.2.3",
            "git+https://notgithub.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "match source",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo",
            None,
        ),
        (
            "match source no git",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            None,
        ),
        (
            "match source no git no material ref (npm)",
            buildtypes::NPM_CLI_BUILD_TYPE_V1,
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            None,
        ),
        (
            "mismatch source material ref (npm)",
            buildtypes::NPM_CLI_BUILD_TYPE_V1,
            "git+https://github.com/some/repo@v1.2.4",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            Some(Kind::InvalidDssePayload),
        ),
        (
            "match source no git no material ref (npm) v2 buildType",
            buildtypes::NPM_CLI_BUILD_TYPE_V2,
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "mismatch source material ref (npm) v2 builtType",
            buildtypes::NPM_CLI_BUILD_TYPE_V2,
            "git+https://github.com/some/repo@v1.2.4",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            Some(Kind::InvalidDssePayload),
        ),
        (
            "match source no git no material ref (byob)",
            buildtypes::BYOB_BUILD_TYPE_V0,
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            None,
        ),
        (
            "mismatch source material ref (byob)",
            buildtypes::BYOB_BUILD_TYPE_V0,
            "git+https://github.com/some/repo@v1.2.4",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            Some(Kind::InvalidDssePayload),
        ),
        (
            "match source no git no material ref",
            "",
            "git+https://github.com/some/repo",
            "git+https://github.com/some/repo@v1.2.3",
            "https://github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "match source no git+https",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "github.com/some/repo",
            None,
        ),
        (
            "match source no repo",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "some/repo",
            Some(Kind::MalformedUri),
        ),
        (
            "mismatch materials configSource tag",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.4",
            "git+https://github.com/some/repo",
            Some(Kind::InvalidDssePayload),
        ),
        (
            "mismatch materials configSource org",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/other/repo@v1.2.3",
            "git+https://github.com/some/repo",
            Some(Kind::MismatchSource),
        ),
        (
            "mismatch configSource materials org",
            "",
            "git+https://github.com/other/repo@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo",
            Some(Kind::MismatchSource),
        ),
        (
            "mismatch materials configSource name",
            "",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/other@v1.2.3",
            "git+https://github.com/some/repo",
            Some(Kind::MismatchSource),
        ),
        (
            "mismatch configSource materials name",
            "",
            "git+https://github.com/some/other@v1.2.3",
            "git+https://github.com/some/repo@v1.2.3",
            "git+https://github.com/some/repo",
            Some(Kind::MismatchSource),
        ),
        (
            "not github.com repo",
            "",
            "git+https://not-github.com/some/repo@v1.2.3",
            "git+https://not-github.com/some/repo@v1.2.3",
            "git+https://not-github.com/some/repo",
            Some(Kind::MalformedUri),
        ),
    ];
    for (name, build_type, source, trigger, expected, err) in table {
        assert_eq!(
            kind(&verify_source_uri(build_type, trigger, source, expected)),
            *err,
            "{name}"
        );
    }
}

/// `verifiers/internal/gha/provenance_test.go` Test_VerifyBranch.
#[test]
fn branch_table() {
    for (name, branch_ref, expected, err) in [
        ("branch slsa1", "refs/heads/slsa1", "slsa1", None),
        (
            "branch mismatch",
            "refs/heads/slsa1",
            "slsa2",
            Some(Kind::MismatchBranch),
        ),
        (
            "case sensitive branch mismatch",
            "refs/heads/slsa1",
            "SLSA2",
            Some(Kind::MismatchBranch),
        ),
        ("invalid ref type", "refs/tags/slsa1", "slsa1", Some(Kind::InvalidRef)),
        ("ref empty", "", "", Some(Kind::InvalidRef)),
        ("branch empty", "refs/heads/", "", Some(Kind::InvalidRef)),
    ] {
        assert_eq!(kind(&verify_branch(&Ok(branch_ref.into()), expected)), err, "{name}");
    }
}

/// `verifiers/internal/gha/provenance_test.go` Test_VerifyTag.
#[test]
fn tag_table() {
    for (name, tag_ref, expected, err) in [
        ("tag vslsa1", "refs/tags/vslsa1", "vslsa1", None),
        ("tag mismatch", "refs/tags/vslsa1", "vslsa2", Some(Kind::MismatchTag)),
        (
            "case sensitive tag mismatch",
            "refs/tags/vslsa1",
            "vSLSA2",
            Some(Kind::MismatchTag),
        ),
        (
            "invalid ref type",
            "refs/heads/vslsa1",
            "vslsa1",
            Some(Kind::InvalidRef),
        ),
        ("ref empty", "", "", Some(Kind::InvalidRef)),
        ("tag empty", "refs/tags/", "", Some(Kind::InvalidRef)),
    ] {
        assert_eq!(kind(&verify_tag(&Ok(tag_ref.into()), expected)), err, "{name}");
    }
}

/// `verifiers/internal/gha/provenance_test.go` Test_VerifyVersionedTag:
/// (name, the provenance's tag ref, the expected versioned tag, error).
#[test]
fn versioned_tag_table() {
    let table: &[(&str, &str, &str, Option<Kind>)] = &[
        ("no tag", "", "v1.2.3", Some(Kind::InvalidRef)),
        (
            "tag v1.2 invalid expected version",
            "refs/tags/v1.2",
            "1.2",
            Some(Kind::InvalidSemver),
        ),
        (
            "tag v1.2.3 invalid tag ref",
            "refs/heads/v1.2.3",
            "v1.2.3",
            Some(Kind::InvalidRef),
        ),
        (
            "tag vslsa1 invalid",
            "refs/tags/vslsa1",
            "vslsa1",
            Some(Kind::InvalidSemver),
        ),
        (
            "tag vslsa1 invalid semver",
            "refs/tags/vslsa1",
            "v1.2.3",
            Some(Kind::InvalidSemver),
        ),
        ("tag v1.2.3 exact match", "refs/tags/v1.2.3", "v1.2.3", None),
        ("tag v1.2.3 match v1.2", "refs/tags/v1.2.3", "v1.2", None),
        ("tag v1.2.3 match v1", "refs/tags/v1.2.3", "v1", None),
        (
            "tag v1.2.3 no match v2",
            "refs/tags/v1.2.3",
            "v2",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3 no match v1.3",
            "refs/tags/v1.2.3",
            "v1.3",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3 no match v1.2.4",
            "refs/tags/v1.2.3",
            "v1.2.4",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3 no match v1.2.2",
            "refs/tags/v1.2.3",
            "v1.2.2",
            Some(Kind::MismatchVersionedTag),
        ),
        ("tag v1.2 exact v1.2", "refs/tags/v1.2", "v1.2", None),
        ("tag v1.2 match v1", "refs/tags/v1.2", "v1", None),
        (
            "tag v1.1 no match v1.3",
            "refs/tags/v1.3",
            "v1.1",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v0 no match v1.3",
            "refs/tags/v1.3",
            "v0",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.3 no match v1.2",
            "refs/tags/v1.2",
            "v1.3",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3 no match v1.2",
            "refs/tags/v1.2",
            "v1.2.3",
            Some(Kind::MismatchVersionedTag),
        ),
        ("tag v1.2.0 match v1.2", "refs/tags/v1.2", "v1.2.0", None),
        ("tag v1.2 match v1.2.0+123", "refs/tags/v1.2", "v1.2.0+123", None),
        (
            "invalid v1.2+123",
            "refs/tags/v1.2",
            "v1.2+123",
            Some(Kind::InvalidSemver),
        ),
        (
            "invalid v1.2-alpha",
            "refs/tags/v1.2",
            "v1.2-alpha",
            Some(Kind::InvalidSemver),
        ),
        (
            "invalid v1-alpha",
            "refs/tags/v1.2",
            "v1-alpha",
            Some(Kind::InvalidSemver),
        ),
        ("invalid v1+123", "refs/tags/v1.2", "v1+123", Some(Kind::InvalidSemver)),
        (
            "invalid v1-alpha+123",
            "refs/tags/v1.2",
            "v1-alpha+123",
            Some(Kind::InvalidSemver),
        ),
        (
            "invalid v1.2-alpha+123",
            "refs/tags/v1.2",
            "v1.2-alpha+123",
            Some(Kind::InvalidSemver),
        ),
        (
            "tag v1.2.3-alpha match v1.2.3-alpha",
            "refs/tags/v1.2.3-alpha",
            "v1.2.3-alpha",
            None,
        ),
        (
            "tag v1.2.3-alpha no match v1.2.3",
            "refs/tags/v1.2.3-alpha",
            "v1.2.3",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3-alpha+123 match v1.2.3-alpha",
            "refs/tags/v1.2.3-alpha+123",
            "v1.2.3-alpha",
            None,
        ),
        (
            "tag v1.2.3-alpha+123 match v1.2.3-alpha+123",
            "refs/tags/v1.2.3-alpha+123",
            "v1.2.3-alpha+123",
            None,
        ),
        (
            "tag v1.2.3-alpha+123 match v1.2.3-alpha+456",
            "refs/tags/v1.2.3-alpha+123",
            "v1.2.3-alpha+456",
            None,
        ),
        (
            "tag v1.2.3-alpha match v1.2.3-alpha+123",
            "refs/tags/v1.2.3-alpha",
            "v1.2.3-alpha+123",
            None,
        ),
        (
            "tag v1.2.3-alpha no match v1.2.3-beta+123",
            "refs/tags/v1.2.3-alpha",
            "v1.2.3-beta+123",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3+123 no match v1.2.3-alpha+123",
            "refs/tags/v1.2.3+123",
            "v1.2.3-alpha+123",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3+123 no match v1.2.3-alpha",
            "refs/tags/v1.2.3+123",
            "v1.2.3-alpha",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3+123 match v1.2.3+123",
            "refs/tags/v1.2.3+123",
            "v1.2.3+123",
            None,
        ),
        ("tag v1.2.3+123 match v1.2.3", "refs/tags/v1.2.3+123", "v1.2.3", None),
        (
            "tag v1.2.3+123 match v1.2.3+456",
            "refs/tags/v1.2.3+123",
            "v1.2.3+456",
            None,
        ),
        (
            "tag v1.2.3 no match v1.2.3-aplha",
            "refs/tags/v1.2.3",
            "v1.2.3-alpha",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2.3-alpha no match v1.2.3-beta",
            "refs/tags/v1.2.3-alpha",
            "v1.2.3-beta",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2 no match v1.2.3-beta",
            "refs/tags/v1.2",
            "v1.2.3-beta",
            Some(Kind::MismatchVersionedTag),
        ),
        ("tag v1.2.3 match v1.2.3+123", "refs/tags/v1.2.3", "v1.2.3+123", None),
        (
            "tag v1.2 no match v1.2.0-aplha+123",
            "refs/tags/v1.2",
            "v1.2.0-alpha+123",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1.2 no match v2",
            "refs/tags/v1.2",
            "v2",
            Some(Kind::MismatchVersionedTag),
        ),
        ("tag v1 exact match", "refs/tags/v1", "v1", None),
        (
            "tag v1 no match v2",
            "refs/tags/v1",
            "v2",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1 no match v1.2",
            "refs/tags/v1",
            "v1.2",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1 no match v0",
            "refs/tags/v1",
            "v0",
            Some(Kind::MismatchVersionedTag),
        ),
        (
            "tag v1 no match v1.2.3",
            "refs/tags/v1",
            "v1.2.3",
            Some(Kind::MismatchVersionedTag),
        ),
        ("tag v1 match v1.0", "refs/tags/v1", "v1.0", None),
        ("tag v1 match v1.0.0", "refs/tags/v1", "v1.0.0", None),
        (
            "invalid v1-alpha",
            "refs/tags/v1",
            "v1-alpha",
            Some(Kind::InvalidSemver),
        ),
    ];
    for (name, tag_ref, expected, err) in table {
        let got = tag_from_git_ref(tag_ref).and_then(|tag| verify_versioned_tag(tag, expected));
        assert_eq!(kind(&got), *err, "{name}");
    }
}
