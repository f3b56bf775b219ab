//! Artifact digests: SHA-256 and SHA-512, always computed together.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Sha256(pub [u8; 32]);

/// A SHA-512 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Sha512(pub [u8; 64]);

macro_rules! hex_digest {
    ($ty:ident, $len:expr, $name:expr) => {
        impl $ty {
            /// Lower-case hexadecimal form.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Parses lower- or upper-case hexadecimal of exactly the right length.
            pub fn from_hex(s: &str) -> Option<Self> {
                let mut out = [0u8; $len];
                hex::decode_to_slice(s, &mut out).ok()?;
                Some(Self(out))
            }

            /// The raw digest bytes.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}:{}", $name, self.to_hex())
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).ok_or_else(|| serde::de::Error::custom(concat!("not a hex ", $name, " digest")))
            }
        }
    };
}

hex_digest!(Sha256, 32, "sha256");
hex_digest!(Sha512, 64, "sha512");

impl Sha256 {
    /// Hashes a byte slice (for small inputs; artifacts are streamed by `ward-identify`).
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(bytes).into())
    }
}

/// Both digests of one artifact, computed in one streamed pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Digests {
    /// SHA-256 of the artifact bytes.
    pub sha256: Sha256,
    /// SHA-512 of the artifact bytes (npm's `integrity`).
    pub sha512: Sha512,
}

impl Digests {
    /// Computes both digests of an in-memory byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self {
            sha256: Sha256(sha2::Sha256::digest(bytes).into()),
            sha512: Sha512(sha2::Sha512::digest(bytes).into()),
        }
    }

    /// npm's Subresource Integrity form of the SHA-512 digest (`sha512-<base64>`).
    pub fn npm_integrity(&self) -> String {
        format!("sha512-{}", base64_std(&self.sha512.0))
    }
}

/// Standard base64 with padding, written here to keep `ward-core` dependency-light.
fn base64_std(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_empty_input() {
        let d = Digests::of(b"");
        assert_eq!(
            d.sha256.to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(d.sha512.to_hex().starts_with("cf83e1357eefb8bd"));
        assert_eq!(
            d.npm_integrity(),
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
        );
    }

    #[test]
    fn hex_round_trip_and_rejects_wrong_length() {
        let d = Sha256::of(b"abc");
        assert_eq!(Sha256::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Sha256::from_hex("abcd"), None);
        assert_eq!(Sha256::from_hex(&"zz".repeat(32)), None);
    }
}
