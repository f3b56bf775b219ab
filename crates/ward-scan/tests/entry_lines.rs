//! Each component read from a TOML lockfile or a requirements file knows
//! the line of its entry, so SARIF output can point at it; a lockfile
//! whose `[[package]]` entries cannot be matched to header lines gets no
//! lines rather than wrong ones.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ward_scan::target::read;

fn lines_of(name: &str, text: &str) -> Vec<(String, Option<usize>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let (components, _) = read(&path).unwrap();
    components.iter().map(|c| (c.id.to_purl(), c.line)).collect()
}

#[test]
fn cargo_lock_entries_carry_the_line_of_their_package_header() {
    let text = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"libc\"\nversion = \"0.2.150\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    assert_eq!(
        lines_of("Cargo.lock", text),
        vec![
            ("pkg:cargo/smallvec@1.6.0".to_string(), Some(7)),
            ("pkg:cargo/libc@0.2.150".to_string(), Some(12)),
        ]
    );
}

#[test]
fn an_inline_package_array_gets_no_lines() {
    let text = "version = 4\npackage = [\n  { name = \"smallvec\", version = \"1.6.0\", source = \"registry+https://github.com/rust-lang/crates.io-index\" },\n]\n";
    assert_eq!(
        lines_of("Cargo.lock", text),
        vec![("pkg:cargo/smallvec@1.6.0".to_string(), None)]
    );
}

#[test]
fn requirements_carry_the_line_each_requirement_starts_on() {
    let text = "# pinned\nrequests==2.31.0\n\nurllib3==1.26.0 \\\n    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\nidna==3.4\n";
    assert_eq!(
        lines_of("requirements.txt", text),
        vec![
            ("pkg:pypi/requests@2.31.0".to_string(), Some(2)),
            ("pkg:pypi/urllib3@1.26.0".to_string(), Some(4)),
            ("pkg:pypi/idna@3.4".to_string(), Some(6)),
        ]
    );
}
