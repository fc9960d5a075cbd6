# RetinaNet R50-FPN 1x COCO, tracked in SwanLab. Upstream config: mmdet::retinanet/retinanet_r50_fpn_1x_coco.py
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
from swanlab_backend import recipe_tracking as tracking  # noqa: E402  (a module: MMEngine drops it)

custom_imports = tracking.custom_imports
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), tracking.swanlab_backend])
