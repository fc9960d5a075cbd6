"""Training side: one backend's run, from the writer's start to the run's end, in named states.

A :class:`RunSession` owns what a run needs in the training process: the writer
process (started when the backend is first used, so that SwanLab starts while the
runner builds its model), the background thread that draws and hashes off the
training thread, the checkpoint ledger and another rank's console hand-over. The
backend decides what to log; the session decides whether there is a run to log
into, and how it ends.
"""
import atexit
import enum
import logging
import os
import os.path as osp
import weakref
from typing import Any, Callable, List, Optional, Tuple

from mmengine.dist import get_rank
from mmengine.logging import print_log

from ..alert_options import check_alerts
from ..handover.background import BackgroundWorker
from ..handover.console_capture import ConsoleCapture, RankConsoleFile
from ..handover.writer_process import RemoteRun, start_writer
from . import run_exits, run_links
from .checkpoints import RunLedger
from .environment import run_environment


class SessionState(enum.Enum):
    NOT_STARTED = 'not started'  # no phase has begun: the writer may still be starting
    TRAINING = 'training'  # train() began and has not ended: a run finished now has crashed
    OPEN = 'open'
    KEPT_OPEN = 'kept open for a test'  # train() ended; MMEngine's close() after it only flushes
    FINISHED = 'finished'  # also on a rank other than 0, which has no run


LIVE = (SessionState.TRAINING, SessionState.OPEN, SessionState.KEPT_OPEN)
CONSOLE_CHOICES = ('rank0', 'all', 'off')


class RunSession:
    """The run of one backend. ``options``: the backend's arguments that shape the run (``init_kwargs``,
    ``console``, ``close_timeout``, ``upload_timeout``, ``wait_on_close``, ``max_image_side``,
    ``upload_checkpoints``, ``max_upload_mb``, ``save_dir``, ``alerts``)."""

    def __init__(self, **options: Any):
        self._options = options
        self.state = SessionState.NOT_STARTED
        self.run: Optional[RemoteRun] = None
        self.ledger: Optional[RunLedger] = None
        self.test_step: Optional[int] = None  # a test-only run: the tested checkpoint's iteration
        self.background = BackgroundWorker()
        self._held: Optional[List[Tuple[Callable, tuple]]] = []  # sent once the first curve exists; then None
        self._writer = start_writer() if get_rank() == 0 else None
        if self._writer is not None:
            weakref.finalize(self, self._writer.release)  # a backend dropped unclosed: finish or let go

    @staticmethod
    def check_options(**options: Any) -> dict:
        """``options``, once they are known to work (a ``ValueError`` naming the fix, before training)."""
        if options['console'] not in CONSOLE_CHOICES:
            raise ValueError(f"SwanlabVisBackend: console takes one of {list(CONSOLE_CHOICES)}, not "
                             f"{options['console']!r}")
        unknown = set(options['upload_checkpoints']) - {'best', 'last'}
        if unknown:
            raise ValueError(f"SwanlabVisBackend: upload_checkpoints takes 'best' and/or 'last', not {sorted(unknown)}")
        return dict(options, alerts=check_alerts(options.get('alerts')))

    @property
    def live(self) -> bool:
        """There is a run to log into."""
        return self.run is not None and self.state in LIVE

    # ---- start ---------------------------------------------------------------------------------------------

    def start(self, runner: Any, phase: Optional[str], checkpoint_meta: dict) -> bool:
        """Starts the run as ``runner``'s ``phase`` begins (``None``: a first logging call); True if it did."""
        if self.state is not SessionState.NOT_STARTED:
            if phase == 'train' and self.state in (SessionState.OPEN, SessionState.KEPT_OPEN):
                self.state = SessionState.TRAINING  # the same runner trains again
            return False
        if get_rank() != 0:
            self.state = SessionState.FINISHED
            if self._writer is not None:  # built before the process group: this rank's writer is not needed
                self._writer.abandon()
            self._hand_over_console(runner)
            return False
        if self._writer is None:
            return False
        self.state = SessionState.TRAINING if phase == 'train' else SessionState.OPEN
        options, kwargs, run_info = self._options, dict(self._options['init_kwargs']), run_environment()
        kwargs.setdefault('log_dir', self._default_log_dir())
        if not (kwargs.get('experiment_name') or kwargs.get('name')) and run_links.config_stem(runner):
            kwargs['experiment_name'] = run_links.config_stem(runner)
        test_only = phase == 'test' and run_links.is_test_only(runner)
        if test_only:
            reopen_id, new_run, self.test_step = run_links.tie_test_to_training(runner, kwargs, run_info,
                                                                                checkpoint_meta)
        else:
            reopen_id, new_run = run_links.continue_resumed(runner, kwargs, run_info), {}
        run_exits.finish_others(self)  # the runs of runners before this one, in a sweep or a notebook
        self.run = self._writer
        every_rank = options['console'] == 'all' and getattr(runner, 'log_dir', None)
        self.run.init(kwargs, reopen_id, new_run, options['upload_timeout'], options['max_image_side'],
                      None if test_only else run_links.run_id_file(runner),
                      console_prefix=None if options['console'] == 'off' else '[rank 0] ' if every_rank else '',
                      other_ranks_console=runner.log_dir if every_rank else None, alerts=options['alerts'])
        if not test_only and getattr(runner, 'work_dir', None):
            self.ledger = RunLedger(runner.work_dir, self.run, self.background.submit,
                                    set(options['upload_checkpoints']), options['max_upload_mb'])
        run_exits.finish_at_exit(self)
        self.run.config.update(run_info)
        return True

    def _hand_over_console(self, runner: Any) -> None:
        """A rank other than 0 with ``console='all'``: its console goes to rank 0's run through a file."""
        folder = getattr(runner, 'log_dir', None)
        if self._options['console'] != 'all' or not folder:
            return
        files = RankConsoleFile(folder, get_rank())
        capture = ConsoleCapture(files, f'[rank {get_rank()}] ')
        capture.start()

        def end() -> None:  # at this process's exit
            capture.stop()
            files.end()  # rank 0 waits for this before its last read
        atexit.register(end)

    def _default_log_dir(self) -> str:
        if os.environ.get('SWANLAB_LOG_DIR'):
            return os.environ['SWANLAB_LOG_DIR']
        save_dir = osp.abspath(self._options['save_dir'] or '.')
        if osp.basename(save_dir) == 'vis_data':  # <work_dir>/<timestamp>/vis_data
            return osp.join(osp.dirname(osp.dirname(save_dir)), 'swanlog')
        return osp.join(save_dir, 'swanlog')

    # ---- sending, in order ---------------------------------------------------------------------------------

    def submit_after_curves(self, fn: Callable, *args: Any) -> None:
        """Holds texts and pictures of step 0 (the config text, the dataset card) until the first curve has been
        logged: the local dashboard shows charts in the order they were created, and a person looks for the
        curves first."""
        if self._held is None:
            self.background.submit(fn, *args)
        else:
            self._held.append((fn, args))

    def log_built(self, build: Callable[[], dict], step: int) -> None:
        """Logs what ``build()`` returns (on the background thread, where drawing costs training nothing)."""
        data = build()
        if data:  # also while finishing, when what was held until the first curve goes out
            self.run.log(data, step=step)

    def curve_logged(self) -> None:
        held, self._held = self._held or [], None
        for fn, args in held:
            self.background.submit(fn, *args)

    # ---- end -----------------------------------------------------------------------------------------------

    def training_ended(self) -> None:
        """``train()`` returned: the run stays open for a ``test()`` that may follow (:class:`SwanlabHook`)."""
        if self.state in LIVE:
            self.state = SessionState.KEPT_OPEN

    def close(self) -> None:
        """MMEngine's ``close()``: right after ``train()`` only a flush; else the run's end, as a success."""
        if self.state is SessionState.KEPT_OPEN:
            self.state = SessionState.OPEN
            self.background.flush(self._options['close_timeout'])
            return
        self.finish('success')

    def finish(self, state: str, error: Optional[str] = None, close_timeout: Optional[float] = None) -> None:
        """Hands over what is pending and the end of the run as ``state``, in bounded time (idempotent)."""
        if self.state is SessionState.FINISHED:
            return
        if self.state is SessionState.TRAINING and state == 'success':  # the caller caught what train() raised
            state, error = 'crashed', 'runner.train() raised before the training ended (the caller caught it)'
        self.state = SessionState.FINISHED
        run_exits.forget(self)
        close_timeout = self._options['close_timeout'] if close_timeout is None else close_timeout
        if self.run is None:
            if self._writer is not None:
                self._writer.abandon()
            return
        self.curve_logged()  # a run without a single curve still gets its config text
        if not self.background.close(close_timeout):
            print_log(f'SwanLab: drawing or hashing still pending after {close_timeout:.0f} s was dropped',
                      logger='current', level=logging.WARNING)
        self.run.finish(state, error)
        if self._options['wait_on_close'] or self.run.in_process:
            # Online, finishing uploads for up to upload_timeout: that is progress too.
            self.run.wait(stall_timeout=max(close_timeout, self._options['upload_timeout'] + 10))
        else:
            print_log(f'SwanLab: the writer process (pid {self.run.writer_pid}) finishes writing in the background '
                      '(wait_on_close=False); swanlab_backend.wait_until_written() waits for it', logger='current')
        self.run.announce_finished()

    def record_console(self, stream: str, text: str) -> None:
        """Puts ``text`` into the run's console log without printing it (run_exits: a crash's traceback,
        which Python prints only after the run has been finished)."""
        if self.live:
            self.run.record_console(stream, text)
