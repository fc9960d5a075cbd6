"""Training side: what this process writes to its console, copied for the run's console log.

SwanLab records the console of the process that calls ``swanlab.init``; ours runs in the
writer process, so the training's own text is copied here and sent through the journal
(``['console', stream, text]``), where the writer hands it to SwanLab's own terminal
recorder (:mod:`swanlab_backend.writer.training_view`): line assembly, ``\\r`` progress bars,
the line-length cap and ``Settings.terminal`` stay SwanLab's.

As SwanLab does in-process, ``write`` of ``sys.stdout`` and ``sys.stderr`` is wrapped:
the text goes to the terminal first, untouched, then into a buffer; a thread sends the
buffer a few times a second, so the training thread only appends. Forked processes
(DataLoader workers) inherit the wrapper and skip it.

Under DDP only global rank 0 has a run. To keep every rank's console, the other ranks
append theirs, each line prefixed with the rank, to ``console_rank<N>.<stream>`` files in
the runner's log dir (``<work_dir>/<timestamp>/``, which every rank shares), and rank 0
sends what they hold along with its own (:class:`RankConsoleFiles`). A rank marks its files
ended when it stops copying; rank 0, before its last read, waits a bounded time for every
started rank to have done so, since the ranks exit at the same moment and a rank's last
lines would otherwise come after rank 0's run was finished.
"""
import glob
import os
import os.path as osp
import sys
import threading
import time
from typing import Callable, Dict, List, Optional

SEND_EVERY_S = 0.2
RANK_CONSOLE_WAIT_S = 10.0  # a rank killed before its end marker costs rank 0 this much at its exit
MAX_BUFFERED_CHARS = 4 * 2 ** 20  # beyond this, while the journal cannot keep up, text is counted, not kept
STREAMS = ('stdout', 'stderr')


class ConsoleCapture:
    """Copies ``sys.stdout`` and ``sys.stderr`` to ``send(stream, text)`` from :meth:`start` to :meth:`stop`.

    Args:
        send (callable): Called from the capture's own thread with each stream's text.
        prefix (str): Put before every line (``'[rank 1] '`` when every rank's console is kept).
        other_ranks (str, optional): A folder whose :class:`RankConsoleFiles` are sent too.
    """

    def __init__(self, send: Callable[[str, str], None], prefix: str = '', other_ranks: Optional[str] = None):
        self._send, self._prefix = send, prefix
        self._other_ranks = RankConsoleFiles(other_ranks) if other_ranks else None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._buffer: List[tuple] = []  # (stream, text), in the order written
        self._chars = self._dropped = 0
        self._at_line_start = {stream: True for stream in STREAMS}
        self._originals: Dict[str, Callable] = {}
        self._wrappers: Dict[str, Callable] = {}
        self._active = False
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if self._active:
            return
        self._active = True
        for name in STREAMS:
            stream = getattr(sys, name, None)
            if stream is None or not callable(getattr(stream, 'write', None)):
                continue  # a closed or missing console: nothing is printed, nothing to copy
            self._originals[name] = stream.write
            self._wrappers[name] = self._wrap(name, stream.write)
            try:
                stream.write = self._wrappers[name]
            except (AttributeError, TypeError):  # a stream type that takes no attributes
                del self._originals[name], self._wrappers[name]
        self._thread = threading.Thread(target=self._send_loop, name='swanlab-console', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops copying and sends what is left (what the process prints after this is not in the run)."""
        if not self._active:
            return
        self._active = False
        for name, wrapper in self._wrappers.items():
            stream = getattr(sys, name, None)
            if stream is not None and getattr(stream, 'write', None) is wrapper:
                stream.write = self._originals[name]
            # else someone wrapped ours since (SwanLab's own capture, a progress bar): ours now passes through
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self._other_ranks is not None:
            self._other_ranks.wait_until_ended(RANK_CONSOLE_WAIT_S)
        self.flush()

    def record(self, stream: str, text: str) -> None:
        """Puts ``text`` into the run's console without printing it (a traceback that is printed only after
        the run has been finished)."""
        if self._active:
            self._keep(stream, text)

    def flush(self) -> None:
        with self._lock:
            pieces, self._buffer, self._chars = self._buffer, [], 0
            dropped, self._dropped = self._dropped, 0
        if dropped:
            pieces.append(('stderr', f'\n[SwanLab: {dropped} characters of console output were not kept: the '
                                     f'journal did not keep up]\n'))
        for stream, text in join_by_stream(pieces):
            self._send(stream, text)
        if self._other_ranks is not None:
            for stream, text in self._other_ranks.read():
                self._send(stream, text)

    def _wrap(self, name: str, write: Callable) -> Callable:
        def write_and_keep(text):
            written = write(text)
            if self._active and os.getpid() == self._pid:
                self._keep(name, text if isinstance(text, str) else bytes(text).decode('utf-8', 'replace'))
            return written
        return write_and_keep

    def _keep(self, stream: str, text: str) -> None:
        if not text:
            return
        if self._prefix:
            text = self._prefixed(stream, text)
        with self._lock:
            if self._chars + len(text) > MAX_BUFFERED_CHARS:
                self._dropped += len(text)
                return
            self._buffer.append((stream, text))
            self._chars += len(text)

    def _prefixed(self, stream: str, text: str) -> str:
        lines = text.split('\n')
        start = 0 if self._at_line_start[stream] else 1
        for i in range(start, len(lines)):
            if lines[i] or i < len(lines) - 1:
                lines[i] = self._prefix + lines[i]
        self._at_line_start[stream] = text.endswith('\n')
        return '\n'.join(lines)

    def _send_loop(self) -> None:
        while self._active:
            self._wake.wait(SEND_EVERY_S)
            if self._active:
                self.flush()


def join_by_stream(pieces: List[tuple]) -> List[tuple]:
    """Consecutive pieces of one stream as one text: one journal record per stream change, not per write."""
    joined: List[list] = []
    for stream, text in pieces:
        if joined and joined[-1][0] == stream:
            joined[-1][1].append(text)
        else:
            joined.append([stream, [text]])
    return [(stream, ''.join(texts)) for stream, texts in joined]


class RankConsoleFiles:
    """The console files of the ranks other than 0 in ``folder``, as rank 0 reads them (:class:`RankConsoleFile`
    writes them): :meth:`read` takes what is new (whole lines only)."""

    def __init__(self, folder: str):
        self._folder = folder
        self._offsets: Dict[str, int] = {}

    def wait_until_ended(self, timeout: float) -> None:
        """Waits until every rank that started its files has marked them ended, at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = {path.rsplit('.', 1)[0] for path in glob.glob(osp.join(self._folder, 'console_rank*.stdout'))}
            if all(osp.exists(stem + '.end') for stem in started):
                return
            time.sleep(0.05)

    def read(self) -> List[tuple]:
        found = []
        for path in sorted(glob.glob(osp.join(self._folder, 'console_rank*.*'))):
            stream = path.rsplit('.', 1)[1]
            if stream not in STREAMS:
                continue
            try:
                with open(path, 'rb') as f:
                    f.seek(self._offsets.get(path, 0))
                    new = f.read()
            except OSError:
                continue
            whole = new[:new.rfind(b'\n') + 1]
            if whole:
                self._offsets[path] = self._offsets.get(path, 0) + len(whole)
                found.append((stream, whole.decode('utf-8', 'replace')))
        return found


class RankConsoleFile:
    """What one rank other than 0 appends its console to (called with ``(stream, text)``); :meth:`end` marks it
    complete for rank 0."""

    def __init__(self, folder: str, rank: int):
        os.makedirs(folder, exist_ok=True)
        self._stem = osp.join(folder, f'console_rank{rank}')
        self._files = {stream: open(f'{self._stem}.{stream}', 'a', encoding='utf-8') for stream in STREAMS}

    def __call__(self, stream: str, text: str) -> None:
        try:
            self._files[stream].write(text)
            self._files[stream].flush()
        except (OSError, ValueError):
            pass  # a full disk loses console lines, never the training

    def end(self) -> None:
        for file in self._files.values():
            file.close()
        try:
            open(self._stem + '.end', 'w').close()
        except OSError:
            pass  # rank 0 then waits its bounded time and reads what is there
