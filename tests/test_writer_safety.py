"""The writer process where trainings really run: containers, dead writers, shared or full spools (README,
fault rows 17-22).

Each test runs the toy training (a real MMEngine Runner) as a user would, with the real writer process, and
reads back SwanLab's own local record and the real local dashboard.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

from swanlab_backend.handover.journal import MAGIC, JournalWriter
from swanlab_backend.writer.run_writer import read_status

from helpers import TOY_TRAIN, RunsCode, clean_env, logged_steps, recorded_runs, writer_of

SPOOL_WARNING = 'not using the spool folder'


def _toy(tmp_path, swanlog, name, *args, prefix=()):
    return [*prefix, sys.executable, str(TOY_TRAIN), '--work-dir', str(tmp_path / f'work_dir_{name}'),
            '--log-dir', str(swanlog), '--name', name, '--no-test', *map(str, args)]


def _run(command, env, tmp_path, timeout=600):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'exit code {result.returncode}\n{output[-6000:]}'
    return output


def _read_until(process, marker: str) -> str:
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return ''.join(seen)
    raise AssertionError(f'{marker!r} never came; the training printed:\n{"".join(seen)[-6000:]}')


def test_row17_in_a_pid_namespace_the_run_is_complete_when_the_training_exits(tmp_path, swanlog, dashboard):
    """A container (Docker, Kubernetes) or a Slurm step kills every process left when the main one exits."""
    name, iterations = 'pid-namespace', 3000
    command = _toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', iterations, '--val-interval', iterations,
                   '--checkpoint-interval', iterations, prefix=('unshare', '--fork', '--pid', '--mount-proc'))
    probe = subprocess.run(['unshare', '--fork', '--pid', '--mount-proc', 'true'], capture_output=True, text=True)
    assert probe.returncode == 0, f'this test needs a PID namespace (root): unshare said {probe.stderr.strip()}'
    _run(command, clean_env(), tmp_path, timeout=900)
    assert recorded_runs(swanlog)[name] == 'FINISHED'
    assert logged_steps(swanlog, name, 'train/loss') == set(range(1, iterations + 1))
    assert dashboard.wait_status(dashboard.experiment(name)) == 'finished'


def test_row18_a_writer_killed_mid_run_is_replaced_and_nothing_is_lost(tmp_path, swanlog, dashboard):
    name, iterations = 'writer-killed', 60
    training = subprocess.Popen(
        _toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', iterations, '--val-interval', 100,
             '--checkpoint-interval', 100, '--iter-seconds', 0.1),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env(), cwd=tmp_path)
    writer = writer_of(psutil.Process(training.pid))
    # killed once it has started the run (on a loaded machine that takes a few iterations), at the next iteration
    printed = _read_until(training, 'SwanLab: tracking this run')
    printed += _read_until(training, 'Iter(train) [')
    killed_at = int(re.findall(r'Iter\(train\) \[ *(\d+)/', printed)[-1])
    writer.kill()
    printed += training.stdout.read()
    assert training.wait(300) == 0, printed[-6000:]
    assert printed.count('a new one (pid') == 1, printed[-6000:]
    first, continued = dashboard.experiment(name), dashboard.experiment(f'{name}-continued')
    assert dashboard.wait_status(first) == 'crashed' and dashboard.wait_status(continued) == 'finished'
    before, after = logged_steps(swanlog, name, 'train/loss'), logged_steps(swanlog, f'{name}-continued', 'train/loss')
    assert set(range(killed_at, iterations + 1)) <= after
    assert before | after == set(range(1, iterations + 1)), (sorted(before), sorted(after))
    assert recorded_runs(swanlog)[f'{name}-continued'] == 'FINISHED'


def test_row19_a_journal_left_by_killing_training_and_writer_is_replayed_by_one_command(tmp_path, swanlog,
                                                                                      dashboard):
    name, hang_at = 'both-killed', 35
    env = clean_env(SWANLAB_BACKEND_SPOOL=str(tmp_path / 'spool'))
    training = subprocess.Popen(
        _toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', 40, '--val-interval', 100,
             '--checkpoint-interval', 100, '--iter-seconds', 0.1, '--hang-at', hang_at),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    writer = writer_of(psutil.Process(training.pid))
    folder = next(Path(p) for p in (tmp_path / 'spool').iterdir())
    deadline = time.monotonic() + 120
    while read_status(str(folder)).get('phase') != 'running':  # the run has begun: then the writer falls behind
        assert time.monotonic() < deadline, 'the writer never started its run'
        time.sleep(0.05)
    writer.suspend()
    _read_until(training, 'TOY_HANGING')
    writer.kill()
    training.kill()
    training.wait(30)

    later = _run(_toy(tmp_path, swanlog, 'after-both-killed', '--length', 1), env, tmp_path)
    assert later.count('python -m swanlab_backend.replay') == 1, later[-6000:]
    replayed = _run([sys.executable, '-m', 'swanlab_backend.replay'], env, tmp_path)
    assert not folder.exists(), replayed
    steps = logged_steps(swanlog, name, 'train/loss') | logged_steps(swanlog, f'{name}-continued', 'train/loss')
    assert steps == set(range(1, hang_at)), sorted(steps)
    assert dashboard.wait_status(dashboard.experiment(name)) == 'crashed'
    assert dashboard.wait_status(dashboard.experiment(f'{name}-continued')) == 'crashed'
    nothing_left = _run([sys.executable, '-m', 'swanlab_backend.replay'], env, tmp_path)
    assert 'no journal is left behind' in nothing_left


def test_row20_a_spool_made_by_another_user_is_never_written_into(tmp_path, swanlog, dashboard, toy_run):
    """On a shared server anyone can create /tmp/swanlab_backend-<uid> before you do."""
    theirs = tmp_path / 'spool'
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)  # nobody
    os.chmod(theirs, 0o777)
    env = clean_env(SWANLAB_BACKEND_SPOOL=str(theirs), HOME=str(tmp_path / 'home'))
    result = toy_run('foreign-spool', env=env)
    assert list(theirs.iterdir()) == []
    output = result.stdout + result.stderr
    assert output.count(SPOOL_WARNING) == 1 and 'belongs to user id 65534' in output, output[-4000:]
    assert dashboard.wait_status(dashboard.experiment('foreign-spool')) == 'finished'
    assert logged_steps(swanlog, 'foreign-spool', 'train/loss') == {1, 2, 3, 4, 5, 6, 7, 8}


def test_row21_a_spool_below_a_regular_file_keeps_the_journal_in_memory(tmp_path, swanlog, dashboard, toy_run):
    (tmp_path / 'a-file').write_text('not a folder')
    result = toy_run('spool-below-a-file', env=clean_env(SWANLAB_BACKEND_SPOOL=str(tmp_path / 'a-file' / 'spool')))
    output = result.stdout + result.stderr
    assert output.count(SPOOL_WARNING) == 1 and 'cannot be created' in output, output[-4000:]
    assert dashboard.wait_status(dashboard.experiment('spool-below-a-file')) == 'finished'
    assert logged_steps(swanlog, 'spool-below-a-file', 'train/loss') == {1, 2, 3, 4, 5, 6, 7, 8}


def test_row22_a_spool_that_fills_up_mid_run_loses_no_scalar(tmp_path, swanlog, dashboard):
    small = tmp_path / 'small-spool'
    small.mkdir(mode=0o700)
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', str(small)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, f'this test needs a 3 MB tmpfs (root): mount said {mounted.stderr.strip()}'
    try:
        name, iterations = 'spool-fills-up', 60
        output = _run(_toy(tmp_path, swanlog, name, '--loop', 'iter', '--length', iterations, '--val-interval', 100,
                           '--checkpoint-interval', 100, '--train-image-size', '(800, 600)'),
                      clean_env(SWANLAB_BACKEND_SPOOL=str(small)), tmp_path)
    finally:
        subprocess.run(['umount', str(small)], check=True)
    assert output.count('cannot take more') == 1, output[-6000:]
    assert logged_steps(swanlog, name, 'train/loss') == set(range(1, iterations + 1))
    assert len(logged_steps(swanlog, name, 'train_photo')) == iterations
    assert dashboard.wait_status(dashboard.experiment(name)) == 'finished'


def test_a_journal_record_crafted_to_run_code_is_skipped_by_the_writer(tmp_path, swanlog, dashboard):
    import pickle
    import struct
    import zlib
    root = tmp_path / 'spool'
    root.mkdir(mode=0o700)
    folder = root / '999999999-crafted'  # a training that is long gone
    folder.mkdir(mode=0o700)
    journal = JournalWriter(str(folder))
    journal.append(['init', dict(init_kwargs=dict(project='writer', experiment_name='crafted', log_dir=str(swanlog),
                                                  mode='local'), reopen_id=None, new_run={})])
    journal.append(['log', {'value': 1.0}, 1])
    payload = pickle.dumps(['log', {'value': RunsCode(tmp_path / 'code-ran')}, 2])
    with open(folder / 'segment-000000', 'ab') as f:
        f.write(struct.pack('<4sIII', MAGIC, len(payload), 0, zlib.crc32(payload)) + payload)
    journal.append(['log', {'value': 3.0}, 3])
    journal.append(['finish', 'success', None, True])
    journal.close()
    env = clean_env(SWANLAB_BACKEND_SPOOL=str(root))
    output = _run([sys.executable, '-m', 'swanlab_backend.replay', '--list'], env, tmp_path)
    assert str(folder) in output
    output = _run([sys.executable, '-m', 'swanlab_backend.replay'], env, tmp_path)
    assert 'could not be read (not a journal record' in output, output
    assert not (tmp_path / 'code-ran').exists(), 'the writer ran code from the journal'
    assert dashboard.scalar_series(dashboard.experiment('crafted'), 'value') == {1: 1.0, 3: 3.0}

