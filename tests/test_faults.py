"""The fault and bad-input matrix: tracking never kills or stalls training, and nothing logged is lost.

Each test is one row of the README's "what happens when..." table (the row number is in its name).
Faults are injected on loopback only: a closed port, a stub that accepts and never answers, and a
stand-in for the cloud API that starts answering errors mid-run (``cloud_stub.py``).
"""
import datetime
import inspect
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from ci.check_dashboard import mmengine_records
from ci.dashboard import free_port
from swanlab_backend import SwanlabVisBackend
from swanlab_backend.handover import writer_process

from cloud_stub import CloudStub
from helpers import ROOT, TOY_TRAIN, clean_env, recorded_runs, start_until_hang

SCENARIOS = ROOT / 'tests' / 'backend_scenarios.py'


@pytest.fixture
def silent_host():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(16)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except socket.timeout:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.getsockname()[1]}'
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def _fallback_seconds(output: str) -> float:
    match = re.search(r'logging offline because .* \(decided in ([\d.]+) s\)', output)
    assert match, f'no offline fallback notice in:\n{output[-3000:]}'
    assert output.count('logging offline because') == 1, 'the fallback must be announced once'
    print(f'fell back to offline in {match.group(1)} s')
    return float(match.group(1))


@pytest.fixture(scope='module')
def local_run_seconds(tmp_path_factory, swanlog):
    """How long the toy run of rows 1-3 takes from outside when nothing goes wrong (local mode)."""
    root = tmp_path_factory.mktemp('baseline')
    started = time.monotonic()
    subprocess.run([sys.executable, str(TOY_TRAIN), '--work-dir', str(root / 'work_dir'), '--log-dir', str(swanlog),
                    '--name', 'baseline', '--length', '1'], check=True, capture_output=True, env=clean_env(),
                   cwd=root, timeout=300)
    return time.monotonic() - started


def _timed(run, *args, **kwargs):
    started = time.monotonic()
    result = run(*args, **kwargs)
    return result, time.monotonic() - started


def _extra_seconds(elapsed, baseline, bound):
    print(f'whole run {elapsed:.1f} s from outside, {elapsed - baseline:+.1f} s against a local run')
    assert elapsed - baseline < bound, f'the fallback cost {elapsed - baseline:.1f} s, more than {bound} s'


def _offline_record(log_dir: Path) -> Path:
    records = list(log_dir.glob('run-*/run-*.swanlab'))
    assert len(records) == 1 and records[0].stat().st_size > 0, f'no offline record in {log_dir}'
    return records[0]


def test_row1_online_without_a_key_falls_back_to_offline_at_once(toy_run, tmp_path, local_run_seconds):
    log_dir = tmp_path / 'offline'
    result, elapsed = _timed(toy_run, 'online-no-key', '--mode', 'online', '--length', 1,
                             '--extra-init-kwargs', f"{{'log_dir': '{log_dir}'}}")
    assert 'TOY_DONE' in result.stdout
    assert _fallback_seconds(result.stdout + result.stderr) < 5
    _extra_seconds(elapsed, local_run_seconds, 5)
    assert 'swanlab sync' in result.stdout + result.stderr
    _offline_record(log_dir)


def test_row2_unreachable_api_host_falls_back_within_the_probe_timeout(toy_run, tmp_path, local_run_seconds):
    log_dir = tmp_path / 'offline'
    env = clean_env(SWANLAB_API_KEY='wrong-key-0123456789', SWANLAB_API_HOST=f'http://127.0.0.1:{free_port()}')
    result, elapsed = _timed(toy_run, 'unreachable', '--length', 1, '--extra-init-kwargs',
                             f"{{'log_dir': '{log_dir}', 'mode': None}}", env=env)
    assert 'TOY_DONE' in result.stdout
    assert _fallback_seconds(result.stdout + result.stderr) < 4
    _extra_seconds(elapsed, local_run_seconds, 8)  # reference: 16 s, then an exception
    _offline_record(log_dir)


def test_row3_api_host_that_never_answers_falls_back_within_the_probe_timeout(toy_run, tmp_path, silent_host,
                                                                               local_run_seconds):
    log_dir = tmp_path / 'offline'
    env = clean_env(SWANLAB_API_KEY='wrong-key-0123456789', SWANLAB_API_HOST=silent_host)
    result, elapsed = _timed(toy_run, 'silent-host', '--length', 1, '--extra-init-kwargs',
                             f"{{'log_dir': '{log_dir}', 'mode': None}}", env=env)
    assert 'TOY_DONE' in result.stdout
    assert _fallback_seconds(result.stdout + result.stderr) < 8  # connect + read timeout of the probe
    _extra_seconds(elapsed, local_run_seconds, 12)  # reference: 76 s, then an exception
    _offline_record(log_dir)


CLOUD_KEY = 'stub-key-0123456789'


def _lose_the_cloud_mid_run(toy_run, tmp_path, cloud, name, *args, expect=0):
    """A 6-epoch online toy run (24 iterations of 0.25 s) that loses ``cloud`` after its first scalars."""
    env = clean_env(SWANLAB_API_KEY=CLOUD_KEY, SWANLAB_API_HOST=cloud.url, SWANLAB_WEB_HOST=cloud.url)
    result = toy_run(name, '--length', 6, '--iter-seconds', 0.25, '--upload-timeout', 5, *args, '--extra-init-kwargs',
                     f"{{'log_dir': '{tmp_path / 'online'}', 'mode': None}}", env=env, expect=expect)
    exited = datetime.datetime.now()
    output = result.stdout + result.stderr
    last_step = re.findall(r'^(\d\d/\d\d \d\d:\d\d:\d\d) - mmengine - \w+ - Epoch\((?:train|test)\)', output,
                           re.MULTILINE)[-1]
    ended = datetime.datetime.strptime(f'{exited.year}/{last_step}', '%Y/%m/%d %H:%M:%S')
    print(f'exited {(exited - ended).total_seconds():.0f} s after the last training or test step')
    # It waits for its writer: the rest written locally (~2 s), upload_timeout (5 s), then both processes end.
    assert (exited - ended).total_seconds() <= 5 + 8, 'the process must exit within upload_timeout (5 s)'
    assert 'tracking this run online' in output
    (lost,) = cloud.experiment_named(name)
    reached = sorted(lost['scalars']['train/loss'])
    print(f"before the loss the cloud got train steps {reached}; then {cloud.failed_requests} requests failed")
    assert cloud.failed_requests > 0 and 0 < len(reached) < 24 and reached == list(range(1, len(reached) + 1))
    waited = re.search(r'did not take the last data within (\d+) s', output)
    assert waited and int(waited.group(1)) <= 6, 'finishing must give up on the cloud after upload_timeout'
    return output, lost


def _sync_the_rest(cloud, output, lost) -> dict:
    """Runs the ``swanlab sync`` command the warning printed, once the cloud answers again."""
    run_dir = re.search(r'upload it with: swanlab sync (\S+)', output).group(1)
    cloud.heal()
    sync = subprocess.run([str(Path(sys.executable).parent / 'swanlab'), 'sync', run_dir, '--host', cloud.url,
                           '--api-key', CLOUD_KEY], capture_output=True, text=True, timeout=120,
                          env=clean_env(SWANLAB_API_HOST=cloud.url, SWANLAB_WEB_HOST=cloud.url))
    assert sync.returncode == 0, sync.stdout + sync.stderr
    (synced,) = [e for e in cloud.experiment_named(lost['name']) if e is not lost]
    assert cloud.unknown == [], 'SwanLab called API routes the stub does not know'
    return synced


def test_row4_connection_lost_mid_run_training_goes_on_and_swanlab_sync_uploads_it_all(toy_run, tmp_path):
    with CloudStub(fail_after_scalar_posts=1) as cloud:  # answers 503 to all after its first batch of scalars
        output, lost = _lose_the_cloud_mid_run(toy_run, tmp_path, cloud, 'connection-lost')
        assert 'TOY_DONE' in output
        train, val, test = mmengine_records(str(tmp_path / 'work_dir'))
        assert [r['step'] for r in train] == list(range(1, 25)), 'training did not run to its end'

        synced = _sync_the_rest(cloud, output, lost)
        assert synced['state'] == 'FINISHED'
        for record in train:
            assert synced['scalars']['train/loss'][record['step']] == pytest.approx(record['loss'])
        val_accuracy = synced['scalars']['val/accuracy']  # at the iteration validation ran (MMEngine: epoch)
        assert sorted(val_accuracy) == [4, 8, 12, 16, 20, 24]
        assert [val_accuracy[step] for step in sorted(val_accuracy)] == [r['accuracy'] for r in val]
        assert synced['scalars']['test/accuracy'] == {24: pytest.approx(test['accuracy'])}
        assert sorted(synced['media']['stripes']) == [4, 8, 12, 16, 20, 24]


def test_row4_a_crash_after_the_connection_is_lost_still_exits_and_keeps_the_crash(toy_run, tmp_path):
    with CloudStub(fail_after_scalar_posts=1) as cloud:
        output, lost = _lose_the_cloud_mid_run(toy_run, tmp_path, cloud, 'lost-then-crashed', '--crash-at', 20,
                                               expect=1)
        assert 'toy failure at iteration 20' in output
        synced = _sync_the_rest(cloud, output, lost)
        assert synced['state'] == 'CRASHED'
        assert sorted(synced['scalars']['train/loss']) == list(range(1, 20))
        assert any('toy failure at iteration 20' in line for line in synced['logs'])


def test_row6_ctrl_c_marks_the_run_aborted_keeps_its_data_and_exits_promptly(tmp_path, swanlog, dashboard):
    process, _ = start_until_hang(tmp_path, 'ctrl-c', swanlog, '--length', 2, '--hang-at', 6)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0]
    print(f'exited {time.monotonic() - sent:.1f} s after Ctrl+C')
    assert time.monotonic() - sent < 15, 'the process did not exit promptly after Ctrl+C'
    assert process.returncode != 0
    assert 'KeyboardInterrupt' in output
    experiment = dashboard.experiment('ctrl-c')
    assert dashboard.wait_status(experiment) == 'crashed'  # the local dashboard shows aborted runs so
    assert recorded_runs(swanlog)['ctrl-c'] == 'ABORTED'  # the run's own record tells them apart
    assert sorted(dashboard.scalar_series(experiment, 'train/loss')) == [1, 2, 3, 4, 5]


def test_sigterm_marks_the_run_crashed_keeps_its_data_and_exits(tmp_path, swanlog, dashboard):
    process, _ = start_until_hang(tmp_path, 'sigterm', swanlog, '--length', 2, '--hang-at', 6)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)  # how torchrun and Slurm stop a job
    output = process.communicate(timeout=60)[0]
    assert time.monotonic() - sent < 15, 'the process did not exit promptly after SIGTERM'
    assert process.returncode == -signal.SIGTERM, output[-3000:]
    assert recorded_runs(swanlog)['sigterm'] == 'CRASHED'
    experiment = dashboard.experiment('sigterm')
    assert dashboard.wait_status(experiment) == 'crashed'
    assert sorted(dashboard.scalar_series(experiment, 'train/loss')) == [1, 2, 3, 4, 5]


def test_row7_sigkill_then_resume_continues_without_duplicates_or_gaps(tmp_path, swanlog, dashboard, toy_run):
    process, _ = start_until_hang(tmp_path, 'killed', swanlog, '--length', 3, '--hang-at', 7, '--no-test')
    time.sleep(3)  # SwanLab writes what it received within ~1 s; a kill loses only the last moment
    process.kill()
    process.wait(timeout=30)
    toy_run('killed-resumed', '--length', 3, '--resume', '--no-test', work_dir=tmp_path / 'work_dir')
    killed, resumed = dashboard.experiment('killed'), dashboard.experiment('killed-resumed')
    assert sorted(dashboard.scalar_series(killed, 'train/loss')) == [1, 2, 3, 4, 5, 6]
    # The last checkpoint was after epoch 1 (iteration 4): the resumed run redoes 5, 6 and goes on to 12.
    assert sorted(dashboard.scalar_series(resumed, 'train/loss')) == list(range(5, 13))
    assert dashboard.wait_status(resumed) == 'finished'


def test_resume_online_continues_the_same_cloud_run(toy_run, tmp_path):
    work_dir = tmp_path / 'work_dir'
    with CloudStub() as cloud:
        env = clean_env(SWANLAB_API_KEY=CLOUD_KEY, SWANLAB_API_HOST=cloud.url, SWANLAB_WEB_HOST=cloud.url)
        online = ('--no-test', '--extra-init-kwargs', f"{{'mode': None, 'log_dir': '{tmp_path / 'online'}'}}")
        toy_run('resumed-online', '--length', 1, *online, env=env, work_dir=work_dir)
        run_id = (work_dir / 'swanlab_run_id').read_text().strip()
        toy_run('resumed-online', '--length', 2, '--resume', *online, env=env, work_dir=work_dir)
        assert list(cloud.experiments) == [run_id], 'the resumed training must reopen its run'
        run = cloud.experiments[run_id]
        assert sorted(run['scalars']['train/loss']) == list(range(1, 9))
        assert sorted(run['scalars']['val/accuracy']) == [4, 8]
        assert run['state'] == 'FINISHED' and cloud.unknown == []
        # Epoch-based validation curves read per epoch in the cloud: val/epoch is their x axis.
        assert cloud.columns['val/accuracy'].get('xAxis') == 'val/epoch'
        assert 'xAxis' not in cloud.columns['train/loss']


def test_row8_nan_loss_is_skipped_with_one_warning_and_training_goes_on(toy_run, dashboard):
    result = toy_run('nan-loss', '--length', 2, '--nan-at', 3)
    output = result.stdout + result.stderr
    assert output.count("SwanLab: 'loss_aux' is nan; non-finite values are not logged") == 1
    experiment = dashboard.experiment('nan-loss')
    assert sorted(dashboard.scalar_series(experiment, 'train/loss')) == list(range(1, 9))
    aux = dashboard.scalar_series(experiment, 'train/loss_aux')  # the chart is served, without the NaN
    assert {1, 2} <= set(aux) and 3 not in aux and all(v == 0.5 for v in aux.values())


def _scenario(name, scenario, swanlog):
    result = subprocess.run([sys.executable, str(SCENARIOS), scenario, '--log-dir', str(swanlog), '--name', name],
                            capture_output=True, text=True, env=clean_env(), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def odd_scalars(swanlog, dashboard):
    """``(output, experiment)`` of one run of the odd-scalars scenario, which rows 9 and 10 both read."""
    output = _scenario('odd-scalars', 'odd-scalars', swanlog)
    return output, dashboard.experiment('odd-scalars')


def test_row9_non_scalar_values_are_converted_or_skipped_with_a_warning(odd_scalars, dashboard):
    output, experiment = odd_scalars
    assert dashboard.scalar_series(experiment, 'tensor') == {1: 2.5, 2: 2.5}
    assert dashboard.scalar_series(experiment, 'array') == {1: 3.5, 2: 3.5}
    assert dashboard.scalar_series(experiment, 'np_float') == {1: 4.5, 2: 4.5}
    assert dashboard.scalar_series(experiment, 'flag') == {1: 1.0, 2: 1.0}
    for skipped in ('string', 'none', 'vector'):
        assert skipped not in dashboard.tags(experiment)
        assert output.count(f"SwanLab: skipping '{skipped}'") == 1


def test_row10_keys_swanlab_rejects_are_sanitised_by_the_documented_rule(odd_scalars, dashboard):
    output, experiment = odd_scalars
    tags = dashboard.tags(experiment)
    for key in ('a_b', 'x_y', 'why_', '_tag_', 'p_q', '_empty'):
        assert key in tags, key
        assert f"is logged as '{key}'" in output
    long_keys = [t for t in tags if t.startswith('kkkk')]
    assert len(long_keys) == 1 and len(long_keys[0]) == 200 and '~' in long_keys[0]


def test_row11_odd_config_values_are_logged_without_a_crash(swanlog, dashboard):
    _scenario('odd-config', 'odd-config', swanlog)
    experiment = dashboard.experiment('odd-config')
    config = dashboard.config(experiment)
    assert config['model.depth'] == 50
    assert config['a_type'] == 'torch.nn.modules.conv.Conv2d'
    assert config['a_lambda'].endswith('<lambda>')
    assert config['numpy_value'] == 0.5
    assert config['tuple_value'] == [1, 2]
    assert 'truncated for the dashboard' in config['huge_list'] and '100000 items' in config['huge_list']
    assert 'truncated for the dashboard' in config['long_text']
    assert config['nested.wandb_api_key'] == '<redacted>'
    assert config['nested.inner.1.k'] == 2
    text = dashboard.media(experiment, 'config/config_text')[0]['files'][0]
    assert 'wk-123456' not in text
    assert dashboard.scalar_series(experiment, 'loss') == {1: 1.0}


def _png(dashboard, experiment, key):
    media = dashboard.media(experiment, key)
    return Image.open(io.BytesIO(dashboard.media_bytes(experiment, key, media[0]['files'][0]))), media[0]


def test_row12_gray_float_chw_rgba_and_huge_images_are_logged(swanlog, dashboard):
    output = _scenario('odd-images', 'images', swanlog)
    experiment = dashboard.experiment('odd-images')
    gray, _ = _png(dashboard, experiment, 'gray')
    assert gray.size == (64, 48) and gray.convert('L').getpixel((63, 0)) == 255
    float01, _ = _png(dashboard, experiment, 'float01')
    assert float01.convert('RGB').getpixel((0, 0)) == (0, 0, 255)
    chw, _ = _png(dashboard, experiment, 'chw_tensor')
    assert chw.size == (64, 48) and chw.convert('RGB').getpixel((5, 5)) == (0, 200, 0)
    rgba, _ = _png(dashboard, experiment, 'rgba')
    assert rgba.mode == 'RGBA' and rgba.getpixel((5, 5)) == (0, 0, 255, 128)
    huge, media = _png(dashboard, experiment, 'huge')
    assert huge.size == (2048, 2048) and 'downscaled' in media['captions'][0]['caption']
    assert huge.convert('RGB').getpixel((10, 10)) == (255, 0, 0)
    assert "skipping image 'not_an_image'" in output


def test_row13_a_mistyped_backend_type_fails_before_training_naming_the_fix(toy_run):
    result = toy_run('typo', '--backend-type', 'SwanLabVisbackend', expect=1)
    assert "use type='SwanlabVisBackend'" in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_row13_a_wrong_value_type_fails_before_training_naming_the_key(toy_run):
    result = toy_run('bad-tags', '--extra-init-kwargs', "{'tags': 'one-tag'}", expect=1)
    assert 'init_kwargs["tags"] must be a list of strings' in result.stderr
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_row14_an_unusable_log_dir_falls_back_to_a_temporary_one(toy_run, tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    result = toy_run('bad-log-dir', '--length', 1, '--extra-init-kwargs', f"{{'log_dir': '{blocker}/swanlog'}}")
    output = result.stdout + result.stderr
    assert 'TOY_DONE' in result.stdout
    fallback = re.search(r'logging to (\S+) instead\. Training goes on', output)
    assert fallback, output[-3000:]
    assert list(Path(fallback.group(1)).glob('run-*')), 'nothing was logged in the fallback log dir'


def test_row14_a_read_only_log_dir_falls_back_to_a_temporary_one():
    base = Path(tempfile.mkdtemp(prefix='read-only-log-dir-'))  # outside pytest's root-only tmp folders
    try:
        _train_with_a_read_only_log_dir(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _train_with_a_read_only_log_dir(base):
    base.chmod(0o755)
    read_only, work_dir = base / 'read_only', base / 'work_dir'
    read_only.mkdir(mode=0o555)
    work_dir.mkdir(mode=0o777)
    read_only.chmod(0o555)
    work_dir.chmod(0o777)
    command = [sys.executable, str(TOY_TRAIN), '--work-dir', str(work_dir), '--log-dir', str(read_only),
               '--name', 'read-only', '--length', '1']
    if os.geteuid() == 0:  # root writes anywhere: run the training as nobody
        assert shutil.which('setpriv'), 'this test drops root with setpriv (Debian: util-linux)'
        closed = [str(p) for p, others_may in [(d, 0o001) for d in TOY_TRAIN.parents] + [(TOY_TRAIN, 0o004)]
                  if not p.stat().st_mode & others_may]
        assert not closed, (f'this test runs the training as nobody, who cannot read the checkout: {closed} are '
                            'closed to others (mktemp -d makes 0700 folders); clone into a folder others can read')
        command = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', *command]
    env = clean_env(HOME=str(work_dir), TMPDIR=str(work_dir), SWANLAB_SAVE_DIR=str(work_dir / '.swanlab'))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work_dir, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and 'TOY_DONE' in result.stdout, output[-3000:]
    fallback = re.search(rf'could not start a run in {read_only} .*logging to (\S+) instead', output)
    assert fallback, output[-3000:]
    assert list(Path(fallback.group(1)).glob('run-*')) and not list(read_only.iterdir())


def test_row15_the_api_key_never_reaches_work_dir_logs_or_dashboard(tmp_path, swanlog, dashboard, toy_run):
    key = 'sk-test-7f3a9c1e5b2d4f6a8c0e'
    work_dir = tmp_path / 'work_dir'
    toy_run('key-in-env', '--length', 1, env=clean_env(SWANLAB_API_KEY=key), work_dir=work_dir)
    experiment = dashboard.experiment('key-in-env')
    assert key not in str(dashboard.config(experiment))
    assert key not in dashboard.media(experiment, 'config/config_text')[0]['files'][0]
    for folder in (work_dir, swanlog):
        leaks = [p for p in folder.rglob('*') if p.is_file() and key.encode() in p.read_bytes()]
        assert not leaks, f'the API key was written to {leaks}'


def test_row15_an_api_key_in_the_config_is_refused_before_anything_is_written(tmp_path):
    key = 'sk-test-0a1b2c3d4e5f'
    config = tmp_path / 'with_key.py'
    config.write_text(
        f"_base_ = '{ROOT}/recipes/mmpretrain/resnet18_8xb16_cifar10.py'\n"
        f"visualizer = dict(vis_backends=[dict(type='SwanlabVisBackend', init_kwargs=dict(api_key='{key}'))])\n")
    work_dir = tmp_path / 'work_dir'
    result = subprocess.run([sys.executable, '-m', 'swanlab_backend.train', str(config), '--work-dir', str(work_dir)],
                            capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=300)
    assert result.returncode != 0
    assert 'set SWANLAB_API_KEY or run `swanlab login`' in result.stderr
    assert key not in result.stdout + result.stderr
    assert not work_dir.exists() or not any(key.encode() in p.read_bytes()
                                            for p in work_dir.rglob('*') if p.is_file())


def test_row16_close_after_2000_steps_waits_until_every_step_is_written(swanlog, dashboard):
    output = _scenario('many-steps', 'many-steps', swanlog)
    assert not writer_process.pending_writers(str(swanlog)), 'the process exited before its writer was done'
    seconds = float(re.search(r'CLOSE_SECONDS ([\d.]+)', output).group(1))
    assert seconds > writer_process.PROGRESS_AFTER_S, output[-3000:]  # it waited, long enough for a progress line
    assert 'waiting for the writer to write what was logged' in output, output[-3000:]
    assert 'was dropped' not in output, output[-3000:]
    # close() returned once the writer had written everything: not before (the wait the writer's side reports,
    # rounded to a second, is part of close) and not long after (handing over the end of the run and saying
    # where it is are bounded by the backend's close_timeout).
    all_written = re.search(r'SwanLab: all written \((\d+) s\)', output)
    assert all_written, output[-3000:]
    waited = float(all_written.group(1))
    close_timeout = inspect.signature(SwanlabVisBackend).parameters['close_timeout'].default
    assert waited - 0.5 <= seconds <= waited + 0.5 + close_timeout, (seconds, waited, output[-3000:])
    experiment = dashboard.experiment('many-steps')
    assert dashboard.wait_status(experiment) == 'finished'
    assert dashboard.tag(experiment, 'metric_11')['sum'] == 2000
    assert [m['step'] for m in dashboard.media(experiment, 'snapshot')] == list(range(200, 2001, 200))
