"""The journal hands records over in order, across segments, images out of band, and never a half record."""
import os

import numpy as np

from swanlab_backend.images import PendingImage
from swanlab_backend.journal import JournalReader, JournalWriter


def test_records_come_back_in_order_across_segments_which_are_deleted_once_read(tmp_path):
    writer = JournalWriter(str(tmp_path), segment_bytes=4096)
    reader = JournalReader(str(tmp_path))
    sent = [('log', {f'm{k}': float(i * k) for k in range(12)}, i) for i in range(500)]
    for record in sent[:250]:
        writer.append(record)
    received = list(reader.records())
    for record in sent[250:]:
        writer.append(record)
    writer.close()
    received += list(reader.records())
    assert received == sent
    assert len(os.listdir(tmp_path)) == 1, 'read segments must be deleted (only the last one stays)'


def test_image_pixels_travel_out_of_band_and_arrive_equal(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (80, 133, 3), dtype=np.uint8)
    writer = JournalWriter(str(tmp_path))
    writer.append(('log', {'snap': PendingImage(image, 'a caption')}, 7))
    kind, data, step = next(JournalReader(str(tmp_path)).records())
    assert (kind, step, data['snap'].caption) == ('log', 7, 'a caption')
    np.testing.assert_array_equal(data['snap'].array, image)
    segment = os.path.join(tmp_path, os.listdir(tmp_path)[0])
    assert os.path.getsize(segment) < image.nbytes + 1000, 'the pixels must not be pickled in band as well'


def test_a_record_still_being_written_is_not_read_until_it_is_whole(tmp_path):
    writer = JournalWriter(str(tmp_path))
    writer.append(('log', {'a': 1.0}, 1))
    writer.append(('log', {'a': 2.0}, 2))
    segment = os.path.join(tmp_path, os.listdir(tmp_path)[0])
    whole = open(segment, 'rb').read()
    with open(segment, 'r+b') as f:  # as if the second write had reached the disk only in part
        f.truncate(len(whole) - 5)
    reader = JournalReader(str(tmp_path))
    assert list(reader.records()) == [('log', {'a': 1.0}, 1)]
    assert reader.unread_tail_bytes() > 0
    with open(segment, 'ab') as f:
        f.write(whole[-5:])
    assert list(reader.records()) == [('log', {'a': 2.0}, 2)]



def test_a_forked_child_of_the_training_cannot_write_into_its_journal(tmp_path, monkeypatch):
    """DataLoader workers are forked with the backend in them, and with its SIGTERM handler."""
    from swanlab_backend import writer_process
    monkeypatch.setattr(writer_process, 'RunWriter', _NoWriter)  # only the journal matters here
    remote = writer_process.RemoteRun(JournalWriter(str(tmp_path)), process=None, why_in_process='a test')
    remote.log_numbers({'a': 1.0}, 1)
    child = os.fork()
    if child == 0:  # what a worker's SIGTERM handler would do
        remote.log_numbers({'a': 2.0}, 2)
        remote.finish('crashed', 'terminated by SIGTERM')
        os._exit(0)
    os.waitpid(child, 0)
    remote.finish('success')
    assert list(JournalReader(str(tmp_path)).records()) == [('log', {'a': 1.0}, 1), ('finish', 'success', None, True)]


class _NoWriter:
    def __init__(self, folder):
        pass

    def run(self):
        pass
