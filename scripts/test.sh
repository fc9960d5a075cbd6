#!/usr/bin/env bash
# Sets the environment up (first time ~10 min, see README) and runs every test:
# unit tests, the backend against the real local dashboard, the smoke training of every recipe, and the
# dashboard as a browser shows it (headless Chromium).
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -k backend      # extra arguments go to pytest
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/lib/install_browser.sh"   # the browser test's Chromium (apt-get, as root)
cd "$ROOT"
# pytest exits 5 when it collected nothing: with `set -e` that fails the run, as it should.
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest tests "$@"
