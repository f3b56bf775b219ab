#!/usr/bin/env bash
# ward's benchmarks. Prints numbers; asserts nothing.
#   bench/run.sh           full run (1 GiB hashing file, 3 s per throughput run)
#   bench/run.sh --short   quick run for CI (64 MiB file, 1 s)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
short=0; [ "${1:-}" = "--short" ] && short=1
secs=3; mib=1024
[ $short = 1 ] && { secs=1; mib=64; }

cargo build --release -q -p ward-cli
ward="$CARGO_TARGET_DIR/release/ward"
example=examples/sigstore-hello/a.txt
signer=(--certificate-identity-regexp 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\.github/workflows/.*@refs/heads/main'
        --certificate-oidc-issuer https://token.actions.githubusercontent.com)

echo "== one 'ward verify' of a Sigstore bundle, whole process (goal < 10 ms)"
"$ward" verify "$example" "${signer[@]}" >/dev/null
runs=50
start=$(date +%s%N)
for _ in $(seq $runs); do "$ward" verify "$example" "${signer[@]}" >/dev/null; done
end=$(date +%s%N)
awk -v ns=$((end - start)) -v n=$runs 'BEGIN { printf "ward verify (process start included): %.2f ms mean over %d runs\n", ns / n / 1e6, n }'
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs $runs "$ward verify $example ${signer[*]}" 2>/dev/null | grep -E "Time|Range" || true
fi

echo "== bundles verified per second in one process (goal >= 2,000/s on 2 cores)"
cargo bench -q -p ward-verify --bench bundles -- "$secs" 2>/dev/null | grep bundles

echo "== one artifact through the whole gate with provenance and a TOML+Rego policy (goal < 2 ms)"
cargo bench -q -p ward-gate --bench gate -- "$secs" 2>/dev/null | grep gate

echo "== ledger (embedded backend and PostgreSQL; goals: group commit >= 20,000/s embedded and >= 5,000/s PostgreSQL from 64 single appenders; open + one append at 1,000,000 entries within 1.2x of an empty ledger)"
ledger_args=(); [ $short = 1 ] && ledger_args=(--short)
WARD_BENCH_POSTGRES_URL="$(scripts/postgres.sh)"
export WARD_BENCH_POSTGRES_URL
WARD_BENCH_DIR="${TMPDIR:-/tmp}" cargo bench -q -p ward-ledger --bench ledger -- "${ledger_args[@]}" 2>/dev/null | grep -v "^$"

echo "== advisory database and scanning (goals: load < 50 ms, 10,000 components < 100 ms)"
cargo bench -q -p ward-scan --bench scan 2>/dev/null | grep -v "^$"

echo "== registry proxy: cached tarballs vs a static file server, first-install overhead, peak memory on a large artifact"
proxy_args=(); [ $short = 1 ] && proxy_args=(--short)
cargo bench -q -p ward-registry --bench proxy -- "${proxy_args[@]}" 2>/dev/null | grep -v "^$"

echo "== ward scan vs cargo-audit, same Cargo.lock and RustSec database, whole process (goal: >= 10x faster)"
audit_lock=crates/ward-cli/tests/fixtures/audit/Cargo.lock
rustsec=../shared/testdata/advisories/rustsec
scan_dir=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-scan-XXXXXX")
WARD_DATA_DIR="$scan_dir" "$ward" advisories import --db "$scan_dir/db" "$rustsec" >/dev/null
time_runs() { # label runs command...
  local label=$1 n=$2; shift 2
  "$@" >/dev/null 2>&1 || true
  local s e; s=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || true; done
  e=$(date +%s%N)
  awk -v ns=$((e - s)) -v n="$n" -v l="$label" 'BEGIN { printf "%-12s %8.2f ms mean over %d runs\n", l, ns / n / 1e6, n }'
}
export WARD_DATA_DIR="$scan_dir"
time_runs "ward scan" 20 "$ward" scan --db "$scan_dir/db" --fail-on none "$audit_lock"
audit_bin=$(command -v cargo-audit || echo "$HOME/.cargo/bin/cargo-audit")
if [ -x "$audit_bin" ]; then
  time_runs "cargo-audit" 20 "$audit_bin" audit --no-fetch --no-yanked --stale --db "$rustsec" --file "$audit_lock"
else
  echo "cargo-audit not installed (cargo install cargo-audit): no comparison"
fi
unset WARD_DATA_DIR
rm -rf "$scan_dir"

echo "== SHA-256 throughput on a ${mib} MiB file, next to sha256sum"
file=$(mktemp "${TMPDIR:-/tmp}/ward-bench-XXXXXX")
trap 'rm -f "$file"' EXIT
head -c $((mib << 20)) /dev/urandom > "$file"
cargo bench -q -p ward-identify --bench hashing -- "$file" 2>/dev/null | grep ward
best=999999
for _ in 1 2 3; do
  s=$(date +%s%N); sha256sum "$file" >/dev/null; e=$(date +%s%N)
  t=$(( (e - s) / 1000000 )); [ $t -lt $best ] && best=$t
done
awk -v ms=$best -v mib=$mib 'BEGIN { printf "sha256sum (SHA-256 only):        %.2f s for %d MiB = %.0f MiB/s (best of 3)\n", ms / 1000, mib, mib / (ms / 1000) }'
