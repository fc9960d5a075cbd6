#!/usr/bin/env bash
# Creates (or reuses) a virtual environment with the whole pinned OpenMMLab + SwanLab stack.
#
#   bash scripts/setup.sh            # first run ~15 min on 2 cores (mmcv is compiled), then < 60 s
#
# Environment:
#   VENV                  where the environment lives            (default: <repo>/.venv)
#   PYTHON                interpreter used to create it          (default: python3)
#   TORCH_VERSION         torch to install                       (default: the pin in requirements/stack.txt)
#   TORCHVISION_VERSION   matching torchvision                   (default: the pin in requirements/stack.txt)
#   MMCV_WHEEL_CACHE      where built mmcv wheels are kept        (default: ~/.cache/swanlab-openmmlab/wheels)
#   FORCE_CUDA=1          build mmcv's CUDA ops even when no GPU is visible (with TORCH_CUDA_ARCH_LIST)
#
# With a GPU visible, mmcv's CUDA ops are built for that GPU's architecture, with an nvcc matching torch's
# CUDA (the registry's nvidia-cuda-nvcc when none is installed): scripts/lib/mmcv_build.py decides.
#
# All versions live in requirements/stack.txt; this script only knows how to install them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS="$ROOT/requirements/stack.txt"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
MMCV_WHEEL_CACHE="${MMCV_WHEEL_CACHE:-$HOME/.cache/swanlab-openmmlab/wheels}"

log() { printf '[setup] %s\n' "$*"; }
pin() { sed -n "s/^$1==\([^ ]*\).*/\1/p" "$PINS"; }

TORCH_VERSION="${TORCH_VERSION:-$(pin torch)}"
TORCHVISION_VERSION="${TORCHVISION_VERSION:-$(pin torchvision)}"
MMCV_VERSION="$(pin mmcv)"

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

# Everything below is skipped when nothing changed since the last successful run.
STAMP="$VENV/.swanlab-openmmlab-setup"
# The ops flavour is part of the stamp: the same environment on a machine with a GPU needs CUDA ops.
plan_key="$("$PY" "$ROOT/scripts/lib/mmcv_build.py" plan 2>/dev/null | grep -E '^MMCV_(FLAVOUR|ARCH)=' | tr '\n' ' ' || true)"
want_stamp="$( (cat "$PINS" "$ROOT/pyproject.toml" "$0" "$ROOT/scripts/lib/mmcv_build.py"
               echo "$TORCH_VERSION $TORCHVISION_VERSION ${FORCE_CUDA:-} $plan_key") | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  log "environment up to date ($VENV); checking it"
  exec "$PY" -m swanlab_backend.doctor
fi

# pip's resolver must never swap the torch we chose for another one.
TORCH_CONSTRAINT="$(mktemp)"
trap 'rm -f "$TORCH_CONSTRAINT"' EXIT
printf 'torch==%s\ntorchvision==%s\n' "$TORCH_VERSION" "$TORCHVISION_VERSION" > "$TORCH_CONSTRAINT"

log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
# Installing torch upgrades setuptools past 82, which removed pkg_resources (needed by the mmcv sdist).
"${PIP[@]}" install -q "$(grep '^setuptools' "$PINS")" ninja psutil wheel

# --- mmcv with compiled ops -----------------------------------------------------------------------------
# pip's own wheel cache is keyed by the sdist alone and would hand back a wheel built against another torch,
# so built wheels are kept under a key of mmcv version + torch version + CUDA flavour.
cuda_tag="$("$PY" -c 'import torch; print("cu" + torch.version.cuda.replace(".", "") if torch.version.cuda else "cpu")')"
eval "$("$PY" "$ROOT/scripts/lib/mmcv_build.py" plan)"  # MMCV_FLAVOUR, MMCV_ARCH, MMCV_NVCC_INSTALL, or exit
log "mmcv ops: $MMCV_PLAN_REASON"
with_cuda=0
if [ "$MMCV_FLAVOUR" = cuda ]; then
  with_cuda=1
  export TORCH_CUDA_ARCH_LIST="$MMCV_ARCH"
  if [ -n "$MMCV_NVCC_INSTALL" ]; then
    # shellcheck disable=SC2086  # a list of requirements
    "${PIP[@]}" install -q $MMCV_NVCC_INSTALL -c "$TORCH_CONSTRAINT" \
      || { log "could not install $MMCV_NVCC_INSTALL: install a CUDA toolkit matching torch ($cuda_tag) and set CUDA_HOME"; exit 1; }
    export CUDA_HOME="$("$PY" "$ROOT/scripts/lib/mmcv_build.py" pip-cuda-home)"
    export PATH="$CUDA_HOME/bin:$PATH"
  fi
fi
ops_tag=$([ "$with_cuda" = 1 ] && echo "cudaops-sm${MMCV_ARCH/./}" || echo "cpuops")
wheel_dir="$MMCV_WHEEL_CACHE/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$cuda_tag-$ops_tag"
if "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null \
   && [ -f "$VENV/.mmcv-key" ] && [ "$(cat "$VENV/.mmcv-key")" = "$wheel_dir" ]; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with ops ($ops_tag) against torch $TORCH_VERSION: no cached wheel in $wheel_dir"
    log "this compiles 77 C++ files and takes ~13 min on 2 cores; it happens once per torch version"
    build="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
    tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
    # torch >= 2.14 headers refuse anything older than C++20; mmcv 2.1.0's setup.py hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$build/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$wheel_dir"
    # The compiler's per-file lines are the progress report (the build is otherwise silent for minutes).
    ( cd "$build/mmcv-$MMCV_VERSION" && \
      MMCV_WITH_OPS=1 FORCE_CUDA="$with_cuda" MAX_JOBS="$(nproc)" \
      "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-cache-dir . -w "$build/out" 2>&1 \
      | tee "$build/build.log" | sed -unE 's#^ *(\[[0-9]+/[0-9]+\]).* -c (/[^ ]*/)?([^ /]+) .*#[setup]   mmcv build \1 \3#p; /error:|Successfully built/p' ) \
      || { tail -n 40 "$build/build.log"; log "mmcv build failed ($ops_tag); full log: $build/build.log"
           [ "$with_cuda" = 1 ] && log "CUDA ops need nvcc $cuda_tag and the CUDA headers (CUDA_HOME=${CUDA_HOME:-unset}); CUDA_VISIBLE_DEVICES= bash scripts/setup.sh builds CPU ops on purpose"
           exit 1; }
    cp "$build"/out/mmcv-*.whl "$wheel_dir/"
    rm -rf "$build"
  else
    log "using cached mmcv wheel from $wheel_dir"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl
  echo "$wheel_dir" > "$VENV/.mmcv-key"
fi

# --- the rest of the stack and this package ------------------------------------------------------------
log "installing the pinned OpenMMLab + SwanLab stack"
# mmcv is installed above from the keyed wheel; everything else resolves against the pins.
grep -vE '^(torch|torchvision|mmcv)==' "$PINS" > "$VENV/.stack-rest.txt"
"${PIP[@]}" install -q -r "$VENV/.stack-rest.txt" "mmcv==$MMCV_VERSION" -c "$TORCH_CONSTRAINT"
"${PIP[@]}" install -q --no-deps -e "$ROOT"

log "checking the environment"
"$PY" -m swanlab_backend.doctor
echo "$want_stamp" > "$STAMP"
log "done: activate with 'source ${VENV/#$ROOT\//}/bin/activate'"
