"""The one place that talks to SwanLab: it owns the run and writes what the journal brings.

It runs in a writer process of its own (:mod:`swanlab_backend.writer_process` starts
``python -c BOOTSTRAP FOLDER PARENT_PID``), so that ``swanlab.init``, SwanLab's
writer threads, PNG encoding and the final upload never take the training's time or
GIL; if that process cannot start, the same loop runs on a thread of the training.

Records (tuples, in journal order): ``('init', spec)``, ``('log', data, step)``,
``('config', dict)``, ``('define_metric', key, kwargs)``, ``('save', path, kwargs)``,
``('finish', state, error, announce)`` and ``('abandon',)`` (no run was needed). When
the training process disappears without a ``finish`` (SIGKILL, out of memory), the
writer writes everything that reached the journal and finishes the run as crashed.

``status.json`` next to the journal tells the training side (and
:func:`~swanlab_backend.writer_process.wait_until_written`) how far it got.
"""
import json
import logging
import os
import os.path as osp
import shutil
import tempfile
import threading
import time
from typing import Any, Optional

from mmengine.logging import print_log

from . import run_lifecycle, run_links
from .images import PendingImage, to_swanlab
from .journal import JournalReader

STATUS_FILE = 'status.json'
POLL_S = 0.02
# SwanLab queues what run.log gets (up to 100,000 events) for its own writer thread, which stores ~1500 values/s
# locally: reading the journal faster than that would only move the backlog from disk into this process's memory.
# An image event holds its encoded PNG (~2 MB for a 1333x800 photo): fewer of them may wait.
MAX_SWANLAB_BACKLOG, MAX_SWANLAB_IMAGE_BACKLOG = 1000, 4
KILLED = ('the training process ended without finishing the run (it was killed: SIGKILL, out of memory, '
          'or the node went down); everything it logged before is kept')


def read_status(folder: str) -> dict:
    try:
        with open(osp.join(folder, STATUS_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class RunWriter:
    """Reads the journal in ``folder`` and writes it into one SwanLab run.

    Args:
        folder (str): The journal's folder; deleted once everything is written.
        parent_pid (int, optional): The training process; when it is gone without a
            ``finish`` record, the run is finished as crashed. None on a thread of
            the training process itself.
    """

    def __init__(self, folder: str, parent_pid: Optional[int] = None):
        self.folder, self._parent_pid = folder, parent_pid
        self._run: Any = None
        self._status = {'pid': os.getpid(), 'parent': parent_pid or os.getpid(), 'phase': 'ready'}
        self._max_image_side = 2048
        self._upload_timeout = run_lifecycle.UPLOAD_TIMEOUT_S
        self._reported: set = set()

    def run(self) -> None:
        """Writes records as they come until the run is finished or abandoned, then cleans up."""
        reader = JournalReader(self.folder)
        self._save_status()
        try:
            while True:
                handled = 0
                for record in reader.records():
                    handled += 1
                    if not self._handle(record):
                        return
                if not handled:
                    if self._parent_gone():
                        for record in reader.records():  # what arrived before it went
                            if not self._handle(record):
                                return
                        self._report_torn_tail(reader)
                        self._finish('crashed', KILLED, announce=True)
                        return
                    time.sleep(POLL_S)
        finally:
            reader.close()
            self._status['phase'] = 'done'
            self._save_status()
            shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def _report_torn_tail(reader: JournalReader) -> None:
        torn = reader.unread_tail_bytes()
        if torn:  # the kill came in the middle of one hand-over
            print_log(f'SwanLab: the last record ({torn} bytes) was cut short when the training was killed and is '
                      'not logged', logger='current', level=logging.WARNING)

    def _parent_gone(self) -> bool:
        return self._parent_pid is not None and os.getppid() != self._parent_pid

    def _handle(self, record: tuple) -> bool:
        """Writes one record; False once the run is over."""
        kind, args = record[0], record[1:]
        if kind == 'abandon':
            return False
        if kind == 'finish':
            self._finish(*args)
            return False
        if kind == 'init':
            self._init(*args)
        elif self._run is not None:
            try:
                self._write(kind, args)
            except Exception as e:  # one bad value must not end the run
                self._report_once(e)
        return True

    def _write(self, kind: str, args: tuple) -> None:
        if kind == 'log':
            data, step = args
            has_images = any(isinstance(v, (PendingImage, list)) for v in data.values())
            self._wait_for_swanlab(MAX_SWANLAB_IMAGE_BACKLOG if has_images else MAX_SWANLAB_BACKLOG)
            self._run.log({k: to_swanlab(v, self._max_image_side) for k, v in data.items()}, step=step)
        elif kind == 'config':
            self._run.config.update(args[0])
        elif kind == 'define_metric':
            self._run.define_metric(args[0], **args[1])
        elif kind == 'save':
            self._run.save(args[0], **args[1])
        else:
            raise ValueError(f'unknown journal record {kind!r}')

    def _wait_for_swanlab(self, limit: int) -> None:
        try:  # SwanLab's private queue: without it (another SwanLab version), no pacing, nothing else changes
            backlog = self._run._components.emitter.queue
        except AttributeError:
            return
        while backlog.qsize() > limit:
            time.sleep(POLL_S)

    def _init(self, spec: dict) -> None:
        self._max_image_side = spec.get('max_image_side', self._max_image_side)
        self._upload_timeout = spec.get('upload_timeout', self._upload_timeout)
        self._run = start_run_somewhere(spec['init_kwargs'], spec.get('reopen_id'), self._upload_timeout,
                                        spec.get('new_run') or {})
        if self._run is None:
            self._status['phase'] = 'failed'
        else:
            self._status.update(phase='running', id=self._run.id, dir=str(self._run.dir), mode=self._run.mode,
                                url=getattr(self._run, 'url', None) if self._run.mode == 'online' else None)
            if spec.get('run_id_file'):
                run_links.remember_run_id(spec['run_id_file'], self._run.id)
        self._save_status()

    def _finish(self, state: str, error: Optional[str], announce: bool) -> None:
        if self._run is None:
            return
        try:
            run_lifecycle.finish_run(self._run, state, error, self._upload_timeout)
        except Exception as e:
            print_log(f'SwanLab: could not finish the run ({type(e).__name__}: {e})', logger='current',
                      level=logging.WARNING)
        if announce:
            run_lifecycle.announce(self._run, self._run.mode, finished=state)

    def _report_once(self, e: Exception) -> None:
        if type(e) not in self._reported:  # once per kind, not once per step
            self._reported.add(type(e))
            print_log(f'SwanLab: a logging call failed and was dropped ({type(e).__name__}: {e}); '
                      'further failures of this kind are not reported', logger='current', level=logging.WARNING)

    def _save_status(self) -> None:
        path = osp.join(self.folder, STATUS_FILE)
        try:
            with open(path + '.tmp', 'w') as f:
                json.dump(self._status, f)
            os.replace(path + '.tmp', path)
        except OSError:
            pass  # the folder is gone: a reader treats that as done


def start_run_somewhere(kwargs: dict, reopen_id: Optional[str], upload_timeout: float, new_run: dict) -> Any:
    """Starts the run; if its log dir cannot be used, in a temporary one; else tracking is off (None)."""
    for attempt in range(2):
        try:
            return run_lifecycle.start_run(kwargs, reopen_id, upload_timeout, new_run, announce_start=False)
        except Exception as e:
            if attempt:
                print_log(f'SwanLab tracking is off for this run: {type(e).__name__}: {e}. Training goes on.',
                          logger='current', level=logging.WARNING)
                return None
            fallback = tempfile.mkdtemp(prefix='swanlog-')
            print_log(f'SwanLab could not start a run in {kwargs["log_dir"]} ({type(e).__name__}: {e}); '
                      f'logging to {fallback} instead. Training goes on.', logger='current', level=logging.WARNING)
            kwargs = dict(kwargs, log_dir=fallback)


def main(argv: list) -> int:
    folder, parent_pid = argv[0], int(argv[1])
    os.nice(10)  # where training and data loading use every core, they go first; the journal waits on disk
    # Ctrl+C reaches only the training (this process has a session of its own), and on SIGTERM (Slurm signals every
    # process of a job) the writer goes on: the training's handler sends the finish, or its death is noticed.
    # BOOTSTRAP ignores both; the writer runs on a thread so that swanlab.init installs no SIGINT handler of its
    # own (it does so only on the main thread).
    writer = threading.Thread(target=RunWriter(folder, parent_pid).run, name='swanlab-run-writer')
    writer.start()
    writer.join()
    return 0


