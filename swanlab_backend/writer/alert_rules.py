"""Writer side: when to alert, decided from what the journal brings and the training's progress file.

Pure decisions, no I/O (:mod:`swanlab_backend.writer.alerts` logs, prints and delivers): each method takes
what the writer saw and the time, and returns the alerts (:mod:`swanlab_backend.writer.alert_messages`) due now.

- **NaN/Inf**: a key with ``loss`` in its name whose value is not finite; once per key.
- **Stall**: the iteration counts of ``progress.json`` (:mod:`swanlab_backend.handover.progress`) have not
  moved for ``stall_minutes`` (or 10 x the median iteration time of the phase, at least 10 minutes) while
  a loop runs and the training process lives; once per stall, again after progress resumed and stopped anew.
- **New best**: ``best/<metric>`` (the checkpoint ledger's, at each validation) improves on an earlier best.
- **Crashed/aborted** and **finished**: at the run's end; the summary is written into every run.
- **Rate limit**: at most ``max_per_hour`` deliveries in any hour; the run's end is always delivered.
"""
import math
from collections import deque
from typing import Dict, List, Optional

from ..alert_options import DEFAULTS, MIN_STALL_MINUTES, STALL_FACTOR
from . import alert_messages as messages
from .alert_messages import Alert

BEST, ITER_SUFFIX = 'best/', '_iter'
NOT_METRICS = ('time', 'data_time', 'epoch', 'memory')  # what MMEngine's LoggerHook logs beside the metrics
CONSOLE_LINES = 40
# CheckpointLedger.table(): fixed-width columns; a best checkpoint has '*' in the 'best' one.
LEDGER_NAME, LEDGER_BEST = slice(0, 40), slice(65, 69)


def is_finite_number(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def best_checkpoint_in(table: str) -> Optional[str]:
    """The newest checkpoint marked best in the ledger's text table, if any."""
    best = [line[LEDGER_NAME].strip() for line in table.splitlines()[2:] if line[LEDGER_BEST].strip() == '*']
    return best[-1] if best else None


class RateLimit:
    def __init__(self, per_hour: int):
        self.per_hour, self.skipped = per_hour, 0
        self._sent: deque = deque()

    def allow(self, now: float) -> bool:
        while self._sent and self._sent[0] <= now - 3600:
            self._sent.popleft()
        if len(self._sent) >= self.per_hour:
            self.skipped += 1
            return False
        self._sent.append(now)
        return True


class AlertRules:
    """The alerts of one run. ``options``: :func:`~swanlab_backend.alert_options.check_alerts`'s; ``pid``: the
    training process (named in a stall alert); ``now``: ``time.monotonic()`` when the run started."""

    def __init__(self, options: Optional[dict], run_name: str, pid: Optional[int], now: float):
        self.options = {**DEFAULTS, **(options or {})}
        self._run, self._pid, self._started = run_name, pid, now
        self._limit = RateLimit(self.options['max_per_hour'])
        self.step = 0  # the latest logged step: where the alerts' text charts go
        self._alerted_losses: set = set()
        self._val, self._val_step, self._test = {}, None, {}
        self._best: Dict[str, float] = {}
        self._best_iter: Dict[str, float] = {}
        self._best_checkpoint: Optional[str] = None
        self._console: deque = deque(maxlen=CONSOLE_LINES)
        self._partial = ''
        self._counts: Dict[str, int] = {}
        self._phase: Optional[str] = None
        self._loops: List[str] = []
        self._moved_at, self._stalled = now, False

    # ---- what the journal brings ---------------------------------------------------------------------------

    def numbers(self, data: dict, step: Optional[int], now: float) -> List[Alert]:
        """A ``log`` record's values at ``step``."""
        if step is not None:
            self.step = max(self.step, int(step))
        bad, alerts = {}, []
        for key, value in data.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            if not is_finite_number(value):
                if 'loss' in key and key not in self._alerted_losses and self.options['nan']:
                    self._alerted_losses.add(key)
                    bad[key] = value
                continue
            if key.rsplit('/', 1)[-1] in NOT_METRICS:
                continue
            if key.startswith('val/'):
                self._val[key], self._val_step = float(value), step
            elif key.startswith('test/'):
                self._test[key] = float(value)
            elif key.startswith(BEST) and key.endswith(ITER_SUFFIX):
                self._best_iter[key[len(BEST):-len(ITER_SUFFIX)]] = value
            elif key.startswith(BEST):
                alerts += self._new_best(key[len(BEST):], float(value), step)
        if bad:
            alerts.insert(0, messages.non_finite(self._run, bad, self.step))
        return self._limited(alerts, now)

    def _new_best(self, metric: str, value: float, step: Optional[int]) -> List[Alert]:
        before = self._best.get(metric)
        self._best[metric] = value
        if before is None or before == value or not self.options['new_best']:
            return []  # the first validation's value is the first best: no news
        return [messages.new_best(self._run, metric, value, before, self.step if step is None else step)]

    def ledger(self, table: str) -> None:
        self._best_checkpoint = best_checkpoint_in(table) or self._best_checkpoint

    def console(self, text: str) -> None:
        """The training's console text, for a crash alert's last lines (progress bars keep their last state)."""
        *lines, self._partial = (self._partial + text).split('\n')
        for line in lines:
            line = line.rsplit('\r', 1)[-1].rstrip()
            if line:
                self._console.append(line)
        self._partial = self._partial[-2000:]

    # ---- the training's progress ---------------------------------------------------------------------------

    def progress(self, state: dict, now: float, training_alive: bool) -> List[Alert]:
        """``progress.json`` as read at ``now``."""
        counts, running = state.get('counts') or {}, state.get('running') or []
        if counts != self._counts or running != self._loops:
            self._counts, self._phase, self._loops = dict(counts), state.get('phase'), list(running)
            self._moved_at, self._stalled = now, False
            return []
        if self._stalled or not running or not training_alive or not self.options['stall']:
            return []
        limit, why = self.stall_limit(self._phase, (state.get('median_s') or {}).get(self._phase))
        idle = now - self._moved_at
        if idle < limit:
            return []
        self._stalled = True
        return self._limited([messages.stall(self._run, idle, self._phase, self._counts.get(self._phase, 0), limit,
                                             why, self._pid)], now)

    def stall_limit(self, phase: Optional[str], median_s: Optional[float]) -> tuple:
        """``(seconds, why)``: how long without an iteration is a stall in ``phase``."""
        if self.options['stall_minutes'] is not None:
            return self.options['stall_minutes'] * 60, "alerts['stall_minutes']"
        if not median_s:
            return MIN_STALL_MINUTES * 60, 'the least it can be; no iteration time is known yet'
        limit = max(MIN_STALL_MINUTES * 60, STALL_FACTOR * median_s)
        return limit, (f'{STALL_FACTOR:g} x the median {phase} iteration time of {median_s:.3g} s, '
                       f'at least {MIN_STALL_MINUTES:g} min')

    # ---- the end -------------------------------------------------------------------------------------------

    def finish(self, state: str, error: Optional[str], where: str, now: float) -> List[Alert]:
        """The run ends as ``state``: a crash alert (crashed, aborted) and the summary (always written)."""
        alerts = []
        if state in ('crashed', 'aborted') and self.options['crash']:
            if self._partial.strip():
                self.console('\n')
            alerts.append(messages.ended_badly(self._run, state, error, list(self._console), self.step))
        best = {metric: (value, self._best_iter.get(metric)) for metric, value in self._best.items()}
        # A crash was told above; the summary of a run that ended badly is written, not sent again.
        deliver = self.options['finished'] and not alerts
        alerts.append(messages.finished(self._run, state, now - self._started, self._counts,
                                        (self._val_step, self._val), self._test, best, self._best_checkpoint, where,
                                        deliver))
        return alerts

    def _limited(self, alerts: List[Alert], now: float) -> List[Alert]:
        limited = []
        for alert in alerts:
            if not self._limit.allow(now):
                alert = alert._replace(deliver=False)
            elif self._limit.skipped:
                alert = alert._replace(text=messages.not_sent(alert.text, self._limit.skipped, self._limit.per_hour))
                self._limit.skipped = 0
            limited.append(alert)
        return limited
