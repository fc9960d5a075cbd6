"""WarnOnce tells each key once, also when threads race, and imports nothing the writer process must not load."""
import subprocess
import sys
import threading

import swanlab_backend.warn_once as warn_once_module
from swanlab_backend.warn_once import WarnOnce


def test_each_key_is_told_the_first_time_only():
    said = []
    warn_once = WarnOnce()
    assert warn_once(ValueError, said.append, 'first ValueError') is True
    assert warn_once(ValueError, said.append, 'second ValueError') is False
    assert warn_once(KeyError, said.append, 'first KeyError') is True
    assert warn_once('loss', lambda message, level: said.append((message, level)), 'loss is nan', level=30)
    assert said == ['first ValueError', 'first KeyError', ('loss is nan', 30)]
    assert ValueError in warn_once and TypeError not in warn_once


def test_first_marks_a_key_seen():
    warn_once = WarnOnce()
    assert warn_once.first('spool') is True
    assert warn_once.first('spool') is False
    assert warn_once('spool', pytest_fail) is False


def pytest_fail(*args, **kwargs):  # pragma: no cover - must never run
    raise AssertionError('a key seen already was told again')


def test_two_instances_do_not_share_keys():
    said = []
    WarnOnce()('stage', said.append, 'a')
    WarnOnce()('stage', said.append, 'b')
    assert said == ['a', 'b']


def test_racing_threads_tell_a_key_once():
    said, warn_once = [], WarnOnce()
    start = threading.Barrier(16)

    def race():
        start.wait()
        for _ in range(200):
            warn_once(RuntimeError, said.append, 'told')

    threads = [threading.Thread(target=race) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert said == ['told']


def test_it_loads_only_the_standard_library():
    """The writer process imports it (through run_writer) and must never load MMEngine or torch."""
    code = ('import importlib.util, sys; '
            f'spec = importlib.util.spec_from_file_location("warn_once", {warn_once_module.__file__!r}); '
            'spec.loader.exec_module(importlib.util.module_from_spec(spec)); '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("mmengine", "torch", "numpy", "swanlab")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'
