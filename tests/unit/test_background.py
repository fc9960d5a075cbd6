"""The background writer keeps order, never drops, and its flush and close honour their timeouts."""
import threading
import time

from swanlab_backend.handover.background import BackgroundWorker


def test_calls_run_in_order():
    seen = []
    writer = BackgroundWorker()
    for i in range(100):
        writer.submit(seen.append, i)
    assert writer.close(10)
    assert seen == list(range(100))


def _stuck_writer(max_pending):
    """A writer whose worker is blocked and whose queue is full."""
    release = threading.Event()
    writer = BackgroundWorker(max_pending=max_pending)
    writer.submit(release.wait)
    for _ in range(max_pending):
        writer.submit(lambda: None)
    return writer, release


def test_flush_and_close_give_up_after_their_timeout_even_with_a_full_queue():
    writer, release = _stuck_writer(max_pending=3)
    started = time.monotonic()
    assert writer.flush(0.3) is False
    assert writer.close(0.3) is False
    assert time.monotonic() - started < 2.0
    release.set()


def test_a_failing_call_is_reported_and_the_rest_still_runs():
    seen = []
    writer = BackgroundWorker()
    writer.submit(lambda: 1 / 0)
    writer.submit(seen.append, 'after')
    assert writer.close(10) and seen == ['after']
