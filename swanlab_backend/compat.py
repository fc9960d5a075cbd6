"""Runtime fixes that let mmengine 0.10.7 run on current torch; the one place for them.

- torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine's resume
  checkpoints hold ``HistoryBuffer`` objects and numpy values, so ``--resume``
  fails. mmengine's own checkpoint module (and only it) gets a ``torch`` whose
  ``load`` defaults to ``weights_only=False``: those files are the user's own
  checkpoints, and mmengine after 0.10.7 does the same.
- ``mmdet::`` config lookup and ``mim`` import ``pkg_resources``, which
  setuptools 82 removed: :func:`check_pkg_resources` explains the fix.
- Distributed training on CPUs (gloo): mmengine 0.10.7 calls
  ``torch.cuda.set_device`` when it initialises the process group, builds DDP
  with ``device_ids`` and keeps SyncBN layers, all of which need CUDA. Without a
  GPU, :func:`support_cpu_distributed` makes it use gloo, DDP without device
  ids, and plain BatchNorm (``cfg.sync_bn`` is ignored there). With a GPU
  nothing changes.
- A mistyped backend type (``'SwanLabVisbackend'``) gets mmengine's generic
  "not in the registry" error; :func:`explain_backend_typos` names the fix.
"""
import functools
import types
import warnings

_applied = False


class _TorchWithTrustedLoad(types.ModuleType):
    """``torch`` as seen by ``mmengine.runner.checkpoint``: everything forwarded, ``load`` trusting."""

    def __init__(self, torch_module):
        super().__init__('torch')
        self._torch = torch_module

        @functools.wraps(torch_module.load)
        def load(*args, **kwargs):
            kwargs.setdefault('weights_only', False)
            return torch_module.load(*args, **kwargs)

        self.load = load

    def __getattr__(self, name):
        return getattr(self._torch, name)


def trust_mmengine_checkpoints() -> None:
    import torch
    from mmengine.runner import checkpoint
    if not isinstance(checkpoint.torch, _TorchWithTrustedLoad):
        checkpoint.torch = _TorchWithTrustedLoad(torch)


def support_cpu_distributed() -> None:
    import torch
    from mmengine.dist import utils as dist_utils
    from mmengine.runner import Runner
    if getattr(dist_utils._init_dist_pytorch, '_cpu_aware', False):
        return
    init_dist_pytorch, wrap_model = dist_utils._init_dist_pytorch, Runner.wrap_model

    @functools.wraps(init_dist_pytorch)
    def init_dist_pytorch_on_cpu(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return init_dist_pytorch(backend, init_backend, **kwargs)
        torch.distributed.init_process_group(backend='gloo', **kwargs)  # rank, world: torchrun's env

    @functools.wraps(wrap_model)
    def wrap_model_on_cpu(self, model_wrapper_cfg, model):
        if not self.distributed or torch.cuda.is_available():
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
    Runner.wrap_model = wrap_model_on_cpu


def explain_backend_typos() -> None:
    from mmengine.registry import Registry
    if getattr(Registry.get, '_explains_typos', False):
        return
    get = Registry.get

    @functools.wraps(get)
    def get_or_explain(self, key):
        found = get(self, key)
        if found is None and self.name == 'vis_backend' and isinstance(key, str):
            from .run_start import typo_hint
            hint = typo_hint(key)
            if hint:
                raise KeyError(hint)
        return found

    get_or_explain._explains_typos = True
    Registry.get = get_or_explain


def check_pkg_resources() -> None:
    try:
        with warnings.catch_warnings():  # its own deprecation notice says nothing actionable here
            warnings.simplefilter('ignore')
            import pkg_resources  # noqa: F401
    except ImportError as e:
        raise ImportError("mmengine's `mmdet::`-style config lookup and openmim need pkg_resources, which "
                          "setuptools>=82 removed: pip install 'setuptools>=77.0.3,<82'") from e


def apply() -> None:
    """Applies every fix once (importing ``swanlab_backend`` calls this)."""
    global _applied
    if _applied:
        return
    trust_mmengine_checkpoints()
    support_cpu_distributed()
    explain_backend_typos()
    _applied = True
