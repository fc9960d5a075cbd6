"""Fixtures: the real local SwanLab dashboard and the toy training process; each test's tier.

A test's folder is its tier, and its marker (``pytest -m unit``...):

- ``tests/hygiene/``: the tree itself (ruff, the two READMEs agree); imports no torch.
- ``tests/unit/``: the package's fast in-process tests, seconds in all; no dashboard, no training.
- ``tests/tooling/``: the project's own tooling (``scripts/lib``, ``ci/``), not the product.
- everything else under ``tests/``: ``integration``: trains, starts a dashboard or runs a script.

``scripts/test.sh`` runs them in that order (hygiene and unit together) and stops at the first tier that fails.
Importing this file imports neither torch nor SwanLab nor ``ci.dashboard``: the fixtures that need them
import them when they run.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TOY_TRAIN, clean_env

TESTS = Path(__file__).resolve().parent
TIERS = ('hygiene', 'unit', 'tooling')


def tier_of(path) -> str:
    """``hygiene``, ``unit`` or ``tooling`` for a file in that folder under ``tests/``, else ``integration``."""
    path = Path(path).resolve()
    parts = path.relative_to(TESTS).parts if TESTS in path.parents else ()
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else 'integration'


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item.path)))


@pytest.fixture(scope='session')
def swanlog(tmp_path_factory) -> Path:
    """One SwanLab log dir (one project) for all toy runs of the session."""
    return tmp_path_factory.mktemp('swanlog')


@pytest.fixture(scope='session')
def dashboard(swanlog):
    """``swanlab watch`` on 127.0.0.1; it reads the log dir on every request."""
    from ci.dashboard import LocalDashboard
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
