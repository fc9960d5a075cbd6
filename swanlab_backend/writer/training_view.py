"""Writer side: the SwanLab run describes the training process, not the writer it runs in.

In-process, SwanLab records the console, command, pid, working directory and, in its
system monitor, the memory and threads of the process that called ``swanlab.init``.
Here that is the writer, so before ``swanlab.init`` the writer points SwanLab's probes
at the training (:func:`describe_training`) and keeps SwanLab from recording its own
streams; after it, :class:`ConsoleRelay` feeds the training's console text, sent by
:mod:`swanlab_backend.handover.console_capture`, into SwanLab's own terminal recorder.

This reaches into SwanLab's internals (pinned in ``requirements/``): a SwanLab without
them leaves the writer's own view, with one warning, and never stops the run.
"""
import logging
from typing import Any, Optional

from mmengine.logging import print_log


def describe_training(process: Optional[dict]) -> None:
    """Makes SwanLab's environment probe and system monitor describe ``process``
    (:func:`~swanlab_backend.mmengine.environment.training_process`), and its terminal recorder leave
    this process's streams alone. ``process`` None: this is a writer thread of the training,
    whose exit and exception hooks (:mod:`swanlab_backend.writer.run_lifecycle`) finish the run after
    the journal's last records; SwanLab's, which ``swanlab.init`` puts in front of them, would
    finish it before, and only pass on here."""
    try:
        from swanlab.sdk.internal.run import Run
        from swanlab.sdk.internal.run.components.terminal import capture
        capture.StreamCapture.install = lambda self: None  # the training's text comes through ConsoleRelay
        if process:
            _point_probes_at(process)
        else:
            Run._handle_except = lambda self, *exception: self._sys_origin_excepthook(*exception)
            Run._handle_atexit = lambda self: None
    except (ImportError, AttributeError) as e:
        print_log(f'SwanLab: this SwanLab version is not the one this backend knows ({e}); the run may show '
                  'the writer process (its command, console and memory) instead of the training',
                  logger='current', level=logging.WARNING)


def _point_probes_at(process: dict) -> None:
    import psutil
    from swanlab.sdk.internal.probe_python.environment import runtime
    from swanlab.sdk.internal.probe_python.hardware_vendor import cpu, memory

    runtime.get_pid = lambda: process['pid']
    runtime.get_cwd = lambda: process['cwd']
    runtime.get_command = lambda: process['command']
    runtime.get_python_executable = lambda: process['python_executable']
    runtime.get_hostname = lambda: process['hostname']
    try:
        training = psutil.Process(process['pid'])
    except psutil.Error:  # a replay: the training is gone, the monitor measures what there is
        return

    class _TrainingPsutil:
        """psutil, with ``Process()`` the training's: per-process figures (memory, threads) are its."""
        def __getattr__(self, name: str) -> Any:
            return getattr(psutil, name)

        @staticmethod
        def Process(pid: Optional[int] = None) -> Any:  # noqa: N802 (psutil's name)
            return psutil.Process(pid) if pid is not None else training

    cpu.psutil = memory.psutil = _TrainingPsutil()


class ConsoleRelay:
    """Hands the training's console text to the SwanLab run's terminal recorder.

    Text that comes before the run exists is held and handed over once it does; a stream
    that ``Settings.terminal.proxy_type`` leaves out, or a SwanLab without the recorder, is
    dropped."""

    def __init__(self) -> None:
        self._held: list = []
        self._writers: Optional[dict] = None

    def attach(self, run: Any) -> None:
        try:
            terminal = run._components.terminal
            proxy_type = run._ctx.config.settings.terminal.proxy_type
            writers = {'stdout': terminal._on_stdout_write, 'stderr': terminal._on_stderr_write}
        except AttributeError:
            writers, proxy_type = {}, 'none'
        self._writers = {stream: write for stream, write in writers.items() if proxy_type in ('all', stream)}
        held, self._held = self._held, []
        for stream, text in held:
            self.write(stream, text)

    def write(self, stream: str, text: str) -> None:
        if self._writers is None:
            self._held.append((stream, text))
        elif stream in self._writers:
            self._writers[stream](text)
