"""Both sides: the ``alerts=dict(...)`` argument of ``SwanlabVisBackend``: checked in training, used in the writer.

Which alerts are on, and where they go: ``channels`` lists a plain webhook
(``dict(type='webhook', url_env='ALERT_WEBHOOK_URL')``, a JSON POST) and SwanLab's notification plugins by
their type name (``dict(type='EmailCallback', sender_email=..., receiver_email=..., password_env='SMTP_PASSWORD',
smtp_server=..., port=587)``). A secret argument (a webhook URL, which holds its token; a password, a bot token,
a signing secret) comes from an environment variable (``<argument>_env``) or a file (``<argument>_file``), never
from the config itself: MMEngine writes the config into the work dir and its log, and this backend shows it on
the dashboard. The training process checks (:func:`check_alerts`); the writer process reads the secrets
(:func:`resolve_channel`) right before it sends.
"""
import os
from typing import Any, Dict, List, Optional, Tuple

from .swanlab_options import CALLBACKS, _did_you_mean

DEFAULTS: Dict[str, Any] = {
    'nan': True,  # a loss that becomes NaN or Inf: once per loss
    'stall': True,  # no iteration for stall_minutes while the training process lives
    'stall_minutes': None,  # None: 10 x the median iteration time of the phase, at least MIN_STALL_MINUTES
    'crash': True,  # crashed, killed or aborted: the exception and the last console lines
    'finished': True,  # the summary: final validation and test metrics, best checkpoint, wall time
    'new_best': False,  # each new best validation metric (noisy early in a training)
    'max_per_hour': 20,  # deliveries beyond this are only written into the run and the console
    'channels': [],
}
MIN_STALL_MINUTES, STALL_FACTOR = 10.0, 10.0
WEBHOOK = 'webhook'
# The channel arguments that hold a secret: given as <argument>_env or <argument>_file only.
SECRET_ARGUMENTS = ('webhook_url', 'url', 'password', 'secret', 'bot_token', 'key')
SOURCES = ('_env', '_file')
# Channel types and their arguments: the plain webhook, and SwanLab's notification plugins (not its CSVWriter).
CHANNELS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    WEBHOOK: (('url', 'timeout'), ('url',)),
    **{name: (accepted, required) for name, (module, accepted, required) in CALLBACKS.items()
       if module.endswith('notification')},
}
_EXAMPLE = "channels=[dict(type='webhook', url_env='ALERT_WEBHOOK_URL')]"


def check_alerts(alerts: Optional[dict]) -> dict:
    """The alert options with their defaults, once they are known to work; else a ``ValueError`` with the fix.

    The secrets a channel names must be there now (an unset variable, a missing file): training should not run
    for days to find out that its alerts cannot be sent.
    """
    if alerts is None:
        alerts = {}
    if not isinstance(alerts, dict):
        raise ValueError(f'SwanlabVisBackend: alerts must be a dict, e.g. alerts=dict({_EXAMPLE}); '
                         f'got {type(alerts).__name__}.')
    for key in alerts:
        if key not in DEFAULTS:
            raise ValueError(f'SwanlabVisBackend: alerts has no option {key!r}{_did_you_mean(key, DEFAULTS)}; '
                             f'it takes {sorted(DEFAULTS)}.')
    options = {**DEFAULTS, **alerts}
    for key in ('nan', 'stall', 'crash', 'finished', 'new_best'):
        if not isinstance(options[key], bool):
            raise ValueError(f'SwanlabVisBackend: alerts[{key!r}] takes True or False, not {options[key]!r}.')
    minutes = options['stall_minutes']
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0):
        raise ValueError(f"SwanlabVisBackend: alerts['stall_minutes'] takes a number of minutes above 0, or None "
                         f'(10 x the median iteration time, at least {MIN_STALL_MINUTES:g} minutes); not {minutes!r}.')
    limit = options['max_per_hour']
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"SwanlabVisBackend: alerts['max_per_hour'] takes a whole number above 0, not {limit!r}.")
    channels = options['channels']
    if not isinstance(channels, (list, tuple)):
        raise ValueError(f"SwanlabVisBackend: alerts['channels'] must be a list, e.g. {_EXAMPLE}.")
    options['channels'] = [_check_channel(channel, index) for index, channel in enumerate(channels)]
    return options


def _check_channel(channel: Any, index: int) -> dict:
    where = f"alerts['channels'][{index}]"
    if not isinstance(channel, dict) or 'type' not in channel:
        raise ValueError(f'SwanlabVisBackend: {where} must be a dict with a type, e.g. {_EXAMPLE}.')
    kind = channel['type']
    if kind not in CHANNELS:
        raise ValueError(f'SwanlabVisBackend: {where} has type={kind!r}, which is no alert channel'
                         f'{_did_you_mean(str(kind), CHANNELS)}; use one of {sorted(CHANNELS)}.')
    accepted, required = CHANNELS[kind]
    given = {}
    for name, value in channel.items():
        if name == 'type':
            continue
        base = next((name[:-len(s)] for s in SOURCES if name.endswith(s) and name[:-len(s)] in accepted), name)
        if base not in accepted:
            raise ValueError(f'SwanlabVisBackend: {where} ({kind}) has no argument {name!r}'
                             f'{_did_you_mean(name, accepted)}; it takes {list(accepted)}.')
        if base == name and base in SECRET_ARGUMENTS:
            raise ValueError(f'SwanlabVisBackend: {where} ({kind}) has {name!r} written in the config, which '
                             f'MMEngine saves into the work dir and its log: put it in an environment variable '
                             f'and write {name}_env=\'VARIABLE\', or in a file and write {name}_file=\'path\'.')
        if base in given:
            raise ValueError(f'SwanlabVisBackend: {where} ({kind}) gives {base!r} twice ({given[base]!r} and '
                             f'{name!r}): keep one.')
        given[base] = name
        if base != name:
            _secret(value, name, where)  # there now, or the fix
    missing = [a for a in required if a not in given]
    if missing:
        raise ValueError(f'SwanlabVisBackend: {where} ({kind}) needs {missing} (secrets as <argument>_env or '
                         f'<argument>_file); it takes {list(accepted)}.')
    return dict(channel)


def resolve_channel(channel: dict) -> Tuple[str, Dict[str, Any], List[str]]:
    """``(type, arguments, secrets)`` of a checked channel, its secrets read from their variables and files
    (writer side; ``secrets`` are the values to keep out of every message)."""
    arguments, secrets = {}, []
    for name, value in channel.items():
        if name == 'type':
            continue
        source = next((s for s in SOURCES if name.endswith(s) and name[:-len(s)] in CHANNELS[channel['type']][0]),
                      None)
        if source is None:
            arguments[name] = value
            continue
        secret = _secret(value, name, 'an alert channel')
        arguments[name[:-len(source)]] = secret
        secrets.append(secret)
    return channel['type'], arguments, secrets


def _secret(value: Any, name: str, where: str) -> str:
    """The secret ``name`` (``<argument>_env``: a variable's name; ``<argument>_file``: a path) points at."""
    if not isinstance(value, str) or not value:
        raise ValueError(f'SwanlabVisBackend: {where} {name} takes the name of '
                         f'{"an environment variable" if name.endswith("_env") else "a file"}, not {value!r}.')
    if name.endswith('_env'):
        secret = os.environ.get(value)
        if not secret:
            raise ValueError(f'SwanlabVisBackend: {where} {name}={value!r}, but the environment variable {value} '
                             f'is not set: export {value}=... before training (the writer process reads it).')
        return secret
    try:
        with open(os.path.expanduser(value), encoding='utf-8') as f:
            secret = f.read().strip()
    except OSError as e:
        raise ValueError(f'SwanlabVisBackend: {where} {name}={value!r} cannot be read ({e.strerror}): write the '
                         'secret into that file (chmod 600), or name another.') from None
    if not secret:
        raise ValueError(f'SwanlabVisBackend: {where} {name}={value!r} is empty: write the secret into it.')
    return secret
