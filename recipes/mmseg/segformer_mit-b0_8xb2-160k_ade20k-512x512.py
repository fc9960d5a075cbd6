# SegFormer MiT-B0 ADE20K 512x512 160k, tracked in SwanLab. Upstream config: mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py
_base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py', '../_base_/swanlab_tracking.py']

visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), {{_base_.swanlab_backend}}])
# Draw predictions of every 50th validation image into the dashboard (upstream: off).
default_hooks = dict(visualization=dict(draw=True, interval=50))
