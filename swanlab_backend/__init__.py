"""SwanLab experiment tracking for OpenMMLab: ``custom_imports=dict(imports=['swanlab_backend'])``.

Importing this package registers ``SwanlabVisBackend`` (alias ``SwanLabVisBackend``) and
``SwanlabHook`` in MMEngine's root registries and applies the runtime fixes in
:mod:`swanlab_backend.compat`.

SwanLab ships its own ``swanlab.integration.mmengine`` that registers the same
name. It is imported first here, so that importing both never fails with
"already registered", and ``type='SwanlabVisBackend'`` always selects this
package's class once it has been imported. SwanLab's stays reachable as
``type=swanlab.integration.mmengine.SwanlabVisBackend`` (the class itself).
"""
from . import compat
from .config_guard import refuse_api_key_in_loading_config

refuse_api_key_in_loading_config()  # before MMEngine logs the config that is importing this package

try:  # register SwanLab's own class first; ours then takes the name over (see above)
    import swanlab.integration.mmengine  # noqa: F401
except ImportError:  # swanlab missing: SwanlabVisBackend raises a clear error when built
    pass

from .hook import SwanlabHook  # noqa: E402
from .vis_backend import SwanlabVisBackend  # noqa: E402

compat.apply()

__version__ = '0.1.0'
__all__ = ['SwanlabVisBackend', 'SwanlabHook', '__version__']
