"""SwanLab's local store with its stop check once per batch (swanlab_backend.writer.local_store) keeps what SwanLab
keeps: every value of a run, and none after the experiment is stopped from the dashboard."""
import json
import subprocess
import sys
from pathlib import Path

from helpers import clean_env

# A real local-mode SwanLab run: 20 steps, the experiment stopped in SwanLab's database (what the dashboard's stop
# button does), 20 more steps. The store sees the stop at its next batch and drops the rest.
RUN = '''
import sqlite3, sys, time
import swanlab
if sys.argv[2] == 'once per batch':
    from swanlab_backend.writer.local_store import check_stops_once_per_batch
    check_stops_once_per_batch()
swanlab.init(project='store', mode='local', logdir=sys.argv[1])
for step in range(40):
    if step == 20:
        time.sleep(2)  # the first 20 steps are flushed
        with sqlite3.connect(sys.argv[1] + '/runs.swanlab') as db:
            db.execute('UPDATE experiment SET status = -1')
    swanlab.log({f'k{i}': step + i / 10 for i in range(10)}, step=step)
time.sleep(2)
swanlab.finish()
'''


def recorded(log_dir: Path, checks: str) -> dict:
    subprocess.run([sys.executable, '-c', RUN, str(log_dir), checks], check=True, capture_output=True,
                   env=clean_env(), timeout=120)
    values = {}
    for path in log_dir.glob('run-*/logs/*/*.log'):
        points = [json.loads(line) for line in path.read_text().splitlines()]
        values[path.parent.name] = [(p['index'], p['data']) for p in sorted(points, key=lambda p: p['index'])]
    return values


def test_the_store_keeps_what_swanlab_keeps_and_stops_where_it_stops(tmp_path):
    ours, swanlabs = recorded(tmp_path / 'ours', 'once per batch'), recorded(tmp_path / 'swanlab', 'per value')
    assert ours == swanlabs
    assert len(ours) == 10 and all([index for index, _ in points] == list(range(20)) for points in ours.values())
