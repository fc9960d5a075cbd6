"""The training side of the console log: what is printed reaches the terminal untouched and the run once."""
import sys

from swanlab_backend.handover.console_capture import ConsoleCapture, RankConsoleFiles, join_by_stream


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
    append = RankConsoleFiles.writer(str(tmp_path), 1)
    files = RankConsoleFiles(str(tmp_path))
    append('stdout', '[rank 1] one\n[rank 1] tw')
    assert files.read() == [('stdout', '[rank 1] one\n')]
    append('stdout', 'o\n')
    append('stderr', '[rank 1] warning\n')
    assert sorted(files.read()) == [('stderr', '[rank 1] warning\n'), ('stdout', '[rank 1] two\n')]
    assert files.read() == []
