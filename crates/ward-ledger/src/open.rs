//! Opening a ledger from where the user says it is.
//!
//! A [`LedgerLocation`] is what a `--ledger` argument names: a
//! `postgres://` or `postgresql://` URL is a shared PostgreSQL ledger,
//! anything else a directory holding an embedded one (by default
//! `ledger/` in ward's data directory). [`open`] opens it for appending and
//! creates it on first use: an embedded ledger keeps its signing key in its
//! own directory; a PostgreSQL ledger's key is the file
//! [`OpenOptions::postgres_key`] names, created (mode 0600) on first use.
//! A new ledger is named `ward.local/ledger/<8 random hex digits>`, so two
//! ledgers never share an origin. [`open_for_reading`] opens an existing
//! embedded ledger as a read-only snapshot, so reading commands work while
//! a writer (a proxy, `ward ledger serve`) holds the writer's lock.
//!
//! Nothing here reads the environment: the caller decides the data
//! directory, the key file and the schema, and passes them in.

use crate::note::{ALG_ED25519, NoteError, NoteSigner};
use crate::store::{EmbeddedLedger, LedgerError, LedgerStore, PostgresLedger};
use std::path::{Path, PathBuf};

/// The embedded ledger's directory inside the data directory.
pub const DEFAULT_DIR: &str = "ledger";

/// The PostgreSQL ledger's signing key inside the data directory, unless
/// the caller names another file.
pub const POSTGRES_KEY_FILE: &str = "ledger-postgres.key";

/// The PostgreSQL schema the ledger's tables live in, unless the caller
/// names another.
pub const DEFAULT_SCHEMA: &str = "ward";

/// The URL schemes that name a PostgreSQL ledger.
const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// Where a ledger is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LedgerLocation {
    /// An embedded ledger in this directory.
    Embedded(PathBuf),
    /// A shared PostgreSQL ledger at this connection URL.
    Postgres(String),
}

impl LedgerLocation {
    /// What a `--ledger` argument names: a `postgres://` or
    /// `postgresql://` URL, else a directory.
    pub fn parse(arg: &Path) -> Self {
        let text = arg.to_string_lossy();
        if POSTGRES_SCHEMES.iter().any(|scheme| text.starts_with(scheme)) {
            Self::Postgres(text.into_owned())
        } else {
            Self::Embedded(arg.to_path_buf())
        }
    }

    /// The ledger `arg` names, else the embedded ledger in `data_dir`
    /// ([`DEFAULT_DIR`]).
    pub fn or_default(arg: Option<&Path>, data_dir: &Path) -> Self {
        arg.map_or_else(|| Self::Embedded(data_dir.join(DEFAULT_DIR)), Self::parse)
    }

    /// Whether a ledger has been created here: for an embedded ledger,
    /// whether its signing key exists. A PostgreSQL ledger is taken to
    /// exist (only connecting could tell).
    pub fn exists(&self) -> bool {
        match self {
            Self::Embedded(dir) => dir.join("ledger.key").is_file(),
            Self::Postgres(_) => true,
        }
    }
}

impl std::fmt::Display for LedgerLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded(dir) => write!(f, "{}", dir.display()),
            Self::Postgres(url) => f.write_str(url),
        }
    }
}

/// What [`open`] needs besides the location: where a PostgreSQL ledger's
/// signing key is kept and which schema holds its tables.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OpenOptions {
    /// The PostgreSQL ledger's signing key (a C2SP signed-note private
    /// key), created with mode 0600 when it does not exist.
    pub postgres_key: PathBuf,
    /// The PostgreSQL schema (lower-case letters, digits and `_`).
    pub postgres_schema: String,
}

impl OpenOptions {
    /// The defaults for ward's data directory `data_dir`: the key in
    /// [`POSTGRES_KEY_FILE`] there, the schema [`DEFAULT_SCHEMA`].
    pub fn new(data_dir: &Path) -> Self {
        Self {
            postgres_key: data_dir.join(POSTGRES_KEY_FILE),
            postgres_schema: DEFAULT_SCHEMA.to_string(),
        }
    }

    /// Keeps the PostgreSQL ledger's signing key in this file instead.
    pub fn with_postgres_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.postgres_key = path.into();
        self
    }

    /// Keeps the PostgreSQL ledger's tables in this schema instead.
    pub fn with_postgres_schema(mut self, schema: impl Into<String>) -> Self {
        self.postgres_schema = schema.into();
        self
    }
}

/// Why a ledger could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The system random source failed, so a new ledger cannot be named.
    #[error("the system random source failed ({0}); cannot name a new ledger")]
    Random(getrandom::Error),
    /// The PostgreSQL ledger's signing key cannot be read.
    #[error(transparent)]
    ReadKey(ward_input::InputError),
    /// The signing key does not parse, or a new one cannot be made.
    #[error(transparent)]
    Key(#[from] NoteError),
    /// The directory for a new signing key cannot be created.
    #[error("{source}")]
    KeyDirectory {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A new signing key cannot be written (it is never overwritten).
    #[error("cannot write {}: {source}", path.display())]
    WriteKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PostgreSQL ledger cannot be opened.
    #[error("ledger {url}: {source}")]
    Postgres {
        /// The connection URL.
        url: String,
        /// Why.
        #[source]
        source: LedgerError,
    },
    /// Another process holds the embedded ledger's writer lock (an embedded
    /// ledger has one writer at a time).
    #[error("ledger {}: {source}", dir.display())]
    Locked {
        /// The ledger's directory.
        dir: PathBuf,
        /// The lock, and who holds it.
        #[source]
        source: LedgerError,
    },
    /// The embedded ledger cannot be opened.
    #[error("ledger {}: {source}", dir.display())]
    Embedded {
        /// The ledger's directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: LedgerError,
    },
}

/// Opens the ledger at `location` for appending, creating it on first use.
/// An embedded ledger is locked for this writer (waiting briefly for a
/// short-lived one; [`OpenError::Locked`] when another holds it).
pub fn open(location: &LedgerLocation, options: &OpenOptions) -> Result<Box<dyn LedgerStore>, OpenError> {
    match location {
        LedgerLocation::Postgres(url) => {
            let signer = load_or_create_key(&options.postgres_key)?;
            let ledger =
                PostgresLedger::open(url, &options.postgres_schema, signer).map_err(|source| OpenError::Postgres {
                    url: url.clone(),
                    source,
                })?;
            Ok(Box::new(ledger))
        }
        LedgerLocation::Embedded(dir) => {
            let ledger = EmbeddedLedger::open(dir, &new_origin()?).map_err(|source| match &source {
                LedgerError::Io { source: io, .. } if io.kind() == std::io::ErrorKind::WouldBlock => {
                    OpenError::Locked {
                        dir: dir.clone(),
                        source,
                    }
                }
                _ => OpenError::Embedded {
                    dir: dir.clone(),
                    source,
                },
            })?;
            Ok(Box::new(ledger))
        }
    }
}

/// Opens the ledger at `location` for reading: an existing embedded ledger
/// as a read-only snapshot (no lock: it works beside a running writer);
/// otherwise as [`open`] does, which creates an embedded ledger that does
/// not exist yet.
pub fn open_for_reading(location: &LedgerLocation, options: &OpenOptions) -> Result<Box<dyn LedgerStore>, OpenError> {
    match location {
        LedgerLocation::Embedded(dir) if location.exists() => {
            let ledger = EmbeddedLedger::open_snapshot(dir).map_err(|source| OpenError::Embedded {
                dir: dir.clone(),
                source,
            })?;
            Ok(Box::new(ledger))
        }
        _ => open(location, options),
    }
}

/// A fresh ledger origin with a random suffix, so two ledgers never share a
/// name. Fails rather than naming a ledger with a predictable suffix.
///
/// The operating system's random source (`getrandom`), not aws-lc's: the
/// first draw from aws-lc's generator seeds it with CPU-jitter entropy,
/// about 70 ms, and this runs on every `ward verify`.
fn new_origin() -> Result<String, OpenError> {
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(OpenError::Random)?;
    Ok(format!("ward.local/ledger/{}", hex::encode(suffix)))
}

/// The signing key in `path`, or a new one written there (mode 0600, never
/// over an existing file) when there is none.
fn load_or_create_key(path: &Path) -> Result<NoteSigner, OpenError> {
    match ward_input::read_string_bounded(path, "ledger key", ward_input::limits::KEY) {
        Ok(text) => Ok(NoteSigner::parse(&text)?),
        Err(e) if e.is_not_found() => {
            let signer = NoteSigner::generate(&new_origin()?, ALG_ED25519)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::KeyDirectory {
                    dir: dir.to_path_buf(),
                    source,
                })?;
            }
            write_private(path, signer.to_skey().as_bytes()).map_err(|source| OpenError::WriteKey {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(signer)
        }
        Err(e) => Err(OpenError::ReadKey(e)),
    }
}

/// Writes a new file readable by its owner only; an existing file is an
/// error, never overwritten.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn origin(ledger: &dyn LedgerStore) -> String {
        ledger.signer().name().to_string()
    }

    #[test]
    fn a_url_names_postgres_and_anything_else_a_directory() {
        for url in [
            "postgres://u@127.0.0.1/db",
            "postgresql://127.0.0.1:5432/ward?sslmode=disable",
        ] {
            assert_eq!(
                LedgerLocation::parse(Path::new(url)),
                LedgerLocation::Postgres(url.to_string())
            );
        }
        for dir in [
            "ledger",
            "/var/lib/ward/ledger",
            "postgres",
            "postgres:/x",
            "POSTGRES://host/db",
            "./postgres://x",
        ] {
            assert_eq!(
                LedgerLocation::parse(Path::new(dir)),
                LedgerLocation::Embedded(PathBuf::from(dir)),
                "{dir}"
            );
        }
    }

    #[test]
    fn without_an_argument_the_ledger_is_in_the_data_directory() {
        let data = Path::new("/data/ward");
        assert_eq!(
            LedgerLocation::or_default(None, data),
            LedgerLocation::Embedded(data.join("ledger"))
        );
        assert_eq!(
            LedgerLocation::or_default(Some(Path::new("/elsewhere")), data),
            LedgerLocation::Embedded(PathBuf::from("/elsewhere"))
        );
        assert_eq!(
            LedgerLocation::or_default(Some(Path::new("postgres://h/d")), data).to_string(),
            "postgres://h/d"
        );
        let options = OpenOptions::new(data);
        assert_eq!(options.postgres_key, data.join("ledger-postgres.key"));
        assert_eq!(options.postgres_schema, "ward");
        let options = options.with_postgres_key("/k").with_postgres_schema("other");
        assert_eq!(options.postgres_key, PathBuf::from("/k"));
        assert_eq!(options.postgres_schema, "other");
    }

    #[test]
    fn an_embedded_ledger_is_created_once_and_reopened_with_its_key() {
        let tmp = tempfile::tempdir().unwrap();
        let location = LedgerLocation::Embedded(tmp.path().join("ledger"));
        let options = OpenOptions::new(tmp.path());
        assert!(!location.exists());
        let (name, vkey) = {
            let mut ledger = open(&location, &options).unwrap();
            ledger.append(&[b"first".to_vec()]).unwrap();
            (origin(ledger.as_ref()), ledger.verifier().to_vkey())
        };
        assert!(location.exists());
        let suffix = name.strip_prefix("ward.local/ledger/").unwrap();
        assert!(
            suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
        assert_eq!(mode(&tmp.path().join("ledger/ledger.key")), 0o600);
        let mut again = open(&location, &options).unwrap();
        assert_eq!(again.verifier().to_vkey(), vkey);
        assert_eq!(again.size(), 1);
        assert_eq!(again.entry(0).unwrap(), b"first");
        // Nothing is written outside the ledger's directory for an embedded ledger.
        assert!(!options.postgres_key.exists());
    }

    #[test]
    fn two_new_ledgers_get_different_origins() {
        let tmp = tempfile::tempdir().unwrap();
        let options = OpenOptions::new(tmp.path());
        let a = open(&LedgerLocation::Embedded(tmp.path().join("a")), &options).unwrap();
        let b = open(&LedgerLocation::Embedded(tmp.path().join("b")), &options).unwrap();
        assert_ne!(origin(a.as_ref()), origin(b.as_ref()));
    }

    #[test]
    fn readers_open_a_snapshot_while_a_writer_holds_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let location = LedgerLocation::Embedded(tmp.path().join("ledger"));
        let options = OpenOptions::new(tmp.path());
        let mut writer = open(&location, &options).unwrap();
        writer.append(&[b"one".to_vec(), b"two".to_vec()]).unwrap();
        let mut reader = open_for_reading(&location, &options).unwrap();
        assert_eq!(reader.size(), 2);
        assert_eq!(reader.entry(1).unwrap(), b"two");
        assert_eq!(reader.verify_all().unwrap().entries, 2);
        // A snapshot is read-only.
        assert!(matches!(
            reader.append(&[b"three".to_vec()]),
            Err(LedgerError::ReadOnly)
        ));
        // A second writer is refused, naming the lock (after the short wait
        // for a short-lived writer).
        let Err(e) = open(&location, &options) else {
            panic!("a second writer opened a locked ledger")
        };
        assert!(matches!(e, OpenError::Locked { .. }), "{e:?}");
        assert!(e.to_string().contains("held by another writer"), "{e}");
        drop(writer);
        let mut writer = open(&location, &options).unwrap();
        assert_eq!(writer.append(&[b"three".to_vec()]).unwrap().size, 3);
    }

    #[test]
    fn reading_a_ledger_that_does_not_exist_yet_creates_it() {
        let tmp = tempfile::tempdir().unwrap();
        let location = LedgerLocation::Embedded(tmp.path().join("new"));
        let ledger = open_for_reading(&location, &OpenOptions::new(tmp.path())).unwrap();
        assert_eq!(ledger.size(), 0);
        assert!(location.exists());
    }

    #[test]
    fn a_damaged_embedded_key_is_an_error_naming_the_ledger() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ledger");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ledger.key"), "not a key").unwrap();
        let location = LedgerLocation::Embedded(dir.clone());
        for result in [
            open(&location, &OpenOptions::new(tmp.path())),
            open_for_reading(&location, &OpenOptions::new(tmp.path())),
        ] {
            let Err(e) = result else { panic!("a damaged key opened") };
            assert!(matches!(e, OpenError::Embedded { .. }), "{e:?}");
            assert!(e.to_string().starts_with(&format!("ledger {}: ", dir.display())), "{e}");
        }
    }

    #[test]
    fn a_missing_postgres_key_is_created_private_and_then_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nested/dir/ledger-postgres.key");
        let first = load_or_create_key(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(first.name().starts_with("ward.local/ledger/"), "{}", first.name());
        let second = load_or_create_key(&path).unwrap();
        assert_eq!(second.verifier().to_vkey(), first.verifier().to_vkey());
    }

    #[test]
    fn a_damaged_postgres_key_is_refused_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ledger-postgres.key");
        std::fs::write(&path, "not a key").unwrap();
        let Err(e) = load_or_create_key(&path) else {
            panic!("a damaged key loaded")
        };
        assert!(matches!(e, OpenError::Key(_)), "{e:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
    }

    #[test]
    fn a_key_that_cannot_be_read_is_reported_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        // A regular file where the key's directory should be: reading fails
        // with something other than "not found", so no key is made.
        std::fs::write(tmp.path().join("file"), "").unwrap();
        let path = tmp.path().join("file/ledger-postgres.key");
        let Err(e) = load_or_create_key(&path) else {
            panic!("a key was made under a file")
        };
        assert!(matches!(e, OpenError::ReadKey(_)), "{e:?}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        assert_eq!(std::fs::read(tmp.path().join("file")).unwrap(), b"");
    }

    #[test]
    fn a_postgres_ledger_gets_its_key_before_connecting() {
        let tmp = tempfile::tempdir().unwrap();
        let options = OpenOptions::new(tmp.path());
        // Port 1 on the loopback: the connection is refused at once.
        let url = "postgres://ward@127.0.0.1:1/ward?connect_timeout=5";
        let location = LedgerLocation::parse(Path::new(url));
        let Err(e) = open(&location, &options) else {
            panic!("connected to a closed port")
        };
        assert!(matches!(e, OpenError::Postgres { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("ledger {url}: ")), "{e}");
        assert_eq!(mode(&options.postgres_key), 0o600);
        // Nothing embedded is created for a PostgreSQL ledger.
        assert!(!tmp.path().join("ledger").exists());
    }

    #[test]
    fn an_invalid_schema_is_refused_before_connecting() {
        let tmp = tempfile::tempdir().unwrap();
        let options = OpenOptions::new(tmp.path()).with_postgres_schema("Robert'); DROP");
        let location = LedgerLocation::Postgres("postgres://127.0.0.1:1/ward".into());
        let Err(e) = open(&location, &options) else {
            panic!("opened with an invalid schema")
        };
        assert!(e.to_string().contains("schema name"), "{e}");
    }
}
