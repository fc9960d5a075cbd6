"""SwanLab's own callbacks and settings in init_kwargs reach the run in the writer process (#26 item 1)."""
import csv
from pathlib import Path

import pytest

from helpers import printed_metric

CONFIG_FORM = "{{'callbacks': [dict(type='CSVWriter', dir={dir!r})], 'settings': dict(probe=dict(requirements=False))}}"
SCRIPT_FORM = ("{{'callbacks': [__import__('swanlab.plugin', fromlist=['CSVWriter']).CSVWriter(dir={dir!r})], "
               "'settings': __import__('swanlab').Settings(probe=dict(requirements=False))}}")


@pytest.mark.parametrize('how', ['config', 'script'])
def test_a_csv_writer_and_settings_reach_the_run(toy_run, swanlog, tmp_path, how):
    """From a config as dicts with a type name; from a script as objects: the CSVWriter (a SwanLab callback
    that writes locally) gets the run's final metrics, and ``probe.requirements=False`` keeps the run
    without its requirements.txt."""
    name, csv_dir = f'swanlab-options-{how}', tmp_path / 'csv'
    form = CONFIG_FORM if how == 'config' else SCRIPT_FORM
    extra = ['--script'] if how == 'script' else []
    result = toy_run(name, '--length', 1, *extra, '--extra-init-kwargs', form.format(dir=str(csv_dir)))
    with open(csv_dir / 'swanlab_runs.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [row['experiment_name'] for row in rows] == [name]
    out = result.stdout + result.stderr
    assert float(rows[0]['train/loss']) == pytest.approx(printed_metric(out, 'train', 'loss')[-1], abs=1e-3)
    assert float(rows[0]['val/accuracy']) == pytest.approx(printed_metric(out, 'val', 'accuracy')[-1], abs=1e-3)
    files = Path(rows[0]['logdir']) / 'files'  # a run without settings has its requirements.txt there
    assert files.parent.parent == swanlog
    assert (files / 'swanlab-metadata.json').exists() and not (files / 'requirements.txt').exists()


def test_a_mistyped_callback_fails_before_training_with_the_fix(toy_run):
    result = toy_run('swanlab-options-typo', '--extra-init-kwargs',
                     "{'callbacks': [dict(type='CSVWritter', dir='x')]}", expect=1)
    assert "type='CSVWritter', which is not one of SwanLab's callbacks (did you mean 'CSVWriter'?)" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr
