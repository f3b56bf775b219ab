//! `ward keys rotate` and `ward keys revoke`: signed statements that change
//! when a publisher's key counts, written where a policy's `rotations`
//! directory reads them (`ward_policy::rotation`) and recorded in the
//! ledger, so every rotation and revocation is auditable.

use super::{Usage, or_usage};
use crate::args::{KeysCommand, KeysRevokeArgs, KeysRotateArgs};
use crate::output;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub(super) fn run(cmd: KeysCommand) -> u8 {
    match cmd {
        KeysCommand::Rotate(args) => or_usage(|| rotate(&args)),
        KeysCommand::Revoke(args) => or_usage(|| revoke(&args)),
    }
}

fn passphrase_from(var: Option<&str>) -> Result<Option<Zeroizing<String>>, Usage> {
    let Some(var) = var else { return Ok(None) };
    // Not the VarError itself: for a non-UTF-8 value its message would print the passphrase.
    std::env::var(var)
        .map(|v| Some(Zeroizing::new(v)))
        .map_err(|e| match e {
            std::env::VarError::NotPresent => Usage(format!("environment variable {var} is not set")),
            std::env::VarError::NotUnicode(_) => Usage(format!("environment variable {var} is not valid UTF-8")),
        })
}

fn private_key(path: &Path, passphrase_var: Option<&str>, what: &str) -> Result<ward_sign::SigningKey, Usage> {
    let pass = passphrase_from(passphrase_var)?;
    ward_sign::SigningKey::from_file(path, pass.as_deref().map(String::as_str))
        .map_err(|e| Usage(format!("{what} {}: {e}", path.display())))
}

/// A key file, or a key on a PKCS#11 token (`WARD_PKCS11_MODULE` and
/// `WARD_PKCS11_PIN` as for `ward sign --pkcs11`, when the URI does not
/// name them).
fn signing_key(
    file: Option<&Path>,
    pkcs11: Option<&str>,
    passphrase_var: Option<&str>,
    what: &str,
) -> Result<ward_sign::SigningKey, Usage> {
    match (file, pkcs11) {
        (_, Some(uri)) => {
            let uri = ward_sign::pkcs11::Pkcs11Uri::parse(uri).map_err(|e| Usage(format!("{what}-pkcs11: {e}")))?;
            let config = ward_sign::pkcs11::TokenConfig {
                module: std::env::var_os("WARD_PKCS11_MODULE")
                    .filter(|m| !m.is_empty())
                    .map(PathBuf::from),
                pin: std::env::var("WARD_PKCS11_PIN").ok().map(Zeroizing::new),
            };
            ward_sign::SigningKey::from_pkcs11(&uri, &config).map_err(|e| Usage(format!("{what}-pkcs11: {e}")))
        }
        (Some(path), None) => private_key(path, passphrase_var, what),
        (None, None) => Err(Usage(format!("give {what} FILE or {what}-pkcs11 URI"))),
    }
}

fn time(flag: &str, text: &str) -> Result<jiff::Timestamp, Usage> {
    text.parse::<jiff::Timestamp>().map_err(|e| {
        Usage(format!(
            "{flag} {text:?}: {e} (expected RFC 3339, e.g. 2026-12-02T00:00:00Z)"
        ))
    })
}

/// The first 16 hex digits of a `sha256:` fingerprint, for file names.
fn short(fingerprint: &str) -> String {
    fingerprint.trim_start_matches("sha256:").chars().take(16).collect()
}

/// Writes a statement as a new file (never over an existing one).
fn write_statement(dir: &Path, name: &str, statement: &serde_json::Value) -> Result<PathBuf, Usage> {
    std::fs::create_dir_all(dir).map_err(|e| Usage(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(statement).map_err(|e| Usage(e.to_string()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// Checks a written statement the way a policy will read it.
fn read_back(statement: &serde_json::Value, name: &str) -> Result<ward_policy::rotation::KeyStatement, Usage> {
    let bytes = serde_json::to_vec(statement).map_err(|e| Usage(e.to_string()))?;
    ward_policy::rotation::KeyStatement::parse(&bytes, name).map_err(Usage)
}

fn rotate(args: &KeysRotateArgs) -> Result<u8, Usage> {
    let now = crate::clock::now()?;
    let old = signing_key(
        args.old.as_deref(),
        args.old_pkcs11.as_deref(),
        args.old_passphrase_env.as_deref(),
        "--old",
    )?;
    let new = signing_key(
        args.new.as_deref(),
        args.new_pkcs11.as_deref(),
        args.new_passphrase_env.as_deref(),
        "--new",
    )?;
    // Default: now, in whole seconds (a statement people read).
    let whole = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let rotated_at = args
        .at
        .as_deref()
        .map(|t| time("--at", t))
        .transpose()?
        .unwrap_or(whole);
    let old_valid_until = args
        .old_valid_until
        .as_deref()
        .map(|t| time("--old-valid-until", t))
        .transpose()?;
    if old_valid_until.is_some_and(|u| u < rotated_at) {
        return Err(Usage(
            "--old-valid-until is before the rotation time; the old key cannot stop counting before the new one starts"
                .into(),
        ));
    }
    let terms = ward_sign::rotation::RotationTerms {
        rotated_at: rotated_at.to_string(),
        old_key_valid_until: old_valid_until.map(|t| t.to_string()),
        reason: args.reason.clone(),
    };
    let statement = ward_sign::rotation::rotation_statement(&old, &new, &terms)?;
    let name = format!(
        "rotation-{}-to-{}.json",
        short(&old.fingerprint()),
        short(&new.fingerprint())
    );
    let ward_policy::rotation::KeyStatement::Rotation(rotation) = read_back(&statement, &name)? else {
        return Err(Usage(
            "internal: the rotation statement read back as another kind".into(),
        ));
    };
    let path = write_statement(&args.out_dir, &name, &statement)?;
    let recorded = super::trust_events::key_rotated(args.ledger.as_deref(), &rotation, &statement, now);
    let index = match recorded {
        Ok(index) => index,
        Err(e) => {
            // Nothing half-done: a statement the ledger does not hold is removed.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    output::trust(&format!(
        "wrote {} (rotation from key {} to key {} at {}, old key valid until {}; signed by both keys)\nrecorded in the ledger as entry {index} (key-rotated)\n",
        path.display(),
        rotation.old.fingerprint(),
        rotation.new.fingerprint(),
        rotation.rotated_at,
        rotation.old_valid_until
    ));
    Ok(crate::EXIT_ALLOW)
}

/// The public key of a key file: a public key, else a private key's.
fn public_key(path: &Path) -> Result<ward_verify::PublicKey, Usage> {
    match ward_verify::PublicKey::from_file(path) {
        Ok(k) => Ok(k),
        Err(public_error) => match ward_sign::SigningKey::from_file(path, None) {
            Ok(private) => ward_verify::PublicKey::parse(private.public_key_der(), path.display().to_string())
                .map_err(|e| Usage(format!("{}: {e}", path.display()))),
            Err(_) => Err(Usage(format!(
                "{}: not a public key ({public_error}) nor an unencrypted private key",
                path.display()
            ))),
        },
    }
}

fn revoke(args: &KeysRevokeArgs) -> Result<u8, Usage> {
    let now = crate::clock::now()?;
    let key = public_key(&args.key)?;
    let since = time("--since", &args.since)?;
    let signers = args
        .sign_with
        .iter()
        .map(|p| private_key(p, None, "--sign-with"))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&ward_sign::SigningKey> = signers.iter().collect();
    let statement =
        ward_sign::rotation::revocation_statement(key.der(), &since.to_string(), args.reason.as_deref(), &refs)?;
    let name = format!("revocation-{}.json", short(key.fingerprint()));
    let ward_policy::rotation::KeyStatement::Revocation(revocation) = read_back(&statement, &name)? else {
        return Err(Usage(
            "internal: the revocation statement read back as another kind".into(),
        ));
    };
    let path = write_statement(&args.out_dir, &name, &statement)?;
    let index = match super::trust_events::key_revoked(args.ledger.as_deref(), &revocation, &statement, now) {
        Ok(index) => index,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    let signed = if refs.is_empty() {
        "unsigned".to_string()
    } else {
        format!(
            "signed by {}",
            refs.iter().map(|k| k.fingerprint()).collect::<Vec<_>>().join(", ")
        )
    };
    output::trust(&format!(
        "wrote {} (key {} revoked from {}; {signed})\nrecorded in the ledger as entry {index} (key-revoked)\n",
        path.display(),
        revocation.fingerprint,
        revocation.revoked_at
    ));
    Ok(crate::EXIT_ALLOW)
}
