"""Writer side: one SwanLab run's start and finish, and where the user can see it.

- **Start** (:func:`start_run`): ``swanlab.init(mode='online')`` prompts with a TTY,
  raises without a key, retries ~16 s on an unreachable host and ~76 s on one that
  never answers. Here the mode is settled first (a key means online, no key the local
  dashboard), the API host is probed with a short timeout, and any failure falls back
  to offline logging, which ``swanlab sync`` uploads later.
- **Finish** (:func:`finish_run`): online, ``Run.finish()`` writes everything to the
  run's local record, then waits with no time limit until the cloud has taken it,
  retrying forever while the connection is lost. That wait is bounded by
  ``upload_timeout``; the user is told how to upload the rest.

:func:`announce` also runs in the training process, which tells from the writer's status where the
run is. The training's exits in between (an exception, Ctrl+C, SIGTERM, the interpreter's exit) are
:mod:`swanlab_backend.mmengine.run_exits`.
"""
import logging
import os
import threading
import time
from typing import Any, Dict, Optional, Tuple

from mmengine.logging import print_log

from .. import swanlab_options

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
