#!/usr/bin/env bash
# Train any recipe (or your own config) with SwanLab tracking, on one device or several GPUs.
#
#   bash scripts/train.sh CONFIG [GPUS] [train options...]
#   bash scripts/train.sh recipes/mmdet/faster-rcnn_r50_fpn_1x_coco.py 1 --data-root /data/coco
#   bash scripts/train.sh recipes/mmseg/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py 4 --resume
#
# Options are those of `python -m swanlab_backend.train -h` (--work-dir, --data-root, --resume, --amp,
# --cfg-options ...). The lr is scaled to the total batch (--auto-scale-lr, announced in the log);
# --no-auto-scale-lr keeps the config's. Environment: WORK_DIR (default work_dirs/<config name>), SWANLAB_MODE, SWANLAB_LOG_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:?usage: bash scripts/train.sh CONFIG [GPUS] [options...]}"
shift
GPUS=1
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then GPUS="$1"; shift; fi
[[ -f "$CONFIG" ]] || { echo "train.sh: config $CONFIG not found" >&2; exit 2; }
source "$ROOT/scripts/lib/venv.sh"

WORK_DIR="${WORK_DIR:-work_dirs/$(basename "${CONFIG%.py}")}"
if [[ "$GPUS" -gt 1 ]]; then
  exec bash "$ROOT/scripts/dist_train.sh" "$CONFIG" "$GPUS" --work-dir "$WORK_DIR" "$@"
fi
exec python -m swanlab_backend.train "$CONFIG" --work-dir "$WORK_DIR" --auto-scale-lr "$@"
