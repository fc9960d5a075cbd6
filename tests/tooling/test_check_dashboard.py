"""``ci/check_dashboard.py`` fails when the dashboard misses what MMEngine recorded: each check can fail."""
import json
import shutil
import subprocess
import sys

import pytest

from ci.check_dashboard import check_experiment
from ci.dashboard import LocalDashboard

from helpers import TOY_TRAIN, clean_env


@pytest.fixture(scope='module')
def tracked(tmp_path_factory):
    """A toy training (2 epochs, validation after each, a test) and its local dashboard."""
    root = tmp_path_factory.mktemp('checked')
    subprocess.run([sys.executable, str(TOY_TRAIN), '--work-dir', str(root / 'work_dir'), '--log-dir',
                    str(root / 'swanlog'), '--name', 'checked', '--length', '2'], check=True, capture_output=True,
                   env=clean_env(), cwd=root, timeout=300)
    with LocalDashboard(str(root / 'swanlog')) as board:
        yield board, root / 'work_dir'


def _check(board, work_dir):
    return check_experiment(board, 'checked', str(work_dir), ['accuracy'], ['accuracy'], 'ToyClassifier')


def _tampered(work_dir, tmp_path, change):
    """A copy of the work dir whose MMEngine records say something the dashboard does not have."""
    copy = tmp_path / 'work_dir'
    shutil.copytree(work_dir, copy)
    (scalars,) = copy.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    change(records)
    scalars.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return copy


def test_the_untouched_run_passes(tracked):
    assert _check(*tracked) == []


def test_a_step_the_dashboard_dropped_fails_the_check(tracked, tmp_path):
    board, work_dir = tracked
    extra = lambda records: records.append(dict(records[0], step=99, iter=99))  # noqa: E731
    failures = _check(board, _tampered(work_dir, tmp_path, extra))
    assert any(f.startswith('train/loss: steps ') and '99' in f for f in failures), failures


def test_a_wrong_value_fails_the_check(tracked, tmp_path):
    board, work_dir = tracked

    def change(records):
        records[2]['loss'] += 0.5

    assert 'train/loss: values differ from what MMEngine logged' in _check(board, _tampered(work_dir, tmp_path, change))


def test_a_missing_validation_fails_the_check(tracked, tmp_path):
    board, work_dir = tracked

    def add_validation(records):
        records.append({'accuracy': 50.0, 'data_time': 0.001, 'time': 0.001, 'step': 3})

    failures = _check(board, _tampered(work_dir, tmp_path, add_validation))
    assert any(f.startswith('val/accuracy: ') for f in failures), failures


def test_a_run_without_gallery_or_per_class_tables_fails_the_insights_check(tracked):
    board, work_dir = tracked  # the toy classifier runs without SwanlabInsightsHook
    failures = check_experiment(board, 'checked', str(work_dir), ['accuracy'], ['accuracy'], 'ToyClassifier',
                                insights=True)
    assert any(f.startswith('val/gallery at steps []') for f in failures), failures
    assert any(f.startswith('test: no per-class table') for f in failures), failures
