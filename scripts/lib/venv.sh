# Sourced by the scripts: activates the project's environment, creating it on first use.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_venv="${VENV:-$_root/.venv}"
if [[ ! -f "$_venv/.swanlab-openmmlab-setup" ]]; then
  echo "[scripts] no ready environment at $_venv: running scripts/setup.sh first"
  bash "$_root/scripts/setup.sh"
fi
source "$_venv/bin/activate"
unset _root _venv
