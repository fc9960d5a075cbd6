"""``python -m swanlab_backend.test CONFIG CHECKPOINT``: evaluate a checkpoint on the test split, in SwanLab.

The command stays here; its code is :mod:`swanlab_backend.tools.test`.
"""
from .tools.test import main

if __name__ == '__main__':
    main()
