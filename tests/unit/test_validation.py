"""Bad tracking settings fail before training, naming the fix (README, rows 13 and 15)."""
import pytest
from mmengine.config import Config

from swanlab_backend.validation import typo_hint, validate_init_kwargs, validate_visualizer_config


@pytest.mark.parametrize('init_kwargs, message', [
    ({'projcet': 'x'}, "unknown init_kwargs key 'projcet'"),
    ({'api_key': 'sk-x'}, 'do not put `api_key` in a config'),
    ({'tags': 'one'}, 'init_kwargs["tags"] must be a list of strings'),
    ({'project': 3}, "init_kwargs['project'] must be a string"),
    ({'mode': 'cloudy'}, 'init_kwargs["mode"] is \'cloudy\''),
    ({'project': 'a b'}, "project name 'a b' may only hold"),
])
def test_init_kwargs_that_cannot_work_are_refused(init_kwargs, message):
    with pytest.raises(ValueError, match=None) as error:
        validate_init_kwargs(init_kwargs)
    assert message in str(error.value)


def test_good_init_kwargs_pass():
    validate_init_kwargs({'project': 'p-1.x', 'experiment_name': 'e', 'tags': ['a'], 'mode': 'local',
                          'description': 'd', 'log_dir': '/tmp/x'})


def test_the_api_key_error_names_the_file_and_never_the_key():
    with pytest.raises(ValueError) as error:
        validate_init_kwargs({'api_key': 'sk-secret-value'}, source='configs/mine.py')
    assert '(configs/mine.py)' in str(error.value) and 'sk-secret-value' not in str(error.value)


def test_a_mistyped_backend_type_gets_the_fix():
    assert "use type='SwanlabVisBackend'" in typo_hint('SwanLabVisbackend')
    assert typo_hint('SwanlabVisBackend') is None and typo_hint('WandbVisBackend') is None
    cfg = Config(dict(visualizer=dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='swanlabvisbackend')])))
    with pytest.raises(KeyError, match="use type='SwanlabVisBackend'"):
        validate_visualizer_config(cfg)
