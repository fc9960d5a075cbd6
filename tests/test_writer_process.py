"""The writer process: what it does when the training dies, and the in-process writer when it cannot run.

Read back from the real local dashboard and the runs' own records.
"""
import logging
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from mmengine.logging import MMLogger

from swanlab_backend.handover import writer_process

from helpers import TOY_TRAIN, clean_env, recorded_runs, start_until_hang, writer_of


def test_sigkill_of_the_training_keeps_every_step_and_the_writer_marks_the_run_crashed(tmp_path, swanlog,
                                                                                     dashboard):
    process, _ = start_until_hang(tmp_path, 'sigkilled', swanlog, '--length', 3, '--hang-at', 7, '--no-test')
    process.kill()  # at once: what was logged is in the journal, not in a queue of the dead process
    process.wait(timeout=30)
    assert recorded_runs(swanlog)['sigkilled'] == 'CRASHED'  # SwanLab alone would leave it RUNNING forever
    experiment = dashboard.experiment('sigkilled')
    assert dashboard.wait_status(experiment) == 'crashed'
    assert sorted(dashboard.scalar_series(experiment, 'train/loss')) == [1, 2, 3, 4, 5, 6]


def test_the_writer_process_never_loads_torch(tmp_path, swanlog):
    """It has no model: torch would cost it seconds at its start and at its exit (which the training waits for)."""
    training = subprocess.Popen(
        [sys.executable, str(TOY_TRAIN), '--work-dir', str(tmp_path / 'work_dir'), '--log-dir', str(swanlog),
         '--name', 'no-torch', '--loop', 'iter', '--length', '40', '--iter-seconds', '0.1', '--val-interval', '1000',
         '--no-test'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env(), cwd=tmp_path)
    writer = writer_of(psutil.Process(training.pid))
    for line in training.stdout:
        if 'Iter(train) [20/40]' in line:  # SwanLab has long been at work in the writer
            break
    libraries = {os.path.basename(m.path) for m in writer.memory_maps()}
    training_libraries = {os.path.basename(m.path) for m in psutil.Process(training.pid).memory_maps()}
    training.stdout.read()
    assert training.wait(120) == 0
    assert 'libtorch_cpu.so' in training_libraries  # what the check looks for is there to be seen
    assert any(name.startswith('_pydantic_core') for name in libraries), sorted(libraries)  # SwanLab's, loaded
    assert not any(name.startswith('libtorch') for name in libraries), sorted(libraries)


class _Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _log_through(remote, name, swanlog):
    remote.init(dict(project='writer', experiment_name=name, log_dir=str(swanlog)), None, {}, 10.0, 2048, None)
    for step in range(1, 6):
        remote.log_numbers({'value': step * 0.5}, step)
        time.sleep(0.3)  # the training side looks at its writer once a second
    remote.finish('success')
    assert remote.wait(120), 'the writer did not finish'


@pytest.mark.parametrize('failure', ['cannot-start', 'dies-at-start'])
def test_a_writer_process_that_cannot_run_leaves_the_writing_to_a_thread_with_one_warning(
        failure, monkeypatch, swanlog, dashboard):
    warnings = _Collected()
    MMLogger.get_current_instance().addHandler(warnings)
    try:
        with monkeypatch.context() as patch:  # for the writer's start only: the dashboard starts processes too
            if failure == 'cannot-start':
                def no_process(*args, **kwargs):
                    raise OSError(12, 'Cannot allocate memory')
                patch.setattr(writer_process.subprocess, 'Popen', no_process)
            else:  # a real process that exits before it takes the run
                patch.setattr(writer_process, 'BOOTSTRAP', 'import sys; sys.exit(3)')
            remote = writer_process.start_writer()
        _log_through(remote, f'in-process-{failure}', swanlog)
    finally:
        MMLogger.get_current_instance().removeHandler(warnings)
    assert remote.in_process
    assert sum('writing from a thread of the training process instead' in m for m in warnings.messages) == 1, \
        warnings.messages
    experiment = dashboard.experiment(f'in-process-{failure}')
    assert dashboard.wait_status(experiment) == 'finished'
    assert dashboard.scalar_series(experiment, 'value') == {1: 0.5, 2: 1.0, 3: 1.5, 4: 2.0, 5: 2.5}


def test_the_writer_process_ignores_the_terminal_signals_and_finishes_what_it_was_handed(swanlog, dashboard):
    remote = writer_process.start_writer()
    remote.init(dict(project='writer', experiment_name='signals', log_dir=str(swanlog)), None, {}, 10.0, 2048, None)
    remote.log_numbers({'value': 1.0}, 1)
    for wait in (0.1, 0.5, 2.0):  # while Python starts, during swanlab.init, once the run is going
        time.sleep(wait)
        os.kill(remote.writer_pid, signal.SIGINT)   # Ctrl+C reaches the training only; Slurm sends every process
        os.kill(remote.writer_pid, signal.SIGTERM)  # a SIGTERM: the training's handler sends the finish
    remote.log_numbers({'value': 2.0}, 2)
    remote.finish('crashed', 'terminated by SIGTERM')
    assert remote.wait(120)
    experiment = dashboard.experiment('signals')
    assert dashboard.scalar_series(experiment, 'value') == {1: 1.0, 2: 2.0}
    assert recorded_runs(swanlog)['signals'] == 'CRASHED'


def test_wait_on_close_returns_once_the_writer_process_has_written_everything(swanlog, dashboard):
    from swanlab_backend import SwanlabVisBackend
    backend = SwanlabVisBackend(save_dir=str(swanlog / 'wait-on-close' / 'vis_data'), wait_on_close=True,
                                init_kwargs=dict(project='writer', experiment_name='wait-on-close',
                                                 log_dir=str(swanlog)))
    for step in range(1, 1001):
        backend.add_scalars({f'metric_{i}': step + i for i in range(12)}, step=step)
    writer = backend.experiment
    backend.close()
    assert writer._process.poll() is not None, 'close() returned while the writer process was still writing'
    assert not writer_process.pending_writers(str(swanlog))
    experiment = dashboard.experiment('wait-on-close')
    assert dashboard.tag(experiment, 'metric_11')['sum'] == 1000
