"""What the tests share besides fixtures: paths, the SwanLab-free environment, reading MMEngine's log.

Importing it costs nothing heavy (the unit and hygiene tiers import it): each helper imports what it needs,
psutil, SwanLab's record readers, ``ci.run_smoke`` or the package's writer, when it is called.
"""
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

ROOT = Path(__file__).resolve().parents[1]
TOY_TRAIN = ROOT / 'tests' / 'toy_train.py'


def clean_env(**overrides) -> dict:
    """The environment of a user without SwanLab credentials, so runs default to local mode."""
    from ci.run_smoke import swanlab_free_env
    return swanlab_free_env(**overrides)


def start_until_hang(tmp_path, name: str, log_dir, *args, env=None):
    """Starts ``tests/toy_train.py`` (``--hang-at`` among ``args``) and reads its output until it hangs;
    returns ``(process, lines read)``, the process still running with its stdout open."""
    import subprocess
    import sys
    process = subprocess.Popen(
        [sys.executable, str(TOY_TRAIN), '--work-dir', str(tmp_path / 'work_dir'), '--log-dir', str(log_dir),
         '--name', name, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env or clean_env(), cwd=tmp_path)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if 'TOY_HANGING' in line:
            return process, lines
    raise AssertionError('the toy run ended before it hung:\n' + ''.join(lines[-50:]))


def printed_metric(output: str, phase: str, key: str) -> list:
    """The values of ``key`` in MMEngine's ``Epoch(phase)``/``Iter(phase)`` summary lines."""
    values = []
    for line in output.splitlines():
        if re.search(rf'(Epoch|Iter)\({phase}\)', line) and f'{key}:' in line:
            values.append(float(re.search(rf'{re.escape(key)}: ([-\d.e+]+)', line).group(1)))
    return values


def _run_records(log_dir):
    """``(path, records)`` of each run's own record (``run-*/run-*.swanlab``), once its writer is done."""
    from swanlab.proto.swanlab.record.v1.record_pb2 import Record
    from swanlab.sdk.internal.core_python.store import DataStoreReader

    from swanlab_backend.handover.writer_process import wait_until_written
    assert wait_until_written(str(log_dir), 600), f'SwanLab writers still at work in {log_dir} after 600 s'
    for path in sorted(Path(log_dir).glob('run-*/run-*.swanlab')):
        if path.stat().st_size == 0:  # SwanLab buffers its record: a writer SIGKILLed early leaves it empty
            yield path, []
            continue
        reader, records = DataStoreReader(), []
        reader.open(path)
        try:
            while (data := _scan(reader)) is not None:
                records.append(Record.FromString(data))
        finally:
            reader.close()
        yield path, records


def recorded_runs(log_dir) -> dict:
    """``{experiment name: final state}`` from each run's own record, which keeps what the local dashboard
    cannot show: an aborted run (it shows ``crashed``), or ``RUNNING``."""
    from swanlab.proto.swanlab.run.v1 import run_pb2
    runs = {}
    for _, records in _run_records(log_dir):
        name, state = None, 'RUNNING'
        for record in records:
            if record.HasField('start'):
                name = record.start.name
            elif record.HasField('finish'):
                state = run_pb2.RunState.Name(record.finish.state).replace('RUN_STATE_', '')
        runs[name] = state
    return runs


def recorded_system_values(log_dir, name: str, key: str) -> list:
    """The values of SwanLab's system monitor figure ``key`` (``mem.proc``, ``cpu.thds``...) in experiment
    ``name``, from the run's own record: the local dashboard does not show them."""
    for _, records in _run_records(log_dir):
        if any(record.HasField('start') and record.start.name == name for record in records):
            return [record.scalar.value.number for record in records
                    if record.HasField('scalar') and record.scalar.key == f'__swanlab__.{key}']
    raise AssertionError(f'no experiment {name!r} in {log_dir}')


def writer_of(training: 'psutil.Process') -> 'psutil.Process':
    """The writer process a training (a ``psutil.Process``) started, once it is there."""
    import psutil
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in training.children():
            try:
                command = ' '.join(child.cmdline())
            except psutil.Error:  # a short-lived child (git, a probe) that ended or is ending
                continue
            if 'swanlab_backend.writer.run_writer' in command:
                return child
        time.sleep(0.05)
    raise AssertionError('the training started no writer process')


def logged_steps(log_dir, name: str, key: str) -> set:
    """Every step of ``key`` in experiment ``name``, from the run's own record (``logs/``), which keeps
    every point: the dashboard's API thins long curves. Empty if the experiment or the key is not there."""
    import json
    import sqlite3

    from swanlab_backend.handover.writer_process import wait_until_written
    assert wait_until_written(str(log_dir), 600), f'SwanLab writers still at work in {log_dir} after 600 s'
    with sqlite3.connect(Path(log_dir) / 'runs.swanlab') as db:
        row = db.execute('SELECT experiment.run_id, tag.folder FROM experiment JOIN tag ON '
                         'tag.experiment_id = experiment.id WHERE experiment.name = ? AND tag.name = ?',
                         (name, key)).fetchone()
    if row is None:
        return set()
    steps = set()
    for path in (Path(log_dir) / row[0] / 'logs' / row[1]).glob('*.log'):
        steps.update(json.loads(line)['index'] for line in path.read_text().splitlines() if line.strip())
    return steps


def _scan(reader):
    """The next record; None at the end, also at a record cut short (the process writing it was killed)."""
    from swanlab.exceptions import DataStoreError
    try:
        return reader.scan()
    except DataStoreError:
        return None


class RunsCode:
    """Unpickled, it creates ``marker``: what a record crafted by someone else could make the writer run."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f'touch {self.marker}',))


def dashboard_texts(board, exp, key: str) -> list:
    """``(step, text)`` of each entry of the text chart ``key`` (tables, cards) the dashboard shows."""
    return [(entry['step'], entry['files'][0]) for entry in board.media(exp, key)]


def table_rows(text: str) -> tuple:
    """``(header, rows)`` of a bordered text table (``swanlab_backend.insights.per_class.format_table``,
    PrettyTable), each row a list of its stripped cells."""
    rows = [[cell.strip() for cell in line.strip().strip('|').split('|')] for line in text.splitlines()
            if line.startswith('|')]
    return rows[0], rows[1:]
