//! The publisher side: `ward keygen`, `ward sign`, `ward attest`.

use super::{Usage, or_usage};
use crate::args::{AttestArgs, KeyAlgorithm, KeygenArgs, PassphraseArgs, SignArgs};
use crate::output;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

fn passphrase(args: &PassphraseArgs) -> Result<Option<Zeroizing<String>>, Usage> {
    if let Some(var) = &args.passphrase_env {
        let value = std::env::var(var).map_err(|_| Usage(format!("environment variable {var} is not set")))?;
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

pub fn keygen(args: KeygenArgs) -> u8 {
    or_usage(|| {
        let pass = passphrase(&args.passphrase)?;
        let algorithm = match args.algorithm {
            KeyAlgorithm::Ed25519 => ward_sign::Algorithm::Ed25519,
            KeyAlgorithm::EcdsaP256 => ward_sign::Algorithm::EcdsaP256,
        };
        let key = ward_sign::keygen(algorithm, pass.as_deref().map(String::as_str))?;
        let (private, public) = (with_suffix(&args.output, ".key"), with_suffix(&args.output, ".pub"));
        write_new(&private, key.private_pem.as_bytes(), 0o600, args.force)?;
        write_new(&public, key.public_pem.as_bytes(), 0o644, args.force)?;
        output::keygen_ok(&private, &public, &key.fingerprint);
        Ok(crate::EXIT_ALLOW)
    })
}

pub fn sign(args: SignArgs) -> u8 {
    or_usage(|| {
        let pass = passphrase(&args.passphrase)?;
        let key = ward_sign::SigningKey::from_file(&args.key, pass.as_deref().map(String::as_str))?;
        let bundle = ward_sign::sign_artifact(&key, &args.artifact)?;
        let out = args
            .output
            .clone()
            .unwrap_or_else(|| with_suffix(&args.artifact, ".sigstore.json"));
        let text = serde_json::to_string_pretty(&bundle).map_err(|e| Usage(e.to_string()))?;
        std::fs::write(&out, text).map_err(|e| Usage(format!("cannot write {}: {e}", out.display())))?;
        output::wrote(&out, &key.fingerprint());
        Ok(crate::EXIT_ALLOW)
    })
}

pub fn attest(args: AttestArgs) -> u8 {
    or_usage(|| {
        let pass = passphrase(&args.passphrase)?;
        let key = ward_sign::SigningKey::from_file(&args.key, pass.as_deref().map(String::as_str))?;
        let bytes = ward_verify::evidence::read_evidence(&args.predicate)?;
        let predicate = ward_verify::evidence::parse_json(&bytes)
            .map_err(|e| Usage(format!("{}: {e}", args.predicate.display())))?;
        let bundle = ward_sign::attest(&key, &args.artifact, &args.predicate_type, predicate)?;
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
        output::wrote(&out, &key.fingerprint());
        Ok(crate::EXIT_ALLOW)
    })
}
