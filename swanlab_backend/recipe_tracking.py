"""The SwanLab tracking every recipe in ``recipes/`` uses: the one place for its project name.

A recipe imports this module from the installed package, so that a recipe file copied
alone into another project still loads (a relative ``_base_`` would not, and MMEngine's
``package::`` lookup only knows OpenMMLab's own packages)::

    _base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
    from swanlab_backend import recipe_tracking as tracking  # a module: MMEngine drops it from the config

    custom_imports = tracking.custom_imports
    visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])

``insights=dict()`` adds the prediction gallery, per-class results, confusion matrix,
PR curves and dataset card (:mod:`swanlab_backend.insights`); turn them off with
``dict(tracking.swanlab_backend, insights=None)``.

``custom_imports`` also names :mod:`swanlab_backend.stack_fixes`: the fixes this stack needs (resume on
torch >= 2.6, distributed training without CUDA) then apply wherever the recipe runs, also through
``mim train`` or the task package's ``tools/train.py``, each only where it is needed.

The mode is not set here: online when an API key is set (``SWANLAB_API_KEY`` or
``swanlab login``), else the local dashboard; ``SWANLAB_MODE`` forces one. Change
the project for your own runs with ``dict(tracking.swanlab_backend,
init_kwargs=dict(project='mine'))``, or write the backend dict out in full.
"""
PROJECT = 'openmmlab-recipes'

# ``stack_fixes``: a copied recipe run with ``mim train``/``tools/train.py`` (not our entry points) still
# resumes on torch >= 2.6, and trains distributed on CPUs.
custom_imports = dict(imports=['swanlab_backend', 'swanlab_backend.stack_fixes'], allow_failed_imports=False)
swanlab_backend = dict(type='SwanlabVisBackend', init_kwargs=dict(project=PROJECT), insights=dict())
