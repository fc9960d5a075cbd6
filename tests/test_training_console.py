"""The run shows the training process, as SwanLab in the training process would: its console, command, pid
and crash; the writer's messages reach the training's console and MMEngine's log file; a piped training
ends when the training does.

Each test runs the toy training (a real MMEngine Runner) with the real writer process, and reads the run back
through the real local dashboard.
"""
import glob
import os
import subprocess
import sys
import threading
import time

import psutil
import pytest

from helpers import TOY_TRAIN, clean_env, recorded_system_values, writer_of

OFFLINE_WARNING = 'SwanLab: logging offline because online mode was asked for but no API key is set'


def _toy(tmp_path, swanlog, name, *args):
    return [sys.executable, str(TOY_TRAIN), '--work-dir', str(tmp_path / 'work_dir'), '--log-dir', str(swanlog),
            '--name', name, '--no-test', *map(str, args)]


@pytest.mark.parametrize('writer', ['process', 'thread'])
def test_the_console_log_holds_what_the_training_printed_and_its_crash(tmp_path, swanlog, dashboard, writer):
    """Also with the writer on a thread of the training (its process could not start), where SwanLab's own
    recorder would see the same streams as ours."""
    name = f'console-and-crash-{writer}'
    command = _toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', 12, '--val-interval', 100,
                   '--markers-at', 3, '--crash-at', 8)
    training = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_env(SWANLAB_BACKEND_WRITER=writer), cwd=tmp_path)
    stdout, stderr = training.communicate(timeout=600)
    assert training.returncode == 1, stderr[-6000:]
    experiment = dashboard.experiment(name)
    assert dashboard.wait_status(experiment) == 'crashed'

    console = dashboard.console_log(experiment)
    text = '\n'.join(console)
    for marker in ('TOY_PRINT_MARKER rank 0', 'TOY_LOGGER_MARKER', 'UserWarning: TOY_WARNING_MARKER'):
        assert sum(marker in line for line in console) == 1, f'{marker!r} not once in the console log:\n{text}'
    assert [line for line in console if 'TOY_PROGRESS' in line] == ['TOY_PROGRESS 3/3']  # SwanLab's own \r
    assert sum('Iter(train) [' in line for line in console) == 7, text  # iterations 1-7 were logged
    assert 'RuntimeError: toy failure at iteration 8' in text
    last_iteration = max(i for i, line in enumerate(console) if 'Iter(train) [' in line)
    assert any('Traceback (most recent call last)' in line for line in console[last_iteration:]), text
    # the terminal shows everything once: nothing of ours doubles it
    assert stdout.count('TOY_PRINT_MARKER') == 1 and stderr.count('UserWarning: TOY_WARNING_MARKER') == 1
    assert stderr.count('RuntimeError: toy failure at iteration 8') == 1

    runtime = dashboard.system(experiment)['runtime']
    assert runtime['pid'] == training.pid
    assert runtime['command'] == ' '.join(command)
    assert runtime['cwd'] == str(tmp_path)
    assert runtime['python_executable'] == sys.executable


def test_swanlabs_terminal_settings_hold_for_the_trainings_console(tmp_path, swanlog, dashboard):
    """``Settings.terminal`` from the environment, as SwanLab reads it: only stdout, lines cut at 500."""
    name = 'console-settings'
    result = subprocess.run(_toy(tmp_path, swanlog, name, '--length', 1, '--markers-at', 2), capture_output=True,
                            text=True, cwd=tmp_path, timeout=600,
                            env=clean_env(SWANLAB_TERMINAL_PROXY_TYPE='stdout', SWANLAB_TERMINAL_MAX_LENGTH='500'))
    assert result.returncode == 0, result.stderr[-6000:]
    console = dashboard.console_log(dashboard.experiment(name))
    assert [line for line in console if 'TOY_LONG_LINE' in line] == ['TOY_LONG_LINE ' + 'x' * 486]
    assert any('TOY_PRINT_MARKER' in line for line in console)
    assert not any('TOY_WARNING_MARKER' in line for line in console)  # stderr is left out


def test_the_writers_messages_reach_the_trainings_console_and_log_file_once(tmp_path, swanlog, dashboard):
    name = 'writer-messages'
    result = subprocess.run(_toy(tmp_path, swanlog, name, '--length', 1, '--mode', 'online'), capture_output=True,
                            text=True, env=clean_env(), cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-6000:]
    printed = result.stdout + result.stderr
    assert printed.count(OFFLINE_WARNING) == 1, printed[-6000:]
    log_files = glob.glob(str(tmp_path / 'work_dir' / '*' / '*.log'))
    assert len(log_files) == 1, log_files
    with open(log_files[0]) as f:
        assert f.read().count(OFFLINE_WARNING) == 1
    assert 'swanlab sync' in printed[printed.index(OFFLINE_WARNING):]
    said = [line for line in result.stdout.splitlines() if 'SwanLab:' in line]
    finished = [i for i, line in enumerate(said) if 'the run finished (success)' in line]
    assert len(finished) == 1 and not any('tracking this run' in line for line in said[finished[0]:]), said


def test_a_piped_training_ends_when_the_training_does(tmp_path, swanlog, dashboard):
    """``python train.py | tee train.log``: the pipe closes when the training exits, even with a writer that
    goes on after it (``wait_on_close=False``), and the run is complete."""
    name, iterations = 'piped', 600
    training = subprocess.Popen(_toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', iterations,
                                     '--val-interval', iterations, '--checkpoint-interval', iterations,
                                     '--backend-options', '{"wait_on_close": False}'),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=clean_env(), cwd=tmp_path)
    exited = []
    watcher = threading.Thread(target=lambda: exited.append((training.wait(), time.monotonic())))
    watcher.start()
    printed = training.stdout.read()  # until the last holder of the pipe closes it
    closed = time.monotonic()
    watcher.join(60)
    code, exit_time = exited[0]
    assert code == 0, printed.decode()[-6000:]
    assert closed - exit_time < 2.0, f'the pipe closed {closed - exit_time:.1f} s after the training exited'
    experiment = dashboard.experiment(name)  # the dashboard waits for the writer
    assert dashboard.wait_status(experiment) == 'finished'
    assert len(dashboard.scalar_series(experiment, 'train/loss')) == iterations


def test_a_training_with_its_console_closed_is_tracked_the_same(tmp_path, swanlog, dashboard):
    name = 'console-closed'
    command = ' '.join(f"'{part}'" for part in _toy(tmp_path, swanlog, name, '--length', 1, '--markers-at', 2))
    result = subprocess.run(['sh', '-c', f'exec {command} >&- 2>&-'], env=clean_env(), cwd=tmp_path, timeout=600)
    assert result.returncode == 0
    experiment = dashboard.experiment(name)
    assert dashboard.wait_status(experiment) == 'finished'
    assert os.listdir(tmp_path / 'work_dir')  # MMEngine's log file still has every line
    assert dashboard.scalar_series(experiment, 'train/loss')


def test_the_system_monitors_process_figures_are_the_trainings(tmp_path, swanlog):
    """SwanLab's monitor (every 5 s here) measures the process that calls swanlab.init: made the training."""
    name = 'monitored'
    training = subprocess.Popen(_toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', 150, '--iter-seconds',
                                     0.1, '--val-interval', 1000, '--checkpoint-interval', 1000),
                                stdout=subprocess.DEVNULL, env=clean_env(SWANLAB_PROBE_MONITOR_INTERVAL='5'),
                                cwd=tmp_path)
    trainer = psutil.Process(training.pid)
    writer = writer_of(trainer)
    time.sleep(5)  # both are at work: the run has begun
    rss_mb = {'training': trainer.memory_info().rss / 2 ** 20, 'writer': writer.memory_info().rss / 2 ** 20}
    assert training.wait(300) == 0
    memory = recorded_system_values(swanlog, name, 'mem.proc')  # cpu.thds comes from the same psutil.Process
    assert len(memory) >= 2, memory
    assert abs(rss_mb['training'] - rss_mb['writer']) > 100, rss_mb  # else the test could not tell them apart
    for value in memory:
        assert abs(value - rss_mb['training']) < abs(value - rss_mb['writer']), (value, rss_mb)
