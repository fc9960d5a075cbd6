"""How the backend learns about the runner it serves.

MMEngine gives a backend neither the runner nor the phase it is in: validation
metrics arrive with ``step=epoch`` and test metrics never arrive. So the backend
finds the runner that is building it (or calling it) on the call stack, and
adds a :class:`~swanlab_backend.hook.SwanlabHook` to it once the runner has
registered its own hooks. A ``SwanlabHook`` listed in ``custom_hooks`` is used
as is.
"""
import sys
from typing import Any, Optional, Tuple


def find_runner_in_stack(max_depth: int = 30) -> Optional[Any]:
    """Returns the nearest ``mmengine.runner.Runner`` among the callers' locals."""
    from mmengine.runner import Runner
    frame = sys._getframe(1)
    for _ in range(max_depth):
        if frame is None:
            return None
        for name in ('self', 'runner'):
            candidate = frame.f_locals.get(name)
            if isinstance(candidate, Runner):
                return candidate
        frame = frame.f_back
    return None


def attach_hook_to_runner(runner: Any) -> None:
    """Ensures ``runner`` has a ``SwanlabHook``, now or right after it registers its hooks."""
    if hasattr(runner, '_hooks'):
        _add_hook_once(runner)
        return
    # Runner.__init__ builds the visualizer before it creates `_hooks`; join in
    # right after its `register_hooks` call.
    register_hooks = runner.register_hooks

    def register_hooks_then_swanlab(*args, **kwargs):
        register_hooks(*args, **kwargs)
        _add_hook_once(runner)

    runner.register_hooks = register_hooks_then_swanlab


def _add_hook_once(runner: Any) -> None:
    from .hook import SwanlabHook
    if not any(isinstance(hook, SwanlabHook) for hook in runner._hooks):
        runner.register_hook(SwanlabHook(), priority='LOWEST')


def training_progress(runner: Any) -> Tuple[int, int, bool]:
    """``(iteration, epoch, epoch_based)`` without building a train loop that was never used."""
    from mmengine.runner import BaseLoop, EpochBasedTrainLoop
    loop = getattr(runner, '_train_loop', None)
    if not isinstance(loop, BaseLoop):
        return 0, 0, False
    return loop.iter, loop.epoch, isinstance(loop, EpochBasedTrainLoop)
