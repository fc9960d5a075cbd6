"""What the package's modules import, read from the source: every import counts, inside functions too
(the hygiene tests of import circles and of the process boundary read the same graph)."""
import ast
from pathlib import Path
from typing import Dict, Set

PACKAGE = Path(__file__).resolve().parents[2] / 'swanlab_backend'


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace('.', '/')
    return path.with_suffix('.py').exists() or (path / '__init__.py').exists()


def imports_of(path: Path) -> Set[str]:
    """Every module ``path`` imports, absolute (``from .. import media`` is ``swanlab_backend.media``)."""
    name = module_name(path)
    here = name.split('.') if path.name == '__init__.py' else name.split('.')[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                found.add(node.module)
                found.update(f'{node.module}.{alias.name}' for alias in node.names
                             if _is_module(f'{node.module}.{alias.name}'))
                continue
            base = '.'.join(here[:len(here) - node.level + 1] + [node.module or '']).strip('.')
            found.update(f'{base}.{alias.name}' if _is_module(f'{base}.{alias.name}') else base
                         for alias in node.names)
    return found


def package_imports() -> Dict[str, Set[str]]:
    """``{module: every module it imports}`` for each module of the package."""
    return {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob('*.py'))}


