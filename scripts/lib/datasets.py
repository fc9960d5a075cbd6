"""Where each recipe's dataset lives and how to get it; ``scripts/lib/run_recipe.sh`` asks this.

    python scripts/lib/datasets.py check coco [DATA_ROOT]   # exit 0: there; 3: missing (says where, how)

Every hint uses what the installed packages ship (their ``.mim/tools`` scripts and
dataset classes) or a documented manual download: ``mim download`` needs the ``odl``
client, which this stack does not install. ``tests/test_dataset_hints.py`` checks
that each script a hint names exists.
"""
import argparse
import os
import sys
from typing import NamedTuple, Optional


class Dataset(NamedTuple):
    default_root: str
    marker: str                   # a path under the root that only a prepared dataset has
    hint: str                     # how to get it; {tool:PKG/PATH} is a script shipped in PKG's .mim folder
    manual: Optional[str] = None  # a page for the parts a script cannot do (free accounts)


DATASETS = {
    'coco': Dataset(
        'data/coco', 'annotations/instances_train2017.json',
        'python {tool:mmdet/tools/misc/download_dataset.py} --dataset-name coco2017 --save-dir data/coco '
        '--unzip --delete  (all of COCO 2017, test and unlabeled images included: ~50 GB to download)'),
    'cityscapes': Dataset(
        'data/cityscapes', 'gtFine/train',
        'download gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip into data/cityscapes and unzip '
        'them there, then: python {tool:mmseg/tools/dataset_converters/cityscapes.py} data/cityscapes '
        '--nproc 8',
        manual='https://www.cityscapes-dataset.com/downloads/ (free account)'),
    'ade20k': Dataset(
        'data/ade/ADEChallengeData2016', 'annotations/training',
        'python {tool:mmdet/tools/misc/download_dataset.py} --dataset-name ade20k_2016 --save-dir data/ade '
        '--unzip --delete  (ADEChallengeData2016 needs no conversion for mmseg)'),
    'imagenet': Dataset(
        'data/imagenet', 'train',
        'download ILSVRC2012 (train and val images) and arrange data/imagenet/{train,val} and meta/ as the '
        'MMPretrain guide says',
        manual='https://image-net.org/download.php (free account); layout: '
               'https://mmpretrain.readthedocs.io/en/latest/user_guides/dataset_prepare.html#imagenet'),
    'cifar10': Dataset(
        'data/cifar10', 'cifar-10-batches-py',
        'python -c "from mmpretrain.datasets import CIFAR10; CIFAR10(\'data/cifar10\', split=\'train\', '
        'download=True)"'),
}


def tool_path(spec: str) -> str:
    """``mmdet/tools/misc/x.py`` -> the file inside the installed mmdet's ``.mim`` folder."""
    import importlib
    package, _, relative = spec.partition('/')
    return os.path.join(os.path.dirname(importlib.import_module(package).__file__), '.mim', relative)


def hint_text(dataset: Dataset) -> str:
    text = dataset.hint
    while '{tool:' in text:
        start = text.index('{tool:')
        end = text.index('}', start)
        text = text[:start] + tool_path(text[start + 6:end]) + text[end + 1:]
    return text + (f'\n    see {dataset.manual}' if dataset.manual else '')


def check(name: str, root: Optional[str]) -> int:
    dataset = DATASETS[name]
    root = root or dataset.default_root
    if os.path.exists(os.path.join(root, dataset.marker)):
        return 0
    print(f'no {name} dataset at {root} (looked for {os.path.join(root, dataset.marker)}).\n'
          f'To get it: {hint_text(dataset)}', file=sys.stderr)
    return 3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['check', 'default-root'])
    parser.add_argument('dataset', choices=sorted(DATASETS))
    parser.add_argument('root', nargs='?', help="the dataset's folder (default: the recipe's)")
    args = parser.parse_args(argv)
    if args.action == 'default-root':
        print(DATASETS[args.dataset].default_root)
        return 0
    return check(args.dataset, args.root)


if __name__ == '__main__':
    sys.exit(main())
