"""What the model gets wrong, as the local dashboard shows it: gallery, per-class results, confusion matrix, card.

One recipe per task family trains on its tiny dataset (Faster R-CNN on COCO with
``classwise=True``, so that MMEngine records mmdet's own per-class AP; SegFormer on
ADE20K; ResNet-18 on CIFAR-10). Everything is read back from the real dashboard and
compared with MMEngine's records, mmseg's printed table and the annotation files.
"""
import io
import json
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ci.check_dashboard import mmengine_records
from ci.dashboard import LocalDashboard
from ci.run_smoke import smoke_env
from ci.smoke_matrix import SMOKE_CASES

from helpers import ROOT

CASES = {c.name: c for c in SMOKE_CASES}
DET, SEG, CLS = 'faster-rcnn_r50_fpn_1x_coco', 'segformer_mit-b0_8xb2-160k_ade20k-512x512', 'resnet18_8xb16_cifar10'
DATA = {DET: 'coco', SEG: 'ade20k', CLS: 'cifar10'}
OPTIONS = {DET: ['--cfg-options', 'val_evaluator.classwise=True', 'test_evaluator.classwise=True']}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    from ci.tiny_datasets import make_ade20k, make_cifar10, make_coco
    root = tmp_path_factory.mktemp('insights')
    make_coco(root / 'data' / 'coco')
    make_ade20k(root / 'data' / 'ade20k')
    make_cifar10(root / 'data' / 'cifar10')
    for name in (DET, SEG, CLS):
        result = subprocess.run(
            [sys.executable, '-m', 'ci.smoke_train', str(ROOT / CASES[name].config), '--data-root',
             str(root / 'data' / DATA[name]), '--work-dir', str(root / name), *OPTIONS.get(name, [])],
            capture_output=True, text=True, env=smoke_env(str(root / 'swanlog')), cwd=ROOT, timeout=900)
        assert result.returncode == 0, result.stderr[-5000:]
        assert 'SwanLab insights' not in result.stdout + result.stderr, 'an insights part failed'
    with LocalDashboard(str(root / 'swanlog')) as board:
        yield root, board


def _text(board, exp, key):
    return [(entry['step'], entry['files'][0]) for entry in board.media(exp, key)]


def _table(text):
    """Rows of a table printed by swanlab_backend.insights.per_class.format_table (or PrettyTable)."""
    rows = [[cell.strip() for cell in line.strip().strip('|').split('|')] for line in text.splitlines()
            if line.startswith('|')]
    return rows[0], rows[1:]


def _image(board, exp, key, filename):
    return np.asarray(Image.open(io.BytesIO(board.media_bytes(exp, key, filename))).convert('RGB')).astype(int)


def _validation_steps(board, exp, metric):
    return sorted(board.scalar_series(exp, f'val/{metric}'))


@pytest.mark.parametrize('name,expected', [(DET, 4), (SEG, 2), (CLS, 8)])
def test_the_gallery_shows_the_same_samples_at_every_evaluation(runs, name, expected):
    root, board = runs
    exp = board.experiment(name)
    val_steps = _validation_steps(board, exp, CASES[name].val_metrics[0])
    gallery = board.media(exp, 'val/gallery')
    assert [entry['step'] for entry in gallery] == val_steps and len(val_steps) >= 2
    assert all(len(entry['files']) == expected for entry in gallery)  # 8 by default; the tiny val sets are smaller
    names = [[c['caption'].split(':')[0] for c in entry['captions']] for entry in gallery]
    assert all(n == names[0] for n in names) and len(set(names[0])) == expected
    test_steps = sorted(board.scalar_series(exp, f'test/{CASES[name].val_metrics[0]}'))
    assert [entry['step'] for entry in board.media(exp, 'test/gallery')] == test_steps
    charts = board.get(f'/experiment/{exp["id"]}/chart')['charts']
    image_keys = sorted(c['source'][0] for c in charts if c['type'] == 'image')
    assert [k for k in image_keys if k.endswith('gallery')] == ['dataset/gallery', 'test/gallery', 'val/gallery']
    assert all(k.split('/')[0] in ('dataset', 'val', 'test') for k in image_keys)  # no chart per file or index


def test_detection_ground_truth_is_drawn_in_its_class_colour_inside_its_box(runs):
    from mmdet.datasets import CocoDataset
    root, board = runs
    exp = board.experiment(DET)
    annotations = json.loads((root / 'data' / 'coco' / 'annotations' / 'instances_val2017.json').read_text())
    names = {c['id']: c['name'] for c in annotations['categories']}
    palette = dict(zip(CocoDataset.METAINFO['classes'], CocoDataset.METAINFO['palette']))
    entry = board.media(exp, 'dataset/gallery')[0]
    checked = 0
    for filename, caption in zip(entry['files'], entry['captions']):
        file = caption['caption'].split(':')[0]
        image = next(i for i in annotations['images'] if i['file_name'] == file)
        original = np.asarray(Image.open(root / 'data' / 'coco' / 'val2017' / file).convert('RGB')).astype(int)
        drawn = _image(board, exp, 'dataset/gallery', filename)
        assert drawn.shape == original.shape  # ground truth alone, at the image's own size
        changed = np.abs(drawn - original).max(axis=2) > 40
        allowed = np.zeros(changed.shape, bool)
        for ann in (a for a in annotations['annotations'] if a['image_id'] == image['id']):
            x, y, w, h = (round(v) for v in ann['bbox'])
            allowed[max(0, y - 4):y + h + 5, max(0, x - 4):x + w + 5] = True
            allowed[max(0, y - 4):y + 30, max(0, x - 4):x + 12 * len(names[ann['category_id']]) + 20] = True  # label
            edge = drawn[y + 25:y + h - 2, max(0, x - 1):x + 2].reshape(-1, 3)  # the box's left side, below the label
            colour = np.array(palette[names[ann['category_id']]])
            assert (np.abs(edge - colour).max(axis=1) < 60).mean() > 0.6, (file, names[ann['category_id']])
            checked += 1
        assert changed[allowed].any() and not changed[~allowed].any(), file
    assert checked >= 4
    # The validation gallery's left half is the same ground truth.
    val = board.media(exp, 'val/gallery')[-1]
    left = _image(board, exp, 'val/gallery', val['files'][0])
    first = _image(board, exp, 'dataset/gallery', entry['files'][0])
    assert left.shape[1] == 2 * first.shape[1] and np.abs(left[:, :first.shape[1]] - first).max() < 8


def _interior(mask, margin=2):
    """``mask`` without its outer ``margin`` pixels (colours blend across a region's border)."""
    inner = mask.copy()
    for axis in (0, 1):
        for shift in range(1, margin + 1):
            for direction in (shift, -shift):
                inner &= np.roll(mask, direction, axis=axis)
    return inner


def test_segmentation_ground_truth_is_drawn_in_its_class_colour_inside_its_mask(runs):
    from mmseg.datasets import ADE20KDataset
    root, board = runs
    exp = board.experiment(SEG)
    palette = np.array(ADE20KDataset.METAINFO['palette'])
    entry = board.media(exp, 'dataset/gallery')[0]
    for filename, caption in zip(entry['files'], entry['captions']):
        stem = caption['caption'].split(':')[0][:-len('.jpg')]
        original = np.asarray(Image.open(root / 'data' / 'ade20k' / 'images' / 'validation' / f'{stem}.jpg')
                              .convert('RGB')).astype(float)
        labels = np.asarray(Image.open(root / 'data' / 'ade20k' / 'annotations' / 'validation' / f'{stem}.png'))
        drawn = _image(board, exp, 'dataset/gallery', filename)
        assert (labels == 0).any(), 'the tiny ADE20K should have unlabelled pixels'
        assert (np.abs(drawn - original).max(axis=2)[_interior(labels == 0)] < 12).mean() > 0.95  # 'other'
        regions = [(v, _interior(labels == v)) for v in set(np.unique(labels)) - {0}]
        regions = [(v, r) for v, r in regions if r.sum() >= 200]  # thin poles are mostly under their label
        assert len(regions) >= 3
        for value, region in regions:
            expected = 0.2 * original + 0.8 * palette[value - 1]  # SegLocalVisualizer's alpha 0.8
            near = np.abs(drawn - expected).max(axis=2)[region] < 25
            assert near.mean() > 0.65, (stem, ADE20KDataset.METAINFO['classes'][value - 1])  # the rest: its label


def test_segmentation_per_class_table_equals_what_mmseg_printed(runs):
    root, board = runs
    exp = board.experiment(SEG)
    log = next((root / SEG).glob('*/*.log')).read_text()
    printed = [block for block in log.split('per class results:')[1:]]
    ours = _text(board, exp, 'val/per_class/table') + _text(board, exp, 'test/per_class/table')
    assert len(ours) == len(printed) >= 3
    for (_, text), block in zip(ours, printed):
        header, rows = _table(text)
        mm_header, mm_rows = _table('\n'.join(line for line in block.splitlines()[:160] if line.startswith('|')))
        assert header[:3] == ['class', 'IoU', 'Acc'] and mm_header == ['Class', 'IoU', 'Acc']
        mmseg = {r[0]: (float(r[1]), float(r[2])) for r in mm_rows}
        assert len(rows) == len(mmseg) == 150
        for name, iou, acc, _ in rows:
            assert np.allclose((float(iou), float(acc)), mmseg[name], equal_nan=True), name


def _ade_pixels(root, split):
    counts = np.zeros(150, np.int64)
    for path in sorted((root / 'data' / 'ade20k' / 'annotations' / split).glob('*.png')):
        values = np.asarray(Image.open(path)).astype(np.int64).reshape(-1)
        counts += np.bincount(values[values > 0] - 1, minlength=150)
    return counts


def test_segmentation_confusion_matrix_rows_sum_to_the_ground_truth_pixels(runs):
    root, board = runs
    exp = board.experiment(SEG)
    truth = _ade_pixels(root, 'validation')
    from mmseg.datasets import ADE20KDataset
    classes = [name.strip() for name in ADE20KDataset.METAINFO['classes']]  # mmseg has 'bed '
    for _, text in _text(board, exp, 'val/confusion_matrix_table'):
        header, rows = _table(text)
        for row in rows:
            k = classes.index(row[0])
            assert int(row[-1]) == truth[k] and sum(map(int, row[1:-1])) <= truth[k]
        assert sum(int(r[-1]) for r in rows) == truth.sum()  # every labelled pixel's class is shown here


def _cifar_labels(root, files):
    labels = []
    for name in files:
        with open(root / 'data' / 'cifar10' / 'cifar-10-batches-py' / name, 'rb') as f:
            labels += pickle.load(f, encoding='latin1')['labels']
    return np.bincount(labels, minlength=10)


def test_classification_per_class_results_and_confusion_matrix_match_mmengine(runs):
    root, board = runs
    exp = board.experiment(CLS)
    truth = _cifar_labels(root, ['test_batch'])
    top1 = [v for _, v in sorted(board.scalar_series(exp, 'val/accuracy/top1').items())]
    tables = _text(board, exp, 'val/per_class/table')
    assert len(tables) == len(top1) >= 2
    for (_, text), accuracy in zip(tables, top1):
        header, rows = _table(text)
        assert header == ['class', 'precision', 'recall', 'f1-score', 'GT images']
        gt = np.array([int(r[4]) for r in rows])
        recall = np.array([float(r[2]) for r in rows])
        assert (gt == truth).all()
        assert abs((recall * gt).sum() / gt.sum() - accuracy) < 0.01  # per-class recall adds up to top-1
    for _, text in _text(board, exp, 'val/confusion_matrix_table'):
        header, rows = _table(text)
        assert [int(r[-1]) for r in rows] == truth.tolist()
        assert [sum(map(int, r[1:-1])) for r in rows] == truth.tolist()
    # The ECharts copies for the cloud are in the run's record (the local dashboard never shows ECharts).
    (run_dir,) = [d for d in (root / 'swanlog').glob('run-*') if CLS in (d / 'files' / 'config.yaml').read_text()]
    charts = [json.loads(p.read_text()) for p in (run_dir / 'media' / 'echarts').glob('*.json')]
    heat_maps = [c for c in charts if '"heatmap"' in json.dumps(c)]
    assert heat_maps and all('airplane' in json.dumps(c) for c in heat_maps)


def test_detection_per_class_ap_equals_mmdets_classwise_results(runs):
    root, board = runs
    exp = board.experiment(DET)
    _, val, _ = mmengine_records(str(root / DET))
    tables = _text(board, exp, 'val/per_class/bbox/table')
    assert len(tables) == len(val) >= 2
    for (_, text), record in zip(tables, val):
        header, rows = _table(text)
        assert header == ['class', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'GT boxes']
        for row in rows:
            assert float(row[1]) == pytest.approx(record[f'coco/{row[0]}_precision'], abs=1e-9, nan_ok=True), row
    assert len(board.media(exp, 'val/pr_curves/bbox')[-1]['files']) == 2  # IoU 0.5 and 0.5:0.95
    assert 'val/coco/bbox_mAP_s' not in board.tags(exp)  # -1: the tiny COCO has no small objects


def _card_counts(board, exp):
    text = _text(board, exp, 'dataset/card')
    assert [step for step, _ in text] == [0]
    header, rows = _table(text[0][1])
    return header, {r[0]: [int(v) for v in r[1:]] for r in rows}


def test_dataset_cards_count_what_the_annotation_files_hold(runs):
    root, board = runs
    header, counts = _card_counts(board, board.experiment(DET))
    assert header == ['class', 'train', 'val']
    for split, column in (('train', 0), ('val', 1)):
        annotations = json.loads((root / 'data' / 'coco' / 'annotations' / f'instances_{split}2017.json').read_text())
        names = {c['id']: c['name'] for c in annotations['categories']}
        per_class = {}
        for ann in annotations['annotations']:
            per_class[names[ann['category_id']]] = per_class.get(names[ann['category_id']], 0) + 1
        assert {n: c[column] for n, c in counts.items() if c[column]} == per_class

    header, counts = _card_counts(board, board.experiment(CLS))
    train, test = _cifar_labels(root, [f'data_batch_{i}' for i in range(1, 6)]), _cifar_labels(root, ['test_batch'])
    assert [c[0] for c in counts.values()] == train.tolist() and [c[1] for c in counts.values()] == test.tolist()

    header, counts = _card_counts(board, board.experiment(SEG))
    assert [c[0] for c in counts.values()] == _ade_pixels(root, 'training').tolist()
    assert [c[1] for c in counts.values()] == _ade_pixels(root, 'validation').tolist()
    card = _text(board, board.experiment(SEG), 'dataset/card')[0][1]
    assert re.search(r'train: 4 images\n  image sizes \(w x h\): 128x128 to 128x128', card)
