#!/usr/bin/env bash
# The body of every scripts/train_<recipe>.sh: train RECIPE on its dataset, or, when the dataset is not
# on disk, say where it looked and how to get it, then run the demo: the same recipe on a small
# generated dataset in the same format (ci/tiny_datasets.py), a few minutes on a CPU, tagged `demo`.
#
#   bash scripts/lib/run_recipe.sh RECIPE DATASET [train options...]
#
# Environment: DATA_ROOT (default per dataset, below), GPUS (default 1), WORK_DIR, DEMO=0 (fail instead
# of running the demo), SWANLAB_MODE (online with an API key, else local), SWANLAB_LOG_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RECIPE="$1"; DATASET="$2"; shift 2
cd "$ROOT"

case "$DATASET" in  # default root | file that proves the dataset is there | how to get it
  coco)       default=data/coco;       marker=annotations/instances_train2017.json
              hint="mim download mmdet --dataset coco2017 --dest data/coco" ;;
  cityscapes) default=data/cityscapes; marker=gtFine/train
              hint="download gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip from https://www.cityscapes-dataset.com (free account) into data/cityscapes, then: python \$(python -c 'import mmseg,os;print(os.path.dirname(mmseg.__file__))')/.mim/tools/dataset_converters/cityscapes.py data/cityscapes" ;;
  ade20k)     default=data/ade/ADEChallengeData2016; marker=annotations/training
              hint="mim download mmsegmentation --dataset ade20k --dest data/ade" ;;
  imagenet)   default=data/imagenet;   marker=train
              hint="download ILSVRC2012 from https://image-net.org (free account) and arrange data/imagenet/{train,val} as in https://mmpretrain.readthedocs.io/en/latest/user_guides/dataset_prepare.html" ;;
  cifar10)    default=data/cifar10;    marker=cifar-10-batches-py
              hint="python -c \"from mmpretrain.datasets import CIFAR10; CIFAR10('data/cifar10', split='train', download=True)\"" ;;
  *) echo "run_recipe.sh: unknown dataset $DATASET" >&2; exit 2 ;;
esac
DATA_ROOT="${DATA_ROOT:-$default}"
CONFIG="recipes/$RECIPE.py"
NAME="$(basename "$RECIPE")"

bash scripts/setup.sh
source "${VENV:-$ROOT/.venv}/bin/activate"

if [[ -e "$DATA_ROOT/$marker" ]]; then
  exec bash scripts/train.sh "$CONFIG" "${GPUS:-1}" --data-root "$DATA_ROOT" "$@"
fi

echo "[$NAME] no $DATASET dataset at $DATA_ROOT (looked for $DATA_ROOT/$marker)."
echo "[$NAME] to train for real: $hint"
echo "[$NAME] then run again, or point DATA_ROOT at your copy."
if [[ "${DEMO:-1}" == 0 ]]; then exit 1; fi

DEMO_DATA="data/tiny/$DATASET"
WORK_DIR="$(realpath -m "${WORK_DIR:-work_dirs/demo/$NAME}")"
export SWANLAB_LOG_DIR="${SWANLAB_LOG_DIR:-$WORK_DIR/swanlog}"
echo "[$NAME] meanwhile, the demo: this recipe on a small generated $DATASET-format dataset ($DEMO_DATA),"
echo "[$NAME] tracked in SwanLab as a 'demo' experiment (a few minutes on a CPU)."
python ci/tiny_datasets.py "$DATASET" --out "$DEMO_DATA"
python ci/smoke_train.py "$CONFIG" --data-root "$DEMO_DATA" --work-dir "$WORK_DIR" --label demo --length 3
if [[ -z "${SWANLAB_API_KEY:-}" && "${SWANLAB_MODE:-local}" == local ]]; then
  echo "[$NAME] done. See the curves and images: swanlab watch $SWANLAB_LOG_DIR  (then open the URL it prints)"
else
  echo "[$NAME] done. The experiment '$NAME' is in your SwanLab project 'openmmlab-recipes'."
fi
