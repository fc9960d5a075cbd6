"""The GPU workflow's cloud check (``CloudDashboard``), against a loopback stand-in for the SwanLab cloud API.

Every scheduled run of a recipe makes an experiment of the same name, so the check must take
the run whose id the backend kept in ``<work_dir>/swanlab_run_id``, and re-read the run's state
while it waits for it to end. The stand-in serves what ``swanlab.Api`` 0.10.3 asks for: the
login, the project, its run list (for a check that would look runs up by name) and one run.
"""
import contextlib
import os
import re
import time
from collections import Counter

import pytest

from ci.check_dashboard import check_experiment, main
from ci.dashboard import RUN_ID_FILE, CloudDashboard

from cloud_stub import LoopbackApi

PROJECT = 'tester/openmmlab-recipes'
NAME = 'faster-rcnn_r50_fpn_1x_coco'


class RunsStub(LoopbackApi):
    """``runs``: ``{run id: (name, [state, ...])}``; each read of a run takes the next state, the last one stays."""

    def __init__(self, runs):
        super().__init__()
        self.runs = {run_id: (name, list(states)) for run_id, (name, states) in runs.items()}
        self.reads = Counter()
        self.unknown = []

    def answer(self, method: str, path: str, body=None) -> tuple:
        with self._lock:
            project = r'/api/project/([^/]+/[^/]+)'
            if method == 'POST' and path == '/api/login/api_key':
                return 200, {'sid': 'stub-session', 'expiredAt': '2099-01-01T00:00:00.000Z',
                             'userInfo': {'username': 'tester', 'name': 'tester'}}
            if method == 'GET' and re.fullmatch(project, path):
                return 200, {'cuid': 'project-1', 'name': path.rsplit('/', 1)[1], 'path': path[len('/api/project/'):]}
            if method == 'POST' and re.fullmatch(project + '/runs/shows', path):
                return 200, [self._run(run_id, count=False) for run_id in self.runs]
            match = re.fullmatch(project + '/runs/([^/]+)', path)
            if method == 'GET' and match and match.group(2) in self.runs:
                return 200, self._run(match.group(2))
            if not match:
                self.unknown.append(f'{method} {path}')
            return 404, {'code': 'NOT_FOUND', 'message': f'stub does not know {method} {path}'}

    def _run(self, run_id: str, count: bool = True) -> dict:
        name, states = self.runs[run_id]
        state = states.pop(0) if count and len(states) > 1 else states[0]
        if count:
            self.reads[run_id] += 1
        return {'cuid': run_id, 'slug': run_id, 'name': name, 'state': state,
                'createdAt': '2026-01-05T03:00:00.000Z', 'project_id': 'project-1'}


@pytest.fixture
def cloud(monkeypatch, tmp_path):
    """``cloud(runs)`` starts a stub and points ``swanlab.Api`` at it through the environment, as a user would."""
    for key in [k for k in os.environ if k.startswith('SWANLAB_')]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no project-level .swanlab/.netrc
    started = []
    with contextlib.ExitStack() as stack:
        def start(runs):
            started.append(stack.enter_context(RunsStub(runs)))
            for name, value in [('API_KEY', 'stub-key-0123456789'), ('API_HOST', started[-1].url),
                                ('WEB_HOST', started[-1].url)]:
                monkeypatch.setenv(f'SWANLAB_{name}', value)
            return started[-1]
        yield start
    assert [s.unknown for s in started] == [[]] * len(started), 'swanlab.Api called routes the stub does not know'


def _work_dir(tmp_path, run_id=None):
    work_dir = tmp_path / 'work_dir'
    work_dir.mkdir(exist_ok=True)
    if run_id is not None:
        (work_dir / RUN_ID_FILE).write_text(run_id)
    return str(work_dir)


@pytest.mark.parametrize('this_run', ['run-monday', 'run-tuesday'])
def test_the_experiment_is_the_run_whose_id_is_in_the_work_dir_not_one_of_that_name(cloud, tmp_path, this_run):
    stub = cloud({'run-monday': (NAME, ['FINISHED']), 'run-tuesday': (NAME, ['FINISHED']),
                  'run-other': ('retinanet_r50_fpn_1x_coco', ['FINISHED'])})
    board = CloudDashboard(PROJECT, _work_dir(tmp_path, this_run + '\n'), poll_seconds=0.05)
    experiment = board.experiment(NAME)
    assert experiment.run_id == this_run
    assert stub.reads == {this_run: 1}


def test_a_run_id_of_another_recipe_or_unknown_to_the_cloud_fails_the_check(cloud, tmp_path):
    cloud({'run-other': ('retinanet_r50_fpn_1x_coco', ['FINISHED'])})
    board = CloudDashboard(PROJECT, _work_dir(tmp_path, 'run-other'), poll_seconds=0.05)
    with pytest.raises(AssertionError, match=f"run run-other in .* is called 'retinanet_r50_fpn_1x_coco', "
                                             f"expected '{NAME}'"):
        board.experiment(NAME)
    (tmp_path / 'work_dir' / RUN_ID_FILE).write_text('run-gone')
    with pytest.raises(AssertionError, match=f'no run with id run-gone in cloud project {PROJECT}'):
        board.experiment(NAME)


def test_wait_status_re_reads_the_state_until_it_is_final(cloud, tmp_path):
    # read 1: experiment(); read 2: the first poll, still RUNNING; the run finishes before read 3.
    stub = cloud({'run-new': (NAME, ['RUNNING', 'RUNNING', 'FINISHED']), 'run-old': (NAME, ['FINISHED'])})
    board = CloudDashboard(PROJECT, _work_dir(tmp_path, 'run-new'), poll_seconds=0.05)
    experiment = board.experiment(NAME)
    assert experiment.state == 'RUNNING'
    assert board.wait_status(experiment, timeout=10) == 'finished'
    assert stub.reads['run-new'] == 3


def test_wait_status_returns_running_once_its_timeout_has_passed(cloud, tmp_path):
    stub = cloud({'run-new': (NAME, ['RUNNING'])})
    board = CloudDashboard(PROJECT, _work_dir(tmp_path, 'run-new'), poll_seconds=0.05)
    experiment = board.experiment(NAME)
    started = time.monotonic()
    assert board.wait_status(experiment, timeout=0.5) == 'running'
    assert time.monotonic() - started < 5
    assert stub.reads['run-new'] > 3


@pytest.mark.parametrize('content', [None, ''])
def test_a_missing_run_id_file_is_a_failed_check_that_names_the_file(cloud, tmp_path, capsys, content):
    cloud({'run-new': (NAME, ['FINISHED'])})
    work_dir = _work_dir(tmp_path, content)
    path = os.path.join(work_dir, RUN_ID_FILE)
    failures = check_experiment(CloudDashboard(PROJECT, work_dir), NAME, work_dir, [], [], media=False)
    assert len(failures) == 1 and f'no SwanLab run id in {path}' in failures[0]
    # the CLI gives the cloud check the work dir, and fails with the same message
    assert main(['--cloud-project', PROJECT, '--work-dir', work_dir, '--experiment', NAME]) == 1
    assert f'FAIL no SwanLab run id in {path}' in capsys.readouterr().out
