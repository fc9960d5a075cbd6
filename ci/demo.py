"""The demo of ``scripts/train_<recipe>.sh`` when no dataset is there: the recipe's own model on generated
data, big and easy enough for its metric to rise within a few minutes on 2 CPU cores.

    python -m ci.demo recipes/mmpretrain/resnet18_8xb16_cifar10.py --dataset cifar10 \\
        --data-root data/demo/cifar10 --work-dir work_dirs/demo/resnet18_8xb16_cifar10

Compared with a smoke run (``ci/smoke_train.py``: the least that exercises every
part), a demo generates more images (``DEMO_DATA``) and trains longer with larger
batches (``DEMO_RUNS``), with the lr scaled to its batch (``auto_scale_lr``, as the
scripts do for real trainings) and mmdet's 500-iteration warm-up shortened. The
detectors train from scratch with what a recipe sets for ImageNet weights undone
(``ci.smoke_overrides.learn_from_scratch``; the log says each change); the
architecture, losses, pipelines and optimizer stay the recipe's. The data is generated
once per root and settings (a stamp file says which). Where a recipe's demo departs from that (its own scale,
lr, generated data or settings: ``RECIPE_DEMO_CHANGES``), its log says why. Extra arguments
(``--cfg-options ...``) go to ``ci.smoke_train``.
Measured per recipe: ``python -m ci.demo --report`` (figures in ``bench/README.md``).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

from ci.tiny_datasets import GENERATORS

DEMO_DATA = {  # generator arguments (ci/tiny_datasets.py)
    'coco': dict(num_train=32, num_val=8),
    'cityscapes': dict(num_train=16, num_val=4),
    'ade20k': dict(num_train=16, num_val=4),
    'imagenet': dict(num_classes=4, per_class_train=16, per_class_val=8),
    'cifar10': dict(per_class_train=20, per_class_test=10),
}


class DemoRun(NamedTuple):
    length: int  # epochs, or validation rounds of iteration-based recipes
    batch_size: int
    iters_per_round: int = 3
    scale_factor: float = 0.25
    warmup_iters: int = 10  # mmdet's 500-iteration warm-up would take the whole demo
    from_scratch: bool = False  # unfreeze what the recipe freezes for ImageNet weights (ci.smoke_overrides)
    auto_scale_lr: bool = True  # the recipe's lr scaled to the demo's batch from auto_scale_lr.base_batch_size
    lr: Optional[float] = None  # the optimizer's lr instead of the recipe's (before auto_scale_lr, if on)
    data: tuple = ()  # (name, value) pairs of generator arguments over DEMO_DATA's
    cfg_options: tuple = ()  # 'key=value' settings for ci.smoke_train's --cfg-options


DEMO_RUNS = {
    # Detectors from scratch at 1/8 of COCO's scale: the backbone's BatchNorm must learn (the recipes freeze it)
    'coco': DemoRun(length=10, batch_size=4, scale_factor=0.125, from_scratch=True),
    'cityscapes': DemoRun(length=8, batch_size=2, iters_per_round=10),  # DeepLabV3+ starts to learn at ~60
    'ade20k': DemoRun(length=4, batch_size=4, iters_per_round=10),
    'imagenet': DemoRun(length=4, batch_size=8),
    'cifar10': DemoRun(length=4, batch_size=16, scale_factor=1.0),
}

# Where a recipe's demo departs from its dataset's, and why (the demo's log says it).
RECIPE_DEMO_CHANGES = {
    'rtmdet_tiny_8xb32-300e_coco': (
        dict(length=6, scale_factor=0.25, auto_scale_lr=False,
             data=(('num_classes', 1), ('max_objects', 2), ('num_val', 16))),
        'input 640 -> 160 px, not 96: at 96 px its stride-32 maps are 3x3 and it learns nothing; '
        "AdamW lr kept at the recipe's 0.004, which is for its batch of 256, not auto_scale_lr's base of 16; "
        'one class (person) and 1-2 objects per image (larger ones: mosaic shrinks them), not 3 classes and 1-3, '
        'and 16 validation images, not 8; 6 epochs, not 10, to stay within the time 96 px took'),
    'retinanet_r50_fpn_1x_coco': (
        dict(data=(('num_classes', 1), ('max_objects', 2), ('num_val', 16)),
             cfg_options=('optim_wrapper.paramwise_cfg.custom_keys.retina_cls.lr_mult=20',)),
        'one class (person) and 1-2 objects per image, not 3 classes and 1-3, and 16 validation images, not 8; '
        "the classifier conv (retina_cls) at 20x the auto-scaled lr: from scratch its focal-loss classifier "
        'otherwise stays at its prior (its bias moves about 0.1 logit in 80 iterations even at lr 0.005)'),
}


def recipe_changes(config: str) -> Tuple[dict, str]:
    """What ``config``'s demo changes from its dataset's, and why (``({}, '')``: nothing)."""
    return RECIPE_DEMO_CHANGES.get(Path(config).stem, ({}, ''))


def demo_run(config: str, dataset: str) -> DemoRun:
    return DEMO_RUNS[dataset]._replace(**recipe_changes(config)[0])


def demo_data(config: str, dataset: str) -> dict:
    """The generator arguments of ``config``'s demo data."""
    return {**DEMO_DATA[dataset], **dict(demo_run(config, dataset).data)}


def make_demo_data(dataset: str, root, config: str = '') -> Path:
    """The demo's generated ``dataset`` in ``root`` (made once; again when the settings change, as when
    the demo of a recipe with its own data ran there last)."""
    arguments = demo_data(config, dataset)
    root, settings = Path(root), json.dumps(arguments, sort_keys=True)
    stamp = root / '.demo-settings'
    if not (stamp.exists() and stamp.read_text() == settings):
        GENERATORS[dataset](root, **arguments)
        stamp.write_text(settings)
    return root


def smoke_train_args(config: str, dataset: str, data_root: str, work_dir: str) -> List[str]:
    run = demo_run(config, dataset)
    args = [config, '--data-root', data_root, '--work-dir', work_dir, '--label', 'demo',
            '--length', str(run.length), '--batch-size', str(run.batch_size),
            '--iters-per-round', str(run.iters_per_round), '--scale-factor', str(run.scale_factor),
            '--warmup-iters', str(run.warmup_iters)]
    args += ['--auto-scale-lr'] * run.auto_scale_lr + ['--from-scratch'] * run.from_scratch
    options = [f'optim_wrapper.optimizer.lr={run.lr}'] * (run.lr is not None) + list(run.cfg_options)
    return args + (['--cfg-options', *options] if options else [])


def report(out: str, only: List[str]) -> int:
    """Runs every recipe's demo (or those in ``only``) in turn; prints its validation metric at each round
    and its time."""
    from ci.check_dashboard import mmengine_records
    from ci.run_smoke import smoke_env
    from ci.smoke_matrix import SMOKE_CASES
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print('| recipe | demo | validation metric, each round | time |\n|---|---|---|---|', flush=True)
    for case in [c for c in SMOKE_CASES if not only or c.name in only]:
        own = '-' + case.name if demo_run(case.config, case.dataset).data else ''  # its own data: its own root
        data = make_demo_data(case.dataset, os.path.join(out, 'data', case.dataset + own), case.config)
        work_dir = os.path.join(out, case.name)
        run = demo_run(case.config, case.dataset)
        started = time.monotonic()
        result = subprocess.run([sys.executable, '-m', 'ci.smoke_train', *smoke_train_args(
            os.path.join(root, case.config), case.dataset, str(data), work_dir), '--no-test'],
            capture_output=True, text=True, env=smoke_env(os.path.join(out, 'swanlog')), cwd=root)
        seconds = time.monotonic() - started
        metric = case.val_metrics[0]
        values = [r[metric] for r in mmengine_records(work_dir)[1]] if result.returncode == 0 else []
        shown = ' → '.join(f'{v:.3g}' for v in values) or f'failed: {result.stderr[-300:]}'
        print(f'| {case.name} | {run.length} x {run.batch_size} | `{metric}` {shown} | {seconds:.0f} s |', flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='a recipe config')
    parser.add_argument('--dataset', choices=sorted(DEMO_DATA))
    parser.add_argument('--data-root', help='where the generated data is (made when missing)')
    parser.add_argument('--work-dir')
    parser.add_argument('--report', metavar='OUT', help='run every recipe\'s demo under OUT and print a table')
    parser.add_argument('--only', nargs='+', default=[], help='with --report: these recipes (file names without .py)')
    args, extra = parser.parse_known_args(argv)
    if args.report:
        return report(args.report, args.only)
    if not (args.config and args.dataset and args.data_root and args.work_dir):
        parser.error('CONFIG, --dataset, --data-root and --work-dir are needed (or --report OUT)')
    make_demo_data(args.dataset, args.data_root, args.config)
    reason = recipe_changes(args.config)[1]
    if reason:
        print(f'demo: {reason}', flush=True)
    from ci.smoke_train import main as smoke_train
    return smoke_train(smoke_train_args(args.config, args.dataset, args.data_root, args.work_dir) + extra)


if __name__ == '__main__':
    sys.exit(main())
