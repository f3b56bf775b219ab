//! Recording a build's inputs (`ward attest --build-inputs`): the
//! predicate `ward_verify::build_inputs` reads back.
//!
//! - toolchain versions, asked of each tool (`npm --version`, …; the ones
//!   a lockfile implies, and any named);
//! - the lockfile's and package-manager configuration files' SHA-256
//!   (digests only: `.npmrc` and `.cargo/config.toml` may hold tokens);
//! - environment variables, only those on the allowlist given;
//! - the container image, which should be named by digest
//!   (`image@sha256:…`): one named by tag is recorded with a warning in
//!   the predicate itself, since a tag can point at other bytes tomorrow.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What to record.
#[derive(Clone, Debug, Default)]
pub struct InputsSpec {
    /// The lockfile.
    pub lockfile: Option<PathBuf>,
    /// Package-manager configuration files.
    pub config_files: Vec<PathBuf>,
    /// Environment variables to record (by name).
    pub env_allow: Vec<String>,
    /// The container image the build ran in.
    pub image: Option<String>,
    /// Tools whose versions to record, besides those the lockfile implies.
    pub toolchains: Vec<String>,
}

/// Why the inputs could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputsError {
    /// A file could not be read.
    #[error("cannot read {path}: {detail}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// A tool did not say its version.
    #[error("cannot ask {tool} for its version: {detail}")]
    Tool {
        /// The tool.
        tool: String,
        /// Why.
        detail: String,
    },
    /// A tool name ward does not know how to ask.
    #[error("unknown toolchain {0:?} (known: {known})", known = KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
    UnknownTool(String),
}

/// The tools ward asks for their version, and how.
const KNOWN: &[(&str, &[&str])] = &[
    ("node", &["node", "--version"]),
    ("npm", &["npm", "--version"]),
    ("cargo", &["cargo", "--version"]),
    ("rustc", &["rustc", "--version"]),
    ("python", &["python3", "--version"]),
    ("pip", &["pip3", "--version"]),
    ("uv", &["uv", "--version"]),
];

/// The tools a lockfile's name implies.
fn implied(lockfile: &Path) -> &'static [&'static str] {
    match lockfile.file_name().and_then(|n| n.to_str()) {
        Some("package-lock.json" | "npm-shrinkwrap.json") => &["node", "npm"],
        Some("Cargo.lock") => &["cargo", "rustc"],
        Some("uv.lock") => &["python", "uv"],
        Some("requirements.txt" | "poetry.lock" | "Pipfile.lock") => &["python", "pip"],
        _ => &[],
    }
}

fn file_entry(path: &Path) -> Result<Value, InputsError> {
    let file = ward_input::InputFile::new(path, "build input", u64::MAX)
        .open()
        .map_err(|e| InputsError::Read {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
    let (d, _) = ward_identify::hash::digest_reader(file).map_err(|e| InputsError::Read {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    Ok(json!({ "path": path.display().to_string(), "sha256": d.sha256.to_hex() }))
}

fn version(tool: &str) -> Result<String, InputsError> {
    let (_, argv) = KNOWN
        .iter()
        .find(|(n, _)| *n == tool)
        .ok_or_else(|| InputsError::UnknownTool(tool.to_string()))?;
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| InputsError::Tool {
            tool: tool.to_string(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(InputsError::Tool {
            tool: tool.to_string(),
            detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether an image reference pins its bytes: `…@sha256:<64 hex>`.
fn image_digest(reference: &str) -> Option<&str> {
    let (_, digest) = reference.rsplit_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

/// The predicate, with `env` giving each allowlisted variable's value.
pub fn predicate(spec: &InputsSpec, env: impl Fn(&str) -> Option<String>) -> Result<Value, InputsError> {
    let mut tools: Vec<&str> = spec.toolchains.iter().map(String::as_str).collect();
    if let Some(lock) = &spec.lockfile {
        tools.extend(implied(lock));
    }
    tools.sort_unstable();
    tools.dedup();
    let mut toolchains = BTreeMap::new();
    for tool in tools {
        toolchains.insert(tool.to_string(), version(tool)?);
    }
    let lockfile = spec.lockfile.as_deref().map(file_entry).transpose()?;
    let config_files = spec
        .config_files
        .iter()
        .map(|p| file_entry(p))
        .collect::<Result<Vec<_>, _>>()?;
    let environment: BTreeMap<&str, Option<String>> = spec.env_allow.iter().map(|k| (k.as_str(), env(k))).collect();
    let mut warnings = Vec::new();
    let image = spec.image.as_deref().map(|reference| {
        let digest = image_digest(reference);
        if digest.is_none() {
            warnings.push(format!(
                "container image {reference} is named by tag, not by digest: the same name can mean other bytes later"
            ));
        }
        json!({ "reference": reference, "digest": digest })
    });
    Ok(json!({
        "toolchains": toolchains,
        "lockfile": lockfile,
        "configFiles": config_files,
        "environment": environment,
        "containerImage": image,
        "warnings": warnings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_a_warning_and_a_digest_is_not() {
        let tag = InputsSpec {
            image: Some("docker.io/library/node:22".into()),
            env_allow: vec!["NODE_ENV".into(), "UNSET_VAR".into()],
            ..InputsSpec::default()
        };
        let p = predicate(&tag, |k| (k == "NODE_ENV").then(|| "production".to_string())).unwrap();
        assert_eq!(p["warnings"].as_array().unwrap().len(), 1);
        assert_eq!(p["environment"]["NODE_ENV"], "production");
        assert!(p["environment"]["UNSET_VAR"].is_null());
        let pinned = InputsSpec {
            image: Some(format!("docker.io/library/node@sha256:{}", "a".repeat(64))),
            ..InputsSpec::default()
        };
        let p = predicate(&pinned, |_| None).unwrap();
        assert!(p["warnings"].as_array().unwrap().is_empty());
        assert_eq!(p["containerImage"]["digest"], format!("sha256:{}", "a".repeat(64)));
        // A read-back through the verifier's reader keeps what was recorded.
        let read = ward_verify::build_inputs::read(&p).unwrap();
        assert!(read.container_image.unwrap().contains("@sha256:"));
    }

    #[test]
    fn unknown_tools_are_refused() {
        let spec = InputsSpec {
            toolchains: vec!["make".into()],
            ..InputsSpec::default()
        };
        assert!(matches!(predicate(&spec, |_| None), Err(InputsError::UnknownTool(_))));
    }
}
