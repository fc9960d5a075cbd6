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
from swanlab_backend.swanlab_options import (
    CALLBACKS,
    SETTINGS_FIELDS,
    OptionError,
    build_callbacks,
    build_settings,
    plain_options,
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
    assert set(SWANLAB_INIT_KEYS) == set(inspect.signature(swanlab.init).parameters) - {'kwargs'}


def test_the_callbacks_are_those_of_the_installed_swanlab():
    import importlib

    import swanlab.plugin
    assert set(CALLBACKS) == set(swanlab.plugin.__all__)
    for name, (module, arguments, required) in CALLBACKS.items():
        parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
        assert arguments == tuple(parameters), name
        assert required == tuple(p for p, v in parameters.items() if v.default is inspect.Parameter.empty), name


def test_the_settings_fields_are_those_of_the_installed_swanlab():
    import pathlib
    import typing

    import pydantic

    def kind(annotation):
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Union and type(None) in args and len(args) == 2:
            return kind(next(a for a in args if a is not type(None))) + '?'
        if origin is typing.Annotated:
            return kind(args[0])
        if origin is typing.Literal:
            return args
        if origin is list:
            return 'list'
        return {bool: 'bool', int: 'int', float: 'float', str: 'str', pathlib.Path: 'path'}[annotation]

    def fields(model, prefix=''):
        for name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, pydantic.BaseModel):
                yield from fields(field.annotation, f'{prefix}{name}.')
            else:
                yield f'{prefix}{name}', kind(field.annotation)
    assert SETTINGS_FIELDS == dict(fields(swanlab.Settings))


@pytest.mark.parametrize('init_kwargs, message', [
    ({'callbacks': [dict(type='LarkCallbak', webhook_url='https://x')]},
     "type='LarkCallbak', which is not one of SwanLab's callbacks (did you mean 'LarkCallback'?); use one of ["),
    ({'callbacks': [dict(type='LarkCallback', webhook='https://x')]},
     "(LarkCallback) has no argument 'webhook' (did you mean 'webhook_url'?); it takes ['webhook_url', 'secret',"),
    ({'callbacks': [dict(type='EmailCallback', sender_email='a@b', receiver_email='c@d')]},
     "(EmailCallback) needs ['password']"),
    ({'callbacks': dict(type='CSVWriter')}, "init_kwargs['callbacks'] must be a list"),
    ({'callbacks': ['CSVWriter']}, "init_kwargs['callbacks'][0] must be a dict with a type"),
    ({'settings': dict(probe=dict(gti=False))}, "no field 'probe.gti' (did you mean 'probe.git'?)"),
    ({'settings': dict(api_key='sk-x')}, "sets 'api_key': remove it and set SWANLAB_API_KEY"),
    ({'settings': dict(mode='offline')}, "use init_kwargs['mode'] instead"),
    ({'settings': 'fast'}, "init_kwargs['settings'] must be a dict"),
    ({'settings': dict(probe=dict(git='no'))}, "field 'probe.git' takes a bool, not a str"),
    ({'settings': dict(terminal=dict(proxy_type='both'))}, "field 'terminal.proxy_type' takes one of ('all',"),
])
def test_callbacks_and_settings_that_cannot_work_are_refused(init_kwargs, message):
    with pytest.raises(ValueError) as error:
        validate_init_kwargs(init_kwargs)
    assert message in str(error.value)
    assert 'https://x' not in str(error.value) and 'sk-x' not in str(error.value)


def test_good_callbacks_and_settings_pass_and_objects_become_plain_data():
    from swanlab.plugin import CSVWriter, LarkCallback
    validate_init_kwargs({'callbacks': [dict(type='LarkCallback', webhook_url='https://x', secret='s'),
                                        dict(type='CSVWriter', dir='/tmp')],
                          'settings': dict(probe=dict(git=False), terminal=dict(max_length=100),
                                           run=dict(history=None), core=dict(record_interval=2))})
    plain = plain_options({'callbacks': [LarkCallback(webhook_url='https://x'), dict(type='CSVWriter')],
                           'settings': swanlab.Settings(probe=dict(git=False))})
    assert plain['settings'] == {'probe': {'git': False}} and plain['callbacks'][1] == dict(type='CSVWriter')
    validate_init_kwargs(plain)
    lark, csv = build_callbacks(plain['callbacks'])
    assert isinstance(lark, LarkCallback) and isinstance(csv, CSVWriter)
    assert build_settings(plain['settings']).probe.git is False
    with pytest.raises(OptionError, match=r"init_kwargs\['callbacks'\] \(CSVWriter\) could not be built"):
        build_callbacks([dict(type='CSVWriter', folder='x')])


def test_a_settings_object_leaves_what_it_read_from_the_environment_to_the_writer(monkeypatch):
    monkeypatch.setenv('SWANLAB_API_KEY', 'sk-from-env')
    monkeypatch.setenv('SWANLAB_MODE', 'offline')
    plain = plain_options({'settings': swanlab.Settings(probe=dict(git=False))})
    assert plain['settings'] == {'probe': {'git': False}}
    validate_init_kwargs(plain)


def test_a_callback_of_ones_own_is_imported_in_the_writer_from_where_the_training_found_it(tmp_path):
    """The writer's path lacks the script's folder: the callback's module is found where the training found it."""
    (tmp_path / 'my_callbacks.py').write_text('class Ping:\n    def __init__(self, to):\n        self.to = to\n')
    package = ('import sys, json, types; sys.modules["swanlab_backend"] = package = types.ModuleType("p")\n'
               'package.__path__ = ["swanlab_backend"]\n')  # as the writer imports it: without torch
    code = package + ('sys.path.insert(0, sys.argv[1]); import my_callbacks\n'
                      'from swanlab_backend.swanlab_options import plain_options\n'
                      'print(json.dumps(plain_options({"callbacks": [my_callbacks.Ping("me")]})))\n')
    plain = subprocess.run([sys.executable, '-c', code, str(tmp_path)], capture_output=True, text=True, check=True)
    writer = package + ('from swanlab_backend.swanlab_options import build_callbacks\n'
                        'print(build_callbacks(json.loads(sys.stdin.read())["callbacks"])[0].to)\n')
    built = subprocess.run([sys.executable, '-c', writer], input=plain.stdout, capture_output=True, text=True)
    assert built.stdout.strip() == 'me', built.stderr[-2000:]


def test_a_callback_that_cannot_reach_the_writer_gets_the_dict_form():
    import threading

    class Local:
        lock = None

    holder = type('Holder', (), {})()
    holder.lock = threading.Lock()
    holder.__class__.__module__ = 'mine'
    with pytest.raises(ValueError, match="cannot be handed to the writer process.*pass it as a dict instead"):
        plain_options({'callbacks': [holder]})
    Local.__module__ = '__main__'
    with pytest.raises(ValueError, match='defined in the script itself'):
        plain_options({'callbacks': [Local()]})


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
