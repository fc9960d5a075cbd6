"""The spool: the private folder where journals wait for their writer.

``$SWANLAB_BACKEND_SPOOL`` if set, else ``<temp dir>/swanlab_backend-<uid>``. A spool is
used only when it is a real folder (not a symlink) owned by this user and writable by
nobody else: on a shared server anyone can create ``/tmp/swanlab_backend-<uid>`` first,
and would then read every metric and image. An unsafe one is never used; the next
private place is (``$XDG_RUNTIME_DIR/swanlab_backend``, ``~/.cache/swanlab_backend/spool``),
with one warning. A spool that cannot be created at all (read-only, not a folder, no
space) leaves the journal in memory (:mod:`swanlab_backend.handover.writer_process`).
"""
import os
import os.path as osp
import stat
import tempfile
import uuid
from typing import List, Optional, Tuple

ENV = 'SWANLAB_BACKEND_SPOOL'
FIX = f'set {ENV} to a folder of your own on a local disk with free space'


def first_choice() -> str:
    return os.environ.get(ENV) or osp.join(tempfile.gettempdir(), f'swanlab_backend-{os.getuid()}')


def candidates() -> List[str]:
    """Every spool this user may have: the first choice, then the private fallbacks."""
    roots = [first_choice()]
    if os.environ.get('XDG_RUNTIME_DIR'):
        roots.append(osp.join(os.environ['XDG_RUNTIME_DIR'], 'swanlab_backend'))
    roots.append(osp.join(osp.expanduser('~'), '.cache', 'swanlab_backend', 'spool'))
    return roots


def why_unsafe(path: str) -> Optional[str]:
    """Why ``path`` must not hold journals, or None if it is a private folder of this user."""
    try:
        info = os.lstat(path)
    except OSError as e:
        return f'it cannot be read ({e.strerror})'
    if stat.S_ISLNK(info.st_mode):
        return 'it is a symbolic link'
    if not stat.S_ISDIR(info.st_mode):
        return 'it is not a folder'
    if info.st_uid != os.geteuid():
        return f'it belongs to user id {info.st_uid}, not to you ({os.geteuid()})'
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f'others may write into it (mode {stat.S_IMODE(info.st_mode):o})'
    return None


def _make(path: str) -> Optional[str]:
    """Creates ``path`` (0700) unless it exists; returns why it cannot be used, or None."""
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
    except OSError as e:  # a regular file on the way, a read-only disk
        return f'it cannot be created ({e})'
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        return f'it cannot be created ({e})'
    return why_unsafe(path)


def choose() -> Tuple[Optional[str], List[str]]:
    """``(spool, problems)``: the first usable private spool (None if none), and why earlier ones were not."""
    problems = []
    for index, root in enumerate(candidates()):
        why = _make(root)
        if why is None:
            return root, problems
        problems.append(f'{root}: {why}')
        if index == 0 and 'cannot be created' in why:
            return None, problems  # no disk where the user wants it: memory, not some other disk
    return None, problems


def new_journal_folder(root: str) -> str:
    """A new private folder for one run's journal; raises ``OSError``."""
    folder = osp.join(root, f'{os.getpid()}-{uuid.uuid4().hex[:12]}')
    os.mkdir(folder, 0o700)
    return folder


def journal_folders() -> List[str]:
    """The journal folders in every safe spool of this user."""
    folders = []
    for root in candidates():
        if osp.isdir(root) and why_unsafe(root) is None:
            folders.extend(osp.join(root, name) for name in sorted(os.listdir(root)))
    return folders
