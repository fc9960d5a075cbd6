"""Several runners in one process (a sweep script, a notebook): one run each, each finished in its own state."""
import subprocess
import sys

from helpers import ROOT, clean_env, recorded_runs

SWEEP = """
import sys
import time
import psutil
sys.path.insert(0, {tests!r})
import toy_train


def writers():
    return [child for child in psutil.Process().children() if child.is_running()
            and child.status() != psutil.STATUS_ZOMBIE
            and 'swanlab_backend.writer.run_writer' in ' '.join(child.cmdline())]


for name, extra in (('sweep-first', ['--no-test']), ('sweep-second', ['--crash-at', '3']), ('sweep-third', [])):
    sys.argv = ['toy_train.py', '--work-dir', {work!r} + '/' + name, '--log-dir', {log!r}, '--name', name, *extra]
    try:
        toy_train.main()
    except RuntimeError as error:  # the sweep goes on to its next point
        print('SWEEP_CAUGHT', error, flush=True)
    print('SWEEP_WRITERS_AFTER', name, len(writers()), flush=True)
deadline = time.monotonic() + 30
while writers() and time.monotonic() < deadline:  # the last writer, its run finished, exits
    time.sleep(0.1)
print('SWEEP_WRITERS_AT_THE_END', len(writers()), flush=True)
"""


def test_three_runners_in_one_process_finish_success_crashed_success(tmp_path):
    log_dir = tmp_path / 'swanlog'
    script = tmp_path / 'sweep.py'
    script.write_text(SWEEP.format(tests=str(ROOT / 'tests'), work=str(tmp_path / 'work'), log=str(log_dir)))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=clean_env(),
                            cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'SWEEP_CAUGHT toy failure at iteration 3' in result.stdout
    # Writers alive after each runner: the first's run is kept open for a test() that never comes, until the
    # second's run starts and finishes it; the second's, whose train() raised, until the third's starts.
    writers = dict(line.split()[1:] for line in result.stdout.splitlines() if line.startswith('SWEEP_WRITERS_AFTER'))
    assert writers == {'sweep-first': '1', 'sweep-second': '1', 'sweep-third': writers['sweep-third']}, writers
    assert 'SWEEP_WRITERS_AT_THE_END 0' in result.stdout, 'a writer outlived its finished run'
    assert recorded_runs(log_dir) == {'sweep-first': 'FINISHED', 'sweep-second': 'CRASHED',
                                     'sweep-third': 'FINISHED'}
