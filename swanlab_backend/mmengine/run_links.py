"""Which run a runner's SwanLab run is, and which earlier run it continues or tests.

The run id is kept in ``<work_dir>/swanlab_run_id``: ``--resume`` reopens that run
online (local and offline modes cannot reopen one, so a resumed training is a new
experiment tagged ``resumed`` that names the previous one), and a later test of a
checkpoint from that work dir logs into it online, or into ``<name>-test`` otherwise.
"""
import os.path as osp
from typing import Any, Optional, Tuple

RUN_ID_FILE = 'swanlab_run_id'


def config_stem(runner: Any) -> Optional[str]:
    """``faster-rcnn_r50_fpn_1x_coco`` for a runner built from that config file."""
    filename = getattr(getattr(runner, 'cfg', None), 'filename', None)
    return osp.splitext(osp.basename(filename))[0] if filename else None


def read_run_id(runner: Any) -> Optional[str]:
    path = run_id_file(runner)
    if path and osp.isfile(path):
        with open(path) as f:
            return f.read().strip() or None
    return None


def continue_resumed(runner: Any, kwargs: dict, run_info: dict) -> Optional[str]:
    """For a resumed training: tags it and returns the id of the run it continues, if known."""
    # A config-built runner starts its backends before it sets `_resume`; its cfg already says.
    resuming = getattr(runner, '_resume', None)
    if resuming is None:
        resuming = getattr(runner, 'cfg', {}).get('resume', False)
    if not resuming:
        return None
    tags = list(kwargs.get('tags') or [])
    kwargs['tags'] = tags + ['resumed'] if 'resumed' not in tags else tags
    previous = read_run_id(runner)
    run_info.update({'resume.resumed': True, 'resume.previous_run_id': previous or ''})  # tags: cloud only
    return previous


def is_test_only(runner: Any) -> bool:
    """True when ``runner`` tests without having trained in this process (``tools/test.py``, ``mim test``)."""
    from mmengine.runner import BaseLoop
    return runner is not None and not isinstance(getattr(runner, '_train_loop', None), BaseLoop)


def tie_test_to_training(runner: Any, kwargs: dict, run_info: dict,
                         checkpoint_meta: dict) -> Tuple[Optional[str], dict, Optional[int]]:
    """For a test-only run: ``(training run id to reopen online, settings of a new local run, test step)``.

    The test metrics belong at the checkpoint's iteration, not at step 0.
    """
    step = checkpoint_meta.get('iter')
    training_id = read_run_id(runner)
    checkpoint = str(getattr(runner, '_load_from', None) or '')
    run_info.update({'test.checkpoint': checkpoint, 'test.training_run_id': training_id or '',
                     'test.checkpoint_iter': step if step is not None else -1})
    name = kwargs.pop('name', None) or kwargs.get('experiment_name') or 'test'
    of = f'training run {training_id}' if training_id else 'a training this work dir does not record'
    new_run = dict(experiment_name=f'{name}-test', tags=list(kwargs.get('tags') or []) + ['test'],
                   description=f'test of {osp.basename(checkpoint) or "the model"} from {of}')
    return training_id, new_run, step


def run_id_file(runner: Any) -> Optional[str]:
    work_dir = getattr(runner, 'work_dir', None)
    return osp.join(work_dir, RUN_ID_FILE) if work_dir else None
