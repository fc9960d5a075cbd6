"""The journal hands records over in order, as plain data, images out of band, never a half or foreign record."""
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

from swanlab_backend import media
from swanlab_backend.handover.journal import MAGIC, JournalReader, JournalWriter, MemoryJournal, decode, encode

from helpers import RunsCode


def _segments(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith('segment-'))


def test_records_come_back_in_order_across_segments_kept_until_forgotten(tmp_path):
    writer = JournalWriter(str(tmp_path), segment_bytes=4096)
    reader = JournalReader(str(tmp_path))
    sent = [['log', {f'm{k}': float(i * k) for k in range(12)}, i] for i in range(500)]
    for record in sent[:250]:
        writer.append(record)
    received = list(reader.records())
    for record in sent[250:]:
        writer.append(record)
    writer.close()
    received += list(reader.records())
    assert received == sent
    assert len(_segments(tmp_path)) > 10, 'segments stay until the writer knows SwanLab has written them'
    reader.forget_before(reader.position[0])
    assert _segments(tmp_path) == [f'segment-{reader.position[0]:06d}']


def test_a_reader_can_start_where_an_earlier_one_stopped(tmp_path):
    writer = JournalWriter(str(tmp_path), segment_bytes=2048)
    first = JournalReader(str(tmp_path))
    for i in range(100):
        writer.append(['log', {'a': float(i)}, i])
    taken = [record for _, record in zip(range(60), first.records())]
    rest = list(JournalReader(str(tmp_path), start=first.position).records())
    assert taken + rest == [['log', {'a': float(i)}, i] for i in range(100)]


def test_image_pixels_travel_out_of_band_and_arrive_equal(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (80, 133, 3), dtype=np.uint8)
    writer = JournalWriter(str(tmp_path))
    writer.append(['log', {'snap': media.image(image, 'a caption')}, 7])
    kind, data, step = next(JournalReader(str(tmp_path)).records())
    assert (kind, step, data['snap']['caption']) == ('log', 7, 'a caption')
    np.testing.assert_array_equal(data['snap']['pixels'], image)
    assert os.path.getsize(tmp_path / _segments(tmp_path)[0]) < image.nbytes + 1000, 'pixels must not go in band'


def test_numpy_numbers_nan_and_nested_values_are_plain_data():
    parts, _ = encode(['config', {'n': np.float32(0.5), 'i': np.int64(3), 'nan': float('nan'), 'l': (1, [2])}])
    header, body = bytes(parts[0]), bytes(parts[2])
    record = decode(body, [])
    assert record[1]['n'] == 0.5 and record[1]['i'] == 3 and np.isnan(record[1]['nan']) and record[1]['l'] == [1, [2]]
    assert header[:4] == MAGIC
    with pytest.raises(TypeError):
        encode(['log', {'object': object()}, 1])
    with pytest.raises(TypeError):
        encode(['log', {'objects': np.array([object()])}, 1])


def test_a_record_still_being_written_is_not_read_until_it_is_whole(tmp_path):
    writer = JournalWriter(str(tmp_path))
    writer.append(['log', {'a': 1.0}, 1])
    writer.append(['log', {'a': 2.0}, 2])
    segment = tmp_path / _segments(tmp_path)[0]
    whole = segment.read_bytes()
    with open(segment, 'r+b') as f:  # as if the second write had reached the disk only in part
        f.truncate(len(whole) - 5)
    reader = JournalReader(str(tmp_path))
    assert list(reader.records()) == [['log', {'a': 1.0}, 1]]
    assert reader.unread_tail_bytes() > 0
    with open(segment, 'ab') as f:
        f.write(whole[-5:])
    assert list(reader.records()) == [['log', {'a': 2.0}, 2]]


def test_a_record_crafted_to_run_code_when_unpickled_is_skipped_and_reported(tmp_path):
    """Someone who can write into the journal must not get code run as the training's user."""
    writer = JournalWriter(str(tmp_path))
    writer.append(['log', {'a': 1.0}, 1])
    crafted = RunsCode(tmp_path / 'code-ran')
    payload = pickle.dumps(['log', {'evil': crafted}, 2])
    for frame in (struct.pack('<4sIII', MAGIC, len(payload), 0, zlib.crc32(payload)) + payload,  # a pickle body
                  b'\x80\x05garbage that is not a frame at all'):
        with open(tmp_path / _segments(tmp_path)[0], 'ab') as f:
            f.write(frame)
    writer.append(['log', {'a': 3.0}, 3])
    bad = []
    records = list(JournalReader(str(tmp_path), on_bad_record=lambda position, why: bad.append(why)).records())
    assert records == [['log', {'a': 1.0}, 1], ['log', {'a': 3.0}, 3]]
    assert not crafted.marker.exists(), 'decoding the journal ran code from the file'
    assert len(bad) == 2 and 'not a journal record' in bad[0] and 'damaged bytes skipped' in bad[1], bad


def test_a_write_that_fails_leaves_no_torn_record_behind(tmp_path, monkeypatch):
    writer = JournalWriter(str(tmp_path))
    writer.append(['log', {'a': 1.0}, 1])
    real_writev = os.writev

    def disk_fills_up(fd, parts):
        os.write(fd, bytes(parts[0])[:7])  # part of the record reached the disk
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'writev', disk_fills_up)
    with pytest.raises(OSError):
        writer.append(['log', {'a': 2.0}, 2])
    monkeypatch.setattr(os, 'writev', real_writev)
    writer.append(['log', {'a': 3.0}, 3])
    bad = []
    records = list(JournalReader(str(tmp_path), on_bad_record=lambda position, why: bad.append(why)).records())
    assert records == [['log', {'a': 1.0}, 1], ['log', {'a': 3.0}, 3]] and not bad


def test_memory_journal_waits_for_room_instead_of_dropping():
    memory = MemoryJournal(max_bytes=1000)
    memory.put(['log', {'a': 1.0}, 1], size=600)
    assert memory.has_data() and memory.get(timeout=0) == ['log', {'a': 1.0}, 1]
    assert memory.get(timeout=0) is None


def test_a_forked_child_of_the_training_cannot_write_into_its_journal(tmp_path):
    """DataLoader workers are forked with the backend in them, and with its SIGTERM handler."""
    from swanlab_backend.handover import writer_process
    remote = writer_process.RemoteRun(JournalWriter(str(tmp_path)))
    remote.log_numbers({'a': 1.0}, 1)
    child = os.fork()
    if child == 0:  # what a worker's SIGTERM handler would do
        remote.log_numbers({'a': 2.0}, 2)
        remote.finish('crashed', 'terminated by SIGTERM')
        os._exit(0)
    os.waitpid(child, 0)
    remote.finish('success')
    assert list(JournalReader(str(tmp_path)).records()) == [['log_numbers', {'a': 1.0}, 1],
                                                        ['finish', 'success', None, True]]
