"""Training side: how far the training, validation and test loops are, for the writer's stall alert.

:class:`SwanlabHook <swanlab_backend.mmengine.hook.SwanlabHook>` counts each finished iteration
(:func:`iteration_done`: two assignments and a clock read, no I/O) and says which loops run (:func:`phase`:
between them, after ``train()`` and before a ``test()`` that may follow, no iteration is due); a thread
writes the counts and each phase's median iteration time into ``progress.json`` next to the journal once a
second, and on the way lets the training side relay the writer's output, so that an alert the writer prints
reaches the console while the training thread is stuck. The writer
(:mod:`swanlab_backend.writer.alert_rules`) sees a count that no longer moves while a loop runs and the
training process lives: a hung dataloader or collective. A long validation or test is progress: its
iterations count too.
"""
import json
import os
import os.path as osp
import statistics
import threading
import time
from collections import deque
from typing import Callable, Dict, Optional

PROGRESS_FILE = 'progress.json'
EVERY_S = 1.0
_DURATIONS = 101  # the latest iteration times of each phase the median is taken of

_counts: Dict[str, int] = {}
_running: Dict[str, bool] = {}
_durations: Dict[str, deque] = {}
_last = {'phase': None, 'time': None}


def iteration_done(phase: str) -> None:
    """One ``train``, ``val`` or ``test`` iteration has finished (the training thread calls it)."""
    now = time.monotonic()
    if _last['phase'] == phase and _last['time'] is not None:
        _durations.setdefault(phase, deque(maxlen=_DURATIONS)).append(now - _last['time'])
    _counts[phase] = _counts.get(phase, 0) + 1
    _last['phase'], _last['time'] = phase, now


def phase(name: str, running: bool) -> None:
    """The ``train``, ``val`` or ``test`` loop begins (``running``) or ends."""
    _running[name] = running


def snapshot() -> dict:
    """What ``progress.json`` holds: the phase of the latest iteration, the counts, the medians in seconds, the
    loops that run."""
    medians = {phase: statistics.median(list(times)) for phase, times in list(_durations.items()) if times}
    return {'phase': _last['phase'], 'counts': dict(_counts), 'median_s': medians,
            'running': sorted(name for name, running in list(_running.items()) if running)}


class ProgressReporter:
    """Writes :func:`snapshot` into ``folder`` once a second while it changes (and at :meth:`stop`), and calls
    ``tick`` each time."""

    def __init__(self, folder: str, tick: Callable[[], None]):
        self._path, self._tick = osp.join(folder, PROGRESS_FILE), tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name='swanlab-progress', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Before the run's end is handed over: the final counts, for the summary. The thread is done first: the
        wait for the writer relays its output from then on, and two relays at once could show a line twice."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)  # bounded: a signal handler may be the caller
        _write(self._path, snapshot())

    def _work(self) -> None:
        written: Optional[dict] = None
        while not self._stop.wait(EVERY_S):
            state = snapshot()
            if state != written:
                written = state if _write(self._path, state) else None
            try:
                self._tick()
            except Exception:  # the relay must never end this thread; the training thread relays too
                pass


def _write(path: str, state: dict) -> bool:
    try:
        with open(path + '.tmp', 'w') as f:
            json.dump(state, f)
        os.replace(path + '.tmp', path)
        return True
    except OSError:  # a full disk or a journal folder that is gone: the stall alert only waits longer
        return False


def read_progress(folder: str) -> dict:
    """The writer's reading of ``progress.json``; empty before the first iteration."""
    try:
        with open(osp.join(folder, PROGRESS_FILE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}
