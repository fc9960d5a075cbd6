"""A recipe copied alone into another project works there, with the package installed from its wheel."""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from ci.check_dashboard import check_experiment
from ci.dashboard import LocalDashboard
from ci.run_smoke import smoke_env

from helpers import ROOT

RECIPES = sorted(glob.glob(str(ROOT / 'recipes' / 'mm*' / '*.py')))
VISUALIZERS = {'mmdet': 'DetLocalVisualizer', 'mmseg': 'SegLocalVisualizer', 'mmpretrain': 'UniversalVisualizer'}

LOAD_ALL = '''
import json, sys
from mmengine.config import Config
import swanlab_backend
loaded = {path: Config.fromfile(path).visualizer for path in sys.argv[1:]}
print(json.dumps({'package': swanlab_backend.__file__, 'visualizers': loaded}))
'''


@pytest.fixture(scope='module')
def wheel_site(tmp_path_factory):
    """``swanlab_backend`` built as a wheel and installed into a folder of its own (a user's environment
    with their own torch/mmcv/OpenMMLab: this venv's, minus the editable install of this checkout)."""
    out = tmp_path_factory.mktemp('wheel')
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run([*pip, 'wheel', '--no-deps', '--no-build-isolation', '-w', str(out / 'dist'), str(ROOT)],
                   check=True, timeout=300, cwd=out)
    wheels = glob.glob(str(out / 'dist' / 'swanlab_openmmlab-*.whl'))
    assert len(wheels) == 1, wheels
    subprocess.run([*pip, 'install', '--no-deps', '--target', str(out / 'site'), wheels[0]], check=True, timeout=300)
    return out / 'site'


def _user_env(site, log_dir):
    env = smoke_env(str(log_dir))
    env['PYTHONPATH'] = str(site)  # ahead of the venv's editable finder, and no repository on the path
    return env


def test_every_recipe_copied_alone_loads_with_tracking(wheel_site, tmp_path):
    project = tmp_path / 'my_project' / 'configs'
    project.mkdir(parents=True)
    copies = []
    for recipe in RECIPES:
        copies.append(project / os.path.basename(recipe))
        shutil.copy(recipe, copies[-1])
    result = subprocess.run([sys.executable, '-c', LOAD_ALL, *map(str, copies)], capture_output=True, text=True,
                            cwd=tmp_path, env=_user_env(wheel_site, tmp_path / 'swanlog'), timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded['package'].startswith(str(wheel_site)), loaded['package']
    assert len(loaded['visualizers']) == len(RECIPES) == 9
    for recipe, copy in zip(RECIPES, copies):
        visualizer = loaded['visualizers'][str(copy)]
        family = os.path.basename(os.path.dirname(recipe))
        assert visualizer['type'] == VISUALIZERS[family], (copy, visualizer)
        assert visualizer['vis_backends'] == [
            {'type': 'LocalVisBackend'},
            {'type': 'SwanlabVisBackend', 'init_kwargs': {'project': 'openmmlab-recipes'}, 'insights': {}}], \
            (copy, visualizer)


def _mim_train(config, work_dir, site, log_dir, *options):
    mim = os.path.join(os.path.dirname(sys.executable), 'mim')
    result = subprocess.run([mim, 'train', 'mmpretrain', config.name, '--work-dir', str(work_dir), *options],
                            capture_output=True, text=True, cwd=config.parent, env=_user_env(site, log_dir),
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def test_copied_recipe_trains_and_resumes_through_mim_with_the_wheel(wheel_site, tmp_path):
    """Trained, stopped and resumed through ``mim train``: the recipe's own ``custom_imports`` bring the resume
    fix (torch >= 2.6 loads with ``weights_only=True``), as none of our entry points runs here (#24)."""
    from ci.tiny_datasets import make_imagenet
    data = make_imagenet(tmp_path / 'data' / 'imagenet')  # 16 training images: 8 iterations an epoch
    config = tmp_path / 'resnet50_8xb32_in1k.py'
    shutil.copy(ROOT / 'recipes' / 'mmpretrain' / 'resnet50_8xb32_in1k.py', config)
    work_dir, log_dir = tmp_path / 'work_dir', tmp_path / 'swanlog'
    tiny = [f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
            for key in (f'dataset.data_root={data}', 'batch_size=2', 'num_workers=0', 'persistent_workers=False')]
    out = _mim_train(config, work_dir, wheel_site, log_dir, '--cfg-options', *tiny, 'train_cfg.max_epochs=1',
                     'default_hooks.logger.interval=1')
    assert f'swanlab watch {log_dir}' in out
    with LocalDashboard(str(log_dir)) as board:
        assert board.get('/project')['name'] == 'openmmlab-recipes'
        assert check_experiment(board, 'resnet50_8xb32_in1k', str(work_dir), ['accuracy/top1'], [],
                                'ImageClassifier', media=False) == []
    first_id = (work_dir / 'swanlab_run_id').read_text().strip()
    assert (work_dir / 'epoch_1.pth').is_file()

    # Stopped after epoch 1; resumed to 2 epochs.
    out = _mim_train(config, work_dir, wheel_site, log_dir, '--resume', '--cfg-options', *tiny,
                     'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1')
    assert 'resumed epoch: 1, iter: 8' in out, out[-3000:]  # mmengine loaded its own checkpoint
    assert 'swanlab_backend.stack_fixes: loading' in out  # through the fix the recipe asked for
    with LocalDashboard(str(log_dir)) as board:
        # The dashboard tells a second experiment of the same name by a suffix.
        first, second = board.experiment('resnet50_8xb32_in1k'), board.experiment('resnet50_8xb32_in1k-2')
        assert 'resume.resumed' not in board.config(first)
        assert first['run_id'].endswith(f'-{first_id}')
        # Local mode cannot reopen a run: the resumed one is new, names the one it continues, starts after it.
        assert board.config(second)['resume.resumed'] is True
        assert board.config(second)['resume.previous_run_id'] == first_id
        assert sorted(board.scalar_series(first, 'train/loss')) == list(range(1, 9))
        assert sorted(board.scalar_series(second, 'train/loss')) == list(range(9, 17))
        assert sorted(board.scalar_series(second, 'val/accuracy/top1')) == [16]
        assert board.wait_status(second) == 'finished'
