"""``python -m swanlab_backend.doctor``: is this environment ready to train and track?

The command (and ``swanlab-openmmlab-doctor``) stays here; its code is :mod:`swanlab_backend.tools.doctor`.
"""
import sys

from .tools.doctor import main

if __name__ == '__main__':
    sys.exit(main())
