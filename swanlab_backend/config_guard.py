"""Refusing a SwanLab API key written in a config file, before MMEngine writes that config anywhere.

``mim train``, ``tools/train.py`` and ``Runner.from_cfg`` log the whole config (and dump it to the
work dir) before any visualization backend exists, so the backend itself cannot keep a key in
``init_kwargs`` out of the log. This package is imported while ``Config.fromfile`` is still
loading the config (through ``custom_imports``, or the recipes' own import): the one moment
before anything is written. :func:`refuse_api_key_in_loading_config` then reads the file being
loaded, and its local ``_base_`` files, for an ``api_key``. It runs once, at the first import in
a process; later configs are checked by ``swanlab_backend.train`` and by the backend when it is
built (after MMEngine has logged the config: README, "What happens when...", row 15).
"""
import ast
import os.path as osp
import sys
from typing import Iterator, Optional, Set

FIX = 'remove it and set SWANLAB_API_KEY or run `swanlab login` instead'


def refuse_api_key_in_loading_config() -> None:
    """Raises ``ValueError`` naming the file and line if the config being loaded holds ``api_key``."""
    filename = _config_being_loaded()
    if filename:
        for path, line in _api_keys(filename, set()):
            raise ValueError(f'{path}, line {line}: a SwanLab API key (`api_key`) in a config would be written '
                             f'to the work dir and its logs; {FIX}.')


def _config_being_loaded() -> Optional[str]:
    frame = sys._getframe(1)
    filename = None
    while frame is not None:  # the outermost Config.fromfile is the file the user named
        if frame.f_code.co_name == 'fromfile' and frame.f_globals.get('__name__') == 'mmengine.config.config':
            filename = frame.f_locals.get('filename', filename)
        frame = frame.f_back
    return str(filename) if filename else None


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
