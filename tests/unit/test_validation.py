"""Bad tracking settings fail before training, naming the fix (README, rows 13 and 15)."""
import inspect
import subprocess
import sys

import pytest
import swanlab
from mmengine.config import Config

from swanlab_backend.mmengine.validation import (
    SWANLAB_INIT_KEYS,
    typo_hint,
    validate_init_kwargs,
    validate_visualizer_config,
)


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


def test_the_init_keys_are_those_of_the_installed_swanlab_init():
    assert set(SWANLAB_INIT_KEYS) == set(inspect.signature(swanlab.init).parameters) - {'kwargs', 'callbacks',
                                                                                         'settings'}


def test_the_training_process_does_not_import_swanlab(tmp_path):
    """SwanLab runs in the writer process: importing the package and building a backend leave the training without
    it; SwanLab's own MMEngine backend imported afterwards leaves ours registered."""
    code = (
        'import sys; import swanlab_backend\n'
        'from mmengine.registry import VISBACKENDS\n'
        'backend = VISBACKENDS.build(dict(type="SwanlabVisBackend", save_dir="{}", init_kwargs=dict(project="p")))\n'
        'assert "swanlab" not in sys.modules, sorted(m for m in sys.modules if m.startswith("swanlab."))\n'
        'backend.close()\n'
        'import swanlab.integration.mmengine as theirs\n'
        'assert VISBACKENDS.get("SwanlabVisBackend") is swanlab_backend.SwanlabVisBackend\n'
        'print("ok")\n')
    result = subprocess.run([sys.executable, '-c', code.format(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith('ok'), result.stderr[-3000:]
