//! Reading scan targets as the installers read them: every package npm or
//! pip would install is either scanned under the name it is installed as,
//! or reported as "could not evaluate" naming the key or line, never
//! dropped. Files are read bounded; FIFOs and devices are refused at once.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use ward_core::{Component, Unpinned};
use ward_scan::target::read;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn purls(components: &[Component]) -> Vec<String> {
    let mut v: Vec<String> = components.iter().map(|c| c.id.to_purl()).collect();
    v.sort();
    v
}

fn lock(packages: serde_json::Value) -> String {
    serde_json::json!({"name": "app", "lockfileVersion": 3, "packages": packages}).to_string()
}

fn read_lock(packages: serde_json::Value) -> (Vec<Component>, Vec<Unpinned>) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "package-lock.json", &lock(packages));
    read(&p).unwrap()
}

#[test]
fn package_lock_keys_are_normalised_as_arborist_does() {
    for key in [
        "node_modules/victim/",
        "node_modules/@scope/../victim",
        "node_modules/./victim",
        "node_modules//victim",
        "x/../node_modules/victim",
    ] {
        let (c, u) = read_lock(serde_json::json!({
            "": {"name": "app"},
            key: {"version": "1.0.0", "resolved": "https://registry.npmjs.org/victim/-/victim-1.0.0.tgz"},
        }));
        assert_eq!(purls(&c), ["pkg:npm/victim@1.0.0"], "{key}: {u:?}");
        assert!(u.is_empty(), "{key}: {u:?}");
    }
    // Scoped packages keep their scope; nested ones take the name after the last node_modules.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/@scope/./pkg/": {"version": "2.0.0"},
        "node_modules/a/node_modules/b/../victim": {"version": "3.0.0"},
    }));
    assert_eq!(
        purls(&c),
        ["pkg:npm/%40scope/pkg@2.0.0", "pkg:npm/victim@3.0.0"],
        "{u:?}"
    );
}

#[test]
fn package_lock_keys_that_escape_the_project_or_name_no_package_are_unevaluable() {
    for key in [
        "node_modules/../../victim",
        "/node_modules/victim",
        "node_modules/a/b/c",
        "node_modules/a/node_modules",
        "node_modules\\victim",
    ] {
        let (c, u) = read_lock(serde_json::json!({key: {"version": "1.0.0"}}));
        assert!(c.is_empty(), "{key}: {c:?}");
        assert_eq!(u.len(), 1, "{key}: {u:?}");
        assert_eq!(u[0].entry, key);
    }
}

#[test]
fn two_keys_for_one_location_are_unevaluable() {
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/victim": {"version": "9.9.9"},
        "node_modules/./victim": {"version": "1.0.0"},
    }));
    // Both are scanned, and the conflict is reported.
    assert_eq!(purls(&c), ["pkg:npm/victim@1.0.0", "pkg:npm/victim@9.9.9"]);
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].reason.contains("node_modules/victim"), "{u:?}");
}

#[test]
fn package_lock_name_field_is_the_package_and_must_agree_with_resolved() {
    // An npm alias: installed at node_modules/alias, fetched as real-pkg.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/alias": {"name": "real-pkg", "version": "1.0.0",
            "resolved": "https://registry.npmjs.org/real-pkg/-/real-pkg-1.0.0.tgz"},
        "node_modules/@s/x": {"version": "1.0.0",
            "resolved": "https://npm.example.com/api/npm/@s/x/-/x-1.0.0.tgz"},
    }));
    assert_eq!(purls(&c), ["pkg:npm/%40s/x@1.0.0", "pkg:npm/real-pkg@1.0.0"], "{u:?}");
    assert!(u.is_empty(), "{u:?}");
    // A name that disagrees with the tarball fetched.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/victim": {"name": "benign", "version": "1.0.0",
            "resolved": "https://registry.npmjs.org/victim/-/victim-1.0.0.tgz"},
    }));
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].reason.contains("victim"), "{u:?}");
    // A version that disagrees with the tarball fetched.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/victim": {"version": "9.9.9",
            "resolved": "https://registry.npmjs.org/victim/-/victim-1.0.0.tgz"},
    }));
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].reason.contains("9.9.9"), "{u:?}");
    // Installed from git: not a registry release.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/victim": {"version": "1.0.0",
            "resolved": "git+ssh://git@github.com/acme/victim.git#0123456789abcdef0123456789abcdef01234567"},
    }));
    assert!(c.is_empty(), "{c:?}");
    assert!(u[0].reason.contains("git repository"), "{u:?}");
    // A name npm would not accept.
    let (c, u) = read_lock(serde_json::json!({
        "node_modules/x": {"name": "../../etc", "version": "1.0.0"},
    }));
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), 1, "{u:?}");
}

#[test]
fn package_lock_folders_outside_node_modules_are_local_unless_fetched() {
    let (c, u) = read_lock(serde_json::json!({
        "packages/mine": {"name": "mine", "version": "1.0.0"},
        "node_modules/mine": {"link": true, "resolved": "packages/mine"},
        "vendor/victim": {"version": "1.0.0",
            "resolved": "https://registry.npmjs.org/victim/-/victim-1.0.0.tgz"},
    }));
    assert_eq!(purls(&c), ["pkg:npm/victim@1.0.0"], "{u:?}");
    assert!(u.is_empty(), "{u:?}");
}

#[test]
fn npm_shrinkwrap_is_read_like_package_lock() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "npm-shrinkwrap.json",
        &lock(serde_json::json!({"node_modules/victim": {"version": "1.0.0"}})),
    );
    let (c, _) = read(&p).unwrap();
    assert_eq!(purls(&c), ["pkg:npm/victim@1.0.0"]);
}

#[test]
fn requirements_includes_are_followed_inside_the_project() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.txt", "victim==1.0.0\n-r nested/more.txt\n");
    write(
        dir.path(),
        "nested/more.txt",
        "other==2.0.0\n--requirement ../common.txt\n",
    );
    write(dir.path(), "common.txt", "third==3.0.0\n");
    let top = write(
        dir.path(),
        "requirements.txt",
        "-r base.txt\n--requirement=common.txt\n-rbase.txt\n",
    );
    let (c, u) = read(&top).unwrap();
    assert_eq!(
        purls(&c),
        ["pkg:pypi/other@2.0.0", "pkg:pypi/third@3.0.0", "pkg:pypi/victim@1.0.0"],
        "{u:?}"
    );
    assert!(u.is_empty(), "{u:?}");
}

#[test]
fn requirements_includes_outside_the_project_missing_or_cyclic_are_unevaluable() {
    let outer = tempfile::tempdir().unwrap();
    write(outer.path(), "outside.txt", "victim==1.0.0\n");
    let dir = outer.path().join("project");
    write(&dir, "a.txt", "-r b.txt\n");
    write(&dir, "b.txt", "-r a.txt\n");
    let top = write(
        &dir,
        "requirements.txt",
        &format!(
            "-r ../outside.txt\n-r {}\n-r missing.txt\n-r a.txt\n-r https://example.com/r.txt\n",
            outer.path().join("outside.txt").display()
        ),
    );
    let (c, u) = read(&top).unwrap();
    assert!(c.is_empty(), "{c:?}");
    let reasons: Vec<String> = u.iter().map(|u| format!("{}: {}", u.entry, u.reason)).collect();
    assert_eq!(u.len(), 5, "{reasons:#?}");
    assert!(reasons[0].contains("outside the project"), "{reasons:#?}");
    assert!(reasons[1].contains("outside the project"), "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("includes itself")), "{reasons:#?}");
    // Each names the file and line.
    assert!(
        u[2].source.ends_with("requirements.txt") && u[2].reason.starts_with("line 3: "),
        "{u:?}"
    );
}

#[test]
fn requirements_includes_are_bounded_in_depth() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        write(dir.path(), &format!("r{i}.txt"), &format!("-r r{}.txt\n", i + 1));
    }
    write(dir.path(), "r20.txt", "victim==1.0.0\n");
    let top = write(dir.path(), "requirements.txt", "-r r0.txt\n");
    let (c, u) = read(&top).unwrap();
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].reason.contains("deeper"), "{u:?}");
}

#[test]
fn requirements_lines_pip_installs_from_elsewhere_are_unevaluable() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        "-e git+https://github.com/acme/victim#egg=victim",
        "--editable ./local",
        "victim @ https://example.com/victim-1.0.0.tar.gz",
        "https://example.com/victim-1.0.0-py3-none-any.whl",
        "./vendor/victim-1.0.0.tar.gz",
        "git+https://github.com/acme/victim@v1#egg=victim",
        "--some-new-option value",
        "victim==${VERSION}",
    ];
    let top = write(dir.path(), "requirements.txt", &(lines.join("\n") + "\n"));
    let (c, u) = read(&top).unwrap();
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), lines.len(), "{u:#?}");
    for (i, u) in u.iter().enumerate() {
        assert!(u.source.ends_with("requirements.txt"), "{u:?}");
        assert!(u.reason.starts_with(&format!("line {}: ", i + 1)), "{u:?}");
    }
}

#[test]
fn requirements_continuations_hashes_comments_and_harmless_options() {
    let dir = tempfile::tempdir().unwrap();
    let top = write(
        dir.path(),
        "requirements.txt",
        "--require-hashes\n--prefer-binary --no-index\n-c constraints.txt\n\
         --index-url https://mirror.example.com/simple\n-i https://mirror.example.com/simple\n\
         --extra-index-url https://mirror.example.com/extra\n--find-links ./wheels\n-f https://example.com/wheels\n\
         victim==1.0.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n\
         other[extra]==2.0.0\t# comment\n# only a comment\nthird == 3.0.0 ; python_version >= \"3\"\n",
    );
    let (c, u) = read(&top).unwrap();
    assert_eq!(
        purls(&c),
        ["pkg:pypi/other@2.0.0", "pkg:pypi/third@3.0.0", "pkg:pypi/victim@1.0.0"],
        "{u:?}"
    );
    assert!(u.is_empty(), "{u:?}");
}

#[test]
fn unparsable_purls_in_sboms_are_unevaluable_never_clean() {
    let dir = tempfile::tempdir().unwrap();
    for purl in [
        "pkg:npm/%ZZ%@@@1",
        "pkg:npm/victim@",
        "pkg:npm/@@1.0.0",
        "pkg:npm/vic%20tim@1.0.0",
        "pkg:pypi/vic/tim@1.0.0",
    ] {
        let cdx = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [{"type": "library", "name": "x", "version": "1", "purl": purl}],
        });
        let p = write(dir.path(), "bom.json", &cdx.to_string());
        let (c, u) = read(&p).unwrap();
        assert!(c.is_empty(), "{purl}: {c:?}");
        assert_eq!(u.len(), 1, "{purl}: {u:?}");
        let spdx = serde_json::json!({
            "spdxVersion": "SPDX-2.3",
            "packages": [{"name": "x", "versionInfo": "1", "externalRefs": [
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]}],
        });
        let p = write(dir.path(), "spdx.json", &spdx.to_string());
        let (c, u) = read(&p).unwrap();
        assert!(c.is_empty(), "{purl}: {c:?}");
        assert_eq!(u.len(), 1, "{purl}: {u:?}");
    }
    // A well-formed one is read.
    let cdx = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"type": "library", "name": "x", "version": "1", "purl": "pkg:npm/%40s/x@1.0.0"}],
    });
    let p = write(dir.path(), "bom.json", &cdx.to_string());
    assert_eq!(purls(&read(&p).unwrap().0), ["pkg:npm/%40s/x@1.0.0"]);
}

#[test]
fn fifos_and_devices_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["package-lock.json", "requirements.txt", "bom.json", "something.tgz"] {
        let p = dir.path().join(name);
        assert!(std::process::Command::new("mkfifo").arg(&p).status().unwrap().success());
        let err = read(&p).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{name}: {err}");
    }
    let err = read(Path::new("/dev/zero")).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    // Included from a requirements file: reported, not followed.
    write(dir.path(), "sub/requirements.txt", "-r pipe.txt\n");
    let pipe = dir.path().join("sub/pipe.txt");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap()
            .success()
    );
    let (c, u) = read(&dir.path().join("sub/requirements.txt")).unwrap();
    assert!(c.is_empty());
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].reason.contains("FIFO"), "{u:?}");
}

#[test]
fn package_lock_v1_trees_are_migrated_as_arborist_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "package-lock.json",
        &serde_json::json!({"lockfileVersion": 1, "dependencies": {
            "victim": {"version": "1.0.0", "dependencies": {"inner": {"version": "2.0.0"}}},
            "alias": {"version": "npm:@s/real@3.0.0"},
            "./x/../other": {"version": "4.0.0"},
            "fromgit": {"version": "github:acme/victim#abc"},
            "escape/../../../x": {"version": "1.0.0"},
        }})
        .to_string(),
    );
    let (c, u) = read(&p).unwrap();
    assert_eq!(
        purls(&c),
        [
            "pkg:npm/%40s/real@3.0.0",
            "pkg:npm/inner@2.0.0",
            "pkg:npm/other@4.0.0",
            "pkg:npm/victim@1.0.0"
        ],
        "{u:?}"
    );
    let mut entries: Vec<&str> = u.iter().map(|u| u.entry.as_str()).collect();
    entries.sort();
    assert_eq!(
        entries,
        ["node_modules/escape/../../../x", "node_modules/fromgit"],
        "{u:?}"
    );
    // Neither a map nor a tree: refused.
    let p = write(dir.path(), "package-lock.json", r#"{"lockfileVersion":1}"#);
    assert!(read(&p).is_err());
    // `packages` present: the v1 tree is ignored, as npm ignores it.
    let p = write(
        dir.path(),
        "package-lock.json",
        r#"{"lockfileVersion":2,"packages":{},"dependencies":{"victim":{"version":"1.0.0"}}}"#,
    );
    assert!(read(&p).unwrap().0.is_empty());
}

#[test]
fn short_option_values_are_taken_as_pip_takes_them() {
    // optparse reads `-r=x.txt` as the file `=x.txt`, not `x.txt`.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "=x.txt", "victim==1.0.0\n");
    write(dir.path(), "x.txt", "benign==1.0.0\n");
    let top = write(dir.path(), "requirements.txt", "-r=x.txt\n");
    let (c, u) = read(&top).unwrap();
    assert_eq!(purls(&c), ["pkg:pypi/victim@1.0.0"], "{u:?}");
}

#[test]
fn cargo_git_dependencies_are_unevaluable_and_path_dependencies_local() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"victim\"\nversion = \"1.0.0\"\nsource = \"git+https://github.com/acme/victim#0123abcd\"\n\n[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n",
    );
    let (c, u) = read(&p).unwrap();
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].entry, "victim@1.0.0");
}

#[test]
fn sbom_lists_of_the_wrong_shape_are_malformed_and_every_spdx_purl_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    for doc in [
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": {"victim": {"type": "library", "purl": "pkg:npm/victim@1.0.0"}}}),
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [{"type": "library", "name": "a", "purl": "pkg:npm/a@1.0.0", "components": {"x": 1}}]}),
        serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": {"victim": {}}}),
        serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "x", "externalRefs": {"a": 1}}]}),
    ] {
        let p = write(dir.path(), "bom.json", &doc.to_string());
        assert!(read(&p).is_err(), "{doc}");
    }
    let spdx = serde_json::json!({
        "spdxVersion": "SPDX-2.3",
        "packages": [{"name": "x", "versionInfo": "1", "externalRefs": [
            {"referenceType": "purl", "referenceLocator": "pkg:npm/benign@1.0.0"},
            {"referenceType": "purl", "referenceLocator": "pkg:npm/victim@1.0.0"}]}],
    });
    let p = write(dir.path(), "spdx.json", &spdx.to_string());
    assert_eq!(
        purls(&read(&p).unwrap().0),
        ["pkg:npm/benign@1.0.0", "pkg:npm/victim@1.0.0"]
    );
}

#[test]
fn uv_and_poetry_sources_and_files_are_what_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let uv = write(
        dir.path(),
        "uv.lock",
        r#"version = 1

[[package]]
name = "app"
source = { editable = "." }

[[package]]
name = "good"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/good-1.0.0.tar.gz", hash = "sha256:00" }
wheels = [{ url = "https://files.example/good-1.0-py3-none-any.whl", hash = "sha256:00" }]

[[package]]
name = "benign"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/victim-1.0.0-py3-none-any.whl", hash = "sha256:00" }]

[[package]]
name = "fromgit"
version = "1.0.0"
source = { git = "https://github.com/acme/victim?rev=abc#abc" }
"#,
    );
    let (c, u) = read(&uv).unwrap();
    assert_eq!(purls(&c), ["pkg:pypi/good@1.0.0"], "{u:?}");
    let entries: Vec<&str> = u.iter().map(|u| u.entry.as_str()).collect();
    assert_eq!(entries, ["benign@1.0.0", "fromgit@1.0.0"], "{u:?}");
    let poetry = write(
        dir.path(),
        "poetry.lock",
        r#"[[package]]
name = "good"
version = "1.0.0"

[[package]]
name = "victim"
version = "1.0.0"
[package.source]
type = "url"
url = "https://example.com/victim-1.0.0.tar.gz"

[[package]]
name = "mine"
version = "0.1.0"
[package.source]
type = "directory"
url = "mine"
"#,
    );
    let (c, u) = read(&poetry).unwrap();
    assert_eq!(purls(&c), ["pkg:pypi/good@1.0.0"], "{u:?}");
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].entry, "victim@1.0.0");
}
