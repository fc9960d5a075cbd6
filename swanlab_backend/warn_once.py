"""Both sides: a warning (or any other call) made only the first time each key comes.

A failure that repeats every step (a logging call that fails the same way, a metric
that stays NaN, an insights stage that keeps failing) is told once per key: an
exception type, a metric key, a stage. Training threads, the background thread and
the writer's threads may share one :class:`WarnOnce`, so it is thread-safe. The
writer process imports it too: only the standard library here, never MMEngine or torch.
"""
import threading
from typing import Any, Callable, Hashable


class WarnOnce:
    """Remembers the keys seen so far.

    ``warn_once(key, print_log, message, logger='current')`` calls
    ``print_log(message, logger='current')`` the first time ``key`` comes, and
    does nothing after; :meth:`first` answers whether a key is new (and marks it seen).
    """

    def __init__(self) -> None:
        self._seen: set = set()
        self._lock = threading.Lock()

    def first(self, key: Hashable) -> bool:
        """True the first time ``key`` comes (it is seen from then on), False every later time."""
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def __call__(self, key: Hashable, say: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Calls ``say(*args, **kwargs)`` if ``key`` is new; True if it did."""
        if not self.first(key):
            return False
        say(*args, **kwargs)
        return True

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._seen
