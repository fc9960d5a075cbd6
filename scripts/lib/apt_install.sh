#!/usr/bin/env bash
# Installs a Debian package for a test when none of its commands is found: apt-get, as root. Training never
# needs these; scripts/test.sh calls this for each test tool. Without root or apt-get it says what to install
# and goes on: the test that needs the tool then fails and says so.
#   bash scripts/lib/apt_install.sh PACKAGE "WHAT NEEDS IT" COMMAND [COMMAND...]
set -euo pipefail
package="$1" needed_by="$2"
shift 2
for command in "$@"; do
  if command -v "$command" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[$package] no $1 command, and no apt-get as root to install it: install '$package' yourself;" \
       "$needed_by will fail and say so" >&2
  exit 0
fi
echo "[$package] installing $package (apt-get) for $needed_by"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "$package" >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$package" >/dev/null; }
command -v "$1"
