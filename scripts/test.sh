#!/usr/bin/env bash
# Sets the environment up (first time ~10 min, see README) and runs every test, tier by tier, the fast ones
# first, stopping at the first tier that fails (a broken unit test fails the run in minutes):
#   1. tests/hygiene and tests/unit: ruff, the READMEs, the package in-process (seconds)
#   2. tests/tooling: setup's mmcv build plan, the tiny datasets, ci/check_dashboard.py (a few minutes)
#   3. -m integration: the backend against the real local dashboard, the smoke training of every recipe, the
#      dashboard as a browser shows it (headless Chromium)...
#
#   bash scripts/test.sh                 # everything, tier by tier
#   bash scripts/test.sh -k backend      # extra arguments go to one `pytest tests ...`
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# Playwright (requirements/stack.txt) drives Debian's Chromium; SwanLab's EmailCallback always uses STARTTLS
# or SSL, so the alert tests' SMTP server on 127.0.0.1 needs a self-signed certificate from openssl.
bash "$ROOT/scripts/lib/apt_install.sh" chromium "the browser test and the screenshots" chromium chromium-browser
bash "$ROOT/scripts/lib/apt_install.sh" openssl "the e-mail alert test" openssl
cd "$ROOT"
PYTEST=("${VENV:-$ROOT/.venv}/bin/python" -m pytest)
# pytest exits 5 when it collected nothing: with `set -e` that fails the run, as it should (a tier that lost
# its tests, or arguments that select none).
if [ "$#" -gt 0 ]; then
    exec "${PYTEST[@]}" tests "$@"
fi
echo "== tier 1 of 3: hygiene and unit"
"${PYTEST[@]}" tests/hygiene tests/unit
echo "== tier 2 of 3: tooling"
"${PYTEST[@]}" tests/tooling
echo "== tier 3 of 3: integration"
"${PYTEST[@]}" tests -m integration --durations=25  # the slowest, to keep the tier within its budget
