"""Starting a SwanLab run that can never stall or kill training.

``swanlab.init(mode='online')`` prompts with a TTY, raises without a key, retries
~16 s on an unreachable host and ~76 s on one that never answers. Here the mode
is settled first (a key means online, no key means the local dashboard), the
API host is probed with a short timeout, and any failure falls back to offline
logging, which ``swanlab sync`` uploads later.
"""
import inspect
import os
import time
from typing import Any, Dict, Optional, Tuple

from mmengine.logging import print_log

from .run_finish import UPLOAD_TIMEOUT_S, finish_run

MODES = ('online', 'cloud', 'local', 'offline', 'disabled')
PROBE_TIMEOUT_S = 3.0
_WARNING = 30

# Types of the init_kwargs this backend checks before training starts.
_STR_KEYS = ('project', 'workspace', 'experiment_name', 'name', 'description', 'notes',
             'job_type', 'group', 'color', 'id', 'log_dir', 'logdir', 'mode')


def validate_init_kwargs(init_kwargs: Dict[str, Any], source: Optional[str] = None) -> None:
    """Raises a ``ValueError`` naming the key when ``init_kwargs`` cannot work.

    Runs when the backend is built, so that a typo fails before training starts.
    ``source``: the config file they come from, named in the error.
    """
    import swanlab
    accepted = set(inspect.signature(swanlab.init).parameters) - {'kwargs', 'callbacks', 'settings'}
    accepted |= {'experiment_name', 'notes', 'logdir'}  # aliases swanlab.init understands
    for key, value in init_kwargs.items():
        if key == 'api_key':
            raise ValueError(f'SwanlabVisBackend: do not put `api_key` in a config{f" ({source})" if source else ""}: '
                             'it would be written to the work dir and logs; remove it and set SWANLAB_API_KEY '
                             'or run `swanlab login` instead.')
        if key not in accepted:
            raise ValueError(f'SwanlabVisBackend: unknown init_kwargs key {key!r}; '
                             f'swanlab.init accepts {sorted(accepted)}.')
        if key in _STR_KEYS and value is not None and not isinstance(value, str):
            raise ValueError(f'SwanlabVisBackend: init_kwargs[{key!r}] must be a string, '
                             f'got {type(value).__name__} {value!r}.')
    tags = init_kwargs.get('tags')
    if tags is not None and (not isinstance(tags, (list, tuple)) or
                             not all(isinstance(t, str) for t in tags)):
        raise ValueError(f'SwanlabVisBackend: init_kwargs["tags"] must be a list of strings, got {tags!r}.')
    mode = init_kwargs.get('mode')
    if mode is not None and mode not in MODES:
        raise ValueError(f'SwanlabVisBackend: init_kwargs["mode"] is {mode!r}; use one of {MODES}.')
    project = init_kwargs.get('project')
    if project is not None and not _valid_project(project):
        raise ValueError(f'SwanlabVisBackend: project name {project!r} may only hold letters, digits and '
                         '"_-+." (1-100 characters).')


BACKEND_NAMES = ('SwanlabVisBackend', 'SwanLabVisBackend')


def validate_visualizer_config(cfg: Any) -> None:
    """Checks the SwanLab backends of ``cfg.visualizer`` before a Runner exists.

    A Runner logs and dumps its config before it builds the visualizer; checking
    first keeps a misplaced ``api_key`` out of the work dir and fails typos early.
    """
    backends = (cfg.get('visualizer') or {}).get('vis_backends') or []
    for backend in backends:
        backend_type = backend.get('type') if isinstance(backend, dict) else None
        if backend_type in BACKEND_NAMES:
            validate_init_kwargs(dict(backend.get('init_kwargs') or {}), getattr(cfg, 'filename', None))
        elif isinstance(backend_type, str):
            hint = typo_hint(backend_type)
            if hint:
                raise KeyError(hint)


def typo_hint(name: str) -> Optional[str]:
    """The fix for a backend type that is close to, but not, this package's name."""
    import difflib
    if name in BACKEND_NAMES or not difflib.get_close_matches(name.lower(), ['swanlabvisbackend'], cutoff=0.8):
        return None
    return (f'{name!r} is not a registered visualization backend: use type=\'SwanlabVisBackend\' '
            "(or 'SwanLabVisBackend'), and custom_imports=dict(imports=['swanlab_backend']).")


def _valid_project(name: str) -> bool:
    return 0 < len(name) <= 100 and all(c.isascii() and (c.isalnum() or c in '_-+.') for c in name)


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
              upload_timeout: float = UPLOAD_TIMEOUT_S, new_run_kwargs: Optional[Dict[str, Any]] = None) -> Any:
    """Starts the run for ``init_kwargs`` (already validated), falling back as described above.

    ``resume_id``: the run a resumed training (or a test of its checkpoint) continues. Only
    the cloud can reopen a run (``resume='allow'``); local and offline modes start a new
    one, with ``new_run_kwargs`` added. ``upload_timeout`` bounds finishing a run this
    replaces, as :func:`finish_run` does.
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
    settings = swanlab.Settings(interactive=False)
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
                  f'Upload later with: swanlab sync {run.dir}', logger='current', level=_WARNING)
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
