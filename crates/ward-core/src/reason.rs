//! Stable reason codes: every deny (and every warning) names one.
//!
//! Codes are kebab-case, never renamed once shipped, documented in
//! `docs/reasons.md`, and checked unique by a test. A user can grep for a
//! code, suppress it in a report, or look it up to learn what to do.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $desc:literal; )*) => {
        /// A stable, documented identifier for why ward decided what it did.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ReasonCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(ReasonCode::$variant => $code,)* }
            }

            /// One sentence: what the code means and what to do about it.
            pub fn description(self) -> &'static str {
                match self { $(ReasonCode::$variant => $desc,)* }
            }

            /// Looks a code up by its string.
            pub fn from_code(s: &str) -> Option<Self> {
                match s { $($code => Some(ReasonCode::$variant),)* _ => None }
            }
        }
    };
}

reason_codes! {
    /// The artifact could not be read at all.
    ArtifactUnreadable = "artifact-unreadable",
        "The artifact file could not be opened or read; check the path and permissions.";
    /// The archive is not a valid archive of the kind its name says.
    ArchiveMalformed = "archive-malformed",
        "The package archive is corrupt, truncated or not the format its name claims; re-download it from the registry.";
    /// An archive entry escapes the extraction directory.
    ArchivePathTraversal = "archive-path-traversal",
        "An archive entry has an absolute path or a `..` component that would write outside the install directory; the package is hostile or broken.";
    /// An archive contains a symlink or hard link.
    ArchiveLinkEntry = "archive-link-entry",
        "An archive entry is a symbolic or hard link; ward never follows links inside packages (CVE-2022-36113 and node-tar CVEs).";
    /// An archive holds an entry type other than files and directories.
    ArchiveEntryType = "archive-entry-type",
        "An archive entry is a device, FIFO or other special file; packages only ever need files and directories.";
    /// An archive has more entries than the limit.
    ArchiveTooManyEntries = "archive-too-many-entries",
        "The archive has more entries than the configured limit; raise the limit only if this package is known to be that large.";
    /// An archive unpacks to more bytes than the limit.
    ArchiveTooLarge = "archive-too-large",
        "The archive unpacks to more bytes than the configured limit (decompression bomb guard).";
    /// An archive's compression ratio is beyond the limit.
    ArchiveCompressionRatio = "archive-compression-ratio",
        "The archive expands by more than the configured ratio over its compressed size (decompression bomb guard).";
    /// The archive could be read differently by the installer than by ward.
    ArchiveAmbiguous = "archive-ambiguous",
        "Installers could read this archive differently from ward (conflicting name headers, data after the end-of-archive block, names that collide after case folding or Unicode normalisation, zip local and central names that disagree); the package is refused rather than guessed at.";
    /// The package's own metadata file is missing.
    MetadataMissing = "metadata-missing",
        "The package metadata (package.json, METADATA, PKG-INFO or Cargo.toml) was not found where the ecosystem requires it.";
    /// The package's own metadata file cannot be parsed.
    MetadataMalformed = "metadata-malformed",
        "The package metadata could not be parsed, or lacks a name or version.";
    /// The file name and the package's own metadata disagree.
    PackageNameMismatch = "package-name-mismatch",
        "The name or version in the file name (or --purl) differs from the one inside the package; the package may be mislabelled or a confusion attack.";
    /// No signature or attestation was presented or found.
    SignatureMissing = "signature-missing",
        "No signature was found for the artifact; ward requires at least one verified signature or attestation. Pass --bundle or --key with --signature.";
    /// A signature does not verify.
    SignatureInvalid = "signature-invalid",
        "A signature did not verify over the artifact: the artifact changed after signing, or the signature was made with another key.";
    /// The evidence is about a different artifact.
    ArtifactDigestMismatch = "artifact-digest-mismatch",
        "The signature, log entry or attestation describes different bytes than the artifact presented (changed after signing, or evidence for another artifact).";
    /// The Sigstore bundle cannot be parsed.
    BundleMalformed = "bundle-malformed",
        "The Sigstore bundle is not valid JSON or not a valid bundle (truncated, bad base64, missing fields).";
    /// The Sigstore bundle exceeds the size limit.
    BundleTooLarge = "bundle-too-large",
        "The evidence file is larger than 64 MiB; real bundles are a few kilobytes.";
    /// The Sigstore bundle nests JSON too deeply.
    BundleTooDeep = "bundle-too-deep",
        "The evidence file nests JSON deeper than 128 levels; real bundles nest fewer than ten.";
    /// The bundle's media type is not a known version.
    BundleUnknownVersion = "bundle-unknown-version",
        "The bundle's mediaType names a version ward does not know (ward reads v0.1, v0.2 and v0.3).";
    /// The signing certificate was not valid at the verified signing time.
    CertificateExpired = "certificate-expired",
        "The signing certificate was expired or not yet valid at the verified signing time.";
    /// The certificate does not chain to a trusted root, or breaks the Sigstore profile.
    CertificateUntrusted = "certificate-untrusted",
        "The signing certificate does not chain to a certificate authority in the trusted root, or is not a code-signing certificate.";
    /// The signed certificate timestamp is missing or invalid.
    SctInvalid = "sct-invalid",
        "The certificate's Signed Certificate Timestamp is missing or not signed by a CT log in the trusted root.";
    /// The transparency log proof is missing or wrong.
    TlogInvalid = "tlog-invalid",
        "The Rekor inclusion proof, checkpoint or signed entry timestamp is missing or does not verify against the trusted root.";
    /// An RFC 3161 timestamp or the log's time is invalid.
    TimestampInvalid = "timestamp-invalid",
        "A timestamp (RFC 3161 or the log's integrated time) is missing, untrusted, in the future or outside the certificate's validity.";
    /// The signer identity is not the expected one.
    IdentityMismatch = "identity-mismatch",
        "The certificate's identity (SAN) is not the one required; the artifact was signed by someone else.";
    /// The OIDC issuer is not the expected one.
    IssuerMismatch = "issuer-mismatch",
        "The certificate's OIDC issuer is not the one required.";
    /// A keyless signature verified but nobody said which identity to trust.
    IdentityUnconstrained = "identity-unconstrained",
        "A keyless signature verified, but no trusted identity was configured; anyone can get a Fulcio certificate, so name the identity you trust.";
    /// The signature or key uses a refused algorithm.
    WeakAlgorithm = "weak-algorithm",
        "The signature, key or digest uses an algorithm ward refuses (SHA-1, MD5, DSA, RSA under 2048 bits).";
    /// The key or signature algorithm is not recognised.
    UnknownAlgorithm = "unknown-algorithm",
        "The key or signature uses an algorithm ward does not recognise; ward accepts Ed25519, ECDSA P-256/P-384 and RSA of 2048 bits or more.";
    /// The signature was made with a key that is not trusted.
    KeyNotTrusted = "key-not-trusted",
        "The signature was made with a public key that is not among the trusted keys; add the publisher's key (--key or the policy) if you trust it.";
    /// The key file cannot be read as a public key.
    KeyMalformed = "key-malformed",
        "The key file is not a PEM or DER public key ward can read.";
    /// An attestation file is not in any format ward reads.
    AttestationMalformed = "attestation-malformed",
        "The attestation is not a Sigstore bundle, DSSE envelope, npm attestations response or PyPI attestation/provenance, or its in-toto statement cannot be parsed.";
    /// A DSSE envelope carries something other than an in-toto statement.
    AttestationPayloadType = "attestation-payload-type",
        "The DSSE envelope's payloadType is not application/vnd.in-toto+json, so it cannot be bound to the artifact.";
    /// A statement verified but is about other artifacts.
    AttestationSubjectMismatch = "attestation-subject-mismatch",
        "The attestation is signed, but none of its subjects has the artifact's SHA-256 or SHA-512 digest: it is about something else.";
    /// The attestation's signing key is outside its validity window.
    RegistryKeyExpired = "registry-key-expired",
        "The registry key that signed the attestation was not valid at the signing time (see the keys file's validFor window).";
    /// The publisher in the attestation is not the package's.
    PublisherMismatch = "publisher-mismatch",
        "The attestation's publisher (npm name and version, or PyPI Trusted Publisher) does not match the package or the signing certificate.";
    /// Provenance claims disagree with the signing certificate.
    ProvenanceClaimsMismatch = "provenance-claims-mismatch",
        "The provenance statement claims a source or commit that the Fulcio certificate it was signed with contradicts.";
    /// A rebuild attestation cannot be read as one.
    RebuildMalformed = "rebuild-malformed",
        "The rebuild attestation is not what ward reads (OSS Rebuild's ArtifactEquivalence and Rebuild statements in DSSE envelopes, one a line, or ward's own equivalence statement), or a statement lacks the fields that bind it; see docs/rebuilds.md.";
    /// A rebuild attestation is about another artifact.
    RebuildSubjectMismatch = "rebuild-subject-mismatch",
        "The rebuilder's ArtifactEquivalence statement is signed, but its subject is not this artifact's SHA-256 and SHA-512: it vouches for other bytes (another release, or this file changed).";
    /// The Rebuild statement is about other bytes than the equivalence statement compared.
    RebuildCandidateMismatch = "rebuild-candidate-mismatch",
        "The Rebuild statement's subject is not the rebuilt artifact the ArtifactEquivalence statement compared (its candidate): the two statements do not describe one rebuild.";
    /// The rebuild was made from another source than the provenance names.
    RebuildSourceMismatch = "rebuild-source-mismatch",
        "The rebuilder built the package from another repository or commit than the package's verified SLSA provenance names; the published artifact and its provenance tell different stories. Investigate before trusting either.";
    /// A trusted rebuilder says the rebuild did not match.
    RebuildDiverged = "rebuild-diverged",
        "A trusted rebuilder signed a statement that its rebuild from source does not match the published artifact; see `ward rebuild compare` for which files differ.";
    /// Not enough trusted rebuilders vouch for the artifact.
    RebuildMissing = "rebuild-missing",
        "The scope requires K distinct trusted rebuilders to have reproduced this artifact, and fewer verified rebuild attestations were presented (fetch them, e.g. from OSS Rebuild, as ARTIFACT.rebuild.intoto.jsonl).";
    /// Earlier releases reproduced and this one does not.
    RebuildRegressed = "rebuild-regressed",
        "The ledger shows earlier releases of this package reproduced, and this release has no verified rebuild: something changed in how it was built (warn by default, deny by policy).";
    /// Required provenance is missing.
    ProvenanceMissing = "provenance-missing",
        "The policy requires verified build provenance (SLSA) for this package and none was presented or none verified.";
    /// The builder is not an allowed one.
    ProvenanceBuilderMismatch = "provenance-builder-mismatch",
        "The provenance names a builder that is not in the policy's list of allowed builders.";
    /// The source repository is not the expected one.
    ProvenanceSourceMismatch = "provenance-source-mismatch",
        "The provenance says the artifact was built from a source repository the policy does not allow (a fork or another project).";
    /// The source ref is not the expected one.
    ProvenanceRefMismatch = "provenance-ref-mismatch",
        "The provenance says the artifact was built from a branch or tag the policy does not allow.";
    /// The build ran on a self-hosted runner.
    ProvenanceSelfHosted = "provenance-self-hosted",
        "The build ran on a self-hosted runner (or did not say where it ran) and the policy denies self-hosted builds.";
    /// Earlier releases carried provenance; this one has none.
    ProvenanceRegression = "provenance-regression",
        "Earlier releases of this package (within the policy's `history.window`) carried provenance (verified by ward, or listed by the registry), but this one has no verified provenance, the mark of a release uploaded with a stolen token. Check with the maintainers before allowing it (`[[allow]]` with its sha256).";
    /// The provenance names another repository, workflow or builder than earlier releases'.
    ProvenanceSourceChanged = "provenance-source-changed",
        "This release's verified provenance names another source repository, workflow or builder than the earlier releases ward verified: it was built somewhere else. Confirm the move with the maintainers before allowing it.";
    /// A publisher account not seen in the window published this release.
    PublisherChanged = "publisher-changed",
        "The registry says this release was published by an account that published none of the last `history.window` releases (npm `_npmUser`): a new maintainer, or a taken-over account.";
    /// The release is younger than the cooldown.
    ReleaseTooNew = "release-too-new",
        "The release was published more recently than the policy's `cooldown.min_age`; the message gives the UTC time it becomes eligible. Most malicious releases are removed within days: wait, use an older version, or exempt the package.";
    /// No publish time is known for the release.
    ReleaseAgeUnknown = "release-age-unknown",
        "No publish time is known for this release (the registry's listing gives none, or the artifact did not come through the proxy), so the cooldown cannot be checked and does not pass.";
    /// The registry's release metadata is malformed or contradictory.
    ReleaseMetadataInvalid = "release-metadata-invalid",
        "The registry's release metadata that a cooldown or history rule reads (publish time, publisher, attestation link, the list of versions) is missing, malformed or contradictory (a time in the future, a version listed twice); the message names the field and the rule does not pass.";
    /// The release history a rule needs cannot be known.
    ReleaseHistoryUnknown = "release-history-unknown",
        "A history rule could not be evaluated: the ledger's release index cannot be read, or the registry does not name what the rule compares (PyPI and crates.io name no publishing account); the rule does not pass.";
    /// A required predicate type is missing.
    PredicateTypeMissing = "predicate-type-missing",
        "The policy requires a verified attestation of this predicate type and none was presented.";
    /// No signature from a signer the policy trusts.
    SignerNotTrusted = "signer-not-trusted",
        "Signatures verified, but none is from a signer or key the policy trusts for this package.";
    /// Too few distinct trusted keys signed.
    ThresholdNotMet = "threshold-not-met",
        "Fewer distinct trusted keys signed the artifact than the policy's threshold requires (the same key twice counts once).";
    /// A trusted key signed, but the scope requires keys registered as hardware-backed.
    KeyNotHardwareBacked = "key-not-hardware-backed",
        "The scope requires hardware-backed keys (`require_hardware_keys`) and the key that signed is trusted but not registered as hardware-backed (no `hardware` table in its policy entry), so its signature does not count. Sign with a registered key, or register this key if it really lives on a token (the registration is the operator's statement; see docs/trust.md).";
    /// A trusted key signed after its `valid_until` (or its rotation).
    KeyExpired = "key-expired",
        "The key that signed is trusted only until a time (`valid_until` in its policy entry, or the time it was rotated to a new key) and the signature's verified signing time is after it; sign with the current key.";
    /// A trusted key signed before its `valid_from`.
    KeyNotYetValid = "key-not-yet-valid",
        "The key that signed is trusted only from a time (`valid_from` in its policy entry, or the rotation that introduced it) and the signature's verified signing time is before it.";
    /// A trusted key signed at or after its revocation.
    KeyRevoked = "key-revoked",
        "The key that signed was revoked (`revoked_at` in its policy entry, or a revocation statement from `ward keys revoke`) and the signature's verified signing time is at or after the revocation; treat what it signed since as suspect.";
    /// A key with a validity window signed, with no verified signing time.
    SigningTimeUnverified = "signing-time-unverified",
        "The key that signed has a validity window or a revocation, and the signature carries no verified signing time (no transparency-log entry or RFC 3161 timestamp), so ward cannot tell whether it was made inside the window; it does not count. Sign with a transparency log or a timestamp authority.";
    /// The trusted signature is older than allowed.
    SignatureTooOld = "signature-too-old",
        "No trusted signature has a verified signing time within the policy's max_signature_age_days.";
    /// A Rego rule denied the artifact.
    RegoDeny = "rego-deny",
        "A Rego rule named in the policy denied the artifact; the message is the rule's own.";
    /// A Rego policy failed to evaluate.
    RegoError = "rego-error",
        "A Rego policy failed to load or evaluate (syntax error, runtime error, or over its time limit); ward fails closed.";
    /// No scope of the policy covers the package, and the policy denies those.
    NoMatchingScope = "no-matching-scope",
        "No scope of the policy covers this package and the policy's `unmatched = \"deny\"` refuses such packages; add a scope for it.";
    /// The artifact (or a component of its verified SBOM) has a known vulnerability.
    AdvisoryFound = "advisory-found",
        "The artifact, or a component its verified SBOM lists, is affected by a known advisory at or above the severity threshold; upgrade to a fixed version.";
    /// A component could not be checked against the advisories.
    AdvisoryUnevaluable = "advisory-unevaluable",
        "A version could not be read in its ecosystem's order (or the SBOM names no usable package URL), so ward cannot say it is not vulnerable.";
    /// The advisory data is older than the configured deny age.
    AdvisoriesStale = "advisories-stale",
        "The advisory data is older than the age ward was told to deny at (`--deny-advisories-older-than`, or `deny_after` in advisories.toml), or has no date at all: a scan against it could miss recent advisories. Run `ward advisories update` (or import fresh data).";
    /// A finding is past the policy's remediation deadline for its severity.
    AdvisoryOverdue = "advisory-overdue",
        "A known vulnerability has been present longer than the policy's remediation deadline for its severity; this denies in every mode. Upgrade, or record a time-boxed exception.";
    /// An exception or VEX statement silenced a finding (reported, not denied).
    AdvisorySilenced = "advisory-silenced",
        "A finding was silenced by a policy exception or an OpenVEX statement; the message names which, where it is written, and its justification.";
    /// A policy exception has expired and no longer applies.
    ExceptionExpired = "exception-expired",
        "A policy `[[exception]]` is past its expiry date: it silences nothing any more. Renew it with a new justification, or fix the finding.";
    /// A policy exception expires within 14 days.
    ExceptionExpiring = "exception-expiring",
        "A policy `[[exception]]` expires within 14 days; after that the finding it silences counts again.";
    /// The package is a known-malicious release (an OSV `MAL-` record, a RustSec `malicious` advisory).
    PackageMalicious = "package-malicious",
        "The package matches a known-malicious record (by name and version, or by the artifact's own digest); this denies in every mode and no exception or VEX statement silences it. Treat any machine that installed it as compromised and rotate its secrets; only an `[[allow]]` naming the artifact's sha256 lets one reviewed artifact through.";
    /// A reviewed `[[allow]]` entry let an artifact a malicious record names through.
    AllowedByReview = "allowed-by-review",
        "A policy `[[allow]]` entry names this exact artifact (its sha256): a finding that would deny (a malicious record) was let through; the message names the record, the reviewer, the justification and the policy line.";
    /// A policy `[[allow]]` entry has expired and no longer applies.
    AllowExpired = "allow-expired",
        "A policy `[[allow]]` entry is past its expiry date: it lets nothing through any more. Review the artifact again and renew it, or remove the package.";
    /// A policy `[[allow]]` entry expires within 14 days.
    AllowExpiring = "allow-expiring",
        "A policy `[[allow]]` entry expires within 14 days; after that the artifact it lets through is denied again.";
    /// A `[[pin]]` holds the package to other versions.
    VersionNotPinned = "version-not-pinned",
        "The policy pins this package (`[[pin]]`) to versions that do not include this one; install a pinned version, or change the pin. Only an `[[allow]]` naming this artifact's sha256 lets it through.";
    /// A licence the policy denies, or does not allow.
    LicenseDenied = "license-denied",
        "The package's SPDX licence expression cannot be satisfied by the scope's allowed licences (or every choice includes a denied one).";
    /// No usable licence is declared.
    LicenseUnknown = "license-unknown",
        "The package declares no licence, or one that is not an SPDX expression, and the scope restricts licences; ward cannot show it is allowed.";
    /// The scope requires a vulnerability-scan attestation and there is none.
    ScanAttestationMissing = "scan-attestation-missing",
        "The scope requires a verified vulnerability-scan attestation (in-toto vulns/v0.2 or cosign vuln/v1) from a trusted scanner, and none was presented.";
    /// The newest trusted scan attestation is too old.
    ScanAttestationTooOld = "scan-attestation-too-old",
        "The newest verified scan by a trusted scanner finished longer ago than the scope allows (or states no finish time); rescan.";
    /// A trusted scan attestation reports a finding at or above the threshold.
    ScanAttestationFinding = "scan-attestation-finding",
        "A verified scan attestation by a trusted scanner reports a vulnerability at or above the scope's threshold.";
    /// An install script (or `binding.gyp`) the earlier release did not have.
    InstallScriptAdded = "install-script-added",
        "This release runs an install script (npm `preinstall`, `install` or `postinstall`, or a `binding.gyp` that makes npm run node-gyp) that the earlier release ward allowed did not have, or runs a different command: how the 2025 npm worm and ua-parser-js ran their payloads. Read the script before allowing this version.";
    /// A dependency added in a patch or minor release.
    DependencyAddedInPatch = "dependency-added-in-patch",
        "A patch or minor release added a dependency the earlier release ward allowed did not have (event-stream 3.3.6 added flatmap-stream, axios 1.14.1 added plain-crypto-js). Check the new dependency before allowing this version.";
    /// A wheel installs a `.pth` file.
    PthFile = "pth-file",
        "The wheel installs a `.pth` file into site-packages; Python runs its `import` lines at every interpreter start (how the litellm 1.82.8 payload ran). Allow it only for a package known to need one.";
    /// An sdist of a pure-Python project.
    SdistOnly = "sdist-only",
        "A source distribution of a pure-Python project is being installed: it runs its setup.py or build backend at install, where a wheel would run nothing. Install a wheel, or allow the sdist for this package.";
    /// A native binary the earlier release did not ship.
    NativeBinaryAdded = "native-binary-added",
        "The package ships a native binary (ELF, PE or Mach-O) at a path the earlier release ward allowed did not have. Check where it comes from before allowing this version.";
    /// No earlier release to compare with.
    NoEarlierRelease = "no-earlier-release",
        "A risky-change rule found install scripts or native binaries but ward has allowed no earlier release of the package to compare with, so it cannot say they are new; a warning, and this release becomes the baseline once allowed.";
    /// The earlier release's traits cannot be read.
    RiskyChangeUnevaluable = "risky-change-unevaluable",
        "A risky-change rule could not compare this release with the earlier ones: the release-traits store cannot be read. The rule does not pass; check the store's file in ward's data directory.";
    /// The upstream registry served different bytes than the ledger recorded for this release.
    ReleaseChanged = "release-changed",
        "The registry served different bytes for this package file than the ones already allowed and recorded in the ledger: a republished or tampered release. Investigate before trusting either.";
    /// The artifact's bytes differ from the digest the registry's own index lists.
    IndexDigestMismatch = "index-digest-mismatch",
        "The bytes served for this file do not have the digest the registry index lists for it (PyPI sha256, npm integrity, cargo cksum): a tampered file or a broken mirror.";
    /// The upstream registry could not serve what was asked for.
    UpstreamFailed = "upstream-failed",
        "The proxy could not get the artifact or its metadata from the upstream registry (down, too large, truncated, too slow, malformed, or a redirect to another host).";
    /// An upstream listing names more files or versions than the proxy reads.
    ListingTooLarge = "listing-too-large",
        "An upstream listing (PyPI project page, npm packument, cargo index file) names more files or versions than the proxy's max_listing_entries: refused whole rather than cut, so no version is silently hidden; raise the limit if the project is genuine.";
    /// A member of a snapshot has no allow in the ledger for its bytes.
    SnapshotUnvetted = "snapshot-unvetted",
        "A package in the set has no allow decision in the ledger for its exact bytes (its sha256), so it cannot be part of a known-good snapshot; install it through ward (`ward proxy`, `ward run`) or `ward verify` it first.";
    /// A stored snapshot is damaged or forged.
    SnapshotInvalid = "snapshot-invalid",
        "A stored snapshot does not check out: its signature does not verify, or the ledger event that anchors it does not name its digest. It is never used as a rollback target; take a new one.";
    /// No snapshot qualifies as a rollback target.
    RollbackNoTarget = "rollback-no-target",
        "No snapshot matches what was asked (`--to`, `--before`, `--drop`) and is still clean today (nothing malicious, nothing overdue); name another one, or take a snapshot of a known-good set first.";
    /// The set to roll back to now matches a malicious record.
    RollbackTargetMalicious = "rollback-target-malicious",
        "The set to roll back to now matches a known-malicious record (imported after the snapshot was taken); ward will not reinstall it. Choose an older snapshot.";
    /// The set to roll back to has a finding past its remediation deadline.
    RollbackTargetOverdue = "rollback-target-overdue",
        "The set to roll back to has a known vulnerability past the policy's remediation deadline for its severity; ward will not reinstall it. Choose another snapshot, or record a time-boxed exception.";
    /// Bytes the rollback needs are not in the proxy cache.
    RollbackBytesMissing = "rollback-bytes-missing",
        "Bytes the rollback needs are no longer in the proxy cache, or no longer hash to what the ledger allowed; the message names each one and nothing was changed. Restore the cache, or choose a snapshot whose bytes are kept.";
    /// The rollback cannot restore the whole set at once.
    RollbackPartial = "rollback-partial",
        "The rollback cannot restore the whole set in one step (members of an ecosystem the environment does not hold, an environment ward cannot reinstall, a target set ward could only restore in part); ward changes nothing rather than half of it.";
    /// After the reinstall, what is installed is not the plan.
    RollbackMismatch = "rollback-mismatch",
        "After the reinstall, what is installed is not what the plan says (a package missing, extra, or with other bytes); a staged install that differs is not swapped in, and the message names each difference.";
    /// A recovery playbook step did not end as expected.
    PlaybookFailed = "playbook-failed",
        "A recovery playbook step did not end as the playbook expects (a command failed, the audit did not alert after the change, or was not clean after the rollback); the signed report in the ledger names the step.";
    /// The policy file is invalid.
    PolicyInvalid = "policy-invalid",
        "The policy file is invalid; the message points at the file, line and key.";
    /// The trusted root cannot be used.
    TrustedRootInvalid = "trusted-root-invalid",
        "The trusted root file is malformed or describes no usable authority; fix or replace --trusted-root.";
}

impl ReasonCode {
    /// Codes that say presented evidence is forged or about other bytes:
    /// a signature that does not verify, a statement about another digest,
    /// a payload that is not an in-toto statement, a signature by a key ward
    /// does not trust, a certificate, log entry or timestamp that does not
    /// check out, claims that contradict the certificate, bytes other than
    /// the registry index or the ledger says. A policy's `warn` and `audit`
    /// modes never relax these (they relax missing evidence and policy
    /// rules): such an artifact is denied in every mode.
    pub const FORGERY: &'static [ReasonCode] = &[
        ReasonCode::SignatureInvalid,
        ReasonCode::ArtifactDigestMismatch,
        ReasonCode::AttestationPayloadType,
        ReasonCode::AttestationSubjectMismatch,
        ReasonCode::RebuildSubjectMismatch,
        ReasonCode::RebuildCandidateMismatch,
        ReasonCode::KeyNotTrusted,
        ReasonCode::RegistryKeyExpired,
        ReasonCode::KeyExpired,
        ReasonCode::KeyNotYetValid,
        ReasonCode::KeyRevoked,
        ReasonCode::CertificateExpired,
        ReasonCode::CertificateUntrusted,
        ReasonCode::SctInvalid,
        ReasonCode::TlogInvalid,
        ReasonCode::TimestampInvalid,
        ReasonCode::PublisherMismatch,
        ReasonCode::ProvenanceClaimsMismatch,
        ReasonCode::IndexDigestMismatch,
        ReasonCode::ReleaseChanged,
    ];

    /// Whether this code is in [`ReasonCode::FORGERY`]: denied in every
    /// policy mode.
    pub fn is_forgery(self) -> bool {
        Self::FORGERY.contains(&self)
    }

    /// Codes that deny in every policy mode besides forged evidence: a
    /// known-malicious package is no policy preference that `warn` or
    /// `audit` may relax.
    pub const EVERY_MODE: &'static [ReasonCode] = &[ReasonCode::PackageMalicious];

    /// Whether this code denies whatever the scope's mode: forged evidence
    /// ([`ReasonCode::FORGERY`]) or [`ReasonCode::EVERY_MODE`].
    pub fn denies_in_every_mode(self) -> bool {
        self.is_forgery() || Self::EVERY_MODE.contains(&self)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ReasonCode::from_code(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {s:?}")))
    }
}

/// One reason behind a decision: a stable code and a one-line explanation
/// saying what failed and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What failed and what was expected, in one line.
    pub message: String,
    /// Where the rule or the finding is written, when it is written
    /// somewhere: a policy file's line, a lockfile entry. Kept out of the
    /// JSON documents and ledger records (their schemas are fixed; the
    /// message already names the place); SARIF output uses it for regions.
    #[serde(skip)]
    pub location: Option<Location>,
}

impl Reason {
    /// A reason with its code and message.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: None,
        }
    }

    /// The same reason, located.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }
}

/// A place in a file: its name as given to ward, a 1-based line, and a
/// 1-based column when known.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// The file (a path as given, or a label such as `ward.toml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in bytes), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Location {
    /// A line of a file.
    pub fn line(file: impl Into<String>, line: usize) -> Self {
        Self {
            file: file.into(),
            line,
            column: None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ReasonCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate reason code {s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{s} is not kebab-case"
            );
            assert_eq!(ReasonCode::from_code(s), Some(*code));
            assert!(!code.description().is_empty());
        }
    }

    /// Issue 10, finding 6: forged evidence is never relaxed; missing
    /// evidence and policy rules are.
    #[test]
    fn forgery_codes_are_the_failed_verifications_only() {
        for code in [
            ReasonCode::SignatureInvalid,
            ReasonCode::AttestationSubjectMismatch,
            ReasonCode::AttestationPayloadType,
            ReasonCode::KeyNotTrusted,
        ] {
            assert!(code.is_forgery(), "{code}");
        }
        for code in [
            ReasonCode::SignatureMissing,
            ReasonCode::ProvenanceMissing,
            ReasonCode::SignerNotTrusted,
            ReasonCode::IdentityUnconstrained,
            ReasonCode::ProvenanceSourceMismatch,
            ReasonCode::RegoDeny,
        ] {
            assert!(!code.is_forgery(), "{code}");
        }
    }

    /// Issue 13: a known-malicious package denies in every mode, without
    /// being called forgery.
    #[test]
    fn malicious_denies_in_every_mode() {
        assert!(ReasonCode::PackageMalicious.denies_in_every_mode());
        assert!(!ReasonCode::PackageMalicious.is_forgery());
        assert!(ReasonCode::SignatureInvalid.denies_in_every_mode());
        assert!(!ReasonCode::AdvisoryFound.denies_in_every_mode());
        assert!(!ReasonCode::AllowedByReview.denies_in_every_mode());
    }
}
