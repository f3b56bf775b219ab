//! Hostile archives, built byte by byte, and a differential test against the
//! installers' own readers: node-tar as npm 11's pacote drives it (strip 1,
//! links skipped, only files kept), Python's `zipfile` read the way pip reads
//! a wheel, and cargo itself unpacking the crate from a local registry.
//!
//! For every archive ward must either refuse it or read the same name and
//! version the installer would install. The constructions of issue 10 are
//! also installed with a real `npm install --offline --ignore-scripts`, to
//! check the node-tar harness against npm itself. The benign controls in each corpus
//! must be allowed, so the test cannot pass by refusing everything.
//!
//! npm (node) and python3 are required when `WARD_REQUIRE_CLIENTS=1`, else a
//! missing one skips its part with a message.

use crate::archives::{Signed, setup};
use crate::proxy::have;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------- tar ---

/// How the checksum field is written.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Cksum {
    /// Six digits, NUL, space (what GNU tar writes).
    Normal,
    /// Eight digits and no terminator: the `tar` crate reads 8 bytes,
    /// node-tar reads 12 (into the type flag) and skips the header.
    Unterminated,
}

/// One raw 512-byte header.
#[derive(Clone, Copy)]
pub(crate) struct Header<'a> {
    pub name: &'a [u8],
    pub kind: u8,
    pub size: u64,
    pub linkname: &'a [u8],
    pub prefix: &'a [u8],
    /// GNU magic (`ustar  \0`) instead of POSIX (`ustar\000`).
    pub gnu: bool,
    pub cksum: Cksum,
}

impl<'a> Header<'a> {
    pub(crate) fn new(name: &'a str, kind: u8, size: u64) -> Self {
        Self {
            name: name.as_bytes(),
            kind,
            size,
            linkname: b"",
            prefix: b"",
            gnu: false,
            cksum: Cksum::Normal,
        }
    }

    pub(crate) fn block(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..self.name.len()].copy_from_slice(self.name);
        b[100..108].copy_from_slice(b"0000644\0");
        b[108..116].copy_from_slice(b"0000000\0");
        b[116..124].copy_from_slice(b"0000000\0");
        b[124..136].copy_from_slice(format!("{:011o}\0", self.size).as_bytes());
        b[136..148].copy_from_slice(b"00000000000\0");
        b[156] = self.kind;
        b[157..157 + self.linkname.len()].copy_from_slice(self.linkname);
        if self.gnu {
            b[257..265].copy_from_slice(b"ustar  \0");
        } else {
            b[257..263].copy_from_slice(b"ustar\0");
            b[263..265].copy_from_slice(b"00");
        }
        b[345..345 + self.prefix.len()].copy_from_slice(self.prefix);
        b[148..156].copy_from_slice(b"        ");
        let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
        match self.cksum {
            Cksum::Normal => b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes()),
            Cksum::Unterminated => b[148..156].copy_from_slice(format!("{sum:08o}").as_bytes()),
        }
        b
    }
}

/// A tar stream written block by block.
#[derive(Default)]
pub(crate) struct Tar(pub Vec<u8>);

impl Tar {
    pub(crate) fn header(&mut self, h: Header<'_>) -> &mut Self {
        self.0.extend_from_slice(&h.block());
        self
    }

    /// Data padded to a whole block.
    pub(crate) fn data(&mut self, d: &[u8]) -> &mut Self {
        self.0.extend_from_slice(d);
        let pad = (512 - d.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub(crate) fn file(&mut self, name: &str, d: &[u8]) -> &mut Self {
        self.header(Header::new(name, b'0', d.len() as u64)).data(d)
    }

    pub(crate) fn dir(&mut self, name: &str) -> &mut Self {
        self.header(Header::new(name, b'5', 0))
    }

    /// A GNU long-name (`L`) header for the next entry.
    pub(crate) fn long_name(&mut self, name: &str) -> &mut Self {
        let mut d = name.as_bytes().to_vec();
        d.push(0);
        let h = Header {
            gnu: true,
            ..Header::new("././@LongLink", b'L', d.len() as u64)
        };
        self.header(h).data(&d)
    }

    /// A PAX header (`x` for the next entry, `g` global) with these records.
    pub(crate) fn pax(&mut self, kind: u8, records: &[(&str, &str)]) -> &mut Self {
        let d = pax_records(records);
        self.header(Header::new("PaxHeader/x", kind, d.len() as u64)).data(&d)
    }

    pub(crate) fn zero_block(&mut self) -> &mut Self {
        self.0.extend_from_slice(&[0u8; 512]);
        self
    }

    /// The two end-of-archive blocks, gzipped.
    pub(crate) fn tgz(&mut self) -> Vec<u8> {
        self.zero_block().zero_block();
        gz(&self.0)
    }
}

pub(crate) fn pax_records(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while len.to_string().len() + body.len() != len {
            len += 1;
        }
        out.extend_from_slice(format!("{len}{body}").as_bytes());
    }
    out
}

pub(crate) fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

pub(crate) const GOOD: &[u8] = br#"{"name": "good-pkg", "version": "1.0.0"}"#;
pub(crate) const EVIL: &[u8] = br#"{"name": "evil-pkg", "version": "6.6.6", "scripts": {"preinstall": "echo pwned"}}"#;

/// npm tarballs: (file name, bytes, benign). The hostile ones are the
/// constructions of issue 10 findings 2 and 7 and the node-tar quirks found
/// while reading its source.
pub(crate) fn npm_corpus() -> Vec<(&'static str, Vec<u8>, bool)> {
    let mut v = Vec::new();
    v.push((
        "ok-plain.tgz",
        Tar::default()
            .dir("package/")
            .file("package/package.json", GOOD)
            .file("package/index.js", b"1")
            .tgz(),
        true,
    ));
    // npm strips whatever the first component is.
    v.push((
        "ok-other-top.tgz",
        Tar::default()
            .file("node-good/package.json", GOOD)
            .file("node-good/index.js", b"1")
            .tgz(),
        true,
    ));
    let long = format!("package/{}/deep.js", "d".repeat(120));
    v.push((
        "ok-pax-long-path.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'x', &[("path", &long)])
            .file("package/placeholder", b"1")
            .tgz(),
        true,
    ));
    v.push((
        "ok-gnu-long-name.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .long_name(&long)
            .file("package/placeholder", b"1")
            .tgz(),
        true,
    ));
    // Finding 2a: ward took the GNU long name, node-tar the PAX path.
    v.push((
        "gnu-and-pax.tgz",
        Tar::default()
            .long_name("package/package.json")
            .pax(b'x', &[("path", "package/z.json")])
            .file("package/a", GOOD)
            .long_name("package/z.json")
            .pax(b'x', &[("path", "package/package.json")])
            .file("package/b", EVIL)
            .tgz(),
        false,
    ));
    // Finding 2b: node-tar reads on after a single zero block.
    v.push((
        "single-zero-block.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .zero_block()
            .file("package/package.json", EVIL)
            .tgz(),
        false,
    ));
    // Finding 2c: strip 1 makes `./package.json` the package's manifest.
    v.push((
        "dot-root.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .file("./package.json", EVIL)
            .tgz(),
        false,
    ));
    v.push((
        "other-top-too.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .file("x/package.json", EVIL)
            .tgz(),
        false,
    ));
    // `./package/package.json` is installed at `package/package.json`, not at the root.
    v.push((
        "dot-package.tgz",
        Tar::default().file("./package/package.json", GOOD).tgz(),
        false,
    ));
    // Finding 7: names that collide on case-insensitive or normalising file systems.
    v.push((
        "case-collision.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .file("package/PACKAGE.JSON", EVIL)
            .tgz(),
        false,
    ));
    v.push((
        "nfc-nfd.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .file("package/caf\u{e9}.js", b"1")
            .file("package/cafe\u{301}.js", b"2")
            .tgz(),
        false,
    ));
    v.push((
        "bad-npm-name.tgz",
        Tar::default()
            .file("package/package.json", br#"{"name": "../../etc", "version": "1.0.0"}"#)
            .tgz(),
        false,
    ));
    // node-tar forces a directory's size to 0: the "directory data" is read as headers.
    let mut smuggled = Tar::default();
    smuggled.file("package/package.json", EVIL);
    let hidden = smuggled.0.clone();
    v.push((
        "dir-with-data.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .header(Header::new("package/lib/", b'5', hidden.len() as u64))
            .data(&hidden)
            .tgz(),
        false,
    ));
    v.push((
        "file-with-slash.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .header(Header::new("package/lib/", b'0', hidden.len() as u64))
            .data(&hidden)
            .tgz(),
        false,
    ));
    // node-tar reads the checksum over 12 bytes; eight digits with no
    // terminator fail there and the header is skipped, so its data is parsed.
    v.push((
        "cksum-unterminated.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .header(Header {
                cksum: Cksum::Unterminated,
                ..Header::new("package/data.bin", b'0', hidden.len() as u64)
            })
            .data(&hidden)
            .tgz(),
        false,
    ));
    // A PAX size that differs from the header's.
    v.push((
        "pax-size.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'x', &[("size", "0")])
            .header(Header::new("package/data.bin", b'0', hidden.len() as u64))
            .data(&hidden)
            .tgz(),
        false,
    ));
    // A global PAX size applies to every later entry in node-tar only.
    v.push((
        "global-size.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'g', &[("size", "0")])
            .header(Header::new("package/data.bin", b'0', hidden.len() as u64))
            .data(&hidden)
            .tgz(),
        false,
    ));
    // A PAX `type` turns a file into something else in node-tar.
    v.push((
        "pax-type.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'x', &[("type", "SymbolicLink")])
            .file("package/x.js", b"1")
            .tgz(),
        false,
    ));
    // node-tar skips a file with a link name ("linkpath forbidden").
    v.push((
        "file-with-linkname.tgz",
        Tar::default()
            .header(Header {
                linkname: b"x",
                ..Header::new("package/package.json", b'0', GOOD.len() as u64)
            })
            .data(GOOD)
            .file("package/index.js", b"1")
            .tgz(),
        false,
    ));
    // An empty PAX header makes node-tar re-apply the previous one.
    let mut empty_pax = Tar::default();
    empty_pax
        .pax(b'x', &[("path", "package/z.json")])
        .file("package/a", EVIL)
        .header(Header::new("PaxHeader/y", b'x', 0))
        .file("package/package.json", GOOD);
    v.push(("empty-pax.tgz", empty_pax.tgz(), false));
    // A PAX header with the ustar prefix field set.
    v.push((
        "pax-and-prefix.tgz",
        Tar::default()
            .pax(b'x', &[("path", "package/package.json")])
            .header(Header {
                prefix: b"package",
                ..Header::new("index.js", b'0', GOOD.len() as u64)
            })
            .data(GOOD)
            .tgz(),
        true,
    ));
    // node-tar drops a PAX record whose non-ASCII bytes straddle two
    // decompressed chunks, and then reads the header's own name.
    v.push((
        "pax-non-ascii-over-manifest.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'x', &[("path", "package/caf\u{e9}.txt")])
            .file("package/package.json", EVIL)
            .tgz(),
        false,
    ));
    v.push((
        "ok-pax-non-ascii.tgz",
        Tar::default()
            .file("package/package.json", GOOD)
            .pax(b'x', &[("path", "package/caf\u{e9}.txt")])
            .file("package/cafe.txt", b"1")
            .tgz(),
        true,
    ));
    // A second gzip member after the first one's end: node decompresses it, cargo does not.
    let mut first = Tar::default();
    first.file("package/package.json", GOOD);
    let mut second = Tar::default();
    second.file("./package.json", EVIL);
    let mut two = gz(&first.0);
    two.extend(second.tgz());
    v.push(("two-members.tgz", two, false));
    v
}

// ---------------------------------------------------------------- zip ---

/// One zip entry, stored, with separate local and central names.
pub(crate) struct ZipEntry<'a> {
    pub local: &'a str,
    pub central: &'a str,
    pub data: &'a [u8],
}

impl<'a> ZipEntry<'a> {
    pub(crate) fn new(name: &'a str, data: &'a [u8]) -> Self {
        Self {
            local: name,
            central: name,
            data,
        }
    }
}

/// A zip written by hand (the `zip` crate refuses to write duplicates).
pub(crate) fn raw_zip(entries: &[ZipEntry<'_>]) -> Vec<u8> {
    raw_zip_hiding(entries, &[])
}

/// A zip whose entries at the `hidden` indices have a local header and data
/// but no central directory entry (a streaming extractor still sees them).
pub(crate) fn raw_zip_hiding(entries: &[ZipEntry<'_>], hidden: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    let mut listed = 0u16;
    for (i, e) in entries.iter().enumerate() {
        let offset = u32::try_from(out.len()).unwrap();
        let mut crc = flate2::Crc::new();
        crc.update(e.data);
        let crc = crc.sum();
        let size = u32::try_from(e.data.len()).unwrap();
        let flags = |n: &str| if n.is_ascii() { 0u16 } else { 0x800 };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags(e.local).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0x21u16.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&u16::try_from(e.local.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.local.as_bytes());
        out.extend_from_slice(e.data);
        if hidden.contains(&i) {
            continue;
        }
        listed += 1;

        cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        cd.extend_from_slice(&20u16.to_le_bytes());
        cd.extend_from_slice(&20u16.to_le_bytes());
        cd.extend_from_slice(&flags(e.central).to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes());
        cd.extend_from_slice(&0x21u16.to_le_bytes());
        cd.extend_from_slice(&crc.to_le_bytes());
        cd.extend_from_slice(&size.to_le_bytes());
        cd.extend_from_slice(&size.to_le_bytes());
        cd.extend_from_slice(&u16::try_from(e.central.len()).unwrap().to_le_bytes());
        cd.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attributes
        cd.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        cd.extend_from_slice(&offset.to_le_bytes());
        cd.extend_from_slice(e.central.as_bytes());
    }
    let cd_offset = u32::try_from(out.len()).unwrap();
    out.extend_from_slice(&cd);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&listed.to_le_bytes());
    out.extend_from_slice(&listed.to_le_bytes());
    out.extend_from_slice(&u32::try_from(cd.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

pub(crate) const WHEEL: &str = "good_pkg-1.0.0-py3-none-any.whl";
pub(crate) const META_DIR: &str = "good_pkg-1.0.0.dist-info";
pub(crate) const GOOD_META: &[u8] = b"Metadata-Version: 2.1\nName: good_pkg\nVersion: 1.0.0\n";
pub(crate) const EVIL_META: &[u8] = b"Metadata-Version: 2.1\nName: good_pkg\nVersion: 6.6.6\n";

/// Wheels: (file name, bytes, benign). Findings 3 and 7.
pub(crate) fn wheel_corpus() -> Vec<(&'static str, Vec<u8>, bool)> {
    let meta = format!("{META_DIR}/METADATA");
    let wheel = |extra: &[ZipEntry<'_>], metadata: &[u8]| {
        let mut entries = vec![ZipEntry::new("good_pkg/__init__.py", b"")];
        let m = ZipEntry::new(&meta, metadata);
        entries.extend(extra.iter().map(|e| ZipEntry {
            local: e.local,
            central: e.central,
            data: e.data,
        }));
        entries.push(m);
        raw_zip(&entries)
    };
    vec![
        ("ok", wheel(&[], GOOD_META), true),
        (
            "local-central-mismatch",
            wheel(
                &[ZipEntry {
                    local: "../../../evil.pyxxxx",
                    central: "good_pkg/__init__.py",
                    data: b"import os",
                }],
                GOOD_META,
            ),
            false,
        ),
        (
            "duplicate-init",
            raw_zip(&[
                ZipEntry::new("good_pkg/__init__.py", b"import os; os.system('id')"),
                ZipEntry::new("good_pkg/__init__.py", b""),
                ZipEntry::new(&meta, GOOD_META),
            ]),
            false,
        ),
        (
            "duplicate-metadata",
            raw_zip(&[
                ZipEntry::new("good_pkg/__init__.py", b""),
                ZipEntry::new(&meta, EVIL_META),
                ZipEntry::new(&meta, GOOD_META),
            ]),
            false,
        ),
        (
            "case-collision",
            wheel(&[ZipEntry::new("good_pkg/__INIT__.py", b"x")], GOOD_META),
            false,
        ),
        (
            "nfc-nfd",
            wheel(
                &[
                    ZipEntry::new("good_pkg/caf\u{e9}.py", b"1"),
                    ZipEntry::new("good_pkg/cafe\u{301}.py", b"2"),
                ],
                GOOD_META,
            ),
            false,
        ),
        ("version-lie", wheel(&[], EVIL_META), false),
        // uv and other streaming extractors read local headers in order.
        (
            "hidden-local-entry",
            raw_zip_hiding(
                &[
                    ZipEntry::new("good_pkg/__init__.py", b""),
                    ZipEntry::new("good_pkg/evil.pth", b"import os; os.system('id')"),
                    ZipEntry::new(&meta, GOOD_META),
                ],
                &[1],
            ),
            false,
        ),
        (
            "folded-name",
            wheel(&[], b"Metadata-Version: 2.1\nName: good_pkg\n evil\nVersion: 1.0.0\n"),
            false,
        ),
    ]
}

// -------------------------------------------------------------- crates ---

pub(crate) const GOOD_TOML: &[u8] = b"[package]\nname = \"good-pkg\"\nversion = \"1.0.0\"\n";
pub(crate) const EVIL_TOML: &[u8] = b"[package]\nname = \"good-pkg\"\nversion = \"1.0.0\"\nbuild = \"evil.rs\"\n";

/// Crates named `good-pkg-1.0.0.crate`: (case, bytes, benign).
pub(crate) fn crate_corpus() -> Vec<(&'static str, Vec<u8>, bool)> {
    let p = "good-pkg-1.0.0";
    let ct = format!("{p}/Cargo.toml");
    let other = format!("{p}/other.toml");
    let lib = format!("{p}/src/lib.rs");
    // Every crate has a library target (cargo needs one) and the build
    // script the evil manifest names.
    let base = || {
        let mut t = Tar::default();
        t.file(&lib, b"").file(&format!("{p}/evil.rs"), b"fn main() {}");
        t
    };
    vec![
        ("ok", base().file(&ct, GOOD_TOML).tgz(), true),
        (
            "gnu-and-pax",
            base()
                .long_name(&ct)
                .pax(b'x', &[("path", &other)])
                .file(&format!("{p}/a"), GOOD_TOML)
                .long_name(&other)
                .pax(b'x', &[("path", &ct)])
                .file(&format!("{p}/b"), EVIL_TOML)
                .tgz(),
            false,
        ),
        (
            "single-zero-block",
            base().file(&ct, GOOD_TOML).zero_block().file(&other, EVIL_TOML).tgz(),
            false,
        ),
        (
            "outside-prefix",
            base().file(&ct, GOOD_TOML).file("x/Cargo.toml", EVIL_TOML).tgz(),
            false,
        ),
        (
            "dot-prefix",
            base().file(&format!("./{p}/Cargo.toml"), GOOD_TOML).tgz(),
            false,
        ),
        (
            "case-collision",
            base()
                .file(&ct, GOOD_TOML)
                .file(&format!("{p}/CARGO.TOML"), EVIL_TOML)
                .tgz(),
            false,
        ),
    ]
}

// ------------------------------------------------------------- harness ---

/// What ward made of one archive: `None` when it refused, else the purl.
fn ward_reads(s: &Signed, path: &Path) -> Option<String> {
    let run = s.verify(path, &[]);
    assert!(!run.stderr.contains("panicked"), "ward panicked on {}", path.display());
    match run.code {
        0 => {
            let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
            doc["artifact"]["id"].as_str().map(String::from)
        }
        1 => None,
        other => panic!("ward exited {other} on {}:\n{}", path.display(), run.all()),
    }
}

/// Runs a helper program; returns its stdout lines.
fn lines_of(cmd: &mut Command) -> Vec<String> {
    let out = cmd.output().expect("run helper");
    assert!(
        out.status.success(),
        "helper failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

/// Writes the corpus into `dir`; returns the paths.
fn write_all(dir: &Path, corpus: &[(&'static str, Vec<u8>, bool)], name: impl Fn(&str) -> String) -> Vec<PathBuf> {
    corpus
        .iter()
        .map(|(case, bytes, _)| {
            let sub = dir.join(case.trim_end_matches(".tgz"));
            std::fs::create_dir_all(&sub).expect("mkdir");
            let p = sub.join(name(case));
            std::fs::write(&p, bytes).expect("write");
            p
        })
        .collect()
}

/// Checks one verdict and returns a line for the summary.
#[track_caller]
fn judge(case: &str, benign: bool, ward: Option<&str>, installer: Option<&str>) -> String {
    if benign {
        assert!(ward.is_some(), "{case}: ward refused a benign archive");
    }
    if let Some(w) = ward {
        assert_eq!(
            Some(w),
            installer,
            "{case}: ward allowed {w} but the installer reads {installer:?}"
        );
    }
    format!("{case}: ward {ward:?}, installer {installer:?}")
}

const NODE_TAR_SCRIPT: &str = r#"
const tar = require(process.env.TAR);
const fs = require('fs'), path = require('path');
(async () => {
  for (const f of process.argv.slice(1)) {
    const dest = f + '.out';
    fs.mkdirSync(dest, { recursive: true });
    // pacote's #tarxOptions: strip 1, links dropped, only files kept.
    const x = tar.x({ cwd: dest, strip: 1, noChmod: true, noMtime: true, preserveOwner: false,
      filter: (name, entry) => !/Link$/.test(entry.type) && /File$/.test(entry.type),
      onwarn: () => {} });
    try {
      await new Promise((resolve, reject) => {
        x.on('end', resolve); x.on('close', resolve); x.on('error', reject);
        const s = fs.createReadStream(f); s.on('error', reject); s.pipe(x);
      });
      const pj = JSON.parse(fs.readFileSync(path.join(dest, 'package.json'), 'utf8'));
      console.log(`pkg:npm/${pj.name}@${pj.version}`);
    } catch (e) { console.log('ERROR'); }
  }
})();
"#;

#[test]
fn npm_tarballs_ward_refuses_or_reads_what_node_tar_installs() {
    if !have("npm", "--version") || !have("node", "--version") {
        return;
    }
    let root = lines_of(Command::new("npm").args(["root", "-g"]));
    let tar_dir = Path::new(root.first().expect("npm root")).join("npm/node_modules/tar");
    assert!(
        tar_dir.is_dir(),
        "npm's bundled node-tar not found at {}",
        tar_dir.display()
    );
    let s = setup();
    let mut corpus = npm_corpus();
    corpus.push(("ok-npm-pack.tgz", npm_pack(s.dir.path()), true));
    let paths = write_all(s.dir.path(), &corpus, |c| c.to_string());
    let mut node = Command::new("node");
    node.arg("-e").arg(NODE_TAR_SCRIPT).env("TAR", &tar_dir).args(&paths);
    let read = lines_of(&mut node);
    assert_eq!(read.len(), corpus.len());
    let mut summary = Vec::new();
    for ((case, _, benign), (path, installer)) in corpus.iter().zip(paths.iter().zip(&read)) {
        let ward = ward_reads(&s, path);
        let installer = (installer != "ERROR").then_some(installer.as_str());
        // The harness against npm itself, for the constructions of issue 10.
        if NPM_INSTALL_CASES.contains(case) {
            let npm = npm_install(s.dir.path(), path);
            assert_eq!(
                npm.as_deref(),
                installer,
                "{case}: npm install and the node-tar harness disagree"
            );
        }
        summary.push(judge(case, *benign, ward.as_deref(), installer));
    }
    report(&summary);
}

/// Cases also run through a real `npm install` (about a second each).
const NPM_INSTALL_CASES: &[&str] = &[
    "ok-plain.tgz",
    "gnu-and-pax.tgz",
    "single-zero-block.tgz",
    "dot-root.tgz",
];

/// `npm install --offline --ignore-scripts ./X.tgz` into a fresh prefix
/// (and a fresh cache); the purl of what landed in `node_modules`.
fn npm_install(dir: &Path, tarball: &Path) -> Option<String> {
    let prefix = tempfile::tempdir_in(dir).expect("tempdir");
    let cache = prefix.path().join(".npm-cache");
    let status = Command::new("npm")
        .args([
            "install",
            "--offline",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(prefix.path())
        .arg(tarball)
        .env("npm_config_cache", &cache)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("npm install");
    if !status.success() {
        return None;
    }
    let installed: Vec<PathBuf> = std::fs::read_dir(prefix.path().join("node_modules"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(installed.len(), 1, "npm installed {installed:?}");
    let pj: serde_json::Value = serde_json::from_slice(&std::fs::read(installed[0].join("package.json")).ok()?).ok()?;
    Some(format!("pkg:npm/{}@{}", pj["name"].as_str()?, pj["version"].as_str()?))
}

/// A tarball made by `npm pack` itself (node-tar's writer, PAX headers for
/// a long and a non-ASCII path): the benign control from the real tool.
fn npm_pack(dir: &Path) -> Vec<u8> {
    let project = dir.join("npm-pack-project");
    let deep = project.join("d".repeat(90)).join("e".repeat(90));
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(project.join("package.json"), GOOD).expect("write");
    std::fs::write(deep.join("file.js"), b"1").expect("write");
    std::fs::write(project.join("caf\u{e9}.js"), b"1").expect("write");
    let out = dir.join("npm-pack-out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let status = Command::new("npm")
        .args(["pack", "--offline", "--silent", "--pack-destination"])
        .arg(&out)
        .current_dir(&project)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("npm pack");
    assert!(status.success(), "npm pack failed");
    std::fs::read(out.join("good-pkg-1.0.0.tgz")).expect("packed tarball")
}

/// A wheel written by Python's own `zipfile`: the benign control.
const PY_MAKE_WHEEL: &str = r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('good_pkg/__init__.py', '')
    z.writestr('good_pkg/caf\u00e9.py', '')
    z.writestr('good_pkg-1.0.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: good_pkg\nVersion: 1.0.0\n')
"#;

const PY_WHEEL_SCRIPT: &str = r#"
import sys, zipfile, email.parser, re
for f in sys.argv[1:]:
    try:
        with zipfile.ZipFile(f) as z:
            for info in z.infolist():
                z.read(info)
            dirs = {n.split('/')[0] for n in z.namelist() if n.split('/')[0].endswith('.dist-info')}
            if len(dirs) != 1:
                raise ValueError('dist-info')
            msg = email.parser.Parser().parsestr(z.read(dirs.pop() + '/METADATA').decode('utf-8'))
            name = re.sub(r'[-_.]+', '-', msg['Name']).lower()
            # A folded header keeps its line break; print it on one line.
            print(f"pkg:pypi/{name}@{msg['Version']}".replace('\n', '\\n'))
    except Exception as e:
        print('ERROR')
"#;

#[test]
fn wheels_ward_refuses_or_reads_what_python_zipfile_reads() {
    if !have("python3", "--version") {
        return;
    }
    let s = setup();
    let made = s.dir.path().join("made.whl");
    lines_of(Command::new("python3").arg("-c").arg(PY_MAKE_WHEEL).arg(&made));
    let mut corpus = wheel_corpus();
    corpus.push(("ok-python-zipfile", std::fs::read(&made).expect("read wheel"), true));
    let paths = write_all(s.dir.path(), &corpus, |_| WHEEL.to_string());
    let read = lines_of(Command::new("python3").arg("-c").arg(PY_WHEEL_SCRIPT).args(&paths));
    assert_eq!(read.len(), corpus.len());
    let mut summary = Vec::new();
    for ((case, _, benign), (path, installer)) in corpus.iter().zip(paths.iter().zip(&read)) {
        let ward = ward_reads(&s, path);
        let installer = (installer != "ERROR").then_some(installer.as_str());
        summary.push(judge(case, *benign, ward.as_deref(), installer));
    }
    report(&summary);
}

/// What cargo itself makes of the crate: a local registry holding it (an
/// index line with its checksum), a project depending on it, and
/// `cargo metadata --offline` with a fresh `CARGO_HOME`, which unpacks the
/// crate with cargo's own rules and reads its `Cargo.toml`. `None` when cargo
/// fails.
fn cargo_reads(dir: &Path, case: &str, krate: &[u8]) -> Option<String> {
    use sha2::Digest;
    let root = dir.join(format!("cargo-{case}"));
    let registry = root.join("registry");
    let project = root.join("project");
    std::fs::create_dir_all(registry.join("index/go/od")).expect("mkdir");
    std::fs::create_dir_all(project.join("src")).expect("mkdir");
    std::fs::create_dir_all(project.join(".cargo")).expect("mkdir");
    std::fs::write(registry.join("good-pkg-1.0.0.crate"), krate).expect("write");
    let line = serde_json::json!({
        "name": "good-pkg", "vers": "1.0.0", "deps": [], "features": {}, "yanked": false,
        "cksum": hex::encode(sha2::Sha256::digest(krate)),
    });
    std::fs::write(registry.join("index/go/od/good-pkg"), format!("{line}\n")).expect("write");
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[dependencies]\ngood-pkg = \"=1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(project.join("src/lib.rs"), "").expect("write");
    std::fs::write(
        project.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"local\"\n[source.local]\nlocal-registry = {:?}\n",
            registry.display().to_string()
        ),
    )
    .expect("write");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(&project)
        .env("CARGO_HOME", root.join("home"))
        .output()
        .expect("run cargo");
    if !out.status.success() {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let pkg = doc["packages"]
        .as_array()?
        .iter()
        .find(|p| p["source"].as_str().is_some_and(|s| s.starts_with("registry+")))?;
    let mut id = format!("pkg:cargo/{}@{}", pkg["name"].as_str()?, pkg["version"].as_str()?);
    // A build script ward did not see is a different package for this test.
    let build = pkg["targets"].as_array()?.iter().any(|t| {
        t["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "custom-build"))
    });
    if build {
        id.push_str("+build");
    }
    Some(id)
}

#[test]
fn crates_ward_refuses_or_reads_what_cargo_unpacks() {
    let s = setup();
    let corpus = crate_corpus();
    let paths = write_all(s.dir.path(), &corpus, |_| "good-pkg-1.0.0.crate".to_string());
    let mut summary = Vec::new();
    for ((case, bytes, benign), path) in corpus.iter().zip(&paths) {
        let ward = ward_reads(&s, path);
        let installer = cargo_reads(s.dir.path(), case, bytes);
        summary.push(judge(case, *benign, ward.as_deref(), installer.as_deref()));
    }
    report(&summary);
}

#[allow(clippy::print_stderr)]
fn report(lines: &[String]) {
    for l in lines {
        eprintln!("{l}");
    }
}
