"""What the model gets wrong, in SwanLab: a fixed prediction gallery, per-class results, a confusion
matrix, precision-recall curves and a dataset card (:class:`SwanlabInsightsHook`).

Modules: ``hook`` (when and what), ``tasks`` (detection, segmentation and
classification differ here), ``per_class`` (the numbers), ``charts`` (the
pictures), ``coco_capture`` (COCO's precision array), ``dataset_card``.
"""
from .hook import SwanlabInsightsHook

__all__ = ['SwanlabInsightsHook']
