"""Per-class results under DDP equal the task's own metric: the sampler's padding is counted once, as
MMEngine's metrics count it. Two CPU ranks (gloo, torchrun) validate odd-sized sets, so that the second rank
ends on a padded repeat of the first image: 3 ADE20K images (mmseg's ``IoUMetric`` table, as printed), 19
CIFAR-10 images (mmpretrain's ``SingleLabelMetric(average=None)``, as returned) and 5 COCO images (mmdet's
classwise AP, as returned)."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ci.dashboard import LocalDashboard, free_port
from ci.run_smoke import smoke_env
from ci.smoke_matrix import SMOKE_CASES

from helpers import ROOT, dashboard_texts, table_rows

CASES = {c.name: c for c in SMOKE_CASES}
DET, SEG, CLS = 'faster-rcnn_r50_fpn_1x_coco', 'segformer_mit-b0_8xb2-160k_ade20k-512x512', 'resnet18_8xb16_cifar10'


def _train_on_two_ranks(tmp_path, name, data_root, *options):
    work_dir, log_dir = tmp_path / 'work_dir', tmp_path / 'swanlog'
    command = [sys.executable, '-m', 'torch.distributed.run', '--nnodes=1', '--nproc_per_node=2',
               '--master_addr=127.0.0.1', f'--master_port={free_port()}', str(ROOT / 'tests' / 'insights_train.py'),
               str(ROOT / CASES[name].config), '--data-root', str(data_root), '--work-dir', str(work_dir),
               '--record', str(tmp_path / 'record.pkl'), '--launcher', 'pytorch', '--length', '1', '--no-test',
               *options]
    result = subprocess.run(command, capture_output=True, text=True, env=smoke_env(str(log_dir)), cwd=ROOT,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    assert 'SwanLab insights' not in result.stdout + result.stderr, 'an insights part failed'
    return work_dir, log_dir


def test_segmentation_per_class_iou_on_two_ranks_equals_mmsegs(tmp_path):
    from ci.tiny_datasets import make_ade20k
    data = make_ade20k(tmp_path / 'ade20k', num_val=3)
    work_dir, log_dir = _train_on_two_ranks(tmp_path, SEG, data)
    printed = next(work_dir.glob('*/*.log')).read_text().split('per class results:')[1:]
    truth = np.zeros(150, np.int64)
    for path in sorted((data / 'annotations' / 'validation').glob('*.png')):
        values = np.asarray(Image.open(path)).astype(np.int64).reshape(-1)
        truth += np.bincount(values[values > 0] - 1, minlength=150)
    with LocalDashboard(str(log_dir)) as board:
        exp = board.experiment(SEG)
        tables = dashboard_texts(board, exp, 'val/per_class/table')
        (_, matrix), = dashboard_texts(board, exp, 'val/confusion_matrix_table')
        hardest = board.media(exp, 'val/hardest')
    assert len(tables) == len(printed) == 1
    _, rows = table_rows(tables[0][1])
    _, mm_rows = table_rows('\n'.join(line for line in printed[0].splitlines()[:160] if line.startswith('|')))
    mmseg = {r[0]: (float(r[1]), float(r[2])) for r in mm_rows}
    assert len(rows) == len(mmseg) == 150
    for name, iou, acc, _ in rows:
        assert np.allclose((float(iou), float(acc)), mmseg[name], equal_nan=True), name
    _, matrix_rows = table_rows(matrix)
    assert sum(int(r[-1]) for r in matrix_rows) == truth.sum()  # every labelled pixel once, none twice
    names = [c['caption'].split(':')[0] for c in hardest[0]['captions']]
    assert sorted(names) == [f'ADE_val_0000000{k}.jpg' for k in (1, 2, 3)]  # the padded repeat is not among them


def test_classification_per_class_results_on_two_ranks_equal_single_label_metric(tmp_path):
    import pickle

    from ci.tiny_datasets import make_cifar10
    data = make_cifar10(tmp_path / 'cifar10')
    _train_on_two_ranks(tmp_path, CLS, data, '--classwise-metric', '--cfg-options', 'val_dataloader.dataset.indices=19')
    with open(tmp_path / 'record.pkl', 'rb') as f:
        (evaluation,) = pickle.load(f)['evaluations']
    metrics = evaluation['metrics']
    with open(data / 'cifar-10-batches-py' / 'test_batch', 'rb') as f:
        labels = pickle.load(f, encoding='latin1')['labels'][:19]
    with LocalDashboard(str(tmp_path / 'swanlog')) as board:
        exp = board.experiment(CLS)
        (_, table), = dashboard_texts(board, exp, 'val/per_class/table')
        (_, matrix), = dashboard_texts(board, exp, 'val/confusion_matrix_table')
    header, rows = table_rows(table)
    assert header == ['class', 'precision', 'recall', 'f1-score', 'GT images']
    for column, item in ((1, 'precision'), (2, 'recall'), (3, 'f1-score')):
        expected = np.asarray(metrics[f'single-label/{item}_classwise'], dtype=float)
        assert [float(r[column]) for r in rows] == pytest.approx(expected, abs=1e-3), item
    _, matrix_rows = table_rows(matrix)
    assert [int(r[-1]) for r in matrix_rows] == np.bincount(labels, minlength=10).tolist()


def test_detection_per_class_ap_on_two_ranks_equals_mmdets_classwise_results(tmp_path):
    import pickle

    from ci.tiny_datasets import make_coco
    data = make_coco(tmp_path / 'coco', num_val=5)
    _train_on_two_ranks(tmp_path, DET, data, '--cfg-options', 'val_evaluator.classwise=True')
    with open(tmp_path / 'record.pkl', 'rb') as f:
        (evaluation,) = pickle.load(f)['evaluations']
    with LocalDashboard(str(tmp_path / 'swanlog')) as board:
        exp = board.experiment(DET)
        (_, table), = dashboard_texts(board, exp, 'val/per_class/bbox/table')
        hardest = board.media(exp, 'val/hardest')
    _, rows = table_rows(table)
    assert rows
    for row in rows:
        assert float(row[1]) == pytest.approx(evaluation['metrics'][f'coco/{row[0]}_precision'], abs=1e-9,
                                              nan_ok=True), row
    names = [c['caption'].split(':')[0] for c in hardest[0]['captions']]
    assert sorted(names) == [f'{k:012d}.jpg' for k in range(9, 14)]  # each validation image once
