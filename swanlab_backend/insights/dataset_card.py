"""The dataset card logged at step 0: split sizes, instances per class, image sizes.

Counts come from the datasets' own annotation lists (``get_data_info``), so they
equal the annotation files. Detection: boxes per class (ignored boxes left out)
and image sizes from the annotations. Classification: images per class.
Segmentation: pixels per class, read from the label maps through mmseg's own
``LoadAnnotations`` (``reduce_zero_label`` and ``label_map`` applied). Reading
label maps or image headers is capped at ``max_files`` per split, and the card
says when it sampled.
"""
import io
from typing import Any, List, Optional, Tuple

import numpy as np

from .per_class import format_table
from .tasks import CLASSIFICATION, DETECTION, SEGMENTATION


class SplitSummary:
    def __init__(self, name: str, size: int, counts: np.ndarray, sizes: List[Tuple[int, int]], sampled: int):
        self.name, self.size, self.counts, self.sizes, self.sampled = name, size, counts, sizes, sampled


def summarize(name: str, dataset: Any, family: str, num_classes: int, max_files: int) -> SplitSummary:
    size = len(dataset)
    counts = np.zeros(num_classes, dtype=np.int64)
    sizes: List[Tuple[int, int]] = []
    label_maps = 0
    for index in range(size):
        info = dataset.get_data_info(index)
        if family == DETECTION:
            for instance in info.get('instances', []):
                if not instance.get('ignore_flag', 0) and 0 <= instance.get('bbox_label', -1) < num_classes:
                    counts[instance['bbox_label']] += 1
        elif family == CLASSIFICATION:
            for value in np.atleast_1d(np.asarray(info.get('gt_label', []), dtype=np.int64)):
                if 0 <= value < num_classes:
                    counts[value] += 1
        elif label_maps < max_files:
            labels = _label_map(info)
            counts += np.bincount(labels[labels < num_classes], minlength=num_classes)[:num_classes]
            label_maps += 1
        if 'width' in info and 'height' in info:  # COCO annotations carry the size
            sizes.append((int(info['width']), int(info['height'])))
        elif len(sizes) < max_files:
            image_size = _image_size(info)
            if image_size:
                sizes.append(image_size)
    return SplitSummary(name, size, counts, sizes, label_maps if family == SEGMENTATION else size)


def _label_map(info: dict) -> np.ndarray:
    from mmseg.datasets.transforms import LoadAnnotations
    results = LoadAnnotations()(dict(info, seg_fields=[]))
    return results['gt_seg_map'].astype(np.int64)


def _image_size(info: dict) -> Optional[Tuple[int, int]]:
    if info.get('img') is not None:  # CIFAR keeps its images in memory
        return int(info['img'].shape[1]), int(info['img'].shape[0])
    if info.get('img_path'):
        from mmengine.fileio import get
        from PIL import Image
        with Image.open(io.BytesIO(get(info['img_path']))) as image:
            return image.size
    return None


def card_text(splits: List[SplitSummary], classes: List[str], family: str, gallery: List[str]) -> str:
    unit = {DETECTION: 'boxes', SEGMENTATION: 'pixels', CLASSIFICATION: 'images'}[family]
    lines = ['Dataset card', '']
    for split in splits:
        lines.append(f'{split.name}: {split.size} images')
        if split.sizes:
            widths, heights = zip(*split.sizes)
            note = f' (from {len(split.sizes)} of them)' if len(split.sizes) < split.size else ''
            lines.append(f'  image sizes (w x h): {min(widths)}x{min(heights)} to {max(widths)}x{max(heights)}{note}')
        note = f', from {split.sampled} of {split.size} label maps' if split.sampled < split.size else ''
        lines.append(f'  {unit} per class{note}: {int(split.counts.sum())} in all')
    lines += ['', _counts_table(splits, classes), '', 'Gallery samples (validation): ' + ', '.join(gallery)]
    return '\n'.join(lines)


def _counts_table(splits: List[SplitSummary], classes: List[str]) -> str:
    rows = [[name] + [str(int(split.counts[k])) for split in splits] for k, name in enumerate(classes)]
    return format_table(['class'] + [split.name for split in splits], rows)
