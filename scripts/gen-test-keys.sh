#!/usr/bin/env bash
# Regenerates the test-only keys and detached signatures under
# crates/ward-cli/tests/fixtures/keys/. Every key here is generated for
# tests, is named test-*, and protects nothing. Requires openssl.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/crates/ward-cli/tests/fixtures/keys"
mkdir -p "$out"
cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf 'a test artifact signed by test-only keys\n' > artifact.txt

# Strong keys, each with a detached signature over artifact.txt.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa2048.key" 2>/dev/null
openssl pkey -in "$tmp/rsa2048.key" -pubout -out test-rsa2048.pub.pem
openssl dgst -sha256 -sign "$tmp/rsa2048.key" -out artifact.txt.rsa2048-pkcs1-sha256.sig artifact.txt
openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sign "$tmp/rsa2048.key" \
  -out artifact.txt.rsa2048-pss-sha512.sig artifact.txt

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/p384.key" 2>/dev/null
openssl pkey -in "$tmp/p384.key" -pubout -out test-p384.pub.pem
openssl dgst -sha384 -sign "$tmp/p384.key" -out artifact.txt.p384-sha384.sig artifact.txt

openssl genpkey -algorithm ED25519 -out "$tmp/ed25519.key"
openssl pkey -in "$tmp/ed25519.key" -pubout -out test-ed25519.pub.pem
openssl pkeyutl -sign -rawin -inkey "$tmp/ed25519.key" -in artifact.txt -out "$tmp/ed.sig"
base64 -w0 "$tmp/ed.sig" > artifact.txt.ed25519.sig.b64

# Weak keys: ward must refuse them by name, whatever they sign.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa1024.key" 2>/dev/null
openssl pkey -in "$tmp/rsa1024.key" -pubout -out test-rsa1024-weak.pub.pem
openssl dgst -sha256 -sign "$tmp/rsa1024.key" -out artifact.txt.rsa1024.sig artifact.txt
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$tmp/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$tmp/dsa.param" -out "$tmp/dsa.key" 2>/dev/null
openssl pkey -in "$tmp/dsa.key" -pubout -out test-dsa-weak.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$tmp/k1.key" 2>/dev/null
openssl pkey -in "$tmp/k1.key" -pubout -out test-secp256k1-unknown.pub.pem
# A certificate signed with SHA-1: a bundle carrying it must be refused by name.
openssl req -x509 -newkey rsa:2048 -sha1 -nodes -subj /CN=test-sha1-weak -keyout "$tmp/sha1.key" \
  -out test-sha1-weak-cert.pem -days 1 2>/dev/null
echo "test keys written to $out"
