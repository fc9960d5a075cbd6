"""What the model gets wrong, as the local dashboard shows it: gallery, per-class results, confusion matrix,
hardest samples, what changed, dataset and model cards.

One recipe per task family trains on its tiny dataset (Faster R-CNN on COCO with
``classwise=True``, so that MMEngine records mmdet's own per-class AP; SegFormer on
ADE20K; ResNet-18 on CIFAR-10), through ``tests/insights_train.py``, which records
every evaluation's outputs. Each validation set holds images the model cannot have
learned, so its worst samples are known in advance: a COCO image of background
alone with 8 person boxes, an ADE20K street scene labelled "bed" throughout, and the
CIFAR-10 trucks (no truck in training). Everything is read back from the real
dashboard and compared with MMEngine's records, mmseg's printed table, the
annotation files, and figures recomputed from the recorded outputs.
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

from helpers import ROOT, dashboard_texts, table_rows

CASES = {c.name: c for c in SMOKE_CASES}
DET, SEG, CLS = 'faster-rcnn_r50_fpn_1x_coco', 'segformer_mit-b0_8xb2-160k_ade20k-512x512', 'resnet18_8xb16_cifar10'
DATA = {DET: 'coco', SEG: 'ade20k', CLS: 'cifar10'}
OPTIONS = {DET: ['--cfg-options', 'val_evaluator.classwise=True', 'test_evaluator.classwise=True'],
           CLS: ['--auto-scale-lr']}  # the lr of batch 2 (not 128): a model that learns, confident on trucks' absence


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    from ci.tiny_datasets import make_ade20k, make_cifar10, make_coco
    root = tmp_path_factory.mktemp('insights')
    _add_background_with_boxes(make_coco(root / 'data' / 'coco'))
    _add_scene_labelled_bed(make_ade20k(root / 'data' / 'ade20k'))
    _drop_from_training(make_cifar10(root / 'data' / 'cifar10'), TRUCK)
    for name in (DET, SEG, CLS):
        result = subprocess.run(
            [sys.executable, str(ROOT / 'tests' / 'insights_train.py'), str(ROOT / CASES[name].config),
             '--data-root', str(root / 'data' / DATA[name]), '--work-dir', str(root / name),
             '--record', str(root / name / 'record.pkl'), *OPTIONS.get(name, [])],
            capture_output=True, text=True, env=smoke_env(str(root / 'swanlog')), cwd=ROOT, timeout=900)
        assert result.returncode == 0, result.stderr[-5000:]
        assert 'SwanLab insights' not in result.stdout + result.stderr, 'an insights part failed'
    with LocalDashboard(str(root / 'swanlog')) as board:
        yield root, board


_text, _table = dashboard_texts, table_rows
TRUCK = 9  # CIFAR-10's truck: in the validation set, not in training
BLANK_COCO = '000000000013.jpg'  # background alone, 8 person boxes
BED_SCENE = 'ADE_val_00000000.jpg'  # every labelled pixel "bed"; first, so that it wins ties at mIoU 0


def _add_background_with_boxes(root):
    """One more validation image: background without objects, annotated with 8 persons."""
    from ci.tiny_datasets import _background
    path = root / 'annotations' / 'instances_val2017.json'
    coco = json.loads(path.read_text())
    image_id = max(i['id'] for i in coco['images']) + 1
    assert f'{image_id:012d}.jpg' == BLANK_COCO
    Image.fromarray(_background(np.random.default_rng(7), 320, 256)).save(root / 'val2017' / BLANK_COCO, quality=90)
    coco['images'].append(dict(id=image_id, file_name=BLANK_COCO, width=320, height=256))
    for k in range(8):
        x, y = 10 + 78 * (k % 4), 10 + 120 * (k // 4)
        coco['annotations'].append(dict(
            id=len(coco['annotations']) + 1, image_id=image_id, category_id=1, bbox=[x, y, 60, 100], area=6000,
            iscrowd=0, segmentation=[[x, y, x + 60, y, x + 60, y + 100, x, y + 100]]))
    path.write_text(json.dumps(coco))


def _add_scene_labelled_bed(root):
    """One more validation image: a street scene, its labelled pixels all 'bed' (no bed in training)."""
    from ci.tiny_datasets import ADE20K_IDS, _street_image, _street_layout
    rng = np.random.default_rng(7)
    layout = _street_layout(rng, 128, 128)
    Image.fromarray(_street_image(rng, layout)).save(root / 'images' / 'validation' / BED_SCENE, quality=90)
    labels = np.where(ADE20K_IDS[layout] > 0, 8, 0).astype(np.uint8)  # ADE20K's 8: mmseg's class 7, 'bed '
    Image.fromarray(labels).save(root / 'annotations' / 'validation' / BED_SCENE.replace('.jpg', '.png'))


def _drop_from_training(root, label):
    from ci.tiny_datasets import _write_py2_pickle
    for k in range(1, 6):
        path = root / 'cifar-10-batches-py' / f'data_batch_{k}'
        with open(path, 'rb') as f:
            batch = pickle.load(f, encoding='bytes')
        keep = [i for i, value in enumerate(batch[b'labels']) if value != label]
        batch.update({b'labels': [batch[b'labels'][i] for i in keep], b'data': batch[b'data'][keep],
                      b'filenames': [batch[b'filenames'][i] for i in keep]})
        _write_py2_pickle(path, batch)


def _image(board, exp, key, filename):
    return np.asarray(Image.open(io.BytesIO(board.media_bytes(exp, key, filename))).convert('RGB')).astype(int)


def _validation_steps(board, exp, metric):
    return sorted(board.scalar_series(exp, f'val/{metric}'))


@pytest.mark.parametrize('name,expected', [(DET, 5), (SEG, 3), (CLS, 8)])
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
        assert len(regions) >= (1 if stem == BED_SCENE[:-len('.jpg')] else 3)
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


# ---- hardest samples, what changed, model card: against figures recomputed from the recorded outputs ------

SCORE_THR = 0.3  # the hook's default


def _record(root, name):
    with open(root / name / 'record.pkl', 'rb') as f:
        return pickle.load(f)


def _evaluations(root, name, split='val'):
    return [e for e in _record(root, name)['evaluations'] if e['split'] == split]


def _sample_name(raw):
    return raw['img_path'].rsplit('/', 1)[-1] if raw['img_path'] else f'sample {raw["sample_idx"]}'


def _recomputed(name, raw):
    """(figures as the captions and tables print them, how wrong), from one recorded output."""
    if name == DET:
        import torch
        from mmdet.structures.bbox import bbox_overlaps
        keep = raw['scores'] >= SCORE_THR
        boxes, scores, labels = raw['bboxes'][keep], raw['scores'][keep], raw['labels'][keep]
        ious = bbox_overlaps(torch.from_numpy(boxes), torch.from_numpy(raw['gt_bboxes'])).numpy()
        free, tp = set(range(len(raw['gt_bboxes']))), 0
        for p in np.argsort(-scores, kind='stable'):
            options = [g for g in free if raw['gt_labels'][g] == labels[p] and ious[p, g] >= 0.5]
            if options:
                free.remove(max(options, key=lambda g: ious[p, g]))
                tp += 1
        fp, fn = len(boxes) - tp, len(raw['gt_bboxes']) - tp
        return {'TP': tp, 'FP': fp, 'FN': fn}, fn + fp
    if name == SEG:
        import torch
        from mmseg.evaluation.metrics import IoUMetric
        areas = IoUMetric.intersect_and_union(torch.from_numpy(raw['pred'].astype(np.int64)),
                                              torch.from_numpy(raw['gt'].astype(np.int64)), 150, 255)
        miou = 100 * float(np.nanmean(IoUMetric.total_area_to_metrics(*areas, ['mIoU'])['IoU']))
        return {'mIoU': miou}, 100 - miou
    scores = raw['pred_score'].astype(float)
    top, truth = int(np.argmax(scores)), raw['gt_label']
    figures = {'correct': top == truth, 'top-1 score': scores[top], 'true': scores[truth]}
    return figures, (0 if figures['correct'] else 1) + 1 - figures['true']


def _caption_figures(name, caption):
    """The figures a hardest-sample or gallery caption prints after its ``|``."""
    words = caption.split(' | ', 1)[1]
    if name == DET:
        return dict(zip(('TP', 'FP', 'FN'), map(int, re.match(r'TP (\d+), FP (\d+), FN (\d+)', words).groups())))
    if name == SEG:
        return {'mIoU': float(re.match(r'mIoU ([\d.]+|nan)%', words).group(1))}
    match = re.search(r'top-1 score ([\d.]+); ground truth .* score ([\d.]+)\)', words)
    return {'correct': words.startswith('correct'), 'top-1 score': float(match.group(1)),
            'true': float(match.group(2))}


def _close(name, ours, recomputed):
    if name == SEG:  # mmseg counts in float32
        return abs(ours['mIoU'] - recomputed['mIoU']) <= 0.011
    return ours == pytest.approx(recomputed, abs=1e-4)


KNOWN_WORST = {DET: lambda raw: _sample_name(raw) == BLANK_COCO, SEG: lambda raw: _sample_name(raw) == BED_SCENE,
               CLS: lambda raw: raw['gt_label'] == TRUCK}


@pytest.mark.parametrize('name', [DET, SEG, CLS])
def test_the_hardest_samples_are_the_ones_the_model_cannot_have_learned(runs, name):
    root, board = runs
    exp = board.experiment(name)
    shown = board.media(exp, 'val/hardest')
    evaluations = _evaluations(root, name)
    assert [e['step'] for e in shown] == _validation_steps(board, exp, CASES[name].val_metrics[0])
    assert len(shown) == len(evaluations) >= 2
    for entry, evaluation in zip(shown, evaluations):
        outputs = evaluation['outputs']
        known = [_sample_name(raw) for raw in outputs if KNOWN_WORST[name](raw)]
        ranked = sorted(range(len(outputs)), key=lambda i: (-_recomputed(name, outputs[i])[1], i))[:8]
        captions = [c['caption'] for c in entry['captions']]
        assert len(entry['files']) == len(captions) == min(8, len(outputs))
        names = [c.split(':')[0] for c in captions]
        assert set(names[:len(known)]) == set(known) and known, (names, known)  # known in advance
        assert names == [_sample_name(outputs[i]) for i in ranked]  # and the order of the recomputed figures
        for caption, i in zip(captions, ranked):
            assert _close(name, _caption_figures(name, caption), _recomputed(name, outputs[i])[0]), caption
    assert board.media(exp, 'test/hardest')


def _cells(name, figures):
    if name == DET:
        return [str(figures[k]) for k in ('TP', 'FP', 'FN')]
    if name == SEG:
        return [f'{figures["mIoU"]:.2f}']
    return ['yes' if figures['correct'] else 'no', f'{figures["top-1 score"]:.4f}']


@pytest.mark.parametrize('name', [DET, SEG, CLS])
def test_what_changed_equals_the_two_validations_outputs(runs, name):
    root, board = runs
    exp = board.experiment(name)
    tables, galleries = _text(board, exp, 'val/changes'), board.media(exp, 'val/gallery')
    evaluations = _evaluations(root, name)
    assert len(tables) == len(galleries) == len(evaluations) >= 2
    for k, ((_, text), gallery) in enumerate(zip(tables, galleries)):
        header, rows = _table(text)
        assert header[0] == 'sample' and header[-1] == 'change'
        now = {_sample_name(raw): _recomputed(name, raw) for raw in evaluations[k]['outputs']}
        before = {_sample_name(raw): _recomputed(name, raw) for raw in evaluations[k - 1]['outputs']} if k else {}
        names = [c['caption'].split(':')[0] for c in gallery['captions']]
        assert sorted(r[0] for r in rows) == sorted(names)
        drops = []
        for row in rows:
            figures, badness = now[row[0]]
            width = len(_cells(name, figures))
            if name == SEG:
                assert abs(float(row[1]) - figures['mIoU']) <= 0.011, row
            else:
                assert row[1:1 + width] == _cells(name, figures), row
            if not k:
                assert row[1 + width:] == ['-'] * width + ['new']
                continue
            old_figures, old_badness = before[row[0]]
            if name != SEG:
                assert row[1 + width:-1] == _cells(name, old_figures), row
            expected = 'worse' if badness > old_badness else 'better' if badness < old_badness else 'same'
            if abs(badness - old_badness) > 0.02:  # clear of mmseg's float32 rounding
                assert row[-1] == expected, row
            drops.append(old_badness - badness)
        assert all(a <= b + 0.03 for a, b in zip(drops, drops[1:])), drops  # the largest drops first
        for caption in (c['caption'] for c in gallery['captions']):
            assert _close(name, _caption_figures(name, caption), now[caption.split(':')[0]][0]), caption
            said = re.search(r'; (better|worse|same) than at the previous validation$', caption)
            assert (said is not None) == bool(k), caption


@pytest.mark.parametrize('name', [DET, SEG, CLS])
def test_the_model_card_counts_the_built_models_parameters(runs, name):
    root, board = runs
    (step, card), = _text(board, board.experiment(name), 'model/card')
    assert step == 0
    params = _record(root, name)['params']
    assert re.search(rf'^parameters: {params} in all, \d+ trainable$', card, re.M), card
    assert re.search(r'^FLOPs: [\d.]+[KMGT]? \(\d+\) at that input size', card, re.M), card
    assert re.search(r'^input size: 3 x \d+ x \d+ ', card, re.M), card
