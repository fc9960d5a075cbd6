"""``SwanlabVisBackend``: SwanLab experiment tracking for MMEngine runners."""
import atexit
import logging
import os
import os.path as osp
import time
import weakref
from typing import Any, Callable, Optional, Sequence, Union

from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.registry import VISBACKENDS
from mmengine.visualization.vis_backend import BaseVisBackend, force_init_env

from . import media, run_lifecycle, run_links
from .background import BackgroundWorker
from .checkpoints import RunLedger
from .config_logging import config_text, flatten_config
from .console_capture import ConsoleCapture, RankConsoleFiles
from .environment import run_environment
from .images import MAX_IMAGE_SIDE, to_uint8_image
from .insights import SwanlabInsightsHook
from .metrics import KeyMapper, ScalarConverter
from .registration import keep_names
from .runner_follower import RunnerFollower
from .runner_link import ensure_swanlab_hook, find_runner, training_progress
from .swanlab_options import plain_options
from .validation import BACKEND_NAMES, validate_init_kwargs
from .writer_process import RemoteRun, start_writer

MAX_TEST_IMAGES_PER_KEY = 50
CONSOLE_CHOICES = ('rank0', 'all', 'off')


@VISBACKENDS.register_module(name=list(BACKEND_NAMES), force=True)
class SwanlabVisBackend(BaseVisBackend, RunnerFollower):
    """SwanLab visualization backend, for configs and for scripts.

    Train scalars go to ``train/*`` at step = iteration, validation metrics to
    ``val/*`` at the iteration where validation ran (with ``val/epoch`` for
    epoch-based loops), test metrics to ``test/*``; the config is logged as
    searchable hyper-parameters plus its full text, images in RGB with a
    caption. Only global rank 0 creates a run, when the runner's first phase
    begins (a test-only run is tied to the training it tests:
    :mod:`swanlab_backend.run_links`), and nothing here raises into training.

    SwanLab itself runs in a writer process of its own, started with the
    backend (:mod:`swanlab_backend.writer_process`): a logging call is a
    conversion and one write to a journal on disk, and the writer writes while
    the training goes on. ``close()``, and every other way out (an exception,
    Ctrl+C, SIGTERM), waits until it has written everything, so that the run is
    complete when the training process exits, also in a container or a Slurm
    step; a killed training's run is finished by the writer as crashed.

    Without an API key the run is written for the local dashboard
    (``swanlab watch <log_dir>``); with one (``SWANLAB_API_KEY`` or
    ``swanlab login``) it goes online, falling back to offline logging when
    the cloud cannot be reached (:mod:`swanlab_backend.run_lifecycle`).

    Examples:
        >>> # in a config (the key line is custom_imports):
        >>> custom_imports = dict(imports=['swanlab_backend'], allow_failed_imports=False)
        >>> visualizer = dict(
        >>>     type='DetLocalVisualizer',
        >>>     vis_backends=[
        >>>         dict(type='LocalVisBackend'),
        >>>         dict(type='SwanlabVisBackend',
        >>>              init_kwargs=dict(project='mmdet', experiment_name='faster-rcnn')),
        >>>     ])
        >>> # in a script:
        >>> runner = Runner(model, work_dir='work_dirs/toy', ...,
        >>>                 visualizer=dict(type='Visualizer', vis_backends=[
        >>>                     dict(type='SwanlabVisBackend', init_kwargs=dict(project='toy'))]))

    Args:
        save_dir (str): Set by the Visualizer (``<work_dir>/<timestamp>/vis_data``).
        init_kwargs (dict, optional): Arguments of ``swanlab.init`` (``project``,
            ``experiment_name``/``name``, ``description``, ``tags``, ``group``,
            ``job_type``, ``mode``, ``log_dir``, ``workspace``, ``id``, ``resume``...).
            ``callbacks`` and ``settings``: dicts from a config (``dict(type='LarkCallback',
            webhook_url=...)``, ``dict(probe=dict(git=False))``) or objects from a script,
            built in the writer process (:mod:`swanlab_backend.swanlab_options`).
            Unknown keys or wrong types raise when the backend is built.
            ``log_dir`` defaults to ``$SWANLAB_LOG_DIR`` or ``<work_dir>/swanlog``,
            the experiment name to the config file's name.
        log_config_text (bool): Also log the full config text. Defaults to True.
        max_image_side (int): Longer images are downscaled to this. Defaults to 2048.
        close_timeout (float): Seconds :meth:`close` waits for drawing and
            hashing still in progress in this process, and for a writer that
            makes no progress. Defaults to 120.
        upload_timeout (float): Online, seconds the writer then waits for the
            cloud to take what is left; the run stays complete in its local
            record, and the warning prints ``swanlab sync <run dir>``. Defaults to 60.
        wait_on_close (bool): :meth:`close` returns only once the writer process has
            written everything (and uploaded it, within ``upload_timeout``).
            Defaults to True. False lets the training process exit at once and the
            writer finish alone: unsafe in containers (Docker, Kubernetes) and
            Slurm steps, which kill every process left when the main one ends.
        upload_checkpoints (Sequence[str]): Which checkpoints to save into the run
            with SwanLab's file saving: ``'best'`` (each new best), ``'last'`` (the
            last one when training ends). Defaults to none: the ledger
            (``checkpoints/ledger``, :mod:`swanlab_backend.checkpoints`) lists them all.
        max_upload_mb (float): Larger checkpoints are not uploaded (a warning says
            so). Defaults to 1024.
        insights (dict, optional): Arguments of a :class:`~swanlab_backend.insights.SwanlabInsightsHook`
            to add (prediction gallery, per-class results, confusion matrix, PR curves,
            dataset card); ``dict()`` for its defaults. Defaults to None (not added).
        console (str): Whose console the run's console log holds: ``'rank0'``, the
            training process of global rank 0 (what it prints, MMEngine's log lines,
            warnings, a crash's traceback), as SwanLab records the process that calls
            ``swanlab.init``; ``'all'``: every rank's, each line prefixed with
            ``[rank N]`` (the other ranks hand theirs over in files in the runner's
            log dir, ``console_rank<N>.*``: on several machines, a shared work dir);
            ``'off'``: none. Defaults to ``'rank0'``.
    """

    def __init__(self, save_dir: str, init_kwargs: Optional[dict] = None, log_config_text: bool = True,
                 max_image_side: int = MAX_IMAGE_SIDE, close_timeout: float = 120.0,
                 upload_timeout: float = run_lifecycle.UPLOAD_TIMEOUT_S, upload_checkpoints: Sequence[str] = (),
                 max_upload_mb: float = 1024.0, insights: Optional[dict] = None, wait_on_close: bool = True,
                 console: str = 'rank0'):
        super().__init__(save_dir)
        if console not in CONSOLE_CHOICES:
            raise ValueError(f'SwanlabVisBackend: console takes one of {list(CONSOLE_CHOICES)}, not {console!r}')
        self._console = console
        self._rank_console: Optional[ConsoleCapture] = None
        if insights is not None:
            SwanlabInsightsHook(**insights)  # wrong arguments fail now, before training
        self._insights = insights
        unknown = set(upload_checkpoints) - {'best', 'last'}
        if unknown:
            raise ValueError(f"SwanlabVisBackend: upload_checkpoints takes 'best' and/or 'last', not {sorted(unknown)}")
        self._upload, self._max_upload_mb = set(upload_checkpoints), max_upload_mb
        self._runner_ref, self._next_runner_search = None, 0.0
        self.link_runner(find_runner())
        self._init_kwargs = plain_options(dict(init_kwargs or {}))  # what crosses to the writer: plain data
        validate_init_kwargs(self._init_kwargs, getattr(getattr(self.runner, 'cfg', None), 'filename', None))
        self._log_config_text, self._max_image_side = log_config_text, max_image_side
        self._close_timeout, self._upload_timeout, self._wait_on_close = close_timeout, upload_timeout, wait_on_close
        self._run: Optional[RemoteRun] = None
        self._background = BackgroundWorker()
        self._started = self._closed = self._keep_open = False
        self._training = False  # train() began and has not ended: a run finished now is a crashed one
        self._pending_config: Any = None
        self._checkpoint_meta: dict = {}
        self._test_step: Optional[int] = None
        self._keys, self._to_scalar = KeyMapper(), ScalarConverter()
        self._section: Optional[str] = None
        self._image_steps: dict = {}
        self._test_images: dict = {}  # key -> [(array, caption)], logged together at the test's step
        self._ledger: Optional[RunLedger] = None
        self._epoch_axes: set = set()
        self._after_curves: Optional[list] = []  # (fn, args) held until the first curve exists; then None
        # Started now, so that Python, SwanLab and swanlab.init take their seconds while the runner builds the model.
        self._writer = start_writer() if get_rank() == 0 else None
        if self._writer is not None:
            weakref.finalize(self, self._writer.release)  # a backend dropped unclosed: finish or let go

    # ---- wiring to the runner (SwanlabHook calls these) ----------------------------------------------------

    def link_runner(self, runner: Any) -> None:
        """Makes ``runner``'s progress and phases known to this backend (idempotent)."""
        if runner is not None and self._runner_ref is None:
            self._runner_ref = weakref.ref(runner)
            ensure_swanlab_hook(runner, self._insights)

    @property
    def runner(self) -> Any:
        return self._runner_ref() if self._runner_ref is not None else None

    def set_section(self, section: Optional[str]) -> None:
        self._section = section

    def start_phase(self, phase: str) -> None:
        """The runner begins ``train``, ``val`` or ``test``: the run starts with the first."""
        self._training = self._training or phase == 'train'
        self._start(phase)

    def note_checkpoint(self, meta: dict) -> None:
        self._checkpoint_meta = dict(meta or {})

    # ---- lifecycle -----------------------------------------------------------------------------------------

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Optional[RemoteRun]:
        """The run, as the writer process holds it (``log``, ``config.update``, ``id``, ``dir``, ``url``,
        ``wait()``); None on ranks other than 0."""
        self._start(None)
        return self._run

    def _init_env(self) -> None:
        self.link_runner(find_runner())  # a Visualizer built before its Runner is first used inside it
        if self.runner is None:  # a script without a Runner; else the runner's first phase starts it
            self._start(None)

    def _start(self, phase: Optional[str]) -> None:
        if self._started or self._closed:
            return
        if get_rank() != 0:
            self._started = True
            if self._writer is not None:  # built before the process group: this rank's writer is not needed
                self._writer.abandon()
            self._hand_over_console()
            return
        if self._writer is None:
            return
        self._started = True
        runner, kwargs, run_info = self.runner, dict(self._init_kwargs), run_environment()
        kwargs.setdefault('log_dir', self._default_log_dir())
        if not (kwargs.get('experiment_name') or kwargs.get('name')) and run_links.config_stem(runner):
            kwargs['experiment_name'] = run_links.config_stem(runner)
        test_only = phase == 'test' and run_links.is_test_only(runner)
        if test_only:
            reopen_id, new_run, self._test_step = run_links.tie_test_to_training(
                runner, kwargs, run_info, self._checkpoint_meta)
        else:
            reopen_id, new_run = run_links.continue_resumed(runner, kwargs, run_info), {}
        run_lifecycle.finish_others(self)  # the runs of runners before this one, in a sweep or a notebook
        self._run = self._writer
        every_rank = self._console == 'all' and getattr(runner, 'log_dir', None)
        self._run.init(kwargs, reopen_id, new_run, self._upload_timeout, self._max_image_side,
                       None if test_only else run_links.run_id_file(runner),
                       console_prefix=None if self._console == 'off' else '[rank 0] ' if every_rank else '',
                       other_ranks_console=runner.log_dir if every_rank else None)
        if not test_only and getattr(runner, 'work_dir', None):
            self._ledger = RunLedger(runner.work_dir, self._run, self._background.submit, self._upload,
                                     self._max_upload_mb)
        run_lifecycle.finish_at_exit(self)
        self._run.config.update(run_info)
        if self._pending_config is not None:
            self.add_config(self._pending_config)

    def _hand_over_console(self) -> None:
        """A rank other than 0 with ``console='all'``: its console goes to rank 0's run through a file."""
        folder = getattr(self.runner, 'log_dir', None)
        if self._console != 'all' or not folder:
            return
        self._rank_console = ConsoleCapture(RankConsoleFiles.writer(folder, get_rank()), f'[rank {get_rank()}] ')
        self._rank_console.start()
        atexit.register(self._rank_console.stop)

    def _default_log_dir(self) -> str:
        if os.environ.get('SWANLAB_LOG_DIR'):
            return os.environ['SWANLAB_LOG_DIR']
        save_dir = osp.abspath(self._save_dir or '.')
        if osp.basename(save_dir) == 'vis_data':  # <work_dir>/<timestamp>/vis_data
            return osp.join(osp.dirname(osp.dirname(save_dir)), 'swanlog')
        return osp.join(save_dir, 'swanlog')

    def keep_open_for_next_phase(self) -> None:
        """Makes the next :meth:`close` only flush (:class:`SwanlabHook` calls it when training ends):
        MMEngine closes the visualizer at the end of ``runner.train()``, and a ``runner.test()`` that
        follows must reach the same experiment. The next ``close()``, or the process's exit, finishes it."""
        self._keep_open, self._training = True, False

    def close(self) -> None:
        """Sends what is pending and finishes the run as a success (safe on every rank, idempotent)."""
        if self._keep_open:
            self._keep_open = False
            if not self._closed:
                self._background.flush(self._close_timeout)
            return
        self.finish('success')

    def finish(self, state: str, error: Optional[str] = None, close_timeout: Optional[float] = None) -> None:
        """Hands over what is pending and the end of the run as ``state``, in bounded time (idempotent)."""
        if self._closed:
            return
        if self._training and state == 'success':  # the caller caught what train() raised, and went on
            state, error = 'crashed', 'runner.train() raised before the training ended (the caller caught it)'
        self._closed = True
        run_lifecycle.forget(self)
        if self._rank_console is not None:
            self._rank_console.stop()
        close_timeout = self._close_timeout if close_timeout is None else close_timeout
        if self._run is None:
            if self._writer is not None:
                self._writer.abandon()
            return
        self._release_after_curves()  # a run without a single curve still gets its config text
        if not self._background.close(close_timeout):
            print_log(f'SwanLab: drawing or hashing still pending after {close_timeout:.0f} s was dropped',
                      logger='current', level=logging.WARNING)
        self._run.finish(state, error)
        if self._wait_on_close or self._run.in_process:
            # Online, finishing uploads for up to upload_timeout: that is progress too.
            self._run.wait(stall_timeout=max(self._close_timeout, self._upload_timeout + 10))
        else:
            print_log(f'SwanLab: the writer process (pid {self._run.writer_pid}) finishes writing in the background '
                      '(wait_on_close=False); swanlab_backend.wait_until_written() waits for it', logger='current')
        self._run.announce_finished()

    def record_console(self, stream: str, text: str) -> None:
        """Puts ``text`` into the run's console log without printing it (run_lifecycle: a crash's traceback,
        which Python prints only after the run has been finished)."""
        if self._run is not None and not self._closed:
            self._run.record_console(stream, text)

    @property
    def ledger(self) -> Optional[RunLedger]:
        """The checkpoint ledger and best values of the open run (:class:`SwanlabHook` feeds it), else None."""
        return self._ledger if self._run is not None and not self._closed else None

    # ---- what gets logged ----------------------------------------------------------------------------------

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Logs ``config`` as flat hyper-parameters (``model.backbone.depth``...) and, with
        ``log_config_text``, the whole config text (``env.*`` is logged when the run starts)."""
        self._pending_config = config if not self._started else None  # the run starts with the first phase
        if self._run is None:
            return
        flat, secrets = flatten_config(config.to_dict() if hasattr(config, 'to_dict') else dict(config))
        self._run.config.update(flat)
        if self._log_config_text:
            self._submit_after_curves(self._send_config_text, config, secrets)

    def _send_config_text(self, config: Any, secrets: list) -> None:
        # Formatting the text takes ~0.1 s: here, off the training thread.
        filename = osp.basename(getattr(config, 'filename', None) or 'config.py')
        self._run.log({'config/config_text': media.text(config_text(config, secrets), caption=filename)}, step=0)

    def _submit_after_curves(self, fn: Callable, *args: Any) -> None:
        """Holds texts and pictures of step 0 (the config text, the dataset card) until the first curve has been
        logged: the local dashboard shows charts in the order they were created, and a person looks for the
        curves first."""
        if self._after_curves is None:
            self._background.submit(fn, *args)
        else:
            self._after_curves.append((fn, args))

    def _release_after_curves(self) -> None:
        held, self._after_curves = self._after_curves or [], None
        for fn, args in held:
            self._background.submit(fn, *args)

    @force_init_env
    def add_scalar(self, name: str, value: Union[int, float, Any], step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step=step)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path: Optional[str] = None, **kwargs) -> None:
        """Logs ``scalar_dict`` under the current section (``train/``, ``val/``, ``test/``).

        Validation and test values are placed at the current training iteration
        (MMEngine passes the epoch for them), so they never overwrite train values.
        """
        self._start(None)
        if self._run is None or self._closed:
            return
        if self._runner_ref is None and time.monotonic() >= self._next_runner_search:
            self._next_runner_search = time.monotonic() + 1.0  # a script without a Runner: look once a second
            self.link_runner(find_runner())  # a Visualizer built before its Runner: link on first use
        # Before SwanlabHook has seen a phase (it joins mid-run when linked late), it is training.
        section = self._section or ('train' if self._runner_ref is not None else None)
        data = {self._keys(section, key): number for key, number in
                ((key, self._to_scalar(key, value)) for key, value in scalar_dict.items()) if number is not None}
        step, extra = self._step_for(section, step)
        if data:
            self._define_epoch_axis(extra, data)
            self._run.log_numbers({**extra, **data}, step)
            if self._after_curves is not None:
                self._release_after_curves()

    def _define_epoch_axis(self, extra: dict, data: dict) -> None:
        """Epoch-based validation curves get ``val/epoch`` as their x axis where SwanLab can show it (the cloud's
        charts; the local dashboard draws against the step only, where ``val/epoch`` is a curve of its own)."""
        if 'val/epoch' in extra:
            for key in set(data) - self._epoch_axes - {'val/epoch'}:
                self._epoch_axes.add(key)
                self._run.define_metric(key, x_axis='val/epoch', step_sync=False)

    def log_metrics(self, section: str, metrics: dict) -> None:
        """Logs ``metrics`` under ``section`` at the current iteration (test metrics go here)."""
        previous, self._section = self._section, section
        try:
            self.add_scalars(metrics, step=0)
        finally:
            self._section = previous

    def _step_for(self, section: Optional[str], step: int) -> tuple:
        """``(step, extra keys)`` for values of ``section`` that MMEngine logged at ``step``."""
        runner = self.runner
        if section == 'test' and self._test_step is not None:  # a test-only run: the checkpoint's iteration
            return int(self._test_step), {}
        if runner is None or section not in ('train', 'val', 'test'):
            return int(step), {}
        iteration, epoch, by_epoch = training_progress(runner)
        if section == 'train':
            return int(step), ({'train/epoch': float(epoch + 1)} if by_epoch else {})
        return iteration, ({'val/epoch': float(epoch)} if by_epoch and section == 'val' else {})

    @force_init_env
    def add_image(self, name: str, image: Any, step: int = 0, **kwargs) -> None:
        """Logs an image (RGB/RGBA/gray, HWC or CHW, uint8 or float) with its name as caption.

        The pixels go to the writer process as they are; downscaling and encoding happen there.
        Images drawn during a test (MMEngine passes the batch index as step) are
        logged together, as one list per name, at the step of the test metrics.
        """
        self._start(None)
        if self._run is None or self._closed:
            return
        try:
            array = to_uint8_image(image)
        except ValueError as e:
            print_log(f'SwanLab: skipping image {name!r}: {e}', logger='current', level=logging.WARNING)
            return
        key = self._keys(None, name)
        if self._section == 'test':
            self._hold_test_image(key, array.copy(), name)  # the caller may draw into it again
            return
        # Several images of one key at one step (mmdet logs one per batch item) get their own steps.
        step = max(int(step), self._image_steps.get(key, -1) + 1)
        self._image_steps[key] = step
        self._run.log({key: media.image(array, name)}, step=step)

    def _hold_test_image(self, key: str, array: Any, caption: str) -> None:
        held = self._test_images.setdefault(key, [])
        if len(held) == MAX_TEST_IMAGES_PER_KEY:
            print_log(f'SwanLab: only the first {MAX_TEST_IMAGES_PER_KEY} test images of {key!r} are logged '
                      "(raise the visualization hook's interval)", logger='current', level=logging.WARNING)
        if len(held) < MAX_TEST_IMAGES_PER_KEY:
            held.append(media.image(array, caption))

    def end_test(self) -> None:
        """Logs the images held during the test at the step of its metrics (:class:`SwanlabHook` calls it)."""
        held, self._test_images = self._test_images, {}
        if self._run is not None and not self._closed:
            step = self._step_for('test', 0)[0]
            for key, images in held.items():
                self._run.log({key: images if len(images) > 1 else images[0]}, step=step)

    def log_report(self, section: str, build: Callable[[], dict]) -> None:
        """Logs what ``build()`` returns (keys to SwanLab values or media) at the step of ``section``'s
        evaluation (``'dataset'``: step 0). ``build`` runs on a background thread, so drawing costs
        the training thread nothing (:class:`~swanlab_backend.insights.SwanlabInsightsHook` uses it)."""
        self._start(None)
        if self._run is not None and not self._closed:
            if section == 'dataset':
                self._submit_after_curves(self._send_report, build, 0)
            else:
                self._background.submit(self._send_report, build, self._step_for(section, 0)[0])

    def _send_report(self, build: Callable[[], dict], step: int) -> None:
        data = build()
        if data:
            self._run.log(data, step=step)

    @force_init_env
    def add_text(self, name: str, text: str, step: int = 0, caption: Optional[str] = None) -> None:
        """Logs a text (shown as such in the local dashboard, e.g. the checkpoint ledger)."""
        self._start(None)
        if self._run is not None and not self._closed:
            self._run.log({name: media.text(text, caption=caption)}, step=int(step))

    def add_graph(self, model: Any, data_batch: Sequence[dict], **kwargs) -> None:
        """Not supported by SwanLab; kept silent like MMEngine's other backends."""


keep_names(VISBACKENDS, BACKEND_NAMES, SwanlabVisBackend)  # SwanLab's own class may come later
