"""Training side: every way out of the training process finishes its open SwanLab runs first.

An exception, Ctrl+C, SIGTERM (torchrun, Slurm) or the interpreter's exit finishes every open run
first, as crashed, aborted or a success, and waits until its writer has written it (a second Ctrl+C
stops that wait). SwanLab installs its own excepthook, SIGINT handler and atexit hook at each
``swanlab.init``; ours are installed once per process and kept in front of SwanLab's, which then
find the run finished and only pass the exception or signal on. Backends are held weakly: a
finished runner is not kept alive by them. A run's start and finish themselves are the writer's
(:mod:`swanlab_backend.writer.run_lifecycle`).
"""
import atexit
import os
import signal
import sys
import threading
import traceback
import weakref
from typing import Any, Callable, Dict, Optional

_open: 'weakref.WeakSet' = weakref.WeakSet()  # objects with a finish(state, error, close_timeout) method
_next: Dict[str, Any] = {}   # the handler each of ours passes on to (SwanLab's, for its newest run)
_first: Dict[str, Any] = {}  # what was there before we came: used when SwanLab's handler calls ours back
_inside: Dict[str, bool] = {}


def finish_at_exit(owner: Any) -> None:
    """Makes every way out of the process finish ``owner``'s run first, in bounded time.

    ``owner.finish(state, error, close_timeout)`` is called with ``'crashed'`` (and the
    traceback) on an uncaught exception or SIGTERM, ``'aborted'`` on Ctrl+C, ``'success'``
    at exit; :func:`forget` drops it once finished. Call it right after ``swanlab.init``.
    """
    _open.add(owner)
    _put_in_front('excepthook', sys.excepthook, _on_exception, lambda handler: setattr(sys, 'excepthook', handler))
    atexit.unregister(_at_exit)  # registered once, and last, so that it runs before SwanLab's
    atexit.register(_at_exit)
    if threading.current_thread() is threading.main_thread():
        for name, signum, handler in (('sigint', signal.SIGINT, _on_sigint), ('sigterm', signal.SIGTERM, _on_sigterm)):
            _put_in_front(name, signal.getsignal(signum), handler, lambda h, signum=signum: signal.signal(signum, h))


def finish_others(owner: Any) -> None:
    """``owner`` starts its run: every other one still open in this process is finished first, as a
    success, or as crashed where its ``train()`` raised and the caller caught it (the owner decides).
    A runner keeps its run open after ``train()`` for a ``test()`` that may follow; the next runner's
    run is the latest point where the last one is known to be done with it."""
    for other in list(_open):
        if other is not owner:
            other.finish('success', None)
            _open.discard(other)


def forget(owner: Any) -> None:
    _open.discard(owner)


def _put_in_front(name: str, current: Any, ours: Callable, install: Callable) -> None:
    if current is not ours:
        _next[name] = current
        _first.setdefault(name, current)
        install(ours)


def _finish_all(state: str, error: Optional[str], close_timeout: Optional[float] = None) -> None:
    for owner in list(_open):
        owner.finish(state, error, close_timeout)
        _open.discard(owner)


def _passing_on(name: str) -> Any:
    """SwanLab's handler calls the one it found (ours) back: then go to what was there before us."""
    return _first[name] if _inside.get(name) else _next[name]


def _on_exception(exc_type, exc, tb) -> None:
    handler = _passing_on('excepthook')
    if not _inside.get('excepthook'):
        _inside['excepthook'] = True
        state = 'aborted' if issubclass(exc_type, KeyboardInterrupt) else 'crashed'
        text = ''.join(traceback.format_exception(exc_type, exc, tb))
        for owner in list(_open):  # what the handler below prints, the run's console log has too
            getattr(owner, 'record_console', lambda stream, text: None)('stderr', text)
        _finish_all(state, text)
    try:
        handler(exc_type, exc, tb)
    finally:
        _inside['excepthook'] = False


def _at_exit() -> None:
    _finish_all('success', None)  # a run kept open after train() for a test() that never came


def _on_sigint(signum, frame) -> None:
    handler = _passing_on('sigint')
    if not _inside.get('sigint'):
        _inside['sigint'] = True
        _finish_all('aborted', 'KeyboardInterrupt by user', close_timeout=5.0)
    try:
        if callable(handler):
            handler(signum, frame)
        else:
            raise KeyboardInterrupt
    finally:
        _inside['sigint'] = False


def _on_sigterm(signum, frame) -> None:
    # SwanLab leaves a terminated run 'running' forever; torchrun and Slurm end jobs this way when another
    # rank fails or time runs out.
    _finish_all('crashed', 'terminated by SIGTERM (another rank failed, or the job was cancelled or ran out '
                           'of time)', close_timeout=5.0)
    signal.signal(signal.SIGTERM, _next['sigterm'])
    if callable(_next['sigterm']):
        _next['sigterm'](signum, frame)
    else:
        os.kill(os.getpid(), signal.SIGTERM)
