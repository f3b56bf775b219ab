#!/usr/bin/env bash
# ward audit benchmark: a synthetic Python site directory of 200
# distributions and a node_modules of 1,000 packages (generated here, offline:
# real wheels and tarballs, laid out as pip and npm install them), each allowed
# through `ward verify` into a ledger and kept in a proxy cache, audited by
# `ward audit`, next to `sha256sum` over the same files and to `pip check` /
# `npm ls` on the same trees. Prints numbers; asserts nothing.
#   bench/audit.sh [WARD_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
ward="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}/release/ward}"
# WARD_BENCH_AUDIT_DIR=DIR keeps the trees, ledger and cache there (an empty
# or new directory) for timing by other means afterwards.
if [ -n "${WARD_BENCH_AUDIT_DIR:-}" ]; then
  work="$WARD_BENCH_AUDIT_DIR"; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-audit-XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
python3 - "$work" <<'PY'
# Wheels and npm tarballs are built as real archives, then "installed" the way
# pip and npm lay them out (pip's RECORD with INSTALLER added, npm's hidden
# lockfile with each tarball's sha512 integrity).
import base64, hashlib, io, json, os, random, sys, tarfile, zipfile
root = sys.argv[1]; rnd = random.Random(14)
def body(n): return bytes(rnd.getrandbits(8) for _ in range(n // 4)) * 4
def rec(data): return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
os.makedirs(os.path.join(root, "artifacts"))
site = os.path.join(root, "venv/lib/python3.11/site-packages"); os.makedirs(site)
open(os.path.join(root, "venv/pyvenv.cfg"), "w").write("home = /usr/bin\n")
for d in range(200):
    name, ver = f"pkg{d:03d}", f"1.{d}.0"
    dist = f"{name}-{ver}.dist-info"
    files = [(f"{name}/__init__.py", body(800))]
    files += [(f"{name}/{'sub/' if i % 3 == 0 else ''}m{i}.py", body(rnd.choice([900, 3000, 8000, 20000, 60000]))) for i in range(24)]
    files += [(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n\n".encode()),
              (f"{dist}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")]
    rows = [f"{p},{rec(b)},{len(b)}" for p, b in files]
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in files: z.writestr(p, b)
        z.writestr(f"{dist}/RECORD", "\n".join(rows + [f"{dist}/RECORD,,"]) + "\n")
    open(os.path.join(root, "artifacts", f"{name}-{ver}-py3-none-any.whl"), "wb").write(wheel.getvalue())
    files.append((f"{dist}/INSTALLER", b"pip\n"))
    for p, b in files:
        os.makedirs(os.path.dirname(os.path.join(site, p)), exist_ok=True)
        open(os.path.join(site, p), "wb").write(b)
    rows = [f"{p},{rec(b)},{len(b)}" for p, b in files] + [f"{dist}/RECORD,,"]
    open(os.path.join(site, dist, "RECORD"), "w").write("\n".join(rows) + "\n")
nm = os.path.join(root, "project/node_modules"); os.makedirs(nm)
lock = {"name": "project", "lockfileVersion": 3, "packages": {"": {"name": "project"}}}
for d in range(1000):
    name, ver = f"npm-pkg-{d:04d}", f"2.{d % 50}.{d}"
    files = [("package.json", json.dumps({"name": name, "version": ver}).encode())]
    files += [(("lib/" if i % 2 else "") + f"f{i}.js", body(rnd.choice([500, 2000, 6000, 15000]))) for i in range(9)]
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        for p, b in files:
            info = tarfile.TarInfo("package/" + p); info.size = len(b); t.addfile(info, io.BytesIO(b))
    data = tgz.getvalue()
    open(os.path.join(root, "artifacts", f"{name}-{ver}.tgz"), "wb").write(data)
    for p, b in files:
        os.makedirs(os.path.dirname(os.path.join(nm, name, p)), exist_ok=True)
        open(os.path.join(nm, name, p), "wb").write(b)
    lock["packages"][f"node_modules/{name}"] = {"version": ver, "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()}
json.dump(lock, open(os.path.join(nm, ".package-lock.json"), "w"))
PY
# Each artifact is decided by `ward verify` (a policy in audit mode allows the
# unsigned test artifacts and records the allow in the ledger) and kept in the
# proxy cache's layout, as the proxy keeps what it allowed.
export WARD_DATA_DIR="$work/data"
printf 'version = 1\n[defaults]\nmode = "audit"\n' > "$work/audit-mode.toml"
mkdir -p "$WARD_DATA_DIR/proxy-cache/blobs"
for a in "$work"/artifacts/*; do
  "$ward" verify "$a" --policy "$work/audit-mode.toml" >/dev/null 2>&1 || true
  cp "$a" "$WARD_DATA_DIR/proxy-cache/blobs/$(sha256sum "$a" | cut -c1-64)"
done
venv="$work/venv"; project="$work/project"
files=$(find "$venv" "$project/node_modules" -type f | wc -l)
bytes=$(find "$venv" "$project/node_modules" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "trees: Python site of 200 distributions and node_modules of 1,000 packages (synthetic), $files files, $bytes bytes"
echo "every package allowed in the ledger, its artifact in the proxy cache: each installed file is hashed and each allowed archive decompressed and hashed"
runs=5
py_files=$(find "$venv" -type f | wc -l)
for i in $(seq $runs); do
  /usr/bin/time -f "ward audit (Python site, 200 dists): %e s wall, %M KiB peak" "$ward" audit "$venv" --format json >/dev/null 2>>"$work/t.audit" || true
  /usr/bin/time -f "sha256sum over the same $py_files files: %e s wall, %M KiB peak" sh -c "find '$venv' -type f -print0 | xargs -0 sha256sum >/dev/null" 2>>"$work/t.sha" || true
  /usr/bin/time -f "ward audit (Python + node_modules of 1,000): %e s wall, %M KiB peak" "$ward" audit "$venv" "$project" --format json >/dev/null 2>>"$work/t.both" || true
  /usr/bin/time -f "sha256sum over the same $files files: %e s wall, %M KiB peak" sh -c "find '$venv' '$project/node_modules' -type f -print0 | xargs -0 sha256sum >/dev/null" 2>>"$work/t.shaboth" || true
done
for f in audit sha both shaboth; do grep " s wall" "$work/t.$f" | sort -t: -k2 -n | sed -n "$(( (runs + 1) / 2 ))p"; done
"$ward" audit "$venv" "$project" --format json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); s=d['stats']; print(f\"ward audit: verdict {d['verdict']}, {s['packages']} packages, {s['files']} files checked, {s['hashed_files']} installed files hashed ({s['hashed_bytes']} bytes); each allowed archive is also unpacked and its entries hashed\")" || true
python3 - "$work" "$py_files" "$files" <<'PY'
import re, sys
def median(path):
    xs = sorted(float(re.search(r": ([0-9.]+) s", l).group(1)) for l in open(path) if " s wall" in l)
    return xs[len(xs) // 2]
w, pyf, allf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a, s = median(w + "/t.audit"), median(w + "/t.sha")
b, t = median(w + "/t.both"), median(w + "/t.shaboth")
print(f"installed files hashed per second: ward audit {pyf / a:,.0f} vs sha256sum {pyf / s:,.0f} on the Python site ({s / a * 100:.0f}%), {allf / b:,.0f} vs {allf / t:,.0f} on both trees ({t / b * 100:.0f}%) (goal >= 80%)")
PY
if python3 -m pip --version >/dev/null 2>&1; then
  /usr/bin/time -f "pip check with the site on PYTHONPATH (reads METADATA only, plus the interpreter's own site): %e s wall, %M KiB peak" env PYTHONPATH="$venv/lib/python3.11/site-packages" python3 -m pip check >/dev/null 2>"$work/t.pip" || true
  grep " s wall" "$work/t.pip"
fi
if command -v npm >/dev/null; then
  ( cd "$project" && /usr/bin/time -f "npm ls on the same node_modules (reads package.json only): %e s wall, %M KiB peak" npm ls --all >/dev/null 2>"$work/t.npm" ) || true
  grep " s wall" "$work/t.npm"
fi
