# DeepLabV3+ R50-D8 Cityscapes 512x1024 40k, tracked in SwanLab. Upstream config: mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
# mmseg's configs name no base batch; this one was tuned on 4 GPUs x 2 images (for --auto-scale-lr).
auto_scale_lr = dict(enable=False, base_batch_size=8)
