# SwanLab tracking shared by every recipe: change the project (or force a mode) here, once.
# Each recipe adds `swanlab_backend` to its task's own visualizer; the experiment is named after the
# recipe file. Mode: online when an API key is set (SWANLAB_API_KEY or `swanlab login`), else the local
# dashboard (`swanlab watch <work_dir>/swanlog`); SWANLAB_MODE or init_kwargs['mode'] force one.
custom_imports = dict(imports=['swanlab_backend'], allow_failed_imports=False)
swanlab_backend = dict(
    type='SwanlabVisBackend',
    init_kwargs=dict(project='openmmlab-recipes'),
)
