#!/usr/bin/env bash
# Makes sure SoftHSM2 (a PKCS#11 token in software) is installed for the
# hardware-backed key tests (`ward keygen|sign|attest --pkcs11`): installs
# Debian's softhsm2 when the module or softhsm2-util is missing. The tests
# create their own tokens in temporary directories (SOFTHSM2_CONF), never in
# the system token directory. Prints what it found.
set -euo pipefail
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$m" ] && { module="$m"; break; }
done
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "installing softhsm2 (needed by the PKCS#11 tests)" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq softhsm2 >&2
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so; do
    [ -f "$m" ] && { module="$m"; break; }
  done
fi
[ -n "$module" ] || { echo "error: softhsm2 installed but libsofthsm2.so not found" >&2; exit 2; }
echo "softhsm: $(softhsm2-util --version) at $module" >&2
