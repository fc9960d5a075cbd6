# PSPNet R50-D8 Cityscapes 512x1024 40k, tracked in SwanLab. Upstream config: mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py
_base_ = ['mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py', '../_base_/swanlab_tracking.py']

visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), {{_base_.swanlab_backend}}])
# Draw predictions of every 50th validation image into the dashboard (upstream: off).
default_hooks = dict(visualization=dict(draw=True, interval=50))
