"""Pretrained weights are found where MMEngine caches them, or the check stops with the fix (issue: real paths)."""
import socket
import threading

import pytest

from ci.dashboard import free_port
from swanlab_backend.tools import pretrained


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that records each request line and refuses to connect anywhere."""

    def __init__(self):
        self.requests = []
        self._server = socket.create_server(('127.0.0.1', 0))
        self.url = f'http://127.0.0.1:{self._server.getsockname()[1]}'
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                self.requests.append(connection.recv(4096).split(b'\r\n', 1)[0].decode())
                connection.sendall(b'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')

    def close(self):
        self._server.close()


# ---- 1. pretrained weights ------------------------------------------------------------------------------------

def test_pretrained_names_resolve_to_the_files_mmengine_caches(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    checkpoint = pretrained.resolve('torchvision://resnet50')
    assert checkpoint.url.endswith('/resnet50-0676ba61.pth')
    assert checkpoint.path == str(tmp_path / 'hub' / 'checkpoints' / 'resnet50-0676ba61.pth')
    assert pretrained.resolve('open-mmlab://resnet50_v1c').path.endswith('/resnet50_v1c-2cccc1ad.pth')


def test_cached_weights_are_used_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('HTTPS_PROXY', f'http://127.0.0.1:{free_port()}')
    cached = tmp_path / 'hub' / 'checkpoints' / 'resnet50_v1c-2cccc1ad.pth'
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b'weights')
    said = []
    found = pretrained.check_pretrained({'pretrained': 'open-mmlab://resnet50_v1c'}, log=said.append)
    assert [c.path for c in found] == [str(cached)]
    assert said == [f'Pretrained weights open-mmlab://resnet50_v1c: found {cached}']


def test_missing_weights_stop_with_url_cache_path_and_flag_through_the_proxy(monkeypatch, tmp_path):
    proxy = RecordingProxy()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('HTTPS_PROXY', proxy.url)
    model = {'backbone': {'init_cfg': {'type': 'Pretrained', 'checkpoint': 'torchvision://resnet50'}}}
    try:
        with pytest.raises(pretrained.PretrainedUnavailable) as error:
            pretrained.check_pretrained(model, log=print)
    finally:
        proxy.close()
    message = str(error.value)
    assert 'https://download.pytorch.org/models/resnet50-0676ba61.pth' in message
    assert str(tmp_path / 'hub' / 'checkpoints' / 'resnet50-0676ba61.pth') in message
    assert f'through the proxy {proxy.url}' in message and '--no-pretrained' in message
    assert [r.rsplit(' ', 1)[0] for r in proxy.requests] == ['CONNECT download.pytorch.org:443']  # the proxy was used
