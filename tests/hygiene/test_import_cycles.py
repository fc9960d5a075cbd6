"""The package's modules import each other without a circle, counting imports inside functions too
(an import moved into a function only hides a circle)."""
import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[2] / 'swanlab_backend'


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace('.', '/')
    return path.with_suffix('.py').exists() or (path / '__init__.py').exists()


def _imported(path: Path) -> Set[str]:
    """The package's modules ``path`` imports (``from . import media`` counts as ``swanlab_backend.media``)."""
    name = _module_name(path)
    here = name.split('.') if path.name == '__init__.py' else name.split('.')[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = '.'.join(here[:len(here) - node.level + 1] + [node.module or '']).strip('.') if node.level \
                else node.module or ''
            found.update(f'{base}.{alias.name}' if _is_module(f'{base}.{alias.name}') else base
                         for alias in node.names)
    return {module for module in found if module.split('.')[0] == PACKAGE.name and module != name}


def import_graph() -> Dict[str, Set[str]]:
    return {_module_name(path): _imported(path) for path in sorted(PACKAGE.rglob('*.py'))}


def circles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Every circle a depth-first walk meets, each as ``[a, b, ..., a]``."""
    found, state, path = [], {}, []

    def walk(module):
        state[module] = 'open'
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 'open':
                found.append(path[path.index(imported):] + [imported])
            elif imported not in state:
                walk(imported)
        path.pop()
        state[module] = 'done'

    for module in sorted(graph):
        if module not in state:
            walk(module)
    return found


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # imported inside a function there
    assert 'swanlab_backend.mmengine.hook' in graph['swanlab_backend.mmengine.runner_link']
    assert 'swanlab_backend.media' in graph['swanlab_backend.insights.charts']  # `from .. import media`
    assert circles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == [['a', 'b', 'c', 'a']]


def test_no_module_of_the_package_imports_itself_back():
    found = circles(import_graph())
    assert not found, 'import circles (break them with an interface module, as runner_follower does):\n' + \
        '\n'.join(' -> '.join(circle) for circle in found)
