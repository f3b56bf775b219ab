//! C2SP `signed-note` with Ed25519, and `tlog-cosignature` witness signatures.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature
//! lines `— <name> <base64(key hash[4] || signature)>`. A key is named by
//! `SHA-256(name || "\n" || type || public key)[:4]`; type 0x01 is Ed25519,
//! 0x04 an Ed25519 witness cosignature whose signature is
//! `u64 timestamp || Ed25519 signature` over
//! `"cosignature/v1\ntime <t>\n" || note text`. Written here from the C2SP
//! specs (no maintained Rust crate implements them); signatures are aws-lc-rs.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine as _;
use sha2::Digest as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Signature type of an Ed25519 note signature.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type of an Ed25519 witness cosignature.
pub const ALG_COSIGNATURE: u8 = 0x04;
/// Most signature lines read from a note.
pub const MAX_SIGNATURES: usize = 100;

/// Why a note, key or signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note text is not a well-formed signed note.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A key string is malformed.
    #[error("malformed key: {0}")]
    Key(String),
    /// A known key's signature does not verify.
    #[error("signature by {0} does not verify")]
    BadSignature(String),
    /// No signature by any known key.
    #[error("no signature by a known key (signed by: {0})")]
    UnknownKey(String),
    /// Fewer witnesses cosigned than required.
    #[error("{got} of the required {need} witnesses cosigned")]
    Quorum {
        /// Valid cosignatures by distinct named witnesses.
        got: usize,
        /// Required.
        need: usize,
    },
}

/// The 4-byte key hash.
pub fn key_hash(name: &str, alg: u8, public: &[u8]) -> u32 {
    let mut h = sha2::Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Whether `name` can name a key or signer (non-empty, no `+` or whitespace).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['+', ' ', '\n', '\t'])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if !valid_name(name) {
        return Err(NoteError::Key(format!("invalid key name {name:?}")));
    }
    Ok(())
}

/// A key that verifies note signatures (or witness cosignatures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    /// The key name (a log origin or witness name).
    pub name: String,
    /// The key hash.
    pub key_hash: u32,
    /// [`ALG_ED25519`] or [`ALG_COSIGNATURE`].
    pub alg: u8,
    /// The Ed25519 public key.
    pub public: [u8; 32],
}

impl NoteVerifier {
    /// Parses `<name>+<hex hash>+<base64(type || key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (name, hash, key) = (parts.next(), parts.next(), parts.next());
        let (Some(name), Some(hash), Some(key)) = (name, hash, key) else {
            return Err(NoteError::Key("expected name+hash+key".into()));
        };
        check_name(name)?;
        let bytes = B64
            .decode(key)
            .map_err(|e| NoteError::Key(format!("bad base64: {e}")))?;
        let (&alg, public) = bytes.split_first().ok_or_else(|| NoteError::Key("empty key".into()))?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE {
            return Err(NoteError::Key(format!("unsupported key type {alg:#04x}")));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|e| NoteError::Key(format!("an Ed25519 key is 32 bytes, not {} ({e})", public.len())))?;
        if hash.len() != 8 {
            return Err(NoteError::Key("the key hash is 8 hex digits".into()));
        }
        let claimed =
            u32::from_str_radix(hash, 16).map_err(|e| NoteError::Key(format!("the key hash is not hex: {e}")))?;
        let computed = key_hash(name, alg, &public);
        if claimed != computed {
            return Err(NoteError::Key(format!(
                "key hash {hash} does not match the key ({computed:08x})"
            )));
        }
        Ok(Self {
            name: name.to_string(),
            key_hash: computed,
            alg,
            public,
        })
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        let mut key = vec![self.alg];
        key.extend_from_slice(&self.public);
        format!("{}+{:08x}+{}", self.name, self.key_hash, B64.encode(key))
    }

    fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(message, sig)
            .is_ok()
    }
}

/// An Ed25519 key that signs notes.
pub struct NoteSigner {
    name: String,
    alg: u8,
    pair: Ed25519KeyPair,
    seed: [u8; 32],
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A new random key (type [`ALG_ED25519`], or [`ALG_COSIGNATURE`] for a witness).
    pub fn generate(name: &str, alg: u8) -> Result<Self, NoteError> {
        check_name(name)?;
        let mut seed = [0u8; 32];
        aws_lc_rs::rand::fill(&mut seed).map_err(|e| NoteError::Key(format!("no randomness: {e}")))?;
        Self::from_seed(name, alg, seed)
    }

    fn from_seed(name: &str, alg: u8, seed: [u8; 32]) -> Result<Self, NoteError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|e| NoteError::Key(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            alg,
            pair,
            seed,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex hash>+<base64(type || seed)>`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("expected PRIVATE+KEY+…".into()))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(_hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Key("expected PRIVATE+KEY+name+hash+key".into()));
        };
        let bytes = B64
            .decode(key)
            .map_err(|e| NoteError::Key(format!("bad base64: {e}")))?;
        let (&alg, seed) = bytes.split_first().ok_or_else(|| NoteError::Key("empty key".into()))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|e| NoteError::Key(format!("an Ed25519 seed is 32 bytes, not {} ({e})", seed.len())))?;
        let signer = Self::from_seed(name, alg, seed)?;
        if signer.verifier().to_vkey().split('+').nth(1) != Some(_hash) {
            return Err(NoteError::Key("the private key's hash does not match its key".into()));
        }
        Ok(signer)
    }

    /// The private key string.
    pub fn to_skey(&self) -> String {
        let mut key = vec![self.alg];
        key.extend_from_slice(&self.seed);
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier().key_hash,
            B64.encode(key)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let public: [u8; 32] = self.pair.public_key().as_ref().try_into().unwrap_or([0; 32]);
        NoteVerifier {
            name: self.name.clone(),
            key_hash: key_hash(&self.name, self.alg, &public),
            alg: self.alg,
            public,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs arbitrary bytes (used for decision records too).
    pub fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// A signature line over `text` (the note text, ending in a newline).
    pub fn sign_line(&self, text: &str) -> String {
        let sig = self.sign_bytes(text.as_bytes());
        signature_line(&self.name, self.verifier().key_hash, &sig)
    }

    /// A witness cosignature line at `timestamp` (seconds since the epoch).
    pub fn cosign_line(&self, text: &str, timestamp: u64) -> String {
        let sig = self.sign_bytes(&cosigned_message(text, timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig);
        signature_line(&self.name, self.verifier().key_hash, &bytes)
    }
}

fn cosigned_message(text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

fn signature_line(name: &str, hash: u32, sig: &[u8]) -> String {
    let mut bytes = hash.to_be_bytes().to_vec();
    bytes.extend_from_slice(sig);
    format!("— {name} {}\n", B64.encode(bytes))
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's name.
    pub name: String,
    /// The signer's key hash.
    pub key_hash: u32,
    /// The signature bytes after the key hash.
    pub signature: Vec<u8>,
}

/// A signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The text (ends with a newline).
    pub text: String,
    /// The signature lines.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Signs `text` (which must end in a newline) with `signer`.
    pub fn sign(text: &str, signer: &NoteSigner) -> Result<String, NoteError> {
        check_text(text)?;
        Ok(format!("{text}\n{}", signer.sign_line(text)))
    }

    /// Parses a signed note.
    pub fn parse(note: &[u8]) -> Result<Self, NoteError> {
        let note = std::str::from_utf8(note).map_err(|e| NoteError::Malformed(format!("not UTF-8: {e}")))?;
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        check_text(text)?;
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the signature block does not end in a newline".into(),
            ));
        }
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed(format!("more than {MAX_SIGNATURES} signatures")));
            }
            let rest = line
                .strip_prefix("— ")
                .ok_or_else(|| NoteError::Malformed(format!("not a signature line: {line:?}")))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| NoteError::Malformed("signature line without a signature".into()))?;
            if !valid_name(name) {
                return Err(NoteError::Malformed(format!("bad signer name {name:?}")));
            }
            let bytes = B64
                .decode(b64)
                .map_err(|e| NoteError::Malformed(format!("signature is not base64: {e}")))?;
            if bytes.len() < 5 {
                return Err(NoteError::Malformed("signature too short".into()));
            }
            let key_hash = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_hash,
                signature: bytes[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signatures".into()));
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// Verifies the note's signatures by the known `verifiers` (note keys,
    /// not cosignature keys). Unknown signers are ignored; a known signer's
    /// bad signature rejects the note; at least one must verify.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            for v in verifiers
                .iter()
                .filter(|v| v.alg == ALG_ED25519 && v.name == sig.name && v.key_hash == sig.key_hash)
            {
                if !v.verifies(self.text.as_bytes(), &sig.signature) {
                    return Err(NoteError::BadSignature(v.name.clone()));
                }
                verified.push(v.name.clone());
            }
        }
        if verified.is_empty() {
            let names: Vec<&str> = self.signatures.iter().map(|s| s.name.as_str()).collect();
            return Err(NoteError::UnknownKey(names.join(", ")));
        }
        Ok(verified)
    }

    /// Counts valid witness cosignatures by distinct known witnesses and
    /// requires `quorum` of them. A known witness's bad cosignature rejects.
    pub fn verify_witnesses(&self, witnesses: &[NoteVerifier], quorum: usize) -> Result<Vec<(String, u64)>, NoteError> {
        let mut ok: Vec<(String, u64)> = Vec::new();
        for sig in &self.signatures {
            for w in witnesses
                .iter()
                .filter(|w| w.alg == ALG_COSIGNATURE && w.name == sig.name && w.key_hash == sig.key_hash)
            {
                if sig.signature.len() != 72 {
                    return Err(NoteError::BadSignature(w.name.clone()));
                }
                let timestamp = u64::from_be_bytes(sig.signature[..8].try_into().unwrap_or([0; 8]));
                if !w.verifies(&cosigned_message(&self.text, timestamp), &sig.signature[8..]) {
                    return Err(NoteError::BadSignature(w.name.clone()));
                }
                if !ok.iter().any(|(n, _)| *n == w.name) {
                    ok.push((w.name.clone(), timestamp));
                }
            }
        }
        if ok.len() < quorum {
            return Err(NoteError::Quorum {
                got: ok.len(),
                need: quorum,
            });
        }
        Ok(ok)
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') || text.contains('\r') {
        return Err(NoteError::Malformed(
            "note text must be non-empty lines, each ending in a newline".into(),
        ));
    }
    Ok(())
}
