"""The config as the dashboard shows it: flat, plain values, secrets redacted (README, rows 11 and 15)."""
import numpy as np
from mmengine.config import Config

from swanlab_backend.mmengine.config_logging import REDACTED, config_text, flatten_config


def test_nested_values_are_flattened_with_dotted_keys():
    flat, secrets = flatten_config({'model': {'backbone': {'depth': 50, 'frozen': [1, 2]},
                                              'heads': [{'type': 'A'}, {'type': 'B'}]}, 'empty': {}})
    assert flat == {'model.backbone.depth': 50, 'model.backbone.frozen': [1, 2], 'model.heads.0.type': 'A',
                    'model.heads.1.type': 'B', 'empty': {}}
    assert secrets == []


def test_odd_values_become_plain_text_or_numbers():
    flat, _ = flatten_config({'n': np.float32(0.5), 'fn': len, 'cls': Config, 'big': list(range(100)),
                              'long': 'x' * 5000, 'arr': np.zeros((2, 3))})
    assert flat['n'] == 0.5 and flat['fn'] == 'builtins.len' and flat['cls'] == 'mmengine.config.config.Config'
    assert flat['big'].endswith('(100 items, truncated for the dashboard)')
    assert flat['long'].endswith('(5000 characters, truncated for the dashboard)')
    assert flat['arr'] == 'ndarray(shape=(2, 3), dtype=float64)'


def test_secret_keys_are_redacted_in_the_values_and_in_the_text():
    cfg = Config(dict(hub=dict(api_key='sk-1234567890', token='tok-abc', user='me'), lr=0.1))
    flat, secrets = flatten_config(cfg.to_dict())
    assert flat['hub.api_key'] == flat['hub.token'] == REDACTED and flat['hub.user'] == 'me'
    text = config_text(cfg, secrets)
    assert 'sk-1234567890' not in text and 'tok-abc' not in text and REDACTED in text and "user='me'" in text


def test_only_whole_secret_names_are_redacted_and_nothing_else_in_the_text():
    """Neither over-redaction (tokenizer, max_tokens, with_cls_token) nor under-redaction (access_key, URLs)."""
    cfg = Config(dict(
        model=dict(tokenizer=dict(type='BertTokenizer'), max_tokens=40, with_cls_token=True,
                   head=dict(type='BertTokenizer')),
        storage=dict(access_key='AKIA0123456789', secret_access_key='wJalrXUtnFEMI', hf_token='hf_abcdefgh',
                     smtp_password='hunter2'),
        data_root='https://alice:s3cr3t-pass@data.example.com/coco/',
        notify=dict(url='https://open.feishu.cn/hook?access_token=tok123456&lang=zh'),
        webhook_url='https://hooks.slack.com/services/T000/B000/XXXXXXXX'))
    flat, secrets = flatten_config(cfg.to_dict())
    assert flat['model.tokenizer.type'] == flat['model.head.type'] == 'BertTokenizer'
    assert flat['model.max_tokens'] == 40 and flat['model.with_cls_token'] is True
    for key in ('storage.access_key', 'storage.secret_access_key', 'storage.hf_token', 'storage.smtp_password',
                'webhook_url'):
        assert flat[key] == REDACTED, key
    assert flat['data_root'] == f'https://alice:{REDACTED}@data.example.com/coco/'
    assert flat['notify.url'] == f'https://open.feishu.cn/hook?access_token={REDACTED}&lang=zh'
    text = config_text(cfg, secrets)
    assert text.count("'BertTokenizer'") == 2 and 'max_tokens=40' in text and 'with_cls_token=True' in text
    for secret in ('AKIA0123456789', 'wJalrXUtnFEMI', 'hf_abcdefgh', 'hunter2', 's3cr3t-pass', 'tok123456',
                   'XXXXXXXX'):
        assert secret not in text, secret
    assert 'lang=zh' in text and 'alice:' in text


def test_the_arguments_of_notification_callbacks_are_redacted():
    """A Telegram chat id or an email address is as private as a webhook: only their settings stay readable."""
    callbacks = [dict(type='TelegramCallback', bot_token='123:abcdefgh', chat_id='987654321', language='en'),
                 dict(type='EmailCallback', sender_email='me@example.com', receiver_email='you@example.com',
                      password='hunter22', port=465),
                 dict(type='BarkCallback', key='barkkey12345'), dict(type='CSVWriter', dir='csv_dir')]
    settings = dict(integration=dict(webhook=dict(url='https://hook.example/x')))
    backend = dict(type='SwanlabVisBackend', init_kwargs=dict(callbacks=callbacks, settings=settings))
    cfg = Config(dict(visualizer=dict(vis_backends=[backend])))
    flat, secrets = flatten_config(cfg.to_dict())
    text = config_text(cfg, secrets)
    for value in ('123:abcdefgh', '987654321', 'me@example.com', 'you@example.com', 'hunter22', 'barkkey12345',
                  'https://hook.example/x'):
        assert value not in text and value not in str(flat), value
    prefix = 'visualizer.vis_backends.0.init_kwargs.callbacks'
    assert flat[f'{prefix}.0.language'] == 'en' and flat[f'{prefix}.1.port'] == 465
    assert flat[f'{prefix}.3.dir'] == 'csv_dir' and flat[f'{prefix}.0.chat_id'] == REDACTED
