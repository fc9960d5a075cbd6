"""SwanLab experiment tracking for OpenMMLab: ``custom_imports=dict(imports=['swanlab_backend'])``.

Importing this package registers ``SwanlabVisBackend`` (alias ``SwanLabVisBackend``),
``SwanlabHook`` and ``SwanlabInsightsHook`` in MMEngine's root registries, checks the config that imports it
(:mod:`swanlab_backend.config_check`), and changes nothing else: the fixes this
stack needs for resume and CPU-only distributed training are opt-in
(:mod:`swanlab_backend.stack_fixes`).

SwanLab ships its own ``swanlab.integration.mmengine`` that registers the same
name; importing both, in either order, never fails, and ``type='SwanlabVisBackend'``
selects this package's class (:mod:`swanlab_backend.registration`). This package
does not import SwanLab into the training process: SwanLab runs in the writer
process (:mod:`swanlab_backend.writer_process`).
"""
from .config_check import check_config_being_loaded

check_config_being_loaded()  # before MMEngine logs the config that is importing this package

from .hook import SwanlabHook  # noqa: E402
from .insights import SwanlabInsightsHook  # noqa: E402
from .vis_backend import SwanlabVisBackend  # noqa: E402
from .writer_process import wait_until_written  # noqa: E402

__version__ = '0.1.0'
__all__ = ['SwanlabVisBackend', 'SwanlabHook', 'SwanlabInsightsHook', 'wait_until_written', '__version__']
