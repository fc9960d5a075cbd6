"""The journal: how the training process hands data to the writer process, as plain data on disk.

A record is a list of plain values (numbers, strings, lists, dicts, None) and numpy
arrays of numbers. It is written as JSON plus the arrays' raw bytes, out of band: the
training thread pays one copy into the page cache and no encoding, and decoding runs
no code from the file (a record crafted by someone else is at worst skipped). What was
written survives the death of either process: the kernel holds it.

Record layout: ``<4sIII`` (magic, JSON length, buffer count, CRC-32 of the JSON),
``<Q`` per buffer, the JSON, the buffers. The journal is cut into segments of
``segment_bytes``; segment ``n + 1`` exists only once segment ``n`` is complete. A write
that fails (disk full) is cut off again, so no torn record is ever followed by another;
a record that does not decode is reported and skipped, and the reader never stalls.
The same frames travel through a pipe (:func:`read_frame`) when the disk is full.
"""
import functools
import json
import os
import os.path as osp
import struct
import threading
import time
import zlib
from collections import deque
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

SEGMENT_BYTES = 64 * 2 ** 20
MAGIC = b'SWJ1'
_HEAD = struct.Struct('<4sIII')
_SIZE, _STEP = struct.Struct('<Q'), struct.Struct('<q')
_MAX_BUFFERS = 4096
_ARRAY = '__ndarray__'
_NUMBERS = b'\x00N'  # a JSON body starts with '['
_NUMBER_KINDS = 'biuf'  # an object dtype would mean pickles again
Position = Tuple[int, int]  # (segment, offset)


class BadRecord(ValueError):
    """A record that does not decode: damaged, foreign, or from another version."""


_buffers = threading.local()  # the out-of-band buffers of the record being encoded on this thread


def _out_of_band(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMBER_KINDS:
            raise TypeError(f'an array of {value.dtype} cannot be logged; arrays of numbers only')
        _buffers.list.append(memoryview(np.ascontiguousarray(value)).cast('B'))
        return {_ARRAY: len(_buffers.list) - 1, 'dtype': value.dtype.str, 'shape': list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f'{type(value).__name__} is not plain data')


_ENCODER = json.JSONEncoder(separators=(',', ':'), default=_out_of_band)  # built once: json.dumps builds one a call


def encode(record: Any) -> Tuple[list, int]:
    """The frame of ``record``: a list of byte-like parts and their total size.

    Raises:
        TypeError: for a value that is not plain data (the caller reports it).
    """
    if record[0] == 'log_numbers':
        return _encode_numbers(record[1], record[2])
    _buffers.list = buffers = []
    body = _ENCODER.encode(record).encode()
    parts = [_HEAD.pack(MAGIC, len(body), len(buffers), zlib.crc32(body)),
             struct.pack(f'<{len(buffers)}Q', *(b.nbytes for b in buffers)), body, *buffers]
    return parts, sum(memoryview(p).nbytes for p in parts)


def _encode_numbers(data: Dict[str, float], step: int) -> Tuple[list, int]:
    """``['log_numbers', {key: number}, step]``, the record of every iteration, without JSON (its text costs the
    training thread several us more): the keys NUL separated, the numbers as one float64 buffer."""
    values = _float64s(len(data)).pack(*data.values())
    body = _NUMBERS + _STEP.pack(step) + '\0'.join(data).encode()
    parts = [_HEAD.pack(MAGIC, len(body), 1, zlib.crc32(body)), _SIZE.pack(len(values)), body, values]
    return parts, _HEAD.size + _SIZE.size + len(body) + len(values)


@functools.lru_cache(maxsize=64)
def _float64s(count: int) -> struct.Struct:
    return struct.Struct(f'<{count}d')


def decode(body: bytes, buffers: List[bytes]) -> Any:
    """The record of a frame's JSON and buffers; raises :class:`BadRecord` for anything else."""
    if body[:len(_NUMBERS)] == _NUMBERS:
        return _decode_numbers(body, buffers)

    def arrays(obj: dict) -> Any:
        if _ARRAY not in obj:
            return obj
        try:
            dtype = np.dtype(obj['dtype'])
            if dtype.kind not in _NUMBER_KINDS:
                raise ValueError(f'dtype {dtype}')
            return np.frombuffer(buffers[obj[_ARRAY]], dtype=dtype).reshape(obj['shape'])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise BadRecord(f'a bad array in the record ({e})') from None

    try:
        return json.loads(body, object_hook=arrays)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise BadRecord(f'not a journal record ({type(e).__name__})') from None


def _decode_numbers(body: bytes, buffers: List[bytes]) -> list:
    head = len(_NUMBERS) + _STEP.size
    try:
        keys = body[head:].decode().split('\0') if len(body) > head else []
        (step,), values = _STEP.unpack_from(body, len(_NUMBERS)), _float64s(len(keys)).unpack(buffers[0])
    except (UnicodeDecodeError, struct.error, IndexError) as e:
        raise BadRecord(f'a bad record of numbers ({e})') from None
    return ['log_numbers', dict(zip(keys, values)), step]


def read_frame(stream: BinaryIO) -> Optional[Any]:
    """The next record of a stream of frames (a pipe); None at its end. Raises :class:`BadRecord`."""
    head = _read_exactly(stream, _HEAD.size)
    if head is None:
        return None
    magic, body_size, count, crc = _HEAD.unpack(head)
    if magic != MAGIC or count > _MAX_BUFFERS:
        raise BadRecord('the stream is out of step')  # nothing after this can be trusted
    sizes = struct.unpack(f'<{count}Q', _read_exactly(stream, 8 * count) or b'')
    body = _read_exactly(stream, body_size)
    buffers = [_read_exactly(stream, n) for n in sizes]
    if body is None or any(b is None for b in buffers):
        return None
    if zlib.crc32(body) != crc:
        raise BadRecord('its checksum does not match')
    return decode(body, buffers)


def _read_exactly(stream: BinaryIO, size: int) -> Optional[bytes]:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b''.join(chunks)


def _segment(folder: str, index: int) -> str:
    return osp.join(folder, f'segment-{index:06d}')


def _open_segment(folder: str, index: int) -> int:
    return os.open(_segment(folder, index), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)


class JournalWriter:
    """Appends records to the journal in ``folder``, an existing private folder (thread-safe)."""

    def __init__(self, folder: str, segment_bytes: int = SEGMENT_BYTES):
        self.folder, self._segment_bytes = folder, segment_bytes
        # Reentrant: a SIGINT or SIGTERM handler that finishes the run may interrupt an append on the same thread.
        self._lock = threading.RLock()
        self._index, self._size = 0, 0
        self._fd: Optional[int] = _open_segment(folder, 0)

    def append(self, record: Any) -> None:
        """Writes ``record`` whole or not at all; raises ``OSError`` (disk full...) and ``TypeError``."""
        parts, size = encode(record)
        with self._lock:
            if self._fd is None:
                raise ValueError('the journal is closed')
            if self._size and self._size + size > self._segment_bytes:
                self._next_segment()
            try:
                written = os.writev(self._fd, parts)
                while written < size:  # a regular file takes all of it unless the disk is full
                    written += os.write(self._fd, b''.join(bytes(p) for p in parts)[written:])
            except OSError:
                self._cut_back()
                raise
            self._size += size

    def _cut_back(self) -> None:
        """Removes what a failed write left, so that no later record follows a torn one."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:  # then the reader reports a damaged tail; it does not stall on it
            pass

    def _next_segment(self) -> None:
        # The next segment exists only once this one is complete: that is how the reader knows.
        try:
            fd = _open_segment(self.folder, self._index + 1)
        except OSError:
            return  # no room for a file: this segment grows instead
        os.close(self._fd)
        self._fd, self._index, self._size = fd, self._index + 1, 0

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class JournalReader:
    """Reads the records of the journal in ``folder`` as they arrive, from ``start`` on.

    ``on_bad_record(position, why)`` is told of every record that does not decode; it is skipped.
    """

    def __init__(self, folder: str, start: Position = (0, 0),
                 on_bad_record: Callable[[Position, str], None] = lambda position, why: None):
        self.folder, self._on_bad_record = folder, on_bad_record
        self._index, self._offset = start
        self._file: Optional[BinaryIO] = None

    @property
    def position(self) -> Position:
        """Where the record after the last one read starts."""
        return self._index, self._offset

    def records(self) -> Iterator[Any]:
        """Yields every complete record written so far; returns at the end of what is there."""
        while True:
            record = self._read_one()
            if record is _NOTHING:
                if not osp.exists(_segment(self.folder, self._index + 1)):
                    return
                # The next segment exists once this one is complete: read what came since the last look.
                record = self._read_one()
                if record is _NOTHING:
                    self._skip_tail()
                    continue
            yield record

    def unread_tail_bytes(self) -> int:
        """Bytes at the end that do not make a whole record (non-zero only if the writer died mid-record)."""
        path = _segment(self.folder, self._index)
        return max(0, osp.getsize(path) - self._offset) if osp.exists(path) else 0

    def forget_before(self, index: int) -> None:
        """Deletes the segments before ``index``: nothing will read them again."""
        for earlier in range(index - 1, -1, -1):
            try:
                os.remove(_segment(self.folder, earlier))
            except FileNotFoundError:
                return

    def _read_one(self) -> Any:
        """The next record, or ``_NOTHING`` while it is not all there."""
        while True:
            if self._file is None:
                path = _segment(self.folder, self._index)
                if not osp.exists(path):
                    return _NOTHING
                self._file = open(path, 'rb')
            self._file.seek(self._offset)
            head = self._file.read(_HEAD.size)
            if len(head) < _HEAD.size:
                return _NOTHING
            magic, body_size, count, crc = _HEAD.unpack(head)
            if magic != MAGIC or count > _MAX_BUFFERS:
                self._resynchronise()
                continue
            sizes = self._file.read(8 * count)
            if len(sizes) < 8 * count:
                return _NOTHING
            sizes = struct.unpack(f'<{count}Q', sizes)
            end = self._offset + _HEAD.size + 8 * count + body_size + sum(sizes)
            if osp.getsize(self._file.name) < end:
                return _NOTHING  # the rest is still being written
            body = self._file.read(body_size)
            buffers = [self._file.read(n) for n in sizes]
            start, self._offset = self._offset, end
            try:
                if zlib.crc32(body) != crc:
                    raise BadRecord('its checksum does not match')
                return decode(body, buffers)
            except BadRecord as e:
                self._on_bad_record((self._index, start), str(e))

    def _resynchronise(self) -> None:
        """Damaged bytes: skip to the next record's magic (or the segment's end)."""
        self._file.seek(self._offset + 1)
        rest = self._file.read()
        found = rest.find(MAGIC)
        skipped = len(rest) + 1 if found < 0 else found + 1
        self._on_bad_record((self._index, self._offset), f'{skipped} damaged bytes skipped')
        self._offset += skipped

    def _skip_tail(self) -> None:
        torn = self.unread_tail_bytes()
        if torn:
            self._on_bad_record((self._index, self._offset), f'a torn record of {torn} bytes skipped')
        self.close()
        self._index, self._offset = self._index + 1, 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


_NOTHING = object()


def wait_for(predicate, timeout: Optional[float], poll: float = 0.05) -> bool:
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass (None: forever)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not predicate():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


class MemoryJournal:
    """Records waiting in memory, at most ``max_bytes`` of them (``put`` waits beyond): the journal of a
    writer on a thread of the training when the disk cannot take it."""

    def __init__(self, max_bytes: int):
        self._items: deque = deque()
        self._bytes, self._max_bytes = 0, max_bytes
        self._changed = threading.Condition()

    def put(self, record: Any, size: int = 0) -> None:
        size += 256  # a record of numbers, roughly
        with self._changed:
            while self._bytes and self._bytes + size > self._max_bytes:
                self._changed.wait()
            self._items.append((record, size))
            self._bytes += size
            self._changed.notify_all()

    def has_data(self) -> bool:
        return bool(self._items)

    def get(self, timeout: float) -> Any:
        """The oldest record, or None if none came within ``timeout`` seconds."""
        with self._changed:
            if not self._items and timeout:
                self._changed.wait(timeout)
            if not self._items:
                return None
            record, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
            return record
