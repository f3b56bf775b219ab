//! The scenarios shipped with ward (`drills/` in the repository), compiled
//! into the binary with the real clean tarballs and `MAL-` records they
//! use, so `ward drill run --all` works on a machine that has only the
//! `ward` executable. [`extract`] writes them into a directory.

use std::path::Path;

/// Every shipped file: its path under `drills/` and its bytes.
pub const FILES: &[(&str, &[u8])] = &[
    ("axios-2026.toml", include_bytes!("../../../drills/axios-2026.toml")),
    (
        "chalk-debug-2025.toml",
        include_bytes!("../../../drills/chalk-debug-2025.toml"),
    ),
    (
        "dependency-confusion.toml",
        include_bytes!("../../../drills/dependency-confusion.toml"),
    ),
    (
        "event-stream-2018.toml",
        include_bytes!("../../../drills/event-stream-2018.toml"),
    ),
    ("litellm-2026.toml", include_bytes!("../../../drills/litellm-2026.toml")),
    (
        "republished-release.toml",
        include_bytes!("../../../drills/republished-release.toml"),
    ),
    (
        "tampered-tarball.toml",
        include_bytes!("../../../drills/tampered-tarball.toml"),
    ),
    (
        "tinycolor-worm-2025.toml",
        include_bytes!("../../../drills/tinycolor-worm-2025.toml"),
    ),
    ("typosquat.toml", include_bytes!("../../../drills/typosquat.toml")),
    (
        "ua-parser-js-2021.toml",
        include_bytes!("../../../drills/ua-parser-js-2021.toml"),
    ),
    (
        "ultralytics-2024.toml",
        include_bytes!("../../../drills/ultralytics-2024.toml"),
    ),
    (
        "records/MAL-2025-20690.json",
        include_bytes!("../../../drills/records/MAL-2025-20690.json"),
    ),
    (
        "records/MAL-2025-46969.json",
        include_bytes!("../../../drills/records/MAL-2025-46969.json"),
    ),
    (
        "records/MAL-2025-46974.json",
        include_bytes!("../../../drills/records/MAL-2025-46974.json"),
    ),
    (
        "records/MAL-2025-47141.json",
        include_bytes!("../../../drills/records/MAL-2025-47141.json"),
    ),
    (
        "records/MAL-2026-2144.json",
        include_bytes!("../../../drills/records/MAL-2026-2144.json"),
    ),
    (
        "releases/npm/chalk-5.6.0.tgz",
        include_bytes!("../../../drills/releases/npm/chalk-5.6.0.tgz"),
    ),
    (
        "releases/npm/chalk-5.6.2.tgz",
        include_bytes!("../../../drills/releases/npm/chalk-5.6.2.tgz"),
    ),
    (
        "releases/npm/ctrl-tinycolor-4.1.0.tgz",
        include_bytes!("../../../drills/releases/npm/ctrl-tinycolor-4.1.0.tgz"),
    ),
    (
        "releases/npm/ctrl-tinycolor-4.2.0.tgz",
        include_bytes!("../../../drills/releases/npm/ctrl-tinycolor-4.2.0.tgz"),
    ),
    (
        "releases/npm/debug-4.4.1.tgz",
        include_bytes!("../../../drills/releases/npm/debug-4.4.1.tgz"),
    ),
    (
        "releases/npm/debug-4.4.3.tgz",
        include_bytes!("../../../drills/releases/npm/debug-4.4.3.tgz"),
    ),
    (
        "releases/npm/event-stream-3.3.5.tgz",
        include_bytes!("../../../drills/releases/npm/event-stream-3.3.5.tgz"),
    ),
    (
        "releases/npm/ms-2.1.3.tgz",
        include_bytes!("../../../drills/releases/npm/ms-2.1.3.tgz"),
    ),
];

/// Writes the shipped scenarios into `dir` (replacing older copies).
pub fn extract(dir: &Path) -> std::io::Result<()> {
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(())
}
