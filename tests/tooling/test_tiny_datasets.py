"""The tiny datasets, loaded by the real upstream dataset classes with the recipes' own pipelines."""
import importlib
import json
import pickle

import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope
from PIL import Image

from ci.tiny_datasets import (
    ADE20K_IDS,
    CITYSCAPES_TRAIN_IDS,
    CLASS_COLOURS,
    IMAGENET_WNIDS,
    SCENE,
    make_ade20k,
    make_all,
    make_cifar10,
    make_cityscapes,
    make_coco,
    make_imagenet,
)


def build(scope, config, split, root, **overrides):
    """The dataset of ``<split>_dataloader`` in an upstream base config, on ``root``, built in ``scope``."""
    child = root.parent / f'{config}_child.py'  # "scope::" paths resolve only as a config's _base_
    child.write_text(f"_base_ = ['{scope}::_base_/datasets/{config}.py']\n")
    cfg = Config.fromfile(child)[f'{split}_dataloader']['dataset']
    cfg.update(data_root=str(root), **overrides)
    importlib.import_module(f'{scope}.datasets')  # registers the dataset classes and transforms
    registry = importlib.import_module(f'{scope}.registry').DATASETS
    with DefaultScope.overwrite_default_scope(scope):
        dataset = registry.build(cfg)
        return dataset, dataset[0]


def infos(dataset):
    """Every sample's data info (``data_list`` is emptied once a dataset serializes it)."""
    return [dataset.get_data_info(index) for index in range(len(dataset))]


def test_coco_loads_as_mmdet_coco_instances_with_real_labels_and_masks(tmp_path):
    root = make_coco(tmp_path / 'coco')
    train, sample = build('mmdet', 'coco_instance', 'train', root)
    assert len(train) == 8
    coco = json.loads((root / 'annotations' / 'instances_train2017.json').read_text())
    names = {cat['id']: cat['name'] for cat in coco['categories']}
    for info in infos(train):  # labels are the index of the category's name in mmdet's 80 classes
        expected = [train.metainfo['classes'].index(names[ann['category_id']])
                    for ann in coco['annotations'] if ann['image_id'] == info['img_id']]
        assert [instance['bbox_label'] for instance in info['instances']] == expected
    assert {instance['bbox_label'] for info in infos(train) for instance in info['instances']} == {0, 1, 2}

    gt = sample['data_samples'].gt_instances
    assert gt.labels.tolist() == [instance['bbox_label'] for instance in train.get_data_info(0)['instances']]
    # After Resize and RandomFlip, every box still frames its (big enough) polygon mask.
    for box, mask in zip(gt.bboxes.tensor.tolist(), gt.masks.masks):
        ys, xs = np.nonzero(mask)
        assert len(xs) > 2000
        assert np.allclose(box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=4)

    val, sample = build('mmdet', 'coco_instance', 'val', root)
    assert len(val) == 4 and len(sample['data_samples'].gt_instances.masks) > 0


def test_coco_ground_truth_scores_full_marks_in_the_coco_metric(tmp_path):
    """pycocotools evaluates the annotation file: the ground truth as predictions gets mAP 1."""
    from mmdet.datasets import CocoDataset
    from mmdet.evaluation import CocoMetric
    ann_file = make_coco(tmp_path / 'coco') / 'annotations' / 'instances_val2017.json'
    metric = CocoMetric(ann_file=str(ann_file), metric=['bbox', 'segm'])
    metric.dataset_meta = CocoDataset.METAINFO
    coco = metric._coco_api
    cat_ids = coco.get_cat_ids(cat_names=CocoDataset.METAINFO['classes'])  # label -> id, as CocoMetric maps them
    for image in coco.dataset['images']:
        anns = coco.load_anns(coco.get_ann_ids(img_ids=[image['id']]))
        metric.process({}, [dict(img_id=image['id'], ori_shape=(image['height'], image['width']), pred_instances=dict(
            bboxes=torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (ann['bbox'] for ann in anns)]),
            scores=torch.ones(len(anns)),
            labels=torch.tensor([cat_ids.index(ann['category_id']) for ann in anns]),
            masks=torch.from_numpy(np.stack([coco.annToMask(ann) for ann in anns])).bool()))])
    results = metric.evaluate(len(coco.dataset['images']))
    assert results['coco/bbox_mAP'] == 1.0 and results['coco/segm_mAP'] == 1.0


def test_coco_can_hold_fewer_classes_and_fewer_larger_objects(tmp_path):
    """RetinaNet's demo data (ci.demo): only person, 1-2 per image; the defaults' files do not change."""
    def annotations(root):
        return json.loads((root / 'annotations' / 'instances_train2017.json').read_text())['annotations']
    default = annotations(make_coco(tmp_path / 'default', num_train=16))
    assert annotations(make_coco(tmp_path / 'same', num_train=16, num_classes=3, max_objects=3)) == default
    fewer = annotations(make_coco(tmp_path / 'fewer', num_train=16, num_classes=1, max_objects=2))
    assert {ann['category_id'] for ann in fewer} == {1}
    per_image = [sum(ann['image_id'] == i for ann in fewer) for i in range(1, 17)]
    assert set(per_image) == {1, 2}
    assert np.mean([ann['area'] for ann in fewer]) > np.mean([ann['area'] for ann in default])
    with pytest.raises(ValueError, match='num_classes'):
        make_coco(tmp_path / 'bad', num_classes=4)


def test_cityscapes_loads_as_mmseg_cityscapes_with_train_ids(tmp_path):
    root = make_cityscapes(tmp_path / 'cityscapes')
    train, sample = build('mmseg', 'cityscapes', 'train', root)
    assert len(train) == 4
    used = {0, 1, 2, 8, 10, 11, 13, 255}
    assert set(np.unique(sample['data_samples'].gt_sem_seg.data)) <= used
    classes = train.metainfo['classes']
    assert [classes[CITYSCAPES_TRAIN_IDS[i]] for i in (7, 8, 11, 21, 23, 24, 26)] == [
        'road', 'sidewalk', 'building', 'vegetation', 'sky', 'person', 'car']

    val, sample = build('mmseg', 'cityscapes', 'val', root)
    assert len(val) == 2
    seg_map = val.get_data_info(0)['seg_map_path']
    assert seg_map.endswith('frankfurt_000000_000000_gtFine_labelTrainIds.png')
    label_ids = np.array(Image.open(seg_map.replace('labelTrainIds', 'labelIds')))
    assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), CITYSCAPES_TRAIN_IDS[label_ids])
    # ego vehicle, road, sidewalk, sky, person and car are in every image; building and vegetation vary.
    assert {1, 7, 8, 23, 24, 26} <= set(np.unique(label_ids)) <= {1, 7, 8, 11, 21, 23, 24, 26}


def test_ade20k_loads_as_mmseg_ade20k_with_reduced_labels(tmp_path):
    root = make_ade20k(tmp_path / 'ade20k')
    train, sample = build('mmseg', 'ade20k', 'train', root)
    assert len(train) == 4
    assert set(np.unique(sample['data_samples'].gt_sem_seg.data)) <= {255, *(int(v) - 1 for v in ADE20K_IDS if v)}
    classes = train.metainfo['classes']
    scene = ('road', 'sidewalk', 'building', 'vegetation', 'sky', 'car', 'person')
    assert [classes[ADE20K_IDS[SCENE[name]] - 1] for name in scene] == [
        'road', 'sidewalk', 'building', 'tree', 'sky', 'car', 'person']

    val, sample = build('mmseg', 'ade20k', 'val', root)
    assert len(val) == 2
    raw = np.array(Image.open(val.get_data_info(0)['seg_map_path']))
    reduced = sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert np.array_equal(reduced, np.where(raw == 0, 255, raw.astype(np.int64) - 1))


def test_imagenet_loads_as_mmpretrain_imagenet_with_wnid_labels(tmp_path):
    root = make_imagenet(tmp_path / 'imagenet')
    train, sample = build('mmpretrain', 'imagenet_bs32', 'train', root)
    assert len(train) == 16 and len(train.metainfo['classes']) == 1000
    for info in infos(train):
        assert info['gt_label'] == IMAGENET_WNIDS.index(info['img_path'].split('/')[-2])
    assert train.metainfo['classes'][0] == 'tench, Tinca tinca'
    assert sample['inputs'].shape == (3, 224, 224)
    assert sample['data_samples'].gt_label.tolist() == [train.get_data_info(0)['gt_label']]

    val, sample = build('mmpretrain', 'imagenet_bs32', 'val', root)
    assert len(val) == 8
    assert [info['gt_label'] for info in infos(val)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_cifar10_loads_as_tiny_cifar10_and_matches_the_pickles(tmp_path):
    root = make_cifar10(tmp_path / 'cifar10')
    batch_path = root / 'cifar-10-batches-py' / 'test_batch'
    # Like the real (Python 2) files: str keys under latin1, as mmpretrain reads, bytes keys under 'bytes'.
    assert set(pickle.loads(batch_path.read_bytes(), encoding='bytes')) == {
        b'batch_label', b'labels', b'data', b'filenames'}
    batch = pickle.loads(batch_path.read_bytes(), encoding='latin1')
    assert batch['data'].shape == (20, 3072) and batch['data'].dtype == np.uint8

    train, _ = build('mmpretrain', 'cifar10_bs16', 'train', root, type='TinyCIFAR10')
    assert len(train) == 40
    assert sorted(np.bincount([info['gt_label'] for info in infos(train)])) == [4] * 10
    test, sample = build('mmpretrain', 'cifar10_bs16', 'val', root, type='TinyCIFAR10')
    assert [info['gt_label'] for info in infos(test)] == batch['labels']
    assert sample['data_samples'].gt_label.tolist() == [batch['labels'][0]]
    # R, G and B planes in that order: the packed CHW input is the first row reshaped,
    # and the class's colour (a solid shape) covers a good part of it.
    assert np.array_equal(sample['inputs'].numpy(), batch['data'][0].reshape(3, 32, 32))
    colour = np.array(CLASS_COLOURS[batch['labels'][0]])
    assert (np.abs(sample['inputs'].numpy().transpose(1, 2, 0) - colour).max(axis=2) <= 20).mean() > 0.15

    with pytest.raises(RuntimeError, match='Cannot find CIFAR10'):  # md5 sums of the real files
        build('mmpretrain', 'cifar10_bs16', 'val', root, download=False)


def test_generation_is_deterministic_and_reruns_replace_old_samples(tmp_path):
    def tree(root):
        return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob('*')) if path.is_file()}
    first, second = tree(make_all(tmp_path / 'a')), tree(make_all(tmp_path / 'b'))
    assert len(first) == 77 and first == second
    assert tree(make_all(tmp_path / 'c', seed=1)) != first

    make_cityscapes(tmp_path / 'a' / 'cityscapes', num_train=2)
    assert len(list((tmp_path / 'a' / 'cityscapes' / 'leftImg8bit' / 'train').rglob('*.png'))) == 2
