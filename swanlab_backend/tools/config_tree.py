"""Small helpers that walk and edit an MMEngine config tree (used by the entry points and ``ci/``)."""
from typing import Any, Iterator

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def iter_dicts(node: Any) -> Iterator[dict]:
    """Every dict in a config tree, parents before children (safe to edit values on the way)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_dicts(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from iter_dicts(item)


def innermost_dataset(loader: Any) -> Any:
    """The dataset a loader reads, through RepeatDataset/ClassBalancedDataset wrappers."""
    dataset = loader['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def set_data_root(cfg: Any, data_root: str) -> None:
    """Points every dataloader, and evaluator ``ann_file`` that lived under the old root, at ``data_root``."""
    old_root = str(innermost_dataset(cfg.train_dataloader).get('data_root', '')).rstrip('/')
    new_root = data_root.rstrip('/')
    for name in LOADERS:
        if cfg.get(name):
            innermost_dataset(cfg[name])['data_root'] = new_root
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name) or []
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            path = evaluator.get('ann_file')
            if old_root and isinstance(path, str) and path.startswith(old_root + '/'):
                evaluator['ann_file'] = new_root + path[len(old_root):]
