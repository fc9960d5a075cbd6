"""Per-image figures, from the outputs validation computed anyway, and how wrong each makes an image.

* detection: ``TP``, ``FP``, ``FN`` of the predictions scored at least ``score_thr`` against the ground truth,
  matched at IoU 0.5 (highest score first, one ground-truth box per prediction, of the same class);
  how wrong: ``FN + FP``;
* segmentation: ``mIoU`` of the image, in percent, over the classes in its ground truth or prediction
  (mmseg's ``IoUMetric`` on that one image); how wrong: ``100 - mIoU``;
* classification: ``correct``, the ``top-1`` label and score and the ground-truth class's score; how wrong:
  a mistake first, then the less probability the ground truth got (the more confident the mistake).

:func:`badness` orders images for the hardest samples and the gallery's "what changed"; :func:`describe`
writes the figures into captions and tables.
"""
from typing import Any, Dict, Optional

import numpy as np

from .tasks import CLASSIFICATION, DETECTION, SEGMENTATION

IOU_MATCH = 0.5
FIGURE_NAMES = {DETECTION: ('TP', 'FP', 'FN'), SEGMENTATION: ('mIoU',), CLASSIFICATION: ('correct', 'top-1 score')}


def detection(sample: Any, score_thr: float) -> Optional[Dict[str, Any]]:
    if 'gt_instances' not in sample or 'pred_instances' not in sample:
        return None
    pred = sample.pred_instances
    keep = pred.scores >= score_thr
    boxes, scores, labels = (_numpy(v) for v in (pred.bboxes[keep], pred.scores[keep], pred.labels[keep]))
    gt_boxes = sample.gt_instances.bboxes
    gt_boxes = _numpy(getattr(gt_boxes, 'tensor', gt_boxes)).reshape(-1, 4)
    gt_labels = _numpy(sample.gt_instances.labels)
    return match_boxes(gt_boxes, gt_labels, boxes.reshape(-1, 4), scores, labels)


def match_boxes(gt_boxes: np.ndarray, gt_labels: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
                labels: np.ndarray) -> Dict[str, int]:
    """TP / FP / FN of ``boxes`` (x1, y1, x2, y2) against the ground truth, greedy by score at IoU >= 0.5."""
    taken = np.zeros(len(gt_boxes), bool)
    hits = 0
    ious = box_iou(boxes, gt_boxes)
    for p in np.argsort(-scores, kind='stable'):
        candidates = np.where((gt_labels == labels[p]) & ~taken & (ious[p] >= IOU_MATCH))[0]
        if candidates.size:
            taken[candidates[np.argmax(ious[p, candidates])]] = True
            hits += 1
    return {'TP': hits, 'FP': int(len(boxes) - hits), 'FN': int(len(gt_boxes) - hits)}


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (x1, y1, x2, y2)."""
    a, b = a.astype(float).reshape(-1, 4), b.astype(float).reshape(-1, 4)
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def segmentation(counts: np.ndarray) -> Dict[str, float]:
    """``mIoU`` of one image from its confusion counts (rows: ground truth, columns: prediction)."""
    hit = np.diag(counts).astype(float)
    union = counts.sum(axis=0) + counts.sum(axis=1) - hit
    present = union > 0
    miou = 100 * float((hit[present] / union[present]).mean()) if present.any() else float('nan')
    return {'mIoU': miou}


def classification(sample: Any) -> Optional[Dict[str, Any]]:
    if 'pred_score' not in sample or 'gt_label' not in sample or len(sample.gt_label) != 1:
        return None  # multi-label samples have no single true class
    scores = _numpy(sample.pred_score).astype(float)
    truth, top = int(sample.gt_label.reshape(-1)[0]), int(np.argmax(scores))
    return {'correct': top == truth, 'top-1 score': float(scores[top]), 'top-1': top, 'true class': truth,
            'true-class score': float(scores[truth])}


def badness(family: str, figures: Dict[str, Any]) -> float:
    """How wrong an image is (higher: worse), comparable across the images of one task."""
    if family == DETECTION:
        return float(figures['FN'] + figures['FP'])
    if family == SEGMENTATION:
        return 100.0 - figures['mIoU'] if np.isfinite(figures['mIoU']) else 0.0
    return (0.0 if figures['correct'] else 1.0) + 1.0 - figures['true-class score']


def describe(family: str, figures: Dict[str, Any], classes) -> str:
    """The figures as a caption's words."""
    if family == DETECTION:
        return f'TP {figures["TP"]}, FP {figures["FP"]}, FN {figures["FN"]} (IoU {IOU_MATCH:g})'
    if family == SEGMENTATION:
        return f'mIoU {figures["mIoU"]:.2f}%'
    verdict = 'correct' if figures['correct'] else f'wrong: predicted {_name(classes, figures["top-1"])}'
    return (f'{verdict} (top-1 score {figures["top-1 score"]:.4f}; ground truth {_name(classes, figures["true class"])}'
            f' score {figures["true-class score"]:.4f})')


def cells(family: str, figures: Optional[Dict[str, Any]]) -> list:
    """The figures as table cells, in the order of ``FIGURE_NAMES[family]`` (``-``: not known)."""
    names = FIGURE_NAMES[family]
    if figures is None:
        return ['-'] * len(names)
    return [('yes' if figures[n] else 'no') if n == 'correct' else
            f'{figures[n]:.2f}' if n == 'mIoU' else f'{figures[n]:.4f}' if n == 'top-1 score' else str(figures[n])
            for n in names]


def _name(classes, label: int) -> str:
    return str(classes[label]) if 0 <= label < len(classes) else str(label)


def _numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, 'detach') else np.asarray(value)
