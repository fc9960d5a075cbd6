"""What the model gets wrong, in SwanLab: a fixed prediction gallery, per-class results, a confusion
matrix, precision-recall curves, the hardest samples, what changed since the previous validation, and
dataset and model cards (:class:`SwanlabInsightsHook`).

Modules: ``hook`` (when and what), ``tasks`` (detection, segmentation and
classification differ here), ``per_class`` (the numbers), ``per_image`` (each
image's figures), ``worst`` (the K worst, bounded), ``changes`` (against the
previous validation), ``positions`` (DDP's padding), ``charts`` (the
pictures), ``coco_capture`` (COCO's precision array), ``dataset_card``, ``model_card``.

Training side: the hook reads the runner's validation; its reports are drawn on the training process's
background thread (the backend's ``log_report``, :mod:`swanlab_backend.handover.background`) and go to
the writer as plain media (:mod:`swanlab_backend.media`). Nothing here imports SwanLab.
"""
from .hook import SwanlabInsightsHook

__all__ = ['SwanlabInsightsHook']
