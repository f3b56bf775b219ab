//! Build-inputs statements (`ward attest --build-inputs`): what a build
//! recorded about its inputs, read into a [`BuildInputs`] fact once the
//! statement verified and its subject is the artifact.
//!
//! The predicate (type [`BUILD_INPUTS`]) is ward's own:
//! `{"toolchains": {NAME: VERSION}, "lockfile": {"path", "sha256"},
//! "configFiles": [{"path", "sha256"}], "environment": {VAR: VALUE|null},
//! "containerImage": {"reference", "digest"}, "warnings": [TEXT]}`.

use crate::BuildInputs;
use crate::VerifyError;
use serde_json::Value;

/// The predicate type.
pub const BUILD_INPUTS: &str = "https://ward.invalid/attestation/build-inputs/v1";

fn file(v: &Value) -> Option<String> {
    let path = v.get("path")?.as_str()?;
    let sha256 = v.get("sha256")?.as_str()?;
    Some(format!("{path} sha256:{sha256}"))
}

/// Reads the predicate; a field of the wrong shape refuses the statement.
pub fn read(predicate: &Value) -> Result<BuildInputs, VerifyError> {
    let bad = |what: &str| VerifyError::AttestationMalformed(format!("build-inputs statement: {what}"));
    let obj = predicate
        .as_object()
        .ok_or_else(|| bad("the predicate is not an object"))?;
    let mut out = BuildInputs::empty();
    if let Some(t) = obj.get("toolchains") {
        for (name, version) in t.as_object().ok_or_else(|| bad("`toolchains` is not an object"))? {
            let v = version.as_str().ok_or_else(|| bad("a toolchain version is not text"))?;
            out.toolchains.insert(name.clone(), v.to_string());
        }
    }
    if let Some(l) = obj.get("lockfile").filter(|l| !l.is_null()) {
        out.lockfile = Some(file(l).ok_or_else(|| bad("`lockfile` is not {path, sha256}"))?);
    }
    if let Some(c) = obj.get("configFiles") {
        for f in c.as_array().ok_or_else(|| bad("`configFiles` is not a list"))? {
            out.config_files
                .push(file(f).ok_or_else(|| bad("a config file is not {path, sha256}"))?);
        }
    }
    if let Some(e) = obj.get("environment") {
        for (k, v) in e.as_object().ok_or_else(|| bad("`environment` is not an object"))? {
            let value = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                _ => return Err(bad("an environment value is not text or null")),
            };
            out.environment.insert(k.clone(), value);
        }
    }
    if let Some(i) = obj.get("containerImage").filter(|i| !i.is_null()) {
        let reference = i
            .get("reference")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`containerImage.reference` is missing"))?;
        out.container_image = Some(reference.to_string());
    }
    if let Some(w) = obj.get("warnings") {
        for x in w.as_array().ok_or_else(|| bad("`warnings` is not a list"))? {
            out.warnings
                .push(x.as_str().ok_or_else(|| bad("a warning is not text"))?.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_recorder_writes_and_refuses_other_shapes() {
        let p = serde_json::json!({
            "toolchains": {"npm": "10.9.2"},
            "lockfile": {"path": "package-lock.json", "sha256": "ab"},
            "configFiles": [{"path": ".npmrc", "sha256": "cd"}],
            "environment": {"NODE_ENV": "production", "CI": null},
            "containerImage": {"reference": "node:22", "digest": null},
            "warnings": ["container image node:22 is named by tag, not by digest"],
        });
        let b = read(&p).unwrap();
        assert_eq!(b.toolchains["npm"], "10.9.2");
        assert_eq!(b.lockfile.as_deref(), Some("package-lock.json sha256:ab"));
        assert_eq!(b.environment["CI"], None);
        assert_eq!(b.warnings.len(), 1);
        assert!(read(&serde_json::json!({"toolchains": ["npm"]})).is_err());
        assert!(read(&serde_json::json!("x")).is_err());
    }
}
