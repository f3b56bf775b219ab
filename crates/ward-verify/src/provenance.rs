//! SLSA provenance (v1 and v0.2) read into a [`Provenance`] fact, checked
//! against the Fulcio certificate's CI claims when the signer is keyless.
//!
//! The certificate is issued by Fulcio from the CI system's OIDC token, so
//! for keyless signers its claims (source repository, commit, ref, runner
//! environment) are authoritative: a statement that contradicts them is
//! refused, and claims the statement leaves out are taken from it.

use crate::Provenance;
use crate::VerifyError;
use crate::bundle::CertificateClaims;
use crate::statement::Statement;
use serde_json::Value;

/// SLSA provenance v1.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA provenance v0.2.
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";

/// Whether the predicate type is SLSA provenance.
pub fn is_provenance(predicate_type: &str) -> bool {
    predicate_type == SLSA_V1 || predicate_type == SLSA_V02
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(|x| x.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `git+https://github.com/o/r@refs/tags/v1` → (`https://github.com/o/r`, `refs/tags/v1`).
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    match uri.rsplit_once('@') {
        Some((repo, git_ref)) if repo.contains("://") => (normalize_repo(repo), Some(git_ref.to_string())),
        _ => (normalize_repo(uri), None),
    }
}

/// Repository URLs compare without a trailing `.git` or `/`.
pub fn normalize_repo(repo: &str) -> String {
    let repo = repo.trim_end_matches('/');
    repo.strip_suffix(".git").unwrap_or(repo).to_string()
}

/// Reads what the statement's predicate says.
pub fn read(statement: &Statement) -> Provenance {
    let p = &statement.predicate;
    let mut out = Provenance::of_type(statement.predicate_type.clone());
    if statement.predicate_type == SLSA_V1 {
        out.builder_id = text(p, "/runDetails/builder/id");
        out.build_type = text(p, "/buildDefinition/buildType");
        out.invocation_id = text(p, "/runDetails/metadata/invocationId");
        out.workflow_path = text(p, "/buildDefinition/externalParameters/workflow/path");
        out.source_repository =
            text(p, "/buildDefinition/externalParameters/workflow/repository").map(|r| normalize_repo(&r));
        out.source_ref = text(p, "/buildDefinition/externalParameters/workflow/ref");
        out.runner_environment = text(p, "/buildDefinition/internalParameters/github/runner_environment");
        let deps = p
            .pointer("/buildDefinition/resolvedDependencies")
            .and_then(|d| d.as_array());
        for dep in deps.into_iter().flatten() {
            let Some(uri) = dep.get("uri").and_then(|u| u.as_str()) else {
                continue;
            };
            let (repo, git_ref) = split_git_uri(uri);
            if out.source_repository.as_ref().is_some_and(|r| *r != repo) {
                continue;
            }
            out.source_repository.get_or_insert(repo);
            if out.source_ref.is_none() {
                out.source_ref = git_ref;
            }
            out.source_commit = text(dep, "/digest/gitCommit").or_else(|| text(dep, "/digest/sha1"));
            break;
        }
    } else {
        out.builder_id = text(p, "/builder/id");
        out.build_type = text(p, "/buildType");
        out.invocation_id = text(p, "/metadata/buildInvocationId");
        out.workflow_path = text(p, "/invocation/configSource/entryPoint");
        let source = text(p, "/invocation/configSource/uri").or_else(|| text(p, "/materials/0/uri"));
        if let Some(uri) = source {
            let (repo, git_ref) = split_git_uri(&uri);
            out.source_repository = Some(repo);
            out.source_ref = git_ref;
        }
        out.source_commit =
            text(p, "/invocation/configSource/digest/sha1").or_else(|| text(p, "/materials/0/digest/sha1"));
        out.runner_environment = text(p, "/invocation/environment/GITHUB_RUNNER_ENVIRONMENT")
            .or_else(|| text(p, "/invocation/environment/github_runner_environment"));
    }
    out
}

/// Cross-checks the statement against the certificate's claims and fills
/// what the statement left out.
pub fn reconcile(mut provenance: Provenance, claims: Option<&CertificateClaims>) -> Result<Provenance, VerifyError> {
    let Some(claims) = claims else { return Ok(provenance) };
    // Repository hosts and commit hashes ignore case; git refs do not:
    // `refs/tags/V1` is another tag than `refs/tags/v1`, which a policy's
    // `provenance.ref` (matched case-sensitively) may be the only one to allow.
    let fields: [(&str, &mut Option<String>, Option<String>, bool); 4] = [
        (
            "source repository",
            &mut provenance.source_repository,
            claims.source_repository.as_deref().map(normalize_repo),
            false,
        ),
        (
            "source commit",
            &mut provenance.source_commit,
            claims.source_commit.clone(),
            false,
        ),
        (
            "source ref",
            &mut provenance.source_ref,
            claims.source_ref.clone(),
            true,
        ),
        (
            "runner environment",
            &mut provenance.runner_environment,
            claims.runner_environment.clone(),
            false,
        ),
    ];
    for (what, stated, certified, exact) in fields {
        match (stated.as_ref(), certified) {
            (Some(s), Some(c)) if if exact { *s != c } else { !s.eq_ignore_ascii_case(&c) } => {
                return Err(VerifyError::ClaimsMismatch(format!(
                    "provenance claims {what} {s}, but the signing certificate says {c}"
                )));
            }
            (None, Some(c)) => *stated = Some(c),
            _ => {}
        }
    }
    if provenance.invocation_id.is_none() {
        provenance.invocation_id = claims.run_invocation.clone();
    }
    Ok(provenance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(predicate_type: &str, predicate: Value) -> Statement {
        Statement {
            statement_type: "https://in-toto.io/Statement/v1".into(),
            subject: vec![],
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    #[test]
    fn reads_v1_and_v02() {
        let v1 = statement(
            SLSA_V1,
            serde_json::json!({
                "buildDefinition": {"buildType": "bt", "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/acme/x", "path": ".github/workflows/r.yml"}},
                    "internalParameters": {"github": {"runner_environment": "github-hosted"}},
                    "resolvedDependencies": [{"uri": "git+https://github.com/acme/x@refs/tags/v1", "digest": {"gitCommit": "abc"}}]},
                "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}, "metadata": {"invocationId": "run-1"}}
            }),
        );
        let p = read(&v1);
        assert_eq!(p.source_repository.as_deref(), Some("https://github.com/acme/x"));
        assert_eq!(p.source_commit.as_deref(), Some("abc"));
        assert_eq!(p.runner_environment.as_deref(), Some("github-hosted"));
        assert_eq!(
            p.builder_id.as_deref(),
            Some("https://github.com/actions/runner/github-hosted")
        );

        let v02 = statement(
            SLSA_V02,
            serde_json::json!({
                "builder": {"id": "https://github.com/actions/runner"}, "buildType": "bt",
                "invocation": {"configSource": {"uri": "git+https://github.com/acme/x.git@refs/heads/main", "digest": {"sha1": "def"}, "entryPoint": "w.yml"}},
                "metadata": {"buildInvocationId": "42-1"}
            }),
        );
        let p = read(&v02);
        assert_eq!(p.source_repository.as_deref(), Some("https://github.com/acme/x"));
        assert_eq!(p.source_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(p.workflow_path.as_deref(), Some("w.yml"));
    }

    #[test]
    fn certificate_claims_win_and_contradictions_are_refused() {
        let p = Provenance {
            source_repository: Some("https://github.com/acme/x".into()),
            ..Provenance::default()
        };
        let claims = CertificateClaims {
            source_repository: Some("https://github.com/evil/x".into()),
            ..CertificateClaims::default()
        };
        assert!(matches!(
            reconcile(p.clone(), Some(&claims)),
            Err(VerifyError::ClaimsMismatch(_))
        ));
        let claims = CertificateClaims {
            source_commit: Some("abc".into()),
            runner_environment: Some("self-hosted".into()),
            ..CertificateClaims::default()
        };
        let p = reconcile(p, Some(&claims)).unwrap();
        assert_eq!(p.source_commit.as_deref(), Some("abc"));
        // A ref differing only in case is another ref.
        let tagged = Provenance {
            source_ref: Some("refs/tags/v1".into()),
            ..Provenance::default()
        };
        let claims_ref = CertificateClaims {
            source_ref: Some("refs/tags/V1".into()),
            ..CertificateClaims::default()
        };
        assert!(matches!(
            reconcile(tagged, Some(&claims_ref)),
            Err(VerifyError::ClaimsMismatch(_))
        ));
        assert_eq!(p.runner_environment.as_deref(), Some("self-hosted"));
    }
}
