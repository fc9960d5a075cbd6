"""Prove that a training run's data reached the SwanLab dashboard.

    python -m ci.check_dashboard --log-dir work_dirs/smoke/swanlog \\
        --work-dir work_dirs/smoke/faster-rcnn --experiment faster-rcnn_r50_fpn_1x_coco \\
        --val-metric coco/bbox_mAP --test-metric coco/bbox_mAP

    python -m ci.check_dashboard --cloud-project USER/openmmlab-recipes --work-dir ... --experiment ...

Starts the real local dashboard (``swanlab watch`` on 127.0.0.1), or reads the
SwanLab cloud through ``swanlab.Api`` with ``--cloud-project``, and checks,
through its HTTP API, against what MMEngine itself recorded in the work dir
(``vis_data/scalars.json`` of the LocalVisBackend, the test JSON of the
LoggerHook):
- one experiment of that name, finished (in the cloud: the run whose id the backend kept in
  ``<work_dir>/swanlab_run_id``, so that earlier runs of the same name do not count);
- every train key, at exactly the iterations MMEngine logged, with its values;
- every validation round, with the validation metric's values;
- the test metrics;
- the config (model type and, locally, the config text);
- locally, at least one image, served as a PNG;
- with ``--insights`` (every recipe has them), the prediction gallery and a per-class
  table at every validation and test, the gallery with the same images each time.
Exits 1 and lists every failed check otherwise.
"""
import argparse
import glob
import io
import math
import os
import sys
from typing import Dict, List, Tuple

from ci.dashboard import CloudDashboard, LocalDashboard
from swanlab_backend.tools.import_work_dir import read_scalars, read_test_metrics, run_dirs


def mmengine_records(work_dir: str) -> Tuple[List[dict], List[dict], Dict[str, float]]:
    """``(train records, val records, test metrics)`` as MMEngine wrote them in ``work_dir``."""
    runs = run_dirs(work_dir)
    if not runs:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir} (LocalVisBackend missing?)')
    train, val = read_scalars(runs[-1])
    test: Dict[str, float] = {}
    for run_dir in sorted(glob.glob(os.path.join(work_dir, '*', ''))):
        test = read_test_metrics(run_dir) or test
    return train, val, test


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) or (math.isnan(a) and math.isnan(b))


def check_experiment(board, experiment_name: str, work_dir: str, val_metrics: List[str],
                     test_metrics: List[str], model_type: str = '', media: bool = True,
                     insights: bool = False) -> List[str]:
    """Every check above; returns the failures (empty when the dashboard has it all).

    ``board`` is a :class:`LocalDashboard` or a :class:`CloudDashboard` (then ``media=False``:
    the config text and images are checked in the local dashboard only).
    """
    failures: List[str] = []
    try:
        exp = board.experiment(experiment_name)
    except AssertionError as e:
        return [str(e)]
    status = board.wait_status(exp)
    if status != 'finished':
        failures.append(f'status is {status}, expected finished')
    train, val, test = mmengine_records(work_dir)

    for key in sorted({k for r in train for k in r} - {'step', 'iter', 'epoch'}):
        logged = {r['step']: r[key] for r in train if key in r}
        series = board.scalar_series(exp, f'train/{key}')
        if sorted(series) != sorted(logged):
            failures.append(f'train/{key}: steps {sorted(series)} on the dashboard, MMEngine logged {sorted(logged)}')
        elif not all(close(series[s], v) for s, v in logged.items()):
            failures.append(f'train/{key}: values differ from what MMEngine logged')
    if not train:
        failures.append('MMEngine logged no training iteration')

    for metric in val_metrics:
        logged = [r[metric] for r in val if metric in r]
        values = [v for _, v in sorted(board.scalar_series(exp, f'val/{metric}').items())]
        if not logged or len(values) != len(logged) or not all(map(close, values, logged)):
            failures.append(f'val/{metric}: {values} on the dashboard, MMEngine logged {logged}')
    for metric in test_metrics:
        series = board.scalar_series(exp, f'test/{metric}')
        if len(series) != 1 or metric not in test or not close(list(series.values())[0], test[metric]):
            failures.append(f'test/{metric}: {series} on the dashboard, MMEngine wrote {test.get(metric)}')

    config = board.config(exp)
    if model_type and config.get('model.type') != model_type:
        failures.append(f"config model.type is {config.get('model.type')!r}, expected {model_type!r}")
    if media:
        failures += _check_media(board, exp)
    if media and insights:
        for split, metrics in (('val', val_metrics), ('test', test_metrics)):
            if metrics:
                steps = sorted(board.scalar_series(exp, f'{split}/{metrics[0]}'))
                failures += _check_insights(board, exp, split, steps)
    return failures


def _check_insights(board, exp, split: str, steps: List[int]) -> List[str]:
    """The gallery and a per-class table at every evaluation of ``split``; the gallery's files the same each time."""
    failures = []
    tags = board.tags(exp)
    gallery = board.media(exp, f'{split}/gallery') if f'{split}/gallery' in tags else []
    if [entry['step'] for entry in gallery] != steps:
        failures.append(f'{split}/gallery at steps {[e["step"] for e in gallery]}, evaluations at {steps}')
    names = [tuple((c or {}).get('caption', '').split(':')[0] for c in entry['captions'] or []) for entry in gallery]
    if any(n != names[0] or not n or not all(n) for n in names):
        failures.append(f'{split}/gallery: the samples or their captions differ between evaluations')
    tables = [k for k in tags if k.startswith(f'{split}/per_class/') and k.endswith('table')]
    if not tables or [e['step'] for e in board.media(exp, tables[0])] != steps:
        failures.append(f'{split}: no per-class table at every evaluation ({tables})')
    return failures


def _check_media(board, exp) -> List[str]:
    failures = []
    if 'model = dict(' not in (board.config_text(exp) or ''):
        failures.append('the config text is missing')
    png = board.first_image(exp)
    if png is None:
        failures.append('no image reached the dashboard')
    elif png[:8] != b'\x89PNG\r\n\x1a\n':
        failures.append('the first image is not served as a PNG')
    else:
        from PIL import Image
        Image.open(io.BytesIO(png)).verify()
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--log-dir', help='the SwanLab log dir the run wrote to (local dashboard)')
    where.add_argument('--cloud-project', metavar='USER/PROJECT',
                       help='check the SwanLab cloud instead (needs SWANLAB_API_KEY or `swanlab login`)')
    parser.add_argument('--work-dir', required=True, help="the run's MMEngine work dir")
    parser.add_argument('--experiment', required=True)
    parser.add_argument('--val-metric', action='append', default=[])
    parser.add_argument('--test-metric', action='append', default=[])
    parser.add_argument('--model-type', default='')
    parser.add_argument('--insights', action='store_true', help='also check the gallery and per-class tables')
    args = parser.parse_args(argv)
    board = CloudDashboard(args.cloud_project, args.work_dir) if args.cloud_project else LocalDashboard(args.log_dir)
    with board:
        failures = check_experiment(board, args.experiment, args.work_dir, args.val_metric, args.test_metric,
                                    args.model_type, media=not args.cloud_project, insights=args.insights)
        print(f'dashboard {board.url}, experiment {args.experiment}:')
    for failure in failures:
        print(f'  FAIL {failure}')
    print('  all checks passed' if not failures else f'  {len(failures)} check(s) failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
