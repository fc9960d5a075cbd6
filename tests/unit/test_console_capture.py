"""The training side of the console log: what is printed reaches the terminal untouched and the run once."""
import sys
import threading
import time

from swanlab_backend.handover import console_capture
from swanlab_backend.handover.console_capture import ConsoleCapture, RankConsoleFile, RankConsoleFiles, join_by_stream


def _capture(prefix=''):
    sent = []
    return ConsoleCapture(lambda stream, text: sent.append((stream, text)), prefix), sent


def test_printed_text_reaches_the_terminal_and_the_run_in_order(capsys):
    capture, sent = _capture()
    capture.start()
    print('first')
    print('second', file=sys.stderr)
    sys.stdout.write('progress 1/2\rprogress 2/2\n')
    capture.record('stderr', 'Traceback: only in the run\n')
    capture.stop()
    print('after the run')
    terminal = capsys.readouterr()
    assert terminal.out == 'first\nprogress 1/2\rprogress 2/2\nafter the run\n'
    assert terminal.err == 'second\n'
    assert join_by_stream(sent) == [  # however the sending thread split the writes
        ('stdout', 'first\n'), ('stderr', 'second\n'), ('stdout', 'progress 1/2\rprogress 2/2\n'),
        ('stderr', 'Traceback: only in the run\n')]


def test_stop_gives_the_streams_back():
    capture, _ = _capture()
    before = sys.stdout.write
    capture.start()
    assert sys.stdout.write is not before
    capture.stop()
    assert sys.stdout.write == before


def test_every_line_gets_the_rank_prefix_also_across_writes(capsys):
    capture, sent = _capture('[rank 1] ')
    capture.start()
    sys.stdout.write('a')
    sys.stdout.write('b\nc\n')
    sys.stdout.write('\n')
    capture.stop()
    assert ''.join(text for _, text in sent) == '[rank 1] ab\n[rank 1] c\n[rank 1] \n'
    assert capsys.readouterr().out == 'ab\nc\n\n'  # the terminal without the prefix


def test_rank_files_hand_over_whole_lines_only(tmp_path):
    append = RankConsoleFile(str(tmp_path), 1)
    files = RankConsoleFiles(str(tmp_path))
    append('stdout', '[rank 1] one\n[rank 1] tw')
    assert files.read() == [('stdout', '[rank 1] one\n')]
    append('stdout', 'o\n')
    append('stderr', '[rank 1] warning\n')
    assert sorted(files.read()) == [('stderr', '[rank 1] warning\n'), ('stdout', '[rank 1] two\n')]
    assert files.read() == []


def test_rank_zeros_last_read_waits_for_a_rank_still_printing(tmp_path):
    """The ranks exit together: a line rank 1 writes just before its end marker is still in rank 0's run."""
    rank1 = RankConsoleFile(str(tmp_path), 1)
    sent = []
    capture = ConsoleCapture(lambda stream, text: sent.append(text), '[rank 0] ', other_ranks=str(tmp_path))
    capture.start()

    def rank1_exits_late():
        time.sleep(0.6)
        rank1('stdout', '[rank 1] last line\n')
        rank1.end()
    late = threading.Thread(target=rank1_exits_late)
    late.start()
    capture.stop()
    late.join()
    assert '[rank 1] last line\n' in sent


def test_a_rank_that_never_ends_costs_rank_zero_a_bounded_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(console_capture, 'RANK_CONSOLE_WAIT_S', 0.3)
    rank1 = RankConsoleFile(str(tmp_path), 1)
    rank1('stdout', '[rank 1] before it was killed\n')
    sent = []
    capture = ConsoleCapture(lambda stream, text: sent.append(text), '[rank 0] ', other_ranks=str(tmp_path))
    capture.start()
    started = time.monotonic()
    capture.stop()
    assert 0.3 <= time.monotonic() - started < 3
    assert '[rank 1] before it was killed\n' in sent
