"""The tracking setups the benchmark compares, as MMEngine ``vis_backends`` lists.

Every setup keeps MMEngine's ``LocalVisBackend`` (what a recipe has anyway) and
adds at most one tracker. Nothing here imports a tracker at module level: the
child process of setup (c) must be able to load SwanLab's own backend without
ever importing ``swanlab_backend`` (which takes over the ``SwanlabVisBackend``
name).
"""
from dataclasses import dataclass
from typing import Optional

PROJECT = 'tracking-bench'
SWANLAB_OWN = 'SwanlabOwnVisBackend'


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    tracker: Optional[str]  # 'ours', 'swanlab' (SwanLab's own backend), 'tensorboard' or None
    swanlab_mode: Optional[str] = None


SETUPS = (
    Setup('a', 'LocalVisBackend only', None),
    Setup('b1', '+ ours, local', 'ours', 'local'),
    Setup('b2', '+ ours, offline', 'ours', 'offline'),
    Setup('c', '+ SwanLab own, local', 'swanlab', 'local'),
    Setup('c2', '+ SwanLab own, offline', 'swanlab', 'offline'),
    Setup('d', '+ TensorBoard', 'tensorboard'),
)
BY_KEY = {setup.key: setup for setup in SETUPS}


def vis_backends(setup: Setup, swanlab_log_dir: str) -> list:
    """The ``vis_backends`` of ``setup``; SwanLab writes its run under ``swanlab_log_dir``."""
    return [dict(type='LocalVisBackend')] + ([tracker_backend(setup, swanlab_log_dir)] if setup.tracker else [])


def tracker_backend(setup: Setup, swanlab_log_dir: str) -> dict:
    if setup.tracker == 'tensorboard':
        return dict(type='TensorboardVisBackend')
    init_kwargs = dict(project=PROJECT, mode=setup.swanlab_mode, log_dir=swanlab_log_dir)
    if setup.tracker == 'ours':
        import swanlab_backend  # noqa: F401  (registers our SwanlabVisBackend)
        return dict(type='SwanlabVisBackend', init_kwargs=init_kwargs)
    # Once swanlab_backend is imported, 'SwanlabVisBackend' means ours; SwanLab's class gets its own name
    # (a class object as `type` would break the Runner's config dump).
    from mmengine.registry import VISBACKENDS
    from swanlab.integration.mmengine import SwanlabVisBackend
    VISBACKENDS.register_module(name=SWANLAB_OWN, module=SwanlabVisBackend, force=True)
    return dict(type=SWANLAB_OWN, init_kwargs=init_kwargs)


def write_result(path: str, result: dict) -> int:
    """Writes a child's measurements, with its peak memory, for run_bench.py to read; returns 0."""
    import json
    import resource
    result['max_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(path, 'w') as f:
        json.dump(result, f)
    return 0



def watch_writers(swanlab_log_dir: str) -> dict:
    """After a child process exited: how long until our writer processes have written everything into
    ``swanlab_log_dir`` (the last value is on the dashboard), and their peak memory, read from /proc."""
    import time

    from swanlab_backend.handover.writer_process import pending_writers
    started, peak = time.perf_counter(), {}
    while True:
        pending = pending_writers(swanlab_log_dir)
        if not pending:
            break
        for status in pending:
            peak[status['pid']] = max(peak.get(status['pid'], 0.0), _peak_rss_mb(status['pid']))
        time.sleep(0.05)
    return dict(written_after_exit_s=time.perf_counter() - started,
                writer_peak_rss_mb=max(peak.values()) if peak else None)


def _peak_rss_mb(pid: int) -> float:
    try:
        with open(f'/proc/{pid}/status') as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith('VmHWM:'))
    except (OSError, StopIteration):
        return 0.0
