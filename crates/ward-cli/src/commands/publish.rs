//! The publisher side: `ward keygen`, `ward sign`, `ward attest`, with a key
//! file or a key on a PKCS#11 token (`--pkcs11 URI`).

use super::{Usage, or_usage};
use crate::args::{AttestArgs, KeyAlgorithm, KeygenArgs, PassphraseArgs, SignArgs};
use crate::output;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

fn passphrase(args: &PassphraseArgs) -> Result<Option<Zeroizing<String>>, Usage> {
    if let Some(var) = &args.passphrase_env {
        // Not the VarError itself: for a non-UTF-8 value its message
        // would print the passphrase.
        let value = std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => Usage(format!("environment variable {var} is not set")),
            std::env::VarError::NotUnicode(_) => Usage(format!("environment variable {var} is not valid UTF-8")),
        })?;
        return Ok(Some(Zeroizing::new(value)));
    }
    if let Some(path) = &args.passphrase_file {
        let text = Zeroizing::new(super::read_input_text(
            path,
            "passphrase file",
            ward_input::limits::KEY,
        )?);
        return Ok(Some(Zeroizing::new(
            text.lines().next().unwrap_or_default().to_string(),
        )));
    }
    Ok(None)
}

/// The token fallbacks from the environment: `WARD_PKCS11_MODULE` (the
/// module when the URI has no `module-path`) and `WARD_PKCS11_PIN` (the user
/// PIN when the URI has no `pin-value` or `pin-source`).
fn token_config() -> ward_sign::pkcs11::TokenConfig {
    ward_sign::pkcs11::TokenConfig {
        module: std::env::var_os("WARD_PKCS11_MODULE")
            .filter(|m| !m.is_empty())
            .map(PathBuf::from),
        pin: std::env::var("WARD_PKCS11_PIN").ok().map(Zeroizing::new),
    }
}

/// The signing key: a key file (`--key`, with its passphrase) or a key on a token (`--pkcs11`).
pub(super) fn signing_key(
    key: Option<&Path>,
    pkcs11: Option<&str>,
    pass: &PassphraseArgs,
) -> Result<ward_sign::SigningKey, Usage> {
    match (key, pkcs11) {
        (_, Some(uri)) => {
            let uri = ward_sign::pkcs11::Pkcs11Uri::parse(uri)?;
            Ok(ward_sign::SigningKey::from_pkcs11(&uri, &token_config())?)
        }
        (Some(path), None) => {
            let pass = passphrase(pass)?;
            Ok(ward_sign::SigningKey::from_file(
                path,
                pass.as_deref().map(String::as_str),
            )?)
        }
        (None, None) => Err(Usage("give --key FILE or --pkcs11 URI".into())),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn write_new(path: &Path, data: &[u8], mode: u32, force: bool) -> Result<(), Usage> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut f = options
        .open(path)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| Usage(format!("cannot set permissions on {}: {e}", path.display())))?;
    f.write_all(data)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))
}

pub(super) fn keygen(args: KeygenArgs) -> u8 {
    or_usage(|| {
        let algorithm = match args.algorithm {
            Some(KeyAlgorithm::Ed25519) => ward_sign::Algorithm::Ed25519,
            Some(KeyAlgorithm::EcdsaP256) => ward_sign::Algorithm::EcdsaP256,
            None if args.pkcs11.is_some() => ward_sign::Algorithm::EcdsaP256,
            None => ward_sign::Algorithm::Ed25519,
        };
        if let Some(uri) = &args.pkcs11 {
            let uri = ward_sign::pkcs11::Pkcs11Uri::parse(uri)?;
            let public = with_suffix(&args.output, ".pub");
            // Refuse before the key exists on the token, not after.
            if !args.force && std::fs::symlink_metadata(&public).is_ok() {
                return Err(Usage(format!(
                    "{} already exists (--force overwrites it)",
                    public.display()
                )));
            }
            let key = ward_sign::pkcs11::generate(&uri, &token_config(), algorithm)?;
            write_new(&public, key.public_pem.as_bytes(), 0o644, args.force)?;
            output::keygen_token_ok(&key.key_uri, &public, &key.fingerprint);
            return Ok(crate::EXIT_ALLOW);
        }
        let pass = passphrase(&args.passphrase)?;
        let key = ward_sign::keygen(algorithm, pass.as_deref().map(String::as_str))?;
        let (private, public) = (with_suffix(&args.output, ".key"), with_suffix(&args.output, ".pub"));
        write_new(&private, key.private_pem.as_bytes(), 0o600, args.force)?;
        write_new(&public, key.public_pem.as_bytes(), 0o644, args.force)?;
        output::keygen_ok(&private, &public, &key.fingerprint);
        Ok(crate::EXIT_ALLOW)
    })
}

pub(super) fn sign(args: SignArgs) -> u8 {
    or_usage(|| {
        let key = signing_key(args.key.as_deref(), args.pkcs11.as_deref(), &args.passphrase)?;
        let bundle = ward_sign::sign_artifact(&key, &args.artifact)?;
        let out = args
            .output
            .clone()
            .unwrap_or_else(|| with_suffix(&args.artifact, ".sigstore.json"));
        let text = serde_json::to_string_pretty(&bundle).map_err(|e| Usage(e.to_string()))?;
        std::fs::write(&out, text).map_err(|e| Usage(format!("cannot write {}: {e}", out.display())))?;
        output::wrote(&out, &key.fingerprint(), key.generated_on_token());
        Ok(crate::EXIT_ALLOW)
    })
}

pub(super) fn attest(args: AttestArgs) -> u8 {
    or_usage(|| {
        let key = signing_key(args.key.as_deref(), args.pkcs11.as_deref(), &args.passphrase)?;
        let (predicate_type, predicate) = match (&args.predicate, &args.predicate_type) {
            (Some(path), Some(predicate_type)) => {
                let bytes = ward_verify::evidence::read_evidence(path)?;
                let predicate =
                    ward_verify::evidence::parse_json(&bytes).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
                (predicate_type.clone(), predicate)
            }
            _ => {
                let spec = ward_rebuild::inputs::InputsSpec {
                    lockfile: args.lockfile.clone(),
                    config_files: args.config_file.clone(),
                    env_allow: args.env_allow.clone(),
                    image: args.image.clone(),
                    toolchains: args.toolchain.clone(),
                };
                let predicate = ward_rebuild::inputs::predicate(&spec, |k| std::env::var(k).ok())?;
                (ward_verify::build_inputs::BUILD_INPUTS.to_string(), predicate)
            }
        };
        let bundle = ward_sign::attest(&key, &args.artifact, &predicate_type, predicate)?;
        let line = serde_json::to_string(&bundle).map_err(|e| Usage(e.to_string()))?;
        let out = match &args.output {
            Some(path) => {
                std::fs::write(path, line).map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
                path.clone()
            }
            None => {
                let path = with_suffix(&args.artifact, ".intoto.jsonl");
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
                writeln!(f, "{line}").map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
                path
            }
        };
        output::wrote(&out, &key.fingerprint(), key.generated_on_token());
        Ok(crate::EXIT_ALLOW)
    })
}
