"""The training side of the writer process: start it early, hand it data, never wait for it.

:func:`start_writer` creates a journal (:mod:`swanlab_backend.journal`) in the spool
folder and starts ``python -c BOOTSTRAP`` on it, in a session of its own (Ctrl+C in
the terminal reaches only the training). The :class:`RemoteRun` it returns is what
the backend logs to: each call is a conversion and one write into the journal.
The writer process (:class:`~swanlab_backend.run_writer.RunWriter`) owns the SwanLab
run: ``swanlab.init`` runs there while the runner builds the model, and after
``finish`` the training process may exit at once; the writer finishes writing (and
uploading, within ``upload_timeout``) on its own. If it cannot start, the same
writer runs on a thread of the training process, with one warning.

A script or test that needs the data on the dashboard right away calls
:func:`wait_until_written` (``swanlab_backend.wait_until_written(log_dir)``).
"""
import logging
import os
import os.path as osp
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from . import run_lifecycle
from .images import PendingImage
from .journal import JournalWriter, wait_for
from .run_writer import RunWriter, read_status

CHECK_EVERY_S = 1.0
# Images wait in memory up to this size for a thread to write them: a 3 MB write into the page cache takes ~3 ms,
# a copy ~0.15 ms. Beyond it the training thread waits for room (back-pressure, a few ms), never drops.
MAX_QUEUED_IMAGE_BYTES = 128 * 2 ** 20
INFO_TIMEOUT_S = 120.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# The writer ignores the stop signals before anything else (it starts with them blocked, see start_writer), and
# skips the package's __init__, which imports MMEngine and torch (~2 s, ~300 MB): it needs neither.
BOOTSTRAP = ('import signal, sys, types; [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]; '
             'signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM)); '
             'package = types.ModuleType("swanlab_backend"); package.__path__ = [sys.argv[1]]; '
             'sys.modules["swanlab_backend"] = package; from swanlab_backend.run_writer import main; '
             'sys.exit(main(sys.argv[2:]))')


def spool_root() -> str:
    """Where journals live while they are written: ``$SWANLAB_BACKEND_SPOOL``, else the temp folder."""
    return os.environ.get('SWANLAB_BACKEND_SPOOL') or osp.join(tempfile.gettempdir(), f'swanlab_backend-{os.getuid()}')


def start_writer() -> 'RemoteRun':
    """Starts a writer process (else a writer thread) on a new journal; the run starts with :meth:`RemoteRun.init`."""
    os.makedirs(spool_root(), mode=0o700, exist_ok=True)
    folder = osp.join(spool_root(), f'{os.getpid()}-{uuid.uuid4().hex[:12]}')
    journal = JournalWriter(folder)
    try:
        if os.environ.get('SWANLAB_BACKEND_WRITER', 'process') == 'thread':
            raise OSError('SWANLAB_BACKEND_WRITER=thread')
        # Blocked signals are inherited: a Ctrl+C or SIGTERM that comes while Python starts there waits until
        # the writer ignores it (this thread gets its own as soon as the process exists).
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            process = subprocess.Popen([sys.executable, '-c', BOOTSTRAP, osp.dirname(osp.abspath(__file__)), folder,
                                        str(os.getpid())], stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    except OSError as e:
        return RemoteRun(journal, None, f'the writer process could not start ({e})')
    return RemoteRun(journal, process)


class _Config:
    def __init__(self, run: 'RemoteRun'):
        self._run = run

    def update(self, values: Dict[str, Any]) -> None:
        self._run.send('config', dict(values))


class RemoteRun:
    """A SwanLab run as the training process sees it: ``log``, ``config.update``, ``define_metric``,
    ``save`` and ``finish`` go into the journal; ``id``, ``dir``, ``mode`` and ``url`` come back once
    the writer has started the run."""

    def __init__(self, journal: JournalWriter, process: Optional[subprocess.Popen], why_in_process: str = ''):
        self._journal, self._process = journal, process
        self._pid = os.getpid()  # a forked DataLoader worker inherits this object (and our SIGTERM handler)
        self._thread: Optional[threading.Thread] = None
        self._next_check = time.monotonic() + CHECK_EVERY_S
        self._announced = self._finished = self._initialized = False
        self._lost: Optional[str] = None
        self._last_status: dict = {}
        self._reported: set = set()
        self._checking = threading.Lock()  # the training, image and background threads all send
        self.config = _Config(self)
        self._images: deque = deque()  # (record, bytes) for the image thread
        self._image_bytes = 0
        self._image_room = threading.Condition()
        self._image_thread: Optional[threading.Thread] = None
        self._spare: Dict[tuple, list] = {}  # written-out image buffers: fresh memory would cost page faults
        self._spare_bytes = 0
        if process is None:
            self._run_in_process(why_in_process)

    @property
    def folder(self) -> str:
        return self._journal.folder

    @property
    def writer_pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    @property
    def in_process(self) -> bool:
        """True when the writer runs on a thread of this process (its process could not start)."""
        return self._thread is not None

    # ---- what the backend calls ------------------------------------------------------------------------------

    def init(self, init_kwargs: dict, reopen_id: Optional[str], new_run: dict, upload_timeout: float,
             max_image_side: int, run_id_file: Optional[str]) -> None:
        self._initialized = True
        self.send('init', dict(init_kwargs=init_kwargs, reopen_id=reopen_id, new_run=new_run,
                               upload_timeout=upload_timeout, max_image_side=max_image_side, run_id_file=run_id_file))

    def log_numbers(self, data: Dict[str, float], step: int) -> None:
        """:meth:`log` for numbers only: the per-iteration path, with nothing to look for."""
        self.send('log', data, step)

    def log(self, data: dict, step: Optional[int] = None) -> None:
        data, size = self._copy_images(data)
        if size:
            self._queue_images(('log', data, step), size)
        else:
            self.send('log', data, step)

    def define_metric(self, key: str, **kwargs: Any) -> None:
        self.send('define_metric', key, kwargs)

    def save(self, path: str, **kwargs: Any) -> None:
        self.send('save', path, kwargs)

    def release(self) -> None:
        """For a backend dropped without ``close()``: finish its run as a success, or let the writer go."""
        if self._initialized:
            self.finish('success')
        else:
            self.abandon()

    def abandon(self) -> None:
        """No run was started (the backend was closed unused): the writer exits."""
        self._end(('abandon',))

    def finish(self, state: str = 'success', error: Optional[str] = None) -> None:
        """Hands over the end of the run and returns; the writer finishes it on its own."""
        if self._finished or os.getpid() != self._pid:
            return
        self._check_writer()
        info = self.info(timeout=0)
        announce_here = bool(info.get('id')) and self._lost is None
        self._end(('finish', state, error, not announce_here))
        if announce_here:
            run_lifecycle.announce(_RunInfo(info), info['mode'], finished=state)
            if self._process is not None and self._process.poll() is None:
                print_log(f'SwanLab: its writer process (pid {self._process.pid}) finishes writing in the '
                          'background; swanlab_backend.wait_until_written() waits for it', logger='current')

    def send(self, *record: Any) -> None:
        if self._finished or self._lost or record[0] is None or os.getpid() != self._pid:
            return
        if time.monotonic() >= self._next_check:
            self._check_writer()
        try:
            self._journal.append(record)
        except Exception as e:  # disk full, an unpicklable value: say so, never raise into training
            if type(e) not in self._reported:  # once per kind, not once per step
                self._reported.add(type(e))
                print_log(f'SwanLab: could not hand {record[0]!r} to the writer ({type(e).__name__}: {e}); it is '
                          'not logged, nor are later ones that fail the same way', logger='current',
                          level=logging.WARNING)

    # ---- what comes back ---------------------------------------------------------------------------------------

    def info(self, timeout: Optional[float] = INFO_TIMEOUT_S) -> dict:
        """The writer's status (``phase``, and once ``running``: ``id``, ``dir``, ``mode``, ``url``)."""
        wait_for(lambda: self._status().get('phase') not in (None, 'ready') or not self._writer_alive(), timeout)
        return self._status()

    def _status(self) -> dict:
        """The writer's status file, or the last one seen with the run in it (the writer deletes it at the end)."""
        status = read_status(self.folder)
        if status.get('id'):
            self._last_status = status
        return status or self._last_status

    @property
    def id(self) -> Optional[str]:
        return self.info().get('id')

    @property
    def dir(self) -> Optional[str]:
        return self.info().get('dir')

    @property
    def mode(self) -> Optional[str]:
        return self.info().get('mode')

    @property
    def url(self) -> Optional[str]:
        return self.info().get('url')

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until the writer has written everything and exited; False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return wait_for(lambda: self._process.poll() is not None, timeout)

    # ---- the writer's health -----------------------------------------------------------------------------------

    def _writer_alive(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._process.poll() is None

    def _check_writer(self) -> None:
        """Once a second: announce the run when it has started; notice a writer process that died."""
        if not self._checking.acquire(blocking=False):
            return
        try:
            self._check_writer_now()
        finally:
            self._checking.release()

    def _check_writer_now(self) -> None:
        self._next_check = time.monotonic() + CHECK_EVERY_S
        status = self._status()
        if status.get('id') and not self._announced:
            self._announced = True
            run_lifecycle.announce(_RunInfo(status), status['mode'])
        if self._thread is not None or self._process.poll() is None or status.get('phase') == 'done':
            return
        if status.get('phase') in (None, 'ready'):  # it died before touching the run: write in-process
            self._run_in_process(f'the writer process exited with code {self._process.returncode} before '
                                 'starting the run')
        else:
            self._lost = (f'SwanLab: the writer process exited with code {self._process.returncode}; tracking '
                          f'is off for the rest of this run (what it received is in {self.folder})')
            print_log(self._lost, logger='current', level=logging.WARNING)

    def _run_in_process(self, why: str) -> None:
        print_log(f'SwanLab: {why}; writing from a thread of the training process instead', logger='current',
                  level=logging.WARNING)
        self._process = None
        self._thread = threading.Thread(target=RunWriter(self.folder).run, name='swanlab-run-writer', daemon=True)
        self._thread.start()

    def _queue_images(self, record: tuple, size: int) -> None:
        with self._image_room:
            while self._image_bytes and self._image_bytes + size > MAX_QUEUED_IMAGE_BYTES:
                self._image_room.wait()
            self._images.append((record, size))
            self._image_bytes += size
            self._image_room.notify_all()
            if self._image_thread is None:  # under the lock: the training and background threads both log images
                self._image_thread = threading.Thread(target=self._write_images, name='swanlab-images', daemon=True)
                self._image_thread.start()

    def _write_images(self) -> None:
        while True:
            with self._image_room:
                while not self._images:
                    self._image_room.wait()
                record, size = self._images[0]
            if record[0] is None:
                return
            self.send(*record)
            with self._image_room:
                self._images.popleft()
                self._image_bytes -= size
                self._image_room.notify_all()
                for image in _images_in(record[1]):
                    if self._spare_bytes + image.array.nbytes <= MAX_QUEUED_IMAGE_BYTES // 2:
                        self._spare.setdefault((image.array.shape, image.array.dtype.str), []).append(image.array)
                        self._spare_bytes += image.array.nbytes

    def _copy_images(self, data: dict) -> Tuple[dict, int]:
        """``data`` with its images copied (the caller may draw into them again), and their size in bytes."""
        if not any(True for _ in _images_in(data)):
            return data, 0
        size, copied = 0, {}
        for key, value in data.items():
            if isinstance(value, PendingImage):
                value = PendingImage(self._copy(value.array), value.caption)
                size += value.array.nbytes
            elif isinstance(value, list):
                value = [PendingImage(self._copy(v.array), v.caption) if isinstance(v, PendingImage) else v
                         for v in value]
                size += sum(v.array.nbytes for v in value if isinstance(v, PendingImage))
            copied[key] = value
        return copied, size

    def _copy(self, array: np.ndarray) -> np.ndarray:
        with self._image_room:
            spare = self._spare.get((array.shape, array.dtype.str))
            buffer = spare.pop() if spare else None
            if buffer is not None:
                self._spare_bytes -= buffer.nbytes
        if buffer is None:
            return np.array(array)
        np.copyto(buffer, array)
        return buffer

    def _end(self, record: tuple) -> None:
        if self._finished or os.getpid() != self._pid:
            return
        if self._image_thread is not None:  # the images handed over so far go first
            self._queue_images((None,), 0)
            self._image_thread.join()
        self.send(*record)
        self._finished = True
        self._journal.close()


def _images_in(data: dict):
    for value in data.values():
        for item in (value if isinstance(value, list) else [value]):
            if isinstance(item, PendingImage):
                yield item


class _RunInfo:
    """What :func:`run_lifecycle.announce` reads of a run, from the writer's status."""

    def __init__(self, status: dict):
        from pathlib import Path
        self.dir, self.url = Path(status['dir']), status.get('url')


def pending_writers(log_dir: Optional[str] = None) -> List[dict]:
    """Writers still at work, for runs in ``log_dir`` only if given. One that has not started its run
    yet counts if its training process is gone: the run is on its way (a live training's writer that
    waits for its run to begin is not pending)."""
    pending = []
    root = spool_root()
    for name in (os.listdir(root) if osp.isdir(root) else []):
        status = read_status(osp.join(root, name))
        if status.get('phase') not in ('ready', 'running') or not _running(status.get('pid')):
            continue
        if status['phase'] == 'ready' and _running(status.get('parent')):
            continue
        if log_dir is None or 'dir' not in status or _inside(status['dir'], log_dir):
            pending.append(status)
    return pending


def wait_until_written(log_dir: Optional[str] = None, timeout: Optional[float] = None) -> bool:
    """Waits until every writer process (of runs in ``log_dir``, if given) has written everything and
    exited: after it, the local dashboard shows all that was logged. False on timeout."""
    return wait_for(lambda: not pending_writers(log_dir), timeout, poll=0.1)


def _inside(path: str, folder: str) -> bool:
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _running(pid: Optional[int]) -> bool:
    """True for a live process (a zombie, finished but not yet reaped by its parent, is not)."""
    if not pid:
        return False
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
