"""Alerts delivered for real on 127.0.0.1 (issue #26): toy trainings with a NaN loss and a new best, a hang, a
crash, Ctrl+C, a finish.

Three receivers: an SMTP server (aiosmtpd, STARTTLS with a self-signed certificate, a login) that SwanLab's own
``EmailCallback`` sends to, and one HTTP server for the plain webhook and for SwanLab's ``SlackCallback``. Each
message is checked, and no secret (the SMTP password, the webhooks' tokens) may be in the training's output, the
work dir, the SwanLab log dir, or on the dashboard.
"""
import email
import email.policy
import http.server
import json
import os
import signal
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from helpers import clean_env, recorded_runs, start_until_hang

SMTP_PASSWORD, HOOK_TOKEN, SLACK_TOKEN = 'smtp-pw-5d1e9a', 'hook-tok-83c2f0', 'slack-tok-b7e415'
DEAD_TOKEN = 'dead-tok-1c94e2'  # a Slack webhook nothing answers: SwanLab's plugin logs the failure with its URL
SECRETS = (SMTP_PASSWORD, HOOK_TOKEN, SLACK_TOKEN, DEAD_TOKEN)


class _Inbox:
    """What the receivers got: ``(channel, kind or subject, text)``, in order."""

    def __init__(self):
        self.messages, self._lock = [], threading.Condition()

    def add(self, *message):
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self._lock:
            while not any(predicate(*m) for m in self.messages):
                if time.monotonic() > deadline:
                    raise AssertionError(f'no such message within {timeout} s; got {self.messages}')
                self._lock.wait(max(0.01, deadline - time.monotonic()))
            return next(m for m in self.messages if predicate(*m))

    def take(self):
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


@pytest.fixture(scope='module')
def inbox():
    return _Inbox()


@pytest.fixture(scope='module')
def http_receiver(inbox):
    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
            if self.path == f'/hook/{HOOK_TOKEN}':
                inbox.add('webhook', body['kind'], body['title'] + '\n' + body['text'])
            elif self.path == f'/slack/{SLACK_TOKEN}':
                inbox.add('slack', None, body['text'])
            self.send_response(200 if self.path in (f'/hook/{HOOK_TOKEN}', f'/slack/{SLACK_TOKEN}') else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for ``localhost`` (SwanLab's EmailCallback always starts TLS)."""
    folder = tmp_path_factory.mktemp('tls')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', str(folder / 'key.pem'),
                    '-out', str(folder / 'cert.pem')], check=True, capture_output=True)
    return folder / 'cert.pem', folder / 'key.pem'


@pytest.fixture(scope='module')
def smtp_port(inbox, certificate):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            inbox.add('email', str(message['Subject']), message.get_body(('plain',)).get_content())
            return '250 OK'

    def authenticate(server, session, envelope, mechanism, auth_data):
        login = (auth_data.login, auth_data.password)
        return AuthResult(success=login == (b'trainer@localhost', SMTP_PASSWORD.encode()))

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    from ci.dashboard import free_port
    controller = Controller(Handler(), hostname='127.0.0.1', port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticate, auth_require_tls=True)
    controller.start()
    yield controller.port
    controller.stop()


@pytest.fixture(scope='module')
def alert_env(http_receiver, certificate):
    """The training's environment: the secrets in variables, the test's certificate trusted."""
    from ci.dashboard import free_port
    return clean_env(SMTP_PASSWORD=SMTP_PASSWORD, ALERT_WEBHOOK_URL=f'{http_receiver}/hook/{HOOK_TOKEN}',
                     DEAD_WEBHOOK_URL=f'http://127.0.0.1:{free_port()}/slack/{DEAD_TOKEN}',
                     SLACK_WEBHOOK_URL=f'{http_receiver}/slack/{SLACK_TOKEN}', SSL_CERT_FILE=str(certificate[0]),
                     NO_PROXY='127.0.0.1,localhost', no_proxy='127.0.0.1,localhost')


def _alerts(smtp_port, dead_channel=False, **options):
    channels = [dict(type='webhook', url_env='ALERT_WEBHOOK_URL'),
                dict(type='SlackCallback', webhook_url_env='SLACK_WEBHOOK_URL', language='en'),
                dict(type='EmailCallback', sender_email='trainer@localhost', receiver_email='me@localhost',
                     password_env='SMTP_PASSWORD', smtp_server='localhost', port=smtp_port, language='en')]
    if dead_channel:
        channels.append(dict(type='SlackCallback', webhook_url_env='DEAD_WEBHOOK_URL'))
    return repr({'alerts': dict(options, channels=channels)})


def _no_secret_anywhere(output, *folders):
    for secret in SECRETS:
        assert secret not in output
        for folder in folders:
            leaks = [p for p in Path(folder).rglob('*') if p.is_file() and secret.encode() in p.read_bytes()]
            assert not leaks, f'{secret} was written to {leaks}'


def test_a_nan_loss_and_the_finish_reach_mail_slack_and_the_webhook(toy_run, inbox, smtp_port, alert_env, swanlog,
                                                                    dashboard, tmp_path):
    inbox.take()
    result = toy_run('alerts-finished', '--length', 2, '--nan-at', 3, '--checkpoint-options',
                     "dict(save_best='accuracy', rule='greater')", '--backend-options',
                     _alerts(smtp_port, new_best=True), env=alert_env)
    output = result.stdout + result.stderr
    nan = inbox.wait_for(lambda channel, kind, text: channel == 'webhook' and kind == 'nan', 30)
    assert 'train/loss_aux = nan at iteration 3' in nan[2]
    finished = inbox.wait_for(lambda channel, kind, text: channel == 'webhook' and kind == 'finished', 30)[2]
    accuracy = dashboard.scalar_series(dashboard.experiment('alerts-finished'), 'val/accuracy')
    test_accuracy = dashboard.scalar_series(dashboard.experiment('alerts-finished'), 'test/accuracy')
    for line in ('alerts-finished: finished (success)', 'State: success', 'Iterations: test 4, train 8, val 8',
                 f'Final validation (iteration 8): val/accuracy = {accuracy[8]:.6g}',
                 f'Test: test/accuracy = {list(test_accuracy.values())[0]:.6g}',
                 f'Best checkpoint: best_accuracy_epoch_{1 + (accuracy[8] > accuracy[4])}.pth'):
        assert line in finished.splitlines(), (line, finished)
    # A new best only when the second validation beats the first (the first value is no news).
    improved = accuracy[8] > accuracy[4]
    new_best = [text for channel, kind, text in inbox.messages if channel == 'webhook' and kind == 'new_best']
    assert new_best == ([f'alerts-finished: new best accuracy = {accuracy[8]:.6g}\naccuracy = '  # save_best's name
                         f'{accuracy[8]:.6g} at iteration 8 (the best was {accuracy[4]:.6g}).'] if improved else [])
    # SwanLab's own plugins made the same calls, with the alert as their message.
    slack = [text for channel, _, text in inbox.messages if channel == 'slack']
    assert len(slack) == 2 + improved and 'train/loss_aux = nan at iteration 3' in slack[0], slack
    assert 'State: success' in slack[-1]
    mails = [(subject, text) for channel, subject, text in inbox.messages if channel == 'email']
    assert [subject for subject, _ in mails] == [
        'SwanLab alert | alerts-finished: non-finite loss at iteration 3',
        *([f'SwanLab alert | alerts-finished: new best accuracy = {accuracy[8]:.6g}'] if improved else []),
        'SwanLab alert | alerts-finished: finished (success)']
    assert 'Best checkpoint: best_accuracy_epoch_' in mails[-1][1]
    # Into the run and the console too; the curve skips the NaN.
    experiment = dashboard.experiment('alerts-finished')
    assert 'train/loss_aux = nan at iteration 3' in dashboard.media(experiment, 'alerts/nan')[0]['files'][0]
    assert 'State: success' in dashboard.media(experiment, 'alerts/finished')[0]['files'][0]
    assert 3 not in dashboard.scalar_series(experiment, 'train/loss_aux')
    assert 'SwanLab alert: alerts-finished: non-finite loss at iteration 3' in output
    assert 'could not send' not in output
    _no_secret_anywhere(output + dashboard.config_text(experiment), tmp_path / 'work_dir', swanlog)


def test_a_crash_tells_the_exception_and_the_last_lines(toy_run, inbox, smtp_port, alert_env, swanlog, dashboard,
                                                        tmp_path):
    inbox.take()
    result = toy_run('alerts-crashed', '--length', 2, '--crash-at', 3, '--markers-at', 2,
                     '--backend-options', _alerts(smtp_port, dead_channel=True), env=alert_env, expect=1)
    crashed = inbox.wait_for(lambda channel, kind, text: channel == 'webhook' and kind == 'crashed', 30)[2]
    assert 'The run crashed after iteration 2' in crashed
    assert 'RuntimeError: toy failure at iteration 3' in crashed
    assert 'TOY_PRINT_MARKER rank 0' in crashed.split('Last console lines:')[1]
    mail = inbox.wait_for(lambda channel, subject, text: channel == 'email', 30)
    assert mail[1] == 'SwanLab alert | alerts-crashed: the run crashed'
    assert [kind for channel, kind, _ in inbox.messages if channel == 'webhook'] == ['crashed']  # not twice
    experiment = dashboard.experiment('alerts-crashed')
    assert 'State: crashed' in dashboard.media(experiment, 'alerts/finished')[0]['files'][0]
    output = result.stdout + result.stderr
    assert 'SlackBot sending failed' in output  # the channel nothing answers: SwanLab's plugin says so
    assert list(swanlog.glob('run-*/**/debug.log')), 'SwanLab keeps no debug.log any more: check where it logs'
    _no_secret_anywhere(output, tmp_path / 'work_dir', swanlog)


def test_ctrl_c_sends_the_aborted_alert_once_with_the_last_lines(inbox, smtp_port, alert_env, swanlog, dashboard,
                                                               tmp_path):
    inbox.take()
    process, lines = start_until_hang(tmp_path, 'alerts-aborted', swanlog, '--length', 2, '--markers-at', 2,
                                      '--hang-at', 3, '--no-test', '--backend-options', _alerts(smtp_port),
                                      env=alert_env)
    process.send_signal(signal.SIGINT)
    lines.append(process.communicate(timeout=60)[0])
    assert process.returncode != 0
    aborted = inbox.wait_for(lambda channel, kind, text: channel == 'webhook' and kind == 'aborted', 30)[2]
    assert aborted.startswith('alerts-aborted: the run was aborted\nThe run was aborted after iteration 2.'), aborted
    assert 'KeyboardInterrupt by user' in aborted
    assert 'TOY_PRINT_MARKER rank 0' in aborted.split('Last console lines:')[1]
    mail = inbox.wait_for(lambda channel, subject, text: channel == 'email', 30)
    assert mail[1] == 'SwanLab alert | alerts-aborted: the run was aborted'
    assert [kind for channel, kind, _ in inbox.messages if channel == 'webhook'] == ['aborted']  # no summary too
    assert recorded_runs(swanlog)['alerts-aborted'] == 'ABORTED'
    experiment = dashboard.experiment('alerts-aborted')
    assert 'KeyboardInterrupt by user' in dashboard.media(experiment, 'alerts/aborted')[0]['files'][0]
    assert 'State: aborted' in dashboard.media(experiment, 'alerts/finished')[0]['files'][0]
    _no_secret_anywhere(''.join(lines), tmp_path / 'work_dir', swanlog)


def test_a_hang_is_alerted_within_its_stall_time_while_the_training_lives(inbox, smtp_port, alert_env, swanlog,
                                                                         dashboard, tmp_path):
    inbox.take()
    process, lines = start_until_hang(tmp_path, 'alerts-stalled', swanlog, '--loop', 'iter', '--length', 8,
                                      '--hang-at', 3, '--backend-options', _alerts(smtp_port, stall_minutes=0.05),
                                      env=alert_env)
    try:
        hung = time.monotonic()
        stall = inbox.wait_for(lambda channel, kind, text: channel == 'webhook' and kind == 'stall'
                               and 'train iteration 2' in text, 60)[2]
        waited = time.monotonic() - hung
        print(f'stall alert {waited:.1f} s after the hang (stall_minutes=0.05: 3 s)')
        assert waited < 20
        assert 'No training, validation or test iteration for' in stall
        assert 'the last finished iteration was train iteration 2' in stall
        assert f'py-spy dump --pid {process.pid}' in stall
        # The training thread is stuck, yet the alert reaches its console (relayed by the progress thread).
        deadline = time.monotonic() + 10
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()
        while not any('SwanLab alert: alerts-stalled: no progress' in line for line in lines):
            assert time.monotonic() < deadline, ''.join(lines[-30:])
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert recorded_runs(swanlog)['alerts-stalled'] == 'CRASHED'
    assert 'the last finished iteration' in dashboard.media(dashboard.experiment('alerts-stalled'),
                                                            'alerts/stall')[0]['files'][0]
    assert os.path.isdir(tmp_path / 'work_dir')
    _no_secret_anywhere(''.join(lines), tmp_path / 'work_dir', swanlog)
