"""``type='SwanlabVisBackend'`` means this package's class, whichever is imported first: ours or SwanLab's own.

SwanLab's ``swanlab.integration.mmengine`` registers a class of the same name, without
``force``. Imported after ours, that would fail with "already registered"; importing it
first here would cost every training SwanLab's import (it needs none: SwanLab runs in the
writer process). Instead, MMEngine's ``VISBACKENDS`` lets another class register under one
of our names without error, and keeps ours under it. SwanLab's class stays usable as a
class (``type=SwanlabVisBackend`` imported from ``swanlab.integration.mmengine``).
"""
from typing import Any, Sequence


def keep_names(registry: Any, names: Sequence[str], ours: type) -> None:
    """From now on, a registration of ``names`` by another class in ``registry`` leaves ``ours`` there."""
    register = registry._register_module

    def register_keeping_ours(module, module_name=None, force=False):
        wanted = [module_name] if isinstance(module_name, str) else list(module_name or [module.__name__])
        if module is not ours and not force:
            wanted = [name for name in wanted if registry.module_dict.get(name) is not ours]
            if not wanted:
                return
        register(module, wanted, force)

    registry._register_module = register_keeping_ours
