"""Fixtures: the real local SwanLab dashboard and the toy training process.

Tests under ``tests/unit/`` run in-process in seconds (``pytest tests/unit``); every
other test trains, starts a dashboard or runs a script, and is marked ``integration``
(``pytest -m "not integration"`` leaves them out).
"""
import subprocess
import sys
from pathlib import Path

import pytest

from ci.dashboard import LocalDashboard

from helpers import TOY_TRAIN, clean_env

UNIT = Path(__file__).parent / 'unit'


def pytest_collection_modifyitems(items):
    for item in items:
        if UNIT not in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope='session')
def swanlog(tmp_path_factory) -> Path:
    """One SwanLab log dir (one project) for all toy runs of the session."""
    return tmp_path_factory.mktemp('swanlog')


@pytest.fixture(scope='session')
def dashboard(swanlog):
    """``swanlab watch`` on 127.0.0.1; it reads the log dir on every request."""
    with LocalDashboard(str(swanlog)) as board:
        yield board


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
