//! Trust roots: the Sigstore trusted root, parsed once per process.
//!
//! The Sigstore public-good production root (and the staging root, for
//! `--staging`) are compiled into the binary; `--trusted-root FILE` replaces
//! them. Nothing is ever fetched. A [`TrustRoot`] holds the prepared
//! `sigstore_verify::Verifier`, so certificate anchors and log keys are
//! parsed once, not once per artifact.

use crate::{VerifyError, evidence};
use sigstore_verify::Verifier;
use sigstore_verify::trust_root::TrustedRoot;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The Sigstore public-good production trusted root shipped with ward.
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../trust/production.trusted_root.json");
/// The Sigstore public-good staging trusted root shipped with ward.
pub const STAGING_TRUSTED_ROOT: &str = include_str!("../trust/staging.trusted_root.json");

/// A parsed, prepared trusted root. Cheap to clone.
#[derive(Clone)]
pub struct TrustRoot {
    inner: Arc<Prepared>,
}

struct Prepared {
    verifier: Verifier,
    source: String,
}

impl TrustRoot {
    /// Parses a trusted root from its JSON text.
    pub fn from_json(json: &str, source: impl Into<String>) -> Result<Self, VerifyError> {
        evidence::check_depth(json.as_bytes(), evidence::MAX_JSON_DEPTH)?;
        let root = TrustedRoot::from_json(json).map_err(|e| VerifyError::TrustedRoot(e.to_string()))?;
        let verifier = Verifier::new(&root).map_err(|e| VerifyError::TrustedRoot(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Prepared {
                verifier,
                source: source.into(),
            }),
        })
    }

    /// Reads a trusted root file (`--trusted-root`).
    pub fn from_file(path: &Path) -> Result<Self, VerifyError> {
        let bytes = evidence::read_evidence(path)?;
        let text = String::from_utf8(bytes).map_err(|e| VerifyError::TrustedRoot(e.to_string()))?;
        Self::from_json(&text, path.display().to_string())
    }

    /// The bundled production root, parsed on first use and shared after.
    pub fn production() -> Result<Self, VerifyError> {
        static ROOT: OnceLock<Result<TrustRoot, String>> = OnceLock::new();
        ROOT.get_or_init(|| {
            Self::from_json(PRODUCTION_TRUSTED_ROOT, "bundled Sigstore production root").map_err(|e| e.to_string())
        })
        .clone()
        .map_err(VerifyError::TrustedRoot)
    }

    /// The bundled staging root, parsed on first use and shared after.
    pub fn staging() -> Result<Self, VerifyError> {
        static ROOT: OnceLock<Result<TrustRoot, String>> = OnceLock::new();
        ROOT.get_or_init(|| {
            Self::from_json(STAGING_TRUSTED_ROOT, "bundled Sigstore staging root").map_err(|e| e.to_string())
        })
        .clone()
        .map_err(VerifyError::TrustedRoot)
    }

    /// The prepared verifier.
    pub(crate) fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Where this root came from (for reports).
    pub fn source(&self) -> &str {
        &self.inner.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_roots_parse_and_garbage_is_refused() {
        assert!(TrustRoot::production().is_ok());
        assert!(TrustRoot::staging().is_ok());
        assert!(matches!(
            TrustRoot::from_json("{", "t"),
            Err(VerifyError::TrustedRoot(_))
        ));
    }
}
