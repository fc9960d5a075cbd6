"""Writes journals left behind into their runs: ``python -m swanlab_backend.replay [FOLDER ...]``.

A journal is left behind when the training and its writer process were killed
together (a node that went down, ``kill -9`` of the whole process group, an
out-of-memory kill of the job's cgroup) before the writer had written everything.
Without arguments, every such journal in this user's spool folders is written
(``SWANLAB_BACKEND_SPOOL``, see :mod:`swanlab_backend.handover.spool`): online into the same
run, locally and offline into a continuation run (``<name>-continued``) next to the
first, which is marked crashed. Then the journal is deleted. ``--list`` only lists them.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from ..handover.writer_process import _pid_in_name, journals_left_behind
from .run_writer import RunWriter, read_status


def replay(folder: str) -> bool:
    """Writes the journal in ``folder`` into its run and finishes it as crashed; False if it is still there."""
    status = read_status(folder)
    parent = status.get('parent') or _pid_in_name(folder) or -1
    RunWriter(folder, parent_pid=parent, continuing=True).run()  # its training is gone: it ends as crashed
    return not osp.exists(folder)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m swanlab_backend.replay', description=__doc__.split('\n\n')[1])
    parser.add_argument('folders', nargs='*', help='journal folders (default: every one left behind)')
    parser.add_argument('--list', action='store_true', help='only list the journals left behind')
    args = parser.parse_args(argv)
    folders = args.folders or journals_left_behind()
    if not folders:
        print('SwanLab: no journal is left behind: every run was written.')
        return 0
    if args.list:
        print('\n'.join(folders))
        return 0
    failed = 0
    for index, folder in enumerate(folders, 1):
        if not osp.isdir(folder):
            print(f'SwanLab: {folder} is not a journal folder', file=sys.stderr)
            failed += 1
            continue
        print(f'SwanLab: writing journal {index} of {len(folders)}: {folder}', flush=True)
        if not replay(folder):
            print(f'SwanLab: {folder} could not be written completely; it is kept', file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
