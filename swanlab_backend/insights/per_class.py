"""Per-class results from what validation computed anyway.

* Semantic segmentation and classification: a confusion matrix accumulated over
  the whole validation set (:class:`ConfusionMatrix`), from which IoU and accuracy
  (as mmseg's ``IoUMetric`` prints them) or precision, recall and F1 (as
  mmpretrain's ``SingleLabelMetric(average=None)`` computes them) follow, in percent.
* Detection: AP per class from the precision array of the COCO evaluation
  (:mod:`swanlab_backend.insights.coco_capture`), computed as mmdet's
  ``CocoMetric(classwise=True)`` prints it.
"""
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np


class ConfusionMatrix:
    """Counts of (ground truth, prediction) pairs; labels outside ``[0, num_classes)`` are ignored."""

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.counts = np.zeros((num_classes, num_classes), dtype=np.int64)

    def add(self, gt, pred) -> np.ndarray:
        """Adds label tensors or arrays of one shape (pixels of a map, or one label each); returns their
        own counts (one image's confusion matrix, for its per-image figures)."""
        gt, pred = _flat_int64(gt), _flat_int64(pred)
        valid = (gt >= 0) & (gt < self.num_classes) & (pred >= 0) & (pred < self.num_classes)
        pairs = gt[valid] * self.num_classes + pred[valid]
        counts = np.bincount(pairs, minlength=self.num_classes ** 2).reshape(self.counts.shape)
        self.counts += counts
        return counts


def _flat_int64(labels) -> np.ndarray:
    if hasattr(labels, 'detach'):
        import torch
        labels = labels.detach().reshape(-1).to(torch.int64)
        return labels.cpu().numpy()
    return np.asarray(labels, dtype=np.int64).reshape(-1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def segmentation_results(counts: np.ndarray) -> Dict[str, np.ndarray]:
    """IoU and Acc per class in percent, rounded like mmseg's table (NaN: class not in the ground truth)."""
    hit, gt, pred = np.diag(counts).astype(float), counts.sum(axis=1).astype(float), counts.sum(axis=0)
    return {'IoU': np.round(_ratio(hit, gt + pred - hit) * 100, 2), 'Acc': np.round(_ratio(hit, gt) * 100, 2)}


def classification_results(counts: np.ndarray) -> Dict[str, np.ndarray]:
    """Precision, recall and F1 per class in percent (0 where undefined, as mmpretrain gives them)."""
    hit, gt, pred = np.diag(counts).astype(float), counts.sum(axis=1).astype(float), counts.sum(axis=0)
    precision = np.nan_to_num(_ratio(hit, pred)) * 100
    recall = np.nan_to_num(_ratio(hit, gt)) * 100
    f1 = np.nan_to_num(_ratio(2 * precision * recall, precision + recall))
    return {'precision': precision, 'recall': recall, 'f1-score': f1}


COCO_COLUMNS = {'mAP': (None, 0), 'mAP_50': (0, 0), 'mAP_75': (5, 0), 'mAP_s': (None, 1), 'mAP_m': (None, 2),
                'mAP_l': (None, 3)}  # name: (IoU index or all, area range index)


def detection_results(precision: np.ndarray) -> Dict[str, np.ndarray]:
    """AP per class from COCOeval's ``eval['precision']`` (IoU x recall x class x area x max dets),
    rounded to 3 digits like mmdet's classwise table (NaN: no ground truth of that class and area)."""
    results = {}
    for name, (iou, area) in COCO_COLUMNS.items():
        values = []
        for k in range(precision.shape[2]):
            cell = precision[:, :, k, area, -1] if iou is None else precision[iou, :, k, area, -1]
            cell = cell[cell > -1]
            values.append(round(float(np.mean(cell)), 3) if cell.size else float('nan'))
        results[name] = np.array(values)
    return results


def pr_curves(precision: np.ndarray, classes: Sequence[str], max_classes: int) -> Dict[str, Dict[str, np.ndarray]]:
    """Precision at each of COCO's recall thresholds, all classes together and per class, at IoU 0.5 and
    averaged over IoU 0.5:0.95 (area all, most detections); unreachable recall gives precision 0."""
    curves = {}
    for label, cube in (('IoU=0.50', precision[:1]), ('IoU=0.50:0.95', precision)):
        per_class = np.where(cube[:, :, :, 0, -1] > -1, cube[:, :, :, 0, -1], np.nan)  # IoU x recall x class
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)  # a class without ground truth: NaN, then 0
            by_class = np.nanmean(per_class, axis=0)  # recall x class
            lines = {'all classes': np.nan_to_num(np.nanmean(by_class, axis=1))}
        present = [k for k in range(len(classes)) if np.isfinite(by_class[:, k]).any()]
        for k in present[:max_classes]:
            lines[classes[k]] = np.nan_to_num(by_class[:, k])
        curves[label] = lines
    return curves


def text_table(classes: Sequence[str], results: Dict[str, np.ndarray], counts: Optional[np.ndarray] = None,
               count_label: str = 'GT') -> str:
    """A fixed-width table, one row per class (``nan``: not in the ground truth)."""
    header = ['class'] + list(results) + ([count_label] if counts is not None else [])
    rows = [[name] + [_cell(results[m][k]) for m in results] + ([str(int(counts[k]))] if counts is not None else [])
            for k, name in enumerate(classes)]
    return format_table(header, rows)


def format_table(header: List[str], rows: List[List[str]]) -> str:
    """Rows of text cells as a bordered table: the first column left-aligned, numbers right-aligned."""
    widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def fmt(row):
        cells = (v.ljust(w) if c == 0 else v.rjust(w) for c, (v, w) in enumerate(zip(row, widths)))
        return '| ' + ' | '.join(cells) + ' |'
    return '\n'.join([line, fmt(header), line] + [fmt(r) for r in rows] + [line])


def matrix_table(classes: Sequence[str], counts: np.ndarray, shown: Sequence[int]) -> str:
    """The confusion matrix's counts (rows: ground truth, columns: prediction) for the ``shown`` classes,
    with each row's total over all classes: the ground-truth count."""
    header = ['GT \\ pred'] + [classes[c] for c in shown] + ['GT total']
    rows = [[classes[r]] + [str(int(counts[r, c])) for c in shown] + [str(int(counts[r].sum()))] for r in shown]
    return format_table(header, rows)


def _cell(value: float) -> str:
    return 'nan' if not np.isfinite(value) else f'{value:.3f}'.rstrip('0').rstrip('.')


def charted_classes(gt_counts: np.ndarray, limit: int) -> List[int]:
    """Classes that get a scalar chart per metric: all up to ``limit``, else the ``limit`` most frequent in the
    validation ground truth (a set that stays the same across validations and resumes)."""
    if len(gt_counts) <= limit:
        return list(range(len(gt_counts)))
    return sorted(np.argsort(-np.asarray(gt_counts), kind='stable')[:limit].tolist())
