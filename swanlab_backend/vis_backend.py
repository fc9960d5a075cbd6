"""``SwanlabVisBackend``: SwanLab experiment tracking for MMEngine runners."""
import atexit
import os
import os.path as osp
import signal
import sys
import tempfile
import threading
import traceback
import weakref
from typing import Any, Optional, Sequence, Union

from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.registry import VISBACKENDS
from mmengine.visualization.vis_backend import BaseVisBackend, force_init_env

from .config_logging import config_text, flatten_config
from .environment import run_environment
from .images import downscale, to_uint8_image
from .metrics import KeyMapper, ScalarConverter
from .run_finish import UPLOAD_TIMEOUT_S, finish_run
from .run_start import BACKEND_NAMES, announce, start_run, validate_init_kwargs
from .runner_link import attach_hook_to_runner, find_runner_in_stack, training_progress
from .writer import BackgroundWriter

_WARNING = 30
RUN_ID_FILE = 'swanlab_run_id'


@VISBACKENDS.register_module(name=list(BACKEND_NAMES), force=True)
class SwanlabVisBackend(BaseVisBackend):
    """SwanLab visualization backend, for configs and for scripts.

    Train scalars go to ``train/*`` at step = iteration, validation metrics to
    ``val/*`` at the iteration where validation ran (with ``val/epoch`` for
    epoch-based loops), test metrics to ``test/*``; the config is logged as
    searchable hyper-parameters plus its full text, images in RGB with a
    caption. Logging happens on a background thread, and nothing here raises
    into training once the run has started. Only global rank 0 creates a run.

    Without an API key the run is written for the local dashboard
    (``swanlab watch <log_dir>``); with one (``SWANLAB_API_KEY`` or
    ``swanlab login``) it goes online, falling back to offline logging when
    the cloud cannot be reached.

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
            Unknown keys or wrong types raise when the backend is built.
            ``log_dir`` defaults to ``$SWANLAB_LOG_DIR`` or ``<work_dir>/swanlog``,
            the experiment name to the config file's name.
        log_config_text (bool): Also log the full config text. Defaults to True.
        max_image_side (int): Longer images are downscaled to this. Defaults to 2048.
        close_timeout (float): Seconds :meth:`close` waits for this backend's
            pending data. SwanLab's own ``finish`` then waits for its writer,
            which in local mode stores ~2000 values/s: a burst logged faster
            than that is still being written at close. Defaults to 120.
        upload_timeout (float): Online, seconds :meth:`close` then waits for the
            cloud to take what is left. When the connection is lost, the run
            stays complete in its local record, to upload later with
            ``swanlab sync <run dir>`` (the warning prints the command).
            Defaults to 60.
    """

    def __init__(self,
                 save_dir: str,
                 init_kwargs: Optional[dict] = None,
                 log_config_text: bool = True,
                 max_image_side: int = 2048,
                 close_timeout: float = 120.0,
                 upload_timeout: float = UPLOAD_TIMEOUT_S):
        super().__init__(save_dir)
        self._runner_ref = None
        self.link_runner(find_runner_in_stack())
        self._init_kwargs = dict(init_kwargs or {})
        validate_init_kwargs(self._init_kwargs, getattr(getattr(self.runner, 'cfg', None), 'filename', None))
        self._log_config_text = log_config_text
        self._max_image_side = max_image_side
        self._close_timeout = close_timeout
        self._upload_timeout = upload_timeout
        self._run = None
        self._writer: Optional[BackgroundWriter] = None
        self._closed = False
        self._keep_open = False
        self._keys = KeyMapper()
        self._to_scalar = ScalarConverter()
        self._section: Optional[str] = None
        self._image_counts: dict = {}
        self._started = False
        self._pending_config: Any = None
        self._checkpoint_meta: dict = {}
        self._test_only = False
        self._test_step: Optional[int] = None

    # ---- wiring to the runner ------------------------------------------------------------------------------

    def link_runner(self, runner: Any) -> None:
        """Makes ``runner``'s progress and phases known to this backend (idempotent)."""
        if runner is None or self._runner_ref is not None:
            return
        self._runner_ref = weakref.ref(runner)
        attach_hook_to_runner(runner)

    @property
    def runner(self) -> Any:
        return self._runner_ref() if self._runner_ref is not None else None

    def set_section(self, section: Optional[str]) -> None:
        """Called by :class:`SwanlabHook` when the runner enters train/val/test."""
        self._section = section

    # ---- lifecycle -----------------------------------------------------------------------------------------

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``swanlab.Run`` (None on ranks other than 0 or when it failed to start)."""
        self._start_if_needed(None)
        return self._run

    def _init_env(self) -> None:
        """Starts the run now only without a runner: a runner's first phase starts it (:meth:`start_phase`),
        so that a test-only run (``tools/test.py``, ``mim test``, ``swanlab_backend.test``) can be tied to
        the training it tests."""
        if self.runner is None:
            self._start_if_needed(None)

    def start_phase(self, phase: str) -> None:
        """Called by :class:`SwanlabHook` when the runner begins ``train``, ``val`` or ``test``."""
        self._start_if_needed(phase)

    def note_checkpoint(self, meta: dict) -> None:
        """Called by :class:`SwanlabHook` with the ``meta`` of a checkpoint the runner loaded."""
        self._checkpoint_meta = dict(meta or {})

    def _start_if_needed(self, phase: Optional[str]) -> None:
        if self._started or self._closed or get_rank() != 0:
            return
        self._started = True
        kwargs = dict(self._init_kwargs)
        kwargs.setdefault('log_dir', self._default_log_dir())
        if not (kwargs.get('experiment_name') or kwargs.get('name')) and self._config_stem():
            kwargs['experiment_name'] = self._config_stem()
        run_info = run_environment()
        if phase == 'test' and self._is_test_only():
            reopen_id, new_run_kwargs = self._tie_test_to_training(kwargs, run_info)
        else:
            reopen_id, new_run_kwargs = self._note_resume(kwargs, run_info), {}
        self._run = self._start_run_somewhere(kwargs, reopen_id, new_run_kwargs)
        if self._run is None:
            return
        if not self._test_only:
            self._remember_run_id()
        self._writer = BackgroundWriter()
        self._install_exit_handlers()
        self._writer.submit(self._run.config.update, run_info)
        if self._pending_config is not None:
            self.add_config(self._pending_config)
            self._pending_config = None

    def _is_test_only(self) -> bool:
        """True when the runner tests without having trained in this process."""
        from mmengine.runner import BaseLoop
        return not isinstance(getattr(self.runner, '_train_loop', None), BaseLoop)

    def _tie_test_to_training(self, kwargs: dict, run_info: dict) -> tuple:
        """A test-only run of a checkpoint: online, it reopens the training's run (id in the work dir);
        otherwise it is a new experiment named ``<name>-test`` that names the training run and checkpoint.
        Its test metrics go to the checkpoint's iteration, not to step 0."""
        self._test_only = True
        self._test_step = self._checkpoint_meta.get('iter')
        training_id = self._read_run_id()
        checkpoint = getattr(self.runner, '_load_from', None) or ''
        run_info.update({'test.checkpoint': str(checkpoint), 'test.training_run_id': training_id or '',
                         'test.checkpoint_iter': self._test_step if self._test_step is not None else -1})
        name = kwargs.get('experiment_name') or kwargs.get('name') or 'test'
        of = f'training run {training_id}' if training_id else 'a training this work dir does not record'
        new_run_kwargs = dict(experiment_name=f'{name}-test', tags=list(kwargs.get('tags') or []) + ['test'],
                              description=f'test of {osp.basename(str(checkpoint)) or "the model"} from {of}')
        kwargs.pop('name', None)
        return training_id, new_run_kwargs

    def _start_run_somewhere(self, kwargs: dict, resume_id: Optional[str], new_run_kwargs: dict) -> Any:
        """Starts the run; if its log dir cannot be used, in a temporary one; else tracking is off."""
        try:
            return start_run(kwargs, resume_id, self._upload_timeout, new_run_kwargs)
        except Exception as e:
            fallback = tempfile.mkdtemp(prefix='swanlog-')
            print_log(f'SwanLab could not start a run in {kwargs["log_dir"]} ({type(e).__name__}: {e}); '
                      f'logging to {fallback} instead. Training goes on.', logger='current', level=_WARNING)
        try:
            return start_run(dict(kwargs, log_dir=fallback), resume_id, self._upload_timeout, new_run_kwargs)
        except Exception as e:
            print_log(f'SwanLab tracking is off for this run: {type(e).__name__}: {e}. Training goes on.',
                      logger='current', level=_WARNING)
            return None

    def _default_log_dir(self) -> str:
        if os.environ.get('SWANLAB_LOG_DIR'):
            return os.environ['SWANLAB_LOG_DIR']
        save_dir = osp.abspath(self._save_dir or '.')
        if osp.basename(save_dir) == 'vis_data':  # <work_dir>/<timestamp>/vis_data
            return osp.join(osp.dirname(osp.dirname(save_dir)), 'swanlog')
        return osp.join(save_dir, 'swanlog')

    def _config_stem(self) -> Optional[str]:
        """``faster-rcnn_r50_fpn_1x_coco`` for a runner built from that config file."""
        filename = getattr(getattr(self.runner, 'cfg', None), 'filename', None)
        return osp.splitext(osp.basename(filename))[0] if filename else None

    def _run_id_file(self) -> Optional[str]:
        work_dir = getattr(self.runner, 'work_dir', None)
        return osp.join(work_dir, RUN_ID_FILE) if work_dir else None

    def _note_resume(self, kwargs: dict, run_info: dict) -> Optional[str]:
        """Tags a resumed training and returns the id of the run it continues, if it is known."""
        runner = self.runner
        # A config-built runner starts this backend before it sets `_resume`; its cfg already says.
        resuming = getattr(runner, '_resume', None)
        if resuming is None:
            resuming = getattr(runner, 'cfg', {}).get('resume', False)
        if not resuming:
            return None
        tags = list(kwargs.get('tags') or [])
        kwargs['tags'] = tags + ['resumed'] if 'resumed' not in tags else tags
        previous = self._read_run_id()
        run_info.update({'resume.resumed': True, 'resume.previous_run_id': previous or ''})
        return previous

    def _read_run_id(self) -> Optional[str]:
        path = self._run_id_file()
        if path and osp.isfile(path):
            with open(path) as f:
                return f.read().strip() or None
        return None

    def _remember_run_id(self) -> None:
        """Keeps the run id in the work dir, so that ``--resume`` continues this run online."""
        path = self._run_id_file()
        if path:
            try:
                os.makedirs(osp.dirname(path), exist_ok=True)
                with open(path, 'w') as f:
                    f.write(self._run.id)
            except OSError as e:
                print_log(f'SwanLab: could not keep the run id in {path} ({e}); a resumed training will '
                          'start a new experiment', logger='current', level=_WARNING)

    def keep_open_for_next_phase(self) -> None:
        """Makes the next :meth:`close` only flush (called by :class:`SwanlabHook` when training ends).

        MMEngine closes the visualizer at the end of ``runner.train()``; a
        ``runner.test()`` that follows then still reaches the same experiment.
        The run is finished by the next ``close()`` or, at the latest, when the
        process exits (as a success, or crashed/aborted on an error or Ctrl+C).
        """
        self._keep_open = True

    def close(self) -> None:
        """Sends what is pending and finishes the run as a success (safe on every rank, idempotent)."""
        if self._keep_open:
            self._keep_open = False
            self._drain()
            return
        self._finish('success')

    def _finish(self, state: str, error: Optional[str] = None, close_timeout: Optional[float] = None) -> None:
        if self._closed:
            return
        self._closed = True
        if self._run is None:
            return
        close_timeout = self._close_timeout if close_timeout is None else close_timeout
        if not self._writer.close(close_timeout):
            print_log(f'SwanLab: data still pending after {close_timeout:.0f} s was dropped',
                      logger='current', level=_WARNING)
        if self._run.alive:
            try:
                finish_run(self._run, state, error, self._upload_timeout)
            except Exception as e:
                print_log(f'SwanLab: could not finish the run ({type(e).__name__}: {e})',
                          logger='current', level=_WARNING)
        announce(self._run, self._run.mode, finished=state)

    def _install_exit_handlers(self) -> None:
        """Sends pending data, then marks the run crashed/aborted in bounded time.

        SwanLab installs an excepthook, a SIGINT handler and an atexit hook at
        init; ours wrap them and finish the run first (as SwanLab would, but
        without its unbounded wait for the cloud), so SwanLab's find it finished.
        """
        backend = self
        swanlab_excepthook = sys.excepthook

        def excepthook(exc_type, exc, tb):
            state = 'aborted' if issubclass(exc_type, KeyboardInterrupt) else 'crashed'
            backend._finish(state, ''.join(traceback.format_exception(exc_type, exc, tb)))
            swanlab_excepthook(exc_type, exc, tb)

        sys.excepthook = excepthook
        atexit.register(self._finish, 'success')  # a run kept open after train() ends here
        if threading.current_thread() is threading.main_thread():
            swanlab_sigint = signal.getsignal(signal.SIGINT)
            previous_sigterm = signal.getsignal(signal.SIGTERM)

            def on_sigint(signum, frame):
                backend._finish('aborted', 'KeyboardInterrupt by user', close_timeout=5.0)
                if callable(swanlab_sigint):
                    swanlab_sigint(signum, frame)
                else:
                    raise KeyboardInterrupt

            def on_sigterm(signum, frame):
                # SwanLab leaves a terminated run 'running' forever; torchrun and Slurm end jobs this way
                # when another rank fails or time runs out.
                backend._finish('crashed', 'terminated by SIGTERM (another rank failed, or the job was '
                                           'cancelled or ran out of time)', close_timeout=5.0)
                signal.signal(signal.SIGTERM, previous_sigterm)
                if callable(previous_sigterm):
                    previous_sigterm(signum, frame)
                else:
                    os.kill(os.getpid(), signal.SIGTERM)

            signal.signal(signal.SIGINT, on_sigint)
            signal.signal(signal.SIGTERM, on_sigterm)

    def _drain(self, timeout: Optional[float] = None) -> None:
        if self._writer is not None and not self._closed:
            self._writer.flush(self._close_timeout if timeout is None else timeout)

    # ---- what gets logged ----------------------------------------------------------------------------------

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Logs ``config`` as flat hyper-parameters (``model.backbone.depth``...) and, with
        ``log_config_text``, the whole config text (the run environment, ``env.*``, is
        logged when the run starts)."""
        if not self._started and self.runner is not None:  # the run starts with the runner's first phase
            self._pending_config = config
            return
        if self._run is None:
            return
        flat, secrets = flatten_config(config.to_dict() if hasattr(config, 'to_dict') else dict(config))
        self._writer.submit(self._send_config, flat, config, secrets)

    def _send_config(self, flat: dict, config: Any, secrets: list) -> None:
        import swanlab
        self._run.config.update(flat)
        if self._log_config_text:  # formatting the text takes ~0.1 s: here, off the training thread
            filename = osp.basename(getattr(config, 'filename', None) or 'config.py')
            self._run.log({'config/config_text': swanlab.Text(config_text(config, secrets), caption=filename)},
                          step=0)

    @force_init_env
    def add_scalar(self, name: str, value: Union[int, float, Any], step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step=step)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Logs ``scalar_dict`` under the current section (``train/``, ``val/``, ``test/``).

        Validation and test values are placed at the current training iteration
        (MMEngine passes the epoch for them), so they never overwrite train values.
        """
        self._start_if_needed(None)
        if self._run is None or self._closed:
            return
        if self._runner_ref is None:  # a Visualizer built before its Runner: link on first use
            self.link_runner(find_runner_in_stack())
        # Before SwanlabHook has seen a phase (it joins mid-run when linked late), it is training.
        section = self._section or ('train' if self._runner_ref is not None else None)
        data = {}
        for key, value in scalar_dict.items():
            number = self._to_scalar(key, value)
            if number is not None:
                data[self._keys(section, key)] = number
        step = self._step_for(section, step, data)
        if data:
            self._writer.submit(self._run.log, data, step=step)

    def log_metrics(self, section: str, metrics: dict) -> None:
        """Logs ``metrics`` under ``section`` at the current iteration (test metrics go here)."""
        previous, self._section = self._section, section
        try:
            self.add_scalars(metrics, step=0)
        finally:
            self._section = previous

    def _step_for(self, section: Optional[str], step: int, data: dict) -> int:
        runner = self.runner
        if section == 'test' and self._test_step is not None:  # a test-only run: the checkpoint's iteration
            return int(self._test_step)
        if section in ('val', 'test') and runner is not None:
            iteration, epoch, by_epoch = training_progress(runner)
            if by_epoch and section == 'val':
                data['val/epoch'] = float(epoch)
            return iteration
        if section == 'train' and runner is not None:
            _, epoch, by_epoch = training_progress(runner)
            if by_epoch:
                data.setdefault('train/epoch', float(epoch + 1))
        return int(step)

    @force_init_env
    def add_image(self, name: str, image: Any, step: int = 0, **kwargs) -> None:
        """Logs an image (RGB/RGBA/gray, HWC or CHW, uint8 or float) with its name as caption.

        Only a copy is made on the training thread; encoding happens in the background.
        """
        self._start_if_needed(None)
        if self._run is None or self._closed:
            return
        try:
            array = to_uint8_image(image).copy()
        except ValueError as e:
            print_log(f'SwanLab: skipping image {name!r}: {e}', logger='current', level=_WARNING)
            return
        key = self._keys(None, name)
        self._writer.submit(self._send_image, key, array, int(step), name)

    def _send_image(self, key: str, array: Any, step: int, caption: str) -> None:
        import swanlab
        if max(array.shape[:2]) > self._max_image_side:
            array = downscale(array, self._max_image_side)
            caption = f'{caption} (downscaled to {array.shape[1]}x{array.shape[0]})'
        # Several images of one key at one step (mmdet logs one per batch item) get their own steps.
        if self._image_counts.get(key, -1) >= step:
            step = self._image_counts[key] + 1
        self._image_counts[key] = step
        self._run.log({key: swanlab.Image(array, caption=caption)}, step=step)

    def add_graph(self, model: Any, data_batch: Sequence[dict], **kwargs) -> None:
        """Not supported by SwanLab; kept silent like MMEngine's other backends."""
