#!/usr/bin/env bash
# Regenerates docs/reasons.md from the binary's own list of reason codes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
cargo build -q -p ward-cli
ward="$CARGO_TARGET_DIR/debug/ward"
{
cat <<'MD'
# Reason codes

Every deny names one stable code. Codes never change meaning and are never
reused; grep for them in CI logs, filter on them in the JSON output
(`decision.reasons[].code`), look them up here. `ward reasons` prints this
table from the binary itself, and a test keeps this page and the binary in
step (regenerate it with `scripts/gen-reasons-doc.sh`).

| code | what it means and what to do |
|---|---|
MD
"$ward" reasons --format json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print("| `%s` | %s |" % (r["code"], r["description"]))
'
cat <<'MD'

## Exit codes

| code | meaning |
|---|---|
| 0 | allowed |
| 1 | denied: at least one reason above |
| 2 | could not evaluate: a usage error, an invalid policy, or an artifact, evidence or trust file that cannot be read |

Both non-zero codes block an install.
MD
} > docs/reasons.md
echo "docs/reasons.md: $(grep -c '^| `' docs/reasons.md) codes"
