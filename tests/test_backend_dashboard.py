"""SwanlabVisBackend end to end: real Runner in a real process, checked through the real local dashboard."""
import io
import re

import mmengine
import pytest
from PIL import Image

from helpers import printed_metric

ITERS_PER_EPOCH = 4  # ToyData(16) / batch 4


def _train_steps(epochs):
    return list(range(1, epochs * ITERS_PER_EPOCH + 1))


def test_epoch_based_config_run_reaches_the_dashboard(toy_run, dashboard):
    out = toy_run('epoch-config', '--loop', 'epoch', '--length', 2).stdout
    exp = dashboard.experiment('epoch-config')
    assert dashboard.wait_status(exp) == 'finished'

    # Train scalars: one value per logged iteration, equal to what the log printed.
    loss = dashboard.scalar_series(exp, 'train/loss')
    assert sorted(loss) == _train_steps(2)
    assert [round(v, 4) for _, v in sorted(loss.items())] == printed_metric(out, 'train', 'loss')
    for key in ('train/lr', 'train/time', 'train/data_time', 'train/loss_aux'):
        assert sorted(dashboard.scalar_series(exp, key)) == _train_steps(2), key

    # Validation at the iteration it ran, with the epoch beside it; val time apart from train time.
    assert dashboard.scalar_series(exp, 'val/accuracy') == dict(zip((4, 8), printed_metric(out, 'val', 'accuracy')))
    assert dashboard.scalar_series(exp, 'val/epoch') == {4: 1.0, 8: 2.0}
    assert dashboard.scalar_series(exp, 'train/epoch') == {step: 1.0 + (step > 4) for step in _train_steps(2)}
    assert sorted(dashboard.scalar_series(exp, 'val/time')) == [4, 8]
    assert 'time' not in dashboard.tags(exp)

    # Test metrics, which MMEngine never hands to backends.
    assert dashboard.scalar_series(exp, 'test/accuracy') == {8: printed_metric(out, 'test', 'accuracy')[0]}

    # The config: searchable values, the environment and the full text.
    config = dashboard.config(exp)
    assert config['train_cfg.max_epochs'] == 2
    assert config['model.type'] == 'ToyClassifier'
    assert config['env.mmengine'] == mmengine.__version__
    assert config['env.device'].startswith(('cpu', 'cuda'))
    text = dashboard.media(exp, 'config/config_text')
    assert 'max_epochs=2' in text[0]['files'][0]
    assert text[0]['captions'][0]['caption'] == 'toy_config.py'


def test_images_are_served_as_png_in_their_colours(toy_run, dashboard):
    toy_run('images', '--length', 1)
    exp = dashboard.experiment('images')
    media = dashboard.media(exp, 'stripes')
    assert [m['step'] for m in media] == [4]
    assert media[0]['captions'][0]['caption'] == 'stripes'
    png = dashboard.media_bytes(exp, 'stripes', media[0]['files'][0])
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    image = Image.open(io.BytesIO(png)).convert('RGB')
    assert image.size == (90, 60)
    assert [image.getpixel((x, 30)) for x in (15, 45, 75)] == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    # Test images arrive with the batch index as step; they are logged together at the test metrics' step.
    test_images = dashboard.media(exp, 'test_stripes')
    assert [m['step'] for m in test_images] == sorted(dashboard.scalar_series(exp, 'test/accuracy')) == [4]
    files = test_images[0]['files']
    sizes = [Image.open(io.BytesIO(dashboard.media_bytes(exp, 'test_stripes', f))).size for f in files]
    assert sizes == [(90 - batch, 60) for batch in range(4)]  # all four batches, in order


def test_iteration_based_validations_each_land_at_their_iteration(toy_run, dashboard):
    out = toy_run('iter-based', '--loop', 'iter', '--length', 6, '--val-interval', 3).stdout
    exp = dashboard.experiment('iter-based')
    assert dashboard.wait_status(exp) == 'finished'
    assert sorted(dashboard.scalar_series(exp, 'train/loss')) == list(range(1, 7))
    # The reference backend puts every iteration-based validation at step 0, keeping only the first.
    assert dashboard.scalar_series(exp, 'val/accuracy') == dict(zip((3, 6), printed_metric(out, 'val', 'accuracy')))
    assert 'val/epoch' not in dashboard.tags(exp)
    assert dashboard.scalar_series(exp, 'test/accuracy') == {6: printed_metric(out, 'test', 'accuracy')[0]}


def test_script_usage_with_a_visualizer_instance(toy_run, dashboard):
    out = toy_run('script', '--script', '--length', 1).stdout
    exp = dashboard.experiment('script')
    assert dashboard.wait_status(exp) == 'finished'
    assert sorted(dashboard.scalar_series(exp, 'train/loss')) == _train_steps(1)
    assert dashboard.scalar_series(exp, 'val/accuracy') == {4: printed_metric(out, 'val', 'accuracy')[0]}
    assert dashboard.scalar_series(exp, 'test/accuracy') == {4: printed_metric(out, 'test', 'accuracy')[0]}
    assert dashboard.config(exp)['env.torch'].startswith('2.')


def test_exception_in_training_marks_the_run_crashed_and_keeps_earlier_steps(toy_run, dashboard):
    result = toy_run('crash', '--length', 2, '--crash-at', 6, expect=1)
    assert 'toy failure at iteration 6' in result.stderr
    exp = dashboard.experiment('crash')
    assert dashboard.wait_status(exp) == 'crashed'
    assert sorted(dashboard.scalar_series(exp, 'train/loss')) == [1, 2, 3, 4, 5]
    assert sorted(dashboard.scalar_series(exp, 'val/accuracy')) == [4]


def test_resume_continues_at_the_next_step_without_duplicates(toy_run, dashboard, tmp_path):
    work_dir = tmp_path / 'resumable'
    toy_run('resume-first', '--length', 2, '--no-test', work_dir=work_dir)
    # The run id is kept in the work dir: online, a resumed training reopens that run.
    first_id = (work_dir / 'swanlab_run_id').read_text()
    assert dashboard.experiment('resume-first')['run_id'].endswith(f'-{first_id}')
    out = toy_run('resume-second', '--length', 3, '--resume', '--no-test', work_dir=work_dir).stdout
    assert 'resumed epoch: 2, iter: 8' in out  # mmengine loaded the checkpoint (torch.load compat)
    first, second = dashboard.experiment('resume-first'), dashboard.experiment('resume-second')
    assert sorted(dashboard.scalar_series(first, 'train/loss')) == _train_steps(2)
    # Local mode cannot reopen an experiment: the resumed run is a new one that starts where the first ended.
    assert sorted(dashboard.scalar_series(second, 'train/loss')) == [9, 10, 11, 12]
    assert dashboard.scalar_series(second, 'val/epoch') == {12: 3.0}
    assert dashboard.scalar_series(second, 'train/epoch') == {9: 3.0, 10: 3.0, 11: 3.0, 12: 3.0}
    assert dashboard.config(second)['resume.resumed'] is True
    assert dashboard.config(second)['resume.previous_run_id'] == first_id
    assert 'resume.resumed' not in dashboard.config(first)
    assert dashboard.wait_status(second) == 'finished'


def test_works_beside_swanlab_own_integration_in_either_import_order(toy_run, dashboard):
    for order, name in ((['swanlab.integration.mmengine', 'swanlab_backend'], 'coexist-theirs-first'),
                        (['swanlab_backend', 'swanlab.integration.mmengine'], 'coexist-ours-first')):
        toy_run(name, '--length', 1, '--imports', ','.join(order))
        exp = dashboard.experiment(name)
        # train/ sections and test metrics exist only with this package's backend.
        assert sorted(dashboard.scalar_series(exp, 'train/loss')) == _train_steps(1), order
        assert sorted(dashboard.scalar_series(exp, 'test/accuracy')) == [4], order


def test_camel_case_alias_selects_this_backend(toy_run, dashboard):
    toy_run('alias', '--length', 1, '--backend-type', 'SwanLabVisBackend')
    assert sorted(dashboard.scalar_series(dashboard.experiment('alias'), 'train/loss')) == _train_steps(1)


def test_secrets_in_the_config_are_redacted(toy_run, dashboard):
    toy_run('secrets', '--length', 1, '--secret-token', 'tok-8c1f0e7d')
    exp = dashboard.experiment('secrets')
    assert dashboard.config(exp)['secret_token'] == '<redacted>'
    text = dashboard.media(exp, 'config/config_text')[0]['files'][0]
    assert 'tok-8c1f0e7d' not in text and "secret_token = '<redacted>'" in text


def test_unknown_init_kwargs_fail_before_training_naming_the_key(toy_run):
    result = toy_run('bad-kwargs', '--extra-init-kwargs', "{'projcet': 'x'}", expect=1)
    assert "unknown init_kwargs key 'projcet'" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


@pytest.mark.parametrize('how', ['--hook-in-config', '--script'])
def test_the_runner_is_found_from_each_entry(toy_run, dashboard, how):
    """A hook listed in the config (MMEngine's way) or a Visualizer built before its Runner: the same phases."""
    result = toy_run(f'entry{how}', how)
    out = result.stdout + result.stderr
    if how == '--hook-in-config':  # MMEngine's table of hooks, printed when the runner is built
        before_train = re.search(r'^before_train:\n(.*?)^ -{20} ', out, re.MULTILINE | re.DOTALL).group(1)
        assert before_train.count('SwanlabHook') == 1, f'one SwanlabHook in the runner, found:\n{before_train}'
    exp = dashboard.experiment(f'entry{how}')
    assert dashboard.scalar_series(exp, 'val/accuracy') == dict(zip((4, 8), printed_metric(out, 'val', 'accuracy')))
    assert dashboard.scalar_series(exp, 'test/accuracy') == {8: printed_metric(out, 'test', 'accuracy')[0]}
