"""The one place that talks to SwanLab: it owns the run and writes what the journal brings.

It runs in a writer process of its own (:mod:`swanlab_backend.handover.writer_process` starts
``python -c BOOTSTRAP FOLDER PARENT_PID [--continue]``), so that ``swanlab.init``,
SwanLab's writer threads, PNG encoding and the final upload never take the training's
time or GIL; if that process cannot start, the same loop runs on a thread of the training.

Records (lists, in journal order): ``['init', spec]``, ``['log', data, step]`` (and
``['log_numbers', data, step]``, numbers only), ``['console', stream, text]`` (the training's),
``['config', dict]``, ``['define_metric', key, kwargs]``, ``['save', path, kwargs]``,
``['finish', state, error, announce]`` and ``['abandon']`` (no run was needed). When
the training process disappears without a ``finish`` (SIGKILL, out of memory), the
writer writes everything that reached the journal and finishes the run as crashed.

Next to the journal: ``status.json`` tells the training side (and
:func:`~swanlab_backend.handover.writer_process.wait_until_written`) how far it got, with the
``cursor`` before which SwanLab has surely written everything; ``run.json`` keeps how
the run was started (init arguments, config, metric definitions); ``progress.json``, the training's
iteration counts (:mod:`swanlab_backend.handover.progress`), feeds the stall alert
(:mod:`swanlab_backend.writer.alerts`). With ``status.json`` and ``run.json``, a
writer started with ``--continue`` takes over from one that died: the same run online,
a continuation run locally and offline (the first one marked crashed), and
:mod:`swanlab_backend.replay` writes a journal whose training and writer both died.
"""
import atexit
import fcntl
import json
import logging
import os
import os.path as osp
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from typing import Any, NoReturn, Optional

from mmengine.logging import print_log

from .. import swanlab_options
from ..handover.journal import BadRecord, JournalReader, read_frame
from ..handover.writer_output import prepare_writer_output
from ..images import MAX_IMAGE_SIDE
from ..media import images_in, to_swanlab
from ..warn_once import WarnOnce
from . import run_lifecycle
from .alert_rules import is_finite_number
from .alerts import Alerts
from .local_store import check_stops_once_per_batch
from .training_view import ConsoleRelay, describe_training

STATUS_FILE, SETUP_FILE, LOCK_FILE = 'status.json', 'run.json', 'lock'
POLL_S = 0.02
STATUS_EVERY_S = 0.25
# SwanLab writes what it took from its queue within about a second: a cursor this old is safely written.
CURSOR_LAG_S = 2.0
# SwanLab queues what run.log gets for its own writer thread, which stores values far slower than the journal
# reads them: reading ahead of it would only move the backlog from disk into this process's memory.
# An image event holds its encoded PNG (megabytes for a COCO-sized photo): fewer of them may wait.
MAX_SWANLAB_BACKLOG, MAX_SWANLAB_IMAGE_BACKLOG = 1000, 4
KILLED = ('the training process ended without finishing the run (it was killed: SIGKILL, out of memory, '
          'or the node went down); everything it logged before is kept')


def read_status(folder: str) -> dict:
    return _read_json(osp.join(folder, STATUS_FILE))


def _read_json(path: str) -> dict:
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def starting_status(pid: int, parent: int) -> dict:
    """``status.json`` of a writer that has not yet written anything."""
    return {'pid': pid, 'parent': parent, 'phase': 'ready', 'written': 0}


def write_json(path: str, value: dict) -> None:
    try:
        with open(path + '.tmp', 'w') as f:
            json.dump(value, f)
        os.replace(path + '.tmp', path)
    except (OSError, TypeError, ValueError):
        pass  # a full disk or a folder that is gone: the reader keeps what it saw last


def writer_lock(folder: str) -> Optional[int]:
    """Takes the journal's lock (one writer per journal); None if another writer holds it."""
    fd = os.open(osp.join(folder, LOCK_FILE), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class RunWriter:
    """Reads the journal in ``folder`` and writes it into one SwanLab run.

    Args:
        folder (str, optional): The journal's folder; deleted once everything is
            written. None when there is no disk journal, only ``overflow``.
        parent_pid (int, optional): The training process; when it is gone without a
            ``finish`` record, the run is finished as crashed. None on a thread of
            the training process itself.
        overflow (optional): Where records come once the disk is full (``get``,
            ``has_data``): a pipe from the training, or memory in the same process.
        continuing (bool): Take over from a writer that died (see the module's docstring).
    """

    def __init__(self, folder: Optional[str], parent_pid: Optional[int] = None, overflow: Any = None,
                 continuing: bool = False):
        self.folder, self._parent_pid, self._overflow, self._continuing = folder, parent_pid, overflow, continuing
        self._run: Any = None
        self._alerts: Optional[Alerts] = None
        self.status = starting_status(os.getpid(), parent_pid or os.getpid())
        self._setup: dict = {'init': None, 'config': {}, 'metrics': []}
        self._console = ConsoleRelay()
        self._max_image_side = MAX_IMAGE_SIDE
        self._upload_timeout = run_lifecycle.UPLOAD_TIMEOUT_S
        self._reported = WarnOnce()  # exception types told about already
        self._samples: deque = deque()  # (time, position, written) when SwanLab had taken all it was handed
        self._next_status = 0.0
        self._from_overflow = folder is None

    def run(self) -> None:
        """Writes records as they come until the run is finished or abandoned, then cleans up."""
        try:
            lock = writer_lock(self.folder) if self.folder else None
        except OSError as e:  # the journal is gone: an earlier writer wrote it all
            print_log(f'SwanLab: no journal to write in {self.folder} ({e.strerror})', logger='current',
                      level=logging.WARNING)
            return
        if self.folder and lock is None:
            print_log(f'SwanLab: another writer is at work on {self.folder}', logger='current', level=logging.WARNING)
            return
        reader, complete = None, False
        try:
            start = self._take_over() if self._continuing else (0, 0)
            reader = JournalReader(self.folder, start, self._bad_record) if self.folder else None
            self._save_status()
            self._write_all(reader)
            complete = True
        finally:
            if reader is not None:
                reader.close()
            self.status['phase'] = 'done' if complete else 'broken'  # broken: the journal stays for another writer
            self._save_status()
            if complete and self.folder:
                shutil.rmtree(self.folder, ignore_errors=True)
            if lock is not None:
                os.close(lock)

    def _write_all(self, reader: Optional[JournalReader]) -> None:
        while True:
            handled = 0
            for record in self._available(reader):
                handled += 1
                if not self._handle(record):
                    return
                self.status['written'] += 1
                self._tick(reader)
            if handled:
                continue
            self._tick(reader)
            if self._parent_gone():
                for record in self._available(reader, last=True):  # what arrived before it went
                    if not self._handle(record):
                        return
                if reader is not None and reader.unread_tail_bytes():
                    self._bad_record(reader.position, 'the last record was cut short when the training was killed')
                self._finish('crashed', KILLED, announce=True)
                return
            if not self._from_overflow:
                time.sleep(POLL_S)

    def _available(self, reader: Optional[JournalReader], last: bool = False):
        """The records there are now: from the disk until the training's first record in ``overflow``
        (it stops writing to the disk before sending that one), then from ``overflow``."""
        if not self._from_overflow:
            yield from reader.records()
            if self._overflow is None or not self._overflow.has_data():
                return
            yield from reader.records()  # the disk is final now
            self._from_overflow = True
        while self._overflow is not None:
            record = self._overflow.get(timeout=0 if last else POLL_S)
            if record is None:
                return
            yield record

    def _parent_gone(self) -> bool:
        return self._parent_pid is not None and os.getppid() != self._parent_pid

    def _handle(self, record: Any) -> bool:
        """Writes one record; False once the run is over."""
        if not (isinstance(record, list) and record and isinstance(record[0], str)):
            self._bad_record(None, f'not a record: {type(record).__name__}')
            return True
        kind, args = record[0], record[1:]
        try:
            if kind == 'abandon':
                return False
            if kind == 'finish':
                self._finish(*args)
                return False
            if kind == 'init':
                if self._run is None:  # a continuing writer has started the run already
                    self._init(*args)
            else:
                self._remember(kind, args)
                if self._run is not None:
                    self._write(kind, args)
        except Exception as e:  # one bad value must not end the run
            self._report_once(e)
        return True

    def _write(self, kind: str, args: list) -> None:
        if kind in ('log', 'log_numbers'):
            data, step = args
            finite = {k: v for k, v in data.items() if is_finite_number(v)}  # NaN and Inf: alerted, never plotted
            if finite:
                has_images = any(True for _ in images_in(finite))
                self._wait_for_swanlab(MAX_SWANLAB_IMAGE_BACKLOG if has_images else MAX_SWANLAB_BACKLOG)
                self._run.log({k: to_swanlab(v, self._max_image_side) for k, v in finite.items()}, step=step)
            if self._alerts is not None:
                self._alerts.logged(data, step)
        elif kind == 'console':
            self._console.write(*args)
            if self._alerts is not None:
                self._alerts.console(args[1])
        elif kind == 'config':
            self._run.config.update(args[0])
        elif kind == 'define_metric':
            self._run.define_metric(args[0], **args[1])
        elif kind == 'save':
            self._run.save(args[0], **args[1])
        else:
            raise ValueError(f'unknown journal record {kind!r}')

    def _remember(self, kind: str, args: list) -> None:
        """What a continuing writer needs to start the run again: the config and the metric definitions."""
        if kind == 'config':
            self._setup['config'].update(args[0])
        elif kind == 'define_metric':
            self._setup['metrics'].append(list(args))
        else:
            return
        self._save_setup()

    def _swanlab_backlog(self) -> Optional[int]:
        try:  # SwanLab's private queue: without it (another SwanLab version), no pacing, nothing else changes
            return self._run._components.emitter.queue.qsize()
        except AttributeError:
            return None

    def _wait_for_swanlab(self, limit: int) -> None:
        while (self._swanlab_backlog() or 0) > limit:
            time.sleep(POLL_S)

    def _tick(self, reader: Optional[JournalReader]) -> None:
        """A few times a second: move the cursor, drop the segments behind it, tell the training side."""
        now = time.monotonic()
        if now < self._next_status:
            return
        self._next_status = now + STATUS_EVERY_S
        try:
            if self._alerts is not None:
                self._alerts.tick()
        except Exception as e:  # an alert must never stop the writing
            self._report_once(e)
        if reader is not None and self._run is not None and not self._from_overflow:
            if self._swanlab_backlog() == 0:
                self._samples.append((now, reader.position, self.status['written']))
            cursor = None
            while self._samples and self._samples[0][0] <= now - CURSOR_LAG_S:
                _, cursor, written = self._samples.popleft()
            if cursor is not None:
                self.status.update(cursor=list(cursor), cursor_written=written)
                reader.forget_before(cursor[0])
        self._save_status()

    # ---- start, take over, finish ----------------------------------------------------------------------------

    def _init(self, spec: dict, continued_from: Optional[dict] = None) -> None:
        self._setup['init'] = spec
        self._save_setup()
        self._max_image_side = spec.get('max_image_side', self._max_image_side)
        self._upload_timeout = spec.get('upload_timeout', self._upload_timeout)
        describe_training(spec.get('process') if self._parent_pid is not None else None)
        check_stops_once_per_batch()
        self._run = start_run_somewhere(spec['init_kwargs'], spec.get('reopen_id'), self._upload_timeout,
                                        spec.get('new_run') or {})
        self._console.attach(self._run)
        if self._run is None:
            self.status['phase'] = 'failed'
        else:
            self.status.update(phase='running', id=self._run.id, dir=str(self._run.dir), mode=self._run.mode,
                               url=getattr(self._run, 'url', None) if self._run.mode == 'online' else None)
            if continued_from:
                self.status['continues'] = {k: continued_from.get(k) for k in ('id', 'dir', 'mode', 'pid')}
            if spec.get('run_id_file'):
                remember_run_id(spec['run_id_file'], self._run.id)
            self._start_alerts(spec)
        self._save_status()

    def _start_alerts(self, spec: dict) -> None:
        kwargs = spec['init_kwargs']
        try:
            self._alerts = Alerts(spec.get('alerts'), self._run,
                                  kwargs.get('experiment_name') or kwargs.get('name') or self._run.id, self.folder,
                                  lambda: not self._parent_gone(), (spec.get('process') or {}).get('pid'))
        except Exception as e:  # the run goes on without alerts
            self._report_once(e)

    def _take_over(self) -> tuple:
        """Starts the run of a writer that died; returns where in the journal to go on."""
        old, setup = read_status(self.folder), _read_json(osp.join(self.folder, SETUP_FILE))
        self.status['parent'] = self._parent_pid or old.get('parent') or os.getpid()
        if not setup.get('init') or old.get('phase') not in ('running', 'finishing'):
            return 0, 0  # it died before the run began: this writer starts it from the journal's first record
        spec, kwargs = dict(setup['init']), dict(setup['init']['init_kwargs'])
        if old.get('mode') == 'online' and old.get('id'):
            spec.update(reopen_id=old['id'], new_run={})  # the cloud reopens the same run
        else:
            name_key = 'name' if 'name' in kwargs and 'experiment_name' not in kwargs else 'experiment_name'
            spec.update(reopen_id=None, new_run={
                name_key: f'{kwargs.get(name_key) or "run"}-continued',
                'description': f'continues {old.get("dir")}, whose writer process (pid {old.get("pid")}) died'})
        self._init(spec, continued_from=old)
        self.status['written'] = old.get('cursor_written') or 0  # what the training side measures progress by
        self._setup.update(config=dict(setup.get('config') or {}), metrics=list(setup.get('metrics') or []))
        self._save_setup()
        if self._run is not None:
            for kind, args in (('config', [self._setup['config']]),
                               *(('define_metric', m) for m in self._setup['metrics'])):
                try:
                    self._write(kind, args)
                except Exception as e:
                    self._report_once(e)
            if old.get('mode') != 'online':
                self._mark_crashed(old)
        return tuple(old.get('cursor') or (0, 0))

    def _mark_crashed(self, old: dict) -> None:
        """A local run whose writer died stays "running" in SwanLab's record: mark it crashed, saying why."""
        why = (f'the writer process (pid {old.get("pid")}) died; the run goes on as experiment '
               f'{self._run.id} in {self._run.dir}')
        try:
            if old.get('mode') == 'local':
                from swanboard.db.models import Experiment
                Experiment.get(run_id=osp.basename(old['dir'])).update_status(-1)
            with open(osp.join(old['dir'], 'console', 'error.log'), 'a', encoding='utf-8') as f:
                f.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {why}\n')
        except Exception as e:
            print_log(f'SwanLab: could not mark {old.get("dir")} crashed ({type(e).__name__}: {e})',
                      logger='current', level=logging.WARNING)

    def _finish(self, state: str, error: Optional[str], announce: bool) -> None:
        if self._run is None:
            return
        self.status['phase'] = 'finishing'
        self._save_status()
        try:
            if self._alerts is not None:
                self._alerts.finish(state, error)
        except Exception as e:  # the run is finished all the same
            self._report_once(e)
        try:
            run_lifecycle.finish_run(self._run, state, error, self._upload_timeout)
        except Exception as e:
            print_log(f'SwanLab: could not finish the run ({type(e).__name__}: {e})', logger='current',
                      level=logging.WARNING)
        if announce:
            run_lifecycle.announce(self._run, self._run.mode, finished=state)

    # ---- reporting -------------------------------------------------------------------------------------------

    def _bad_record(self, position: Any, why: str) -> None:
        where = f' at {position[1]} of segment {position[0]}' if position else ''
        print_log(f'SwanLab: a journal record{where} in {self.folder} could not be read ({why}); it is skipped',
                  logger='current', level=logging.WARNING)

    def _report_once(self, e: Exception) -> None:
        self._reported(type(e), print_log,  # once per kind, not once per step
                       f'SwanLab: a logging call failed and was dropped ({type(e).__name__}: {e}); '
                       'further failures of this kind are not reported', logger='current', level=logging.WARNING)

    def _save_status(self) -> None:
        if self.folder:
            write_json(osp.join(self.folder, STATUS_FILE), self.status)

    def _save_setup(self) -> None:
        if self.folder:
            write_json(osp.join(self.folder, SETUP_FILE), self._setup)


class PipeFrames:
    """The records that come through this process's standard input once the training's disk is full."""

    def __init__(self, stream: Any):
        self._queue: 'queue.Queue' = queue.Queue(maxsize=64)  # the pipe holds the rest: back-pressure
        self._stream = stream
        threading.Thread(target=self._read, name='swanlab-pipe', daemon=True).start()

    def has_data(self) -> bool:
        return not self._queue.empty()

    def get(self, timeout: float) -> Any:
        try:
            return self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _read(self) -> None:
        try:
            while (record := read_frame(self._stream)) is not None:
                self._queue.put(record)
        except (BadRecord, OSError) as e:
            print_log(f'SwanLab: the pipe from the training broke ({e}); what came after is lost',
                      logger='current', level=logging.WARNING)


def start_run_somewhere(kwargs: dict, reopen_id: Optional[str], upload_timeout: float, new_run: dict) -> Any:
    """Starts the run; if its log dir cannot be used, in a temporary one; else tracking is off (None)."""
    for attempt in range(2):
        try:
            return run_lifecycle.start_run(kwargs, reopen_id, upload_timeout, new_run, announce_start=False)
        except Exception as e:
            if attempt or isinstance(e, swanlab_options.OptionError):  # another log dir would not help
                print_log(f'SwanLab tracking is off for this run: {type(e).__name__}: {e}. Training goes on.',
                          logger='current', level=logging.WARNING)
                return None
            fallback = tempfile.mkdtemp(prefix='swanlog-')
            print_log(f'SwanLab could not start a run in {kwargs["log_dir"]} ({type(e).__name__}: {e}); '
                      f'logging to {fallback} instead. Training goes on.', logger='current', level=logging.WARNING)
            kwargs = dict(kwargs, log_dir=fallback)


def main(argv: list) -> NoReturn:
    folder, parent_pid, continuing = argv[0], int(argv[1]), '--continue' in argv[2:]
    os.nice(10)  # where training and data loading use every core, they go first; the journal waits on disk
    # Ctrl+C reaches only the training (this process has a session of its own), and on SIGTERM (Slurm signals every
    # process of a job) the writer goes on: the training's handler sends the finish, or its death is noticed.
    # BOOTSTRAP ignores both; the writer runs on a thread so that swanlab.init installs no SIGINT handler of its
    # own (it does so only on the main thread).
    # Unbuffered: a buffered reader's lock, held by the blocked reading thread, would abort the exit.
    stdin = open(sys.stdin.fileno(), 'rb', buffering=0, closefd=False)
    # No model here: without torch, MMEngine's logger takes rank 0 (its path for a Python without torch); importing
    # it (for the logger's rank and CUDA device) made this process seconds slower to start and to exit.
    sys.modules.setdefault('torch', None)
    prepare_writer_output()
    writer = RunWriter(folder, parent_pid, PipeFrames(stdin), continuing)
    thread = threading.Thread(target=writer.run, name='swanlab-run-writer')
    thread.start()
    thread.join()
    exit_without_teardown(0 if writer.status['phase'] == 'done' else 1)  # else the training starts another writer


def exit_without_teardown(code: int) -> NoReturn:
    """Python's own exit (threads joined, exit handlers run, streams flushed) without the teardown of every
    module after it: the training waits for this process to end, and that teardown writes nothing."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def remember_run_id(path: str, run_id: str) -> None:
    """Keeps ``run_id`` in ``path`` (:func:`swanlab_backend.mmengine.run_links.run_id_file`), for a resumed
    training or a test to find."""
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(run_id)
    except OSError as e:
        print_log(f'SwanLab: could not keep the run id in {path} ({e}); a resumed training will start a new '
                  'experiment', logger='current', level=logging.WARNING)
