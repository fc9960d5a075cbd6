"""The resume fix trusts exactly the run's own checkpoints, and only while the runner loads them."""
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer

from swanlab_backend.tools import stack_fixes


class Runner:
    def __init__(self, work_dir):
        self.work_dir = str(work_dir)


def _checkpoint(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'meta': {'loss': HistoryBuffer()}, 'state_dict': {}}, path)  # as MMEngine saves them
    return path


def test_only_files_in_the_runs_work_dir_are_loaded_with_weights_only_false(tmp_path):
    shim = stack_fixes._TorchTrustingTheRunsOwnFile(torch)
    load = stack_fixes._trusting_the_work_dir(lambda runner, filename: shim.load(filename))
    own, other = _checkpoint(tmp_path / 'work' / 'epoch_1.pth'), _checkpoint(tmp_path / 'download.pth')
    assert isinstance(load(Runner(tmp_path / 'work'), own)['meta']['loss'], HistoryBuffer)
    with pytest.raises(pickle.UnpicklingError):
        load(Runner(tmp_path / 'work'), other)  # load_from= a file from elsewhere: torch's safe default
    with pytest.raises(pickle.UnpicklingError):
        shim.load(own)  # the same file, read outside Runner.resume/load_checkpoint
    with pytest.raises(pickle.UnpicklingError):
        load(Runner(tmp_path / 'wor'), own)  # a sibling folder whose name is a prefix is no work dir


def test_every_recipe_asks_for_the_fixes_and_the_smoke_override_lists_each_import_once(tmp_path):
    """A recipe run by ``mim train``/``tools/train.py`` (not our entry points) still gets the fixes (#24)."""
    import glob
    import os

    from mmengine.config import Config

    from ci.smoke_overrides import apply_smoke_overrides
    recipes = sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', '..', 'recipes', 'mm*', '*.py')))
    assert len(recipes) == 9
    for recipe in recipes:
        assert Config.fromfile(recipe).custom_imports.imports == ['swanlab_backend', 'swanlab_backend.stack_fixes']
    cfg = apply_smoke_overrides(Config.fromfile(recipes[-1]), str(tmp_path))
    assert cfg.custom_imports.imports == ['swanlab_backend', 'swanlab_backend.stack_fixes', 'ci.tiny_datasets']
