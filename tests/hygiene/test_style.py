"""House style: ruff (lint and import order, one line length: pyproject.toml) passes on the whole tree."""
import os
import subprocess
import sys

from helpers import ROOT


def test_ruff_finds_nothing():
    ruff = os.path.join(os.path.dirname(sys.executable), 'ruff')
    result = subprocess.run([ruff, 'check', str(ROOT)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
