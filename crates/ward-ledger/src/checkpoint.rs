//! C2SP `tlog-checkpoint`: `origin\nsize\nbase64(root)\n[extensions]`.

use crate::hash::Hash;
use crate::note::{Note, NoteError, NoteSigner, NoteVerifier};
use base64::Engine as _;

/// A checkpoint's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (its unique name).
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash at that size.
    pub root: Hash,
    /// Extension lines, kept verbatim.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            base64::engine::general_purpose::STANDARD.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a note text strictly: canonical decimal size, 32-byte root.
    pub fn parse_text(text: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::Malformed(format!("checkpoint: {m}"));
        let mut lines = text.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size_text = lines.next().ok_or_else(|| bad("no size line"))?;
        let canonical = !size_text.is_empty()
            && size_text.bytes().all(|b| b.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        if !canonical {
            return Err(bad(&format!("size {size_text:?} is not a canonical decimal number")));
        }
        let size = size_text
            .parse::<u64>()
            .map_err(|e| bad(&format!("size out of range: {e}")))?;
        let root_text = lines.next().ok_or_else(|| bad("no root line"))?;
        let root = base64::engine::general_purpose::STANDARD
            .decode(root_text)
            .ok()
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or_else(|| bad("root is not 32 bytes of base64"))?;
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: lines.map(str::to_string).collect(),
        })
    }

    /// Signs the checkpoint as a note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        Note::sign(&self.to_text(), signer)
    }
}

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The body.
    pub checkpoint: Checkpoint,
    /// The whole note.
    pub note: Note,
}

impl SignedCheckpoint {
    /// Parses a checkpoint note and verifies the log's signature; the
    /// origin must be the log key's name.
    pub fn verify(bytes: &[u8], log_key: &NoteVerifier) -> Result<Self, NoteError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse_text(&note.text)?;
        if checkpoint.origin != log_key.name {
            return Err(NoteError::UnknownKey(format!(
                "checkpoint origin {} is not the log {}",
                checkpoint.origin, log_key.name
            )));
        }
        note.verify(std::slice::from_ref(log_key))?;
        Ok(Self { checkpoint, note })
    }
}
