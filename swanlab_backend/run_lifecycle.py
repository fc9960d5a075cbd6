"""One SwanLab run's life: start and finish (in the writer), and the training's exits in between.

- **Start** (:func:`start_run`): ``swanlab.init(mode='online')`` prompts with a TTY,
  raises without a key, retries ~16 s on an unreachable host and ~76 s on one that
  never answers. Here the mode is settled first (a key means online, no key the local
  dashboard), the API host is probed with a short timeout, and any failure falls back
  to offline logging, which ``swanlab sync`` uploads later.
- **Finish** (:func:`finish_run`): online, ``Run.finish()`` writes everything to the
  run's local record, then waits with no time limit until the cloud has taken it,
  retrying forever while the connection is lost. That wait is bounded by
  ``upload_timeout``; the user is told how to upload the rest.
- **Exits** (:func:`finish_at_exit`, in the training process): an exception, Ctrl+C,
  SIGTERM (torchrun, Slurm) or the interpreter's exit finishes every open run first,
  as crashed, aborted or a success, and waits until its writer has written it (a
  second Ctrl+C stops that wait). SwanLab installs its own excepthook, SIGINT handler
  and atexit hook at each ``swanlab.init``; ours are installed once per process and
  kept in front of SwanLab's, which then find the run finished and only pass the
  exception or signal on. Backends are held weakly: a finished runner is not kept
  alive by them.
"""
import atexit
import logging
import os
import signal
import sys
import threading
import time
import traceback
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

from mmengine.logging import print_log

from . import swanlab_options

PROBE_TIMEOUT_S = 3.0
UPLOAD_TIMEOUT_S = 60.0


# ---- start ---------------------------------------------------------------------------------------------------

def choose_mode(requested: Optional[str]) -> Tuple[str, str]:
    """Returns ``(mode, reason)``: the forced mode, else online with a key, else local."""
    import swanlab
    requested = requested or os.environ.get('SWANLAB_MODE')
    if requested == 'cloud':
        requested = 'online'
    has_key = bool(swanlab.Settings().api_key)
    if requested == 'online' and not has_key:
        return 'offline', ('online mode was asked for but no API key is set (SWANLAB_API_KEY or '
                           '`swanlab login`)')
    if requested:
        return requested, 'requested'
    if has_key:
        return 'online', 'an API key is set'
    return 'local', 'no API key is set'


def probe_api_host(timeout: float = PROBE_TIMEOUT_S) -> Optional[str]:
    """Returns why the SwanLab API host cannot be used now, or None if it answers."""
    import requests
    import swanlab
    host = swanlab.Settings().api_host
    try:
        requests.get(host, timeout=(timeout, timeout))
    except requests.RequestException as e:
        return f'the API host {host} did not answer within {timeout:.0f} s ({type(e).__name__})'
    return None


def local_mode_available() -> bool:
    try:
        import swanboard  # noqa: F401  (the local dashboard; swanlab[dashboard])
    except ImportError:
        return False
    return True


def start_run(init_kwargs: Dict[str, Any], resume_id: Optional[str] = None,
              upload_timeout: float = UPLOAD_TIMEOUT_S, new_run_kwargs: Optional[Dict[str, Any]] = None,
              announce_start: bool = True) -> Any:
    """Starts the run for ``init_kwargs`` (already validated), falling back as described above.

    ``resume_id``: the run a resumed training (or a test of its checkpoint) continues. Only
    the cloud can reopen a run (``resume='allow'``); local and offline modes start a new
    one, with ``new_run_kwargs`` added. ``upload_timeout`` bounds finishing a run this
    replaces, as :func:`finish_run` does. ``announce_start``: say where the run can be seen.
    """
    import swanlab
    started = time.monotonic()
    kwargs = dict(init_kwargs)
    mode, reason = choose_mode(kwargs.pop('mode', None))
    fallback = None
    if mode == 'offline' and reason != 'requested':
        fallback = reason
    if mode == 'local' and not local_mode_available():
        mode, fallback = 'offline', 'the local dashboard (swanlab[dashboard]) is not installed'
    if mode == 'online':
        fallback = probe_api_host()
        if fallback:
            mode = 'offline'
    if mode == 'online' and resume_id and 'id' not in kwargs:
        kwargs.update(id=resume_id, resume='allow')
    else:
        kwargs.update(new_run_kwargs or {})
    if swanlab.has_run():  # a run kept open after an earlier runner.train() in this process
        finish_run(swanlab.get_run(), 'success', None, upload_timeout)
    settings = swanlab_options.build_settings(kwargs.pop('settings', None))
    kwargs['callbacks'] = swanlab_options.build_callbacks(kwargs.pop('callbacks', None))
    try:
        run = swanlab.init(mode=mode, settings=settings, **kwargs)
    except Exception as e:
        if mode != 'online':
            raise
        fallback = f'swanlab.init failed online ({type(e).__name__}: {e})'
        if swanlab.has_run():
            finish_run(swanlab.get_run(), 'crashed', fallback, upload_timeout)
        mode = 'offline'
        kwargs = {k: v for k, v in kwargs.items() if k not in ('id', 'resume')}
        run = swanlab.init(mode=mode, settings=settings, **dict(kwargs, **(new_run_kwargs or {})))
    if fallback:
        print_log(f'SwanLab: logging offline because {fallback} '
                  f'(decided in {time.monotonic() - started:.1f} s); training goes on. '
                  f'Upload later with: swanlab sync {run.dir}', logger='current', level=logging.WARNING)
    if announce_start:
        announce(run, mode)
    return run


def announce(run: Any, mode: str, finished: Optional[str] = None) -> None:
    """Tells the user where this run can be seen: once when it starts, and again when it is
    ``finished`` (its final state), so that the last lines of a training say where to look."""
    if mode == 'online':
        where = f'online at {run.url}'
    elif mode == 'local':
        where = f'locally: swanlab watch {run.dir.parent} (then open the URL it prints)'
    elif mode == 'offline':
        where = f'offline in {run.dir}; upload with: swanlab sync {run.dir}'
    else:
        return
    what = f'the run finished ({finished}); see it' if finished else 'tracking this run'
    print_log(f'SwanLab: {what} {where}', logger='current')


# ---- finish --------------------------------------------------------------------------------------------------

def finish_run(run: Any, state: str, error: Optional[str], upload_timeout: float) -> None:
    """Finishes ``run`` as ``state``; online, waits at most ``upload_timeout`` s for the upload."""
    if getattr(run, 'mode', None) != 'online':  # local writes only: waiting for them loses nothing
        run.finish(state=state, error=error)
        return
    started = time.monotonic()
    failure = []

    def finish() -> None:
        try:
            run.finish(state=state, error=error)
        except Exception as e:  # reported by the caller's thread, below
            failure.append(e)

    # A daemon thread: if the cloud never answers, it must not keep the process alive at exit.
    thread = threading.Thread(target=finish, name='swanlab-finish', daemon=True)
    thread.start()
    thread.join(upload_timeout)
    if failure:
        raise failure[0]
    if thread.is_alive():
        print_log(f'SwanLab: the cloud did not take the last data within {time.monotonic() - started:.0f} s '
                  f'(upload_timeout); the whole run is kept in {run.dir}. Training is not held up: upload '
                  f'it with: swanlab sync {run.dir}', logger='current', level=logging.WARNING)


# ---- exits ---------------------------------------------------------------------------------------------------

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
