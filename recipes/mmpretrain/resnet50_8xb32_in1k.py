# ResNet-50 ImageNet-1k, tracked in SwanLab. Upstream config: mmpretrain::resnet/resnet50_8xb32_in1k.py
_base_ = ['mmpretrain::resnet/resnet50_8xb32_in1k.py', '../_base_/swanlab_tracking.py']

visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), {{_base_.swanlab_backend}}])
# Draw predictions of every 500th validation image into the dashboard (upstream: off).
default_hooks = dict(visualization=dict(enable=True, interval=500))
