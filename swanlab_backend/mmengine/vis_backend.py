"""``SwanlabVisBackend``: SwanLab experiment tracking for MMEngine runners."""
import logging
from functools import partial
from typing import Any, Callable, Optional, Sequence, Union

from mmengine.logging import print_log
from mmengine.registry import VISBACKENDS
from mmengine.visualization.vis_backend import BaseVisBackend, force_init_env

from .. import media
from ..handover.writer_process import RemoteRun
from ..images import MAX_IMAGE_SIDE, to_uint8_image
from ..insights import SwanlabInsightsHook
from ..swanlab_options import plain_options
from ..writer import run_lifecycle
from .checkpoints import RunLedger
from .config_logging import config_text_chart, flatten_config
from .metrics import ScalarConverter
from .placement import Placement
from .registration import keep_names
from .run_session import RunSession, SessionState
from .runner_follower import RunnerFollower
from .runner_link import RunnerLink, find_runner
from .validation import BACKEND_NAMES, validate_init_kwargs


@VISBACKENDS.register_module(name=list(BACKEND_NAMES), force=True)
class SwanlabVisBackend(BaseVisBackend, RunnerFollower):
    """SwanLab visualization backend, for configs and for scripts.

    Train scalars go to ``train/*`` at their iteration, validation metrics to ``val/*`` at the iteration where
    validation ran (``val/epoch`` beside them in epoch-based loops), test metrics to ``test/*`` (``placement``);
    the config as searchable hyper-parameters and as text; images in RGB with a caption. Only global rank 0
    has a run, from the runner's first phase until the runner is done with it (``run_session``; a test-only
    run is tied to the training it tests: ``run_links``). Nothing here raises into training.

    SwanLab runs in a writer process (:mod:`swanlab_backend.handover.writer_process`): a logging call is a
    conversion and one write to a journal on disk. ``close()`` and every other way out (an exception, Ctrl+C,
    SIGTERM) wait until the writer has written everything, so the run is complete when the training exits,
    also in a container or a Slurm step. Without an API key the run is written for the local dashboard
    (``swanlab watch <log_dir>``); with one it goes online, falling back to offline when the cloud cannot be
    reached (:mod:`swanlab_backend.writer.run_lifecycle`).

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
        init_kwargs (dict, optional): Arguments of ``swanlab.init`` (``project``, ``experiment_name``/``name``,
            ``description``, ``tags``, ``group``, ``job_type``, ``mode``, ``log_dir``, ``workspace``, ``id``,
            ``resume``...). Unknown keys or wrong types raise when the backend is built. ``log_dir`` defaults
            to ``$SWANLAB_LOG_DIR`` or ``<work_dir>/swanlog``, the experiment name to the config file's name.
            ``callbacks`` and ``settings``: dicts from a config (``dict(type='LarkCallback', webhook_url=...)``,
            ``dict(probe=dict(git=False))``) or objects from a script, built in the writer process
            (:mod:`swanlab_backend.swanlab_options`).
        log_config_text (bool): Also log the full config text. Defaults to True.
        max_image_side (int): Longer images are downscaled to this. Defaults to 2048.
        close_timeout (float): Seconds :meth:`close` waits for drawing and hashing still in progress in this
            process, and for a writer that makes no progress. Defaults to 120.
        upload_timeout (float): Online, seconds the writer then waits for the cloud to take what is left; the
            run stays complete in its local record, and the warning prints ``swanlab sync <run dir>``.
            Defaults to 60.
        wait_on_close (bool): :meth:`close` returns only once the writer has written everything (and uploaded
            it, within ``upload_timeout``). Defaults to True. False lets the training exit at once and the
            writer finish alone: unsafe in containers (Docker, Kubernetes) and Slurm steps, which kill every
            process left when the main one ends.
        upload_checkpoints (Sequence[str]): Which checkpoints to save into the run with SwanLab's file saving:
            ``'best'`` (each new best), ``'last'`` (the last one when training ends). Defaults to none: the
            ledger (``checkpoints/ledger``, :mod:`swanlab_backend.mmengine.checkpoints`) lists them all.
        max_upload_mb (float): Larger checkpoints are not uploaded (a warning says so). Defaults to 1024.
        insights (dict, optional): Arguments of a :class:`~swanlab_backend.insights.SwanlabInsightsHook` to
            add (prediction gallery, per-class results, confusion matrix, PR curves, dataset card); ``dict()``
            for its defaults. Defaults to None (not added).
        console (str): Whose console the run's console log holds: ``'rank0'`` (what global rank 0 prints,
            MMEngine's log lines, warnings, a crash's traceback); ``'all'``: every rank's, prefixed ``[rank N]``
            (handed over in files in the runner's log dir: a shared work dir across machines); ``'off'``.
            Defaults to ``'rank0'``.
        alerts (dict, optional): Alerts for a NaN loss, a stall, a crash, a new best, the finish, and where to send
            them (:mod:`swanlab_backend.alert_options`; secrets as ``<argument>_env``). Defaults to the alerts that
            cannot be noisy, written into the run and the console only.
    """

    def __init__(self, save_dir: str, init_kwargs: Optional[dict] = None, log_config_text: bool = True,
                 max_image_side: int = MAX_IMAGE_SIDE, close_timeout: float = 120.0,
                 upload_timeout: float = run_lifecycle.UPLOAD_TIMEOUT_S, upload_checkpoints: Sequence[str] = (),
                 max_upload_mb: float = 1024.0, insights: Optional[dict] = None, wait_on_close: bool = True,
                 console: str = 'rank0', alerts: Optional[dict] = None):
        super().__init__(save_dir)
        if insights is not None:
            SwanlabInsightsHook(**insights)  # wrong arguments fail now, before training
        self._log_config_text = log_config_text
        self._link = RunnerLink(insights)
        self._link.link(find_runner())  # built by a Runner: its hooks must join before it registers its own
        init_kwargs = plain_options(dict(init_kwargs or {}))  # what crosses to the writer: plain data
        validate_init_kwargs(init_kwargs, getattr(getattr(self.runner, 'cfg', None), 'filename', None))
        self._session_options = RunSession.check_options(
            init_kwargs=init_kwargs, console=console, close_timeout=close_timeout, save_dir=save_dir,
            upload_timeout=upload_timeout, wait_on_close=wait_on_close, max_image_side=max_image_side,
            upload_checkpoints=tuple(upload_checkpoints), max_upload_mb=max_upload_mb, alerts=alerts)
        self._session: Optional[RunSession] = None
        self._pending_config, self._checkpoint_meta = None, {}
        self._to_scalar, self._placement = ScalarConverter(), Placement()

    def _init_env(self) -> None:
        """First use (MMEngine's ``add_config`` right after the Runner builds its visualizer): the writer
        starts, so that Python, SwanLab and ``swanlab.init`` take their seconds while the runner builds the model."""
        self._session = RunSession(**self._session_options)
        self._link.link(find_runner())  # a Visualizer built before its Runner is first used inside it
        if self.runner is None:  # a script without a Runner; else the runner's first phase starts it
            self._start(None)

    # ---- wiring to the runner (SwanlabHook calls these) ----------------------------------------------------

    def link_runner(self, runner: Any) -> None:
        """Makes ``runner``'s progress and phases known to this backend (idempotent)."""
        self._link.link(runner)

    @property
    def runner(self) -> Any:
        return self._link.runner

    def set_section(self, section: Optional[str]) -> None:
        self._placement.section = section

    def note_progress(self, iterations_done: int, by_epoch: bool) -> None:
        self._placement.iterations_done, self._placement.by_epoch = iterations_done, by_epoch

    @force_init_env
    def start_phase(self, phase: str) -> None:
        """The runner begins ``train``, ``val`` or ``test``: the run starts with the first."""
        self._start(phase)

    def note_checkpoint(self, meta: dict) -> None:
        self._checkpoint_meta = dict(meta or {})

    # ---- lifecycle (the run's states: run_session) ---------------------------------------------------------

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Optional[RemoteRun]:
        """The run in the writer process (``log``, ``config.update``, ``id``, ``dir``, ``url``); None off rank 0."""
        self._start(None)
        return self._session.run

    def _start(self, phase: Optional[str]) -> Optional[RemoteRun]:
        """The run to log into, started with the first phase or logging call; None where there is none."""
        session = self._session
        if session.start(self.runner, phase, self._checkpoint_meta):
            self._placement.test_step = session.test_step
            if self._pending_config is not None:
                self.add_config(self._pending_config)
        return session.run if session.live else None

    def keep_open_for_next_phase(self) -> None:
        """Makes the next :meth:`close` only flush: MMEngine closes the visualizer at the end of ``train()``,
        and a ``test()`` that follows must reach the same run (the next runner's run or the exit ends it)."""
        if self._session is not None:
            self._session.training_ended()

    def close(self) -> None:
        """Sends what is pending and finishes the run as a success (safe on every rank, idempotent)."""
        if self._session is not None:
            self._session.close()

    def finish(self, state: str, error: Optional[str] = None, close_timeout: Optional[float] = None) -> None:
        """Hands over what is pending and the end of the run as ``state``, in bounded time (idempotent)."""
        if self._session is not None:
            self._session.finish(state, error, close_timeout)

    @property
    def ledger(self) -> Optional[RunLedger]:
        """The checkpoint ledger and best values of the open run (:class:`SwanlabHook` feeds it), else None."""
        return self._session.ledger if self._session is not None and self._session.live else None

    # ---- what gets logged ----------------------------------------------------------------------------------

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Logs ``config`` as flat hyper-parameters (``model.backbone.depth``...) and, with
        ``log_config_text``, the whole config text (``env.*`` is logged when the run starts)."""
        # Logged when the run starts, with the runner's first phase.
        self._pending_config = config if self._session.state is SessionState.NOT_STARTED else None
        if not self._session.live:
            return
        flat, secrets = flatten_config(config.to_dict() if hasattr(config, 'to_dict') else dict(config))
        self._session.run.config.update(flat)
        if self._log_config_text:
            self._session.submit_after_curves(self._session.log_built, partial(config_text_chart, config, secrets), 0)

    @force_init_env
    def add_scalar(self, name: str, value: Union[int, float, Any], step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step=step)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path: Optional[str] = None, **kwargs) -> None:
        """Logs ``scalar_dict`` under the current section (``train/``, ``val/``, ``test/``); validation and test
        values at the training iteration (MMEngine passes the epoch), so they never overwrite train values."""
        run = self._start(None)
        if run is None:
            return
        self._link.search_once_a_second()
        # Before SwanlabHook has seen a phase (it joins mid-run when linked late), it is training.
        section = self._placement.section or ('train' if self._link.linked else None)
        data = {self._placement.key(section, key): number for key, number in
                ((key, self._to_scalar(key, value)) for key, value in scalar_dict.items()) if number is not None}
        step, extra = self._placement.step(self.runner, section, step)
        if data:
            # The cloud's charts can draw against val/epoch; the local dashboard draws a curve of it.
            for key in self._placement.new_epoch_axes(extra, data):
                run.define_metric(key, x_axis='val/epoch', step_sync=False)
            run.log_numbers({**extra, **data}, step)
            self._session.curve_logged()

    @force_init_env
    def log_metrics(self, section: str, metrics: dict) -> None:
        """Logs ``metrics`` under ``section`` at the current iteration (test metrics go here)."""
        with self._placement.in_section(section):
            self.add_scalars(metrics, step=0)

    @force_init_env
    def add_image(self, name: str, image: Any, step: int = 0, **kwargs) -> None:
        """Logs an image (RGB/RGBA/gray, HWC or CHW, uint8 or float) with its name as caption; the writer
        downscales and encodes it. A test's images (MMEngine passes the batch index as step) are logged
        together, one list per name, at the step of the test metrics."""
        run = self._start(None)
        if run is None:
            return
        try:
            array = to_uint8_image(image)
        except ValueError as e:
            print_log(f'SwanLab: skipping image {name!r}: {e}', logger='current', level=logging.WARNING)
            return
        key = self._placement.key(None, name)
        if self._placement.section == 'test':
            self._placement.hold_test_image(key, array.copy(), name)  # the caller may draw into it again
        else:
            run.log({key: media.image(array, name)}, step=self._placement.image_step(key, step))

    def end_test(self) -> None:
        """Logs the images held during the test at the step of its metrics (:class:`SwanlabHook` calls it)."""
        held = self._placement.take_test_images()
        if self._session is not None and self._session.live:
            step = self._placement.step(self.runner, 'test', 0)[0]
            for key, images in held.items():
                self._session.run.log({key: images}, step=step)

    @force_init_env
    def log_report(self, section: str, build: Callable[[], dict]) -> None:
        """Logs what ``build()`` returns (keys to values or media) at ``section``'s step (``'dataset'``: 0);
        ``build`` runs on a background thread, so drawing costs the training nothing (insights use it)."""
        if self._start(None) is None:
            return
        if section == 'dataset':
            self._session.submit_after_curves(self._session.log_built, build, 0)
        else:
            step = self._placement.step(self.runner, section, 0)[0]
            self._session.background.submit(self._session.log_built, build, step)

    @force_init_env
    def add_text(self, name: str, text: str, step: int = 0, caption: Optional[str] = None) -> None:
        """Logs a text (shown as such in the local dashboard, e.g. the checkpoint ledger)."""
        run = self._start(None)
        if run is not None:
            run.log({name: media.text(text, caption=caption)}, step=int(step))


keep_names(VISBACKENDS, BACKEND_NAMES, SwanlabVisBackend)  # SwanLab's own class may come later
