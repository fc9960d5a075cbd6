"""Finishing a SwanLab run without letting a lost cloud connection hold the process.

Online, ``Run.finish()`` first writes everything to the run's local record
(``<run dir>/run-*.swanlab``), then waits with no time limit until the cloud has
taken every pending record, retrying forever while the connection is lost.
Here that wait is bounded: after ``upload_timeout`` seconds the process is free
to exit, and the user is told how to upload the rest from the local record.
"""
import threading
import time
from typing import Any, Optional

from mmengine.logging import print_log

_WARNING = 30
UPLOAD_TIMEOUT_S = 60.0


def finish_run(run: Any, state: str, error: Optional[str], upload_timeout: float) -> None:
    """Finishes ``run`` as ``state``; online, waits at most ``upload_timeout`` s for the upload."""
    if getattr(run, 'mode', None) != 'online':  # local writes only: waiting for them loses nothing
        run.finish(state=state, error=error)
        return
    started = time.monotonic()
    failure = []

    def finish() -> None:
        try:
            run.finish(state=state, error=error)
        except Exception as e:  # reported by the caller's thread, below
            failure.append(e)

    # A daemon thread: if the cloud never answers, it must not keep the process alive at exit.
    thread = threading.Thread(target=finish, name='swanlab-finish', daemon=True)
    thread.start()
    thread.join(upload_timeout)
    if failure:
        raise failure[0]
    if thread.is_alive():
        print_log(f'SwanLab: the cloud did not take the last data within {time.monotonic() - started:.0f} s '
                  f'(upload_timeout); the whole run is kept in {run.dir}. Training is not held up: upload '
                  f'it with: swanlab sync {run.dir}', logger='current', level=_WARNING)
