"""The checkpoint ledger and best results, through the real local dashboard (issue: runs beyond their curves)."""
import hashlib
import json
import subprocess
import sys

import pytest

from helpers import recorded_runs

SAVE_BEST = "{'save_best': 'accuracy', 'rule': 'greater', 'max_keep_ckpts': 2}"


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ledger(work_dir):
    return json.loads((work_dir / 'swanlab_checkpoints.json').read_text())


@pytest.fixture(scope='module')
def trained(tmp_path_factory, swanlog):
    """4 epochs, a checkpoint each epoch (2 kept), the best by accuracy; then resumed to 6 epochs."""
    return tmp_path_factory.mktemp('ledger') / 'work_dir'


def _running_best(series):
    best, out = None, {}
    for step in sorted(series):
        best = series[step] if best is None else max(best, series[step])
        out[step] = best
    return out


def test_the_ledger_matches_the_files_and_the_best_matches_the_curve(toy_run, dashboard, trained, swanlog):
    result = toy_run('ledger', '--length', 4, '--no-test', '--checkpoint-options', SAVE_BEST,
                     '--backend-options', "{'upload_checkpoints': ['best']}", work_dir=trained)
    ledger = _ledger(trained)
    names = [e['name'] for e in ledger['checkpoints']]
    assert [n for n in names if n.startswith('epoch_')] == ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_4.pth']
    on_disk = {p.name for p in trained.glob('*.pth')}
    assert {e['name'] for e in ledger['checkpoints'] if e['on_disk']} == on_disk  # max_keep_ckpts removed 1, 2
    for entry in ledger['checkpoints']:
        if entry['on_disk']:
            assert entry['size'] == (trained / entry['name']).stat().st_size
            assert entry['sha256'] == _sha256(trained / entry['name'])

    experiment = dashboard.experiment('ledger')
    accuracy = dashboard.scalar_series(experiment, 'val/accuracy')
    (best,) = [e for e in ledger['checkpoints'] if e['best']]
    assert best['name'].startswith('best_accuracy_epoch_') and best['on_disk']
    assert best['metrics']['accuracy'] == pytest.approx(max(accuracy.values()))
    assert dashboard.scalar_series(experiment, 'best/accuracy') == pytest.approx(_running_best(accuracy))
    best_iter = dashboard.scalar_series(experiment, 'best/accuracy_iter')
    assert accuracy[int(best_iter[max(best_iter)])] == pytest.approx(max(accuracy.values()))

    table = dashboard.media(experiment, 'checkpoints/ledger')[-1]['files'][0]
    for name in on_disk:
        assert name in table
    assert (best['sha256'][:16]) in table
    (run_dir,) = [d for d in swanlog.glob('run-*') if (d / 'files' / best['name']).exists()]
    assert recorded_runs(swanlog)['ledger'] == 'FINISHED' and run_dir
    assert 'not uploading' not in result.stdout + result.stderr


def test_a_resumed_training_continues_the_ledger_and_the_best(toy_run, dashboard, trained):
    before = _ledger(trained)
    toy_run('ledger-resumed', '--length', 6, '--resume', '--no-test', '--checkpoint-options', SAVE_BEST,
            work_dir=trained)
    after = _ledger(trained)
    def kept(entries):
        return [(e['name'], e['iter'], e['epoch'], e['size'], e['sha256']) for e in entries]

    assert kept(after['checkpoints'][:len(before['checkpoints'])]) == kept(before['checkpoints'])
    assert [e['name'] for e in after['checkpoints'][len(before['checkpoints']):] if e['name'].startswith('epoch')] \
        == ['epoch_5.pth', 'epoch_6.pth']
    experiment = dashboard.experiment('ledger-resumed')
    resumed_best = dashboard.scalar_series(experiment, 'best/accuracy')
    assert min(resumed_best.values()) >= before['best']['accuracy']['value']  # the best carried over
    assert 'epoch_4.pth' in dashboard.media(experiment, 'checkpoints/ledger')[-1]['files'][0]


def test_a_checkpoint_over_the_upload_limit_is_not_uploaded_and_said_so(toy_run, tmp_path):
    result = toy_run('too-big', '--length', 1, '--no-test', '--checkpoint-options', "{'save_best': 'accuracy'}",
                     '--backend-options', "{'upload_checkpoints': ['best', 'last'], 'max_upload_mb': 0.000001}")
    assert result.stdout.count('not uploading') == 2, result.stdout[-3000:]  # the best, and the last


def test_the_test_after_training_is_linked_to_the_best_checkpoint(tmp_path):
    from ci.run_smoke import smoke_env
    from ci.smoke_matrix import SMOKE_CASES
    from ci.tiny_datasets import make_cifar10

    from helpers import ROOT
    cifar = SMOKE_CASES[-1]
    make_cifar10(tmp_path / 'cifar10')
    config, work_dir = tmp_path / f'{cifar.name}.py', tmp_path / 'work_dir'
    env = smoke_env(str(tmp_path / 'swanlog'))
    subprocess.run([sys.executable, '-m', 'ci.smoke_train', str(ROOT / cifar.config), '--data-root',
                    str(tmp_path / 'cifar10'), '--work-dir', str(work_dir), '--dump', str(config)],
                   check=True, capture_output=True, env=env, timeout=600)
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.train', str(config), '--work-dir', str(work_dir),
                             '--cfg-options', 'default_hooks.checkpoint.save_best=accuracy/top1'],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    (best,) = [e for e in _ledger(work_dir)['checkpoints'] if e['best']]
    assert f"testing the best checkpoint {best['file']}" in result.stdout
    (test_json,) = [p for p in work_dir.glob('*/*.json') if 'accuracy/top1' in p.read_text()]
    assert best['test'] == pytest.approx({k: v for k, v in json.loads(test_json.read_text()).items()
                                          if k.startswith('accuracy')})
