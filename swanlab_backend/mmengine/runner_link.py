"""How the backend learns about the runner it serves.

MMEngine gives a backend neither the runner nor the phase it is in: validation
metrics arrive with ``step=epoch`` and test metrics never arrive. A
:class:`~swanlab_backend.mmengine.hook.SwanlabHook` tells it both. In order of preference:

1. ``custom_hooks=[dict(type='SwanlabHook')]`` in the config: MMEngine registers
   it, and it links the runner in ``before_run``.
2. Otherwise the backend, when the runner builds it, finds that runner
   (:func:`find_runner`, the one place that reads the call stack) and adds the
   hook once the runner has registered its own (:func:`ensure_swanlab_hook`).
"""
import sys
import time
import weakref
from typing import Any, List, Optional

from ..insights import SwanlabInsightsHook
from .hook import SwanlabHook


class RunnerLink:
    """The runner a backend serves, held weakly (a notebook drops its runners), with the hooks that tell
    the backend its phases."""

    def __init__(self, insights: Optional[dict]):
        self._insights, self._ref, self._next_search = insights, None, 0.0

    @property
    def runner(self) -> Any:
        return self._ref() if self._ref is not None else None

    @property
    def linked(self) -> bool:
        return self._ref is not None

    def link(self, runner: Any) -> None:
        """Follows ``runner`` from now on (idempotent)."""
        if runner is not None and self._ref is None:
            self._ref = weakref.ref(runner)
            ensure_swanlab_hook(runner, self._insights)

    def search_once_a_second(self) -> None:
        """A Visualizer built before its Runner is linked on first use; a script without one costs a stack
        walk a second."""
        if self._ref is None and time.monotonic() >= self._next_search:
            self._next_search = time.monotonic() + 1.0
            self.link(find_runner())


def find_runner(max_depth: int = 30) -> Optional[Any]:
    """The ``mmengine.runner.Runner`` building or calling the backend: the nearest one among the
    callers' locals. A last resort: MMEngine hands a backend no runner."""
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


def ensure_swanlab_hook(runner: Any, insights: Optional[dict] = None) -> None:
    """Makes sure ``runner`` has a ``SwanlabHook``, and a ``SwanlabInsightsHook(**insights)`` when
    ``insights`` is a dict: from its config, now, or right after it registers its own hooks."""
    wanted = [(SwanlabHook, {}, 'LOWEST')] + ([(SwanlabInsightsHook, insights, 'LOW')] if insights is not None else [])
    custom_hooks = (getattr(runner, 'cfg', None) or {}).get('custom_hooks') or []
    configured = {hook.get('type') for hook in custom_hooks if isinstance(hook, dict)}
    wanted = [w for w in wanted if w[0] not in configured and w[0].__name__ not in configured]
    if not wanted:
        return
    if hasattr(runner, '_hooks'):
        _add_hooks_once(runner, wanted)
        return
    # Runner.__init__ builds the visualizer before it creates `_hooks`: join in right after `register_hooks`.
    register_hooks = runner.register_hooks

    def register_hooks_then_swanlab(*args, **kwargs):
        register_hooks(*args, **kwargs)
        _add_hooks_once(runner, wanted)

    runner.register_hooks = register_hooks_then_swanlab


def _add_hooks_once(runner: Any, wanted: List[tuple]) -> None:
    for cls, kwargs, priority in wanted:
        if not any(isinstance(hook, cls) for hook in runner._hooks):
            runner.register_hook(cls(**kwargs), priority=priority)

