"""Training side, before and around a run: the commands and what they need.

``train``, ``test``, ``import_work_dir`` and ``doctor`` (run as ``python -m swanlab_backend.train`` and
so on, through the thin modules at the package's top), ``stack_fixes`` (the fixes for the pinned
stack, applied by importing ``swanlab_backend.stack_fixes``), ``pretrained`` (the weights a config
asks for) and ``config_tree`` (walking and editing a config, also for ``ci/``). Importing this folder
imports nothing.
"""
