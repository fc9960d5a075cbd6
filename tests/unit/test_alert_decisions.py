"""Alerts (issue #26): the options' checks, the writer's decisions, the webhook on loopback; no training."""
import http.server
import json
import threading

import pytest

from swanlab_backend import alert_options
from swanlab_backend.alert_options import check_alerts, resolve_channel
from swanlab_backend.handover import progress, writer_output
from swanlab_backend.mmengine.checkpoints import CheckpointLedger
from swanlab_backend.writer import delivery
from swanlab_backend.writer.alert_messages import Alert
from swanlab_backend.writer.alert_rules import AlertRules, best_checkpoint_in

MIN = 60.0


def rules(**options):
    return AlertRules(check_alerts(options), 'toy', 4242, now=0.0)


# ---- the options --------------------------------------------------------------------------------------------

def test_the_defaults_are_the_alerts_that_cannot_be_noisy():
    options = check_alerts(None)
    assert (options['nan'], options['stall'], options['crash'], options['finished']) == (True,) * 4
    assert options['new_best'] is False and options['stall_minutes'] is None and options['channels'] == []


@pytest.mark.parametrize('alerts, message', [
    (dict(stal=False), "alerts has no option 'stal' (did you mean 'stall'?)"),
    (dict(stall_minutes=0), "alerts['stall_minutes'] takes a number of minutes above 0"),
    (dict(nan='yes'), "alerts['nan'] takes True or False"),
    (dict(max_per_hour=0), "alerts['max_per_hour'] takes a whole number above 0"),
    (dict(channels=[dict(type='Webhook', url_env='X')]), "no alert channel (did you mean 'webhook'?)"),
    (dict(channels=[dict(type='webhook', url='https://hooks.example/T0KEN')]),
     "has 'url' written in the config, which MMEngine saves into the work dir and its log: put it in an "
     "environment variable and write url_env='VARIABLE', or in a file and write url_file='path'"),
    (dict(channels=[dict(type='EmailCallback', sender_email='a@x', receiver_email='b@x', password='hunter2')]),
     "has 'password' written in the config"),
    (dict(channels=[dict(type='SlackCallback', webhook_url_env='ALERTS_TEST_UNSET')]),
     'the environment variable ALERTS_TEST_UNSET is not set: export ALERTS_TEST_UNSET=... before training'),
    (dict(channels=[dict(type='LarkCallback')]), "(LarkCallback) needs ['webhook_url']"),
    (dict(channels=[dict(type='webhook', url_env='X', timout=3)]),
     "has no argument 'timout' (did you mean 'timeout'?)"),
])
def test_options_that_cannot_work_fail_with_the_fix(alerts, message, monkeypatch):
    monkeypatch.setenv('X', 'http://127.0.0.1:9/')
    monkeypatch.delenv('ALERTS_TEST_UNSET', raising=False)
    with pytest.raises(ValueError) as error:
        check_alerts(alerts)
    assert message in str(error.value)
    assert 'T0KEN' not in str(error.value) and 'hunter2' not in str(error.value)


def test_secrets_come_from_a_variable_or_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv('SMTP_PASSWORD', 's3cret')
    (tmp_path / 'hook').write_text('https://hooks.example/T0KEN\n')
    options = check_alerts(dict(channels=[
        dict(type='EmailCallback', sender_email='a@x', receiver_email='b@x', password_env='SMTP_PASSWORD', port=25),
        dict(type='webhook', url_file=str(tmp_path / 'hook'))]))
    assert resolve_channel(options['channels'][0]) == (
        'EmailCallback', dict(sender_email='a@x', receiver_email='b@x', password='s3cret', port=25), ['s3cret'])
    assert resolve_channel(options['channels'][1]) == (
        'webhook', dict(url='https://hooks.example/T0KEN'), ['https://hooks.example/T0KEN'])


def test_every_channel_is_a_swanlab_notification_plugin_with_the_parts_delivery_replaces():
    """Delivery sends an alert with the plugin's own code, its message parts replaced (writer/delivery.py)."""
    import swanlab.plugin.notification as notification
    for name in set(alert_options.CHANNELS) - {'webhook'}:
        plugin = getattr(notification, name)
        assert callable(plugin._send_notification) and callable(plugin._build_content), name
    assert callable(notification.EmailCallback._build_subject) and callable(notification.EmailCallback._build_html)


# ---- NaN and Inf ----------------------------------------------------------------------------------------------

def test_a_non_finite_loss_is_alerted_once_per_loss_with_its_iteration():
    decide = rules()
    assert decide.numbers({'train/loss': 0.7, 'train/loss_aux': 0.5}, 2, 1.0) == []
    (alert,) = decide.numbers({'train/loss': 0.6, 'train/loss_aux': float('nan')}, 3, 2.0)
    assert alert.kind == 'nan' and 'train/loss_aux = nan at iteration 3' in alert.text
    assert decide.numbers({'train/loss_aux': float('nan')}, 4, 3.0) == []  # once per key
    (alert,) = decide.numbers({'train/loss': float('inf'), 'train/lr': float('nan')}, 5, 4.0)
    assert 'train/loss = inf at iteration 5' in alert.text and 'lr' not in alert.text  # losses only
    assert rules(nan=False).numbers({'train/loss': float('nan')}, 1, 0.0) == []


# ---- stalls -----------------------------------------------------------------------------------------------------

def test_a_stall_is_alerted_once_after_its_limit_and_again_after_progress_resumed():
    decide = rules(stall_minutes=2)
    moving = {'phase': 'train', 'counts': {'train': 10}, 'median_s': {'train': 0.5}, 'running': ['train']}
    assert decide.progress(moving, 0.0, True) == []
    assert decide.progress(moving, 119.0, True) == []
    (alert,) = decide.progress(moving, 121.0, True)
    assert alert.kind == 'stall' and 'No training, validation or test iteration for 2 min 01 s' in alert.text
    assert 'train iteration 10' in alert.text and 'py-spy dump --pid 4242' in alert.text
    assert decide.progress(moving, 500.0, True) == []  # once per stall
    evaluating = {'phase': 'val', 'counts': {'train': 10, 'val': 1}, 'median_s': {'train': 0.5},
                  'running': ['train', 'val']}
    assert decide.progress(evaluating, 501.0, True) == []  # a validation iteration is progress
    assert decide.progress(evaluating, 620.0, True) == []
    assert [a.kind for a in decide.progress(evaluating, 622.0, True)] == ['stall']


def test_no_stall_is_alerted_for_a_training_process_that_is_gone_or_between_loops():
    decide = rules(stall_minutes=1)
    assert decide.progress({'counts': {'train': 1}, 'running': ['train']}, 0.0, True) == []
    assert decide.progress({'counts': {'train': 1}, 'running': ['train']}, 3600.0, False) == []
    decide = rules(stall_minutes=1)  # train() has returned; a test() may follow, or the script does more
    assert decide.progress({'counts': {'train': 8}, 'running': []}, 0.0, True) == []
    assert decide.progress({'counts': {'train': 8}, 'running': []}, 3600.0, True) == []


def test_the_default_stall_limit_is_ten_median_iterations_and_at_least_ten_minutes():
    decide = rules()
    assert decide.stall_limit('train', 0.4)[0] == 10 * MIN
    assert decide.stall_limit('val', 90.0)[0] == 900.0
    assert decide.stall_limit(None, None)[0] == 10 * MIN


def test_the_training_side_counts_iterations_their_median_time_and_the_loops_that_run():
    before = progress.snapshot()['counts'].get('test', 0)
    progress.phase('test', running=True)
    for _ in range(3):
        progress.iteration_done('test')
    state = progress.snapshot()
    assert state['phase'] == 'test' and state['counts']['test'] == before + 3 and state['median_s']['test'] >= 0
    assert 'test' in state['running']
    progress.phase('test', running=False)
    assert 'test' not in progress.snapshot()['running']


# ---- new best, the end, the rate limit ---------------------------------------------------------------------------

def test_a_new_best_is_alerted_only_when_asked_and_only_when_it_improves():
    assert rules().numbers({'best/accuracy': 50.0}, 4, 0.0) == [] == rules().numbers({'best/accuracy': 60.0}, 8, 0)
    decide = rules(new_best=True)
    assert decide.numbers({'best/accuracy': 50.0, 'best/accuracy_iter': 4.0}, 4, 0.0) == []  # the first best
    assert decide.numbers({'best/accuracy': 50.0}, 8, 1.0) == []  # no better
    (alert,) = decide.numbers({'best/accuracy': 75.0, 'best/accuracy_iter': 12.0}, 12, 2.0)
    assert alert.title == 'toy: new best accuracy = 75' and 'the best was 50' in alert.text


def test_a_finished_run_sums_up_its_final_metrics_best_checkpoint_and_wall_time(tmp_path):
    ledger = CheckpointLedger(str(tmp_path))
    ledger.entries = [dict(name=n, iter=i, epoch=e, size=2 ** 20, best=b, sha256='ab' * 32, metrics={})
                      for n, i, e, b in (('epoch_1.pth', 4, 1, False), ('best_accuracy_epoch_2.pth', 8, 2, True),
                                         ('epoch_2.pth', 8, 2, False))]
    decide = rules()
    decide.numbers({'val/accuracy': 62.5, 'val/epoch': 2.0, 'val/time': 0.1, 'best/accuracy': 62.5,
                    'best/accuracy_iter': 8.0}, 8, 1)
    decide.ledger(ledger.table())
    decide.numbers({'test/accuracy': 60.0}, 8, 2.0)
    (alert,) = decide.finish('success', None, '/runs/run-1', 3725.0)
    assert alert.kind == 'finished' and alert.deliver
    for line in ('State: success', 'Wall time: 1 h 02 min', 'Final validation (iteration 8): val/accuracy = 62.5',
                 'Test: test/accuracy = 60', 'Best accuracy = 62.5 at iteration 8',
                 'Best checkpoint: best_accuracy_epoch_2.pth', 'Run: /runs/run-1'):
        assert line in alert.text.splitlines(), (line, alert.text)
    assert best_checkpoint_in(ledger.table().replace('*', ' ')) is None


def test_a_crash_tells_the_exception_and_the_last_console_lines_and_its_summary_is_not_sent_twice():
    decide = rules()
    decide.console('Epoch(train) [1][2/4] loss: 0.69\nTOY_PROGRESS 1/3\rTOY_PROGRESS 3/3\nsaving checkpoint')
    error = 'Traceback (most recent call last):\n  File "toy.py", line 3\nRuntimeError: toy failure at iteration 3'
    decide.console('\n' + error + '\n')
    crashed, summary = decide.finish('crashed', error, '/runs/run-1', 10.0)
    assert crashed.kind == 'crashed' and crashed.deliver and not summary.deliver
    assert 'RuntimeError: toy failure at iteration 3' in crashed.text
    last = crashed.text.split('Last console lines:\n')[1].splitlines()
    assert last == ['Epoch(train) [1][2/4] loss: 0.69', 'TOY_PROGRESS 3/3', 'saving checkpoint']  # no traceback twice
    assert [a.kind for a in rules().finish('aborted', 'KeyboardInterrupt', 'x', 1.0)] == ['aborted', 'finished']


def test_deliveries_beyond_the_hourly_limit_are_only_recorded_and_the_next_one_says_so():
    decide = rules(max_per_hour=2, new_best=True)
    decide.numbers({'best/a': 1.0}, 1, 0.0)
    sent = [decide.numbers({'best/a': float(v)}, v, float(v)) for v in range(2, 6)]
    assert [alert.deliver for (alert,) in sent] == [True, True, False, False]
    (later,) = decide.numbers({'best/a': 9.0}, 9, 3700.0)
    assert later.deliver and '2 earlier alert(s) were not sent: at most 2 an hour' in later.text


# ---- delivery ----------------------------------------------------------------------------------------------

class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.received.append((self.path, json.loads(body)))
        self.send_response(404 if self.path.startswith('/missing') else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_gets_a_json_post_and_a_failing_channel_is_one_warning_without_its_secret(monkeypatch):
    warnings = []
    monkeypatch.setattr(delivery, 'print_log', lambda message, **kwargs: warnings.append(message))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv('HOOK_OK', f'http://127.0.0.1:{server.server_port}/hook/T0KEN-ok')
        monkeypatch.setenv('HOOK_BAD', f'http://127.0.0.1:{server.server_port}/missing/T0KEN-bad')
        channels = check_alerts(dict(channels=[dict(type='webhook', url_env='HOOK_OK'),
                                               dict(type='webhook', url_env='HOOK_BAD', timeout=5)]))['channels']
        sender = delivery.Delivery(channels, 'toy')
        for step in (3, 4):
            sender.send(Alert('nan', 'toy: non-finite loss', f'train/loss = nan at iteration {step}'))
        sender.drain(10)
    finally:
        server.shutdown()
    assert [body for path, body in _Receiver.received if path == '/hook/T0KEN-ok'] == [
        {'kind': 'nan', 'title': 'toy: non-finite loss', 'text': f'train/loss = nan at iteration {step}', 'run': 'toy'}
        for step in (3, 4)]
    assert len([path for path, _ in _Receiver.received if path.startswith('/missing')]) == 2  # each alert tries
    (warning,) = warnings  # one per channel
    assert "alerts['channels'][1] (webhook) could not send: HTTPError: HTTP Error 404" in warning
    assert 'T0KEN' not in warning


def test_what_the_writer_prints_and_swanlab_logs_never_holds_a_secret_nor_a_webhook_token():
    import io
    import logging
    stream = io.StringIO()
    writer_output.keep_out('https://hooks.example.com/services/T0KEN-printed-0123?key=K3Y-printed-4567')
    writer_output._NeverFailing(stream).write('POST https://hooks.example.com/services/T0KEN-printed-0123?key='
                                              'K3Y-printed-4567 failed; retried url: /services/T0KEN-printed-0123')
    assert stream.getvalue() == 'POST *** failed; retried url: /services/***'
    logged = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())

    swanlab_log = logging.getLogger(writer_output.SWANLAB_LOG)
    handler = Collect()
    swanlab_log.addHandler(handler)
    try:
        swanlab_log.error('Max retries exceeded with url: %s', '/services/T0KEN-printed-0123?key=K3Y-printed-4567')
    finally:
        swanlab_log.removeHandler(handler)
    assert logged == ['Max retries exceeded with url: /services/***?key=***']
