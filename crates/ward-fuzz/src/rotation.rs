//! Target for key rotation and revocation statements (what `ward keys
//! rotate` and `ward keys revoke` write, and what a policy key's
//! `rotations = "DIR"` reads), through ward-policy's public reader:
//! `KeyStatement::parse` on each statement, then `follow` from every key a
//! parsed rotation hands over from.
//!
//! An input holds up to [`MAX_STATEMENTS`] statements separated by
//! [`STATEMENT_SEPARATOR`]. A statement that is a DSSE envelope is read as
//! it is; anything else is the in-toto statement itself, signed here by
//! both fuzz keys ([`crate::signing`]), so that a rotation between the two
//! (the seeds) verifies and mutations of its fields reach the reader.
//!
//! Checked beyond "no panic": parsing the same bytes twice gives the same
//! answer; an accepted rotation hands over between two different keys and
//! its old key stays valid no earlier than the rotation; a followed chain
//! starts at its key, never holds a key twice and stays within the chain
//! limit.

use crate::signing;
use ward_policy::rotation::{KeyStatement, MAX_CHAIN, follow};

/// Separates the statements of one input.
pub const STATEMENT_SEPARATOR: &[u8] = b"\n--ward-fuzz-next-statement--\n";
/// Most statements read from one input.
pub const MAX_STATEMENTS: usize = 4;

fn parse(bytes: &[u8], file: &str) -> Result<KeyStatement, String> {
    let first = KeyStatement::parse(bytes, file);
    let second = KeyStatement::parse(bytes, file);
    assert_eq!(
        format!("{first:?}"),
        format!("{second:?}"),
        "the same key statement parsed twice gave two answers"
    );
    if let Ok(KeyStatement::Rotation(r)) = &first {
        assert_ne!(
            r.old.fingerprint(),
            r.new.fingerprint(),
            "an accepted rotation hands over to the same key"
        );
        assert!(
            r.old_valid_until >= r.rotated_at,
            "an accepted rotation's old key expires before the rotation"
        );
    }
    first
}

/// Up to four key statements; each is parsed, then every chain followed.
pub fn key_statement(data: &[u8]) {
    signing::with_keys(|a, b| {
        let mut statements = Vec::new();
        let parts = crate::scratch::split(data, STATEMENT_SEPARATOR, MAX_STATEMENTS);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 && part.is_empty() {
                continue;
            }
            let file = format!("statement-{i}.json");
            let is_envelope = serde_json::from_slice::<serde_json::Value>(part).is_ok_and(|v| signing::is_envelope(&v));
            let result = if is_envelope {
                parse(part, &file)
            } else {
                let envelope = serde_json::to_vec(&signing::envelope(part, &[a, b])).unwrap_or_default();
                parse(&envelope, &file)
            };
            if let Ok(s) = result {
                statements.push(s);
            }
        }
        let mut starts = vec![a.public.clone(), b.public.clone()];
        for s in &statements {
            if let KeyStatement::Rotation(r) = s {
                starts.push(r.old.clone());
            }
        }
        for start in &starts {
            if let Ok(chain) = follow(start, &statements, 1) {
                assert_eq!(
                    chain.first().map(|(k, _)| k.fingerprint()),
                    Some(start.fingerprint()),
                    "a rotation chain does not start at its key"
                );
                assert!(chain.len() <= MAX_CHAIN + 1, "a rotation chain of {} keys", chain.len());
                for (i, (k, _)) in chain.iter().enumerate() {
                    assert!(
                        chain[..i].iter().all(|(e, _)| e.fingerprint() != k.fingerprint()),
                        "a rotation chain holds key {} twice",
                        k.fingerprint()
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/corpus/key_statement/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// The target is worth running only if its seeds get past the
    /// signature checks: a rotation between the two fuzz keys, signed
    /// here or in the seed itself, is accepted; one signed by the old
    /// key only is not.
    #[test]
    fn the_seeds_are_rotations_between_the_fuzz_keys() {
        signing::with_keys(|a, b| {
            let signed = serde_json::to_vec(&signing::envelope(&seed("rotation.json"), &[a, b])).unwrap();
            for bytes in [signed, seed("rotation-signed-envelope.json")] {
                let Ok(KeyStatement::Rotation(r)) = KeyStatement::parse(&bytes, "seed") else {
                    panic!("not a rotation");
                };
                assert_eq!(r.old.fingerprint(), a.public.fingerprint());
                assert_eq!(r.new.fingerprint(), b.public.fingerprint());
                let chain = follow(&a.public, &[KeyStatement::Rotation(r)], 1).unwrap();
                assert_eq!(chain.len(), 2);
            }
            let e = KeyStatement::parse(&seed("rotation-signed-by-old-only.json"), "seed").unwrap_err();
            assert!(e.contains("not signed by the new key"), "{e}");
            let revocation = serde_json::to_vec(&signing::envelope(&seed("revocation.json"), &[a, b])).unwrap();
            assert!(matches!(
                KeyStatement::parse(&revocation, "seed"),
                Ok(KeyStatement::Revocation(_))
            ));
        })
        .unwrap();
        key_statement(&seed("chain-rotation-back-and-revocation"));
        key_statement(&seed("fork"));
    }
}
