"""What differs between detection, semantic segmentation and classification: which outputs a sample
carries, what of it the gallery keeps, how it is drawn and captioned, and what its confusion matrix counts.

Drawing uses the task's own visualizer class (``DetLocalVisualizer``,
``SegLocalVisualizer``, ``UniversalVisualizer``), as a private instance without
backends: the gallery looks like OpenMMLab's pictures, and nothing reaches the
runner's visualizer or its other backends.
"""
import os.path as osp
from typing import Any, List, Optional

import numpy as np

DETECTION, SEGMENTATION, CLASSIFICATION = 'detection', 'segmentation', 'classification'
MIN_CLASSIFICATION_SIDE = 224  # CIFAR's 32 px images are enlarged, or their caption would not fit


def family_of(sample: Any) -> Optional[str]:
    """The task family of a model output, or None for outputs the insights do not know."""
    if 'pred_instances' in sample or 'gt_instances' in sample:
        return DETECTION
    if 'pred_sem_seg' in sample or 'gt_sem_seg' in sample:
        return SEGMENTATION
    if 'pred_label' in sample or 'gt_label' in sample:
        return CLASSIFICATION
    return None


def sample_name(sample: Any, index: int) -> str:
    path = sample.metainfo.get('img_path')
    return osp.basename(path) if path else f'sample {index}'


def slim_sample(family: str, sample: Any, score_thr: float) -> Any:
    """A CPU copy of what drawing needs: ground truth and the predictions above ``score_thr``
    (a Mask R-CNN output keeps a full-image mask per box; only the drawn ones travel between ranks)."""
    slim = type(sample)(metainfo=sample.metainfo)
    for field in ('gt_instances', 'gt_sem_seg', 'pred_sem_seg', 'gt_label', 'pred_label', 'pred_score'):
        if field in sample:
            value = getattr(sample, field)
            setattr(slim, field, value.cpu() if hasattr(value, 'cpu') else value)
    if family == DETECTION and 'pred_instances' in sample:
        pred = sample.pred_instances
        slim.pred_instances = pred[pred.scores >= score_thr].cpu()
    if 'gt_instances' in slim and hasattr(slim.gt_instances.get('bboxes'), 'tensor'):
        slim.gt_instances.bboxes = slim.gt_instances.bboxes.tensor  # box objects straight from a pipeline
    return slim


def input_image(inputs: Any, bgr: bool) -> np.ndarray:
    """The network input of one sample (CHW tensor) as an HWC RGB uint8 array."""
    array = inputs.detach().cpu().numpy() if hasattr(inputs, 'detach') else np.asarray(inputs)
    array = np.clip(array.transpose(1, 2, 0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array[..., ::-1] if bgr and array.shape[-1] == 3 else array)


def source_image(sample: Any, fallback: Optional[np.ndarray]) -> np.ndarray:
    """The original image (detection and segmentation predictions are in its coordinates), else ``fallback``."""
    path = sample.metainfo.get('img_path')
    if path:
        import mmcv
        from mmengine.fileio import get
        return mmcv.imfrombytes(get(path), channel_order='rgb')
    if fallback is None:
        raise ValueError('the sample has neither an img_path nor an input image')
    return fallback


def draw(visualizer: Any, family: str, image: np.ndarray, sample: Any, draw_pred: bool, score_thr: float) -> np.ndarray:
    """Ground truth (left) beside prediction (right), or ground truth alone, drawn by ``visualizer``."""
    drawn: List[np.ndarray] = []
    visualizer.add_image = lambda name, image, step=0: drawn.append(image)  # our own instance: keep the picture
    if family == CLASSIFICATION:
        short = min(image.shape[:2])
        return visualizer.visualize_cls(image, sample, draw_pred=draw_pred, draw_score=True,
                                        resize=MIN_CLASSIFICATION_SIDE if short < MIN_CLASSIFICATION_SIDE else None)
    kwargs = dict(pred_score_thr=score_thr) if family == DETECTION else {}
    visualizer.add_datasample('gallery', image, data_sample=sample, draw_gt=True, draw_pred=draw_pred, show=False,
                              **kwargs)
    return drawn[-1]


def caption(family: str, name: str, sample: Any, classes: List[str], score_thr: float, draw_pred: bool) -> str:
    """The file name and what the picture counts: objects, classes present, or labels and top scores."""
    if family == DETECTION:
        text = f'{name}: {len(sample.gt_instances) if "gt_instances" in sample else 0} ground-truth objects'
        if draw_pred:
            text += f', {len(sample.pred_instances)} predictions with score >= {score_thr:g}'
        return text
    if family == SEGMENTATION:
        gt = _seg_labels(sample, 'gt_sem_seg')
        text = f'{name}: ground truth {_class_list(np.unique(gt), classes)}'
        if draw_pred and gt is not None:
            pred = _seg_labels(sample, 'pred_sem_seg')
            valid = gt < len(classes)
            accuracy = 100.0 * float((pred[valid] == gt[valid]).mean()) if valid.any() else float('nan')
            text += f'; predicted {_class_list(np.unique(pred), classes)}; pixel accuracy {accuracy:.1f}%'
        return text
    gt = [classes[int(i)] for i in sample.gt_label.tolist()] if 'gt_label' in sample else []
    text = f'{name}: ground truth {", ".join(gt) or "-"}'
    if draw_pred and 'pred_score' in sample:
        scores = sample.pred_score.float()
        top = scores.topk(min(3, len(scores)))
        text += '; top-{}: {}'.format(len(top.indices), ', '.join(
            f'{classes[int(i)]} {float(s):.2f}' for s, i in zip(top.values, top.indices)))
    return text


def _seg_labels(sample: Any, field: str) -> Optional[np.ndarray]:
    return getattr(sample, field).data.squeeze(0).cpu().numpy() if field in sample else None


def _class_list(labels: np.ndarray, classes: List[str], limit: int = 5) -> str:
    names = [classes[int(v)] for v in labels if 0 <= int(v) < len(classes)]
    return ', '.join(names[:limit]) + (f' (+{len(names) - limit})' if len(names) > limit else '') if names else '-'


def confusion_pairs(family: str, sample: Any, ignore_index: int = 255) -> Optional[tuple]:
    """``(ground truth, prediction)`` labels of one sample for the confusion matrix (pixels for segmentation,
    the top-1 label for single-label classification), or None when the sample has no ground truth."""
    if family == SEGMENTATION and 'gt_sem_seg' in sample and 'pred_sem_seg' in sample:
        gt = sample.gt_sem_seg.data.reshape(-1)
        pred = sample.pred_sem_seg.data.reshape(-1).to(gt.device)
        keep = gt != ignore_index
        return gt[keep], pred[keep]
    if family == CLASSIFICATION and 'gt_label' in sample and 'pred_label' in sample:
        if len(sample.gt_label) == 1:  # multi-label samples have no single true class
            return sample.gt_label.reshape(-1), sample.pred_label.reshape(-1)[:1]
    return None
