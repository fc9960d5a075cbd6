"""Per-image figures, the bounded K-worst heap, DDP padding and the "what changed" table, against the
OpenMMLab code that defines the same things (mmseg's IoUMetric, MMEngine's DefaultSampler)."""
import numpy as np
import pytest
import torch

from swanlab_backend.insights import changes, per_class, per_image, positions
from swanlab_backend.insights.tasks import CLASSIFICATION, DETECTION, SEGMENTATION
from swanlab_backend.insights.worst import HardestSamples, merge


def test_detection_counts_hits_misses_and_false_positives_at_iou_half():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 60, 10]], float)
    gt_labels = np.array([0, 0, 2])
    boxes = np.array([[0, 0, 10, 11],   # person, IoU 0.91: hit
                      [0, 0, 10, 10],   # the same person again: a false positive
                      [40, 0, 60, 10],  # a person where the car is: wrong class, a false positive
                      [20, 0, 24, 10]], float)  # IoU 0.4 with the second person: a false positive
    result = per_image.match_boxes(gt, gt_labels, boxes, np.array([0.9, 0.8, 0.7, 0.95]), np.array([0, 0, 0, 0]))
    assert result == {'TP': 1, 'FP': 3, 'FN': 2}
    assert per_image.badness(DETECTION, result) == 5
    assert per_image.match_boxes(gt, gt_labels, np.zeros((0, 4)), np.zeros(0), np.zeros(0)) == \
        {'TP': 0, 'FP': 0, 'FN': 3}


def test_segmentation_miou_of_an_image_equals_mmsegs_iou_metric_on_it():
    from mmseg.evaluation.metrics import IoUMetric
    rng = np.random.default_rng(0)
    for _ in range(5):
        gt = torch.from_numpy(rng.integers(0, 4, (30, 20)))
        gt[:3] = 255
        pred = torch.from_numpy(rng.integers(0, 6, (30, 20)))  # 4 and 5 never in the ground truth
        keep = gt != 255
        counts = per_class.ConfusionMatrix(6).add(gt[keep], pred[keep])
        areas = IoUMetric.intersect_and_union(pred, gt, 6, 255)
        expected = IoUMetric.total_area_to_metrics(*areas, ['mIoU'])['IoU']
        assert per_image.segmentation(counts)['mIoU'] == pytest.approx(100 * np.nanmean(expected), abs=1e-4)


def _classified(scores, truth):
    from mmpretrain.structures import DataSample
    return DataSample().set_gt_label(truth).set_pred_score(torch.tensor(scores))


def test_classification_puts_confident_mistakes_first():
    sure_wrong = per_image.classification(_classified([0.9, 0.05, 0.05], 2))
    unsure_wrong = per_image.classification(_classified([0.4, 0.25, 0.35], 2))
    unsure_right = per_image.classification(_classified([0.4, 0.25, 0.35], 0))
    assert sure_wrong == pytest.approx({'correct': False, 'top-1 score': 0.9, 'top-1': 0, 'true class': 2,
                                        'true-class score': 0.05})
    badness = [per_image.badness(CLASSIFICATION, f) for f in (sure_wrong, unsure_wrong, unsure_right)]
    assert badness == sorted(badness, reverse=True) and len(set(badness)) == 3
    assert per_image.describe(CLASSIFICATION, sure_wrong, ['cat', 'dog', 'bird']).startswith('wrong: predicted cat')


def test_the_heap_keeps_the_k_worst_and_copies_only_those():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 20, 500).astype(float)  # ties: the earlier image goes first
    copied = []
    parts = []
    for rank in range(2):
        heap = HardestSamples(8)
        for position in range(rank, len(values), 2):
            heap.offer(values[position], position, lambda p=position: copied.append(p) or f'image {p}')
        parts.append(heap.entries())
    assert len(copied) < 100  # bounded: not every image is copied
    worst = merge(parts, 8)
    expected = sorted(range(len(values)), key=lambda p: (-values[p], p))[:8]
    assert [position for _, position, _ in worst] == expected
    assert [payload for _, _, payload in worst] == [f'image {p}' for p in expected]
    assert HardestSamples(0).entries() == [] and merge([[], []], 8) == []


@pytest.mark.parametrize('size', [7, 8, 1])
def test_padding_of_the_default_sampler_is_told_apart(monkeypatch, size):
    import mmengine.dataset.sampler as sampler_module
    from mmengine.dataset import DefaultSampler
    seen = []
    for rank in range(2):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, 2))
        monkeypatch.setattr(positions, 'get_dist_info', lambda r=rank: (r, 2))
        counter = positions.SamplePositions(size)
        for index in DefaultSampler(list(range(size)), shuffle=False):
            position = counter.next()
            if position is not None:
                assert position == index
                seen.append(index)
    assert sorted(seen) == list(range(size))  # each image once, the padding (a repeat of the first) left out


def test_the_changes_table_puts_the_largest_drops_first():
    rows = [('a.jpg', {'mIoU': 50.0}, {'mIoU': 40.0}), ('b.jpg', {'mIoU': 10.0}, {'mIoU': 60.0}),
            ('c.jpg', {'mIoU': 30.0}, {'mIoU': 30.0}), ('d.jpg', {'mIoU': 20.0}, None)]
    header, *lines = [[c.strip() for c in line.strip('|').split('|')]
                      for line in changes.table(SEGMENTATION, rows).splitlines() if line.startswith('|')]
    assert header == ['sample', 'mIoU', 'mIoU before', 'change']
    assert lines == [['b.jpg', '10.00', '60.00', 'worse'], ['c.jpg', '30.00', '30.00', 'same'],
                     ['a.jpg', '50.00', '40.00', 'better'], ['d.jpg', '20.00', '-', 'new']]
    now, before = {'TP': 1, 'FP': 0, 'FN': 1}, {'TP': 0, 'FP': 1, 'FN': 2}
    assert changes.verdict(DETECTION, now, before) == 'better' and changes.verdict(DETECTION, now, None) is None
