"""``python -m swanlab_backend.import_work_dir WORK_DIR``: bring a training done without SwanLab into it.

The command stays here; its code is :mod:`swanlab_backend.tools.import_work_dir`.
"""
import sys

from .tools.import_work_dir import main

if __name__ == '__main__':
    sys.exit(main())
