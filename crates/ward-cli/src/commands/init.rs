//! `ward init`: a commented starter `ward.toml` a team can adopt on day one
//! (docs/adopting.md).
//!
//! What it writes: known-malicious packages deny (they do in every mode);
//! known vulnerabilities at or above `high` count, with remediation
//! deadlines after which they deny in every mode; a three-day release
//! cooldown; a provenance regression denies; every package of the lockfile
//! that publishes provenance today gets a scope requiring it from its
//! repository; everything else warns when unsigned.
//!
//! What a package publishes is learned from the registry metadata the
//! proxy already holds in its cache (npm packuments: `dist.attestations`
//! and `repository`; PyPI JSON Simple API pages: PEP 740 `provenance`
//! links, and the provenance documents when cached). `ward init` never
//! fetches: what the cache does not hold is said in the file, per package.

use super::{Usage, or_usage};
use crate::args::{InitArgs, InitEcosystem};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, PackageId};

/// The GitHub Actions OIDC issuer, which signs npm and PyPI provenance.
const GITHUB_ACTIONS: &str = "https://token.actions.githubusercontent.com";
/// npm CLI provenance from GitHub-hosted runners (slsa-verifier's builder id).
const NPM_RUNNER: &str = "https://github.com/actions/runner/github-hosted";
/// PyPI's PEP 740 publish attestation.
const PYPI_PUBLISH: &str = "https://docs.pypi.org/attestations/publish/v1";
/// Metadata documents larger than this are not read (a packument of a
/// package with thousands of versions is a few MiB).
const MAX_META: u64 = 64 << 20;

/// What the cache says about one package of the lockfile.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Learned {
    /// It publishes provenance from this GitHub repository (`OWNER/REPO`).
    Provenance { repository: String },
    /// It publishes provenance, but its repository could not be learned.
    ProvenanceNoRepository(String),
    /// The version in the lockfile publishes none.
    None,
    /// The cache cannot say.
    Unknown(String),
}

pub(super) fn run(args: InitArgs) -> u8 {
    or_usage(|| {
        if args.output.exists() && !args.force {
            return Err(Usage(format!(
                "{} exists; ward init does not overwrite it (pass --force to replace it)",
                args.output.display()
            )));
        }
        let components = match &args.from {
            Some(path) => {
                let (components, _) =
                    ward_scan::target::read(path).map_err(|e| Usage(format!("--from {}: {e}", path.display())))?;
                components
            }
            None => Vec::new(),
        };
        let mut ecosystems: Vec<Ecosystem> = match args.ecosystem {
            Some(e) => vec![ecosystem(e)],
            None => {
                let mut found: Vec<Ecosystem> = components
                    .iter()
                    .map(|c| c.id.ecosystem)
                    .filter(|e| matches!(e, Ecosystem::Npm | Ecosystem::Pypi | Ecosystem::Cargo))
                    .collect();
                if found.is_empty() {
                    found = vec![Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::Cargo];
                }
                found
            }
        };
        ecosystems.sort_by_key(|e| e.purl_type());
        ecosystems.dedup();
        let cache_dir = args
            .cache
            .clone()
            .unwrap_or_else(|| super::data_dir().join("proxy-cache"));
        let cache = CacheIndex::open(&cache_dir);
        let mut learned: BTreeMap<String, (PackageId, Learned)> = BTreeMap::new();
        for c in components.iter().filter(|c| ecosystems.contains(&c.id.ecosystem)) {
            let what = match c.id.ecosystem {
                Ecosystem::Npm => cache.npm(&c.id),
                Ecosystem::Pypi => cache.pypi(&c.id),
                _ => continue,
            };
            learned.insert(c.id.to_purl(), (c.id.clone(), what));
        }
        let today = crate::clock::now()?.to_zoned(jiff::tz::TimeZone::UTC).date();
        let text = template(&Template {
            ecosystems: &ecosystems,
            from: args.from.as_deref(),
            cache: &cache,
            learned: &learned,
            today,
        });
        write_new(&args.output, &text, args.force)?;
        let summary = summary(&args.output, &learned, &cache);
        crate::output::init_written(&summary);
        Ok(crate::EXIT_ALLOW)
    })
}

fn ecosystem(e: InitEcosystem) -> Ecosystem {
    match e {
        InitEcosystem::Npm => Ecosystem::Npm,
        InitEcosystem::Pypi => Ecosystem::Pypi,
        InitEcosystem::Cargo => Ecosystem::Cargo,
    }
}

/// Writes the file; without `force`, refuses to replace one that appeared meanwhile.
fn write_new(path: &Path, text: &str, force: bool) -> Result<(), Usage> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))
}

/// The proxy cache's metadata documents, by the URL each came from.
struct CacheIndex {
    dir: PathBuf,
    /// URL → the document's file.
    by_url: HashMap<String, PathBuf>,
    /// Why the cache could not be read, when it could not.
    problem: Option<String>,
}

impl CacheIndex {
    fn open(dir: &Path) -> Self {
        let meta = dir.join("meta");
        let mut by_url = HashMap::new();
        let entries = match std::fs::read_dir(&meta) {
            Ok(entries) => entries,
            Err(e) => {
                return Self {
                    dir: dir.to_path_buf(),
                    by_url,
                    problem: Some(format!("no proxy cache at {} ({e})", dir.display())),
                };
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "info") {
                continue;
            }
            let Some(info) = read_json(&path) else { continue };
            if let Some(url) = info.get("url").and_then(Value::as_str) {
                by_url.insert(url.trim_end_matches('/').to_string(), path.with_extension(""));
            }
        }
        Self {
            dir: dir.to_path_buf(),
            by_url,
            problem: None,
        }
    }

    /// A cached document whose URL ends with `suffix` (`/<name>` for a
    /// packument, `/simple/<project>` for a PyPI page), whichever registry
    /// the proxy used.
    fn document(&self, suffix: &str) -> Option<Value> {
        let mut urls: Vec<&String> = self.by_url.keys().filter(|u| u.ends_with(suffix)).collect();
        urls.sort();
        urls.into_iter().find_map(|u| read_json(&self.by_url[u]))
    }

    fn unknown(&self, what: &str) -> Learned {
        Learned::Unknown(match &self.problem {
            Some(p) => p.clone(),
            None => format!("the proxy cache at {} holds no {what}", self.dir.display()),
        })
    }

    fn npm(&self, id: &PackageId) -> Learned {
        let name = id.full_name();
        let encoded = name.replace('/', "%2f");
        let Some(doc) = self
            .document(&format!("/{encoded}"))
            .or_else(|| self.document(&format!("/{name}")))
        else {
            return self.unknown(&format!("npm packument for {name}"));
        };
        let Some(version) = id.version.as_deref() else {
            return Learned::Unknown(format!("{name} has no version in the lockfile"));
        };
        let Some(v) = doc.pointer(&format!("/versions/{}", version.replace('~', "~0").replace('/', "~1"))) else {
            return Learned::Unknown(format!("the cached packument of {name} does not list {version}"));
        };
        if v.pointer("/dist/attestations/provenance").is_none() {
            return Learned::None;
        }
        let repository = v
            .get("repository")
            .or_else(|| doc.get("repository"))
            .and_then(|r| r.get("url").or(Some(r)))
            .and_then(Value::as_str)
            .and_then(github_repository);
        match repository {
            Some(repository) => Learned::Provenance { repository },
            None => Learned::ProvenanceNoRepository(format!(
                "{name} {version} publishes provenance, but its packument names no github.com repository"
            )),
        }
    }

    fn pypi(&self, id: &PackageId) -> Learned {
        let project = ward_core::purl::normalize_pypi_name(&id.full_name());
        let Some(page) = self.document(&format!("/simple/{project}")) else {
            return self.unknown(&format!("PyPI JSON Simple API page for {project}"));
        };
        let Some(version) = id.version.as_deref() else {
            return Learned::Unknown(format!("{project} has no version in the lockfile"));
        };
        let files: Vec<&Value> = page
            .get("files")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter(|f| {
                        f.get("filename")
                            .and_then(Value::as_str)
                            .is_some_and(|n| file_version(n, version))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if files.is_empty() {
            return Learned::Unknown(format!(
                "the cached page of {project} lists no file of {version} (an HTML page lists no provenance)"
            ));
        }
        let links: Vec<&str> = files
            .iter()
            .filter_map(|f| f.get("provenance").and_then(Value::as_str))
            .collect();
        if links.is_empty() {
            return Learned::None;
        }
        // The provenance document names the Trusted Publisher, when the cache holds it.
        let repository = links.iter().find_map(|l| {
            let doc = read_json(self.by_url.get(l.trim_end_matches('/'))?)?;
            doc.get("attestation_bundles")?.as_array()?.iter().find_map(|b| {
                let p = b.get("publisher")?;
                (p.get("kind")?.as_str()? == "GitHub")
                    .then(|| p.get("repository")?.as_str().map(str::to_string))
                    .flatten()
            })
        });
        match repository {
            Some(repository) => Learned::Provenance { repository },
            None => Learned::ProvenanceNoRepository(format!(
                "{project} {version} publishes PEP 740 provenance, but the proxy cache holds no provenance document naming its publisher"
            )),
        }
    }
}

/// Whether a distribution file name is of `version` (`name-1.2.3.tar.gz`, `name-1.2.3-py3-none-any.whl`).
fn file_version(file: &str, version: &str) -> bool {
    let stem = file
        .strip_suffix(".tar.gz")
        .or_else(|| file.strip_suffix(".zip"))
        .or_else(|| file.strip_suffix(".whl"))
        .unwrap_or(file);
    stem.split('-').nth(1).is_some_and(|v| v == version)
}

fn read_json(path: &Path) -> Option<Value> {
    let text = ward_input::InputFile::new(path, "proxy cache document", MAX_META)
        .read()
        .ok()?;
    serde_json::from_slice(&text).ok()
}

/// `git+https://github.com/o/r.git` (and the other forms package metadata
/// uses) → `o/r`; `None` for another host.
fn github_repository(url: &str) -> Option<String> {
    let rest = url
        .trim()
        .trim_start_matches("git+")
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("ssh://git@")
        .trim_start_matches("git://")
        .trim_start_matches("git@");
    let rest = rest
        .strip_prefix("github.com/")
        .or_else(|| rest.strip_prefix("github.com:"))
        .or_else(|| url.strip_prefix("github:"))?;
    let mut parts = rest.split('/');
    let owner = parts.next().filter(|o| !o.is_empty())?;
    let repo = parts.next()?.split(['#', '?']).next()?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (ok(owner) && ok(repo)).then(|| format!("{owner}/{repo}"))
}

/// A TOML string.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

struct Template<'a> {
    ecosystems: &'a [Ecosystem],
    from: Option<&'a Path>,
    cache: &'a CacheIndex,
    learned: &'a BTreeMap<String, (PackageId, Learned)>,
    today: jiff::civil::Date,
}

fn pattern(id: &PackageId) -> String {
    let eco = match id.ecosystem {
        Ecosystem::Cargo => "crates",
        other => other.purl_type(),
    };
    format!("{eco}:{}", id.full_name())
}

fn template(t: &Template<'_>) -> String {
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    let ecosystems: Vec<&str> = t.ecosystems.iter().map(|e| e.purl_type()).collect();
    line("# ward.toml: the policy ward decides with (docs/policy.md).");
    line(&format!(
        "# Written by `ward init` on {} for {}{}.",
        t.today,
        ecosystems.join(", "),
        t.from.map(|f| format!(" from {}", f.display())).unwrap_or_default()
    ));
    line("#");
    line("# Adopt it step by step (docs/adopting.md): run in audit mode, then warn,");
    line("# then enforce. Check it with `ward policy check ward.toml`.");
    line("#");
    line("# Always, whatever the mode below: a known-malicious package (an OSV MAL-");
    line("# record, a RustSec `malicious` advisory) is denied (`package-malicious`);");
    line("# only an [[allow]] naming the artifact's sha256 lets one reviewed artifact");
    line("# through. Import the records with `ward advisories update`.");
    line("version = 1");
    line("");
    line("[defaults]");
    line("# Everything no scope below names: unsigned packages warn (most of npm and");
    line("# PyPI is unsigned); change to \"enforce\" once the warnings are understood.");
    line("mode = \"warn\"");
    line("# Known vulnerabilities at or above high count: in warn mode they are");
    line("# reported, and once past the remediation deadline below they deny in");
    line("# every mode (`advisory-overdue`); in enforce mode they deny at once.");
    line("fail_on_severity = \"high\"");
    line("# A release is let in only once it has been public for three days: most");
    line("# malicious versions are removed sooner (`release-too-new`). The proxy");
    line("# leaves younger versions out of listings, so resolvers pick older ones.");
    line("cooldown = { min_age = \"3d\" }");
    line("");
    line("# Days from first sighting before a known vulnerability denies in every mode.");
    line("[remediation]");
    line("critical = 7");
    line("high = 30");
    line("medium = 90");
    let mut with: Vec<(&PackageId, &str)> = Vec::new();
    let mut without_repo: Vec<&str> = Vec::new();
    let mut unknown: Vec<(&PackageId, &str)> = Vec::new();
    let mut none = 0usize;
    for (id, what) in t.learned.values() {
        match what {
            Learned::Provenance { repository } => with.push((id, repository)),
            Learned::ProvenanceNoRepository(why) => without_repo.push(why),
            Learned::None => none += 1,
            Learned::Unknown(why) => unknown.push((id, why)),
        }
    }
    line("");
    line("# Packages that publish provenance today: each must keep publishing it,");
    line("# from the same repository (`provenance-missing`, `provenance-source-mismatch`),");
    line("# and a release without it, or from elsewhere, than the ones before is denied");
    line("# (`provenance-regression`, `provenance-source-changed`).");
    if t.from.is_none() {
        line("# (No lockfile was given: run `ward init --from LOCKFILE` to add them.)");
    } else if t.learned.is_empty() {
        line("# (The lockfile names no npm or PyPI package: crates.io publishes no");
        line("# provenance ward reads.)");
    } else if with.is_empty() {
        line("# (None of the lockfile's packages is known to publish provenance.)");
    }
    for (id, repository) in &with {
        let pattern = pattern(id);
        line("");
        line("[[scope]]");
        line(&format!(
            "name = {}",
            q(&format!("{} (provenance from github.com/{repository})", id.full_name()))
        ));
        line(&format!("packages = [{}]", q(&pattern)));
        line("mode = \"enforce\"");
        let identity = format!("https://github\\.com/{}/.+", repository.replace('.', "\\."));
        line(&format!(
            "signers = [{{ issuer = {}, identity_regex = {} }}]",
            q(GITHUB_ACTIONS),
            q(&identity)
        ));
        match id.ecosystem {
            Ecosystem::Npm => line(&format!(
                "provenance = {{ source_uri = {}, builder_id = {} }}",
                q(&format!("github.com/{repository}")),
                q(NPM_RUNNER)
            )),
            _ => line(&format!("required_predicate_types = [{}]", q(PYPI_PUBLISH))),
        }
        line("history = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }");
    }
    if !without_repo.is_empty() {
        line("");
        line("# These publish provenance, but ward could not learn from where; add a scope");
        line("# like the ones above once you know the repository:");
        for why in &without_repo {
            line(&format!("#   {why}"));
        }
    }
    line("");
    line("# Every package (those above too: each scope that covers a package must");
    line("# pass): provenance that earlier releases carried must not disappear or");
    line("# move, and new install scripts and .pth files (where the ecosystem has");
    line("# them) deny even while the mode warns. A dependency added in a patch or");
    line("# minor release warns: clean releases do it too (installing the npm");
    line("# package sigstore met three in December 2026), and the cooldown already");
    line("# holds back the new releases that did it in an attack (event-stream, axios).");
    line("[[scope]]");
    line("name = \"every package\"");
    let all: Vec<String> = t
        .ecosystems
        .iter()
        .map(|e| {
            q(&format!(
                "{}:*",
                match e {
                    Ecosystem::Cargo => "crates",
                    other => other.purl_type(),
                }
            ))
        })
        .collect();
    line(&format!("packages = [{}]", all.join(", ")));
    line("mode = \"warn\"");
    line("history = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }");
    if t.ecosystems.contains(&Ecosystem::Npm) {
        line("deny_new_install_scripts = true");
    }
    line("deny_new_dependencies_in_patch = \"warn\"");
    if t.ecosystems.contains(&Ecosystem::Pypi) {
        line("deny_pth_files = true");
    }
    line("native_binaries = \"warn\"");
    if !t.learned.is_empty() {
        line("");
        line(&format!(
            "# From the lockfile: {} package(s) publish provenance, {} publish none, {} could not be learned.",
            with.len() + without_repo.len(),
            none,
            unknown.len()
        ));
    }
    if !unknown.is_empty() {
        line("# ward init never fetches: it reads the registry metadata the proxy has cached.");
        line("# Install once through ward (`ward run -- npm ci`, `ward run -- pip install -r");
        line("# requirements.txt`), then run `ward init --from LOCKFILE --force` again to");
        line("# learn about:");
        let reason = t.cache.problem.as_deref();
        if let Some(r) = reason {
            line(&format!("#   ({r})"));
        }
        for (id, why) in &unknown {
            if reason.is_some() {
                line(&format!("#   {}", id.to_purl()));
            } else {
                line(&format!("#   {}: {why}", id.to_purl()));
            }
        }
    }
    out
}

/// What `ward init` prints.
fn summary(path: &Path, learned: &BTreeMap<String, (PackageId, Learned)>, cache: &CacheIndex) -> String {
    let count = |f: fn(&Learned) -> bool| learned.values().filter(|(_, l)| f(l)).count();
    let with = count(|l| matches!(l, Learned::Provenance { .. }));
    let no_repo = count(|l| matches!(l, Learned::ProvenanceNoRepository(_)));
    let unknown = count(|l| matches!(l, Learned::Unknown(_)));
    let mut s = format!("wrote {}", path.display());
    if !learned.is_empty() {
        s.push_str(&format!(
            ": {} package(s) from the lockfile, {with} with a provenance scope",
            learned.len()
        ));
        if no_repo > 0 {
            s.push_str(&format!(
                ", {no_repo} publishing provenance from a repository ward could not learn"
            ));
        }
        if unknown > 0 {
            s.push_str(&format!(
                ", {unknown} not learned ({}; ward init never fetches)",
                cache
                    .problem
                    .clone()
                    .unwrap_or_else(|| format!("not in the proxy cache at {}", cache.dir.display()))
            ));
        }
    }
    s.push_str("\nnext: ward policy check ");
    s.push_str(&path.display().to_string());
    s.push_str(", then docs/adopting.md");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_urls_in_package_metadata() {
        for (url, want) in [
            ("git+https://github.com/chalk/chalk.git", Some("chalk/chalk")),
            ("https://github.com/debug-js/debug", Some("debug-js/debug")),
            (
                "git://github.com/dominictarr/event-stream.git",
                Some("dominictarr/event-stream"),
            ),
            ("git+ssh://git@github.com/o/r.git", Some("o/r")),
            ("github:o/r", Some("o/r")),
            ("https://gitlab.com/o/r", None),
            ("https://github.com/o", None),
        ] {
            assert_eq!(github_repository(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn distribution_file_versions() {
        assert!(file_version("requests-2.32.3-py3-none-any.whl", "2.32.3"));
        assert!(file_version("requests-2.32.3.tar.gz", "2.32.3"));
        assert!(!file_version("requests-2.32.4.tar.gz", "2.32.3"));
    }
}
