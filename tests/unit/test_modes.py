"""Which mode a run starts in: online with a key (env or `swanlab login`), else the local dashboard."""
import pytest

from swanlab_backend.writer.run_lifecycle import choose_mode


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ('SWANLAB_API_KEY', 'SWANLAB_MODE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))  # no ~/.swanlab/.netrc
    monkeypatch.setenv('SWANLAB_SAVE_DIR', str(tmp_path / 'home' / '.swanlab'))
    monkeypatch.chdir(tmp_path)  # no ./.swanlab/.netrc


def test_no_key_means_the_local_dashboard(no_credentials):
    assert choose_mode(None) == ('local', 'no API key is set')


def test_a_key_means_online(no_credentials, monkeypatch):
    monkeypatch.setenv('SWANLAB_API_KEY', 'k' * 21)
    assert choose_mode(None) == ('online', 'an API key is set')


def test_online_without_a_key_falls_back_to_offline(no_credentials):
    mode, reason = choose_mode('online')
    assert mode == 'offline' and 'no API key is set' in reason
    assert choose_mode('cloud')[0] == 'offline'


def test_a_forced_mode_wins(no_credentials, monkeypatch):
    monkeypatch.setenv('SWANLAB_MODE', 'offline')
    assert choose_mode(None) == ('offline', 'requested')
    assert choose_mode('disabled') == ('disabled', 'requested')
