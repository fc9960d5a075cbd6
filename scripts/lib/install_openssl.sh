#!/usr/bin/env bash
# Installs the openssl command when it is missing: the alert tests (tests/test_alerts.py) make a self-signed
# certificate with it for their SMTP server on 127.0.0.1 (SwanLab's EmailCallback always uses STARTTLS or SSL).
# apt-get, as root. Training never needs it; scripts/test.sh calls this.
set -euo pipefail
if command -v openssl >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[openssl] no openssl command, and no apt-get as root to install it: install 'openssl' yourself;" \
       "the e-mail alert test will fail and say so" >&2
  exit 0
fi
echo "[openssl] installing openssl (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends openssl >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends openssl >/dev/null; }
openssl version
