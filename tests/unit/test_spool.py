"""The spool is private: created 0700, and one that another user could read or write is never used."""
import os
import stat

import pytest

from swanlab_backend.handover import spool


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.setenv(spool.ENV, str(tmp_path / 'spool'))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('XDG_RUNTIME_DIR', raising=False)
    return tmp_path


def test_a_new_spool_is_created_private(places):
    root, problems = spool.choose()
    assert root == str(places / 'spool') and problems == []
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    folder = spool.new_journal_folder(root)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and spool.journal_folders() == [folder]


@pytest.mark.parametrize('made_by', ['nobody, mode 0777', 'you, mode 0777', 'a symlink'])
def test_a_spool_others_could_read_or_write_is_never_used(places, made_by):
    first = places / 'spool'
    if made_by == 'a symlink':
        (places / 'elsewhere').mkdir(mode=0o700)
        first.symlink_to(places / 'elsewhere')
    else:
        first.mkdir()
        os.chmod(first, 0o777)
        if made_by.startswith('nobody'):
            os.chown(first, 65534, 65534)
    root, problems = spool.choose()
    assert root == str(places / 'home' / '.cache' / 'swanlab_backend' / 'spool')
    assert len(problems) == 1 and str(first) in problems[0], problems
    assert spool.journal_folders() == [] or all(not f.startswith(str(first)) for f in spool.journal_folders())


def test_a_spool_that_cannot_be_created_leaves_the_journal_in_memory(places, monkeypatch):
    (places / 'a-file').write_text('not a folder')
    monkeypatch.setenv(spool.ENV, str(places / 'a-file' / 'spool'))
    root, problems = spool.choose()
    assert root is None and 'cannot be created' in problems[0]
