"""Keeping the precision array of the COCO evaluation that validation runs anyway.

mmdet's ``CocoMetric.compute_metrics`` builds a ``COCOeval``, reads its summary
numbers and drops it; the precision array behind per-class AP and the
precision-recall curves goes with it. Running the evaluation a second time would
double its cost (tens of seconds per validation on COCO), so instead the one
``CocoMetric`` instance of this runner is given a ``compute_metrics`` that, for
the duration of its own call only, lets the module's ``COCOeval`` record its
``eval['precision']`` after ``accumulate()``. Other metrics, runners and calls are
untouched, and the class is restored even when the evaluation raises.
"""
import sys
from typing import Any, Dict, Optional

import numpy as np

_EVAL_CLASSES = ('COCOeval', 'COCOevalMP')


class CocoPrecision:
    """The precision arrays (per IoU type, e.g. ``bbox``, ``segm``) of a metric's last evaluation."""

    def __init__(self, metric: Any):
        self.metric = metric
        self.arrays: Dict[str, np.ndarray] = {}

    def class_names(self) -> list:
        """Names in the order of the array's class axis (``metric.cat_ids``)."""
        api = self.metric._coco_api
        return [api.loadCats(cat_id)[0]['name'] for cat_id in self.metric.cat_ids]

    def take(self) -> Dict[str, np.ndarray]:
        arrays, self.arrays = self.arrays, {}
        return arrays


def is_coco_metric(metric: Any) -> bool:
    return any(cls.__name__ == 'CocoMetric' for cls in type(metric).__mro__)


def attach(metric: Any) -> Optional[CocoPrecision]:
    """Makes ``metric`` (a ``CocoMetric``) keep its precision arrays; returns where they land (idempotent)."""
    if not is_coco_metric(metric):
        return None
    existing = metric.__dict__.get('_swanlab_precision')
    if existing is not None:
        return existing
    capture = CocoPrecision(metric)
    module = sys.modules[type(metric).compute_metrics.__module__]
    compute_metrics = metric.compute_metrics

    def compute_metrics_keeping_precision(results):
        originals = {name: getattr(module, name) for name in _EVAL_CLASSES if hasattr(module, name)}
        for name, cls in originals.items():
            setattr(module, name, _recording(cls, capture))
        try:
            return compute_metrics(results)
        finally:
            for name, cls in originals.items():
                setattr(module, name, cls)

    metric.compute_metrics = compute_metrics_keeping_precision
    metric._swanlab_precision = capture
    return capture


def _recording(cls: type, capture: CocoPrecision) -> type:
    class Recording(cls):
        def accumulate(self, *args, **kwargs):
            super().accumulate(*args, **kwargs)
            if self.params.useCats:  # 'proposal' evaluation pools the classes
                capture.arrays[self.params.iouType] = np.array(self.eval['precision'])
    Recording.__name__ = Recording.__qualname__ = cls.__name__
    return Recording
