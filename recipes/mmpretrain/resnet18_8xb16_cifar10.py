# ResNet-18 CIFAR-10, tracked in SwanLab. Upstream config: mmpretrain::resnet/resnet18_8xb16_cifar10.py
_base_ = 'mmpretrain::resnet/resnet18_8xb16_cifar10.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
