//! Which allow covers an installed package, and which bytes to compare its
//! files with: the artifact's digest when the installed tree records it
//! (looked up in the ledger's allows: none is `unvetted`; other bytes than
//! the first allow of the same package file is `release-changed`), else
//! the allowed artifacts of this name and version whose bytes the proxy
//! cache still holds, matched by their contents.

use crate::archive::{self, Manifest, Packing};
use crate::compare::Findings;
use crate::context::{Allow, AuditContext};
use crate::fsio::ReadProblem;
use crate::model::{AlertKind, AllowRef, ArtifactDigest};

/// What vetting found.
pub(crate) struct Vetted<'a> {
    /// The allow that covers the package.
    pub(crate) allow: Option<&'a Allow>,
    /// The allowed artifact's files, when its bytes are at hand.
    pub(crate) reference: Option<Manifest>,
    /// The artifact's digests (known, or the matched allow's).
    pub(crate) artifact: Option<ArtifactDigest>,
}

impl Vetted<'_> {
    pub(crate) fn allow_ref(&self) -> Option<AllowRef> {
        self.allow.map(|a| AllowRef {
            index: a.index,
            time: a.time,
            sha256: a.sha256.clone(),
            file_name: a.file_name.clone(),
        })
    }
}

/// How vetting reads one ecosystem's artifacts.
pub(crate) struct Artifacts<'s> {
    /// How they are packed.
    pub(crate) packing: Packing,
    /// The artifact's file name, when the installed tree tells it (release
    /// pins are per file: a Python version has many wheels).
    pub(crate) file_name: Option<String>,
    /// Whether any other allowed bytes of the same version are a changed
    /// release (npm and crates publish one artifact a version).
    pub(crate) one_per_version: bool,
    /// How well an allowed artifact's files match the installed ones:
    /// the number of files that differ (`None`: not comparable).
    pub(crate) mismatches: &'s dyn Fn(&Manifest) -> Option<usize>,
    /// Whether the allowed artifact is read from the proxy cache when the
    /// installed tree names its digest (false when the caller has read
    /// those very bytes already, as a cargo home's `.crate`).
    pub(crate) read_cached: bool,
}

/// The files of the allowed artifact the proxy cache keeps (`None`: it
/// keeps none), read once and checked against the allowed digest.
fn reference(ctx: &AuditContext<'_>, allow: &Allow, packing: Packing) -> Option<Result<Manifest, String>> {
    let blob = archive::cached_blob(ctx.cache.as_deref(), &allow.sha256)?;
    match archive::unpack(
        &blob,
        packing,
        Some(&allow.sha256),
        ctx.limits.artifact_bytes,
        ctx.limits.artifact_entries,
    ) {
        Ok(unpacked) => Some(unpacked.files),
        // Not in the cache (a link or other non-file there is not the cache's).
        Err(ReadProblem::NotFound | ReadProblem::NotAFile(_)) => None,
        Err(p) => Some(Err(format!("{}: {p}", blob.display()))),
    }
}

/// Vets one package (`purl` with its version), reporting into `f`.
pub(crate) fn vet<'a>(
    ctx: &AuditContext<'a>,
    f: &mut Findings,
    purl: &str,
    known: Option<&ArtifactDigest>,
    how: &Artifacts<'_>,
) -> Vetted<'a> {
    let allows = ctx.allows;
    if let Some(known) = known.filter(|k| k.sha256.is_some() || k.sha512.is_some()) {
        let by_digest: Vec<&Allow> = match (&known.sha256, &known.sha512) {
            (Some(h), _) => allows.by_sha256(h).collect(),
            (None, Some(h)) => allows.by_sha512(h).collect(),
            (None, None) => Vec::new(),
        };
        let named = |d: &ArtifactDigest| match (&d.sha256, &d.sha512) {
            (Some(h), _) => format!("sha256:{h}"),
            (None, Some(h)) => format!("sha512:{h}"),
            (None, None) => "?".into(),
        };
        // The same bytes allowed under this purl first, else under any.
        let allow = by_digest
            .iter()
            .find(|a| a.purl == purl)
            .or_else(|| by_digest.first())
            .copied();
        let pin = match &how.file_name {
            Some(file) => allows.pin(purl, file),
            None if how.one_per_version => allows.for_purl(purl).next(),
            None => None,
        };
        if let Some(pin) = pin
            && allow.is_none_or(|a| a.sha256 != pin.sha256)
        {
            f.add(
                AlertKind::ReleaseChanged,
                format!(
                    "installed from {}, but the ledger first allowed sha256:{} for {purl} ({}, entry {})",
                    named(known),
                    pin.sha256,
                    pin.file_name,
                    pin.index
                ),
            );
        }
        let Some(allow) = allow else {
            f.add(
                AlertKind::Unvetted,
                format!(
                    "installed from {}, which no decision in the ledger allowed",
                    named(known)
                ),
            );
            return Vetted {
                allow: None,
                reference: None,
                artifact: Some(known.clone()),
            };
        };
        let cached = if how.read_cached {
            reference(ctx, allow, how.packing)
        } else {
            None
        };
        let reference = match cached {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                f.add(
                    AlertKind::Unverifiable,
                    format!("the allowed artifact in the proxy cache cannot be read: {e}"),
                );
                None
            }
            None => None,
        };
        return Vetted {
            allow: Some(allow),
            reference,
            artifact: Some(known.clone()),
        };
    }
    // No digest recorded: the allowed artifacts of this version, by content.
    let candidates: Vec<&Allow> = allows.for_purl(purl).collect();
    if candidates.is_empty() {
        f.add(AlertKind::Unvetted, format!("no decision in the ledger allowed {purl}"));
        return Vetted {
            allow: None,
            reference: None,
            artifact: None,
        };
    }
    let mut best: Option<(usize, &Allow, Manifest)> = None;
    let mut cached = 0;
    for allow in candidates.iter().rev() {
        match reference(ctx, allow, how.packing) {
            Some(Ok(m)) => {
                cached += 1;
                let Some(miss) = (how.mismatches)(&m) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(b, _, _)| miss < *b) {
                    let done = miss == 0;
                    best = Some((miss, allow, m));
                    if done {
                        break;
                    }
                }
            }
            Some(Err(e)) => f.add(
                AlertKind::Unverifiable,
                format!(
                    "the allowed artifact {} in the proxy cache cannot be read: {e}",
                    allow.file_name
                ),
            ),
            None => {}
        }
    }
    match best {
        Some((_, allow, m)) => Vetted {
            allow: Some(allow),
            reference: Some(m),
            artifact: Some(ArtifactDigest {
                sha256: Some(allow.sha256.clone()),
                sha512: allow.sha512.clone(),
            }),
        },
        None => {
            let last = candidates[candidates.len() - 1];
            let why = if cached == 0 {
                "is in the proxy cache to compare with".to_string()
            } else {
                format!("matches the installed files ({cached} of them are in the proxy cache)")
            };
            f.add(
                AlertKind::Unverifiable,
                format!(
                    "the installed tree records no artifact digest, and none of the {} artifacts the ledger allowed for {purl} (latest {}, entry {}) {why}",
                    candidates.len(),
                    last.file_name,
                    last.index
                ),
            );
            Vetted {
                allow: None,
                reference: None,
                artifact: None,
            }
        }
    }
}
