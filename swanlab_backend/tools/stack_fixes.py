"""Fixes that let mmengine 0.10.7 resume and train distributed on CPUs with current torch. Opt-in.

Importing ``swanlab_backend`` changes nothing outside this package; importing this
module applies the fixes below (once: a second import changes nothing), each only
where the installed versions or the machine need it, and each says so once in the
log when it first acts. This project's entry points (``python -m
swanlab_backend.train``/``.test``, the ``scripts/``, the smoke and demo runs)
import it, and so do the recipes, through the ``custom_imports`` of
:mod:`swanlab_backend.recipe_tracking` (a copied recipe run with ``mim train`` or
``tools/train.py`` resumes too); in your own config name it::

    custom_imports = dict(imports=['swanlab_backend', 'swanlab_backend.stack_fixes'])

- **Resume on torch >= 2.6** (mmengine <= 0.10.7): ``torch.load`` defaults to
  ``weights_only=True``, and MMEngine's checkpoints hold ``HistoryBuffer`` objects
  and numpy values, so ``--resume`` (and testing a checkpoint of the run) fails.
  What this trusts, precisely: a checkpoint file inside the runner's own
  ``work_dir``, while ``Runner.resume`` or ``Runner.load_checkpoint`` loads it
  (the run's own training state: ``--resume``, the test of its best checkpoint,
  ``swanlab_backend.test`` of one of its checkpoints). Files elsewhere
  (``load_from=`` a download, pretrained weights) and every other ``torch.load``
  keep torch's safe default.
- **Distributed training without CUDA** (CI's CPU runners, gloo): mmengine 0.10.7
  calls ``torch.cuda.set_device`` when it starts the process group (torchrun's
  ``pytorch`` launcher and ``slurm``), builds DDP
  with ``device_ids`` and keeps SyncBN layers. Installed only when no CUDA device
  is visible; it acts only for a runner that is distributed (a launcher is set):
  gloo, DDP without device ids, plain BatchNorm (``cfg.sync_bn`` is ignored).
"""
import contextvars
import functools
import logging
import os
import os.path as osp
import subprocess
import types
from typing import Callable

from mmengine.logging import print_log
from mmengine.utils import digit_version

from ..warn_once import WarnOnce

# The newest mmengine known to need each fix; a later release is left alone.
LAST_MMENGINE_WITHOUT_SAFE_RESUME = '0.10.7'
LAST_MMENGINE_WITHOUT_CPU_DDP = '0.10.7'

_trusted = contextvars.ContextVar('swanlab_backend_trusted_checkpoint', default=None)
_said = WarnOnce()  # what this process has said already


def _say_once(key: str, message: str) -> None:
    _said(key, print_log, f'swanlab_backend.stack_fixes: {message}', logger='current', level=logging.INFO)


def _mmengine_at_most(version: str) -> bool:
    import mmengine
    return digit_version(mmengine.__version__) <= digit_version(version)


class _TorchTrustingTheRunsOwnFile(types.ModuleType):
    """``torch`` as ``mmengine.runner.checkpoint`` sees it: ``load`` trusts only the file being loaded from
    the runner's own work dir."""

    def __init__(self, torch_module):
        super().__init__('torch')
        self._torch = torch_module

    def load(self, f, *args, **kwargs):
        trusted = _trusted.get()
        if trusted and isinstance(f, (str, os.PathLike)) and osp.abspath(f) == trusted:
            kwargs.setdefault('weights_only', False)
            _say_once('resume', f'loading {f}, a checkpoint of this run\'s work dir, with weights_only=False '
                                '(torch >= 2.6 refuses its HistoryBuffer; only such files are trusted)')
        return self._torch.load(f, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._torch, name)


def _trusting_the_work_dir(load: Callable) -> Callable:
    @functools.wraps(load)
    def load_trusting_the_work_dir(self, filename, *args, **kwargs):
        path, work_dir = osp.abspath(str(filename)), osp.abspath(str(self.work_dir))
        token = _trusted.set(path if path.startswith(work_dir + os.sep) else None)
        try:
            return load(self, filename, *args, **kwargs)
        finally:
            _trusted.reset(token)

    return load_trusting_the_work_dir


def trust_the_runs_own_checkpoints() -> bool:
    """Applies the resume fix where it is needed; True if it is in place."""
    import torch
    from mmengine.runner import Runner, checkpoint
    if digit_version(torch.__version__) < digit_version('2.6.0') or \
            not _mmengine_at_most(LAST_MMENGINE_WITHOUT_SAFE_RESUME):
        return False
    if isinstance(checkpoint.torch, _TorchTrustingTheRunsOwnFile):
        return True
    checkpoint.torch = _TorchTrustingTheRunsOwnFile(torch)
    Runner.resume = _trusting_the_work_dir(Runner.resume)
    Runner.load_checkpoint = _trusting_the_work_dir(Runner.load_checkpoint)
    return True


def support_cpu_distributed() -> bool:
    """Applies the CPU-DDP fix where it is needed (no CUDA device); True if it is in place."""
    import torch
    from mmengine.dist import utils as dist_utils
    from mmengine.runner import Runner
    if torch.cuda.is_available() or not _mmengine_at_most(LAST_MMENGINE_WITHOUT_CPU_DDP):
        return False
    if getattr(dist_utils._init_dist_pytorch, '_cpu_aware', False):
        return True
    init_dist_pytorch, init_dist_slurm = dist_utils._init_dist_pytorch, dist_utils._init_dist_slurm
    wrap_model = Runner.wrap_model

    @functools.wraps(init_dist_pytorch)
    def init_dist_pytorch_on_cpu(backend, init_backend='torch', **kwargs):
        if init_backend != 'torch':
            return init_dist_pytorch(backend, init_backend, **kwargs)
        _say_once('ddp', 'no CUDA device: distributed training uses gloo, DDP without device ids and plain '
                         'BatchNorm')
        torch.distributed.init_process_group(backend='gloo', **kwargs)  # rank, world: torchrun's env

    @functools.wraps(init_dist_slurm)
    def init_dist_slurm_on_cpu(backend, port=None, init_backend='torch', **kwargs):
        if init_backend != 'torch':
            return init_dist_slurm(backend, port, init_backend, **kwargs)
        _say_once('ddp', 'no CUDA device: distributed training uses gloo, DDP without device ids and plain '
                         'BatchNorm')
        # mmengine's own steps (rank, world and master from Slurm), without its torch.cuda.set_device
        master = subprocess.getoutput(f'scontrol show hostname {os.environ["SLURM_NODELIST"]} | head -n1')
        os.environ['MASTER_PORT'] = str(port) if port is not None else os.environ.get('MASTER_PORT', '29500')
        os.environ.setdefault('MASTER_ADDR', master)
        os.environ.update(WORLD_SIZE=os.environ['SLURM_NTASKS'], RANK=os.environ['SLURM_PROCID'],
                          LOCAL_RANK=os.environ.get('SLURM_LOCALID', '0'))
        torch.distributed.init_process_group(backend='gloo', **kwargs)

    @functools.wraps(wrap_model)
    def wrap_model_on_cpu(self, model_wrapper_cfg, model):
        if not self.distributed:
            return wrap_model(self, model_wrapper_cfg, model)
        from mmengine.model import revert_sync_batchnorm
        wrapper_cfg = dict(model_wrapper_cfg or {})
        wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        wrapper_cfg.setdefault('broadcast_buffers', False)
        wrapper_cfg.setdefault('find_unused_parameters', self.cfg.get('find_unused_parameters', False))
        wrapper_cfg['device_ids'] = None  # a CPU module takes no device ids
        sync_bn = self.cfg.pop('sync_bn', None)
        try:
            return wrap_model(self, wrapper_cfg, revert_sync_batchnorm(model))
        finally:
            if sync_bn is not None:
                self.cfg.sync_bn = sync_bn

    init_dist_pytorch_on_cpu._cpu_aware = True
    dist_utils._init_dist_pytorch = init_dist_pytorch_on_cpu
    dist_utils._init_dist_slurm = init_dist_slurm_on_cpu
    Runner.wrap_model = wrap_model_on_cpu
    return True


def apply() -> None:
    """Applies every fix that this stack and machine need (idempotent)."""
    trust_the_runs_own_checkpoints()
    support_cpu_distributed()


apply()
