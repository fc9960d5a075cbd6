"""Runtime fixes that let mmengine 0.10.7 run on current torch; the one place for them.

- torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine's resume
  checkpoints hold ``HistoryBuffer`` objects and numpy values, so ``--resume``
  fails. mmengine's own checkpoint module (and only it) gets a ``torch`` whose
  ``load`` defaults to ``weights_only=False``: those files are the user's own
  checkpoints, and mmengine after 0.10.7 does the same.
- ``mmdet::`` config lookup and ``mim`` import ``pkg_resources``, which
  setuptools 82 removed: :func:`check_pkg_resources` explains the fix.
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
    _applied = True
