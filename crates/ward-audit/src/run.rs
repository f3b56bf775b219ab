//! The audit itself: environments found, packages checked in parallel,
//! advisories matched, findings collected in order.

use crate::{AuditContext, AuditError, AuditReport};
use std::path::PathBuf;

/// Audits the environments at `paths` against `context`. Errors only when
/// a path cannot be read at all or holds no environment; everything found
/// inside (including files that cannot be read) is a finding.
pub fn audit(paths: &[PathBuf], context: &AuditContext<'_>) -> Result<AuditReport, AuditError> {
    let _ = context;
    // Being written (issue 14): the readers land in the next commits.
    match paths.first() {
        Some(p) => Err(AuditError::NotAnEnvironment(p.clone())),
        None => Ok(AuditReport::default()),
    }
}
