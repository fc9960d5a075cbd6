"""``SwanlabHook``: tells the SwanLab backends which phase the runner is in.

It is added automatically when a ``SwanlabVisBackend`` is in use; listing it in
``custom_hooks`` is equivalent. It runs last (``LOWEST``), so that the
``LoggerHook`` has logged a phase's metrics before the phase is switched back.
"""
from typing import Iterator, Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ..handover import progress
from .run_links import is_test_only
from .runner_follower import followers


@HOOKS.register_module(force=True)
class SwanlabHook(Hook):
    """Routes metrics to ``train/``, ``val/`` and ``test/`` and logs test metrics.

    Examples:
        >>> custom_hooks = [dict(type='SwanlabHook')]  # optional: added automatically
    """

    priority = 'LOWEST'

    def before_run(self, runner) -> None:
        for backend in followers(runner):
            backend.link_runner(runner)

    def before_train(self, runner) -> None:
        progress.phase('train', running=True)
        self._note_progress(runner, runner.iter)
        self._start(runner, 'train')

    def before_val(self, runner) -> None:
        progress.phase('val', running=True)
        self._start(runner, 'val')  # a runner.val() of its own; during training the run has started

    def after_val(self, runner) -> None:
        progress.phase('val', running=False)

    def before_test(self, runner) -> None:
        progress.phase('test', running=True)
        self._start(runner, 'test')

    def after_test(self, runner) -> None:
        progress.phase('test', running=False)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for backend in followers(runner):
            backend.note_checkpoint(checkpoint.get('meta') or {})

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        progress.iteration_done('train')
        self._note_progress(runner, runner.iter + 1)  # the loop counts this iteration after its hooks
        for ledger in _ledgers(runner):  # CheckpointHook (VERY_LOW) has saved by now
            ledger.saved(runner, runner.iter + 1, runner.epoch)

    def after_train_epoch(self, runner) -> None:
        for ledger in _ledgers(runner):
            ledger.saved(runner, runner.iter, runner.epoch)

    def after_train(self, runner) -> None:
        progress.phase('train', running=False)
        for ledger in _ledgers(runner):
            ledger.training_ended(runner)
        # LoggerHook closes the visualizer right after this; a following test() must still be logged.
        for backend in followers(runner):
            backend.keep_open_for_next_phase()

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        progress.iteration_done('val')  # a long evaluation is progress, not a stall

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        progress.iteration_done('test')

    def before_val_epoch(self, runner) -> None:
        self._set_section(runner, 'val')

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self._set_section(runner, 'train')
        if not is_test_only(runner):
            for ledger in _ledgers(runner):  # during training: best values, a best checkpoint
                ledger.validated(runner, metrics or {}, runner.iter)
                ledger.saved(runner, runner.iter, runner.epoch)

    def before_test_epoch(self, runner) -> None:
        self._set_section(runner, 'test')

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        # MMEngine's LoggerHook writes test metrics to a JSON file only.
        for backend in followers(runner):
            backend.log_metrics('test', metrics or {})
            backend.end_test()
        for ledger in _ledgers(runner):
            ledger.tested(runner, metrics or {}, runner.iter)
        self._set_section(runner, 'train')

    def _start(self, runner, phase: str) -> None:
        self._set_section(runner, phase if phase != 'val' else 'train')
        for backend in followers(runner):
            backend.start_phase(phase)

    @staticmethod
    def _note_progress(runner, iterations_done: int) -> None:
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)  # built: training has begun
        for backend in followers(runner):
            backend.note_progress(iterations_done, by_epoch)

    @staticmethod
    def _set_section(runner, section: str) -> None:
        for backend in followers(runner):
            backend.link_runner(runner)
            backend.set_section(section)


def _ledgers(runner) -> Iterator:
    for backend in followers(runner):
        if backend.ledger is not None:
            yield backend.ledger
