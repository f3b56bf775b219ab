#!/usr/bin/env bash
# Coverage-guided fuzzing of ward's parsers with AFL++ (cargo-afl), on
# stable Rust.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the harness in fuzz/ (one binary per target in crates/ward-fuzz),
# runs each TARGET (default: all) for SECONDS (default 600) seeded with
# crates/ward-fuzz/corpus/TARGET and regressions/TARGET, prints executions
# per second, coverage and findings per target, and copies every crash into
# crates/ward-fuzz/regressions/TARGET/, where `cargo test -p ward-fuzz`
# replays it. Targets run one after another.
#
# Environment:
#   WARD_FUZZ_OUT      AFL output directory (default ${TMPDIR:-/tmp}/ward-fuzz-out)
#   WARD_FUZZ_MERGE=1  after each run, add the inputs that found new coverage
#                      (< 50 KB, smallest first, at most WARD_FUZZ_MERGE_MAX=30)
#                      to corpus/TARGET
#   WARD_FUZZ_NICE     nice level for the fuzzer (default 19)
#   WARD_FUZZ_MEM_MB   memory limit per execution (default 4096)
#   WARD_FUZZ_TARGET_DIR  cargo target directory for the instrumented build
#                      (default ~/.cache/ward-fuzz-target, apart from the normal
#                      one: the instrumentation flags would rebuild everything)
set -euo pipefail

seconds=${1:-600}
[ $# -gt 0 ] && shift
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${WARD_FUZZ_TARGET_DIR:-$HOME/.cache/ward-fuzz-target}
out_root=${WARD_FUZZ_OUT:-${TMPDIR:-/tmp}/ward-fuzz-out}
nice_level=${WARD_FUZZ_NICE:-19}
mem=${WARD_FUZZ_MEM_MB:-4096}
corpus_root=$repo/crates/ward-fuzz/corpus
regressions_root=$repo/crates/ward-fuzz/regressions

case $seconds in '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac

# 1. cargo-afl (stable Rust; it builds its own AFL++ for this rustc).
if ! cargo afl --version >/dev/null 2>&1; then
    echo "== installing cargo-afl" >&2
    cargo install --locked cargo-afl
fi
if ! cargo afl config --build >/dev/null 2>&1; then
    # Already built for this rustc (the usual case), or a real failure that
    # the build below will show.
    :
fi

# 2. The harness.
echo "== building the AFL harness (fuzz/) into $CARGO_TARGET_DIR" >&2
(cd "$repo/fuzz" && nice -n "$nice_level" cargo afl build --release)
bin_dir=$CARGO_TARGET_DIR/release

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in "$repo"/fuzz/src/bin/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi

# Targets that need scratch files get a tmpfs when there is one.
scratch=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
scratch=$(mktemp -d "$scratch/ward-fuzz-scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_SKIP_CRASHES=1 AFL_IGNORE_SEED_PROBLEMS=1

afl_stat() { sed -n "s/^$1 *: *//p" "$2" 2>/dev/null | head -n1; }

summary=()
status=0
for t in "${targets[@]}"; do
    bin=$bin_dir/$t
    if [ ! -x "$bin" ]; then
        echo "no such target: $t" >&2
        status=2
        continue
    fi
    input=$out_root/$t.in
    out=$out_root/$t
    rm -rf "$input" "$out"
    mkdir -p "$input" "$out"
    for d in "$corpus_root/$t" "$regressions_root/$t"; do
        [ -d "$d" ] && find "$d" -maxdepth 1 -type f ! -name '.*' -size -1024k -exec cp {} "$input/" \;
    done
    [ -n "$(ls -A "$input")" ] || printf 'seed' >"$input/empty-seed"
    echo "== $t: fuzzing for ${seconds}s" >&2
    TMPDIR=$scratch nice -n "$nice_level" cargo afl fuzz -V "$seconds" -t 5000 -m "$mem" \
        -i "$input" -o "$out" -- "$bin" >"$out/afl.log" 2>&1 || true
    stats=$out/default/fuzzer_stats
    if [ ! -f "$stats" ]; then
        echo "   $t: AFL did not start; see $out/afl.log" >&2
        tail -n 20 "$out/afl.log" >&2 || true
        status=1
        continue
    fi
    crashes=0
    for c in "$out"/default/crashes/id:*; do
        [ -f "$c" ] || continue
        mkdir -p "$regressions_root/$t"
        name=crash-$(sha256sum "$c" | cut -c1-16)
        cp "$c" "$regressions_root/$t/$name"
        crashes=$((crashes + 1))
        echo "   crash -> crates/ward-fuzz/regressions/$t/$name" >&2
    done
    if [ "${WARD_FUZZ_MERGE:-0}" = 1 ]; then
        # The queue entries that found new coverage, smallest first, under
        # 50 KB, at most WARD_FUZZ_MERGE_MAX (default 30) per run.
        added=0
        mkdir -p "$corpus_root/$t"
        while read -r size f; do
            [ "$added" -lt "${WARD_FUZZ_MERGE_MAX:-30}" ] || break
            [ "$size" -lt 50000 ] || continue
            name=afl-$(sha256sum "$f" | cut -c1-16)
            [ -e "$corpus_root/$t/$name" ] && continue
            cp "$f" "$corpus_root/$t/$name"
            added=$((added + 1))
        done < <(find "$out/default/queue" -maxdepth 1 -type f -name 'id:*+cov*' -printf '%s %p\n' | sort -n)
        echo "   merged: $added new inputs in corpus/$t" >&2
    fi
    line=$(printf '%-18s %9s execs %8s/s  cov %-7s corpus %5s  crashes %s  hangs %s' "$t" \
        "$(afl_stat execs_done "$stats")" "$(afl_stat execs_per_sec "$stats")" "$(afl_stat bitmap_cvg "$stats")" \
        "$(afl_stat corpus_count "$stats")" "$crashes" "$(afl_stat saved_hangs "$stats")")
    echo "   $line" >&2
    summary+=("$line")
    [ "$crashes" -eq 0 ] || status=1
done

echo
echo "target             executions     exec/s  coverage  corpus  findings"
printf '%s\n' "${summary[@]}"
exit "$status"
