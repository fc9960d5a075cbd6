"""What the writer process prints, shown by the training: its terminal, its MMEngine log file.

The writer's stdout and stderr go to a nameless file in its journal folder, never to the
training's terminal: a ``python train.py | tee train.log`` then ends when the training
does, and the writer cannot be stopped by a closed or full console. The training reads
that file (:meth:`WriterOutput.relay`, once a second and at the end) and passes each of
the writer's messages on through its own logger, so that it reaches the console, MMEngine's
``<work_dir>/<timestamp>/<timestamp>.log`` and the run's console log, once each.

The writer marks its logger's messages (:func:`prepare_writer_output`); other lines
(SwanLab's own) are printed as they are.
"""
import logging
import os
import re
import sys
import tempfile
import urllib.parse
from typing import IO

from mmengine.logging import print_log

MARK, LEVEL_END, NEWLINE = '\x1e', '\x1f', '\x1d'
MAX_READ = 1 << 20
_secrets: set = set()  # what the writer must never print (the alert channels' secrets): blanked out
SWANLAB_LOG = 'swanlab.internal'  # SwanLab's own log, the debug.log in the run dir, by its logging name
MIN_URL_PART = 12  # a webhook URL's path segments and query values this long are secret too (its tokens)


class WriterOutput:
    """The file a writer process prints into (``file``, for ``Popen``), and the training's reading of it."""

    def __init__(self, folder: str):
        self.file: IO[bytes] = tempfile.TemporaryFile(dir=folder)  # nameless: nothing to clean up, nothing to leak
        self._offset, self._partial = 0, b''

    def relay(self, final: bool = False) -> None:
        """Passes on what the writer printed since the last call; ``final``: also an unfinished last line."""
        try:
            while chunk := os.pread(self.file.fileno(), MAX_READ, self._offset):
                self._offset += len(chunk)
                self._partial += chunk
        except (OSError, ValueError):  # closed: nothing more will come
            return
        *lines, self._partial = self._partial.split(b'\n')
        if final and self._partial:
            lines, self._partial = lines + [self._partial], b''
        for line in lines:
            _show(line.decode('utf-8', 'replace'))

    def close(self) -> None:
        self.relay(final=True)
        self.file.close()


def _show(line: str) -> None:
    if line.startswith(MARK) and LEVEL_END in line:
        level, message = line[1:].split(LEVEL_END, 1)
        print_log(message.replace(NEWLINE, '\n'), logger='current', level=logging.getLevelName(level))
    elif sys.stdout is not None:
        try:
            sys.stdout.write(line + '\n')
        except (OSError, ValueError):
            pass


class _MarkedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f'{MARK}{record.levelname}{LEVEL_END}{super().format(record).replace(chr(10), NEWLINE)}'


class _NeverFailing:
    """A stream whose writes never raise: a full disk must not stop SwanLab's prints, nor the writer."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        length = len(text)
        try:
            self._stream.write(blank_out(text) if _secrets else text)
        except (OSError, ValueError):
            pass
        return length

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def keep_out(secret: str) -> None:
    """Writer side: ``secret`` is printed as ``***`` from now on, by this package and by SwanLab, and so is
    written into SwanLab's own log. Of a URL its tokens too: an HTTP error names the path without the host."""
    if not secret:
        return
    if not _secrets:
        logging.getLogger(SWANLAB_LOG).addFilter(_KeepOut())
    _secrets.add(secret)
    url = urllib.parse.urlsplit(secret)
    if url.scheme and url.netloc:
        parts = re.split(r'[/?&=#]', f'{url.path}?{url.query}') + [url.password or '']
        _secrets.update(part for part in parts if len(part) >= MIN_URL_PART)


def blank_out(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # a whole URL before its parts
        text = text.replace(secret, '***')
    return text


class _KeepOut(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = blank_out(record.getMessage()), None
        return True


def prepare_writer_output() -> None:
    """Writer side: its streams never fail, and its MMEngine logger's messages are marked for
    :class:`WriterOutput`."""
    from mmengine.logging import MMLogger
    sys.stdout, sys.stderr = _NeverFailing(sys.stdout), _NeverFailing(sys.stderr)
    logger = MMLogger.get_instance('swanlab_writer', log_level='INFO')  # the newest instance is 'current'
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MarkedFormatter('%(message)s'))
    logger.addHandler(handler)
