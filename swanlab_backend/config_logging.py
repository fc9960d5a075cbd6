"""Making an MMEngine config safe and searchable for the dashboard.

A config may hold classes, functions, lambdas, lazy objects, numpy values and
huge lists; none of them may crash logging. Secrets are redacted by key name
and, where their value is known, wherever that value appears.
"""
import re
from typing import Any, Dict, Iterable, List, Tuple

import numpy as np

REDACTED = '<redacted>'
MAX_LIST_ITEMS = 64
MAX_TEXT = 1000
_SECRET_KEY = re.compile(r'(api[_-]?key|token|secret|passw(or)?d|credential)', re.IGNORECASE)


def is_secret_key(key: Any) -> bool:
    return bool(_SECRET_KEY.search(str(key)))


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
            if is_secret_key(child_key):
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
        return _short(value) if isinstance(value, str) else value
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
    """The config as Python text, with secret values and secret-named keys redacted."""
    try:
        text = config.pretty_text
    except Exception:  # lazy or otherwise unformattable configs
        text = repr(config)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
