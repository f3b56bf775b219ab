//! Adversarial review of the issue 10 fixes: archives and evidence crafted
//! to make ward and the installer read different things. Each construction
//! was checked against npm 11's own node-tar (`tar.x({strip: 1})`), which
//! installs `evil-pkg@6.6.6` from every hostile tarball below while ward,
//! before these fixes, allowed it as `pkg:npm/good-pkg@1.0.0`.

use crate::archives::setup;
use crate::archives_differential::{EVIL, GOOD, Header, Tar, gz};

/// Writes the tarball under an innocent name and verifies it (signed, so
/// only the archive check can deny); it must be refused as ambiguous.
fn refused(tar: &[u8], case: &str) {
    let s = setup();
    let dir = s.dir.path().join(case);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let art = dir.join("good-pkg-1.0.0.tgz");
    std::fs::write(&art, gz(tar)).expect("write");
    s.verify(&art, &[]).expect(1).reason("archive-ambiguous");
}

/// node-tar decodes a name with `.replace(/\0.*/, '')`: `.` stops at a line
/// break, so bytes after a NUL and a newline stay in its name while every
/// other reader cuts at the NUL. `package\0\n/././…/package.json` is a file
/// `package` at the root for ward, and `package.json` after strip 1 for npm.
fn name_nul_newline() -> Vec<u8> {
    let mut name = b"package\0\n/".to_vec();
    name.extend(b"./".repeat(39));
    name.extend(b"package.json");
    assert_eq!(name.len(), 100);
    let mut t = Tar::default();
    t.file("package/package.json", GOOD)
        .header(Header {
            name: &name,
            ..Header::new("", b'0', EVIL.len() as u64)
        })
        .data(EVIL)
        .zero_block()
        .zero_block();
    t.0
}

#[test]
fn tar_name_bytes_after_a_nul_and_a_newline_are_refused() {
    refused(&name_nul_newline(), "name-nul-newline");
}

/// A link name of `\0\n` is empty for ward and `"\n"` for node-tar, which
/// then skips the header ("linkpath forbidden") and parses the file's data
/// as tar headers: a whole hidden `package/package.json`.
fn linkname_nul_newline() -> Vec<u8> {
    let mut hidden = Tar::default();
    hidden.file("package/package.json", EVIL);
    let mut t = Tar::default();
    t.file("package/package.json", GOOD)
        .header(Header {
            linkname: b"\0\n",
            ..Header::new("package/README", b'0', hidden.0.len() as u64)
        })
        .data(&hidden.0)
        .zero_block()
        .zero_block();
    t.0
}

#[test]
fn tar_link_name_bytes_after_a_nul_are_refused() {
    refused(&linkname_nul_newline(), "linkname-nul-newline");
}

/// A GNU long-name header that node-tar skips (no name of its own: "path is
/// required"; or a link name: "linkpath forbidden"), so it parses the long
/// name's data block as a header: 157 bytes with no NUL (a valid long name
/// for ward) that are a V7 file header whose size swallows ward's next
/// header, after which node-tar reads a hidden `package/package.json` from
/// inside what ward takes for file data.
fn gnu_long_name_desync(own_name: &[u8], linkname: &[u8]) -> Vec<u8> {
    let mut evil = Tar::default();
    evil.file("package/package.json", EVIL);
    let filler = [b'f'; 512];
    let ward_data = [&filler[..], &evil.0].concat();
    // The V7 header node-tar finds in the long name's data.
    let mut smuggled = [0u8; 512];
    let mut name = b"package/".to_vec();
    name.extend(b"./".repeat(40));
    name.resize(100, b'j');
    smuggled[..100].copy_from_slice(&name);
    smuggled[100..124].copy_from_slice(b"0000644 0000000 0000000 ");
    smuggled[124..136].copy_from_slice(format!("{:011o} ", 512 + filler.len()).as_bytes());
    smuggled[136..148].copy_from_slice(b"00000000000 ");
    smuggled[156] = b'0';
    smuggled[148..156].copy_from_slice(b"        ");
    let sum: u32 = smuggled.iter().map(|&x| u32::from(x)).sum();
    smuggled[148..156].copy_from_slice(format!("{sum:07o} ").as_bytes());
    let long = &smuggled[..158];
    assert!(!long[..157].contains(&0));
    let mut t = Tar::default();
    t.file("package/package.json", GOOD)
        .header(Header {
            name: own_name,
            linkname,
            gnu: true,
            ..Header::new("", b'L', long.len() as u64)
        })
        .data(long)
        .header(Header::new("package/x", b'0', ward_data.len() as u64))
        .data(&ward_data)
        .zero_block()
        .zero_block();
    t.0
}

#[test]
fn tar_extension_header_node_tar_skips_is_refused() {
    refused(&gnu_long_name_desync(b"", b""), "long-name-without-name");
    refused(&gnu_long_name_desync(b"././@LongLink", b"x"), "long-name-with-linkname");
}

/// A PAX record length with a leading zero: node-tar checks the number and
/// then cuts the record after `String(n) + ' '`, one character short, so the
/// key is ` path` and the record is ignored; the others apply the path. The
/// evil manifest's header name is then node-tar's name for it.
fn pax_length_leading_zero() -> Vec<u8> {
    let body = " path=package/x.txt\n";
    let len = 1 + 2 + body.len();
    let record = format!("0{len}{body}");
    assert_eq!(record.len(), len);
    let mut t = Tar::default();
    t.file("package/package.json", GOOD)
        .header(Header::new("PaxHeader/x", b'x', record.len() as u64))
        .data(record.as_bytes())
        .file("package/package.json", EVIL)
        .zero_block()
        .zero_block();
    t.0
}

#[test]
fn tar_pax_record_length_with_a_leading_zero_is_refused() {
    refused(&pax_length_leading_zero(), "pax-leading-zero");
}

/// npm's own node-tar, driven as pacote drives it (strip 1, files only),
/// installs `evil-pkg` from each construction above: the tests that ward
/// refuses them are about real attacks, and stay so only while this holds.
const NODE_TAR: &str = r#"
const tar = require(process.env.TAR);
const fs = require('fs');
const path = require('path');
for (const f of process.argv.slice(1)) {
  const dest = f + '.out';
  fs.mkdirSync(dest, { recursive: true });
  try {
    tar.x({ file: f, cwd: dest, strip: 1, sync: true, noChmod: true, preserveOwner: false,
      filter: (name, entry) => /File$/.test(entry.type), onwarn: () => {} });
    console.log(JSON.parse(fs.readFileSync(path.join(dest, 'package.json'), 'utf8')).name);
  } catch (e) { console.log('ERROR'); }
}
"#;

#[test]
fn node_tar_installs_the_hidden_manifest_of_each_construction() {
    if !crate::proxy::have("npm", "--version") || !crate::proxy::have("node", "--version") {
        return;
    }
    let root = std::process::Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm root");
    let tar_dir = std::path::Path::new(String::from_utf8_lossy(&root.stdout).trim()).join("npm/node_modules/tar");
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("name-nul-newline", name_nul_newline()),
        ("linkname-nul-newline", linkname_nul_newline()),
        ("long-name-without-name", gnu_long_name_desync(b"", b"")),
        ("long-name-with-linkname", gnu_long_name_desync(b"././@LongLink", b"x")),
        ("pax-leading-zero", pax_length_leading_zero()),
    ];
    let mut paths = Vec::new();
    for (case, tar) in &cases {
        let p = dir.path().join(format!("{case}.tgz"));
        std::fs::write(&p, gz(tar)).expect("write");
        paths.push(p);
    }
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(NODE_TAR)
        .env("TAR", &tar_dir)
        .args(&paths)
        .output()
        .expect("node");
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = cases.iter().map(|_| "evil-pkg".to_string()).collect();
    assert_eq!(
        names, expected,
        "node-tar no longer reads these constructions as npm did"
    );
}

/// The same header rules hold for a PAX header: no name, or a link name.
#[test]
fn tar_pax_header_without_a_name_is_refused() {
    let records = crate::archives_differential::pax_records(&[("path", "package/package.json")]);
    let mut t = Tar::default();
    t.header(Header::new("", b'x', records.len() as u64))
        .data(&records)
        .file("package/a", GOOD)
        .zero_block()
        .zero_block();
    refused(&t.0, "pax-without-name");
    // The control: the same archive with a named PAX header is read.
    let s = setup();
    let art = s.dir.path().join("good-pkg-1.0.0.tgz");
    let mut ok = Tar::default();
    ok.pax(b'x', &[("path", "package/package.json")])
        .file("package/a", GOOD);
    std::fs::write(&art, ok.tgz()).expect("write");
    let run = s.verify(&art, &[]);
    run.expect(0);
    assert!(run.stdout.contains("pkg:npm/good-pkg@1.0.0"), "{}", run.stdout);
}

// ---------------------------------------------------------------- zip ---

/// One stored zip entry with its own local and central extra fields, and
/// optionally the 32-bit sizes its local header states.
struct RawEntry<'a> {
    name: &'a str,
    data: &'a [u8],
    local_extra: Vec<u8>,
    central_extra: Vec<u8>,
    local_sizes: Option<u32>,
}

impl<'a> RawEntry<'a> {
    fn new(name: &'a str, data: &'a [u8]) -> Self {
        Self {
            name,
            data,
            local_extra: Vec::new(),
            central_extra: Vec::new(),
            local_sizes: None,
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

fn extra_field(id: u16, body: &[u8]) -> Vec<u8> {
    let mut out = id.to_le_bytes().to_vec();
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Info-ZIP's Unicode Path field (0x7075): version 1, the CRC of the header
/// name, then the name readers that honour it use instead.
fn unicode_path(header_name: &str, path: &str) -> Vec<u8> {
    let mut body = vec![1u8];
    body.extend_from_slice(&crc32(header_name.as_bytes()).to_le_bytes());
    body.extend_from_slice(path.as_bytes());
    extra_field(0x7075, &body)
}

fn build_zip(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for e in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let crc = crc32(e.data);
        let size = u32::try_from(e.data.len()).unwrap();
        let local_size = e.local_sizes.unwrap_or(size);
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]); // flags, stored
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&local_size.to_le_bytes());
        out.extend_from_slice(&local_size.to_le_bytes());
        out.extend_from_slice(&u16::try_from(e.name.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&u16::try_from(e.local_extra.len()).unwrap().to_le_bytes());
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.local_extra);
        out.extend_from_slice(e.data);

        cd.extend_from_slice(b"PK\x01\x02");
        cd.extend_from_slice(&45u16.to_le_bytes());
        cd.extend_from_slice(&45u16.to_le_bytes());
        cd.extend_from_slice(&[0u8; 4]);
        cd.extend_from_slice(&[0, 0, 0x21, 0]);
        cd.extend_from_slice(&crc.to_le_bytes());
        cd.extend_from_slice(&size.to_le_bytes());
        cd.extend_from_slice(&size.to_le_bytes());
        cd.extend_from_slice(&u16::try_from(e.name.len()).unwrap().to_le_bytes());
        cd.extend_from_slice(&u16::try_from(e.central_extra.len()).unwrap().to_le_bytes());
        cd.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
        cd.extend_from_slice(&0u32.to_le_bytes());
        cd.extend_from_slice(&offset.to_le_bytes());
        cd.extend_from_slice(e.name.as_bytes());
        cd.extend_from_slice(&e.central_extra);
    }
    let cd_offset = u32::try_from(out.len()).unwrap();
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&u16::try_from(entries.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&u16::try_from(entries.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(cd.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const WHEEL_NAME: &str = "good_pkg-1.0.0-py3-none-any.whl";
const METADATA: &str = "good_pkg-1.0.0.dist-info/METADATA";
const GOOD_METADATA: &[u8] = b"Metadata-Version: 2.1\nName: good_pkg\nVersion: 1.0.0\n";

fn wheel_verdict(bytes: &[u8], case: &str) -> crate::common::Run {
    let s = setup();
    let dir = s.dir.path().join(case);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let art = dir.join(WHEEL_NAME);
    std::fs::write(&art, bytes).expect("write");
    s.verify(&art, &[])
}

#[test]
fn zip_control_wheel_is_read() {
    let bytes = build_zip(&[
        RawEntry::new("good_pkg/__init__.py", b""),
        RawEntry::new(METADATA, GOOD_METADATA),
    ]);
    let run = wheel_verdict(&bytes, "ok");
    run.expect(0);
    assert!(run.stdout.contains("pkg:pypi/good-pkg@1.0.0"), "{}", run.stdout);
}

/// A Unicode Path field renames an entry for the readers that honour it
/// (the `zip` crate, Info-ZIP's unzip, async_zip as uv uses it, in the local
/// header when streaming) and not for the others (Python 3.11's zipfile).
#[test]
fn zip_unicode_path_fields_are_refused() {
    let evil_name = "good_pkg/evil.py";
    for (case, local) in [("central", false), ("local", true)] {
        let mut odd = RawEntry::new("good_pkg/__init__.py", b"import os");
        let field = unicode_path("good_pkg/__init__.py", evil_name);
        if local {
            odd.local_extra = field;
        } else {
            odd.central_extra = field;
        }
        let bytes = build_zip(&[odd, RawEntry::new(METADATA, GOOD_METADATA)]);
        wheel_verdict(&bytes, case).expect(1).reason("archive-ambiguous");
    }
}

/// A local header whose sizes are 0xFFFFFFFF takes them from its zip64
/// field: a streaming extractor reads that many bytes and then looks for the
/// next local header, here a second METADATA inside what the central
/// directory calls the data of `good_pkg/data.bin`.
#[test]
fn zip_local_zip64_sizes_must_agree_with_the_central_directory() {
    let evil_meta = b"Metadata-Version: 2.1\nName: good_pkg\nVersion: 6.6.6\n";
    let hidden = build_zip(&[RawEntry::new(METADATA, evil_meta)]);
    // Only the hidden local entry, without its directory.
    let local_len = 30 + METADATA.len() + evil_meta.len();
    let mut data = vec![b'x'; 16];
    data.extend_from_slice(&hidden[..local_len]);
    let mut zip64 = Vec::new();
    zip64.extend_from_slice(&16u64.to_le_bytes());
    zip64.extend_from_slice(&16u64.to_le_bytes());
    let mut lying = RawEntry::new("good_pkg/data.bin", &data);
    lying.local_sizes = Some(0xffff_ffff);
    lying.local_extra = extra_field(1, &zip64);
    let bytes = build_zip(&[
        RawEntry::new("good_pkg/__init__.py", b""),
        lying,
        RawEntry::new(METADATA, GOOD_METADATA),
    ]);
    wheel_verdict(&bytes, "zip64-local")
        .expect(1)
        .reason("archive-ambiguous");
}

/// Python's email parser (pip, importlib.metadata) also ends a line at a
/// lone CR, so it reads `Name: evil_pkg` and `Version: 6.6.6` first where
/// ward read one `Summary` header and then the good name and version.
#[test]
fn metadata_with_a_lone_carriage_return_is_refused() {
    let meta = b"Metadata-Version: 2.1\nSummary: x\rName: evil_pkg\rVersion: 6.6.6\nName: good_pkg\nVersion: 1.0.0\n";
    let bytes = build_zip(&[
        RawEntry::new("good_pkg/__init__.py", b""),
        RawEntry::new(METADATA, meta),
    ]);
    wheel_verdict(&bytes, "lone-cr").expect(1).reason("metadata-malformed");
}

// ----------------------------------------------------------- evidence ---

/// A keyless identity means something only with its issuer: the same SAN
/// (an email, a URI) can be vouched for by several OIDC issuers Fulcio
/// trusts. cosign refuses to verify without both; ward allowed a named
/// identity from any issuer.
#[test]
fn a_named_identity_without_its_issuer_is_unconstrained() {
    let ctx = crate::common::TestContext::new();
    let npm = crate::common::shared().join("npm-attestations");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(npm.join("provenance-npm-test-ossf.tgz.json")).unwrap()).unwrap();
    let slsa = doc["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["predicateType"]
                .as_str()
                .unwrap()
                .starts_with("https://slsa.dev/provenance/")
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("slsa.sigstore.json");
    std::fs::write(&bare, serde_json::to_vec(&slsa["bundle"]).unwrap()).unwrap();
    let tgz = npm.join("provenance-npm-test-ossf.tgz");
    let signer = r"https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/.*";
    for flag in ["--attestation", "--bundle"] {
        ctx.ward([
            "verify",
            tgz.to_str().unwrap(),
            flag,
            bare.to_str().unwrap(),
            "--certificate-identity-regexp",
            signer,
        ])
        .expect(1)
        .reason("identity-unconstrained");
    }
    // With its issuer, the same identity is trusted.
    ctx.ward([
        "verify",
        tgz.to_str().unwrap(),
        "--attestation",
        bare.to_str().unwrap(),
        "--certificate-identity-regexp",
        signer,
        "--certificate-oidc-issuer",
        crate::common::GITHUB_ISSUER,
    ])
    .expect(0);
}
