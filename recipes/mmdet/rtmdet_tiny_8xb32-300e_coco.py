# RTMDet-tiny 300e COCO, tracked in SwanLab. Upstream config: mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
