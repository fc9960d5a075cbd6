"""Writer side: sending an alert to its channels, never blocking the writer, never raising.

Each channel has a daemon thread of its own and sends in order: a plain webhook gets a JSON POST
(``{"kind", "title", "text", "run"}``, a short timeout), SwanLab's notification plugins
(``EmailCallback``, ``LarkCallback``, ``SlackCallback``...) are built here and their own sending code
makes the call, with the alert as their message. A channel that fails is one warning (per channel), with
every secret blanked out; the next alerts still try it. The secrets are also kept out of what this process
prints and of SwanLab's own log file (:func:`~swanlab_backend.handover.writer_output.keep_out`): SwanLab's
plugins report their failures with the exception, which may hold a webhook URL's token.
"""
import html
import importlib
import json
import logging
import queue
import threading
import time
import urllib.request
from typing import Any, List, Optional, Tuple

from mmengine.logging import print_log

from ..alert_options import WEBHOOK, resolve_channel
from ..handover.writer_output import blank_out, keep_out
from ..swanlab_options import CALLBACKS
from ..warn_once import WarnOnce
from .alert_messages import Alert

WEBHOOK_TIMEOUT_S = 10.0
_STOP = None


class Delivery:
    """The channels of one run (``alerts['channels']``); :meth:`drain` waits, bounded, for what is on its way."""

    def __init__(self, channels: List[dict], run_name: str):
        self._run_name = run_name
        self._warned = WarnOnce()
        self._channels: List[_Channel] = []
        for index, channel in enumerate(channels):
            try:
                kind, arguments, secrets = resolve_channel(channel)
            except ValueError as e:  # the variable or file went away since the training checked it
                self._warn(index, channel.get('type'), str(e))
                continue
            for secret in secrets:
                keep_out(secret)
            self._channels.append(_Channel(index, kind, arguments, self))

    def send(self, alert: Alert) -> None:
        for channel in self._channels:
            channel.queue.put(alert)

    def drain(self, timeout: float) -> None:
        """Lets each channel send what it has, for at most ``timeout`` seconds in all (the run is ending)."""
        deadline = time.monotonic() + timeout
        for channel in self._channels:
            channel.queue.put(_STOP)
        for channel in self._channels:
            channel.thread.join(max(0.0, deadline - time.monotonic()))
            if channel.thread.is_alive():
                self._warn(channel.index, channel.kind, f'still sending after {timeout:.0f} s; given up')

    def _warn(self, index: int, kind: Any, why: str) -> None:
        why = blank_out(why)
        self._warned(index, print_log, f"SwanLab: alert channel alerts['channels'][{index}] ({kind}) could not "
                                       f'send: {why}. Training goes on; later alerts still try it (this warning '
                                       'is shown once).', logger='current', level=logging.WARNING)


class _Channel:
    def __init__(self, index: int, kind: str, arguments: dict, delivery: Delivery):
        self.index, self.kind, self._arguments = index, kind, arguments
        self._delivery = delivery
        self.queue: 'queue.Queue' = queue.Queue()
        self.thread = threading.Thread(target=self._work, name=f'swanlab-alerts-{index}', daemon=True)
        self.thread.start()

    def _work(self) -> None:
        plugin = None
        while (alert := self.queue.get()) is not _STOP:
            try:
                if self.kind == WEBHOOK:
                    self._post(alert)
                    continue
                plugin = plugin or _build_plugin(self.kind, self._arguments)
                _send_with_plugin(plugin, alert)
            except Exception as e:
                self._delivery._warn(self.index, self.kind, f'{type(e).__name__}: {e}')

    def _post(self, alert: Alert) -> None:
        body = json.dumps({'kind': alert.kind, 'title': alert.title, 'text': alert.text,
                           'run': self._delivery._run_name}).encode('utf-8')
        request = urllib.request.Request(self._arguments['url'], data=body, method='POST',
                                         headers={'Content-Type': 'application/json'})
        timeout = float(self._arguments.get('timeout') or WEBHOOK_TIMEOUT_S)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # raises on 4xx and 5xx
            response.read()


def _build_plugin(kind: str, arguments: dict) -> Any:
    return getattr(importlib.import_module(CALLBACKS[kind][0]), kind)(**arguments)


def _send_with_plugin(plugin: Any, alert: Alert) -> None:
    """The plugin's own sending code, with the alert as its message: SwanLab's plugins send only the run's end,
    so the parts that write their message (pinned SwanLab's ``_build_content``, and the e-mail's subject and
    HTML) are replaced on this object."""
    text = f'{alert.title}\n\n{alert.text}'
    plugin._build_content = lambda state, error: text
    if hasattr(plugin, '_build_subject'):
        plugin._build_subject = lambda error: f'SwanLab alert | {alert.title}'
    if hasattr(plugin, '_build_html'):
        plugin._build_html = lambda error: f'<pre style="font-family:monospace">{html.escape(text)}</pre>'
    state, error = _state_of(alert)
    plugin._send_notification(state, error)


def _state_of(alert: Alert) -> Tuple[str, Optional[str]]:
    return ('crashed', alert.title) if alert.kind in ('crashed', 'aborted') else ('success', None)
