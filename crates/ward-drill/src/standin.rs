//! Builds the archives a drill serves: real clean releases as they are,
//! generated minimal packages where no real archive is shipped, and inert
//! stand-ins for compromised releases.
//!
//! A stand-in has the real release's traits and nothing of its payload: the
//! only code it adds writes one marker file into the directory named by
//! `WARD_DRILL_MARKERS`, and does nothing when that variable is not set.
//! Every added script comes from [`npm_marker_script`] or
//! [`pth_marker_line`], so a test can check them all.

use crate::scenario::{Ecosystem, Release, Scenario};
use base64::Engine as _;
use sha2::{Digest as _, Sha256, Sha512};
use std::io::Read as _;
use std::path::Path;

/// The variable naming the directory a stand-in may write its marker in.
pub const MARKER_VARIABLE: &str = "WARD_DRILL_MARKERS";

/// The largest archive a drill reads (the shipped ones are under 100 KB).
const MAX_ARCHIVE_BYTES: u64 = 16 * 1024 * 1024;

/// The most entries a drill archive may have.
const MAX_ARCHIVE_ENTRIES: usize = 10_000;

/// The line appended to a stand-in's payload file.
const PAYLOAD_LINE: &str =
    "/* ward drill stand-in: the compromised release changed this file here; this line does nothing */\n";

/// Whether an installed file carries a stand-in's payload line.
pub fn has_payload(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.windows(PAYLOAD_LINE.len()).any(|w| w == PAYLOAD_LINE.as_bytes()))
}

/// One built archive and what its index entry says.
#[derive(Clone, Debug)]
pub struct Built {
    /// The bytes served.
    pub bytes: Vec<u8>,
    /// The bytes the registry's index describes (integrity, digests): the
    /// served bytes, except for a tampered release.
    pub indexed: Vec<u8>,
    /// The release without its stand-in traits (what a republished
    /// release served before T0); equal to `bytes` for a clean release.
    pub honest: Vec<u8>,
    /// The file name (`chalk-5.6.1.tgz`, `litellm-1.82.7-py3-none-any.whl`).
    pub file: String,
    /// Runtime dependencies (npm), for the packument.
    pub dependencies: serde_json::Map<String, serde_json::Value>,
    /// Lifecycle scripts (npm), for the packument.
    pub scripts: serde_json::Map<String, serde_json::Value>,
}

/// Why an archive could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A shipped archive could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The archive.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A shipped archive is not what the scenario says.
    #[error("{release}: {message}")]
    Archive {
        /// `name@version`.
        release: String,
        /// What is wrong.
        message: String,
    },
}

/// The marker file name for a release (`/` of a scope becomes `+`).
pub fn marker_name(release: &str) -> String {
    format!("{}.ran", release.replace('/', "+"))
}

/// The only install script a stand-in adds: writes its marker into
/// `$WARD_DRILL_MARKERS` when set, and nothing else.
pub fn npm_marker_script(release: &str) -> String {
    format!(
        "node -e \"var d=process.env.{MARKER_VARIABLE};if(d){{require('fs').writeFileSync(require('path').join(d,'{}'),'inert drill stand-in\\n')}}\"",
        marker_name(release)
    )
}

/// The only `.pth` line a stand-in adds (run by Python at interpreter start,
/// as the real litellm payload was): writes its marker when the variable is set.
pub fn pth_marker_line(release: &str) -> String {
    format!(
        "import os; d = os.environ.get('{MARKER_VARIABLE}'); d and open(os.path.join(d, '{}'), 'w').write('inert drill stand-in')\n",
        marker_name(release)
    )
}

/// sha512 SRI (`sha512-…`), as npm's `dist.integrity`.
pub fn sri_sha512(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the archive for one release of the scenario.
pub fn build(scenario: &Scenario, release: &Release) -> Result<Built, BuildError> {
    match scenario.ecosystem {
        Ecosystem::Npm => build_npm(scenario, release),
        Ecosystem::Pypi => build_wheel(scenario, release),
    }
}

/// The archive a release starts from: its base's (for a stand-in with a
/// base), its own shipped archive, or none (generated).
fn source_archive<'a>(scenario: &'a Scenario, release: &'a Release) -> Option<&'a Path> {
    let base = release
        .stand_in
        .as_ref()
        .and_then(|s| s.base.as_ref())
        .and_then(|v| scenario.release(&format!("{}@{v}", release.name)));
    base.unwrap_or(release)
        .archive
        .as_deref()
        .or(release.archive.as_deref())
}

fn read_archive(scenario: &Scenario, relative: &Path) -> Result<Vec<u8>, BuildError> {
    let path = scenario.resolve(relative);
    let read = |source| BuildError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(&path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_ARCHIVE_BYTES + 1).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(BuildError::Read {
            path: path.display().to_string(),
            source: std::io::Error::other("larger than a drill archive may be"),
        });
    }
    Ok(bytes)
}

/// One file of an npm package (path inside the tarball, mode, bytes).
struct TarFile {
    path: String,
    mode: u32,
    bytes: Vec<u8>,
}

fn read_tgz(release: &str, bytes: &[u8]) -> Result<Vec<TarFile>, BuildError> {
    let bad = |message: String| BuildError::Archive {
        release: release.to_string(),
        message,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        if files.len() >= MAX_ARCHIVE_ENTRIES {
            return Err(bad(format!("more than {MAX_ARCHIVE_ENTRIES} entries")));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mode = entry.header().mode().unwrap_or(0o644);
        total += entry.size();
        if total > MAX_ARCHIVE_BYTES {
            return Err(bad("unpacks to more than a drill archive may".into()));
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| bad(e.to_string()))?;
        files.push(TarFile {
            path,
            mode,
            bytes: data,
        });
    }
    Ok(files)
}

fn write_tgz(files: &[TarFile]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for file in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(file.bytes.len() as u64);
        header.set_mode(file.mode);
        header.set_mtime(499_162_500); // npm's fixed date (1985-10-26)
        header.set_entry_type(tar::EntryType::Regular);
        // In-memory writes into a Vec cannot fail; a name too long for
        // ustar would, and shipped packages have none.
        let _ = builder.append_data(&mut header, &file.path, file.bytes.as_slice());
    }
    builder.into_inner().and_then(|gz| gz.finish()).unwrap_or_default()
}

fn generated_npm(release: &Release) -> Vec<TarFile> {
    let manifest = serde_json::json!({
        "name": release.name,
        "version": release.version,
        "description": "generated by ward drill: a minimal package standing in for a release not shipped with the drill",
        "license": "MIT",
        "main": "index.js",
        "dependencies": release.dependencies,
    });
    vec![
        TarFile {
            path: "package/package.json".into(),
            mode: 0o644,
            bytes: serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
        },
        TarFile {
            path: "package/index.js".into(),
            mode: 0o644,
            bytes: format!(
                "module.exports = {{ name: {:?}, version: {:?} }};\n",
                release.name, release.version
            )
            .into_bytes(),
        },
    ]
}

fn build_npm(scenario: &Scenario, release: &Release) -> Result<Built, BuildError> {
    let id = release.id();
    let bad = |message: String| BuildError::Archive {
        release: id.clone(),
        message,
    };
    // A release's own shipped archive is its honest bytes, byte for byte.
    let own = match (&release.archive, source_archive(scenario, release)) {
        (Some(own), Some(source)) if own.as_path() == source => Some(read_archive(scenario, own)?),
        _ => None,
    };
    let mut files = match (&own, source_archive(scenario, release)) {
        (Some(bytes), _) => read_tgz(&id, bytes)?,
        (None, Some(path)) => read_tgz(&id, &read_archive(scenario, path)?)?,
        (None, None) => generated_npm(release),
    };
    let manifest_at = files
        .iter()
        .position(|f| f.path.matches('/').count() == 1 && f.path.ends_with("/package.json"))
        .ok_or_else(|| bad("no package.json at the top of the tarball".into()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&files[manifest_at].bytes).map_err(|e| bad(format!("package.json: {e}")))?;
    let object = manifest
        .as_object_mut()
        .ok_or_else(|| bad("package.json is not an object".into()))?;
    // A base's archive becomes this release: same name, this version.
    object.insert("version".into(), release.version.clone().into());
    files[manifest_at].bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let honest = own.unwrap_or_else(|| write_tgz(&files));
    let Some(stand_in) = &release.stand_in else {
        return finish_npm(release, honest.clone(), honest.clone(), honest);
    };
    let object = manifest
        .as_object_mut()
        .ok_or_else(|| bad("package.json is not an object".into()))?;
    if let Some(script) = &stand_in.install_script {
        let scripts = object.entry("scripts").or_insert_with(|| serde_json::json!({}));
        if let Some(scripts) = scripts.as_object_mut() {
            scripts.insert(script.clone(), npm_marker_script(&id).into());
        }
    }
    if !stand_in.add_dependencies.is_empty() {
        let deps = object.entry("dependencies").or_insert_with(|| serde_json::json!({}));
        if let Some(deps) = deps.as_object_mut() {
            for (name, version) in &stand_in.add_dependencies {
                deps.insert(name.clone(), version.clone().into());
            }
        }
    }
    files[manifest_at].bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    if let Some(payload) = &stand_in.payload {
        let target = files
            .iter_mut()
            .find(|f| f.path.split_once('/').is_some_and(|(_, rest)| rest == payload))
            .ok_or_else(|| bad(format!("stand_in.payload {payload}: no such file in the package")))?;
        target.bytes.extend_from_slice(PAYLOAD_LINE.as_bytes());
    }
    let served = write_tgz(&files);
    let indexed = if stand_in.tampered {
        honest.clone()
    } else {
        served.clone()
    };
    finish_npm(release, served, indexed, honest)
}

fn finish_npm(release: &Release, bytes: Vec<u8>, indexed: Vec<u8>, honest: Vec<u8>) -> Result<Built, BuildError> {
    let files = read_tgz(&release.id(), &bytes)?;
    let manifest = files
        .iter()
        .find(|f| f.path.matches('/').count() == 1 && f.path.ends_with("/package.json"))
        .and_then(|f| serde_json::from_slice::<serde_json::Value>(&f.bytes).ok())
        .unwrap_or_default();
    let map = |key: &str| {
        manifest
            .get(key)
            .and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let base = release.name.rsplit('/').next().unwrap_or(&release.name);
    Ok(Built {
        dependencies: map("dependencies"),
        scripts: map("scripts"),
        bytes,
        indexed,
        honest,
        file: format!("{base}-{}.tgz", release.version),
    })
}

/// A pure-Python wheel (`py3-none-any`) with a correct `RECORD`.
fn build_wheel(_scenario: &Scenario, release: &Release) -> Result<Built, BuildError> {
    let module = release.name.replace('-', "_").to_ascii_lowercase();
    let dist_info = format!("{module}-{}.dist-info", release.version);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("{module}/__init__.py"),
            format!("__version__ = {:?}\n", release.version).into_bytes(),
        ),
        (
            format!("{dist_info}/METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: generated by ward drill\nLicense-Expression: MIT\n{}\n",
                release.name,
                release.version,
                release
                    .dependencies
                    .iter()
                    .map(|(n, v)| format!("Requires-Dist: {n}=={v}\n"))
                    .collect::<String>()
            )
            .into_bytes(),
        ),
        (
            format!("{dist_info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: ward-drill\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
        ),
    ];
    let honest = wheel_bytes(&files, &dist_info);
    let mut indexed = None;
    if let Some(stand_in) = &release.stand_in {
        if let Some(pth) = &stand_in.pth_file {
            files.push((pth.clone(), pth_marker_line(&release.id()).into_bytes()));
        }
        if stand_in.payload.is_some() {
            files[0]
                .1
                .extend_from_slice(b"# ward drill stand-in: the compromised release changed this file here\n");
        }
        if stand_in.tampered {
            indexed = Some(honest.clone());
        }
    }
    let bytes = wheel_bytes(&files, &dist_info);
    Ok(Built {
        honest,
        indexed: indexed.unwrap_or_else(|| bytes.clone()),
        bytes,
        file: format!("{module}-{}-py3-none-any.whl", release.version),
        dependencies: serde_json::Map::new(),
        scripts: serde_json::Map::new(),
    })
}

fn wheel_bytes(files: &[(String, Vec<u8>)], dist_info: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut record = String::new();
    for (name, bytes) in files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
        record.push_str(&format!("{name},sha256={digest},{}\n", bytes.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut all: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let record_name = format!("{dist_info}/RECORD");
    all.push((&record_name, record.as_bytes()));
    for (name, bytes) in all {
        // Writes into memory cannot fail.
        let _ = zip.start_file(name, options);
        let _ = zip.write_all(bytes);
    }
    zip.finish().map(std::io::Cursor::into_inner).unwrap_or_default()
}
