//! Keys on a PKCS#11 token (an HSM, a smart card, SoftHSM2): the key pair is
//! generated on the token, every signature is made on the token, and only
//! the public key ever leaves it.
//!
//! Through the `cryptoki` crate, which loads the module (a shared library)
//! at run time. The token and key are named by an RFC 7512 `pkcs11:` URI
//! ([`uri`]); the module comes from the URI's `module-path`, else the
//! caller's fallback (`WARD_PKCS11_MODULE` at the CLI); the PIN from
//! `pin-value` or `pin-source`, else the caller's fallback
//! (`WARD_PKCS11_PIN`). Nothing here prints, and no error carries the PIN.
//!
//! Algorithms: ECDSA P-256 (`CKM_EC_KEY_PAIR_GEN`, signing with `CKM_ECDSA`
//! over a SHA-256 digest computed here, so large artifacts are never sent to
//! the token) and Ed25519 (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, `CKM_EDDSA` over the
//! whole message). A token returns ECDSA signatures as raw `r || s`; they
//! are DER-encoded here, as every format ward writes expects. Each
//! signature is checked against the exported public key before it is used,
//! so a token that returns garbage (or a public key object that does not
//! belong to the private key) is caught at signing time, not at the
//! verifier's.
//!
//! A key is used only if the token marks it sensitive and not extractable:
//! ward refuses to sign with a key the token would hand out.

pub mod uri;

use crate::Algorithm;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::path::PathBuf;
pub use uri::{PinSource, Pkcs11Uri, UriError};
use zeroize::Zeroizing;

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), as `CKA_EC_PARAMS`.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the Ed25519 OID (1.3.101.112), as `CKA_EC_PARAMS` (PKCS#11 3.0).
const ED25519_PARAMS_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// `PrintableString "edwards25519"`, the older `CKA_EC_PARAMS` form some tokens use.
const ED25519_PARAMS_NAME: &[u8] = b"\x13\x0cedwards25519";

/// What the caller supplies when the URI does not say: the CLI passes
/// `WARD_PKCS11_MODULE` and `WARD_PKCS11_PIN` here.
#[derive(Default)]
pub struct TokenConfig {
    /// The module to load when the URI has no `module-path`.
    pub module: Option<PathBuf>,
    /// The user PIN when the URI has no `pin-value` or `pin-source`.
    pub pin: Option<Zeroizing<String>>,
}

/// Why a token operation failed. Messages name the module, token and key
/// (the URI with any PIN hidden), never the PIN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The URI is malformed or asks for something unsupported.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// No module was named.
    #[error(
        "no PKCS#11 module: add ?module-path=/path/to/module.so to the URI or set WARD_PKCS11_MODULE (SoftHSM2 on Debian: /usr/lib/softhsm/libsofthsm2.so)"
    )]
    NoModule,
    /// The module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {path}: {reason}")]
    Module {
        /// The module path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No initialised token matches the URI.
    #[error("no token matches {uri} (tokens found: {found})")]
    NoToken {
        /// The URI, PIN hidden.
        uri: String,
        /// The tokens the module offers.
        found: String,
    },
    /// More than one token matches the URI.
    #[error("{uri} matches more than one token ({found}): add token=, serial= or slot-id=")]
    AmbiguousToken {
        /// The URI, PIN hidden.
        uri: String,
        /// The matching tokens.
        found: String,
    },
    /// The token needs a PIN and none was given.
    #[error(
        "token {token:?} needs its user PIN: set WARD_PKCS11_PIN, or add ?pin-source=file:/path to the URI (pin-value= also works but shows in the process list)"
    )]
    PinNeeded {
        /// The token label.
        token: String,
    },
    /// The PIN was refused.
    #[error("token {token:?} refused the PIN (CKR_PIN_INCORRECT){warning}")]
    WrongPin {
        /// The token label.
        token: String,
        /// A warning when few attempts are left.
        warning: String,
    },
    /// The PIN is locked after too many wrong attempts.
    #[error("token {token:?}: the user PIN is locked (CKR_PIN_LOCKED); the security officer must unlock it")]
    PinLocked {
        /// The token label.
        token: String,
    },
    /// The URI does not name a key.
    #[error("{uri} names no key: add object=LABEL or id=%XX..")]
    KeyUnnamed {
        /// The URI, PIN hidden.
        uri: String,
    },
    /// The token has no such key.
    #[error("token {token:?} has no private key matching {uri}")]
    NoKey {
        /// The token label.
        token: String,
        /// The URI, PIN hidden.
        uri: String,
    },
    /// More than one key matches.
    #[error("token {token:?} has {count} private keys matching {uri}: add id= to choose one")]
    AmbiguousKey {
        /// The token label.
        token: String,
        /// The URI, PIN hidden.
        uri: String,
        /// How many.
        count: usize,
    },
    /// The token has no public key object for the private key.
    #[error(
        "token {token:?} has no public key object for the private key matching {uri} (ward exports the public key from it)"
    )]
    NoPublicKey {
        /// The token label.
        token: String,
        /// The URI, PIN hidden.
        uri: String,
    },
    /// `keygen` would create a second key with the same label or id.
    #[error("token {token:?} already has a key matching {uri}: choose another object= (or id=), or delete the old key")]
    KeyExists {
        /// The token label.
        token: String,
        /// The URI, PIN hidden.
        uri: String,
    },
    /// The key is extractable or not sensitive.
    #[error(
        "the private key matching {uri} can leave the token (CKA_SENSITIVE false or CKA_EXTRACTABLE true): ward signs only with keys the token keeps; generate one with ward keygen --pkcs11"
    )]
    Exportable {
        /// The URI, PIN hidden.
        uri: String,
    },
    /// The key or mechanism is not one ward signs with, or the token lacks it.
    #[error("{0}")]
    Unsupported(String),
    /// The token's signature did not verify under the public key it exported.
    #[error(
        "the signature token {token:?} returned does not verify under its public key for {uri}; the token or its objects are inconsistent"
    )]
    BadSignature {
        /// The token label.
        token: String,
        /// The URI, PIN hidden.
        uri: String,
    },
    /// The PIN file could not be read.
    #[error("cannot read the PIN: {0}")]
    PinFile(String),
    /// Another PKCS#11 failure, with the function that failed.
    #[error("PKCS#11 error on token {token:?}: {message}")]
    Token {
        /// The token label (empty before a token was chosen).
        token: String,
        /// The function and return value.
        message: String,
    },
}

fn rv(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// A key pair just generated on a token.
pub struct GeneratedTokenKey {
    /// SubjectPublicKeyInfo PEM (`PUBLIC KEY`).
    pub public_pem: String,
    /// `sha256:` fingerprint of the public key.
    pub fingerprint: String,
    /// A URI naming the new key (token, object, id; no module, no PIN).
    pub key_uri: String,
}

/// An open session on a token, logged in, with the module loaded.
struct Opened {
    session: Option<Session>,
    ctx: Option<Pkcs11>,
    token: String,
    uri: Pkcs11Uri,
}

impl Drop for Opened {
    fn drop(&mut self) {
        // Close the session, then C_Finalize: a second use in the same
        // process starts clean. Failures here change nothing for the caller.
        if let Some(s) = self.session.take() {
            let _ = s.logout();
            drop(s);
        }
        if let Some(ctx) = self.ctx.take() {
            let _ = ctx.finalize();
        }
    }
}

impl Opened {
    fn session(&self) -> Result<&Session, Pkcs11Error> {
        self.session.as_ref().ok_or_else(|| Pkcs11Error::Token {
            token: self.token.clone(),
            message: "session closed".into(),
        })
    }

    fn err(&self, e: CkError) -> Pkcs11Error {
        Pkcs11Error::Token {
            token: self.token.clone(),
            message: e.to_string(),
        }
    }

    fn uri(&self) -> String {
        self.uri.redacted()
    }

    /// The one object a search found: none is `missing(token, uri)`, more
    /// than one is `AmbiguousKey` (a URI must never pick among keys).
    fn exactly_one(
        &self,
        found: &[ObjectHandle],
        missing: fn(String, String) -> Pkcs11Error,
    ) -> Result<ObjectHandle, Pkcs11Error> {
        match found {
            [one] => Ok(*one),
            [] => Err(missing(self.token.clone(), self.uri())),
            more => Err(Pkcs11Error::AmbiguousKey {
                token: self.token.clone(),
                uri: self.uri(),
                count: more.len(),
            }),
        }
    }
}

fn matches(want: &Option<String>, have: &str) -> bool {
    want.as_deref().is_none_or(|w| w == have.trim_end())
}

/// Loads the module, finds the one token the URI names, opens a session and
/// logs in when the token asks for it.
fn open(uri: &Pkcs11Uri, config: &TokenConfig, read_write: bool) -> Result<Opened, Pkcs11Error> {
    let module = uri
        .module_path
        .clone()
        .or_else(|| config.module.clone())
        .ok_or(Pkcs11Error::NoModule)?;
    let module_err = |reason: String| Pkcs11Error::Module {
        path: module.display().to_string(),
        reason,
    };
    if !module.is_file() {
        return Err(module_err("no such file (or not a regular file)".into()));
    }
    let ctx = Pkcs11::new(&module).map_err(|e| module_err(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(e) if rv(&e) == Some(RvError::CryptokiAlreadyInitialized) => {}
        Err(e) => return Err(module_err(format!("C_Initialize failed: {e}"))),
    }
    let library = ctx.get_library_info().map_err(|e| module_err(e.to_string()))?;
    if !matches(&uri.library_manufacturer, library.manufacturer_id())
        || !matches(&uri.library_description, library.library_description())
    {
        return Err(module_err(format!(
            "the module is {:?} by {:?}, not the library {} names",
            library.library_description(),
            library.manufacturer_id(),
            uri.redacted()
        )));
    }
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| module_err(e.to_string()))?;
    let mut found = Vec::new();
    let mut chosen: Vec<(Slot, String)> = Vec::new();
    for slot in slots {
        let (Ok(info), Ok(slot_info)) = (ctx.get_token_info(slot), ctx.get_slot_info(slot)) else {
            continue;
        };
        let label = info.label().trim_end().to_string();
        found.push(format!(
            "{label:?} (serial {}, slot-id {})",
            info.serial_number().trim_end(),
            slot.id()
        ));
        if matches(&uri.token, info.label())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.serial, info.serial_number())
            && matches(&uri.model, info.model())
            && matches(&uri.slot_description, slot_info.slot_description())
            && matches(&uri.slot_manufacturer, slot_info.manufacturer_id())
            && uri.slot_id.is_none_or(|id| id == slot.id())
        {
            chosen.push((slot, label));
        }
    }
    let (slot, token) = match chosen.len() {
        1 => chosen.remove(0),
        0 => {
            return Err(Pkcs11Error::NoToken {
                uri: uri.redacted(),
                found: if found.is_empty() {
                    "none initialised".into()
                } else {
                    found.join(", ")
                },
            });
        }
        _ => {
            return Err(Pkcs11Error::AmbiguousToken {
                uri: uri.redacted(),
                found: chosen
                    .iter()
                    .map(|(_, l)| format!("{l:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    let session = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .map_err(|e| Pkcs11Error::Token {
        token: token.clone(),
        message: e.to_string(),
    })?;
    let opened = Opened {
        session: Some(session),
        ctx: Some(ctx.clone()),
        token,
        uri: uri.clone(),
    };
    let info = ctx.get_token_info(slot).map_err(|e| opened.err(e))?;
    if info.login_required() {
        let pin = pin(uri, config)?;
        let result = match &pin {
            Some(p) => opened
                .session()?
                .login(UserType::User, Some(&AuthPin::from(p.as_str()))),
            None if info.protected_authentication_path() => opened.session()?.login(UserType::User, None),
            None => {
                return Err(Pkcs11Error::PinNeeded {
                    token: opened.token.clone(),
                });
            }
        };
        match result {
            Ok(()) => {}
            Err(e) => match rv(&e) {
                Some(RvError::UserAlreadyLoggedIn) => {}
                Some(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange) => {
                    let after = ctx.get_token_info(slot).ok();
                    let warning = match after {
                        Some(i) if i.user_pin_final_try() => "; one more wrong PIN locks it".to_string(),
                        Some(i) if i.user_pin_count_low() => "; few attempts are left before it locks".to_string(),
                        _ => String::new(),
                    };
                    return Err(Pkcs11Error::WrongPin {
                        token: opened.token.clone(),
                        warning,
                    });
                }
                Some(RvError::PinLocked) => {
                    return Err(Pkcs11Error::PinLocked {
                        token: opened.token.clone(),
                    });
                }
                _ => return Err(opened.err(e)),
            },
        }
    }
    Ok(opened)
}

/// The user PIN: the URI's `pin-value` or `pin-source` file, else the fallback.
fn pin(uri: &Pkcs11Uri, config: &TokenConfig) -> Result<Option<Zeroizing<String>>, Pkcs11Error> {
    Ok(match &uri.pin {
        Some(PinSource::Value(v)) => Some(v.clone()),
        Some(PinSource::File(path)) => {
            let text = Zeroizing::new(
                ward_input::read_string_bounded(path, "PIN file", ward_input::limits::KEY)
                    .map_err(|e| Pkcs11Error::PinFile(e.to_string()))?,
            );
            Some(Zeroizing::new(text.lines().next().unwrap_or_default().to_string()))
        }
        None => config.pin.clone(),
    })
}

/// The search template for the URI's key of a class.
fn template(class: ObjectClass, uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// Generates a key pair on the token the URI names, labelled with its
/// `object=` (required) and identified by its `id=` (else 16 random bytes).
/// The private key is a token object, private, sensitive, never
/// extractable, usable for signing only.
pub fn generate(uri: &Pkcs11Uri, config: &TokenConfig, algorithm: Algorithm) -> Result<GeneratedTokenKey, Pkcs11Error> {
    let Some(label) = uri.object.clone() else {
        return Err(Pkcs11Error::KeyUnnamed { uri: uri.redacted() });
    };
    let opened = open(uri, config, true)?;
    let session = opened.session()?;
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        // Any key with this label, or with this id, would make the URI ambiguous later.
        let mut by_label = Pkcs11Uri {
            object: Some(label.clone()),
            ..Default::default()
        };
        let taken_label = !session
            .find_objects(&template(class, &by_label))
            .map_err(|e| opened.err(e))?
            .is_empty();
        by_label.object = None;
        by_label.id = uri.id.clone();
        let taken_id = uri.id.is_some()
            && !session
                .find_objects(&template(class, &by_label))
                .map_err(|e| opened.err(e))?
                .is_empty();
        if taken_label || taken_id {
            return Err(Pkcs11Error::KeyExists {
                token: opened.token.clone(),
                uri: opened.uri(),
            });
        }
    }
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => {
            let mut id = vec![0u8; 16];
            #[expect(
                clippy::map_err_ignore,
                reason = "aws-lc-rs reports only `Unspecified`, which adds nothing to the typed error"
            )]
            aws_lc_rs::rand::fill(&mut id).map_err(|_| Pkcs11Error::Token {
                token: opened.token.clone(),
                message: "no random bytes for the key id".into(),
            })?;
            id
        }
    };
    let (mechanism, params, name) = match algorithm {
        Algorithm::EcdsaP256 => (Mechanism::EccKeyPairGen, P256_PARAMS.to_vec(), "ECDSA P-256"),
        Algorithm::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, ED25519_PARAMS_OID.to_vec(), "Ed25519"),
    };
    let public_template = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(params),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let private_template = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let (public, _private) = session
        .generate_key_pair(&mechanism, &public_template, &private_template)
        .map_err(|e| match rv(&e) {
            Some(
                RvError::MechanismInvalid
                | RvError::CurveNotSupported
                | RvError::DomainParamsInvalid
                | RvError::AttributeValueInvalid
                | RvError::TemplateInconsistent,
            ) => Pkcs11Error::Unsupported(format!(
                "token {:?} cannot generate {name} keys ({e}){}",
                opened.token,
                if algorithm == Algorithm::Ed25519 {
                    "; try --algorithm ecdsa-p256"
                } else {
                    ""
                }
            )),
            _ => opened.err(e),
        })?;
    let spki = public_spki(&opened, public, algorithm)?;
    let key_uri = Pkcs11Uri {
        token: Some(opened.token.clone()),
        object: Some(label),
        id: Some(id),
        ..Default::default()
    }
    .redacted();
    Ok(GeneratedTokenKey {
        public_pem: crate::pem("PUBLIC KEY", &spki).map_err(|e| Pkcs11Error::Unsupported(e.to_string()))?,
        fingerprint: crate::fingerprint(&spki),
        key_uri,
    })
}

/// The attribute's bytes, if the object has it.
fn bytes_attr(attrs: &[Attribute], which: AttributeType) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match (a, which) {
        (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::Label(v), AttributeType::Label)
        | (Attribute::Id(v), AttributeType::Id) => Some(v.clone()),
        _ => None,
    })
}

fn bool_attr(attrs: &[Attribute], which: AttributeType) -> Option<bool> {
    attrs.iter().find_map(|a| match (a, which) {
        (Attribute::Sensitive(v), AttributeType::Sensitive)
        | (Attribute::Extractable(v), AttributeType::Extractable)
        | (Attribute::Sign(v), AttributeType::Sign)
        | (Attribute::AlwaysAuthenticate(v), AttributeType::AlwaysAuthenticate)
        | (Attribute::Local(v), AttributeType::Local)
        | (Attribute::NeverExtractable(v), AttributeType::NeverExtractable)
        | (Attribute::AlwaysSensitive(v), AttributeType::AlwaysSensitive) => Some(*v),
        _ => None,
    })
}

fn algorithm_of(key_type: Option<KeyType>, params: Option<&[u8]>) -> Option<Algorithm> {
    match (key_type?, params?) {
        (t, p) if t == KeyType::EC && p == P256_PARAMS => Some(Algorithm::EcdsaP256),
        (t, p) if t == KeyType::EC_EDWARDS && (p == ED25519_PARAMS_OID || p == ED25519_PARAMS_NAME) => {
            Some(Algorithm::Ed25519)
        }
        _ => None,
    }
}

/// The DER SubjectPublicKeyInfo of a public key object, from `CKA_EC_POINT`
/// (a DER OCTET STRING holding the point, or the bare point some tokens return).
fn public_spki(opened: &Opened, public: ObjectHandle, algorithm: Algorithm) -> Result<Vec<u8>, Pkcs11Error> {
    let attrs = opened
        .session()?
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(|e| opened.err(e))?;
    let point = bytes_attr(&attrs, AttributeType::EcPoint).unwrap_or_default();
    let (len, prefix): (usize, &[u8]) = match algorithm {
        Algorithm::EcdsaP256 => (65, &crate::P256_SPKI_PREFIX),
        Algorithm::Ed25519 => (32, &crate::ED25519_SPKI_PREFIX),
    };
    let raw = if point.len() == len + 2 && point[0] == 0x04 && usize::from(point[1]) == len {
        &point[2..]
    } else {
        &point[..]
    };
    if raw.len() != len || (algorithm == Algorithm::EcdsaP256 && raw[0] != 0x04) {
        return Err(Pkcs11Error::Unsupported(format!(
            "token {:?} returned a public key ward cannot read ({} bytes of CKA_EC_POINT) for {}",
            opened.token,
            point.len(),
            opened.uri()
        )));
    }
    let mut spki = prefix.to_vec();
    spki.extend_from_slice(raw);
    Ok(spki)
}

/// A private key on a token, ready to sign: the session stays open (and
/// logged in) while this lives.
pub struct TokenKey {
    opened: Opened,
    key: ObjectHandle,
    algorithm: Algorithm,
    spki_der: Vec<u8>,
    always_authenticate: bool,
    pin: Option<Zeroizing<String>>,
    generated_on_token: bool,
}

impl TokenKey {
    /// Opens the key the URI names (`object=` and/or `id=`, exactly one private key).
    pub fn open(uri: &Pkcs11Uri, config: &TokenConfig) -> Result<Self, Pkcs11Error> {
        if !uri.names_key() {
            return Err(Pkcs11Error::KeyUnnamed { uri: uri.redacted() });
        }
        let opened = open(uri, config, false)?;
        let session = opened.session()?;
        let found = session
            .find_objects(&template(ObjectClass::PRIVATE_KEY, uri))
            .map_err(|e| opened.err(e))?;
        let key = opened.exactly_one(&found, |token, uri| Pkcs11Error::NoKey { token, uri })?;
        let attrs = session
            .get_attributes(
                key,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::Label,
                    AttributeType::Id,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Sign,
                    AttributeType::AlwaysAuthenticate,
                    AttributeType::Local,
                    AttributeType::NeverExtractable,
                    AttributeType::AlwaysSensitive,
                ],
            )
            .map_err(|e| opened.err(e))?;
        let key_type = attrs.iter().find_map(|a| match a {
            Attribute::KeyType(t) => Some(*t),
            _ => None,
        });
        let params = bytes_attr(&attrs, AttributeType::EcParams);
        let Some(algorithm) = algorithm_of(key_type, params.as_deref()) else {
            return Err(Pkcs11Error::Unsupported(format!(
                "the key matching {} is {}, and ward signs with ECDSA P-256 or Ed25519 keys",
                opened.uri(),
                key_type
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "of unknown type".into())
            )));
        };
        if bool_attr(&attrs, AttributeType::Sensitive) != Some(true)
            || bool_attr(&attrs, AttributeType::Extractable) != Some(false)
        {
            return Err(Pkcs11Error::Exportable { uri: opened.uri() });
        }
        if bool_attr(&attrs, AttributeType::Sign) == Some(false) {
            return Err(Pkcs11Error::Unsupported(format!(
                "the key matching {} is not allowed to sign (CKA_SIGN false)",
                opened.uri()
            )));
        }
        // The public key object of the pair: same id (or same label when it has no id).
        let id = bytes_attr(&attrs, AttributeType::Id).filter(|i| !i.is_empty());
        let label = bytes_attr(&attrs, AttributeType::Label).unwrap_or_default();
        let mut pub_template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
        match id {
            Some(id) => pub_template.push(Attribute::Id(id)),
            None => pub_template.push(Attribute::Label(label)),
        }
        if let Some(t) = key_type {
            pub_template.push(Attribute::KeyType(t));
        }
        let publics = session.find_objects(&pub_template).map_err(|e| opened.err(e))?;
        let public = opened.exactly_one(&publics, |token, uri| Pkcs11Error::NoPublicKey { token, uri })?;
        let spki_der = public_spki(&opened, public, algorithm)?;
        let always_authenticate = bool_attr(&attrs, AttributeType::AlwaysAuthenticate) == Some(true);
        let generated_on_token = [
            AttributeType::Local,
            AttributeType::NeverExtractable,
            AttributeType::AlwaysSensitive,
        ]
        .into_iter()
        .all(|a| bool_attr(&attrs, a) == Some(true));
        let pin = if always_authenticate { pin(uri, config)? } else { None };
        Ok(Self {
            opened,
            key,
            algorithm,
            spki_der,
            always_authenticate,
            pin,
            generated_on_token,
        })
    }

    /// Whether the token says the key was generated there and never existed
    /// outside it (`CKA_LOCAL`, `CKA_NEVER_EXTRACTABLE` and
    /// `CKA_ALWAYS_SENSITIVE` all true). An imported key is usable but was
    /// once in software. This is the token's own word, read over PKCS#11.
    pub fn generated_on_token(&self) -> bool {
        self.generated_on_token
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn raw_point(&self) -> &[u8] {
        let prefix = match self.algorithm {
            Algorithm::EcdsaP256 => crate::P256_SPKI_PREFIX.len(),
            Algorithm::Ed25519 => crate::ED25519_SPKI_PREFIX.len(),
        };
        &self.spki_der[prefix..]
    }

    fn token_sign(&self, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let session = self.opened.session()?;
        if self.always_authenticate {
            // CKA_ALWAYS_AUTHENTICATE (a PIV signature key): log in again for this operation.
            session.sign_init(mechanism, self.key).map_err(|e| self.opened.err(e))?;
            let pin = self.pin.as_ref().map(|p| AuthPin::from(p.as_str()));
            session
                .login(UserType::ContextSpecific, pin.as_ref())
                .map_err(|e| self.opened.err(e))?;
            session.sign_update(data).map_err(|e| self.opened.err(e))?;
            return session.sign_final().map_err(|e| self.opened.err(e));
        }
        session.sign(mechanism, self.key, data).map_err(|e| match rv(&e) {
            Some(RvError::MechanismInvalid | RvError::KeyTypeInconsistent | RvError::KeyFunctionNotPermitted) => {
                Pkcs11Error::Unsupported(format!(
                    "token {:?} cannot sign with the key matching {} ({e})",
                    self.opened.token,
                    self.opened.uri()
                ))
            }
            _ => self.opened.err(e),
        })
    }

    fn bad(&self) -> Pkcs11Error {
        Pkcs11Error::BadSignature {
            token: self.opened.token.clone(),
            uri: self.opened.uri(),
        }
    }

    /// ECDSA over a SHA-256 digest: the token signs the digest (`CKM_ECDSA`),
    /// its raw `r || s` is DER-encoded and checked.
    pub fn sign_sha256(&self, digest: &[u8; 32]) -> Result<Vec<u8>, Pkcs11Error> {
        if self.algorithm != Algorithm::EcdsaP256 {
            return Err(Pkcs11Error::Unsupported(
                "Ed25519 signs the whole message, not a digest".into(),
            ));
        }
        let raw = self.token_sign(&Mechanism::Ecdsa, digest)?;
        let der = ecdsa_der(&raw).ok_or_else(|| self.bad())?;
        #[expect(
            clippy::map_err_ignore,
            reason = "aws-lc-rs reports only `Unspecified`, which adds nothing to the typed error"
        )]
        let d =
            aws_lc_rs::digest::Digest::import_less_safe(digest, &aws_lc_rs::digest::SHA256).map_err(|_| self.bad())?;
        #[expect(
            clippy::map_err_ignore,
            reason = "aws-lc-rs reports only `Unspecified`, which adds nothing to the typed error"
        )]
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1, self.raw_point())
            .verify_digest(&d, &der)
            .map_err(|_| self.bad())?;
        Ok(der)
    }

    /// Signs a message: ECDSA over its SHA-256 (DER signature), Ed25519 over
    /// the message itself (`CKM_EDDSA`, pure Ed25519).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        match self.algorithm {
            Algorithm::EcdsaP256 => {
                use sha2::Digest as _;
                self.sign_sha256(&sha2::Sha256::digest(message).into())
            }
            Algorithm::Ed25519 => {
                let sig = self.token_sign(&Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)), message)?;
                #[expect(
                    clippy::map_err_ignore,
                    reason = "aws-lc-rs reports only `Unspecified`, which adds nothing to the typed error"
                )]
                aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, self.raw_point())
                    .verify(message, &sig)
                    .map_err(|_| self.bad())?;
                Ok(sig)
            }
        }
    }
}

/// DER `ECDSA-Sig-Value` (SEQUENCE of two INTEGERs) from a P-256 raw `r || s`.
fn ecdsa_der(raw: &[u8]) -> Option<Vec<u8>> {
    use der::Encode as _;
    if raw.len() != 64 {
        return None;
    }
    let r = der::asn1::UintRef::new(&raw[..32]).ok()?;
    let s = der::asn1::UintRef::new(&raw[32..]).ok()?;
    let len = (r.encoded_len().ok()? + s.encoded_len().ok()?).ok()?;
    let mut out = Vec::with_capacity(72);
    der::Header::new(der::Tag::Sequence, len)
        .ok()?
        .encode_to_vec(&mut out)
        .ok()?;
    r.encode_to_vec(&mut out).ok()?;
    s.encode_to_vec(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    /// A raw signature made by aws-lc-rs, DER-encoded here, verifies as ASN.1;
    /// including r or s with the high bit set or leading zero bytes.
    #[test]
    fn raw_ecdsa_signatures_become_der_that_verifies() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref());
        let mut high = false;
        for i in 0..200u32 {
            let msg = i.to_be_bytes();
            let raw = pair.sign(&rng, &msg).unwrap();
            let raw = raw.as_ref();
            high |= raw[0] >= 0x80 || raw[32] >= 0x80;
            let der = ecdsa_der(raw).unwrap();
            public.verify(&msg, &der).unwrap();
        }
        assert!(
            high,
            "200 signatures and no high bit: the padding case was not exercised"
        );
        assert!(ecdsa_der(&[0u8; 63]).is_none());
    }

    #[test]
    fn key_types_ward_signs_with() {
        assert_eq!(
            algorithm_of(Some(KeyType::EC), Some(&P256_PARAMS)),
            Some(Algorithm::EcdsaP256)
        );
        assert_eq!(
            algorithm_of(Some(KeyType::EC_EDWARDS), Some(&ED25519_PARAMS_OID)),
            Some(Algorithm::Ed25519)
        );
        assert_eq!(
            algorithm_of(Some(KeyType::EC_EDWARDS), Some(ED25519_PARAMS_NAME)),
            Some(Algorithm::Ed25519)
        );
        // P-384 and RSA are not.
        let p384 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        assert_eq!(algorithm_of(Some(KeyType::EC), Some(&p384)), None);
        assert_eq!(algorithm_of(Some(KeyType::RSA), None), None);
    }

    #[test]
    fn a_missing_module_is_named() {
        let uri = Pkcs11Uri::parse("pkcs11:token=t;object=k?module-path=/nonexistent/libnothing.so").unwrap();
        let e = TokenKey::open(&uri, &TokenConfig::default()).err().unwrap().to_string();
        assert!(
            e.contains("/nonexistent/libnothing.so") && e.contains("cannot load"),
            "{e}"
        );
        let uri = Pkcs11Uri::parse("pkcs11:token=t;object=k").unwrap();
        assert!(matches!(
            TokenKey::open(&uri, &TokenConfig::default()),
            Err(Pkcs11Error::NoModule)
        ));
    }
}
