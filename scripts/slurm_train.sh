#!/usr/bin/env bash
# Distributed training under Slurm (srun): GPUS tasks, GPUS_PER_NODE per node, one SwanLab experiment.
#
#   GPUS=16 bash scripts/slurm_train.sh PARTITION JOB_NAME CONFIG [train options...]
#
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options).
# The lr is scaled to the total batch (--auto-scale-lr, announced in the log); --no-auto-scale-lr keeps it.
# Slurm kills what a step leaves running: the training waits for its SwanLab writer before it exits. A job killed
# outright (time limit, node failure) leaves its journal in SWANLAB_BACKEND_SPOOL (set it to a shared or kept
# folder to find it again): python -m swanlab_backend.replay writes it into the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARTITION="${1:?usage: bash scripts/slurm_train.sh PARTITION JOB_NAME CONFIG [options...]}"
JOB_NAME="${2:?job name}"
CONFIG="${3:?config}"
shift 3
GPUS="${GPUS:-8}"
GPUS_PER_NODE="${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}"
source "$ROOT/scripts/lib/venv.sh"
# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres="gpu:$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 \
  ${SRUN_ARGS:-} python -u -m swanlab_backend.train "$CONFIG" --launcher slurm --auto-scale-lr "$@"
