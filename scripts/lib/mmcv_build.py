"""Which mmcv ops ``scripts/setup.sh`` builds on this machine, and with which CUDA compiler.

    python scripts/lib/mmcv_build.py plan     # prints shell assignments for setup.sh, or the reason it cannot

- No GPU visible (and no ``FORCE_CUDA=1``): CPU ops.
- A GPU visible: CUDA ops, for that GPU's architecture only (``TORCH_CUDA_ARCH_LIST``: one
  architecture builds in minutes, all of them in an hour). The compiler must match torch's
  CUDA major version: an ``nvcc`` on the PATH (or in ``CUDA_HOME``) that does is used; else
  the registry's ``nvidia-cuda-nvcc`` and ``nvidia-cuda-cccl`` of torch's CUDA version are
  installed into the environment and used (GPU machines often have the driver, not the toolkit).
- A GPU but a CPU-only torch, or ``FORCE_CUDA=1`` without a GPU and without
  ``TORCH_CUDA_ARCH_LIST``: an error naming the fix, before anything is built.
"""
import os
import re
import shutil
import subprocess
import sys
from typing import NamedTuple, Optional, Tuple


class Facts(NamedTuple):
    torch_cuda: Optional[str]                # torch.version.cuda: '13.0', or None for a CPU build
    gpu_capability: Optional[Tuple[int, int]]  # of GPU 0, None when no GPU is visible
    nvcc_version: Optional[str]              # of the nvcc found, '13.0'
    force_cuda: bool = False
    arch_list: Optional[str] = None          # TORCH_CUDA_ARCH_LIST, if set


class Plan(NamedTuple):
    flavour: str                   # 'cuda' or 'cpu': the wheel cache key says it
    reason: str
    arch_list: str = ''            # what TORCH_CUDA_ARCH_LIST the build gets ('9.0')
    install: Tuple[str, ...] = ()  # pip requirements that bring a matching nvcc


class CannotBuild(RuntimeError):
    pass


def plan(facts: Facts) -> Plan:
    if facts.gpu_capability is None and not facts.force_cuda:
        return Plan('cpu', 'no GPU is visible: CPU ops')
    if not facts.torch_cuda:
        raise CannotBuild('a GPU is visible (or FORCE_CUDA=1) but torch is a CPU-only build, so mmcv cannot get CUDA '
                          'ops: install a CUDA build of torch (TORCH_VERSION/TORCHVISION_VERSION of a CUDA wheel), '
                          'or unset FORCE_CUDA / hide the GPU (CUDA_VISIBLE_DEVICES=) to build CPU ops on purpose')
    if facts.gpu_capability is not None:
        arch = '{}.{}'.format(*facts.gpu_capability)
    elif facts.arch_list:
        arch = facts.arch_list
    else:
        raise CannotBuild('FORCE_CUDA=1 without a visible GPU: set TORCH_CUDA_ARCH_LIST to the GPU architecture the '
                          'ops are for (e.g. TORCH_CUDA_ARCH_LIST=9.0 for an H100/H200, 8.0 for an A100)')
    major_minor = '.'.join(facts.torch_cuda.split('.')[:2])
    if facts.nvcc_version and facts.nvcc_version.split('.')[0] == major_minor.split('.')[0]:
        return Plan('cuda', f'CUDA ops for sm {arch} with nvcc {facts.nvcc_version} (torch: CUDA {major_minor})', arch)
    found = f'nvcc {facts.nvcc_version} does not match' if facts.nvcc_version else 'no nvcc found for'
    return Plan('cuda', f'CUDA ops for sm {arch}; {found} torch\'s CUDA {major_minor}: installing the registry\'s '
                        f'nvcc {major_minor}', arch,
                (f'nvidia-cuda-nvcc=={major_minor}.*', f'nvidia-cuda-cccl=={major_minor}.*'))


def nvcc_version(nvcc: Optional[str]) -> Optional[str]:
    if not nvcc:
        return None
    try:
        out = subprocess.run([nvcc, '--version'], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return None
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


def find_nvcc() -> Optional[str]:
    cuda_home = os.environ.get('CUDA_HOME') or os.environ.get('CUDA_PATH')
    candidate = os.path.join(cuda_home, 'bin', 'nvcc') if cuda_home else None
    return candidate if candidate and os.path.isfile(candidate) else shutil.which('nvcc')


def detect() -> Facts:
    import torch
    capability = torch.cuda.get_device_capability(0) if torch.cuda.is_available() else None
    return Facts(torch.version.cuda, capability, nvcc_version(find_nvcc()),
                 os.environ.get('FORCE_CUDA', '0') == '1', os.environ.get('TORCH_CUDA_ARCH_LIST') or None)


def pip_cuda_home() -> str:
    """Where the registry's nvcc lands in this environment (``nvidia/cu<major>``)."""
    import importlib.util

    import torch
    nvidia = list(importlib.util.find_spec('nvidia').submodule_search_locations)[0]
    return os.path.join(nvidia, 'cu' + torch.version.cuda.split('.')[0])


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ['plan']:
        try:
            chosen = plan(detect())
        except CannotBuild as e:
            print(f'echo "[setup] cannot build mmcv\'s ops: {e}" >&2; exit 1')
            return 0
        print(f'MMCV_FLAVOUR={chosen.flavour}')
        print(f'MMCV_ARCH={chosen.arch_list}')
        print(f'MMCV_NVCC_INSTALL="{" ".join(chosen.install)}"')
        print(f'MMCV_PLAN_REASON="{chosen.reason}"')
        return 0
    if args[:1] == ['pip-cuda-home']:
        print(pip_cuda_home())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
