#!/usr/bin/env bash
# Runs the TUF conformance suite (../shared/testdata/tuf-conformance, read
# only) against `ward tuf`. Installs faketime (Debian) if missing, keeps a
# virtualenv with the suite's pinned Python packages in ~/.cache, builds
# ward, and fails on any test failure that scripts/tuf-conformance/
# ward-tuf-client.xfails does not list. Only 127.0.0.1 is contacted by the
# tests themselves; pip needs PyPI the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
suite_src=../shared/testdata/tuf-conformance
if [ ! -d "$suite_src" ]; then
  echo "error: $suite_src is missing (the shared test vectors live beside the clone)" >&2
  exit 2
fi

# The pins of ../shared/testdata/README.md (the tuf-conformance row).
pins=("securesystemslib[crypto]==1.4.0" "tuf==7.0.0" "pytest==9.1.1" "pytest-json-report==1.5.0")

if ! command -v faketime >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi

venv="$HOME/.cache/ward-tuf-conformance/env-$(printf '%s\n' "${pins[@]}" | sha256sum | cut -c1-12)"
if [ ! -x "$venv/bin/pytest" ]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv" && python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q "${pins[@]}"
fi

cargo build -q -p ward-cli --locked
export WARD_BIN="$CARGO_TARGET_DIR/debug/ward"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$suite_src" "$work/suite"
chmod -R u+w "$work/suite"
cp scripts/tuf-conformance/ward-tuf-client scripts/tuf-conformance/ward-tuf-client.xfails "$work/"

cd "$work/suite"
status=0
"$venv/bin/python" -m pytest tuf_conformance -p no:cacheprovider -q \
  --entrypoint "$work/ward-tuf-client" \
  --json-report --json-report-file="$work/report.json" "$@" || status=$?
"$venv/bin/python" - "$work/report.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"tuf-conformance: {s.get('passed', 0)} passed, {s.get('xfailed', 0)} expected failures, "
      f"{s.get('failed', 0)} failed, {s.get('error', 0)} errors, of {s.get('total', 0)}")
PY
cd "$root"
exit "$status"
