"""Distributed training on CPUs with gloo under torchrun: one experiment per job, no hang, crashes marked."""
import subprocess
import sys
import time

import pytest

from ci.dashboard import LocalDashboard, free_port
from ci.run_smoke import check_case, smoke_env
from ci.smoke_matrix import SMOKE_CASES

from helpers import ROOT, TOY_TRAIN, clean_env

CIFAR = SMOKE_CASES[-1]
FASTER_RCNN = SMOKE_CASES[0]
JOB_TIMEOUT = 600


def _torchrun(*args, nnodes=1, node_rank=0, nproc=2, port):
    return [sys.executable, '-m', 'torch.distributed.run', f'--nnodes={nnodes}', f'--node_rank={node_rank}',
            f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1', f'--master_port={port}', *map(str, args)]


def _smoke_args(data_root, work_dir):
    return ['-m', 'ci.smoke_train', ROOT / FASTER_RCNN.config, '--data-root', data_root / 'coco',
            '--work-dir', work_dir, '--launcher', 'pytorch']


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    from ci.tiny_datasets import make_coco
    root = tmp_path_factory.mktemp('data')
    make_coco(root / 'coco')
    return root


def _assert_one_complete_experiment(log_dir, work_dir):
    with LocalDashboard(str(log_dir)) as board:
        assert [e['name'] for e in board.experiments()] == [FASTER_RCNN.name]
        # Every iteration rank 0 logged, once, with its values; val and test metrics; config; image.
        assert check_case(board, FASTER_RCNN, str(work_dir)) == []
        # The gallery holds all 4 validation images, though each rank validated 2 of them.
        gallery = board.media(board.experiment(FASTER_RCNN.name), 'val/gallery')
        assert gallery and all(len(entry['files']) == 4 for entry in gallery)


def test_two_processes_on_one_machine_make_one_experiment(tiny_data, tmp_path):
    log_dir, work_dir = tmp_path / 'swanlog', tmp_path / 'work_dir'
    result = subprocess.run(_torchrun(*_smoke_args(tiny_data, work_dir), port=free_port()), capture_output=True,
                            text=True, env=smoke_env(str(log_dir)), cwd=ROOT, timeout=JOB_TIMEOUT)
    assert result.returncode == 0, result.stderr[-5000:]
    assert result.stdout.count('smoke_train: faster-rcnn_r50_fpn_1x_coco.py finished') == 2  # both ranks
    _assert_one_complete_experiment(log_dir, work_dir)


def test_two_nodes_on_loopback_make_one_experiment(tiny_data, tmp_path):
    log_dir, port = tmp_path / 'swanlog', free_port()
    nodes = [subprocess.Popen(_torchrun(*_smoke_args(tiny_data, tmp_path / f'node{rank}'), nnodes=2,
                                        node_rank=rank, nproc=1, port=port),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=smoke_env(str(log_dir)), cwd=ROOT)
             for rank in (0, 1)]
    outputs = [node.communicate(timeout=JOB_TIMEOUT)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    _assert_one_complete_experiment(log_dir, tmp_path / 'node0')  # rank 0 lives on node 0


def test_a_crashing_rank_ends_the_job_and_marks_the_experiment_crashed(tmp_path):
    log_dir = tmp_path / 'swanlog'
    started = time.monotonic()
    result = subprocess.run(
        _torchrun(TOY_TRAIN, '--work-dir', tmp_path / 'work_dir', '--log-dir', log_dir, '--name', 'rank-crash',
                  '--launcher', 'pytorch', '--length', 2, '--crash-at', 3, '--crash-rank', 1, port=free_port()),
        capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=JOB_TIMEOUT)
    assert result.returncode != 0
    assert 'toy failure at iteration 3' in result.stderr, _what_each_rank_said(result)
    assert time.monotonic() - started < 120, 'the job did not end promptly after a rank failed'
    with LocalDashboard(str(log_dir)) as board:
        experiment = board.experiment('rank-crash')
        assert board.wait_status(experiment) == 'crashed'
        assert sorted(board.scalar_series(experiment, 'train/loss')) == [1, 2]


def _what_each_rank_said(result) -> str:
    """A failed job's story: torchrun's summary (which rank failed first), the errors, the training's last lines."""
    errors = result.stderr.splitlines()
    summary = [line for line in errors if line.startswith(('Root Cause', '  rank', '  exitcode', '  traceback'))]
    raised = [line for line in errors if 'Error' in line and not line.startswith(('  ', 'torch.distributed'))]
    return '\n'.join(['torchrun:', *summary, '', 'errors:', *raised[:10], '', 'stdout:',
                      *result.stdout.splitlines()[-20:]])


SRUN = """#!/usr/bin/env bash
# Stand-in for Slurm's srun on one machine: runs the command once per task with the variables srun sets.
echo "srun $*" >> "$SRUN_LOG"
ntasks=1
while [[ "$1" == -* ]]; do
  case "$1" in
    --ntasks=*) ntasks="${1#--ntasks=}" ;;
    -p|--partition) shift ;;
  esac
  shift
done
pids=()
for ((rank = 0; rank < ntasks; rank++)); do
  SLURM_PROCID=$rank SLURM_LOCALID=$rank SLURM_NTASKS=$ntasks SLURM_NODELIST=stub-node "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
"""
SCONTROL = """#!/usr/bin/env bash
# Stand-in for `scontrol show hostname NODELIST`: this machine.
echo 127.0.0.1
"""


def test_slurm_train_sh_runs_two_tasks_into_one_experiment(tmp_path):
    from ci.tiny_datasets import make_cifar10
    make_cifar10(tmp_path / 'cifar10')
    config, work_dir, log_dir = tmp_path / f'{CIFAR.name}.py', tmp_path / 'work_dir', tmp_path / 'swanlog'
    subprocess.run([sys.executable, '-m', 'ci.smoke_train', str(ROOT / CIFAR.config), '--data-root',
                    str(tmp_path / 'cifar10'), '--work-dir', str(work_dir), '--dump', str(config)],
                   check=True, capture_output=True, env=smoke_env(str(log_dir)), timeout=JOB_TIMEOUT)
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = smoke_env(str(log_dir))
    env.update(PATH=f'{bin_dir}:{env["PATH"]}', GPUS='2', MASTER_PORT=str(free_port()),
               SRUN_LOG=str(tmp_path / 'srun.log'))
    result = subprocess.run(['bash', str(ROOT / 'scripts' / 'slurm_train.sh'), 'gpu-partition', 'cifar-job',
                             str(config), '--work-dir', str(work_dir)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=JOB_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    srun = (tmp_path / 'srun.log').read_text()
    assert '-p gpu-partition --job-name=cifar-job --gres=gpu:2 --ntasks=2' in srun
    assert '--launcher slurm' in srun
    assert 'Distributed launcher: slurm' in output and 'GPU number: 2' in output
    assert 'effective batch 2 process(es) x 2 = 4' in output  # auto_scale_lr saw both tasks
    with LocalDashboard(str(log_dir)) as board:
        assert [e['name'] for e in board.experiments()] == [CIFAR.name]
        assert check_case(board, CIFAR, str(work_dir)) == []


def test_every_ranks_console_in_the_run_with_console_all(tmp_path):
    log_dir = tmp_path / 'swanlog'
    result = subprocess.run(
        _torchrun(TOY_TRAIN, '--work-dir', tmp_path / 'work_dir', '--log-dir', log_dir, '--name', 'every-rank',
                  '--launcher', 'pytorch', '--length', 1, '--markers-at', 2, '--no-test',
                  '--backend-options', "{'console': 'all'}", port=free_port()),
        capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=JOB_TIMEOUT)
    assert result.returncode == 0, result.stderr[-6000:]
    with LocalDashboard(str(log_dir)) as board:
        console = board.console_log(board.experiment('every-rank'))
    text = '\n'.join(console)
    for rank in (0, 1):
        assert sum(line.startswith(f'[rank {rank}] TOY_PRINT_MARKER rank {rank}') for line in console) == 1, text
        assert sum(line.startswith(f'[rank {rank}] ') and 'UserWarning: TOY_WARNING_MARKER' in line
                   for line in console) == 1, text
    assert any(line.startswith('[rank 0] ') and 'Epoch(train)' in line for line in console), text
