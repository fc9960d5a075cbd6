"""``python -m swanlab_backend.train CONFIG``: train any MMEngine config (mmdet, mmseg, mmpretrain).

The options of the task packages' ``tools/train.py``, plus what a real training needs
before it starts:

- ``--data-root``: the dataset's folder, for every split and evaluator annotation file.
- pretrained weights are checked first (:mod:`swanlab_backend.tools.pretrained`): found in
  torch's cache or downloadable now, else the run stops with the fix; ``--no-pretrained``
  trains from scratch on purpose.
- ``--auto-scale-lr`` (the scripts pass it) scales the recipe's lr to the batch actually
  used and says so; ``--no-auto-scale-lr`` keeps the config's lr.
- after training, the best checkpoint (when the config saves one, else the final weights)
  is evaluated on the test split, in the same SwanLab experiment (``--no-test`` skips it).

``scripts/train.sh`` and ``scripts/dist_train.sh`` call this.
"""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import Any, Optional

from mmengine.logging import print_log

from ..mmengine.checkpoints import TESTED_CHECKPOINT, checkpoint_hook
from ..mmengine.validation import validate_visualizer_config
from . import stack_fixes  # noqa: F401  (this entry point runs on the pinned stack: see the module)
from .config_tree import set_data_root
from .pretrained import NO_PRETRAINED_FLAG, PretrainedUnavailable, check_pretrained, drop_pretrained


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with SwanLab tracking')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--data-root', help="the dataset's root folder (default: the config's)")
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the latest checkpoint in the work dir, or from the given one')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', dest='auto_scale_lr', action='store_true', default=None,
                        help="scale the lr by the total batch size (the scripts' default)")
    parser.add_argument('--no-auto-scale-lr', dest='auto_scale_lr', action='store_false',
                        help="keep the config's lr whatever the batch size")
    parser.add_argument(NO_PRETRAINED_FLAG, dest='pretrained', action='store_false',
                        help='train from scratch on purpose, without the config\'s pretrained weights')
    parser.add_argument('--no-test', dest='test', action='store_false',
                        help='do not evaluate on the test split after training')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='override config settings, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _log(message: str, level: int = logging.INFO) -> None:
    print_log(message, logger='current', level=level)


def world_size(launcher: str) -> int:
    """How many processes will train, before the process group exists."""
    variable = {'pytorch': 'WORLD_SIZE', 'slurm': 'SLURM_NTASKS', 'mpi': 'OMPI_COMM_WORLD_SIZE'}.get(launcher)
    return int(os.environ.get(variable, 1)) if variable else 1


def set_lr_scaling(cfg: Any, enable: Optional[bool], processes: int) -> None:
    """Applies ``--auto-scale-lr``/``--no-auto-scale-lr`` and announces the lr this run trains with."""
    if enable is None:
        enable = bool((cfg.get('auto_scale_lr') or {}).get('enable'))
    lr = (cfg.optim_wrapper.get('optimizer') or {}).get('lr')
    if not enable:
        if cfg.get('auto_scale_lr'):
            cfg.auto_scale_lr.enable = False
        _log(f"lr: {lr}, as the config has it (auto_scale_lr is off)")
        return
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    if not base:
        raise ValueError('--auto-scale-lr: this config does not say which total batch size its lr was tuned for. '
                         'Add auto_scale_lr = dict(base_batch_size=N) to it (or --cfg-options '
                         'auto_scale_lr.base_batch_size=N), or pass --no-auto-scale-lr to keep its lr.')
    cfg.auto_scale_lr = dict(cfg.auto_scale_lr, enable=True)
    batch = cfg.train_dataloader.batch_size
    effective = processes * batch
    scaled = f'{lr * effective / base:.6g}' if isinstance(lr, (int, float)) else 'scaled likewise'
    _log(f'auto_scale_lr: effective batch {processes} process(es) x {batch} = {effective}; the config\'s lr {lr} '
         f'is for a batch of {base}, so this run trains with lr {scaled} (--no-auto-scale-lr keeps {lr})')


def load_config(args) -> Any:
    """The config with ``--cfg-options``, ``--launcher``, ``--work-dir`` and ``--data-root`` applied
    (shared with ``swanlab_backend.test``: both default to the same work dir)."""
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        options = argparse.ArgumentParser()
        options.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(options.parse_args(['--o', *args.cfg_options]).o)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.data_root:
        set_data_root(cfg, args.data_root)
    return cfg


def build_config(args) -> Any:
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    validate_visualizer_config(cfg)
    set_lr_scaling(cfg, args.auto_scale_lr, world_size(args.launcher))
    if not args.pretrained:
        for checkpoint in drop_pretrained(cfg.model):
            _log(f'{NO_PRETRAINED_FLAG}: not loading {checkpoint}; training from scratch on purpose',
                 level=logging.WARNING)
    else:
        check_pretrained(cfg.model, log=_log)
    return cfg


def best_checkpoint(runner: Any) -> Optional[str]:
    """The best checkpoint the ``CheckpointHook`` kept (its first ``save_best`` metric), if any."""
    hook = checkpoint_hook(runner)
    if hook is None:
        return None
    paths = [getattr(hook, 'best_ckpt_path', None)]
    best_paths = getattr(hook, 'best_ckpt_path_dict', None) or {}
    paths += [best_paths.get(key) for key in getattr(hook, 'key_indicators', [])]
    return next((path for path in paths if path and osp.isfile(path)), None)


def test_after_training(runner: Any) -> None:
    """Evaluates the best (else the final) weights on the test split, into the same experiment."""
    if any(runner.cfg.get(key) is None for key in ('test_dataloader', 'test_cfg', 'test_evaluator')):
        _log('no test split in this config: skipping the test after training')
        return
    best = best_checkpoint(runner)
    if best:
        _log(f'testing the best checkpoint {best}')
        runner.load_checkpoint(best)
        runner.message_hub.update_info(TESTED_CHECKPOINT, best)  # the ledger links the test metrics to it
    else:
        _log(f'testing the final weights (iteration {runner.iter})')
    runner.test()


def main(argv: Optional[list] = None) -> None:
    args = parse_args(argv)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    try:
        cfg = build_config(args)
    except (PretrainedUnavailable, ValueError) as e:
        sys.exit(f'swanlab_backend.train: {e}')
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()
    if args.test:
        test_after_training(runner)


if __name__ == '__main__':
    main()
