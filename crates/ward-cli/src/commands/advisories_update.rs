//! `ward advisories update`: fetches the sources the advisory
//! configuration names, each with a conditional request (the `ETag` and
//! `Last-Modified` stored with the source), under a size cap and a
//! deadline, through the same HTTP client and TLS trust as the registry
//! proxy (the system's store plus `--ca-cert`). Each download is checked
//! whole (a zip or `.tar.gz` must open and every entry read, a gzip stream
//! to its checksum; every record parses or is
//! counted as rejected; a record about another ecosystem than the
//! source's refuses the source) and only then swapped in, all sources at
//! once, by one atomic commit. A source that fails keeps its old data.
//! Nothing here runs unless the user asks: no other command fetches.

use super::Usage;
use super::advisories_config::{self as config, Location, SourceConfig};
use crate::args::AdvisoriesUpdateArgs;
use crate::output;
use std::io::Write;
use std::path::Path;
use ward_registry::upstream::{FetchLimits, Fetcher, Source, TrustedRoots, Validators};
use ward_scan::db::{Change, ImportedSource, SourceOptions};
use ward_scan::{AdvisoryDb, DbError, SourceInfo};

/// Deadline for one source's download, by default.
const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// What fetching one source came to.
enum Outcome {
    /// Nothing new: why, and whether the server confirmed the data current.
    Unchanged(&'static str, bool),
    /// New data, checked, and the bytes downloaded.
    Fresh(Box<ImportedSource>, u64),
}

/// A writer that reports each write to the progress bar.
struct Counting<W: Write> {
    inner: W,
    progress: output::advisories::Progress,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Everything one fetch needs besides the source.
struct Context<'a> {
    config_path: &'a Path,
    roots: &'a TrustedRoots,
    timeout: std::time::Duration,
    scratch: &'a Path,
    now: &'a str,
}

fn fetch(s: &SourceConfig, held: Option<&SourceInfo>, cx: &Context<'_>) -> Result<Outcome, String> {
    let max = s.max_bytes.unwrap_or(config::DEFAULT_MAX_BYTES);
    let options = |origin: Option<String>| SourceOptions {
        name: Some(s.name.clone()),
        ecosystem: s.ecosystem.clone(),
        strict_archives: true,
        origin,
    };
    match s.location(cx.config_path) {
        Location::Url(url) => {
            // Validators only for the URL they came from: a new URL is fetched whole.
            let known = held.filter(|h| h.origin == url).map(|h| Validators {
                etag: h.etag.clone(),
                last_modified: h.last_modified.clone(),
            });
            let dest = cx.scratch.join(format!("{}.download", s.name));
            let limits = FetchLimits {
                max_metadata: max,
                max_artifact: max,
                timeout: cx.timeout,
            };
            let fetcher = Fetcher::with_roots(limits, s.allow_redirect_hosts.clone(), cx.roots);
            let file = std::fs::File::create(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
            let mut out = Counting {
                inner: std::io::BufWriter::new(file),
                progress: output::advisories::Progress::download(&s.name),
            };
            let got = fetcher
                .download(&Source::Url(url.clone()), known.as_ref(), max, &mut out)
                .map_err(|e| e.to_string())?;
            out.flush().map_err(|e| format!("{}: {e}", dest.display()))?;
            drop(out);
            let Some((bytes, _, validators)) = got else {
                return Ok(Outcome::Unchanged("the server answered 304 Not Modified", true));
            };
            // Read by its kind: the URL's extension, else the file's first bytes.
            let named = cx.scratch.join(format!("{}.{}", s.name, download_kind(&url, &dest)));
            std::fs::rename(&dest, &named).map_err(|e| format!("{}: {e}", named.display()))?;
            let mut imported =
                ward_scan::db::read_source(&[named], &options(Some(url)), cx.now).map_err(|e| e.to_string())?;
            imported.info.etag = validators.etag;
            imported.info.last_modified = validators.last_modified;
            imported.info.checked_at = Some(cx.now.to_string());
            Ok(Outcome::Fresh(Box::new(imported), bytes))
        }
        Location::Path(path) => {
            let imported = ward_scan::db::read_source(&[path], &options(None), cx.now).map_err(|e| e.to_string())?;
            if held.is_some_and(|h| h.digest == imported.info.digest) {
                return Ok(Outcome::Unchanged("the same data as held (same digest)", false));
            }
            Ok(Outcome::Fresh(Box::new(imported), 0))
        }
    }
}

/// What a downloaded source is, as a file extension the importer reads:
/// `json`, `tar.gz` or `zip`, from the URL's path, else from the file's
/// magic bytes (gzip `1f 8b`; anything else is read as a zip, and refused
/// whole if it is not one).
fn download_kind(url: &str, file: &Path) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    if path.ends_with(".json") {
        return "json";
    }
    if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
        return "tar.gz";
    }
    if path.ends_with(".zip") {
        return "zip";
    }
    let mut magic = [0u8; 2];
    let gzip = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b];
    if gzip { "tar.gz" } else { "zip" }
}

pub(super) fn run(args: &AdvisoriesUpdateArgs) -> Result<u8, Usage> {
    let (cfg, config_path) = config::load(args.config.as_deref())?;
    if cfg.sources.is_empty() {
        return Err(Usage(format!(
            "no [[source]] in {}: name the sources to fetch there (see docs/advisories.md)",
            config_path.display()
        )));
    }
    if let Some(unknown) = args.sources.iter().find(|n| !cfg.sources.iter().any(|s| &s.name == *n)) {
        return Err(Usage(format!(
            "--source {unknown}: no such source in {}",
            config_path.display()
        )));
    }
    let dir = super::advisories::db_dir(&args.db);
    let held: Vec<SourceInfo> = match AdvisoryDb::load(&dir) {
        Ok(db) => db.sources().to_vec(),
        Err(DbError::Missing(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let roots = TrustedRoots::load(&args.ca_cert).map_err(|e| Usage(e.to_string()))?;
    let now = crate::clock::now()?.to_string();
    std::fs::create_dir_all(&dir).map_err(|e| Usage(format!("{}: {e}", dir.display())))?;
    // Downloads land beside the database (same file system) and go with this directory.
    let scratch = tempfile::Builder::new()
        .prefix(".update-")
        .tempdir_in(&dir)
        .map_err(|e| Usage(format!("{}: {e}", dir.display())))?;
    let cx = Context {
        config_path: &config_path,
        roots: &roots,
        timeout: std::time::Duration::from_secs(args.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        scratch: scratch.path(),
        now: &now,
    };
    let mut changes = Vec::new();
    let mut failed = 0;
    for s in cfg
        .sources
        .iter()
        .filter(|s| args.sources.is_empty() || args.sources.contains(&s.name))
    {
        match fetch(s, held.iter().find(|h| h.name == s.name), &cx) {
            Ok(Outcome::Unchanged(why, confirmed)) => {
                output::advisories::update_unchanged(&s.name, why);
                if confirmed {
                    changes.push(Change::Checked {
                        name: s.name.clone(),
                        at: now.clone(),
                    });
                }
            }
            Ok(Outcome::Fresh(imported, bytes)) => {
                output::advisories::update_fetched(&imported.info, bytes);
                changes.push(Change::Put(imported));
            }
            Err(why) => {
                output::advisories::update_failed(&s.name, &why);
                failed += 1;
            }
        }
    }
    let changed = changes.iter().filter(|c| matches!(c, Change::Put(_))).count();
    if !changes.is_empty() {
        let db = ward_scan::db::commit(&dir, changes, false, &now)
            .map_err(|e| Usage(format!("{e}; the database in {} was left as it was", dir.display())))?;
        output::advisories::update_done(&db, &dir, changed);
    }
    Ok(if failed > 0 {
        crate::EXIT_ERROR
    } else {
        crate::EXIT_ALLOW
    })
}
