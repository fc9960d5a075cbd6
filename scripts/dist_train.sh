#!/usr/bin/env bash
# Distributed training with torchrun: GPUS processes per node (one per GPU; on a CPU-only machine, CPU
# processes over gloo). One SwanLab experiment per job: only global rank 0 logs.
#
#   bash scripts/dist_train.sh CONFIG GPUS [train options...]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash scripts/dist_train.sh CONFIG 8   # on the first node
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 bash scripts/dist_train.sh CONFIG 8   # on the second
#
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), MASTER_PORT (29500).
# The lr is scaled to the total batch (--auto-scale-lr, announced in the log); --no-auto-scale-lr keeps it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${1:?usage: bash scripts/dist_train.sh CONFIG GPUS [options...]}"
GPUS="${2:?usage: bash scripts/dist_train.sh CONFIG GPUS [options...]}"
shift 2
source "$ROOT/scripts/lib/venv.sh"
exec torchrun --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --nproc_per_node="$GPUS" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${MASTER_PORT:-29500}" \
  -m swanlab_backend.train "$CONFIG" --launcher pytorch --auto-scale-lr "$@"
