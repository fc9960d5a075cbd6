"""The real SwanLab local dashboard, started on 127.0.0.1 and read through its HTTP API.

    with LocalDashboard(log_dir) as board:     # the server starts on the first call
        exp = board.experiment('faster-rcnn')
        board.scalar_series(exp, 'train/loss')   # {step: value}

This is the oracle of the tests and of ``ci/check_dashboard.py``: they assert on
what the dashboard serves, not on what the backend believes it sent.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

from swanlab_backend.handover.writer_process import wait_until_written
from swanlab_backend.mmengine.run_links import RUN_ID_FILE

STATUS = {1: 'finished', 0: 'running', -1: 'crashed'}
WRITER_TIMEOUT_S = 600


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused until used)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class LocalDashboard:
    """``swanlab watch LOG_DIR --host 127.0.0.1`` in a subprocess, stopped by its PID.

    The server only serves a log dir whose database existed when it started,
    so it starts on the first API call (or :meth:`start`), not before.
    """

    def __init__(self, log_dir: str, start_timeout: float = 60.0):
        self.log_dir = log_dir
        self.start_timeout = start_timeout
        self.process: Optional[subprocess.Popen] = None
        self._output = None
        self.url = ''

    def __enter__(self) -> 'LocalDashboard':
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        swanlab_cli = os.path.join(os.path.dirname(sys.executable), 'swanlab')
        # Output goes to a file: a pipe nobody reads would block the server once full.
        self._output = tempfile.NamedTemporaryFile('w+', prefix='swanlab-watch-', suffix='.log')
        self.process = subprocess.Popen(
            [swanlab_cli, 'watch', self.log_dir, '--host', '127.0.0.1', '--port', str(free_port())],
            stdout=self._output, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        url = ''
        # swanlab watch picks another port silently when the one asked for is busy: read it back.
        while not url and self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with open(self._output.name) as output:
                match = re.search(r'Local:\s*(?:\x1b\[[0-9;]*m)*(http://127\.0\.0\.1:\d+)', output.read())
            url = match.group(1) if match else ''
        if not url:
            with open(self._output.name) as output:
                printed = output.read()
            self.stop()
            raise RuntimeError(f'swanlab watch {self.log_dir} did not start:\n{printed}')
        self._wait_until_answering(url, deadline)
        self.url = url

    @staticmethod
    def _wait_until_answering(url: str, deadline: float) -> None:
        while True:
            try:
                urllib.request.urlopen(f'{url}/api/v1/project', timeout=5).close()
                return
            except urllib.error.HTTPError:  # it answers, even if with an error
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None

    # ---- the HTTP API ----------------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        """``GET /api/v1<path>``; returns the ``data`` of the JSON answer."""
        body = json.loads(self.get_bytes(path))
        return body.get('data', body)

    def get_bytes(self, path: str) -> bytes:
        """The raw answer to ``GET /api/v1<path>``, once the writer processes of runs in the log dir have
        written everything (a training process returns before its writer is done)."""
        if not wait_until_written(self.log_dir, WRITER_TIMEOUT_S):
            raise AssertionError(f'SwanLab writer processes were still writing into {self.log_dir} after '
                                 f'{WRITER_TIMEOUT_S} s')
        if not self.url:
            self.start()
        with urllib.request.urlopen(f'{self.url}/api/v1{path}', timeout=30) as answer:
            return answer.read()

    def experiments(self) -> List[Dict[str, Any]]:
        return self.get('/project')['experiments']

    def experiment(self, name: str) -> Dict[str, Any]:
        """The one experiment called ``name``; raises if there are none or several."""
        found = [e for e in self.experiments() if e['name'] == name]
        if len(found) != 1:
            names = [e['name'] for e in self.experiments()]
            raise AssertionError(f'expected one experiment {name!r}, found {len(found)} among {names}')
        return found[0]

    def status(self, experiment: Dict[str, Any]) -> str:
        return STATUS.get(self.get(f'/experiment/{experiment["id"]}')['status'], 'unknown')

    def wait_status(self, experiment: Dict[str, Any], timeout: float = 30.0) -> str:
        """The status, once it is no longer 'running' (or 'running' after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(experiment)
            if status != 'running' or time.monotonic() > deadline:
                return status
            time.sleep(0.5)

    def tags(self, experiment: Dict[str, Any]) -> List[str]:
        """Every key that has a chart."""
        charts = self.get(f'/experiment/{experiment["id"]}/chart')
        return sorted({source for chart in charts['charts'] for source in chart['source']})

    def tag(self, experiment: Dict[str, Any], key: str) -> Dict[str, Any]:
        quoted = urllib.parse.quote(key, safe='')
        return self.get(f'/experiment/{experiment["id"]}/tag/{quoted}')

    def scalar_series(self, experiment: Dict[str, Any], key: str) -> Dict[int, float]:
        """``{step: value}`` of a scalar key, ``{}`` if it has none (thinned past ~1500 points)."""
        if key not in self.tags(experiment):
            return {}
        return {int(p['index']): p['data'] for p in self.tag(experiment, key)['list']}

    def config_text(self, experiment: Dict[str, Any]) -> Optional[str]:
        if 'config/config_text' not in self.tags(experiment):
            return None
        return self.media(experiment, 'config/config_text')[0]['files'][0]

    def first_image(self, experiment: Dict[str, Any]) -> Optional[bytes]:
        """The bytes the dashboard serves for the first image of the first image chart."""
        charts = self.get(f'/experiment/{experiment["id"]}/chart')['charts']
        keys = [c['source'][0] for c in charts if c['type'] == 'image']
        if not keys:
            return None
        return self.media_bytes(experiment, keys[0], self.media(experiment, keys[0])[0]['files'][0])

    def config(self, experiment: Dict[str, Any]) -> Dict[str, Any]:
        """The experiment's config as ``{key: value}``."""
        config = self.get(f'/experiment/{experiment["id"]}')['config']
        return {k: (v['value'] if isinstance(v, dict) and 'value' in v else v) for k, v in config.items()}

    def console_log(self, experiment: Dict[str, Any]) -> List[str]:
        """The lines of the experiment's Logs page: its console log, then its error log (a crash)."""
        answer = self.get(f'/experiment/{experiment["id"]}/recent_log')
        return list(answer.get('logs') or []) + list(answer.get('error') or [])

    def system(self, experiment: Dict[str, Any]) -> Dict[str, Any]:
        """What the environment page shows: SwanLab's metadata of the run (``runtime``: command, pid, cwd...)."""
        return self.get(f'/experiment/{experiment["id"]}')['system']

    def media(self, experiment: Dict[str, Any], key: str) -> List[Dict[str, Any]]:
        """``[{'step', 'files', 'captions'}]`` of a media key (images, text)."""
        return [dict(step=int(p['index']), files=p['data'], captions=p.get('more'))
                for p in self.tag(experiment, key)['list']]

    def media_bytes(self, experiment: Dict[str, Any], key: str, filename: str) -> bytes:
        query = urllib.parse.urlencode(dict(tag=key, experiment_id=experiment['id']))
        return self.get_bytes(f'/media/{filename}?{query}')


class CloudDashboard:
    """The same checks' view of a SwanLab cloud project, through ``swanlab.Api`` (needs an API key).

    The experiment is the run whose id the backend kept in ``<work_dir>/swanlab_run_id``, not
    one found by its name, which every scheduled run of a recipe shares. Covers experiments,
    states, scalar series and the config; config text and images are only checked in the
    local dashboard. CI here has no network, so this class is exercised by the GPU workflow
    with its ``SWANLAB_API_KEY`` (and by ``tests/tooling/test_cloud_check.py`` against a loopback stub).
    """

    STATES = {'FINISHED': 'finished', 'RUNNING': 'running', 'CRASHED': 'crashed', 'ABORTED': 'crashed'}

    def __init__(self, project_path: str, work_dir: str, poll_seconds: float = 2.0):
        import swanlab
        self.project_path = project_path
        self.work_dir = work_dir
        self.poll_seconds = poll_seconds
        self.url = f'cloud project {project_path}'
        self.api = swanlab.Api()

    def __enter__(self) -> 'CloudDashboard':
        return self

    def __exit__(self, *exc) -> None:
        pass

    def run_id(self) -> str:
        """The id of the work dir's run, as the backend wrote it when the run started."""
        path = os.path.join(self.work_dir, RUN_ID_FILE)
        try:
            with open(path) as f:
                run_id = f.read().strip()
        except FileNotFoundError:
            run_id = ''
        if not run_id:
            raise AssertionError(f'no SwanLab run id in {path}: the backend writes it when the run starts '
                                 '(was this work dir trained with SwanlabVisBackend, online?)')
        return run_id

    def _run(self, run_id: str) -> Any:
        """The run as the cloud serves it now (``swanlab.Api`` caches what it read, so ask anew)."""
        return self.api.run(f'{self.project_path}/{run_id}')

    def experiment(self, name: str) -> Any:
        """The work dir's run; raises if the cloud does not have it or it is not called ``name``."""
        run_id = self.run_id()
        run = self._run(run_id)
        if not run.name:
            raise AssertionError(f'no run with id {run_id} in {self.url}')
        if run.name != name:
            raise AssertionError(f'run {run_id} in {self.url} is called {run.name!r}, expected {name!r}')
        return run

    def status(self, experiment: Any) -> str:
        state = str(self._run(experiment.run_id).state).upper()
        return self.STATES.get(state, state.lower() or 'unknown')

    def wait_status(self, experiment: Any, timeout: float = 60.0) -> str:
        """The status, re-read every ``poll_seconds`` until it is final (or as it is after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(experiment)
            if status not in ('running', 'unknown') or time.monotonic() > deadline:
                return status
            time.sleep(self.poll_seconds)

    def scalar_series(self, experiment: Any, key: str) -> Dict[int, float]:
        answer = experiment.metrics([key], all=True)
        series = [m for m in answer.get('list', []) if m.get('key', key) == key]
        points = series[0].get('metrics', []) if series else []
        return {int(p.get('step', p.get('index'))): p.get('value', p.get('data')) for p in points}

    def config(self, experiment: Any) -> Dict[str, Any]:
        config = (experiment.profile or {}).get('config', {})
        return {k: (v['value'] if isinstance(v, dict) and 'value' in v else v) for k, v in config.items()}

    def config_text(self, experiment: Any) -> Optional[str]:
        return None

    def first_image(self, experiment: Any) -> Optional[bytes]:
        return None
