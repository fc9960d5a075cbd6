"""``python -m swanlab_backend.doctor``: is this environment ready to train and track?

Prints versions, the device, and SwanLab's mode and login state (never the
key), then checks what breaks silently otherwise: compiled mmcv ops that give
right answers, the three task packages importing, pip's dependency check, and
a swanboard that SwanLab's local mode accepts. Exits 1 if any check fails.
"""
import argparse
import subprocess
import sys
import warnings
from typing import Callable, List, Tuple

from ..mmengine.environment import device_summary, package_versions

SWANBOARD_FOR_SWANLAB = {'0.10.3': '0.1.10b2'}


def _run_ops(device: str):
    """``(nms keep, roi_align output)`` of mmcv's compiled ops on known inputs, on ``device``."""
    import torch
    from mmcv.ops import nms, roi_align
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float32, device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    feature = torch.arange(64, dtype=torch.float32, device=device).reshape(1, 1, 8, 8)
    rois = torch.tensor([[0, 0, 0, 4, 4], [0, 1.5, 2.5, 7, 6]], dtype=torch.float32, device=device)
    pooled = roi_align(feature, rois, (2, 2), 1.0, 2, 'avg', True)
    return keep.cpu(), pooled.cpu()


def check_mmcv_ops() -> str:
    keep, pooled = _run_ops('cpu')
    assert keep.tolist() == [0, 2], f'nms kept {keep.tolist()}, expected [0, 2]'
    # aligned roi (0,0)-(4,4) on an 8x8 ramp, 2x2 bins of 2x2 samples: the mean of each 2x2 block
    assert pooled[0].flatten().tolist() == [4.5, 6.5, 20.5, 22.5], f'roi_align gave {pooled[0].flatten().tolist()}'
    return 'nms and roi_align give the known answers on the CPU'


def check_mmcv_cuda_ops() -> str:
    """With a GPU: the ops run on CUDA tensors and agree with the CPU (a CPU-only mmcv fails here, not in
    the first Faster R-CNN iteration)."""
    import torch
    try:
        keep, pooled = _run_ops('cuda')
    except (RuntimeError, NotImplementedError, TypeError) as e:
        raise AssertionError(f"mmcv's ops do not run on CUDA ({type(e).__name__}: {str(e)[:200]}): this mmcv was "
                             'built without CUDA ops. Run `bash scripts/setup.sh` on this GPU machine: it builds them '
                             'for this GPU (its log says which nvcc)') from None
    cpu_keep, cpu_pooled = _run_ops('cpu')
    assert keep.tolist() == cpu_keep.tolist(), f'nms on CUDA kept {keep.tolist()}, on the CPU {cpu_keep.tolist()}'
    assert torch.allclose(pooled, cpu_pooled, atol=1e-4), 'roi_align differs between CUDA and the CPU'
    return f'nms and roi_align on {torch.cuda.get_device_name(0)} agree with the CPU'


def check_task_packages() -> str:
    import mmdet.models  # noqa: F401
    import mmpretrain.models  # noqa: F401
    import mmseg.models  # noqa: F401
    return 'mmdet, mmseg and mmpretrain import with their models'


def check_pip() -> str:
    result = subprocess.run([sys.executable, '-m', 'pip', 'check'], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout.strip() or result.stderr.strip()
    return 'pip check is clean'


def check_swanboard() -> str:
    versions = package_versions()
    swanlab, swanboard = versions.get('swanlab'), _version('swanboard')
    wanted = SWANBOARD_FOR_SWANLAB.get(swanlab)
    assert swanboard, "swanboard is missing: pip install 'swanlab[dashboard]' (local mode needs it)"
    assert wanted is None or swanboard == wanted, \
        f'swanboard {swanboard} beside swanlab {swanlab}; local mode needs {wanted}: ' \
        f"pip install 'swanlab[dashboard]=={swanlab}'"
    return f'swanboard {swanboard} matches swanlab {swanlab}'


def check_pkg_resources() -> str:
    try:
        with warnings.catch_warnings():  # its own deprecation notice says nothing actionable here
            warnings.simplefilter('ignore')
            import pkg_resources  # noqa: F401
    except ImportError as e:
        raise ImportError("mmengine's `mmdet::`-style config lookup and openmim need pkg_resources, which "
                          "setuptools>=82 removed: pip install 'setuptools>=77.0.3,<82'") from e
    return 'pkg_resources is available (mmdet:: config lookup, mim)'


def _version(name: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ''


def swanlab_state() -> str:
    import os

    import swanlab
    settings = swanlab.Settings()
    login = 'logged in (API key found)' if settings.api_key else 'no API key (runs go to the local dashboard)'
    mode = os.environ.get('SWANLAB_MODE', 'auto: online with a key, else local')
    return f'mode {mode}; {login}; API host {settings.api_host}'


def spool_state() -> str:
    """Where journals go, and whether any wait to be replayed (information: every case still trains)."""
    from ..handover.spool import choose
    from ..handover.writer_process import REPLAY, journals_left_behind
    root, problems = choose()
    where = f'{root} (private)' if root else 'none usable: journals stay in memory'
    if problems:
        where += f'; not used: {"; ".join(problems)}'
    left = journals_left_behind()
    return where + (f'; {len(left)} journal(s) left behind by killed trainings: {REPLAY}' if left else '')


CHECKS: List[Tuple[str, Callable[[], str]]] = [
    ('mmcv ops', check_mmcv_ops),
    ('task packages', check_task_packages),
    ('pkg_resources', check_pkg_resources),
    ('swanboard', check_swanboard),
    ('pip', check_pip),
]


def checks_for(cuda_available: bool) -> List[Tuple[str, Callable[[], str]]]:
    """The checks this machine gets: with a GPU, mmcv's ops must also work on it."""
    return CHECKS + ([('mmcv CUDA ops', check_mmcv_cuda_ops)] if cuda_available else [])


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print('swanlab-openmmlab doctor')
    for name, version in package_versions().items():
        print(f'  {name:<15} {version}')
    print(f'  {"python":<15} {sys.version.split()[0]}')
    print(f'  {"device":<15} {device_summary()}')
    print(f'  {"swanlab":<15} {swanlab_state()}')
    print(f'  {"spool":<15} {spool_state()}')
    failed = 0
    import torch
    if not torch.cuda.is_available():
        print('  --    mmcv CUDA ops: no GPU visible, not checked')
    for name, check in checks_for(torch.cuda.is_available()):
        try:
            print(f'  ok    {name}: {check()}')
        except Exception as e:  # report every problem, not just the first
            failed += 1
            print(f'  FAIL  {name}: {type(e).__name__}: {e}')
    print('all checks passed' if not failed else f'{failed} check(s) failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
