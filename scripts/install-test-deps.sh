#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine (run as root or with sudo),
# then the npm dependencies. Native addons (pkcs11js, pcsclite) build offline against Debian's
# Node headers, hence npm_config_nodedir=/usr.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export npm_config_nodedir=${npm_config_nodedir:-/usr}
APT_PACKAGES=(
  openssl ca-certificates python3 make g++ tar gzip procps jq zsh
  softhsm2 opensc
  pcscd libpcsclite-dev pcsc-tools vsmartcard-vpcd yubico-piv-tool ykcs11 yubikey-manager
  bsdiff bzip2
  python3-securesystemslib python3-cryptography python3-packaging python3-nacl python3-requests python3-urllib3
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund
