"""An MMEngine work dir trained without SwanLab, imported, equals a live-tracked run of the same config and seed."""
import io
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from ci.dashboard import LocalDashboard
from ci.run_smoke import smoke_env
from ci.smoke_matrix import SMOKE_CASES

from helpers import ROOT

CIFAR = SMOKE_CASES[-1]
TIMINGS = ('time', 'data_time', 'eta')  # what no two runs share


@pytest.fixture(scope='module')
def two_runs(tmp_path_factory):
    """The CIFAR-10 smoke recipe (seed 1) trained twice: live-tracked, and with LocalVisBackend only."""
    from ci.tiny_datasets import make_cifar10
    root = tmp_path_factory.mktemp('import')
    make_cifar10(root / 'cifar10')
    env = smoke_env(str(root / 'swanlog'))
    live_config = root / 'live' / f'{CIFAR.name}.py'
    live_config.parent.mkdir()
    subprocess.run([sys.executable, '-m', 'ci.smoke_train', str(ROOT / CIFAR.config), '--data-root',
                    str(root / 'cifar10'), '--work-dir', str(root / 'unused'), '--dump', str(live_config)],
                   check=True, capture_output=True, env=env, timeout=600)
    # The import reads what MMEngine wrote: images from the task's visualization hook, not the insights
    # (which only the SwanLab backend logs), so the live run compared with it draws the same way.
    live = Config.fromfile(str(live_config))
    live.visualizer.vis_backends[-1]['insights'] = None
    live.default_hooks.visualization.update(enable=True, interval=1)
    live.dump(str(live_config))
    local_only = Config.fromfile(str(live_config))
    local_only.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    local_config = root / 'local' / f'{CIFAR.name}.py'
    local_config.parent.mkdir()
    local_only.dump(str(local_config))
    for config, work_dir in ((live_config, root / 'live_work'), (local_config, root / 'local_work')):
        result = subprocess.run([sys.executable, '-m', 'swanlab_backend.train', str(config), '--work-dir',
                                 str(work_dir)], capture_output=True, text=True, env=env, cwd=root, timeout=900)
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return root, env


def _import(root, env, *args):
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.import_work_dir', str(root / 'local_work'),
                             '--name', 'imported', *args], capture_output=True, text=True, env=env, cwd=root,
                            timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def _pixels(board, experiment, key, filename):
    return np.asarray(Image.open(io.BytesIO(board.media_bytes(experiment, key, filename))).convert('RGB'))


def test_the_imported_run_equals_the_live_one_key_by_key_and_step_by_step(two_runs):
    root, env = two_runs
    assert 'is now run' in _import(root, env)
    with LocalDashboard(str(root / 'swanlog')) as board:
        live, imported = board.experiment(CIFAR.name), board.experiment('imported')
        keys = board.tags(live)
        assert board.tags(imported) == keys
        assert board.wait_status(imported) == 'finished'
        charts = {c['source'][0]: c['type'] for c in board.get(f'/experiment/{live["id"]}/chart')['charts']}
        scalars = [k for k in keys if charts.get(k) == 'line']
        assert {'train/loss', 'train/lr', 'val/accuracy/top1', 'val/epoch', 'test/accuracy/top1',
                'best/accuracy/top1', 'best/accuracy/top1_iter'} <= set(scalars)
        for key in scalars:
            expected, got = board.scalar_series(live, key), board.scalar_series(imported, key)
            assert sorted(got) == sorted(expected), key
            if key.rsplit('/', 1)[-1] not in TIMINGS:
                assert got == pytest.approx(expected, rel=1e-5, abs=1e-6), key
        assert 'epoch_2.pth' in board.media(imported, 'checkpoints/ledger')[-1]['files'][0]
        images = [k for k in keys if charts.get(k) == 'image']
        assert images, 'the run logged images'
        test_step = max(board.scalar_series(live, 'test/accuracy/top1'))
        for key in images:
            live_media, imported_media = board.media(live, key), board.media(imported, key)
            # Live, the test's images go together to the test's step; the work dir only has the steps MMEngine
            # recorded (mmpretrain: 0 for test images), which the import keeps.
            validation = [m for m in live_media if m['step'] != test_step]
            assert len(validation) >= len(live_media) - 1 and len(imported_media) >= len(validation), key
            assert [m['step'] for m in imported_media[:len(validation)]] == [m['step'] for m in validation], key
            for a, b in zip(validation, imported_media):
                assert (_pixels(board, live, key, a['files'][0]) == _pixels(board, imported, key, b['files'][0])).all()
        assert board.config(imported)['model.backbone.depth'] == board.config(live)['model.backbone.depth'] == 18


def _imported_experiments(root):
    with LocalDashboard(str(root / 'swanlog')) as board:
        return len([e for e in board.experiments() if e['name'].startswith('imported')])  # SwanLab: imported-2


def test_a_second_import_says_so_unless_forced(two_runs):
    root, env = two_runs
    _import(root, env)  # the first import, unless the test above made it
    before = _imported_experiments(root)
    assert 'was imported already, as run' in _import(root, env)
    assert _imported_experiments(root) == before
    assert 'is now run' in _import(root, env, '--force')
    assert _imported_experiments(root) == before + 1
