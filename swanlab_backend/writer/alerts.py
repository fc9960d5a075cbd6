"""Writer side: the alerts of one run, wired to the run writer (:class:`~swanlab_backend.writer.run_writer.RunWriter`).

The rules (:mod:`~swanlab_backend.writer.alert_rules`) decide; here each alert is written into the run as a
text chart ``alerts/<kind>`` at the latest step, printed (the training relays it to its console and log),
and handed to the channels (:mod:`~swanlab_backend.writer.delivery`), which send it on threads of their own.
"""
import logging
import time
from typing import Any, Callable, Optional

from mmengine.logging import print_log

from ..handover.progress import read_progress
from ..media import MEDIA
from .alert_messages import Alert
from .alert_rules import AlertRules
from .delivery import Delivery

PROGRESS_EVERY_S = 1.0
DRAIN_TIMEOUT_S = 20.0  # what the channels may take at the run's end (an SMTP login, a slow webhook)
LEDGER_KEY = 'checkpoints/ledger'


class Alerts:
    """``options``: the backend's checked ``alerts``; ``folder``: the journal's (its ``progress.json``);
    ``training_alive``: whether the training process still runs; ``pid``: its pid."""

    def __init__(self, options: Optional[dict], run: Any, run_name: str, folder: Optional[str],
                 training_alive: Callable[[], bool], pid: Optional[int]):
        self._run, self._folder, self._alive = run, folder, training_alive
        self._rules = AlertRules(options, run_name, pid, time.monotonic())
        self._delivery = Delivery(self._rules.options['channels'], run_name)
        self._next_progress = 0.0
        self._last_steps: dict = {}

    def logged(self, data: dict, step: Optional[int]) -> None:
        """A ``log`` record, non-finite values still in it."""
        ledger = data.get(LEDGER_KEY)
        if isinstance(ledger, dict) and ledger.get(MEDIA) == 'text':
            self._rules.ledger(ledger['text'])
        self._emit(self._rules.numbers(data, step, time.monotonic()))

    def console(self, text: str) -> None:
        self._rules.console(text)

    def tick(self) -> None:
        """Often: once a second, the training's progress."""
        now = time.monotonic()
        if self._folder is None or now < self._next_progress:
            return
        self._next_progress = now + PROGRESS_EVERY_S
        self._emit(self._rules.progress(read_progress(self._folder), now, self._alive()))

    def finish(self, state: str, error: Optional[str]) -> None:
        """Before the run is finished: the crash alert and the summary, then the channels send what is left."""
        now = time.monotonic()
        if self._folder is not None:  # the final counts, for the summary (no stall is alerted at the end)
            self._rules.progress(read_progress(self._folder), now, training_alive=False)
        where = getattr(self._run, 'url', None) if self._run.mode == 'online' else str(self._run.dir)
        self._emit(self._rules.finish(state, error, where or str(self._run.dir), now))
        self._delivery.drain(DRAIN_TIMEOUT_S)

    def _emit(self, alerts: list) -> None:
        for alert in alerts:
            self._write(alert)
            if alert.deliver:
                self._delivery.send(alert)

    def _write(self, alert: Alert) -> None:
        import swanlab
        key = f'alerts/{alert.kind}'
        # One point per step and key: a second alert of a kind at the same step goes one step on.
        step = max(self._rules.step, self._last_steps.get(key, -1) + 1)
        self._last_steps[key] = step
        print_log(f'SwanLab alert: {alert.title}\n{alert.text}', logger='current',
                  level=logging.INFO if alert.good_news else logging.WARNING)
        try:
            self._run.log({key: swanlab.Text(alert.text, caption=alert.title)}, step=step)
        except Exception as e:
            print_log(f'SwanLab: could not write the alert into the run ({type(e).__name__}: {e})',
                      logger='current', level=logging.WARNING)
