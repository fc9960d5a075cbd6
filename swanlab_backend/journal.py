"""An append-only journal on disk: how the training process hands data to the writer process.

Each record is one ``os.writev`` of a pickle (protocol 5) whose large buffers, image
pixels, travel out of band: the training thread pays one copy into the page cache and
no encoding, and never waits for the reader. What was written survives the writer's
death (SIGKILL included): the kernel holds it. The journal is cut into segments of
``segment_bytes``; the reader deletes each segment it has read, so a long training
keeps at most about one segment of unread data beyond what the reader lags behind.

Record layout: ``<II`` (pickle length, buffer count), ``<Q`` per buffer, the pickle,
the buffers.
"""
import os
import os.path as osp
import pickle
import struct
import threading
import time
from typing import Any, Iterator, List, Optional

SEGMENT_BYTES = 64 * 2 ** 20
_HEAD = struct.Struct('<II')


def _segment(folder: str, index: int) -> str:
    return osp.join(folder, f'segment-{index:06d}')


class JournalWriter:
    """Appends records to the journal in ``folder`` (thread-safe; one writing process)."""

    def __init__(self, folder: str, segment_bytes: int = SEGMENT_BYTES):
        self.folder, self._segment_bytes = folder, segment_bytes
        os.makedirs(folder, exist_ok=True)
        self._lock = threading.Lock()
        self._index, self._size = 0, 0
        self._fd: Optional[int] = os.open(_segment(folder, 0), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def append(self, record: Any) -> None:
        """Writes ``record``; raises ``OSError`` (disk full...) and ``pickle.PicklingError`` to the caller."""
        buffers: List[pickle.PickleBuffer] = []
        body = pickle.dumps(record, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
        parts = [_HEAD.pack(len(body), len(raws)), struct.pack(f'<{len(raws)}Q', *(r.nbytes for r in raws)),
                 body, *raws]
        size = sum(memoryview(p).nbytes for p in parts)
        with self._lock:
            if self._fd is None:
                raise ValueError('the journal is closed')
            if self._size and self._size + size > self._segment_bytes:
                self._next_segment()
            written = os.writev(self._fd, parts)
            while written < size:  # a regular file takes all of it unless the disk is full
                rest = b''.join(bytes(p) for p in parts)[written:]
                written += os.write(self._fd, rest)
            self._size += size

    def _next_segment(self) -> None:
        # The next segment exists only once this one is complete: that is how the reader knows.
        os.close(self._fd)
        self._index, self._size = self._index + 1, 0
        self._fd = os.open(_segment(self.folder, self._index), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class JournalReader:
    """Reads the records of the journal in ``folder`` as they arrive, deleting segments once read."""

    def __init__(self, folder: str):
        self.folder = folder
        self._index, self._offset, self._file = 0, 0, None

    def records(self) -> Iterator[Any]:
        """Yields every complete record written so far; returns at the end of what is there."""
        while True:
            record = self._read_one()
            if record is None:
                if not self._next_segment_exists():
                    return
                # The next segment exists once this one is complete: read what came since the last look.
                record = self._read_one()
                if record is None:
                    self._finish_segment()
                    continue
            yield record

    def unread_tail_bytes(self) -> int:
        """Bytes at the end that do not make a whole record (non-zero only if the writer died mid-record)."""
        path = _segment(self.folder, self._index)
        return max(0, osp.getsize(path) - self._offset) if osp.exists(path) else 0

    def _read_one(self) -> Optional[Any]:
        if self._file is None:
            path = _segment(self.folder, self._index)
            if not osp.exists(path):
                return None
            self._file = open(path, 'rb')
        self._file.seek(self._offset)
        head = self._file.read(_HEAD.size)
        if len(head) < _HEAD.size:
            return None
        body_size, count = _HEAD.unpack(head)
        sizes = self._file.read(8 * count)
        if len(sizes) < 8 * count:
            return None
        sizes = struct.unpack(f'<{count}Q', sizes)
        body = self._file.read(body_size)
        buffers = [self._file.read(n) for n in sizes]
        if len(body) < body_size or any(len(b) < n for b, n in zip(buffers, sizes)):
            return None  # the rest is still being written
        self._offset = self._file.tell()
        return pickle.loads(body, buffers=buffers)

    def _next_segment_exists(self) -> bool:
        return osp.exists(_segment(self.folder, self._index + 1))

    def _finish_segment(self) -> None:
        self.close()
        os.remove(_segment(self.folder, self._index))
        self._index, self._offset, self._file = self._index + 1, 0, None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def wait_for(predicate, timeout: Optional[float], poll: float = 0.05) -> bool:
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass (None: forever)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not predicate():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True
