"""Shared fixtures: the real local SwanLab dashboard and the toy training process."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ci.dashboard import LocalDashboard  # noqa: E402

TOY_TRAIN = ROOT / 'tests' / 'toy_train.py'


@pytest.fixture(scope='session')
def swanlog(tmp_path_factory) -> Path:
    """One SwanLab log dir (one project) for all toy runs of the session."""
    return tmp_path_factory.mktemp('swanlog')


@pytest.fixture(scope='session')
def dashboard(swanlog):
    """``swanlab watch`` on 127.0.0.1; it reads the log dir on every request."""
    with LocalDashboard(str(swanlog)) as board:
        yield board


def clean_env(**overrides) -> dict:
    """The environment of a user without SwanLab credentials, so runs default to local mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('SWANLAB_')}
    env['PYTHONPATH'] = os.pathsep.join([str(ROOT), env.get('PYTHONPATH', '')])
    env.update(overrides)
    return env


@pytest.fixture
def toy_run(tmp_path, swanlog):
    """Runs ``tests/toy_train.py`` in a subprocess; returns the CompletedProcess.

    The experiment's name is the test's own; ``expect`` is the exit code that
    must come back (the output is shown when it does not).
    """
    def run(name, *args, expect=0, timeout=300, env=None, work_dir=None):
        command = [sys.executable, str(TOY_TRAIN), '--work-dir', str(work_dir or tmp_path / 'work_dir'),
                   '--log-dir', str(swanlog), '--name', name, *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env=env or clean_env(), cwd=tmp_path)
        assert result.returncode == expect, (
            f'exit code {result.returncode}, expected {expect}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}')
        return result
    return run


def printed_metric(output: str, phase: str, key: str) -> list:
    """The values of ``key`` in MMEngine's ``Epoch(phase)``/``Iter(phase)`` summary lines."""
    import re
    values = []
    for line in output.splitlines():
        if re.search(rf'(Epoch|Iter)\({phase}\)', line) and f'{key}:' in line:
            values.append(float(re.search(rf'{re.escape(key)}: ([-\d.e+]+)', line).group(1)))
    return values
