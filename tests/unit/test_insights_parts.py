"""The parts of ``swanlab_backend.insights``, against the OpenMMLab code that computes the same numbers."""
import json

import numpy as np
import pytest
import torch

from swanlab_backend.insights import SwanlabInsightsHook, charts, coco_capture, per_class
from swanlab_backend.insights.hook import _gallery_keys
from swanlab_backend.mmengine.checkpoints import plain_numbers
from swanlab_backend.mmengine.metrics import ScalarConverter


def test_segmentation_results_equal_mmsegs_iou_metric():
    from mmseg.evaluation.metrics import IoUMetric
    rng = np.random.default_rng(0)
    gt = torch.from_numpy(rng.integers(0, 6, (2, 40, 30)))
    gt[0, :5] = 255  # ignored pixels
    pred = torch.from_numpy(rng.integers(0, 5, (2, 40, 30)))  # class 5 is never predicted
    matrix = per_class.ConfusionMatrix(6)
    areas = [IoUMetric.intersect_and_union(p, g, 6, 255) for p, g in zip(pred, gt)]
    for p, g in zip(pred, gt):
        keep = g != 255
        matrix.add(g[keep], p[keep])
    totals = [sum(a[i] for a in areas) for i in range(4)]
    expected = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])
    ours = per_class.segmentation_results(matrix.counts)
    assert np.allclose(ours['IoU'], np.round(expected['IoU'] * 100, 2), equal_nan=True)
    assert np.allclose(ours['Acc'], np.round(expected['Acc'] * 100, 2), equal_nan=True)
    assert (matrix.counts.sum(axis=1) == [(gt == c).sum() for c in range(6)]).all()


def test_classification_results_equal_mmpretrains_single_label_metric():
    from mmpretrain.evaluation import SingleLabelMetric
    rng = np.random.default_rng(1)
    target, pred = torch.from_numpy(rng.integers(0, 4, 50)), torch.from_numpy(rng.integers(0, 4, 50))
    pred[pred == 3] = 2  # class 3 is never predicted: precision 0, as mmpretrain gives it
    matrix = per_class.ConfusionMatrix(4)
    matrix.add(target, pred)
    precision, recall, f1, _ = SingleLabelMetric.calculate(pred, target, num_classes=4, average=None)
    ours = per_class.classification_results(matrix.counts)
    assert np.allclose(ours['precision'], precision.numpy()) and np.allclose(ours['recall'], recall.numpy())
    assert np.allclose(ours['f1-score'], f1.numpy())


def _coco_metric(tmp_path):
    from mmdet.evaluation import CocoMetric
    ann = dict(images=[dict(id=1, file_name='a.jpg', width=100, height=80)],
               categories=[dict(id=1, name='person'), dict(id=2, name='bicycle')],
               annotations=[dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 40, 40], area=1600, iscrowd=0)])
    (tmp_path / 'ann.json').write_text(json.dumps(ann))
    metric = CocoMetric(ann_file=str(tmp_path / 'ann.json'), metric='bbox')
    metric.dataset_meta = dict(classes=('person', 'bicycle'))
    return metric


def _predict(metric, box):
    sample = dict(img_id=1, ori_shape=(80, 100), pred_instances=dict(
        bboxes=torch.tensor([box], dtype=torch.float32), scores=torch.tensor([0.9]), labels=torch.tensor([0])))
    metric.process({}, [sample])


def test_coco_capture_keeps_the_precision_array_and_touches_nothing_else(tmp_path):
    import mmdet.evaluation.metrics.coco_metric as module
    original = module.COCOeval
    metric = _coco_metric(tmp_path)
    capture = coco_capture.attach(metric)
    assert coco_capture.attach(metric) is capture  # once per metric
    _predict(metric, [10, 10, 50, 50])
    results = metric.evaluate(1)
    precision = capture.take()['bbox']
    assert precision.shape[:3] == (10, 101, 2) and module.COCOeval is original
    ap = per_class.detection_results(precision)
    assert ap['mAP'][0] == pytest.approx(results['coco/bbox_mAP']) and np.isnan(ap['mAP'][1])  # no bicycle
    assert capture.class_names() == ['person', 'bicycle']

    def failing(*args, **kwargs):
        raise RuntimeError('evaluation failed')
    metric._coco_api.loadRes = failing
    _predict(metric, [10, 10, 50, 50])
    with pytest.raises(RuntimeError):
        metric.evaluate(1)
    assert module.COCOeval is original  # restored when the evaluation raises
    assert coco_capture.attach(object()) is None


def test_the_gallery_is_the_same_seeded_choice_every_time():
    class Dataset:
        def __len__(self):
            return 50

        def get_data_info(self, index):
            return dict(img_path=f'/data/{index}.jpg')

    first, second = _gallery_keys(Dataset(), 8, 0), _gallery_keys(Dataset(), 8, 0)
    indices = sorted(set(first.values()))
    assert first == second and len(indices) == 8 and indices != list(range(8))
    assert first[('img_path', f'/data/{indices[0]}.jpg')] == indices[0]
    assert len(set(_gallery_keys(Dataset(), 100, 0).values())) == 50


def test_wrong_arguments_fail_when_the_backend_is_built(tmp_path):
    from swanlab_backend import SwanlabVisBackend
    with pytest.raises(ValueError, match='num_samples'):
        SwanlabInsightsHook(num_samples=-1)
    with pytest.raises(ValueError, match='score_thr'):
        SwanlabInsightsHook(score_thr=2)
    with pytest.raises(ValueError, match='hardest_samples must be a whole number'):
        SwanlabInsightsHook(hardest_samples=-1)
    with pytest.raises(TypeError, match='num_sample'):
        SwanlabVisBackend(str(tmp_path), insights=dict(num_sample=8))


def test_a_failing_part_is_one_warning_and_nothing_raises(capsys):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('insights-test')
    hook = SwanlabInsightsHook()

    def broken():
        raise KeyError('palette')
    assert hook._guarded('gallery', broken) == {} and hook._guarded('gallery', broken) == {}
    printed = capsys.readouterr()
    assert (printed.out + printed.err).count("the gallery failed and is skipped (KeyError: 'palette')") == 1


def test_charts_draw_large_class_counts_readably():
    classes = [f'class {i}' for i in range(150)]
    counts = np.random.default_rng(0).integers(0, 50, (150, 150))
    results = per_class.segmentation_results(counts)
    bars = charts.bar_chart('IoU', classes, results, '%')
    heat = charts.heat_map('confusion', classes, counts)
    assert bars.ndim == 3 and bars.dtype == np.uint8 and heat.shape[0] < 2000  # 30 of 150 classes shown
    assert len(charts.heat_map_classes(counts)) == charts.MAX_HEAT_MAP_CLASSES
    curves = charts.pr_curves('pr', np.linspace(0, 1, 101), {'all classes': np.linspace(1, 0, 101)})
    assert curves.shape[2] == 3
    text = per_class.matrix_table(classes, counts, [0, 1])
    assert text.splitlines()[3].split('|')[-2].strip() == str(counts[0].sum())  # the GT total of the whole row


def test_values_that_are_not_measurements_stay_off_the_curves():
    convert = ScalarConverter()
    assert convert('coco/bbox_mAP_s', -1.0) is None and convert('coco/segm_mAP_l', -1) is None
    assert convert('coco/bbox_mAP_s', 0.25) == 0.25 and convert('loss', -1.0) == -1.0
    assert plain_numbers({'mIoU': np.float32(41.5), 'name': 'x', 'flag': True}) == {'mIoU': 41.5}
