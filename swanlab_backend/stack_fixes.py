"""``custom_imports=dict(imports=['swanlab_backend', 'swanlab_backend.stack_fixes'])``: importing this
module applies the fixes for the pinned stack (:mod:`swanlab_backend.tools.stack_fixes`, where they are)."""
from .tools import stack_fixes  # noqa: F401  (importing it applies the fixes, once)
