"""``python -m swanlab_backend.replay [FOLDER ...]``: write journals left behind into their runs.

The command the training prints stays here; its code is :mod:`swanlab_backend.writer.replay`.
"""
import sys

from .writer.replay import main

if __name__ == '__main__':
    sys.exit(main())
