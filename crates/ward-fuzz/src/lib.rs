//! Fuzz targets for every parser of untrusted bytes in ward.
//!
//! Each target is a `fn(&[u8])` that feeds the bytes to ward's *public*
//! API the way an attacker could: as an archive, an evidence file, an
//! advisory, a lockfile, a policy, a key statement, a ledger file or an
//! upstream registry document. A target must never panic (a returned
//! error is fine) and its work per input is bounded (small archive limits,
//! bounded upstream reads); some also check a cheap property of what the
//! parser returned (the same answer twice, sorted output, limits kept)
//! and panic when it does not hold. Readers that run only after a
//! signature verifies get inputs signed with the fuzz keys
//! ([`signing`]). The same functions run under three drivers:
//!
//! * `tests/replay.rs` replays the committed corpora (`corpus/<target>/`)
//!   and every crash ever found (`regressions/<target>/`) on stable Rust,
//!   in CI;
//! * `fuzz/` (outside the workspace) wraps each target in `afl::fuzz!`
//!   for coverage-guided fuzzing with `cargo-afl` on stable;
//! * `scripts/fuzz.sh` builds that harness and runs each target for a set
//!   time, copying crashes back into `regressions/`.

#![forbid(unsafe_code)]

mod archive;
mod evidence;
mod installed;
pub mod ledger;
mod policy;
mod rebuild;
mod registry;
mod release_meta;
pub mod rotation;
mod scan;
mod scratch;
pub mod signing;
mod traits;

pub use archive::{
    cargo_toml, crate_file, npm_package_json, npm_tarball, sdist, sdist_pkg_info, wheel, wheel_metadata,
};
pub use evidence::{attestation, certificate, dsse_envelope, sigstore_bundle, trust_material};
pub use installed::{cargo_checksum, drill_scenario, installed_npm, installed_record};
pub use ledger::{checkpoint, ledger_files, ledger_record, note_keys, tiles};
pub use policy::{policy_toml, rego, rego_eval};
pub use rebuild::{rebuild_attestation, rebuild_link};
pub use registry::{
    COOLDOWN_NOW, COOLDOWN_POLICY, cargo_index, npm_packument, npm_packument_cooldown, pypi_simple_html,
    pypi_simple_json,
};
pub use release_meta::release_meta;
pub use rotation::key_statement;
pub use scan::{
    cargo_lock, openvex, osv_json, osv_yaml, package_lock, poetry_lock, purl_version, requirements_txt, rustsec_md,
    sbom, scan_attestation,
};
pub use traits::archive_traits;

/// One fuzz target: its name (the corpus directory and the AFL binary
/// are named after it) and the function that takes one input.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Runs one input; never panics.
    pub run: fn(&[u8]),
}

/// Every fuzz target, in a stable order.
pub const TARGETS: &[Target] = &[
    // Evidence and trust material (ward-verify).
    Target {
        name: "sigstore_bundle",
        run: sigstore_bundle,
    },
    Target {
        name: "dsse_envelope",
        run: dsse_envelope,
    },
    Target {
        name: "attestation",
        run: attestation,
    },
    Target {
        name: "certificate",
        run: certificate,
    },
    Target {
        name: "trust_material",
        run: trust_material,
    },
    Target {
        name: "rebuild_attestation",
        run: rebuild_attestation,
    },
    Target {
        name: "rebuild_link",
        run: rebuild_link,
    },
    // Archives and the metadata inside them (ward-identify).
    Target {
        name: "npm_tarball",
        run: npm_tarball,
    },
    Target {
        name: "npm_package_json",
        run: npm_package_json,
    },
    Target {
        name: "wheel",
        run: wheel,
    },
    Target {
        name: "wheel_metadata",
        run: wheel_metadata,
    },
    Target {
        name: "sdist",
        run: sdist,
    },
    Target {
        name: "sdist_pkg_info",
        run: sdist_pkg_info,
    },
    Target {
        name: "crate_file",
        run: crate_file,
    },
    Target {
        name: "cargo_toml",
        run: cargo_toml,
    },
    Target {
        name: "archive_traits",
        run: archive_traits,
    },
    // Advisories, lockfiles, SBOMs, VEX (ward-scan).
    Target {
        name: "osv_json",
        run: osv_json,
    },
    Target {
        name: "osv_yaml",
        run: osv_yaml,
    },
    Target {
        name: "rustsec_md",
        run: rustsec_md,
    },
    Target {
        name: "package_lock",
        run: package_lock,
    },
    Target {
        name: "requirements_txt",
        run: requirements_txt,
    },
    Target {
        name: "cargo_lock",
        run: cargo_lock,
    },
    Target {
        name: "poetry_lock",
        run: poetry_lock,
    },
    Target {
        name: "sbom",
        run: sbom,
    },
    Target {
        name: "openvex",
        run: openvex,
    },
    Target {
        name: "scan_attestation",
        run: scan_attestation,
    },
    Target {
        name: "purl_version",
        run: purl_version,
    },
    // The ledger (ward-ledger).
    Target {
        name: "checkpoint",
        run: checkpoint,
    },
    Target {
        name: "note_keys",
        run: note_keys,
    },
    Target {
        name: "tiles",
        run: tiles,
    },
    Target {
        name: "ledger_record",
        run: ledger_record,
    },
    Target {
        name: "ledger_files",
        run: ledger_files,
    },
    // Policy (ward-policy).
    Target {
        name: "policy_toml",
        run: policy_toml,
    },
    Target {
        name: "rego",
        run: rego,
    },
    Target {
        name: "rego_eval",
        run: rego_eval,
    },
    Target {
        name: "key_statement",
        run: key_statement,
    },
    // Upstream registry metadata (ward-registry).
    Target {
        name: "pypi_simple_html",
        run: pypi_simple_html,
    },
    Target {
        name: "pypi_simple_json",
        run: pypi_simple_json,
    },
    Target {
        name: "npm_packument",
        run: npm_packument,
    },
    Target {
        name: "cargo_index",
        run: cargo_index,
    },
    Target {
        name: "npm_packument_cooldown",
        run: npm_packument_cooldown,
    },
    Target {
        name: "release_meta",
        run: release_meta,
    },
    // Installed packages (ward-audit) and drill scenarios (ward-drill).
    Target {
        name: "installed_record",
        run: installed_record,
    },
    Target {
        name: "installed_npm",
        run: installed_npm,
    },
    Target {
        name: "cargo_checksum",
        run: cargo_checksum,
    },
    Target {
        name: "drill_scenario",
        run: drill_scenario,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}
