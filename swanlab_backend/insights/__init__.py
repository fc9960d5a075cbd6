"""What the model gets wrong, in SwanLab: a fixed prediction gallery, per-class results, a confusion
matrix, precision-recall curves and a dataset card (:class:`SwanlabInsightsHook`).

Modules: ``hook`` (when and what), ``tasks`` (detection, segmentation and
classification differ here), ``per_class`` (the numbers), ``charts`` (the
pictures), ``coco_capture`` (COCO's precision array), ``dataset_card``.

Training side: the hook reads the runner's validation; its reports are drawn on the training process's
background thread (the backend's ``log_report``, :mod:`swanlab_backend.handover.background`) and go to
the writer as plain media (:mod:`swanlab_backend.media`). Nothing here imports SwanLab.
"""
from .hook import SwanlabInsightsHook

__all__ = ['SwanlabInsightsHook']
