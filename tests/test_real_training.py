"""The path real users take (issue: real datasets, real GPUs): a dataset on disk, cached pretrained weights
with no network, auto-scaled lr, a test after training, and every wrong input stopped with its fix."""
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ci.check_dashboard import check_experiment
from ci.dashboard import LocalDashboard, free_port

from cloud_stub import CloudStub
from helpers import ROOT, clean_env

TIMEOUT = 1500
DATASETS = ROOT / 'scripts' / 'lib' / 'datasets.py'


def _user_env(tmp_path, **extra):
    """A user without SwanLab credentials, a torch cache of their own, and no network: any download
    goes to a proxy on a closed loopback port (refused at once)."""
    env = {k: v for k, v in clean_env().items() if not k.upper().startswith(('HTTP', 'NO_PROXY'))}
    env.update(TORCH_HOME=str(tmp_path / 'torch'), HTTPS_PROXY=f'http://127.0.0.1:{free_port()}',
               HTTP_PROXY=f'http://127.0.0.1:{free_port()}', **extra)
    return env


def _place(tmp_path, url, state_dict):
    """Puts weights where MMEngine's downloader would have cached ``url`` (its real file name)."""
    path = tmp_path / 'torch' / 'hub' / 'checkpoints' / os.path.basename(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, path)
    return path


def test_train_stops_before_training_when_weights_cannot_be_had(tmp_path):
    from ci.tiny_datasets import make_coco
    make_coco(tmp_path / 'coco')
    work_dir = tmp_path / 'work_dir'
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.train',
                             str(ROOT / 'recipes/mmdet/faster-rcnn_r50_fpn_1x_coco.py'), '--data-root',
                             str(tmp_path / 'coco'), '--work-dir', str(work_dir)],
                            capture_output=True, text=True, cwd=tmp_path, env=_user_env(tmp_path), timeout=300)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert 'cannot be had, so training stops before it starts' in result.stderr
    assert 'resnet50-0676ba61.pth (missing)' in result.stderr and '--no-pretrained' in result.stderr
    assert not work_dir.exists(), 'nothing may start before the check'


# ---- 3. dataset or demo ---------------------------------------------------------------------------------------

def _script(tmp_path, *args, **env):
    return subprocess.run(['bash', str(ROOT / 'scripts' / 'train_faster_rcnn.sh'), *args], capture_output=True,
                          text=True, cwd=tmp_path, env=_user_env(tmp_path, **env), timeout=TIMEOUT)


def test_a_data_root_without_the_dataset_is_an_error_not_a_demo(tmp_path):
    result = _script(tmp_path, DATA_ROOT=str(tmp_path / 'coco'))
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert f'no coco dataset at {tmp_path}/coco (looked for {tmp_path}/coco/annotations/instances_train2017' \
        in result.stderr
    assert 'demo' not in result.stdout


@pytest.mark.parametrize('args, env', [((), {'GPUS': '2'}), (('--amp',), {})], ids=['GPUS=2', 'extra-option'])
def test_options_for_a_real_training_are_refused_by_the_demo(tmp_path, args, env):
    result = _script(tmp_path, *args, **env)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'not running the demo' in result.stderr and 'are for a real training' in result.stderr


# ---- 5. learning rate ---------------------------------------------------------------------------------------------

def test_auto_scale_lr_needs_a_base_batch_size(tmp_path):
    from mmengine.config import Config

    from swanlab_backend.tools.train import set_lr_scaling
    cfg = Config.fromfile(str(ROOT / 'recipes/mmseg/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py'))
    set_lr_scaling(cfg, True, 4)  # the recipe adds the base batch that mmseg's config leaves out
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=8)
    cfg.pop('auto_scale_lr')  # as upstream has it
    with pytest.raises(ValueError, match=r'auto_scale_lr.base_batch_size=N\).*--no-auto-scale-lr'):
        set_lr_scaling(cfg, True, 1)


# ---- 6. hints ---------------------------------------------------------------------------------------------------

def _datasets_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('recipe_datasets', DATASETS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_dataset_hint_names_what_the_installed_packages_ship():
    datasets = _datasets_module()
    for name, dataset in datasets.DATASETS.items():
        text = datasets.hint_text(dataset)
        assert 'mim download' not in text, name
        for tool in [part.split('}')[0] for part in dataset.hint.split('{tool:')[1:]]:
            assert os.path.isfile(datasets.tool_path(tool)), (name, datasets.tool_path(tool))
    from mmpretrain.datasets import CIFAR10
    assert 'download' in inspect.signature(CIFAR10).parameters
    assert '--dataset-name ade20k_2016' in datasets.DATASETS['ade20k'].hint
    assert 'ade20k_2016=[' in Path(datasets.tool_path('mmdet/tools/misc/download_dataset.py')).read_text()


# ---- 7. the closing message ----------------------------------------------------------------------------------

def test_closing_message_offline_names_the_sync_command(toy_run, tmp_path):
    result = toy_run('closing-offline', '--length', 1, '--extra-init-kwargs', "{'mode': None}",
                     env=clean_env(SWANLAB_MODE='offline'))
    run_dir = re.search(r'the run finished \(success\); see it offline in (\S+); upload with: swanlab sync (\S+)',
                        result.stdout)
    assert run_dir and run_dir.group(1) == run_dir.group(2) and os.path.isdir(run_dir.group(1)), result.stdout[-3000:]


def test_closing_message_for_a_swanlab_login_user_gives_the_run_url(toy_run, tmp_path):
    with CloudStub() as cloud:
        swanlab = str(Path(sys.executable).parent / 'swanlab')
        login = subprocess.run([swanlab, 'login', '--api-key', 'stub-key-0123456789', '--host', cloud.url, '--local'],
                               capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=120)
        assert login.returncode == 0, login.stdout + login.stderr
        assert 'SWANLAB_API_KEY' not in clean_env()
        result = toy_run('closing-online', '--length', 1, '--extra-init-kwargs', "{'mode': None}", env=clean_env())
        (cuid,) = [cuid for cuid, experiment in cloud.experiments.items() if experiment['name'] == 'closing-online']
    url = re.search(r'the run finished \(success\); see it online at (\S+)', result.stdout)
    assert url, result.stdout[-3000:]
    assert url.group(1).startswith(cloud.url) and cuid in url.group(1)


# ---- 4. a later test of a checkpoint, online --------------------------------------------------------------------

def test_a_later_test_online_goes_into_the_training_experiment_at_the_checkpoint_iteration(toy_run, tmp_path):
    work_dir = tmp_path / 'work_dir'
    with CloudStub() as cloud:
        env = clean_env(SWANLAB_API_KEY='stub-key-0123456789', SWANLAB_API_HOST=cloud.url, SWANLAB_WEB_HOST=cloud.url)
        online = ('--extra-init-kwargs', f"{{'mode': None, 'log_dir': '{tmp_path / 'online'}'}}")
        toy_run('tested-later', '--length', 2, '--no-test', *online, env=env, work_dir=work_dir)
        training_id = (work_dir / 'swanlab_run_id').read_text().strip()
        toy_run('tested-later', '--test-only', work_dir / 'epoch_1.pth', *online, env=env, work_dir=work_dir)
        assert list(cloud.experiments) == [training_id], 'the test must reopen the training, not start a run'
        experiment = cloud.experiments[training_id]
        assert dict(experiment['scalars']['test/accuracy']).keys() == {4}  # epoch 1 ended at iteration 4
        assert max(experiment['scalars']['train/loss']) == 8
        assert cloud.unknown == []


# ---- 9. API key in a config ---------------------------------------------------------------------------------------

def test_mim_train_refuses_a_config_with_an_api_key_before_writing_anything(tmp_path):
    key = 'sk-in-config-0123456789abcdef'
    config = tmp_path / 'faster-rcnn_r50_fpn_1x_coco.py'
    text = (ROOT / 'recipes/mmdet/faster-rcnn_r50_fpn_1x_coco.py').read_text()
    config.write_text(text.replace("tracking.swanlab_backend]",
                                   f"dict(type='SwanlabVisBackend', init_kwargs=dict(api_key='{key}'))]"))
    work_dir = tmp_path / 'work_dir'
    mim = os.path.join(os.path.dirname(sys.executable), 'mim')
    result = subprocess.run([mim, 'train', 'mmdet', str(config), '--work-dir', str(work_dir)], capture_output=True,
                            text=True, cwd=tmp_path, env=_user_env(tmp_path), timeout=300)
    assert result.returncode != 0
    assert f'{config}, line 6: a SwanLab API key (`api_key`) in a config' in result.stderr, result.stderr[-3000:]
    assert key not in result.stdout + result.stderr
    assert not work_dir.exists()


# ---- the proof: real layouts, cached weights, no network ----------------------------------------------------------

def _torchvision_resnet50():
    import torchvision
    return torchvision.models.resnet50().state_dict()


def _mit_b0():
    from mmseg.models.backbones import MixVisionTransformer
    return MixVisionTransformer(embed_dims=32, num_heads=[1, 2, 5, 8], num_layers=[2, 2, 2, 2]).state_dict()


def test_faster_rcnn_trains_for_real_with_cached_weights_scaled_lr_and_a_test(tmp_path):
    from ci.tiny_datasets import make_coco
    make_coco(tmp_path / 'coco')
    weights = _place(tmp_path, 'https://download.pytorch.org/models/resnet50-0676ba61.pth', _torchvision_resnet50())
    work_dir, log_dir = tmp_path / 'work_dir', tmp_path / 'swanlog'
    # One epoch of 4 iterations: keep every box (score_thr=0) so that COCO evaluation has predictions to score.
    result = _script(tmp_path, '--cfg-options', 'train_cfg.max_epochs=1', 'model.test_cfg.rcnn.score_thr=0.0',
                     'randomness.seed=1', DATA_ROOT=str(tmp_path / 'coco'),
                     WORK_DIR=str(work_dir), SWANLAB_LOG_DIR=str(log_dir))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert f'Pretrained weights torchvision://resnet50: found {weights}' in out
    assert 'load model from: torchvision://resnet50' in out  # MMEngine's own PretrainedInit
    assert 'unexpected key in source state_dict: fc.weight, fc.bias' in out  # ... really read the file
    assert 'auto_scale_lr: effective batch 1 process(es) x 2 = 2; the config\'s lr 0.02 is for a batch of 16, ' \
           'so this run trains with lr 0.0025' in out
    assert 'testing the final weights (iteration 4)' in out
    assert f'the run finished (success); see it locally: swanlab watch {log_dir}' in out
    with LocalDashboard(str(log_dir)) as board:
        assert check_experiment(board, 'faster-rcnn_r50_fpn_1x_coco', str(work_dir), ['coco/bbox_mAP'],
                                ['coco/bbox_mAP'], 'FasterRCNN', media=False) == []
        experiment = board.experiment('faster-rcnn_r50_fpn_1x_coco')
        assert board.scalar_series(experiment, 'test/coco/bbox_mAP').keys() == {4}  # the last iteration
        assert board.config(experiment)['optim_wrapper.optimizer.lr'] == 0.02  # the recipe's; runner scales


def test_segformer_trains_for_real_with_cached_weights(tmp_path):
    from ci.tiny_datasets import make_ade20k
    make_ade20k(tmp_path / 'ade')
    url = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b0_20220624-7e0fe6dd.pth'
    weights = _place(tmp_path, url, _mit_b0())
    work_dir, log_dir = tmp_path / 'work_dir', tmp_path / 'swanlog'
    result = subprocess.run(
        ['bash', str(ROOT / 'scripts' / 'train_segformer.sh'), '--cfg-options', 'train_cfg.max_iters=2',
         'train_cfg.val_interval=2', 'train_dataloader.batch_size=1', 'default_hooks.logger.interval=1'],
        capture_output=True, text=True, cwd=tmp_path, timeout=TIMEOUT,
        env=_user_env(tmp_path, DATA_ROOT=str(tmp_path / 'ade'), WORK_DIR=str(work_dir), SWANLAB_LOG_DIR=str(log_dir)))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert f'found {weights}' in out and f'load model from: {url}' in out
    assert 'effective batch 1 process(es) x 1 = 1' in out
    with LocalDashboard(str(log_dir)) as board:
        assert check_experiment(board, 'segformer_mit-b0_8xb2-160k_ade20k-512x512', str(work_dir), ['mIoU'],
                                ['mIoU'], 'EncoderDecoder', media=False) == []


def test_resnet50_trains_then_a_later_test_names_its_training_at_the_checkpoint_iteration(tmp_path):
    from ci.tiny_datasets import make_imagenet
    make_imagenet(tmp_path / 'imagenet')
    work_dir, log_dir = tmp_path / 'work_dir', tmp_path / 'swanlog'
    env = _user_env(tmp_path, DATA_ROOT=str(tmp_path / 'imagenet'), WORK_DIR=str(work_dir),
                    SWANLAB_LOG_DIR=str(log_dir))
    loaders = [f'{loader}.batch_size=4' for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    result = subprocess.run(['bash', str(ROOT / 'scripts' / 'train_resnet50_in1k.sh'), '--cfg-options',
                             'train_cfg.max_epochs=1', *loaders], capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=TIMEOUT)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert 'lr 0.1 is for a batch of 256, so this run trains with lr 0.0015625' in out
    training_id = (work_dir / 'swanlab_run_id').read_text().strip()
    config = ROOT / 'recipes/mmpretrain/resnet50_8xb32_in1k.py'
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.test', str(config), str(work_dir / 'epoch_1.pth'),
                             '--work-dir', str(work_dir), '--data-root', str(tmp_path / 'imagenet')],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=TIMEOUT)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert (work_dir / 'swanlab_run_id').read_text().strip() == training_id  # resume still finds the training
    with LocalDashboard(str(log_dir)) as board:
        trained = board.experiment('resnet50_8xb32_in1k')
        tested = board.experiment('resnet50_8xb32_in1k-test')
        assert board.scalar_series(trained, 'test/accuracy/top1').keys() == {4}
        later = board.scalar_series(tested, 'test/accuracy/top1')
        assert later.keys() == {4}, later  # the checkpoint's iteration, not 0
        assert later[4] == board.scalar_series(trained, 'test/accuracy/top1')[4]
        config = board.config(tested)
        assert config['test.training_run_id'] == training_id
        assert config['test.checkpoint'].endswith('epoch_1.pth')
