"""Checking a config's SwanLab backends before training starts: names, ``init_kwargs``, secrets.

Used when the backend is built, by ``swanlab_backend.train``/``.test`` before a Runner
exists, and by :mod:`swanlab_backend.mmengine.config_check` while a config is being loaded.
"""
import difflib
from typing import Any, Dict, Optional

from ..alert_options import check_alerts
from ..swanlab_options import check_callbacks, check_settings, plain_options

BACKEND_NAMES = ('SwanlabVisBackend', 'SwanLabVisBackend')
MODES = ('online', 'cloud', 'local', 'offline', 'disabled')
API_KEY_FIX = 'remove it and set SWANLAB_API_KEY or run `swanlab login` instead'

# Types of the init_kwargs this backend checks before training starts.
# swanlab.init's keyword arguments, written out so that the training process need not import SwanLab
# (tests/unit/test_validation.py compares them with the installed swanlab.init); callbacks and settings are checked
# by swanlab_options.
SWANLAB_INIT_KEYS = ('reinit', 'log_dir', 'mode', 'workspace', 'project', 'public', 'name', 'color', 'description',
                     'job_type', 'group', 'tags', 'id', 'resume', 'parallel', 'config', 'callbacks', 'settings')
_STR_KEYS = ('project', 'workspace', 'experiment_name', 'name', 'description', 'notes',
             'job_type', 'group', 'color', 'id', 'log_dir', 'logdir', 'mode')


def validate_init_kwargs(init_kwargs: Dict[str, Any], source: Optional[str] = None) -> None:
    """Raises a ``ValueError`` naming the key when ``init_kwargs`` cannot work.

    Runs when the backend is built, so that a typo fails before training starts.
    ``source``: the config file they come from, named in the error. ``callbacks`` and ``settings`` may
    be objects (from a script) or plain data (from a config).
    """
    init_kwargs = plain_options(init_kwargs)
    accepted = set(SWANLAB_INIT_KEYS) | {'experiment_name', 'notes', 'logdir'}  # with the aliases it understands
    for key, value in init_kwargs.items():
        if key == 'api_key':
            raise ValueError(f'SwanlabVisBackend: do not put `api_key` in a config{f" ({source})" if source else ""}: '
                             f'it would be written to the work dir and logs; {API_KEY_FIX}.')
        if key not in accepted:
            raise ValueError(f'SwanlabVisBackend: unknown init_kwargs key {key!r}; '
                             f'swanlab.init accepts {sorted(accepted)}.')
        if key in _STR_KEYS and value is not None and not isinstance(value, str):
            raise ValueError(f'SwanlabVisBackend: init_kwargs[{key!r}] must be a string, '
                             f'got {type(value).__name__} {value!r}.')
    if init_kwargs.get('callbacks') is not None:
        check_callbacks(init_kwargs['callbacks'])
    if init_kwargs.get('settings') is not None:
        check_settings(init_kwargs['settings'])
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


def validate_visualizer_config(cfg: Any) -> None:
    """Checks the SwanLab backends of ``cfg.visualizer`` before a Runner exists.

    A Runner logs and dumps its config before it builds the visualizer; checking
    first keeps a misplaced ``api_key`` (or an alert channel's secret) out of the work dir and fails typos early.
    ``cfg``: an ``mmengine.Config`` or the plain dict a config file gives.
    """
    backends = (cfg.get('visualizer') or {}).get('vis_backends') or []
    for backend in backends:
        backend_type = backend.get('type') if isinstance(backend, dict) else None
        if backend_type in BACKEND_NAMES:
            validate_init_kwargs(dict(backend.get('init_kwargs') or {}), getattr(cfg, 'filename', None))
            check_alerts(backend.get('alerts'))
        elif isinstance(backend_type, str):
            hint = typo_hint(backend_type)
            if hint:
                raise KeyError(hint)


def typo_hint(name: str) -> Optional[str]:
    """The fix for a backend type that is close to, but not, this package's name (and no other backend's:
    ``WandbVisBackend`` is as close to it as a typo is)."""
    from mmengine.registry import VISBACKENDS
    if name in BACKEND_NAMES or VISBACKENDS.get(name) is not None or \
            not difflib.get_close_matches(name.lower(), ['swanlabvisbackend'], cutoff=0.8):
        return None
    return (f'{name!r} is not a registered visualization backend: use type=\'SwanlabVisBackend\' '
            "(or 'SwanLabVisBackend'), and custom_imports=dict(imports=['swanlab_backend']).")


def _valid_project(name: str) -> bool:
    return 0 < len(name) <= 100 and all(c.isascii() and (c.isalnum() or c in '_-+.') for c in name)
