"""The process's exit paths finish every open run first, installed once however many runs start."""
import gc
import signal
import sys

import pytest

from swanlab_backend.mmengine import run_exits


class Owner:
    def __init__(self):
        self.finished = []

    def finish(self, state, error=None, close_timeout=None):
        self.finished.append((state, close_timeout))


@pytest.fixture
def handlers(monkeypatch):
    """Keeps this process's handlers and the module's state as they were."""
    monkeypatch.setattr(sys, 'excepthook', sys.excepthook)
    for name in ('_next', '_first', '_inside'):
        monkeypatch.setattr(run_exits, name, {})
    monkeypatch.setattr(run_exits, '_open', type(run_exits._open)())
    sigint, sigterm = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, sigint)
    signal.signal(signal.SIGTERM, sigterm)


def _swanlab_like_init(calls, name):
    """What swanlab.init does: an excepthook that passes on to the one it found."""
    found = sys.excepthook

    def hook(*exc):
        calls.append(name)
        found(*exc)

    sys.excepthook = hook


def test_an_exception_finishes_the_run_first_then_reaches_every_earlier_hook_once(handlers):
    calls = []
    sys.excepthook = lambda *exc: calls.append('python')
    _swanlab_like_init(calls, 'swanlab-run-1')
    first = Owner()
    run_exits.finish_at_exit(first)
    first.finished.append(('success', None))  # a first runner that ended; its run is finished
    run_exits.forget(first)
    _swanlab_like_init(calls, 'swanlab-run-2')
    second = Owner()
    run_exits.finish_at_exit(second)
    assert sys.excepthook is run_exits._on_exception  # ours stays in front, one layer
    try:
        raise RuntimeError('boom')
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert second.finished == [('crashed', None)]
    assert calls == ['swanlab-run-2', 'swanlab-run-1', 'python']  # no loop, nothing called twice


def test_ctrl_c_aborts_within_a_bounded_time_and_raises_keyboardinterrupt(handlers):
    owner = Owner()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run_exits.finish_at_exit(owner)
    with pytest.raises(KeyboardInterrupt):
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    assert owner.finished == [('aborted', 5.0)]


def test_an_owner_is_not_kept_alive_by_the_handlers(handlers):
    owner = Owner()
    run_exits.finish_at_exit(owner)
    assert len(run_exits._open) == 1
    del owner
    gc.collect()
    assert len(run_exits._open) == 0
