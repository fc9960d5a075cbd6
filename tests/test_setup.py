"""The installed environment: the package, the doctor check and config inheritance from the task packages."""
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import VISUALIZERS, init_default_scope

from swanlab_backend import SwanlabVisBackend

from helpers import ROOT, clean_env


def _python(code, cwd, env=None):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=cwd,
                          env=env or clean_env(PYTHONPATH=''), timeout=300)


def test_package_imports_from_any_folder(tmp_path):
    result = _python('import swanlab_backend; print(swanlab_backend.__file__)', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / 'swanlab_backend' / '__init__.py'), \
        (f'{sys.executable} imports another checkout\'s package (an editable install made elsewhere, as in a git '
         f'worktree that shares the venv): run `bash scripts/setup.sh` in {ROOT}')


def test_import_registers_the_backend_and_hook():
    from mmengine.registry import HOOKS, VISBACKENDS

    import swanlab_backend
    assert VISBACKENDS.get('SwanlabVisBackend') is swanlab_backend.SwanlabVisBackend
    assert VISBACKENDS.get('SwanLabVisBackend') is swanlab_backend.SwanlabVisBackend
    assert HOOKS.get('SwanlabHook') is swanlab_backend.SwanlabHook


def test_doctor_passes_and_never_prints_the_key(tmp_path):
    env = clean_env(PYTHONPATH='', SWANLAB_API_KEY='sk-doctor-0123456789abcdef')
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.doctor'], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'all checks passed' in result.stdout
    assert 'API key found' in result.stdout
    assert 'sk-doctor-0123456789abcdef' not in result.stdout + result.stderr
    for check in ('mmcv ops', 'task packages', 'swanboard', 'pip'):
        assert f'ok    {check}' in result.stdout


@pytest.mark.parametrize('base, model_type', [
    ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', 'FasterRCNN'),
    ('mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py', 'EncoderDecoder'),
    ('mmpretrain::resnet/resnet18_8xb16_cifar10.py', 'ImageClassifier'),
])
def test_configs_inherit_installed_task_package_bases(tmp_path, base, model_type):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = '{base}'\n"
                     "custom_imports = dict(imports=['swanlab_backend'], allow_failed_imports=False)\n"
                     "visualizer = dict(vis_backends=[dict(type='SwanlabVisBackend')])\n")
    cfg = Config.fromfile(str(child))
    assert cfg.model.type == model_type
    init_default_scope(cfg.default_scope)
    visualizer = VISUALIZERS.build(dict(cfg.visualizer, name=f'inherit-{model_type}', save_dir=str(tmp_path)))
    assert type(visualizer).__name__ == {'FasterRCNN': 'DetLocalVisualizer', 'EncoderDecoder': 'SegLocalVisualizer',
                                         'ImageClassifier': 'UniversalVisualizer'}[model_type]  # the task's own
    assert [type(b) for b in visualizer._vis_backends.values()] == [SwanlabVisBackend]


# What `import swanlab_backend` may change in MMEngine and torch: nothing but its registrations.
UNTOUCHED = '''
import torch
from mmengine.dist import utils as dist_utils
from mmengine.registry import Registry
from mmengine.runner import Runner, checkpoint
before = (checkpoint.torch, dist_utils._init_dist_pytorch, dist_utils._init_dist_slurm, Runner.wrap_model,
          Runner.resume, Registry.get, torch.load)
import swanlab_backend
after = (checkpoint.torch, dist_utils._init_dist_pytorch, dist_utils._init_dist_slurm, Runner.wrap_model,
         Runner.resume, Registry.get, torch.load)
print('UNTOUCHED' if before == after else f'CHANGED {[a for a, b in zip(after, before) if a != b]}')
import swanlab_backend.stack_fixes
print('FIXED', checkpoint.torch is not torch, Runner.resume is not before[4])
'''


def test_importing_the_package_patches_nothing_and_the_stack_fixes_are_opt_in(tmp_path):
    result = _python(UNTOUCHED, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'UNTOUCHED' in result.stdout, result.stdout
    assert 'FIXED True True' in result.stdout  # torch 2.14 + mmengine 0.10.7 need the resume fix
    assert 'swanlab_backend.stack_fixes' not in result.stdout  # nothing acted yet: nothing said
