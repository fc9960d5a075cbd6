"""A background thread for the work that needs the training process but not its training thread.

Drawing a report of the insights hook (a gallery of 8 images, charts) takes about a
second, and hashing a checkpoint for the ledger a second per 500 MB: both read the
training's objects, so they run here, in order, and hand what they make to the
writer process (:mod:`swanlab_backend.handover.writer_process`).
"""
import logging
import queue
import threading
import time
from typing import Any, Callable, Optional

from mmengine.logging import print_log

from ..warn_once import WarnOnce

_STOP = object()


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class BackgroundWorker:
    """Runs submitted calls in order on one daemon thread.

    Args:
        max_pending (int): Calls that may wait before :meth:`submit` blocks
            (back-pressure instead of dropping data).
        name (str): Thread name, shown in stack dumps.
    """

    def __init__(self, max_pending: int = 10000, name: str = 'swanlab-background'):
        self._queue: 'queue.Queue' = queue.Queue(maxsize=max_pending)
        self._reported = WarnOnce()  # exception types told about already
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> None:
        """Queues ``fn(*args, **kwargs)``; waits while ``max_pending`` calls are queued (never drops)."""
        if self._thread.is_alive():
            self._queue.put((fn, args, kwargs))

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything submitted so far has run; False on timeout, also with a full queue."""
        if not self._thread.is_alive():
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        done = threading.Event()
        return self._put(done.set, deadline) and done.wait(_remaining(deadline))

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flushes, then stops the thread; False if it did not finish in time."""
        if not self._thread.is_alive():
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        flushed = self.flush(timeout)
        if self._put(_STOP, deadline):
            self._thread.join(_remaining(deadline))
        return flushed and not self._thread.is_alive()

    def _put(self, fn: Any, deadline: Optional[float]) -> bool:
        try:
            self._queue.put((fn, (), {}), timeout=_remaining(deadline))
        except queue.Full:
            return False
        return True

    def _work(self) -> None:
        while True:
            fn, args, kwargs = self._queue.get()
            if fn is _STOP:
                return
            try:
                fn(*args, **kwargs)
            except Exception as e:  # tracking must never take training down
                self._reported(type(e), print_log,  # once per kind, not once per step
                               f'SwanLab: a logging call failed and was dropped ({type(e).__name__}: {e}); '
                               'further failures of this kind are not reported', logger='current',
                               level=logging.WARNING)
