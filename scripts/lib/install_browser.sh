#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (tests/test_dashboard_in_browser.py) and the screenshots
# (python -m ci.screenshots) when it is missing: apt-get, as root. Playwright, which drives it, is in
# requirements/stack.txt. Training never needs a browser; scripts/test.sh calls this.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[browser] no Chromium, and no apt-get as root to install it: install 'chromium' yourself;" \
       "the browser test will fail and say so" >&2
  exit 0
fi
echo "[browser] installing chromium (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends chromium >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }
chromium --version
