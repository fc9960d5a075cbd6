"""The training side of the writer process: start it early, hand it data, wait for it at the end.

:func:`start_writer` creates a journal (:mod:`swanlab_backend.handover.journal`) in a private
spool folder (:mod:`swanlab_backend.handover.spool`) and starts ``python -c BOOTSTRAP`` on it, in
a session of its own (Ctrl+C in the terminal reaches only the training). The
:class:`RemoteRun` it returns is what the backend logs to: each call is a conversion and
one write into the journal. The writer process
(:class:`~swanlab_backend.writer.run_writer.RunWriter`) owns the SwanLab run: ``swanlab.init``
runs there while the runner builds the model.

- **The end**: :meth:`RemoteRun.wait` waits until the writer has written everything
  (the backend calls it on every way out), with a progress line: containers and Slurm
  kill every process left when the training's main process ends.
- **A writer that dies** is replaced by a new one that continues from the first record
  it had not surely written; a writer that cannot start, or dies before it takes the
  run, leaves the writing to a thread of this process. Either way the user is told once.
- **A full or unusable disk**: records go to the writer through a pipe (to a thread:
  through memory), at most ``MAX_OVERFLOW_BYTES`` waiting; training waits beyond that,
  nothing is dropped.

A script or test that needs the data on the dashboard right away calls
:func:`wait_until_written` (``swanlab_backend.wait_until_written(log_dir)``).
"""
import logging
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from .. import media
from ..mmengine.environment import training_process
from ..warn_once import WarnOnce
from ..writer import run_lifecycle
from ..writer.run_writer import STATUS_FILE, RunWriter, read_status, starting_status, write_json, writer_lock
from . import spool
from .console_capture import ConsoleCapture
from .journal import JournalWriter, MemoryJournal, encode, wait_for
from .progress import ProgressReporter
from .writer_output import WriterOutput

CHECK_EVERY_S = 1.0
# Images wait in memory up to this size for a thread to write them: a 3 MB write into the page cache takes ~3 ms,
# a copy ~0.15 ms. Beyond it the training thread waits for room (back-pressure, a few ms), never drops.
MAX_QUEUED_IMAGE_BYTES = 128 * 2 ** 20
MAX_OVERFLOW_BYTES = 256 * 2 ** 20  # records waiting for the writer once the disk is full
MAX_REPLACEMENTS = 3  # writer processes started for one run after the first died; then a thread here
INFO_TIMEOUT_S = 120.0
PROGRESS_AFTER_S, PROGRESS_EVERY_S = 3.0, 10.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
REPLAY = 'python -m swanlab_backend.replay'
# The writer ignores the stop signals before anything else (it starts with them blocked, see _spawn), and
# skips the package's __init__, which imports MMEngine and torch (~2 s, ~300 MB): it needs neither.
BOOTSTRAP = ('import signal, sys, types; [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]; '
             'signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM)); '
             'package = types.ModuleType("swanlab_backend"); package.__path__ = [sys.argv[1]]; '
             'sys.modules["swanlab_backend"] = package; from swanlab_backend.writer.run_writer import main; '
             'main(sys.argv[2:])')
PACKAGE_FOLDER = osp.dirname(osp.dirname(osp.abspath(__file__)))  # swanlab_backend/, for the bootstrap
_told = WarnOnce()  # what this process has warned about already (the spool, journals left behind)


def start_writer() -> 'RemoteRun':
    """Starts a writer process (else a writer thread) on a new journal; the run starts with :meth:`RemoteRun.init`."""
    root, problems = spool.choose()
    if problems and _told.first('spool'):
        place = f'the journal goes to {root} instead' if root else 'the journal is kept in memory instead'
        print_log(f'SwanLab: not using the spool folder {"; ".join(problems)}; {place}. '
                  f'To choose, {spool.FIX}.', logger='current', level=logging.WARNING)
    _tell_about_journals_left_behind()
    journal = None
    if root is not None:
        try:
            journal = JournalWriter(spool.new_journal_folder(root))
        except OSError as e:
            print_log(f'SwanLab: cannot create a journal in {root} ({e}); it is kept in memory instead. '
                      f'To keep it on disk, {spool.FIX}.', logger='current', level=logging.WARNING)
    remote = RemoteRun(journal)
    if journal is None:
        remote.run_in_process('there is no spool folder', quiet=True)
        return remote
    try:
        remote.use_process(*_spawn(journal.folder))
        _note_starting_writer(journal.folder, remote.writer_pid)
    except OSError as e:
        remote.run_in_process(f'the writer process could not start ({e})')
    return remote


def _note_starting_writer(folder: str, pid: int) -> None:
    """The writer's status before it writes its own (Python takes a second to start there): a training killed
    meanwhile leaves a writer that :func:`pending_writers` still counts."""
    if not osp.exists(osp.join(folder, STATUS_FILE)):
        write_json(osp.join(folder, STATUS_FILE), starting_status(pid, os.getpid()))


def _spawn(folder: str, continuing: bool = False) -> Tuple[subprocess.Popen, WriterOutput]:
    if os.environ.get('SWANLAB_BACKEND_WRITER', 'process') == 'thread':
        raise OSError('SWANLAB_BACKEND_WRITER=thread')
    output = WriterOutput(folder)
    # Blocked signals are inherited: a Ctrl+C or SIGTERM that comes while Python starts there waits until the
    # writer ignores it (this thread gets its own as soon as the process exists).
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return subprocess.Popen([sys.executable, '-u', '-c', BOOTSTRAP, PACKAGE_FOLDER, folder, str(os.getpid()),
                                 *(['--continue'] if continuing else [])],
                                stdin=subprocess.PIPE, stdout=output.file, stderr=output.file,
                                start_new_session=True), output
    except OSError:
        output.file.close()
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Config:
    def __init__(self, run: 'RemoteRun'):
        self._run = run

    def update(self, values: Dict[str, Any]) -> None:
        self._run.send('config', dict(values))


class RemoteRun:
    """A SwanLab run as the training process sees it: ``log``, ``config.update``, ``define_metric``,
    ``save`` and ``finish`` go into the journal; ``id``, ``dir``, ``mode`` and ``url`` come back once
    the writer has started the run."""

    def __init__(self, journal: Optional[JournalWriter]):
        self._journal = journal
        self.folder = journal.folder if journal is not None else None
        self._pid = os.getpid()  # a forked DataLoader worker inherits this object (and our SIGTERM handler)
        self._process: Optional[subprocess.Popen] = None
        self._output: Optional[WriterOutput] = None  # what the writer process prints, shown here
        self._console: Optional[ConsoleCapture] = None
        self._progress: Optional[ProgressReporter] = None
        self._thread: Optional[threading.Thread] = None
        self._thread_writer: Optional[RunWriter] = None
        self._memory = MemoryJournal(MAX_OVERFLOW_BYTES)  # what a writer thread reads once the disk is full
        self._overflow: Any = None  # where records go once the disk is full: a _PipeSender or self._memory
        self._sent = self._replacements = 0
        self._next_check = time.monotonic() + CHECK_EVERY_S
        self._announced = self._finished = self._initialized = False
        self._final: Optional[tuple] = None  # (state, status) of a finished run this side announces
        self._last_status: dict = {}
        self._reported = WarnOnce()  # exception types told about already (the training and image threads send)
        self._checking = threading.Lock()  # the training, image and background threads all send
        self._sending = threading.RLock()  # reentrant: a signal handler that finishes the run may interrupt a send
        self.config = _Config(self)
        self._images: deque = deque()  # (record, bytes) for the image thread
        self._image_bytes = 0
        self._image_room = threading.Condition()
        self._image_thread: Optional[threading.Thread] = None
        self._spare: Dict[tuple, list] = {}  # written-out image buffers: fresh memory would cost page faults
        self._spare_bytes = 0

    @property
    def writer_pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    @property
    def in_process(self) -> bool:
        """True when the writer runs on a thread of this process (its process could not start)."""
        return self._thread is not None

    # ---- what the backend calls ------------------------------------------------------------------------------

    def init(self, init_kwargs: dict, reopen_id: Optional[str], new_run: dict, upload_timeout: float,
             max_image_side: int, run_id_file: Optional[str], console_prefix: Optional[str] = '',
             other_ranks_console: Optional[str] = None, alerts: Optional[dict] = None) -> None:
        """Starts the run; from now on this process's console goes into it too (``console_prefix`` before
        every line; None: not), with the other ranks' console files in ``other_ranks_console``; ``alerts``:
        the backend's checked alert options (:mod:`swanlab_backend.alert_options`)."""
        self._initialized = True
        self.send('init', dict(init_kwargs=init_kwargs, reopen_id=reopen_id, new_run=new_run,
                               upload_timeout=upload_timeout, max_image_side=max_image_side, run_id_file=run_id_file,
                               process=training_process(), alerts=alerts))
        if self.folder is not None:  # the iteration counts the writer's stall alert reads
            self._progress = ProgressReporter(self.folder, self._check_writer)
        if console_prefix is not None:
            self._console = ConsoleCapture(lambda stream, text: self.send('console', stream, text), console_prefix,
                                           other_ranks_console)
            self._console.start()

    def record_console(self, stream: str, text: str) -> None:
        """Puts ``text`` into the run's console log only (a traceback Python prints after the run is finished)."""
        if self._console is not None:
            self._console.record(stream, text)

    def log_numbers(self, data: Dict[str, float], step: int) -> None:
        """:meth:`log` for numbers only: the per-iteration path, with nothing to look for."""
        self.send('log_numbers', data, step)

    def log(self, data: dict, step: Optional[int] = None) -> None:
        data, size = self._copy_images(data)
        if size:
            self._queue_images(['log', data, step], size)
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
        self._end(['abandon'])

    def finish(self, state: str = 'success', error: Optional[str] = None) -> None:
        """Hands over the end of the run; :meth:`wait` waits until it is written, :meth:`announce_finished`
        then says where to see it (the writer says so itself if the run had not begun yet)."""
        if self._finished or os.getpid() != self._pid:
            return
        self._check_writer()
        info = self.info(timeout=0)
        self._final = (state, info) if info.get('id') else None
        self._announced = True  # the run's end is what is said now: by this side, or else by the writer
        self._end(['finish', state, error, self._final is None])

    def announce_finished(self) -> None:
        if self._final is not None:
            state, info = self._final
            status = self._status()  # a writer that took over runs a continuation run
            run_lifecycle.announce(_RunInfo(status if status.get('id') else info), info['mode'], finished=state)

    def send(self, *record: Any, size: int = 0) -> None:
        if self._finished or record[0] is None or os.getpid() != self._pid:
            return
        if time.monotonic() >= self._next_check:
            self._check_writer()
        record = list(record)
        with self._sending:
            overflow = self._overflow
            if overflow is None:
                try:
                    self._journal.append(record)
                    self._sent += 1
                    return
                except OSError as e:  # the disk is full (or gone): this record and the rest go another way
                    overflow = self._start_overflow(e)
                except (TypeError, ValueError) as e:  # not plain data: say so, never raise into training
                    self._report_once(record[0], e)
                    return
            self._sent += 1
        overflow.put(record, size)

    # ---- what comes back ---------------------------------------------------------------------------------------

    def info(self, timeout: Optional[float] = INFO_TIMEOUT_S) -> dict:
        """The writer's status (``phase``, and once ``running``: ``id``, ``dir``, ``mode``, ``url``)."""
        wait_for(lambda: self._status().get('phase') not in (None, 'ready') or not self._writer_alive(), timeout)
        return self._status()

    def _status(self) -> dict:
        """The writer's status, or the last one seen with the run in it (the writer deletes it at the end)."""
        if self._thread_writer is not None:
            status = dict(self._thread_writer.status)
        else:
            status = read_status(self.folder) if self.folder else {}
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

    def wait(self, stall_timeout: Optional[float] = None) -> bool:
        """Waits until the writer has written everything and exited, saying how far it is when that takes a
        while; a writer that dies meanwhile is replaced. False if it made no progress for ``stall_timeout``
        seconds, or a Ctrl+C stopped the wait."""
        started = last_change = time.monotonic()
        next_line, seen = started + PROGRESS_AFTER_S, None
        try:
            while self._writer_alive() or self._check_writer_now():
                now = time.monotonic()
                progress = (self._status().get('written'), _cpu_time(self.writer_pid))
                if progress != seen:
                    seen, last_change = progress, now
                if stall_timeout is not None and now - last_change > stall_timeout:
                    self._tell_still_writing(f'has made no progress for {stall_timeout:.0f} s')
                    return False
                if now >= next_line:
                    next_line = now + PROGRESS_EVERY_S
                    self._tell_progress(now - started)
                if self._output is not None:
                    self._output.relay()
                time.sleep(0.05)
        except KeyboardInterrupt:
            self._tell_still_writing('was still writing when Ctrl+C stopped the wait')
            return False
        self._close_output()
        if time.monotonic() - started >= PROGRESS_AFTER_S:
            print_log(f'SwanLab: all written ({time.monotonic() - started:.0f} s)', logger='current')
        return True

    def _tell_progress(self, seconds: float) -> None:
        status = self._status()
        left = max(0, self._sent - int(status.get('written') or 0))
        if status.get('phase') == 'finishing':
            what = 'finishing the run' + (' (uploading)' if status.get('mode') == 'online' else '')
        else:
            what = f'{left} records to go'
        print_log(f'SwanLab: waiting for the writer to write what was logged into the run: {what} '
                  f'({seconds:.0f} s); Ctrl+C stops waiting', logger='current')

    def _tell_still_writing(self, why: str) -> None:
        if self._process is not None:
            where = (f'it goes on in the background (pid {self._process.pid}); in a container or a Slurm step it '
                     f'is killed with the job, and `{REPLAY}` then writes what is left')
        else:
            where = f'what is left stays in {self.folder or "memory"}'
        print_log(f'SwanLab: the writer {why}; {where}', logger='current', level=logging.WARNING)

    # ---- the writer's health -----------------------------------------------------------------------------------

    def use_process(self, process: subprocess.Popen, output: Optional[WriterOutput] = None) -> None:
        self._close_output()
        self._process, self._output = process, output
        if isinstance(self._overflow, _PipeSender):
            self._overflow.retarget(process.stdin)

    def _writer_alive(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._process is not None and self._process.poll() is None

    def _check_writer(self) -> None:
        """Once a second: announce the run when it has started; replace a writer process that died."""
        if self._checking.acquire(blocking=False):
            try:
                self._check_writer_now()
            finally:
                self._checking.release()

    def _check_writer_now(self) -> bool:
        """True if a new writer took over from one that died."""
        self._next_check = time.monotonic() + CHECK_EVERY_S
        if self._output is not None:
            self._output.relay()
        status = self._status()
        if status.get('id') and not self._announced:
            self._announced = True
            run_lifecycle.announce(_RunInfo(status), status['mode'])
        if self._thread is not None or self._process is None or self._process.poll() is None:
            return False
        code = self._process.returncode
        if code == 0 or not osp.isdir(self.folder):  # it wrote everything (and deleted the journal)
            return False
        how = f'was killed by {signal.Signals(-code).name}' if code < 0 else f'exited with code {code}'
        if status.get('phase') in (None, 'ready') and not self._replacements:
            self.run_in_process(f'the writer process {how} before starting the run')
            return True
        self._replacements += 1
        self._announced = False  # the run goes on as a continuation run, except online
        continues = ('the same run' if status.get('mode') == 'online'
                     else 'a continuation run (the first is marked crashed)')
        if self._replacements <= MAX_REPLACEMENTS:
            try:
                self.use_process(*_spawn(self.folder, continuing=True))
                print_log(f'SwanLab: the writer process (pid {status.get("pid")}) {how}; a new one (pid '
                          f'{self._process.pid}) writes what it had not, into {continues}', logger='current',
                          level=logging.WARNING)
                return True
            except OSError as e:
                how = f'{how}, and no new one could start ({e})'
        self.run_in_process(f'the writer process {how}; what it had not written goes into {continues}',
                            continuing=True)
        return True

    def run_in_process(self, why: str, continuing: bool = False, quiet: bool = False) -> None:
        if not quiet:
            print_log(f'SwanLab: {why}; writing from a thread of the training process instead', logger='current',
                      level=logging.WARNING)
        with self._sending:
            if self._journal is None:
                self._overflow = self._memory
            elif isinstance(self._overflow, _PipeSender):
                self._overflow = self._overflow.move_into(self._memory)
        self._close_output()
        self._process = None
        self._thread_writer = RunWriter(self.folder, None, self._memory, continuing)
        self._thread = threading.Thread(target=self._thread_writer.run, name='swanlab-run-writer', daemon=True)
        self._thread.start()

    def _start_overflow(self, error: OSError) -> Any:
        how = 'in memory' if self._thread is not None else 'through a pipe'
        print_log(f'SwanLab: the spool folder {self.folder} cannot take more ({error.strerror or error}); what is '
                  f'logged from now on goes to the writer {how}, up to {MAX_OVERFLOW_BYTES >> 20} MB waiting, and is '
                  f'lost if the training is killed. Free space there, or {spool.FIX}.', logger='current',
                  level=logging.WARNING)
        self._overflow = self._memory if self._thread is not None else _PipeSender(self._process.stdin)
        return self._overflow

    def _report_once(self, kind: str, e: Exception) -> None:
        self._reported(type(e), print_log,  # once per kind, not once per step
                       f'SwanLab: could not hand {kind!r} to the writer ({type(e).__name__}: {e}); it is not logged, '
                       'nor are later ones that fail the same way', logger='current', level=logging.WARNING)

    # ---- images ------------------------------------------------------------------------------------------------

    def _queue_images(self, record: list, size: int) -> None:
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
            self.send(*record, size=size)
            with self._image_room:
                self._images.popleft()
                self._image_bytes -= size
                self._image_room.notify_all()
                if self._overflow is not None:
                    continue  # the pixels still wait to be sent: they are not spare
                for image in media.images_in(record[1]):
                    pixels = image['pixels']
                    if self._spare_bytes + pixels.nbytes <= MAX_QUEUED_IMAGE_BYTES // 2:
                        self._spare.setdefault((pixels.shape, pixels.dtype.str), []).append(pixels)
                        self._spare_bytes += pixels.nbytes

    def _copy_images(self, data: dict) -> Tuple[dict, int]:
        """``data`` with its images copied (the caller may draw into them again), and their size in bytes."""
        if not any(True for _ in media.images_in(data)):
            return data, 0
        size, copied = 0, {}
        for key, value in data.items():
            if media.is_image(value):
                value = dict(value, pixels=self._copy(value['pixels']))
                size += value['pixels'].nbytes
            elif isinstance(value, list):
                value = [dict(v, pixels=self._copy(v['pixels'])) if media.is_image(v) else v for v in value]
                size += sum(v['pixels'].nbytes for v in value if media.is_image(v))
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

    def _close_output(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None

    def _end(self, record: list) -> None:
        if self._finished or os.getpid() != self._pid:
            return
        if self._console is not None:  # what it printed until now goes into the run; what comes after, not
            self._console.stop()
        if self._progress is not None:
            self._progress.stop()
        if self._image_thread is not None:  # the images handed over so far go first
            self._queue_images([None], 0)
            self._image_thread.join()
        self.send(*record)
        self._finished = True
        if self._journal is not None:
            self._journal.close()
        if isinstance(self._overflow, _PipeSender):
            self._overflow.close()


class _PipeSender:
    """Sends records through the writer process's standard input, from a thread, once the disk is full; at most
    ``MAX_OVERFLOW_BYTES`` wait (``put`` waits beyond). A writer that dies is replaced: :meth:`retarget`."""

    def __init__(self, stream: Any):
        self._waiting = MemoryJournal(MAX_OVERFLOW_BYTES)
        self._stream, self._head = stream, None
        self._retargeted = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._send, name='swanlab-pipe', daemon=True)
        self._thread.start()

    def put(self, record: list, size: int = 0) -> None:
        self._waiting.put(record, size)

    def retarget(self, stream: Any) -> None:
        self._stream = stream
        self._retargeted.set()

    def move_into(self, memory: MemoryJournal) -> MemoryJournal:
        """Stops sending; what has not been sent goes into ``memory``, for a writer thread."""
        self._stream = None
        self._retargeted.set()
        self._thread.join(5)
        for record in ([self._head] if self._head is not None else []):
            memory.put(record)
        while (record := self._waiting.get(timeout=0)) is not None:
            memory.put(record)
        return memory

    def close(self) -> None:
        """After the last record: the writer reads to the end of the pipe."""
        self._closing = True

    def _send(self) -> None:
        while self._stream is not None:
            self._head = self._head if self._head is not None else self._waiting.get(timeout=0.1)
            if self._head is None:
                if self._closing:
                    break
                continue
            stream = self._stream
            if stream is None:
                return
            try:
                stream.write(b''.join(bytes(p) for p in encode(self._head)[0]))
                stream.flush()
                self._head = None
            except TypeError as e:
                print_log(f'SwanLab: could not hand {self._head[0]!r} to the writer ({e}); it is not logged',
                          logger='current', level=logging.WARNING)
                self._head = None
            except OSError:  # the writer died: wait for the one that replaces it
                self._retargeted.clear()
                if self._stream is stream:
                    self._retargeted.wait()
        try:
            if self._stream is not None:
                self._stream.close()
        except OSError:
            pass


def _proc_stat(pid: int) -> List[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first); raises ``OSError``."""
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()


def _cpu_time(pid: Optional[int]) -> Optional[int]:
    """The CPU time a process has used so far (clock ticks): a writer at work uses some."""
    try:
        fields = _proc_stat(pid)
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError, TypeError):
        return None


class _RunInfo:
    """What :func:`run_lifecycle.announce` reads of a run, from the writer's status."""

    def __init__(self, status: dict):
        from pathlib import Path
        self.dir, self.url = Path(status['dir']), status.get('url')


# ---- every writer of this user -------------------------------------------------------------------------------

def pending_writers(log_dir: Optional[str] = None) -> List[dict]:
    """Writers still at work, for runs in ``log_dir`` only if given. A writer that died while its training
    lives counts (another takes over); one that has not started its run yet counts only if its training is
    gone (the run is on its way; a live training's writer that waits for its run to begin is not pending)."""
    pending = []
    for folder in spool.journal_folders():
        status = read_status(folder)
        phase, writer, parent = status.get('phase'), _running(status.get('pid')), _running(status.get('parent'))
        if phase in (None, 'done') or not (writer or parent):
            continue
        if phase == 'ready' and parent:
            continue
        if log_dir is None or 'dir' not in status or _inside(status['dir'], log_dir):
            pending.append(status)
    return pending


def wait_until_written(log_dir: Optional[str] = None, timeout: Optional[float] = None) -> bool:
    """Waits until every writer process (of runs in ``log_dir``, if given) has written everything and
    exited: after it, the local dashboard shows all that was logged. False on timeout."""
    return wait_for(lambda: not pending_writers(log_dir), timeout, poll=0.1)


def journals_left_behind() -> List[str]:
    """Journals whose training and writer are both gone (killed together): :mod:`swanlab_backend.replay`
    writes them into their runs."""
    left = []
    for folder in spool.journal_folders():
        status = read_status(folder)
        parent = status.get('parent') or _pid_in_name(folder)
        if status.get('phase') == 'done' or _running(status.get('pid')) or _running(parent):
            continue
        if not any(name.startswith('segment-') for name in _names(folder)):
            continue
        lock = writer_lock(folder) if osp.isdir(folder) else None
        if lock is not None:  # no writer holds it
            os.close(lock)
            left.append(folder)
    return left


def _tell_about_journals_left_behind() -> None:
    if not _told.first('left behind'):
        return
    try:
        left = journals_left_behind()
    except OSError:
        return
    if left:
        print_log(f'SwanLab: {len(left)} journal(s) of trainings killed together with their writer wait in '
                  f'{osp.dirname(left[0])}; write them into their runs with: {REPLAY}', logger='current',
                  level=logging.WARNING)


def _names(folder: str) -> List[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _pid_in_name(folder: str) -> Optional[int]:
    head = osp.basename(folder).split('-', 1)[0]
    return int(head) if head.isdigit() else None


def _inside(path: str, folder: str) -> bool:
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _running(pid: Optional[int]) -> bool:
    """True for a live process (a zombie, finished but not yet reaped by its parent, is not)."""
    if not pid:
        return False
    try:
        return _proc_stat(pid)[0] != 'Z'
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
