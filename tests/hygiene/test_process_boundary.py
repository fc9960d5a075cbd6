"""The package's folders follow the process boundary (``swanlab_backend/__init__.py``), read from the source:
every import counts, inside functions too.

- ``writer/`` (the writer process) imports no torch, nothing of MMEngine but ``mmengine.logging`` (the
  writer's own log file; it loads no torch, which ``test_the_writer_process_never_loads_torch`` sees in
  a real writer), and none of the training side's folders (``mmengine``, ``tools``, ``insights``); nor
  does any module the writer process loads (what ``writer.run_writer`` reaches), wherever it lies.
- ``mmengine/`` and ``handover/`` import no SwanLab: it runs only in the writer.
- The ``__init__`` files the writer process runs on its way to ``writer.run_writer`` (the package's own
  is skipped by the bootstrap) import nothing.
"""
from typing import Dict, Set

from package_imports import PACKAGE, package_imports

TRAINING_FOLDERS = ('swanlab_backend.mmengine', 'swanlab_backend.tools', 'swanlab_backend.insights')
WRITER_MAY_IMPORT_FROM_MMENGINE = {'mmengine.logging'}
WRITER_ENTRY = 'swanlab_backend.writer.run_writer'


def _under(module: str, *folders: str) -> bool:
    return any(module == folder or module.startswith(folder + '.') for folder in folders)


def _writer_breaks(module: str, imported: Set[str]) -> Set[str]:
    return {name for name in imported
            if _under(name, 'torch') or _under(name, *TRAINING_FOLDERS)
            or (_under(name, 'mmengine') and name not in WRITER_MAY_IMPORT_FROM_MMENGINE)}


def loaded_by_the_writer(modules: Dict[str, Set[str]]) -> Set[str]:
    """The package's modules the writer process loads: ``writer.run_writer`` and what it reaches, with the
    ``__init__`` of each subpackage on the way (the package's own is skipped by the bootstrap)."""
    seen, todo = set(), [WRITER_ENTRY]
    while todo:
        module = todo.pop()
        if module in seen or module not in modules:
            continue
        seen.add(module)
        parts = module.split('.')
        todo.extend('.'.join(parts[:i]) for i in range(2, len(parts)))  # the subpackages' __init__
        todo.extend(name for name in modules[module] if _under(name, 'swanlab_backend'))
    return seen


def test_the_checks_see_imports_inside_functions_and_relative_ones():
    modules = package_imports()
    assert 'swanlab' in modules['swanlab_backend.writer.run_lifecycle']  # inside start_run
    assert 'swanlab_backend.handover.journal' in modules['swanlab_backend.writer.run_writer']  # `from ..handover...`
    assert 'mmengine.logging' in modules['swanlab_backend.writer.run_writer']  # what the rule lets through
    assert _writer_breaks('x', {'torch.hub', 'mmengine.runner', 'swanlab_backend.mmengine.hook'}) == \
        {'torch.hub', 'mmengine.runner', 'swanlab_backend.mmengine.hook'}


def test_the_writer_imports_neither_torch_nor_mmengine_nor_the_training_side():
    modules = package_imports()
    broken = {module: sorted(_writer_breaks(module, imported)) for module, imported in modules.items()
              if _under(module, 'swanlab_backend.writer') and _writer_breaks(module, imported)}
    assert not broken, f'writer/ runs in the writer process, which has no torch, runner or model: {broken}'


def test_what_the_writer_process_loads_stays_on_its_side():
    modules = package_imports()
    loaded = loaded_by_the_writer(modules)
    assert {'swanlab_backend.writer', 'swanlab_backend.handover.journal', 'swanlab_backend.media'} <= loaded
    broken = {module: sorted(_writer_breaks(module, modules[module])) for module in sorted(loaded)
              if _writer_breaks(module, modules[module])}
    assert not broken, f'the writer process loads these, and with them torch or the training side: {broken}'
    light = {module: sorted(modules[module]) for module in loaded
             if (PACKAGE.parent / module.replace('.', '/') / '__init__.py').exists() and modules[module]}
    assert not light, f'the writer process runs these __init__ files; they must import nothing: {light}'


def test_swanlab_is_imported_only_on_the_writer_side():
    modules = package_imports()
    found = {module: sorted(name for name in imported if _under(name, 'swanlab'))
             for module, imported in modules.items()
             if _under(module, 'swanlab_backend.mmengine', 'swanlab_backend.handover')}
    found = {module: names for module, names in found.items() if names}
    assert not found, f'SwanLab runs only in the writer process (swanlab_backend/writer/): {found}'
