"""Making an MMEngine config safe and searchable for the dashboard.

A config may hold classes, functions, lambdas, lazy objects, numpy values and
huge lists; none of them may crash logging. Secrets are redacted by key name
and, where their value is known, wherever that value appears.
"""
import os.path as osp
import re
from typing import Any, Dict, Iterable, List, Tuple

import numpy as np

from .. import media
from ..swanlab_options import CALLBACKS

REDACTED = '<redacted>'
MAX_LIST_ITEMS = 64
MAX_TEXT = 1000
# A name is secret when one of its parts (split at "_", "-", "." and camelCase) is one of these words, or two
# neighbouring parts are one of the pairs: ``hf_token``, ``accessKey``, ``smtp_password``; not ``tokenizer``,
# ``max_tokens``, ``key_frames``.
_SECRET_WORDS = {'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'credential', 'credentials',
                 'token', 'apikey', 'webhook', 'auth', 'cookie', 'dsn'}
_SECRET_PAIRS = {('api', 'key'), ('access', 'key'), ('private', 'key'), ('signing', 'key'), ('auth', 'key'),
                 ('app', 'key'), ('hook', 'url')}
# ...except a model's own tokens: ``with_cls_token``, ``mask_token``, ``pad_token`` are settings, not secrets.
_MODEL_TOKENS = {'cls', 'mask', 'pad', 'bos', 'eos', 'unk', 'sep', 'dist', 'distill', 'register', 'special',
                 'start', 'end', 'img', 'image', 'text', 'vision', 'visual', 'query', 'prompt', 'class', 'num',
                 'max', 'min', 'use', 'with'}
_NAME_PARTS = re.compile(r'[A-Z]+(?=[A-Z][a-z]|\d|\b|_|$)|[A-Z]?[a-z]+|\d+|[A-Z]+')
# Credentials inside URLs: ``scheme://user:password@host`` and secret-named query parameters.
_URL_USERINFO = re.compile(r'(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\'"]+):([^/\s@\'"]+)@')
_URL_QUERY = re.compile(r'([?&;])([^=&;#\s\'"]+)=([^&;#\s\'"]+)')
_SECRET_QUERY = {'key', 'sig', 'signature', 'sign', 'code', 'pass'}
_MIN_BARE_SECRET = 8  # shorter secret values are redacted in the text only where they stand quoted
# SwanLab's notification callbacks (init_kwargs['callbacks']): every argument is an address or a credential, but these.
_PLAIN_CALLBACK_ARGS = {'type', 'language', 'title', 'bark_level', 'icon', 'group', 'click_jump', 'port',
                        'smtp_server'}
_NOTIFICATIONS = set(CALLBACKS) - {'CSVWriter'}


def name_parts(key: Any) -> List[str]:
    return [part.lower() for part in _NAME_PARTS.findall(str(key))]


def is_secret_key(key: Any) -> bool:
    parts = name_parts(key)
    for index, part in enumerate(parts):
        previous = parts[index - 1] if index else None
        if part in _SECRET_WORDS and not (part == 'token' and previous in _MODEL_TOKENS):
            return True
        if (previous, part) in _SECRET_PAIRS:
            return True
    return False


def redact_urls(text: str) -> str:
    """``text`` with the passwords of URLs and their secret-named query parameters redacted."""
    text = _URL_USERINFO.sub(rf'\1:{REDACTED}@', text)

    def query(match: 're.Match') -> str:
        name = match.group(2)
        secret = is_secret_key(name) or name.lower() in _SECRET_QUERY
        return f'{match.group(1)}{name}={REDACTED}' if secret else match.group(0)
    return _URL_QUERY.sub(query, text) if '=' in text else text


def flatten_config(config: Any, prefix: str = '') -> Tuple[Dict[str, Any], List[str]]:
    """Flattens ``config`` into ``{'model.backbone.depth': 50, ...}``.

    Returns:
        tuple: the flat dict of plain values, and the secret strings found
        (so that the caller can redact them from the config text too).
    """
    flat: Dict[str, Any] = {}
    secrets: List[str] = []
    _flatten(config, prefix, flat, secrets)
    return flat, secrets


def _flatten(value: Any, key: str, flat: Dict[str, Any], secrets: List[str]) -> None:
    if isinstance(value, dict):
        if not value and key:
            flat[key] = {}
        for child_key, child in value.items():
            name = f'{key}.{child_key}' if key else str(child_key)
            notification_arg = isinstance(value.get('type'), str) and value['type'] in _NOTIFICATIONS and \
                child_key not in _PLAIN_CALLBACK_ARGS
            if (notification_arg or is_secret_key(child_key)) and _strings_in(child):  # a number: never a secret
                secrets.extend(_strings_in(child))
                flat[name] = REDACTED
            else:
                _flatten(child, name, flat, secrets)
    elif isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        for index, child in enumerate(value):
            _flatten(child, f'{key}.{index}', flat, secrets)
    else:
        flat[key] = plain_value(value)


def _strings_in(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings_in(v)]
    return []


def plain_value(value: Any) -> Any:
    """Returns ``value`` as JSON-friendly data, summarising what is not."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return _short(redact_urls(value)) if isinstance(value, str) else value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if len(items) > MAX_LIST_ITEMS:
            head = [plain_value(v) for v in items[:8]]
            return f'{head[:8]}... ({len(items)} items, truncated for the dashboard)'
        return [plain_value(v) for v in items]
    if isinstance(value, np.ndarray):
        return f'ndarray(shape={value.shape}, dtype={value.dtype})'
    if isinstance(value, type) or callable(value):
        return f'{getattr(value, "__module__", "?")}.{getattr(value, "__qualname__", repr(value))}'
    return _short(repr(value))


def _short(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return f'{text[:MAX_TEXT]}... ({len(text)} characters, truncated for the dashboard)'


def config_text(config: Any, secrets: Iterable[str]) -> str:
    """The config as Python text, with secret values, secret-named keys and URL credentials redacted."""
    try:
        text = config.pretty_text
    except Exception:  # lazy or otherwise unformattable configs
        text = repr(config)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for quote in ("'", '"'):
            text = text.replace(f'{quote}{secret}{quote}', f'{quote}{REDACTED}{quote}')
        if len(secret) >= _MIN_BARE_SECRET:
            text = text.replace(secret, REDACTED)
    return redact_urls(text)


def config_text_chart(config: Any, secrets: Iterable[str]) -> Dict[str, Any]:
    """The config text as the run's ``config/config_text`` (formatting it takes a while: off the training
    thread)."""
    filename = osp.basename(getattr(config, 'filename', None) or 'config.py')
    return {'config/config_text': media.text(config_text(config, secrets), caption=filename)}
