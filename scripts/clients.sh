#!/usr/bin/env bash
# Makes sure the real package clients the proxy tests drive are installed:
# python3 with pip, node with npm, and cargo. Installs Debian's packages
# when one is missing (the package registries are the only network the
# machines have). Prints what it found.
set -euo pipefail
missing=()
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (needed by the proxy tests)" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >&2
fi
command -v cargo >/dev/null 2>&1 || { echo "error: cargo is missing" >&2; exit 2; }
echo "clients: $(python3 -m pip --version | cut -d' ' -f1-2), npm $(npm --version), $(cargo --version)" >&2
