"""SwanLab experiment tracking for OpenMMLab: ``custom_imports=dict(imports=['swanlab_backend'])``.

Importing this package registers ``SwanlabVisBackend`` (alias ``SwanLabVisBackend``),
``SwanlabHook`` and ``SwanlabInsightsHook`` in MMEngine's root registries, checks the config that imports it
(:mod:`swanlab_backend.mmengine.config_check`), and changes nothing else: the fixes this
stack needs for resume and CPU-only distributed training are opt-in
(``swanlab_backend.stack_fixes``, :mod:`swanlab_backend.tools.stack_fixes`).

SwanLab ships its own ``swanlab.integration.mmengine`` that registers the same
name; importing both, in either order, never fails, and ``type='SwanlabVisBackend'``
selects this package's class (:mod:`swanlab_backend.mmengine.registration`). This package
does not import SwanLab into the training process: SwanLab runs in the writer
process (:mod:`swanlab_backend.writer`).

The folders follow the process boundary, so a module's folder says which process its lines run in:

- ``mmengine/``: the training process, on MMEngine's runner (backend, hooks, runner wiring);
- ``insights/``: the training process, the insights hook;
- ``handover/``: the hand-over between the two (the journal, starting and waiting for the writer,
  the background thread, the captured console);
- ``writer/``: the writer process (SwanLab's init, log, finish); it imports no torch and no
  training-side folder;
- ``tools/``: the commands (train, test, import_work_dir, doctor), the stack fixes, pretrained weights.

At the top: what both sides use (``media``, the journal's plain-data media; ``images``;
``warn_once``; ``swanlab_options``, SwanLab's callbacks and settings: checked in training, built in the
writer; ``alert_options``, the alerts' options and channels: likewise), ``recipe_tracking`` for the
recipes, and the public commands ``python -m swanlab_backend.train|test|import_work_dir|doctor|replay`` and
``swanlab_backend.stack_fixes``, thin modules over ``tools/`` and ``writer/``.
"""
from .mmengine.config_check import check_config_being_loaded

check_config_being_loaded()  # before MMEngine logs the config that is importing this package

from .handover.writer_process import wait_until_written  # noqa: E402
from .insights import SwanlabInsightsHook  # noqa: E402
from .mmengine.hook import SwanlabHook  # noqa: E402
from .mmengine.vis_backend import SwanlabVisBackend  # noqa: E402

__version__ = '0.1.0'
__all__ = ['SwanlabVisBackend', 'SwanlabHook', 'SwanlabInsightsHook', 'wait_until_written', '__version__']
