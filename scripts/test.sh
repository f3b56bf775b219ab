#!/usr/bin/env bash
# ward's test command: everything the test suite needs, then the whole suite.
# Runs on a fresh machine with ../shared beside the clone. Starts a private
# PostgreSQL server on 127.0.0.1 (installing Debian's package if missing) for
# the ledger's second backend, makes sure pip, npm and cargo are
# installed for the registry proxy's tests, and SoftHSM2 for the PKCS#11 ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ward-target}"
if [ ! -d ../shared/testdata ]; then
  echo "error: ../shared/testdata is missing (the shared test vectors live beside the clone)" >&2
  exit 2
fi
WARD_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
export WARD_TEST_POSTGRES_URL
export WARD_REQUIRE_POSTGRES=1
scripts/clients.sh
export WARD_REQUIRE_CLIENTS=1
# SoftHSM2, the PKCS#11 token the `--pkcs11` signing tests use.
scripts/softhsm.sh
export WARD_REQUIRE_SOFTHSM=1
# The TUF conformance suite against `ward tuf` (pinned Python packages, faketime).
scripts/tuf-conformance.sh
# Only ward-verify makes facts: the test-only constructors (`unverified-facts`)
# must never reach the `ward` binary's own build.
if cargo tree --locked -q -p ward-cli -e normal,build -i ward-verify -f '{p} [{f}]' | grep -q unverified-facts; then
  echo "error: the ward binary's build turns on ward-verify's unverified-facts feature (tests only)" >&2
  exit 1
fi
# Snapshot tests (insta) compare, never write: a changed --help or output fails.
export INSTA_UPDATE=no
cargo test --workspace --locked
