"""A loopback stand-in for the SwanLab cloud API, to inject a lost connection mid-run.

It answers the requests swanlab 0.10.3 makes online (login, project, experiment,
profile, columns, ``/house/metrics``, heartbeat, state, presigned media uploads)
and keeps what it received, until ``fail_after_scalar_posts`` uploads of scalars
have been accepted: from then on every request gets ``503``, as a cloud that went away
behind a proxy would answer. ``heal()`` makes it answer again (for ``swanlab sync``).

It stands in only for the fault (the real local dashboard is the oracle elsewhere);
requests it does not know are counted in ``unknown`` so that a test notices when the
SDK's protocol moved on.
"""
import itertools
import json
import re
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

USERNAME = 'tester'


class LoopbackApi:
    """A JSON API served on 127.0.0.1 from a thread: ``with Api() as api:``, then ``api.url``.

    Subclasses answer ``answer(method, path, body) -> (status, json)``; ``self._lock`` is theirs.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(('127.0.0.1', 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self._server.server_address[1]}'

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, method: str, path: str, body) -> tuple:
        raise NotImplementedError


class CloudStub(LoopbackApi):
    """Start with ``with CloudStub(...) as stub:``; ``stub.url`` is the API host to give SwanLab."""

    def __init__(self, fail_after_scalar_posts: Optional[int] = None):
        super().__init__()
        self.fail_after_scalar_posts = fail_after_scalar_posts
        self.failing = False
        self.failed_requests = 0
        self.unknown: List[str] = []
        self.experiments: Dict[str, dict] = {}  # cuid -> {'name', 'state', 'scalars': {key: {step: value}}, ...}
        self.columns: Dict[str, dict] = {}  # chart columns by key, as SwanLab declared them
        self._ids = itertools.count(1)
        self._scalar_posts = 0

    def heal(self) -> None:
        with self._lock:
            self.failing, self.fail_after_scalar_posts = False, None

    def experiment_named(self, name: str) -> List[dict]:
        return [e for e in self.experiments.values() if e['name'] == name]

    # ---- the API -------------------------------------------------------------------------------

    def answer(self, method: str, path: str, body) -> tuple:
        """Returns ``(status, json)`` for one request."""
        with self._lock:
            if self.failing:
                self.failed_requests += 1
                return 503, {'code': 'SERVICE_UNAVAILABLE', 'message': 'stub: connection to the cloud lost'}
            for pattern, route_method, handler in self._routes():
                match = re.fullmatch(pattern, path)
                if match and route_method == method:
                    return handler(body, *match.groups())
            self.unknown.append(f'{method} {path}')
            return 404, {'code': 'NOT_FOUND', 'message': f'stub does not know {method} {path}'}

    def _routes(self):
        run = r'/api/project/[^/]+/[^/]+/runs/([^/]+)'
        return [
            (r'/', 'GET', lambda body: (200, {})),  # the backend's reachability probe
            (r'/api/login/api_key', 'POST', self._login),
            (r'/api/project/([^/]+)/([^/]+)', 'GET', self._project),
            (r'/api/project/[^/]+/[^/]+/experiment', 'POST', self._create_experiment),
            (run, 'GET', lambda body, cuid: (200, self._public(cuid)) if cuid in self.experiments
             else (404, {'message': 'Not Found'})),
            (run + '/profile', 'PUT', self._profile),
            (run + '/state', 'PUT', self._state),
            (r'/api/projects/[^/]+/[^/]+/series', 'POST', self._series),
            (r'/api/house/metrics', 'POST', self._metrics),
            # a reopened run (resume='allow') asks what it already holds; the SDK's steps are explicit here
            (r'/api/house/metrics/summaries/[^/]+/([^/]+)', 'GET',
             lambda body, cuid: (200, {'log': [], 'media': [], 'scalar': []})),
            (r'/api/house/experiments/([^/]+)/heartbeat', 'POST', lambda body, cuid: (200, {})),
            (r'/api/resources/presigned/put', 'POST', self._presign),
            (r'/upload/(.+)', 'PUT', lambda body, path: (200, {})),
        ]

    def _series(self, body):
        """The chart columns SwanLab declares (key, type, ``xAxis`` set by ``define_metric``)."""
        for column in body.get('series', []):
            self.columns[column['key']] = column
        return 200, {}

    def _login(self, body):
        return 200, {'sid': 'stub-session', 'expiredAt': '2099-01-01T00:00:00.000Z',
                     'userInfo': {'username': USERNAME, 'name': USERNAME}}

    def _project(self, body, username, name):
        return 200, {'cuid': f'project-{name}', 'name': name, 'version': 1, 'path': f'/@{username}/{name}',
                     'group': {'username': username}, '_count': {'experiments': len(self.experiments)}}

    def _create_experiment(self, body):
        cuid = body.get('cuid')
        if cuid in self.experiments:
            return 200, self._public(cuid)
        cuid = cuid or f'run{next(self._ids)}'
        self.experiments[cuid] = dict(name=body['name'], state='RUNNING', profile={}, createdAt=body.get('createdAt'),
                                      scalars=defaultdict(dict), media=defaultdict(dict), logs=[])
        return 201, self._public(cuid)

    def _public(self, cuid):
        experiment = self.experiments[cuid]
        return {'cuid': cuid, 'name': experiment['name'], 'slug': cuid, 'createdAt': experiment['createdAt']}

    def _profile(self, body, cuid):
        self.experiments[cuid]['profile'].update(body)
        return 200, {}

    def _state(self, body, cuid):
        self.experiments[cuid]['state'] = body['state']
        return 200, {}

    def _metrics(self, body):
        experiment = self.experiments[body['experimentId']]
        for metric in body['metrics']:
            if body['type'] == 'scalar':
                experiment['scalars'][metric['key']][metric['index']] = metric['data']
            elif body['type'] == 'media':
                experiment['media'][metric['key']][metric['index']] = metric['data']
            else:
                experiment['logs'].append(metric['message'])
        self._scalar_posts += body['type'] == 'scalar'
        if self.fail_after_scalar_posts is not None and self._scalar_posts >= self.fail_after_scalar_posts:
            self.failing = True  # this request still succeeds; the connection is lost after it
        return 200, {}

    def _presign(self, body):
        return 200, {'urls': [f'{self.url}/upload/{path}' for path in body['paths']]}


def _handler(stub: LoopbackApi):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length) if length else b''
            body = json.loads(raw) if raw and self.path.startswith('/api') else None  # else an uploaded file
            status, answer = stub.answer(self.command, self.path.split('?')[0], body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args):  # keep pytest's output for the test's own messages
            pass

    return Handler
