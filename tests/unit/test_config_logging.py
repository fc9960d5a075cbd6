"""The config as the dashboard shows it: flat, plain values, secrets redacted (README, rows 11 and 15)."""
import numpy as np
from mmengine.config import Config

from swanlab_backend.config_logging import REDACTED, config_text, flatten_config


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
