#!/usr/bin/env bash
# Development PKI for security profiles 2 and 3 (OCPP 1.6 Security Whitepaper), made with the openssl CLI.
#   certs/make-dev-pki.sh [OUT_DIR]                  make what is missing in OUT_DIR (default certs/dev/)
#   certs/make-dev-pki.sh --sign-csr CSR [OUT_DIR]   sign a charge-point CSR with the charge-point CA,
#                                                    print the certificate + CA chain (PEM) on stdout
# Idempotent: an existing file is kept, so certificates stay stable between runs (delete OUT_DIR to renew).
# Test and demo use only: keys are unencrypted.
set -euo pipefail

sign_csr=""
if [ "${1:-}" = "--sign-csr" ]; then
  sign_csr="${2:?--sign-csr needs a CSR file}"
  shift 2
fi
out="${1:-$(dirname "$0")/dev}"
command -v openssl >/dev/null || { echo "make-dev-pki: the openssl CLI is required" >&2; exit 1; }
mkdir -p "$out"
cd "$out"

# Run a command, showing its output only when it fails.
quiet() {
  local log
  if ! log="$("$@" 2>&1)"; then printf '%s\n' "$log" >&2; return 1; fi
}

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash"

# make_root NAME SUBJECT
make_root() {
  [ -s "$1.crt" ] && [ -s "$1.key" ] && return 0
  quiet openssl req -x509 "${ec[@]}" -sha256 -keyout "$1.key" -out "$1.crt" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  chmod 600 "$1.key"
}

# make_signed NAME SUBJECT ISSUER DAYS EXTENSIONS
make_signed() {
  [ -s "$1.crt" ] && [ -s "$1.key" ] && return 0
  printf '%s\n' "$5" > "$1.ext"
  quiet openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "$2"
  chmod 600 "$1.key"
  quiet openssl x509 -req -sha256 -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" \
    -days "$4" -extfile "$1.ext"
  rm -f "$1.ext" "$1.csr"
}

make_root csms-root-ca "/O=charger-agent dev/CN=Dev CSMS Root CA"
make_root manufacturer-root-ca "/O=charger-agent dev/CN=Dev Manufacturer Root CA"
make_signed charge-point-ca "/O=charger-agent dev/CN=Dev Charge Point CA" csms-root-ca 3650 "$ca_ext"
make_signed csms-server "/O=charger-agent dev/CN=localhost" csms-root-ca 825 "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
make_signed charge-point "/O=charger-agent dev/CN=CP-DEV-1" charge-point-ca 825 "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=clientAuth"
[ -s charge-point-chain.crt ] || cat charge-point.crt charge-point-ca.crt > charge-point-chain.crt
[ -s csms-server-chain.crt ] || cp csms-server.crt csms-server-chain.crt

if [ -n "$sign_csr" ]; then
  case "$sign_csr" in /*) ;; *) sign_csr="$OLDPWD/$sign_csr" ;; esac
  ext="$(mktemp)"
  trap 'rm -f "$ext"' EXIT
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyAgreement" \
    "extendedKeyUsage=clientAuth" > "$ext"
  openssl x509 -req -sha256 -in "$sign_csr" -CA charge-point-ca.crt -CAkey charge-point-ca.key -CAcreateserial \
    -days 825 -extfile "$ext"
  cat charge-point-ca.crt
fi
