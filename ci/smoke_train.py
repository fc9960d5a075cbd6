"""Train, validate and test one recipe on a tiny generated dataset, tracked in SwanLab.

    python -m ci.smoke_train recipes/mmdet/faster-rcnn_r50_fpn_1x_coco.py \\
        --data-root data/tiny/coco --work-dir work_dirs/smoke/faster-rcnn

The recipe file itself is loaded and only the documented override in
``ci/smoke_overrides.py`` is applied. Runs on CUDA when a GPU is visible, else
on the CPU. Used by the smoke tests and by the demo of ``scripts/train_*.sh``.
With ``--dump``, it writes the overridden config instead, for other entry points
(``mim train``, ``scripts/dist_train.sh``); it imports ``ci.tiny_datasets``, so
run those with the repository root on ``PYTHONPATH``.
"""
import argparse
import os
import sys
import time

from mmengine.config import DictAction

import swanlab_backend.stack_fixes  # noqa: F401  (this entry point runs on the pinned stack: see the module)
from ci.smoke_overrides import apply_smoke_overrides


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a recipe config file')
    parser.add_argument('--data-root', required=True, help='the tiny dataset (ci/tiny_datasets.py)')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--length', type=int, default=2,
                        help='epochs (epoch-based recipes) or validation rounds of 3 iterations')
    parser.add_argument('--iters-per-round', type=int, default=3,
                        help='iteration-based recipes: iterations between validations')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--scale-factor', type=float, default=0.25, help="multiplies the recipe's image sizes")
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help="scale the lr to this run's batch (the config's auto_scale_lr.base_batch_size)")
    parser.add_argument('--warmup-iters', type=int, default=0, help='end iteration-counted warm-ups by then')
    parser.add_argument('--from-scratch', action='store_true',
                        help='what a demo needs to learn from scratch (ci.smoke_overrides.learn_from_scratch)')
    parser.add_argument('--label', default='smoke', help='tag of the SwanLab experiment (smoke, demo)')
    parser.add_argument('--no-test', action='store_true', help='skip runner.test() after training')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='pytorch: under torchrun, one process per device (gloo on CPUs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config settings after the smoke override, as tools/train.py does')
    parser.add_argument('--dump', metavar='PATH',
                        help='only write the overridden config to PATH (for mim train, scripts/*.sh)')
    return parser.parse_args(argv)


def smoke_config(args):
    """The recipe ``args.config`` with the smoke override and the command line's settings applied."""
    from mmengine.config import Config

    cfg = Config.fromfile(args.config)
    import ci.tiny_datasets  # noqa: F401  (registers TinyCIFAR10, which the override may select)
    apply_smoke_overrides(cfg, os.path.abspath(args.data_root), length=args.length, label=args.label,
                          batch_size=args.batch_size, scale_factor=args.scale_factor,
                          iters_per_round=args.iters_per_round, warmup_iters=args.warmup_iters,
                          from_scratch=args.from_scratch)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = os.path.abspath(args.work_dir)
    cfg.launcher = args.launcher
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.runner import Runner

    cfg = smoke_config(args)
    if args.dump:
        cfg.dump(args.dump)
        return 0
    started = time.monotonic()
    runner = Runner.from_cfg(cfg)
    runner.train()
    if not args.no_test:
        runner.test()
    print(f'smoke_train: {os.path.basename(args.config)} finished in {time.monotonic() - started:.0f} s',
          flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
