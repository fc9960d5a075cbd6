"""Turning what MMEngine hands a backend into keys and values SwanLab accepts.

Key rule (documented in the README): every character outside printable text, and
each of ``< > : " \\ | ? * # %``, becomes ``_``; repeated ``/`` collapse; leading or
trailing ``.``, ``/`` and spaces are stripped; an empty result becomes ``_empty``;
keys longer than 200 characters keep their first 191 and a ``~`` plus an 8-digit
hash (so two long keys never merge). Each renamed key is reported once.
"""
import hashlib
import logging
import math
import numbers
import re
from typing import Any, Dict, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from ..warn_once import WarnOnce

MAX_KEY_LENGTH = 200
# COCO's evaluation gives -1 for "no ground truth in this size range / class": not a measurement.
_COCO_STATISTIC = re.compile(r'(^|/)(bbox|segm)_(mAP|AR)[\w@]*$')
_UNSAFE = re.compile(r'[<>:"\\|?*#%\x00-\x1f\x7f]')
_SLASHES = re.compile(r'/{2,}')
_PLAIN = {float, int}  # by exact type: bool and numpy types take the checks below


def sanitize_key(key: Any) -> str:
    """Returns the dashboard key for ``key`` under the rule above."""
    text = _SLASHES.sub('/', _UNSAFE.sub('_', str(key))).strip(' ./')
    if not text:
        return '_empty'
    if len(text) > MAX_KEY_LENGTH:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        text = f'{text[:MAX_KEY_LENGTH - 9]}~{digest}'
    return text


class KeyMapper:
    """Caches ``(section, key) -> dashboard key`` and reports each rename once.

    Keys that already carry their section (``LogProcessor(log_with_hierarchy=True)``
    gives ``train/loss``) are not prefixed twice.
    """

    def __init__(self):
        self._cache: Dict[Tuple[Optional[str], str], str] = {}

    def __call__(self, section: Optional[str], key: str) -> str:
        cached = self._cache.get((section, key))
        if cached is not None:
            return cached
        clean = sanitize_key(key)
        if clean != str(key).strip(' ./'):
            print_log(f'SwanLab: metric key {key!r} is logged as {clean!r} '
                      '(characters the dashboard cannot show were replaced)',
                      logger='current', level=logging.WARNING)
        if section and not clean.startswith(section + '/'):
            clean = f'{section}/{clean}'
        self._cache[(section, key)] = clean
        return clean


class ScalarConverter:
    """Converts a logged value to a float, or says why it cannot.

    Tensors and arrays of one element, numpy scalars and bools become floats.
    Everything else (strings, ``None``, multi-element tensors) is skipped, and so
    is COCO's -1 (``bbox_mAP_s`` when the ground truth has no small objects), which
    is no measurement. NaN and inf pass, for the writer's alert
    (:mod:`swanlab_backend.writer.alert_rules`), which then leaves them off the curves:
    one such point makes SwanLab's local dashboard fail to serve the whole chart.
    Each case is reported once per key; MMEngine's own log still shows the value.
    """

    def __init__(self):
        self._warned = WarnOnce()  # keys told about already

    def __call__(self, key: str, value: Any) -> Optional[float]:
        if type(value) in _PLAIN and math.isfinite(value) and value != -1:  # most values: no checks to make
            return float(value)
        number = _as_number(value)
        if number is None:
            self._warn_once(key, f'SwanLab: skipping {key!r}: a {type(value).__name__} '
                                 'is not a scalar (log one number per key)')
            return None
        if not math.isfinite(number):
            self._warn_once(key, f'SwanLab: {key!r} is {number}; non-finite values are not logged '
                                 '(this warning is shown once per key). Check the training for divergence.')
            return number
        if not_a_measurement(key, number):
            self._warn_once(key, f'SwanLab: {key!r} is -1, COCO\'s "no ground truth in this range": not plotted '
                                 '(shown once per key)', level=logging.INFO)
            return None
        return number

    def _warn_once(self, key: str, message: str, level: int = logging.WARNING) -> None:
        self._warned(key, print_log, message, logger='current', level=level)


def not_a_measurement(key: Any, number: float) -> bool:
    """COCO's -1: no ground truth in that size range (``bbox_mAP_s`` on data without small objects)."""
    return number == -1 and bool(_COCO_STATISTIC.search(str(key)))


def _as_number(value: Any) -> Optional[float]:
    if isinstance(value, np.generic):  # np.bool_ is no numbers.Real; np.float32 and the ints are
        value = value.item()
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) or _is_tensor(value):
        if value.size == 1 if isinstance(value, np.ndarray) else value.numel() == 1:
            item = value.item()
            return float(item) if isinstance(item, numbers.Real) else None
    return None


def _is_tensor(value: Any) -> bool:
    return type(value).__module__ == 'torch' and hasattr(value, 'numel')
