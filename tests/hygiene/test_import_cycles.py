"""The package's modules import each other without a circle, counting imports inside functions too
(an import moved into a function only hides a circle)."""
from typing import Dict, List, Set

from package_imports import PACKAGE, package_imports


def import_graph() -> Dict[str, Set[str]]:
    """``{module: the package's modules it imports}``."""
    return {module: {name for name in imported if name.split('.')[0] == PACKAGE.name and name != module}
            for module, imported in package_imports().items()}


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
