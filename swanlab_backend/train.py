"""``python -m swanlab_backend.train CONFIG``: train any MMEngine config, tracked in SwanLab.

The command stays here; its code is :mod:`swanlab_backend.tools.train`.
"""
from .tools.train import main

if __name__ == '__main__':
    main()
