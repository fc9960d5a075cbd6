"""``python -m swanlab_backend.import_work_dir WORK_DIR``: bring a training done without SwanLab into it.

Reads what MMEngine's ``LocalVisBackend`` and ``LoggerHook`` wrote in the work dir of one run
(``<work_dir>/<timestamp>/``): ``vis_data/scalars.json``, the config it dumped
(``vis_data/config.py``), the images under ``vis_data/vis_image/`` and the test metrics
(``<timestamp>.json``), and logs them through :class:`SwanlabVisBackend` itself, so the
experiment has the layout and steps a live run would have had: ``train/*`` at each logged
iteration, ``val/*`` (with ``val/epoch``) at the iteration validation ran, ``test/*`` at the
last iteration, the config and its text, the images. Timings differ from a live run only
because they are the original run's.

It only reads: a work dir still being written is safe (an unfinished last line is left
out). A run is imported once: ``<timestamp>/swanlab_imported`` keeps the run id, and a
second call says so unless ``--force``. For TensorBoard event files (any framework), use
SwanLab's own ``swanlab convert -t tensorboard``; this reads MMEngine's own records.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

IMPORTED = 'swanlab_imported'
TRAIN_MARKERS = ('lr',)
LOGGER_KEYS = ('time', 'data_time')  # LoggerHook's own, beside the evaluator's metrics


def _checkpoint_hook(cfg) -> Any:
    """The config's CheckpointHook, built (its save_best rules decide what "best" means)."""
    from mmengine.hooks import CheckpointHook
    options = dict((cfg.get('default_hooks') or {}).get('checkpoint') or {})
    options.pop('type', None)
    options.pop('_scope_', None)
    try:
        hook = CheckpointHook(**options)
    except Exception:  # a hook of another package's registry, or options this MMEngine does not take
        return None
    return hook


def checkpoint_table(work_dir: str, train: List[dict]) -> Optional[str]:
    """The checkpoint ledger of ``work_dir``: the one a live run kept, else one made from its ``*.pth``
    files (iteration from their ``epoch_N``/``iter_N`` names; no validation metrics)."""
    from ..mmengine.checkpoints import CheckpointLedger, sha256
    ledger = CheckpointLedger(work_dir)
    if not ledger.entries:
        last_of_epoch = last_iteration_of_each_epoch(train)
        for path in sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime):
            name = osp.basename(path)
            epoch_in_name, iteration = re.search(r'epoch_(\d+)', name), re.search(r'iter_(\d+)', name)
            epoch = int(epoch_in_name.group(1)) if epoch_in_name else -1
            ledger.entries.append(dict(
                file=path, name=name, epoch=epoch,
                iter=int(iteration.group(1)) if iteration else last_of_epoch.get(epoch, -1),
                size=osp.getsize(path), sha256=sha256(path), metrics={}, best=name.startswith('best_')))
    return ledger.table() if ledger.entries else None


SCALARS = osp.join('vis_data', 'scalars.json')  # LocalVisBackend's, in each run's <timestamp> folder


def run_dirs(work_dir: str) -> List[str]:
    """The runs of a work dir (``<timestamp>/`` with ``vis_data/scalars.json``), oldest first."""
    return sorted(osp.dirname(osp.dirname(p)) for p in glob.glob(osp.join(work_dir, '*', SCALARS)))


def read_scalars(run_dir: str) -> Tuple[List[dict], List[dict]]:
    """``(train, val)``: the records of a run's ``vis_data/scalars.json`` (see :func:`split_records`)."""
    return split_records(read_records(osp.join(run_dir, SCALARS)))


def read_records(path: str) -> List[dict]:
    """The complete JSON lines of ``path`` (a line still being written is left out)."""
    records = []
    with open(path) as f:
        for line in f:
            if not line.endswith('\n'):
                break
            try:
                records.append(json.loads(line))
            except ValueError:
                break
    return records


def read_test_metrics(run_dir: str) -> Dict[str, float]:
    """The numbers of a run's test result (``<timestamp>.json``, written by LoggerHook after ``test()``).
    Every rank of a DDP test dumps that same file, so a shorter dump can land over a longer one and leave
    its tail behind: the first complete JSON object is the result."""
    metrics: Dict[str, float] = {}
    for path in sorted(glob.glob(osp.join(run_dir, '*.json'))):
        with open(path) as f:
            text = f.read()
        try:
            result, _ = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:
            continue
        if isinstance(result, dict):
            metrics.update({k: v for k, v in result.items() if isinstance(v, (int, float))})
    return metrics


def split_records(records: List[dict]) -> Tuple[List[dict], List[dict]]:
    """``(train, val)``: LoggerHook's training records carry the lr or a loss."""
    train, val = [], []
    for record in records:
        is_train = any(k in record for k in TRAIN_MARKERS) or any(k.startswith('loss') for k in record)
        (train if is_train else val).append(record)
    return train, val


def validation_iterations(train: List[dict], val: List[dict], by_epoch: bool) -> List[Tuple[int, Optional[int]]]:
    """``(iteration, epoch)`` of each validation: MMEngine logs epoch-based ones at their epoch, the live
    backend puts them at the iteration they ran (the last logged iteration of that epoch)."""
    if not by_epoch:
        return [(int(r['step']), None) for r in val]
    last_of_epoch = last_iteration_of_each_epoch(train)
    return [(last_of_epoch.get(int(r['step']), 0), int(r['step'])) for r in val]


def last_iteration_of_each_epoch(train: List[dict]) -> Dict[int, int]:
    """``{epoch: the last iteration logged in it}`` from LoggerHook's training records."""
    last: Dict[int, int] = {}
    for record in train:
        epoch = int(record.get('epoch', 0))
        last[epoch] = max(last.get(epoch, 0), int(record['step']))
    return last


def images(run_dir: str) -> List[Tuple[int, str, str]]:
    """``(step, name, file)`` of the images LocalVisBackend saved (``<name>_<step>.png``), in the order they
    were written: a live run got them in that order (test images, at step 0, come last)."""
    found = []
    for path in sorted(glob.glob(osp.join(run_dir, 'vis_data', 'vis_image', '*.png')), key=osp.getmtime):
        name, _, step = osp.splitext(osp.basename(path))[0].rpartition('_')
        if name and step.isdigit():
            found.append((int(step), name, path))
    return found


def _has_traceback(log_file: str) -> bool:
    with open(log_file, errors='replace') as f:  # line by line: a long training's log need not fit in memory
        return any('Traceback (most recent call last)' in line for line in f)


def import_run(run_dir: str, project: str, name: str, log_dir: Optional[str]) -> str:
    """Logs one run into a new SwanLab experiment; returns its id."""
    from mmengine.config import Config
    from PIL import Image

    from ..mmengine.checkpoints import update_best
    from ..mmengine.vis_backend import SwanlabVisBackend
    cfg = Config.fromfile(osp.join(run_dir, 'vis_data', 'config.py'))
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = train_cfg.get('by_epoch', train_cfg.get('type') != 'IterBasedTrainLoop')
    train, val = read_scalars(run_dir)
    init_kwargs = dict(project=project, experiment_name=name, description=f'imported from {run_dir}',
                       tags=['imported'], **({'log_dir': log_dir} if log_dir else {}))
    backend = SwanlabVisBackend(save_dir=osp.join(run_dir, 'swanlab_import'), init_kwargs=init_kwargs)
    backend.add_config(cfg)
    backend.set_section('train')
    for record in train:
        backend.add_scalars({k: v for k, v in record.items() if k != 'step'}, step=int(record['step']))
    hook = _checkpoint_hook(cfg)
    best: dict = {}
    for record, (iteration, epoch) in zip(val, validation_iterations(train, val, by_epoch)):
        values = {k: v for k, v in record.items() if k != 'step'}
        backend.set_section('val')
        backend.add_scalars(dict(values, **({'epoch': float(epoch)} if epoch is not None else {})), step=iteration)
        backend.set_section(None)
        metrics = {k: v for k, v in values.items() if k not in LOGGER_KEYS}
        backend.add_scalars(update_best(best, metrics, iteration, hook), step=iteration)
    last_iteration = max((int(r['step']) for r in train), default=0)
    backend.set_section('test')
    test = {k: v for k, v in read_test_metrics(run_dir).items() if k not in LOGGER_KEYS}
    if test:
        backend.add_scalars(test, step=last_iteration)
    backend.set_section(None)
    table = checkpoint_table(osp.dirname(run_dir), train)
    if table:
        backend.add_text('checkpoints/ledger', table, step=last_iteration)
    for step, image_name, path in images(run_dir):
        with Image.open(path) as picture:
            pixels = np.asarray(picture.convert('RGB'))
        backend.add_image(image_name, pixels, step=step)
    run_id = backend.experiment.id
    crashed = any(_has_traceback(path) for path in glob.glob(osp.join(run_dir, '*.log')))
    backend.finish('crashed' if crashed else 'success', 'the imported run ended with an error' if crashed else None)
    with open(osp.join(run_dir, IMPORTED), 'w') as f:
        f.write(run_id)
    return run_id


def main(argv=None) -> int:
    from ..recipe_tracking import PROJECT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='an MMEngine work dir (trained with LocalVisBackend, the default)')
    parser.add_argument('--project', default=PROJECT, help=f'SwanLab project (default: {PROJECT})')
    parser.add_argument('--name', help="experiment name (default: the work dir's folder name)")
    parser.add_argument('--run', help='which run of the work dir (its <timestamp> folder; default: the last)')
    parser.add_argument('--log-dir', help='SwanLab log dir for local/offline mode (default: $SWANLAB_LOG_DIR, '
                                          'else WORK_DIR/swanlog, as a live run)')
    parser.add_argument('--force', action='store_true', help='import again a run that was imported already')
    args = parser.parse_args(argv)
    runs = run_dirs(args.work_dir)
    if not runs:
        sys.exit(f'import_work_dir: no */vis_data/scalars.json under {args.work_dir}: was it trained with '
                 "MMEngine's LocalVisBackend (visualizer=dict(vis_backends=[dict(type='LocalVisBackend')]))?")
    run_dir = osp.join(args.work_dir, args.run) if args.run else runs[-1]
    if len(runs) > 1 and not args.run:
        print(f'import_work_dir: {len(runs)} runs in {args.work_dir}; importing the last, {osp.basename(run_dir)} '
              f'(--run to choose: {", ".join(osp.basename(r) for r in runs)})')
    marker = osp.join(run_dir, IMPORTED)
    if osp.isfile(marker) and not args.force:
        with open(marker) as f:
            print(f'import_work_dir: {run_dir} was imported already, as run {f.read().strip()} '
                  '(--force imports it again)')
        return 0
    name = args.name or osp.basename(osp.abspath(args.work_dir))
    log_dir = args.log_dir or os.environ.get('SWANLAB_LOG_DIR') or osp.join(args.work_dir, 'swanlog')
    run_id = import_run(run_dir, args.project, name, log_dir)
    print(f'import_work_dir: {run_dir} is now run {run_id} ({name}) in project {args.project}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
