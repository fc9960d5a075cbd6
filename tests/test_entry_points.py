"""What users run: the main script's demo, scripts/train.sh (one process and torchrun), and mim train."""
import os
import subprocess
import sys

import pytest

from ci.check_dashboard import check_experiment, mmengine_records
from ci.dashboard import LocalDashboard, free_port
from ci.run_smoke import smoke_env
from ci.smoke_matrix import SMOKE_CASES

from helpers import ROOT, clean_env

CIFAR = SMOKE_CASES[-1]  # the quickest recipe
TIMEOUT = 900


@pytest.fixture(scope='module')
def cifar_config(tmp_path_factory):
    """The CIFAR-10 recipe with the smoke override, as a config file any entry point can run."""
    from ci.tiny_datasets import make_cifar10
    root = tmp_path_factory.mktemp('entry')
    make_cifar10(root / 'cifar10')
    config = root / f'{CIFAR.name}.py'
    subprocess.run([sys.executable, '-m', 'ci.smoke_train', str(ROOT / CIFAR.config), '--data-root',
                    str(root / 'cifar10'), '--work-dir', str(root / 'unused'), '--dump', str(config)],
                   check=True, capture_output=True, env=smoke_env(str(root / 'unused')), timeout=TIMEOUT)
    return config


def _run(command, log_dir, cwd):
    env = smoke_env(str(log_dir))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def _assert_trained_and_tracked(log_dir, work_dir):
    with LocalDashboard(str(log_dir)) as board:
        assert [e['name'] for e in board.experiments()] == [CIFAR.name]
        assert check_experiment(board, CIFAR.name, str(work_dir), CIFAR.val_metrics, [], CIFAR.model_type) == []


@pytest.mark.parametrize('gpus', [1, 2], ids=['one-process', 'torchrun-2-processes'])
def test_train_sh_trains_and_tracks(cifar_config, tmp_path, gpus):
    work_dir = tmp_path / 'work_dir'
    _run(['bash', str(ROOT / 'scripts' / 'train.sh'), str(cifar_config), str(gpus), '--work-dir', str(work_dir)],
         tmp_path / 'swanlog', tmp_path)
    _assert_trained_and_tracked(tmp_path / 'swanlog', work_dir)


def test_mim_train_runs_a_recipe_with_tracking_and_mim_test_names_the_training(cifar_config, tmp_path):
    work_dir = tmp_path / 'work_dir'
    mim = os.path.join(os.path.dirname(sys.executable), 'mim')
    _run([mim, 'train', 'mmpretrain', str(cifar_config), '--work-dir', str(work_dir)], tmp_path / 'swanlog', tmp_path)
    _assert_trained_and_tracked(tmp_path / 'swanlog', work_dir)
    training_id = (work_dir / 'swanlab_run_id').read_text().strip()
    (checkpoint,) = work_dir.glob('epoch_*.pth')
    _run([mim, 'test', 'mmpretrain', str(cifar_config), '--checkpoint', str(checkpoint), '--work-dir', str(work_dir)],
         tmp_path / 'swanlog', tmp_path)
    with LocalDashboard(str(tmp_path / 'swanlog')) as board:
        trained, tested = board.experiment(CIFAR.name), board.experiment(f'{CIFAR.name}-test')
        last_iteration = max(board.scalar_series(trained, 'train/loss'))
        assert board.scalar_series(tested, 'test/accuracy/top1').keys() == {last_iteration}  # not step 0
        assert board.config(tested)['test.training_run_id'] == training_id


def test_mim_train_with_the_pytorch_launcher_makes_one_experiment_of_two_processes(cifar_config, tmp_path):
    work_dir = tmp_path / 'work_dir'
    mim = os.path.join(os.path.dirname(sys.executable), 'mim')
    result = _run([mim, 'train', 'mmpretrain', str(cifar_config), '--work-dir', str(work_dir), '--gpus', '2',
                   '--launcher', 'pytorch', '--port', str(free_port())], tmp_path / 'swanlog', tmp_path)
    output = result.stdout + result.stderr
    assert 'Distributed training: True' in output and 'GPU number: 2' in output  # MMEngine's report: 2 processes
    assert output.count('no CUDA device: distributed training uses gloo') == 2  # the opt-in fix, once per rank
    _assert_trained_and_tracked(tmp_path / 'swanlog', work_dir)


def test_the_task_packages_own_tools_train_py_trains_with_tracking(cifar_config, tmp_path):
    import mmpretrain
    work_dir = tmp_path / 'work_dir'
    train_py = os.path.join(os.path.dirname(mmpretrain.__file__), '.mim', 'tools', 'train.py')
    _run([sys.executable, train_py, str(cifar_config), '--work-dir', str(work_dir)], tmp_path / 'swanlog', tmp_path)
    _assert_trained_and_tracked(tmp_path / 'swanlog', work_dir)


def test_main_script_explains_the_missing_dataset_and_runs_the_demo(tmp_path):
    env = clean_env(WORK_DIR=str(tmp_path / 'demo'))
    env.pop('DATA_ROOT', None)
    result = subprocess.run(['bash', str(ROOT / 'scripts' / 'train_faster_rcnn.sh')], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=TIMEOUT)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-5000:]
    assert 'no coco dataset at data/coco (looked for data/coco/annotations/instances_train2017.json)' in out
    assert '.mim/tools/misc/download_dataset.py --dataset-name coco2017 --save-dir data/coco' in out
    assert "tracked in SwanLab as the experiment 'faster-rcnn_r50_fpn_1x_coco-demo'" in out
    assert 'demo: not loading the pretrained weights torchvision://resnet50' in out
    assert 'demo: backbone.norm_eval True -> False (training from scratch)' in out
    # The demo shows a detector learning: mAP_50 rises over the validations to a real result.
    map50 = [r['coco/bbox_mAP_50'] for r in mmengine_records(str(tmp_path / 'demo'))[1]]
    rises = sum(later > earlier for earlier, later in zip(map50, map50[1:]))
    assert rises >= 3 and map50[-1] >= 0.3 and map50[-1] > map50[0], map50
    log_dir = tmp_path / 'demo' / 'swanlog'
    assert f'the run finished (success); see it locally: swanlab watch {log_dir}' in out
    with LocalDashboard(str(log_dir)) as board:
        case = SMOKE_CASES[0]
        assert [e['name'] for e in board.experiments()] == [f'{case.name}-demo']
        assert check_experiment(board, f'{case.name}-demo', str(tmp_path / 'demo'), case.val_metrics,
                                case.val_metrics, case.model_type) == []


# The config of SwanLab's MMEngine guide (Faster R-CNN case), as written, with this package in custom_imports.
GUIDE_SNIPPET = '''
# swanlab
custom_imports = dict(  # 引入SwanLab作为日志记录器
    imports=["swanlab_backend"], allow_failed_imports=False
)
vis_backends = [
    dict(type="LocalVisBackend"),
    dict(
        type="SwanlabVisBackend",
        init_kwargs={  # swanlab.init 参数
            "project": "MMDetection",  # 项目名称
            "experiment_name": "faster-rcnn",  # 实验名称
            "description": "faster-rcnn r50 fpn 1x coco",  # 实验的描述信息
        },
    ),
]
visualizer = dict(
    type="DetLocalVisualizer", vis_backends=vis_backends, name="visualizer"
)
'''


def test_swanlab_guide_config_works_as_written(tmp_path):
    from ci.tiny_datasets import make_coco
    make_coco(tmp_path / 'coco')
    config = tmp_path / 'faster-rcnn_r50_fpn_1x_coco.py'
    config.write_text("_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'\n" + GUIDE_SNIPPET)
    work_dir = tmp_path / 'work_dir'
    _run([sys.executable, '-m', 'ci.smoke_train', str(config), '--data-root', str(tmp_path / 'coco'),
          '--work-dir', str(work_dir)], tmp_path / 'swanlog', tmp_path)
    with LocalDashboard(str(tmp_path / 'swanlog')) as board:
        case = SMOKE_CASES[0]
        assert board.get('/project')['name'] == 'MMDetection'
        assert check_experiment(board, 'faster-rcnn', str(work_dir), case.val_metrics, case.val_metrics,
                                case.model_type) == []
        # Without insights the smoke override has DetVisualizationHook draw every image: the test images
        # (logged with the batch index as step) are one list at the test metrics' step.
        exp = board.experiment('faster-rcnn')
        test_steps = sorted(board.scalar_series(exp, 'test/coco/bbox_mAP'))
        test_images = board.media(exp, 'test_img')
        assert [m['step'] for m in test_images] == test_steps and len(test_images[0]['files']) == 4
