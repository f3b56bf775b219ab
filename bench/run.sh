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

# Each section says how long the one before it took, so the slow ones are
# easy to find when CI time needs cutting.
section_start=$SECONDS
section() {
  [ -n "${section_name:-}" ] && echo "   ($section_name: $((SECONDS - section_start)) s)"
  section_start=$SECONDS; section_name=${1%% (*}; section_name=${section_name%%,*}
  echo "== $1"
}

cargo build --release -q -p ward-cli
ward="$CARGO_TARGET_DIR/release/ward"
example=examples/sigstore-hello/a.txt
signer=(--certificate-identity-regexp 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\.github/workflows/.*@refs/heads/main'
        --certificate-oidc-issuer https://token.actions.githubusercontent.com)

section "one 'ward verify' of a Sigstore bundle, whole process (goal < 10 ms)"
"$ward" verify "$example" "${signer[@]}" >/dev/null
runs=50
start=$(date +%s%N)
for _ in $(seq $runs); do "$ward" verify "$example" "${signer[@]}" >/dev/null; done
end=$(date +%s%N)
awk -v ns=$((end - start)) -v n=$runs 'BEGIN { printf "ward verify (process start included): %.2f ms mean over %d runs\n", ns / n / 1e6, n }'
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs $runs "$ward verify $example ${signer[*]}" 2>/dev/null | grep -E "Time|Range" || true
fi

section "bundles verified per second in one process (goal >= 2,000/s on 2 cores)"
cargo bench -q -p ward-verify --bench bundles -- "$secs" 2>/dev/null | grep bundles

section "one artifact through the whole gate with provenance and a TOML+Rego policy (goal < 2 ms)"
cargo bench -q -p ward-gate --bench gate -- "$secs" 2>/dev/null | grep gate

section "risky-change rules over the gate per artifact (goal: < 0.2 ms added)"
cargo bench -q -p ward-gate --bench risky -- "$secs" 2>/dev/null | grep risky

section "cooldown and history rules over the gate per artifact, ledger of 10,000 decisions (goal: < 0.2 ms added; history lookups indexed)"
cargo bench -q -p ward-gate --bench release -- "$secs" 2>/dev/null | grep "cooldown + history"

section "ledger (embedded backend and PostgreSQL; goals: group commit >= 20,000/s embedded and >= 5,000/s PostgreSQL from 64 single appenders; open + one append at 1,000,000 entries within 1.2x of an empty ledger)"
ledger_args=(); [ $short = 1 ] && ledger_args=(--short)
WARD_BENCH_POSTGRES_URL="$(scripts/postgres.sh)"
export WARD_BENCH_POSTGRES_URL
# Ledgers of 10,000 and 1,000,000 decision records are built once (in bulk)
# and kept here; the open-cost runs below reuse them.
bench_cache="${XDG_CACHE_HOME:-$HOME/.cache}/ward-bench"
mkdir -p "$bench_cache"
WARD_BENCH_DIR="${TMPDIR:-/tmp}" cargo bench -q -p ward-ledger --bench ledger -- "${ledger_args[@]}" --cache "$bench_cache" 2>/dev/null | grep -v "^$"

section "group commit through 'ward ledger serve' over HTTP: 1, 8 and 64 keep-alive clients appending one entry each (goal: >= 3,000 acknowledged appends/s with 64)"
cargo bench -q -p ward-cli --bench serve -- "${ledger_args[@]}" --ward "$ward" 2>/dev/null | grep -v "^$"

section "ledger open cost, whole process: one 'ward verify' and 'ward proxy' start against a ledger of 0, 10,000 and 1,000,000 entries (goals: verify within 1.2x of the empty ledger, proxy start < 100 ms at 1,000,000)"
open_sizes=(0 10000 1000000); [ $short = 1 ] && open_sizes=(0 10000)
open_data=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-open-XXXXXX")
open_ledger() { # size -> the ledger directory
  if [ "$1" = 0 ]; then echo "$open_data/empty-ledger"; else echo "$bench_cache/ledger-$1"; fi
}
for n in "${open_sizes[@]}"; do
  [ "$n" = 0 ] && continue
  cargo bench -q -p ward-ledger --bench ledger -- --build "$(open_ledger "$n")" "$n" 2>/dev/null | grep -v "^$" || true
done
verify_block() { # ledger runs -> nanoseconds for that many runs
  local s e; s=$(date +%s%N)
  for _ in $(seq "$2"); do
    WARD_DATA_DIR="$open_data" "$ward" verify "$example" "${signer[@]}" --ledger "$1" >/dev/null
  done
  e=$(date +%s%N); echo $((e - s))
}
rounds=6; per=10; [ $short = 1 ] && { rounds=3; per=5; }
declare -A verify_ns
for n in "${open_sizes[@]}"; do
  verify_block "$(open_ledger "$n")" 2 >/dev/null  # warm the page cache; creates the empty ledger
  verify_ns[$n]=0
done
# Interleaved blocks, so that a burst of load on the machine hits every size alike.
for _ in $(seq $rounds); do
  for n in "${open_sizes[@]}"; do
    verify_ns[$n]=$(( ${verify_ns[$n]} + $(verify_block "$(open_ledger "$n")" $per) ))
  done
done
for n in "${open_sizes[@]}"; do
  awk -v n="$n" -v ns="${verify_ns[$n]}" -v e="${verify_ns[0]}" -v runs=$((rounds * per)) \
    'BEGIN { printf "ward verify --ledger (%7d entries): %6.2f ms mean over %d runs = %.2fx the empty ledger\n", n, ns / runs / 1e6, runs, ns / e }'
done
proxy_start() { # ledger -> milliseconds from exec to the "listening" line
  local s e line
  s=$(date +%s%N)
  coproc PROXY { WARD_DATA_DIR="$open_data" exec "$ward" proxy --listen 127.0.0.1:0 --ledger "$1" --cache "$open_data/cache" 2>/dev/null; }
  read -r line <&"${PROXY[0]}"
  e=$(date +%s%N)
  kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true
  case "$line" in "ward proxy listening on"*) ;; *) echo "proxy did not start: $line" >&2; return 1 ;; esac
  echo $(( (e - s) / 1000 ))
}
for n in "${open_sizes[@]}"; do
  starts=()
  proxy_start "$(open_ledger "$n")" >/dev/null
  for _ in $(seq 11); do starts+=("$(proxy_start "$(open_ledger "$n")")"); done
  printf '%s\n' "${starts[@]}" | sort -n | awk -v n="$n" '{ v[NR] = $1 } END { printf "ward proxy start (%7d entries): median %.1f ms, best %.1f ms over %d starts\n", n, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, NR }'
done
rm -rf "$open_data"

section "advisory database and scanning (goals: load < 50 ms, 10,000 components < 100 ms)"
cargo bench -q -p ward-scan --bench scan 2>/dev/null | grep -v "^$"

section "registry proxy: cached tarballs vs a static file server, first-install overhead, peak memory on a large artifact, 64 concurrent first installs vs one alone (goal: p99 within 2x)"
proxy_args=(); [ $short = 1 ] && proxy_args=(--short)
cargo bench -q -p ward-registry --bench proxy -- "${proxy_args[@]}" 2>/dev/null | grep -v "^$"

section "ward audit against cached artifacts: a 32 MiB wheel (read once into memory) and a 32 MiB .crate (one pass)"
cargo bench -q -p ward-audit --bench artifacts 2>/dev/null | grep -v "^$"

section "ticket owners: 10,000 findings against [owners] and CODEOWNERS (patterns compiled once a run)"
cargo bench -q -p ward-alert --bench owners 2>/dev/null | grep -v "^$"

section "registry proxy: a crates.io index file of 5,000 versions under a cooldown, served and a download located in it (each line parsed once)"
cargo bench -q -p ward-registry --bench cargo_index -- "${proxy_args[@]}" 2>/dev/null | grep -v "^$"

# Real clients through `ward run` against a loopback upstream with 50 ms per
# request, 80 packages each (long mode only: a few minutes).
if [ $short = 0 ] && command -v python3 >/dev/null; then
  python3 bench/install_latency.py "$ward" --packages 80 --latency-ms 50 --runs 3
fi

section "ward scan vs cargo-audit, same Cargo.lock and RustSec database, whole process (goal: >= 10x faster)"
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

section "ward audit of a 200-distribution Python site and a 1,000-package node_modules (synthetic, allowed through ward verify), next to sha256sum, pip check and npm ls (goal: hashing >= 80% of sha256sum)"
bench/audit.sh "$ward"

section "SHA-256 throughput on a ${mib} MiB file, next to sha256sum"
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
[ -n "${section_name:-}" ] && echo "   ($section_name: $((SECONDS - section_start)) s)"
echo "== benchmarks took $SECONDS s"
