# ResNet-50 ImageNet-1k, tracked in SwanLab. Upstream config: mmpretrain::resnet/resnet50_8xb32_in1k.py
_base_ = 'mmpretrain::resnet/resnet50_8xb32_in1k.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
