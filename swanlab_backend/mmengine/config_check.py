"""Checking the config that imports this package, before MMEngine writes that config anywhere.

``mim train``, ``tools/train.py`` and ``Runner.from_cfg`` log the whole config (and dump it to the
work dir) before any visualization backend exists, so the backend itself can neither keep a key in
``init_kwargs`` out of the log nor stop a typo before the work dir is made. This package is
imported while ``Config.fromfile`` is still loading the config (through ``custom_imports``, or
the recipes' own import): the one moment before anything is written.
:func:`check_config_being_loaded` then checks it: through ``custom_imports``, the whole parsed
config (:func:`~swanlab_backend.mmengine.validation.validate_visualizer_config`: backend names,
``init_kwargs``, secrets); from a recipe's import, while the file is still being parsed, its
text and its local ``_base_`` files for an ``api_key``. It runs once, at the first import in a
process; later configs are checked by ``swanlab_backend.train`` and by the backend when it is
built (after MMEngine has logged the config: README, "What happens when...", row 15).
"""
import ast
import os.path as osp
import sys
from typing import Iterator, Optional, Set, Tuple

from .validation import API_KEY_FIX, validate_visualizer_config


def check_config_being_loaded() -> None:
    """Raises ``ValueError`` (``KeyError`` for a mistyped backend) if the config being loaded cannot
    be tracked safely, naming the file and the fix."""
    filename, cfg_dict = _config_being_loaded()
    if not filename:
        return
    for path, line in _api_keys(filename, set()):
        raise ValueError(f'{path}, line {line}: a SwanLab API key (`api_key`) in a config would be written '
                         f'to the work dir and its logs; {API_KEY_FIX}.')
    if cfg_dict is not None:
        validate_visualizer_config(_Named(cfg_dict, filename))


class _Named(dict):
    """The parsed config dict, with the ``filename`` attribute that ``Config`` has."""

    def __init__(self, cfg_dict: dict, filename: str):
        super().__init__(cfg_dict)
        self.filename = filename


def _config_being_loaded() -> Tuple[Optional[str], Optional[dict]]:
    """``(file, parsed dict or None)`` of the outermost ``Config.fromfile`` on the stack (the file the
    user named; the dict exists once parsing is over, when ``custom_imports`` are imported)."""
    frame = sys._getframe(1)
    found: Tuple[Optional[str], Optional[dict]] = (None, None)
    while frame is not None:
        if frame.f_code.co_name == 'fromfile' and frame.f_globals.get('__name__') == 'mmengine.config.config':
            filename = frame.f_locals.get('filename')
            cfg_dict = frame.f_locals.get('cfg_dict')
            found = (str(filename) if filename else None, cfg_dict if isinstance(cfg_dict, dict) else None)
        frame = frame.f_back
    return found


def _api_keys(path: str, seen: Set[str]) -> Iterator[tuple]:
    """``(file, line)`` of every ``api_key`` in ``path`` and its local ``_base_`` files."""
    path = osp.abspath(path)
    if path in seen or not path.endswith('.py') or not osp.isfile(path):
        return
    seen.add(path)
    with open(path, encoding='utf-8') as f:
        try:
            tree = ast.parse(f.read())
        except SyntaxError:
            return  # MMEngine reports it
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'api_key':
            yield path, node.value.lineno
        elif isinstance(node, ast.Dict):
            yield from ((path, key.lineno) for key in node.keys
                        if isinstance(key, ast.Constant) and key.value == 'api_key')
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            for base in _strings(node.value):
                if '::' not in base:
                    yield from _api_keys(osp.join(osp.dirname(path), base), seen)


def _strings(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            yield from _strings(item)
