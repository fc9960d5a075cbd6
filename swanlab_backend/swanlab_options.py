"""SwanLab's own ``callbacks`` and ``settings`` in ``init_kwargs``: checked here, built in the writer.

From a config they are plain data: ``callbacks=[dict(type='LarkCallback', webhook_url=...)]`` and
``settings=dict(probe=dict(git=False))``. From a script they may also be objects: a callback is
pickled for the writer process (the journal holds plain data only), a ``swanlab.Settings`` becomes
the dict of the fields it sets. The training process checks names and arguments against the tables
below, written out so that it need not import SwanLab (tests/unit/test_validation.py compares them
with the installed SwanLab); the writer process builds the objects (:func:`build_callbacks`,
:func:`build_settings`) right before ``swanlab.init``.
"""
import base64
import difflib
import os
import pickle
import sys
from typing import Any, Dict, List, Optional, Tuple

PICKLED = '__pickled__'  # the key of a callback object handed over pickled: {PICKLED: base64 text}
# type name -> (module, constructor arguments, the required ones)
CALLBACKS: Dict[str, Tuple[str, Tuple[str, ...], Tuple[str, ...]]] = {
    'CSVWriter': ('swanlab.plugin.writer', ('dir', 'filename'), ()),
    'LarkCallback': ('swanlab.plugin.notification', ('webhook_url', 'secret', 'language'), ('webhook_url',)),
    'DingTalkCallback': ('swanlab.plugin.notification', ('webhook_url', 'secret', 'language'), ('webhook_url',)),
    'WeComCallback': ('swanlab.plugin.notification', ('webhook_url', 'language'), ('webhook_url',)),
    'WXWorkCallback': ('swanlab.plugin.notification', ('webhook_url', 'language'), ('webhook_url',)),
    'SlackCallback': ('swanlab.plugin.notification', ('webhook_url', 'language'), ('webhook_url',)),
    'DiscordCallback': ('swanlab.plugin.notification', ('webhook_url', 'language'), ('webhook_url',)),
    'TelegramCallback': ('swanlab.plugin.notification', ('bot_token', 'chat_id', 'language'),
                         ('bot_token', 'chat_id')),
    'EmailCallback': ('swanlab.plugin.notification',
                      ('sender_email', 'receiver_email', 'password', 'smtp_server', 'port', 'language'),
                      ('sender_email', 'receiver_email', 'password')),
    'BarkCallback': ('swanlab.plugin.notification',
                     ('url', 'title', 'bark_level', 'icon', 'group', 'click_jump', 'language', 'key'), ()),
}
# The fields of swanlab.Settings, nested ones dotted, and the kind of value each takes: a type's name, or the choices;
# with "?", None too.
_BOOLS = ('project.public', 'core.skip_store', 'probe.hardware', 'probe.runtime', 'probe.requirements', 'probe.conda',
          'probe.git', 'probe.swanlab', 'probe.monitor')
_INTS = ('run.dir_max_length', 'run.dir_create_retries', 'terminal.max_length', 'integration.webhook.timeout',
         'integration.dashboard.port', 'core.section_rule', 'core.record_batch', 'core.save_split', 'core.save_size',
         'core.save_part', 'core.save_batch', 'probe.monitor_interval')
SETTINGS_FIELDS: Dict[str, Any] = {
    'interactive': 'bool', 'mode': ('disabled', 'online', 'local', 'offline'), 'log_dir': 'path', 'api_key': 'str?',
    'api_host': 'str', 'web_host': 'str', 'project.name': 'str?', 'project.workspace': 'str?',
    'experiment.name': 'str?', 'experiment.color': 'str?', 'experiment.description': 'str?', 'experiment.tags': 'list',
    'experiment.group': 'str?', 'experiment.job_type': 'str?',
    'run.id': 'str?', 'run.resume': ('must', 'allow', 'never'), 'run.parallel': ('none', 'shared'),
    'run.history': 'path?', 'run.config': 'path?', 'run.dir': 'str?',
    'terminal.proxy_type': ('all', 'stdout', 'stderr', 'none'),
    'integration.webhook.url': 'str', 'integration.webhook.value': 'str', 'integration.dashboard.host': 'str',
    'core.record_interval': 'float', 'probe.monitor_disk_dir': 'path',
    **{field: 'bool' for field in _BOOLS}, **{field: 'int' for field in _INTS},
}
_KINDS = {'bool': lambda v: isinstance(v, bool), 'int': lambda v: isinstance(v, int) and not isinstance(v, bool),
          'float': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          'str': lambda v: isinstance(v, str), 'path': lambda v: isinstance(v, (str, os.PathLike)),
          'list': lambda v: isinstance(v, (list, tuple)) and all(isinstance(t, str) for t in v)}
# Settings this backend decides itself, or that init_kwargs set: the fix for each.
_SETTINGS_FIXES = {
    'api_key': 'remove it and set SWANLAB_API_KEY or run `swanlab login` instead',
    'interactive': 'remove it: the run is started in the writer process, which never asks questions',
    'mode': "use init_kwargs['mode'] instead", 'log_dir': "use init_kwargs['log_dir'] instead",
    'project': "use init_kwargs['project'] and ['workspace'] instead",
    'experiment': "use init_kwargs['experiment_name'], ['description'], ['tags'] ... instead",
}
_PLAIN = (dict, str, bytes, int, float, bool)  # not callback objects: check_callbacks refuses them
_CALLBACK_EXAMPLE = "callbacks=[dict(type='LarkCallback', webhook_url='https://...')]"


class OptionError(ValueError):
    """A callback or the settings could not be built in the writer process."""


def plain_options(init_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``init_kwargs`` with its ``callbacks`` and ``settings`` objects as the plain data the writer gets.

    Raises:
        ValueError: for an object that cannot cross to the writer process, with the dict form to use.
    """
    kwargs = dict(init_kwargs)
    callbacks = kwargs.get('callbacks')
    if isinstance(callbacks, (list, tuple)):
        kwargs['callbacks'] = [c if isinstance(c, _PLAIN) else _pickled(c, i) for i, c in enumerate(callbacks)]
    elif callbacks is not None and not isinstance(callbacks, _PLAIN):  # one object
        kwargs['callbacks'] = [_pickled(callbacks, 0)]
    settings = kwargs.get('settings')
    if settings is not None and not isinstance(settings, dict) and hasattr(settings, 'model_dump'):
        # A swanlab.Settings counts what it read from the environment (SWANLAB_API_KEY, SWANLAB_MODE) as set: the
        # fields this backend or init_kwargs decide are left out (the writer reads the same environment).
        fields = settings.model_dump(exclude_unset=True, mode='json')
        kwargs['settings'] = {k: v for k, v in fields.items() if k not in _SETTINGS_FIXES}
    return kwargs


def _pickled(callback: Any, index: int) -> dict:
    where = f"init_kwargs['callbacks'][{index}]"
    fix = f'pass it as a dict instead: {_CALLBACK_EXAMPLE}'
    if type(callback).__module__ == '__main__':
        raise ValueError(f'SwanlabVisBackend: {where} is a {type(callback).__name__} defined in the script '
                         f'itself, which the writer process cannot import: define it in a module, or {fix}.')
    try:
        data = pickle.dumps(callback)
    except Exception as e:
        raise ValueError(f'SwanlabVisBackend: {where} ({type(callback).__name__}) cannot be handed to the writer '
                         f'process, which runs the SwanLab run ({type(e).__name__}: {e}); {fix}.') from None
    return {PICKLED: base64.b64encode(data).decode('ascii'), 'import_root': _import_root(type(callback).__module__)}


def _import_root(module_name: str) -> Optional[str]:
    """The folder ``module_name`` is imported from (a script's own folder is not on the writer's path)."""
    file = getattr(sys.modules.get(module_name), '__file__', None)
    if not file:
        return None
    root = os.path.dirname(os.path.abspath(file))
    for _ in range(module_name.count('.') + (os.path.basename(file).startswith('__init__.'))):
        root = os.path.dirname(root)
    return root


def check_callbacks(callbacks: Any) -> None:
    """Raises a ``ValueError`` naming the callback, the argument and the fix when ``callbacks`` cannot be built."""
    if not isinstance(callbacks, (list, tuple)):
        raise ValueError(f"SwanlabVisBackend: init_kwargs['callbacks'] must be a list, e.g. {_CALLBACK_EXAMPLE}.")
    for index, callback in enumerate(callbacks):
        where = f"init_kwargs['callbacks'][{index}]"
        if not isinstance(callback, dict):
            raise ValueError(f'SwanlabVisBackend: {where} must be a dict with a type, e.g. {_CALLBACK_EXAMPLE}.')
        if PICKLED in callback:
            continue
        name = callback.get('type')
        if name not in CALLBACKS:
            raise ValueError(f'SwanlabVisBackend: {where} has type={name!r}, which is not one of SwanLab\'s '
                             f'callbacks{_did_you_mean(str(name), CALLBACKS)}; use one of '
                             f'{sorted(CALLBACKS)}, e.g. {_CALLBACK_EXAMPLE}; any other callback: pass the '
                             'object from a script.')
        _, accepted, required = CALLBACKS[name]
        arguments = set(callback) - {'type'}
        for argument in sorted(arguments - set(accepted)):
            raise ValueError(f'SwanlabVisBackend: {where} ({name}) has no argument {argument!r}'
                             f'{_did_you_mean(argument, accepted)}; it takes {list(accepted)}.')
        missing = [a for a in required if a not in arguments]
        if missing:
            raise ValueError(f'SwanlabVisBackend: {where} ({name}) needs {missing}; it takes {list(accepted)}.')


def check_settings(settings: Any) -> None:
    """Raises a ``ValueError`` naming the field and the fix when ``settings`` cannot work (SwanLab itself
    ignores a field it does not know)."""
    if not isinstance(settings, dict):
        raise ValueError("SwanlabVisBackend: init_kwargs['settings'] must be a dict (or a swanlab.Settings "
                         f"from a script), e.g. settings=dict(probe=dict(git=False)); got {type(settings).__name__}.")
    for path, value in _leaves(settings):
        top = path.split('.')[0]
        if top in _SETTINGS_FIXES:
            raise ValueError(f"SwanlabVisBackend: init_kwargs['settings'] sets {path!r}: {_SETTINGS_FIXES[top]}.")
        if path not in SETTINGS_FIELDS:
            raise ValueError(f"SwanlabVisBackend: init_kwargs['settings'] has no field {path!r}"
                             f'{_did_you_mean(path, SETTINGS_FIELDS)}; swanlab.Settings has '
                             f'{[f for f in SETTINGS_FIELDS if f.split(".")[0] not in _SETTINGS_FIXES]}.')
        kind = SETTINGS_FIELDS[path]
        if value is None and isinstance(kind, str) and kind.endswith('?'):
            continue
        if not (value in kind if isinstance(kind, tuple) else _KINDS[kind.rstrip('?')](value)):
            wanted = f'one of {kind}' if isinstance(kind, tuple) else f'a {kind.rstrip("?")}'
            raise ValueError(f"SwanlabVisBackend: init_kwargs['settings'] field {path!r} takes {wanted}, "
                             f'not a {type(value).__name__}.')


def _leaves(settings: dict, prefix: str = '') -> List[Tuple[str, Any]]:
    leaves = []
    for key, value in settings.items():
        path = f'{prefix}{key}'
        groups = {f.rsplit('.', 1)[0] for f in SETTINGS_FIELDS if '.' in f}
        groups |= {g.split('.')[0] for g in groups}
        if isinstance(value, dict) and path in groups:
            leaves.extend(_leaves(value, f'{path}.'))
        else:
            leaves.append((path, value))
    return leaves


# ---- in the writer process ---------------------------------------------------------------------------------

def build_callbacks(callbacks: Optional[list]) -> Optional[list]:
    """The callback objects of the plain data :func:`plain_options` made (imports SwanLab)."""
    if not callbacks:
        return None
    import importlib
    built = []
    for callback in callbacks:
        try:
            if PICKLED in callback:
                root = callback.get('import_root')
                if root and root not in sys.path:
                    sys.path.append(root)
                built.append(pickle.loads(base64.b64decode(callback[PICKLED])))
                continue
            arguments = dict(callback)
            name = arguments.pop('type')
            built.append(getattr(importlib.import_module(CALLBACKS[name][0]), name)(**arguments))
        except Exception as e:
            what = 'a callback object' if PICKLED in callback else callback.get('type')
            raise OptionError(f"init_kwargs['callbacks'] ({what}) could not be built in the writer process: "
                              f'{type(e).__name__}: {e}') from None
    return built


def build_settings(settings: Optional[dict]) -> Any:
    """The ``swanlab.Settings`` of the run: the fields of ``settings``, never interactive (imports SwanLab)."""
    import swanlab
    try:
        return swanlab.Settings(**dict(settings or {}, interactive=False))
    except Exception as e:
        raise OptionError(f"init_kwargs['settings'] could not be built in the writer process: "
                          f'{type(e).__name__}: {e}') from None


def _did_you_mean(name: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f' (did you mean {close[0]!r}?)' if close else ''
