"""``python -m swanlab_backend.test CONFIG CHECKPOINT``: evaluate a checkpoint on the test split, in SwanLab.

The test metrics go where the training's are: online, into the training's own experiment
(its run id is kept in ``<work_dir>/swanlab_run_id``; pass the training's ``--work-dir``);
in local or offline mode, into an experiment ``<name>-test`` that names the training run and
the checkpoint. Either way they sit at the checkpoint's iteration, not at step 0.
``mim test`` and the task packages' ``tools/test.py`` get the same, through the backend.
"""
import argparse
import sys
from typing import Optional

from ..mmengine.validation import validate_visualizer_config
from .train import load_config  # also applies the stack fixes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a checkpoint with SwanLab tracking')
    parser.add_argument('config', help='the config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the checkpoint file')
    parser.add_argument('--work-dir', help="the training's work dir (default: work_dirs/<config name>)")
    parser.add_argument('--data-root', help="the dataset's root folder (default: the config's)")
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return parser.parse_args(argv)


def main(argv: Optional[list] = None) -> None:
    args = parse_args(argv)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = load_config(args)
    cfg.load_from, cfg.resume = args.checkpoint, False
    try:
        validate_visualizer_config(cfg)
    except ValueError as e:
        sys.exit(f'swanlab_backend.test: {e}')
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
