# SegFormer MiT-B0 ADE20K 512x512 160k, tracked in SwanLab. Upstream config: mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py
_base_ = 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
# mmseg's configs name no base batch; this one was tuned on 8 GPUs x 2 images (for --auto-scale-lr).
auto_scale_lr = dict(enable=False, base_batch_size=16)
