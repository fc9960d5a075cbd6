"""Smoke-train every recipe on its tiny dataset, then check each one in the local dashboard.

    python -m ci.run_smoke --out work_dirs/smoke            # all recipes
    python -m ci.run_smoke --out work_dirs/smoke --only faster-rcnn_r50_fpn_1x_coco

Prints one line per recipe (training time, dashboard verdict) and the total;
exits 1 if any recipe failed to train or to reach the dashboard. The CPU and GPU
workflows run this; the pytest suite runs the same cases one by one.
"""
import argparse
import os
import subprocess
import sys
import time
from typing import List, Tuple

from ci.check_dashboard import check_experiment
from ci.dashboard import LocalDashboard
from ci.smoke_matrix import SMOKE_CASES, SmokeCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def swanlab_free_env(**overrides: str) -> dict:
    """This process's environment without any SwanLab setting (a user with no key: local mode), with the
    repository on ``PYTHONPATH`` (``ci.*``, which smoke configs import), plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('SWANLAB_')}
    env['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, env.get('PYTHONPATH', '')) if p)
    env.update(PYTHONUNBUFFERED='1', **overrides)
    return env


def smoke_env(log_dir: str) -> dict:
    """Local mode into one shared log dir, whatever the caller's SwanLab settings."""
    return swanlab_free_env(SWANLAB_MODE='local', SWANLAB_LOG_DIR=log_dir)


def train_case(case: SmokeCase, data_root: str, work_dir: str, log_dir: str,
               timeout: float = 1200) -> Tuple[float, subprocess.CompletedProcess]:
    """Runs ``python -m ci.smoke_train`` for ``case``; returns (seconds, the finished process)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, '-m', 'ci.smoke_train', os.path.join(ROOT, case.config),
         '--data-root', os.path.join(data_root, case.dataset), '--work-dir', work_dir],
        capture_output=True, text=True, timeout=timeout, env=smoke_env(log_dir), cwd=ROOT)
    return time.monotonic() - started, result


def check_case(board, case: SmokeCase, work_dir: str) -> List[str]:
    return check_experiment(board, case.name, work_dir, case.val_metrics, case.val_metrics,
                            case.model_type, insights=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='work_dirs/smoke', help='data, work dirs and the SwanLab log dir')
    parser.add_argument('--only', nargs='+', default=[], help='recipe names (file names without .py)')
    args = parser.parse_args(argv)
    from ci.tiny_datasets import make_all

    out = os.path.abspath(args.out)
    cases = [c for c in SMOKE_CASES if not args.only or c.name in args.only]
    make_all(os.path.join(out, 'data'))
    log_dir = os.path.join(out, 'swanlog')
    started, failed = time.monotonic(), 0
    board = LocalDashboard(log_dir)
    try:
        for case in cases:
            work_dir = os.path.join(out, case.name)
            seconds, result = train_case(case, os.path.join(out, 'data'), work_dir, log_dir)
            failures = ([f'training exited {result.returncode}: {result.stderr[-2000:]}']
                        if result.returncode else check_case(board, case, work_dir))
            failed += bool(failures)
            print(f'{case.name:<55} {seconds:6.0f} s  {"ok" if not failures else "FAILED"}', flush=True)
            for failure in failures:
                print(f'    {failure}')
    finally:
        board.stop()
    print(f'{len(cases) - failed} passed, {failed} failed in {time.monotonic() - started:.0f} s; '
          f'dashboard: swanlab watch {log_dir}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
