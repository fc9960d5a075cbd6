#!/usr/bin/env bash
# The body of every scripts/train_<recipe>.sh: train RECIPE on its dataset, or, when no dataset was asked
# for and none is in its default folder, say how to get it and run the demo: the same recipe on a small
# generated dataset in the same format (ci/tiny_datasets.py), a few minutes on a CPU, named <recipe>-demo.
#
#   bash scripts/lib/run_recipe.sh RECIPE DATASET [train options...]
#
# Environment: DATA_ROOT (a dataset that must be there: missing is an error, never a demo), GPUS (default 1),
# WORK_DIR, DEMO=0 (fail instead of running the demo), SWANLAB_MODE (online with an API key, else local),
# SWANLAB_LOG_DIR. Real trainings get --auto-scale-lr from train.sh (--no-auto-scale-lr keeps the recipe's lr).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RECIPE="$1"; DATASET="$2"; shift 2
cd "$ROOT"
CONFIG="recipes/$RECIPE.py"
NAME="$(basename "$RECIPE")"

bash scripts/setup.sh
source "${VENV:-$ROOT/.venv}/bin/activate"
datasets() { python scripts/lib/datasets.py "$@"; }

if [[ -n "${DATA_ROOT:-}" ]]; then  # asked for: it must be there
  datasets check "$DATASET" "$DATA_ROOT" || { echo "[$NAME] DATA_ROOT=$DATA_ROOT: fix it or unset it" >&2; exit 2; }
elif datasets check "$DATASET" 2>/dev/null; then
  DATA_ROOT="$(datasets default-root "$DATASET")"
fi
if [[ -n "${DATA_ROOT:-}" ]]; then
  exec bash scripts/train.sh "$CONFIG" "${GPUS:-1}" --data-root "$DATA_ROOT" "$@"
fi

datasets check "$DATASET" 2>&1 | sed "s/^/[$NAME] /" || true
echo "[$NAME] then run again, or point DATA_ROOT at your copy."
if [[ "${DEMO:-1}" == 0 ]]; then exit 1; fi
if [[ $# -gt 0 || "${GPUS:-1}" != 1 ]]; then
  echo "[$NAME] not running the demo: GPUS=${GPUS:-1} and options ($*) are for a real training; the demo runs" >&2
  echo "[$NAME] on one device with its own settings. Run without them for the demo, or give DATA_ROOT." >&2
  exit 2
fi

DEMO_DATA="data/demo/$DATASET"
WORK_DIR="$(realpath -m "${WORK_DIR:-work_dirs/demo/$NAME}")"
export SWANLAB_LOG_DIR="${SWANLAB_LOG_DIR:-$WORK_DIR/swanlog}"
echo "[$NAME] meanwhile, the demo: this recipe on a small generated $DATASET-format dataset ($DEMO_DATA),"
echo "[$NAME] tracked in SwanLab as the experiment '$NAME-demo' (a few minutes on a CPU)."
exec python -m ci.demo "$CONFIG" --dataset "$DATASET" --data-root "$DEMO_DATA" --work-dir "$WORK_DIR"
