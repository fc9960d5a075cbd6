"""``python -m swanlab_backend.train CONFIG``: train any MMEngine config (mmdet, mmseg, mmpretrain).

The same options as the task packages' ``tools/train.py``, plus ``--data-root``
and an offline-safe start: pretrained weights that cannot be downloaded (no
network, not cached) are skipped with a notice instead of failing the run.
``scripts/train.sh`` and ``scripts/dist_train.sh`` call this.
"""
import argparse
import os
import os.path as osp
import socket
import urllib.parse
from typing import Any, Callable, Iterator, List, Optional

from mmengine.logging import print_log

from .run_start import validate_visualizer_config

# Where the `open-mmlab://` and `torchvision://` checkpoint schemes download from.
_SCHEME_HOSTS = {'open-mmlab': 'download.openmmlab.com', 'torchvision': 'download.pytorch.org'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with SwanLab tracking')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--data-root', help="the dataset's root folder (default: the config's)")
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the latest checkpoint in the work dir, or from the given one')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the lr by the total batch size')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='override config settings, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def set_data_root(cfg: Any, data_root: str) -> None:
    """Points every dataloader, and evaluator ``ann_file`` that lived under the old root, at ``data_root``."""
    old_root = str(innermost_dataset(cfg.train_dataloader).get('data_root', '')).rstrip('/')
    new_root = data_root.rstrip('/')
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name):
            innermost_dataset(cfg[name])['data_root'] = new_root
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name) or []
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            path = evaluator.get('ann_file')
            if old_root and isinstance(path, str) and path.startswith(old_root + '/'):
                evaluator['ann_file'] = new_root + path[len(old_root):]


def innermost_dataset(loader: Any) -> Any:
    """The dataset a loader reads, through RepeatDataset/ClassBalancedDataset wrappers."""
    dataset = loader['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def drop_pretrained(model_cfg: Any, keep: Callable[[str], bool] = lambda checkpoint: False) -> List[str]:
    """Drops ``init_cfg=dict(type='Pretrained')`` and ``pretrained=`` checkpoints that ``keep`` refuses.

    Returns the checkpoints dropped.
    """
    dropped: List[str] = []
    for node in iter_dicts(model_cfg):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained' \
                and not keep(init_cfg.get('checkpoint', '')):
            dropped.append(init_cfg.get('checkpoint', ''))
            node['init_cfg'] = None
        if isinstance(node.get('pretrained'), str) and not keep(node['pretrained']):
            dropped.append(node['pretrained'])
            node['pretrained'] = None
    return dropped


def drop_unreachable_pretrained(model_cfg: Any, timeout: float = 3.0) -> List[str]:
    """Drops ``Pretrained`` checkpoints that are neither cached nor downloadable now.

    Returns the checkpoints dropped; each is announced, since training from
    scratch gives far lower accuracy than the recipe's reference.
    """
    dropped = drop_pretrained(model_cfg, keep=lambda checkpoint: _available(checkpoint, timeout))
    for checkpoint in dropped:
        print_log(f'Pretrained weights {checkpoint} cannot be downloaded now (no network) and are not '
                  'cached: training from scratch. Expect much lower accuracy than the reference.',
                  logger='current', level=30)
    return dropped


def iter_dicts(node: Any) -> Iterator[dict]:
    """Every dict in a config tree, parents before children (safe to edit values on the way)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_dicts(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from iter_dicts(item)


def _available(checkpoint: str, timeout: float) -> bool:
    scheme, _, rest = checkpoint.partition('://')
    if not rest:
        return True  # a local file: mmengine reports a missing one itself
    if _cached(rest):
        return True
    host = _SCHEME_HOSTS.get(scheme) or urllib.parse.urlparse(checkpoint).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _cached(url_path: str) -> bool:
    from torch.hub import get_dir
    name = osp.basename(url_path)
    return any(osp.exists(osp.join(get_dir(), 'checkpoints', candidate))
               for candidate in (name, name + '.pth'))


def build_config(args) -> Any:
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
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    validate_visualizer_config(cfg)
    drop_unreachable_pretrained(cfg.model)
    return cfg


def main(argv: Optional[list] = None) -> None:
    args = parse_args(argv)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = build_config(args)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
