"""The thin override that turns a recipe into a smoke (or demo) run on a tiny generated dataset.

Everything else stays as the recipe has it: the model architecture, losses,
pipelines (their transforms and order), optimizer, hooks and SwanLab tracking.
What changes, and why:

- data: ``data_root`` (and evaluator ``ann_file`` paths under it) point at the
  tiny dataset; batch size 2, no worker processes (2 CPU cores).
- image scale: every ``scale``/``img_scale``/``crop_size``/``size`` in the
  pipelines and the data preprocessor is multiplied by ``scale_factor`` (1/4 by
  default: COCO 1333x800 -> 333x192, Cityscapes crops 512x1024 -> 128x256),
  sides that were multiples of 32 rounded to one;
  CIFAR's 32 px images are left as they are.
- length: a few epochs or iterations with validation in between, logging at
  every step, one checkpoint at the end.
- images: a recipe's come from its ``SwanlabInsightsHook`` (gallery, per-class
  pictures, dataset card); a config without it (a user's own) gets its task
  visualization hook drawing every image instead.
- detectors keep every box (``score_thr=0``): a model trained for a few
  iterations from scratch scores below the usual 0.05, and COCO evaluation of
  no boxes gives no mAP at all.
- no pretrained download: ``init_cfg=dict(type='Pretrained')`` and
  ``pretrained=...`` are dropped, and the log says so (CI has no network; the
  weights are 100+ MB). Real trainings never drop them silently
  (``swanlab_backend.tools.pretrained``).
- mmpretrain's ``CIFAR10`` checks the md5 of the real files, which a generated
  stand-in cannot pass: it is swapped for ``TinyCIFAR10`` (same loader, no md5).
- a fixed seed (``randomness=dict(seed=1)``), so that a smoke run is the same
  every time: from scratch, a few iterations can leave a detector with no box
  at all for some random initialisations.
- demos only (``from_scratch=True``): what makes a recipe written for ImageNet
  weights learn from scratch within minutes (:func:`learn_from_scratch`); each
  change is printed in the run's log.
- the SwanLab experiment gets the label (``smoke``/``demo``) as a tag and in
  its description; a demo's experiment is also named ``<recipe>-demo``, so that
  it never mixes with real runs of the recipe in the same project.
"""
import os
from typing import Any, Optional

from swanlab_backend.mmengine.validation import BACKEND_NAMES
from swanlab_backend.tools.config_tree import LOADERS, innermost_dataset, iter_dicts, set_data_root
from swanlab_backend.tools.pretrained import drop_pretrained

SCALED_KEYS = ('scale', 'img_scale', 'crop_size', 'size')
DATASET_SWAPS = {'CIFAR10': 'TinyCIFAR10'}
UNSCALED_DATASETS = ('CIFAR10', 'TinyCIFAR10')
DEMO_ROI_SAMPLES = 128


def apply_smoke_overrides(cfg: Any, data_root: str, *, length: int = 2, scale_factor: float = 0.25,
                          label: str = 'smoke', batch_size: int = 2, iters_per_round: int = 3,
                          warmup_iters: int = 0, from_scratch: bool = False) -> Any:
    """Applies the override above to ``cfg`` (an ``mmengine.Config``) in place and returns it.

    Args:
        length: epochs for epoch-based recipes; for iteration-based ones,
            ``iters_per_round * length`` iterations with a validation every ``iters_per_round``.
        warmup_iters: if > 0, iteration-counted warm-ups (``LinearLR`` with ``by_epoch=False``: 500
            iterations in mmdet's configs) end by then: a demo is shorter than the recipe's warm-up.
    """
    dataset_type = innermost_dataset(cfg.train_dataloader)['type']
    factor = 1.0 if dataset_type in UNSCALED_DATASETS else scale_factor

    set_data_root(cfg, data_root)
    for name in LOADERS:
        loader = cfg[name]
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        dataset = innermost_dataset(loader)
        dataset['type'] = DATASET_SWAPS.get(dataset['type'], dataset['type'])
        _scale_sizes(dataset.get('pipeline', []), factor)
    _scale_sizes(cfg.model.get('data_preprocessor', {}), factor)
    _scale_sizes(cfg.get('train_pipeline', []), factor)  # pipeline-switching hooks read these
    for checkpoint in drop_pretrained(cfg.model):
        print(f'{label}: not loading the pretrained weights {checkpoint} (generated data; CI has no network): '
              'training from scratch', flush=True)
    _keep_all_detections(cfg.model)
    for hook in cfg.get('custom_hooks', []):
        _scale_sizes(hook.get('switch_pipeline', []), factor)

    if from_scratch:
        learn_from_scratch(cfg, length, label)
    if cfg.train_cfg.get('by_epoch', cfg.train_cfg.get('type') != 'IterBasedTrainLoop'):
        cfg.train_cfg.update(max_epochs=length, val_interval=1)
        cfg.default_hooks.checkpoint.update(interval=length)
    else:
        cfg.train_cfg.update(max_iters=iters_per_round * length, val_interval=iters_per_round)
        cfg.default_hooks.checkpoint.update(interval=iters_per_round * length)
    if warmup_iters > 0:
        _shorten_warmup(cfg, warmup_iters)
    cfg.default_hooks.logger.update(interval=1)
    cfg.randomness = dict(seed=1)
    if not _has_insights(cfg):
        _draw_every_image(cfg.default_hooks.get('visualization'))
    imports = list(cfg.custom_imports.imports) + ['swanlab_backend.stack_fixes', 'ci.tiny_datasets']
    cfg.custom_imports.imports = list(dict.fromkeys(imports))  # a recipe already names stack_fixes: once each
    _label_experiment(cfg, label)
    return cfg


def learn_from_scratch(cfg: Any, length: int, label: str = 'demo') -> None:
    """What a recipe tuned for ImageNet weights and COCO needs to learn from scratch in a demo of ``length``
    epochs on the generated images:

    - every backbone stage trains and BatchNorm learns its statistics: the recipe freezes the stem and keeps
      BatchNorm in eval mode, right for pretrained layers, but random ones then never change;
    - the epoch schedule (lr steps, cosine phases, pipeline switches) is compressed to the demo's length: at
      the recipe's epochs (8 and 11 of 12, 150 of 300) it would cut the lr before the demo learns, or never;
    - a two-stage detector samples at most 128 proposals per image for its RoI head, not 512: a generated
      image holds 1-3 objects (COCO's hold 7 on average), and 512 made that head most of each iteration.
    """
    changes = []
    backbone = cfg.model.get('backbone', {})
    if backbone.get('frozen_stages', -1) != -1:
        changes.append(f'backbone.frozen_stages {backbone["frozen_stages"]} -> -1 (training from scratch)')
        backbone['frozen_stages'] = -1
    if backbone.get('norm_eval'):
        changes.append('backbone.norm_eval True -> False (training from scratch)')
        backbone['norm_eval'] = False
    recipe_epochs = cfg.train_cfg.get('max_epochs')
    if recipe_epochs and recipe_epochs != length:
        _compress_schedule(cfg, length / recipe_epochs)
        changes.append(f'epoch schedule {recipe_epochs} -> {length} epochs (lr steps and phases at the same fractions)')
    sampler = (cfg.model.get('train_cfg') or {}).get('rcnn', {}).get('sampler', {})
    if sampler.get('num', 0) > DEMO_ROI_SAMPLES:
        changes.append(f'train_cfg.rcnn.sampler.num {sampler["num"]} -> {DEMO_ROI_SAMPLES} (1-3 objects per image)')
        sampler['num'] = DEMO_ROI_SAMPLES
    for change in changes:
        print(f'{label}: {change}', flush=True)


def _compress_schedule(cfg: Any, factor: float) -> None:
    def scaled(epoch: int) -> int:
        return max(1, round(epoch * factor))

    for scheduler in _schedulers(cfg):
        if not scheduler.get('by_epoch', True):
            continue
        if 'milestones' in scheduler:
            scheduler['milestones'] = [scaled(m) for m in scheduler['milestones']]
        for key in ('begin', 'end', 'T_max'):
            if isinstance(scheduler.get(key), int) and scheduler[key] > 0:
                scheduler[key] = scaled(scheduler[key])
    for hook in cfg.get('custom_hooks') or []:
        if isinstance(hook.get('switch_epoch'), int):
            hook['switch_epoch'] = scaled(hook['switch_epoch'])
    intervals = cfg.train_cfg.get('dynamic_intervals')
    if intervals:
        cfg.train_cfg['dynamic_intervals'] = [(scaled(epoch), interval) for epoch, interval in intervals]


def _scale_sizes(tree: Any, factor: float) -> None:
    if factor == 1.0:
        return
    for node in iter_dicts(tree):
        for key in SCALED_KEYS:
            if _is_size(node.get(key)):
                node[key] = _scaled(node[key], factor)


def _is_size(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, int) for v in value)


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, int):
        return _scaled_side(value, factor)
    return type(value)(_scaled_side(v, factor) for v in value)


def _scaled_side(side: int, factor: float) -> int:
    """A side that was a multiple of 32 stays one: RTMDet's neck needs feature maps that halve evenly
    (640 x 1/8 = 80 breaks it; 96 does not)."""
    if side % 32 == 0:
        return max(32, round(side * factor / 32) * 32)
    return max(8, round(side * factor))


def _keep_all_detections(model_cfg: Any) -> None:
    for node in iter_dicts(model_cfg):
        if isinstance(node.get('score_thr'), (int, float)):
            node['score_thr'] = 0.0


def _schedulers(cfg: Any) -> list:
    """The config's ``param_scheduler``, one dict or a list of them, as a list."""
    schedulers = cfg.get('param_scheduler') or []
    return [schedulers] if isinstance(schedulers, dict) else schedulers


def _shorten_warmup(cfg: Any, iterations: int) -> None:
    for scheduler in _schedulers(cfg):
        if scheduler.get('type') == 'LinearLR' and not scheduler.get('by_epoch', True):
            scheduler['end'] = min(scheduler.get('end', iterations), iterations)


def _has_insights(cfg: Any) -> bool:
    backends = cfg.get('visualizer', {}).get('vis_backends') or []
    hooks = cfg.get('custom_hooks') or []
    return (any(b.get('type') in BACKEND_NAMES and b.get('insights') is not None for b in backends)
            or any(h.get('type') == 'SwanlabInsightsHook' for h in hooks))


def _draw_every_image(hook: Optional[dict]) -> None:
    if not hook:
        return
    hook['interval'] = 1
    hook['draw' if 'draw' in hook or hook['type'] != 'VisualizationHook' else 'enable'] = True


def _label_experiment(cfg: Any, label: str) -> None:
    for backend in cfg.visualizer.vis_backends:
        if backend['type'] in BACKEND_NAMES:
            init_kwargs = backend.setdefault('init_kwargs', {})
            init_kwargs['tags'] = list(init_kwargs.get('tags') or []) + [label, cfg.default_scope]
            init_kwargs['description'] = f'{label} run on a tiny generated dataset (ci/tiny_datasets.py)'
            if label == 'demo':
                name = init_kwargs.get('experiment_name') or os.path.splitext(os.path.basename(cfg.filename))[0]
                init_kwargs['experiment_name'] = f'{name}-demo'
