"""``SwanlabInsightsHook``: what the model gets wrong, at every validation and test, in SwanLab.

Per split (``val``, ``test``), at the iteration the evaluation ran:

* ``<split>/gallery``: the same ``num_samples`` images every time (chosen once
  from a seeded index list), ground truth beside prediction, one image list; each caption gives the
  image's figures (:mod:`~swanlab_backend.insights.per_image`) and whether it is better, worse or the same
  than at the previous validation;
* ``<split>/changes``: those figures beside the previous validation's, a table, largest drops first;
* ``<split>/hardest``: the ``hardest_samples`` images the model gets most wrong over the whole set, worst
  first, drawn like the gallery, with their figures;
* ``<split>/per_class/...``: a table (text), a bar chart (image) and, for up to
  ``max_class_charts`` classes, one scalar chart per class;
* ``<split>/confusion_matrix`` (segmentation pixels, classification) and
  ``<split>/pr_curves/<bbox|segm>`` (detection) as pictures, plus ECharts copies
  for the cloud dashboard (``*_echarts``; SwanLab's local dashboard shows none);
* ``dataset/card``, ``dataset/instances_per_class``, ``dataset/gallery`` and ``model/card`` once, at step 0.

Everything is built from the outputs and the evaluation validation computed
anyway; under DDP each rank contributes its samples and counts to rank 0, the
sampler's padding left out (:mod:`~swanlab_backend.insights.positions`), so the
numbers equal the task's own metric. Drawing happens on the backend's writer
thread. A failure is one warning: training and validation go on.
"""
import logging
from functools import partial
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from mmengine.dist import all_gather_object, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from .. import media
from ..images import to_uint8_image
from ..mmengine.runner_follower import followers
from ..warn_once import WarnOnce
from . import changes, charts, coco_capture, model_card, per_class, per_image, tasks
from .dataset_card import card_text, summarize
from .positions import SamplePositions
from .worst import HardestSamples, merge

MAX_PR_CLASSES = 10  # lines per precision-recall picture besides "all classes"


@HOOKS.register_module(force=True)
class SwanlabInsightsHook(Hook):
    """Prediction gallery, per-class results, confusion matrix, PR curves, hardest samples, what changed, and
    dataset and model cards in SwanLab.

    On by default in this project's recipes; in any config with a ``SwanlabVisBackend``:

    Examples:
        >>> visualizer = dict(vis_backends=[dict(type='SwanlabVisBackend', insights=dict())])
        >>> # or, equivalently:
        >>> custom_hooks = [dict(type='SwanlabInsightsHook', num_samples=8)]

    Args:
        num_samples (int): Images in the gallery. Defaults to 8.
        score_thr (float): Detections drawn and counted from this score. Defaults to 0.3.
        max_class_charts (int): Classes that get a scalar chart each (all up to this
            many, else the most frequent in the ground truth). Defaults to 20.
        dataset_card (bool): Log the dataset card when training starts. Defaults to True.
        echarts (bool): Also log ECharts versions of the charts. Defaults to True.
        max_card_files (int): Label maps or image headers read per split for the card.
            Defaults to 500.
        seed (int): Seed of the gallery's choice. Defaults to 0.
        hardest_samples (int): Images the model gets most wrong shown per evaluation (0: none).
            Defaults to 8.
        model_card (bool): Log the model card (parameters, FLOPs) when training starts. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, num_samples: int = 8, score_thr: float = 0.3, max_class_charts: int = 20,
                 dataset_card: bool = True, echarts: bool = True, max_card_files: int = 500, seed: int = 0,
                 hardest_samples: int = 8, model_card: bool = True):
        for name, value in (('num_samples', num_samples), ('max_class_charts', max_class_charts),
                            ('max_card_files', max_card_files), ('seed', seed), ('hardest_samples', hardest_samples)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f'SwanlabInsightsHook: {name} must be a whole number >= 0, not {value!r}')
        if not isinstance(score_thr, (int, float)) or not 0 <= score_thr <= 1:
            raise ValueError(f'SwanlabInsightsHook: score_thr must be a number in [0, 1], not {score_thr!r}')
        self.num_samples, self.score_thr, self.max_class_charts = num_samples, float(score_thr), max_class_charts
        self.dataset_card, self.echarts, self.max_card_files, self.seed = dataset_card, echarts, max_card_files, seed
        self.hardest_samples, self.model_card = hardest_samples, model_card
        self._warned = WarnOnce()  # stages told about already
        self._visualizer_spec: Optional[tuple] = None
        self._visualizer: Any = None
        self._family: Optional[str] = None
        self._gallery: Dict[str, Dict[Any, int]] = {}  # split -> sample key -> dataset index
        self._items: List[tuple] = []
        self._confusion: Optional[per_class.ConfusionMatrix] = None
        self._coco: List[coco_capture.CocoPrecision] = []
        self._bgr_inputs = False
        self._ignore_index = 255  # the segmentation metric's, read at each evaluation
        self._gt_counts: Dict[str, np.ndarray] = {}
        self._positions: Optional[SamplePositions] = None
        self._hardest = HardestSamples(0)
        self._previous: Dict[str, Dict[int, dict]] = {}  # split -> gallery index -> figures at the last evaluation

    # ---- hook points ---------------------------------------------------------------------------------------

    def before_run(self, runner) -> None:
        visualizer = runner.visualizer
        options = {k: v for k, v in (getattr(runner, 'cfg', None) or {}).get('visualizer', {}).items()
                   if k not in ('type', 'name', 'vis_backends', 'save_dir')}
        self._visualizer_spec = (type(visualizer), options)
        preprocessor = getattr(getattr(runner.model, 'module', runner.model), 'data_preprocessor', None)
        self._bgr_inputs = bool(getattr(preprocessor, '_channel_conversion', False))

    def before_train(self, runner) -> None:
        if runner.iter == 0 and get_rank() == 0:
            if self.dataset_card:
                self._guarded('dataset card', self._send_card, runner)
            if self.model_card:
                self._guarded('model card', self._send_model_card, runner)

    def before_val_epoch(self, runner) -> None:
        self._begin(runner, 'val', runner.val_loop)

    def before_test_epoch(self, runner) -> None:
        self._begin(runner, 'test', runner.test_loop)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._guarded('collection', self._collect, 'val', data_batch, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._guarded('collection', self._collect, 'test', data_batch, outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._guarded('report', self._end, runner, 'val', runner.val_loop)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._guarded('report', self._end, runner, 'test', runner.test_loop)

    # ---- collection on every rank ----------------------------------------------------------------------------

    def _begin(self, runner, split: str, loop: Any) -> None:
        self._items, self._confusion, self._positions = [], None, None
        self._hardest = HardestSamples(self.hardest_samples)
        self._guarded('setup', self._prepare, split, loop)

    def _prepare(self, split: str, loop: Any) -> None:
        dataset = loop.dataloader.dataset
        if split not in self._gallery:
            self._gallery[split] = _gallery_keys(dataset, self.num_samples, self.seed)
        classes = dataset.metainfo.get('classes') or ()
        self._confusion = per_class.ConfusionMatrix(len(classes)) if classes else None  # detection leaves it empty
        self._coco = [c for c in map(coco_capture.attach, getattr(loop.evaluator, 'metrics', [])) if c]
        self._ignore_index = next((m.ignore_index for m in getattr(loop.evaluator, 'metrics', [])
                                   if hasattr(m, 'ignore_index')), 255)
        self._positions = SamplePositions(len(dataset))

    def _collect(self, split: str, data_batch: Any, outputs: Any) -> None:
        for in_batch, sample in enumerate(outputs or []):
            self._family = self._family or tasks.family_of(sample)
            if self._family is None or self._positions is None:
                return
            position = self._positions.next()
            if position is None:  # the sampler's padding: counted by no metric
                continue
            figures = self._figures(sample)
            index = _gallery_index(self._gallery.get(split, {}), sample)
            keep = partial(self._kept, sample, data_batch, in_batch, figures)
            if index is not None:
                self._items.append((index, *keep()))
            if figures is not None:
                self._hardest.offer(per_image.badness(self._family, figures), position, keep)

    def _figures(self, sample: Any) -> Optional[dict]:
        """The sample's per-image figures; adds it to the confusion matrix on the way."""
        pairs = tasks.confusion_pairs(self._family, sample, self._ignore_index)
        counts = self._confusion.add(*pairs) if pairs is not None and self._confusion is not None else None
        if self._family == tasks.DETECTION:
            return per_image.detection(sample, self.score_thr)
        if self._family == tasks.SEGMENTATION:
            return per_image.segmentation(counts) if counts is not None else None
        return per_image.classification(sample)

    def _kept(self, sample: Any, data_batch: Any, in_batch: int, figures: Optional[dict]) -> tuple:
        """What drawing the sample later needs: a slim CPU copy, its input image when it has no file, figures."""
        image = None
        if self._family == tasks.CLASSIFICATION or 'img_path' not in sample.metainfo:
            image = tasks.input_image(data_batch['inputs'][in_batch], self._bgr_inputs)
        return tasks.slim_sample(self._family, sample, self.score_thr), image, figures

    def _end(self, runner, split: str, loop: Any) -> None:
        # Every rank takes part in the gathering, also when its own collection failed.
        gathered = all_gather_object((self._items, None if self._confusion is None else self._confusion.counts,
                                      self._hardest.entries()))
        self._items, confusion, self._hardest = [], self._confusion, HardestSamples(0)
        if get_rank() != 0 or self._family is None:
            return
        items = {index: kept for part, _, _ in gathered for index, *kept in part}
        counts = sum(c for _, c, _ in gathered if c is not None) if confusion is not None else None
        hardest = merge([part for _, _, part in gathered], self.hardest_samples)
        coco = {c: c.take() for c in self._coco}
        dataset = loop.dataloader.dataset
        previous, self._previous[split] = self._previous.get(split, {}), {i: kept[2] for i, kept in items.items()}
        build = partial(self._guarded, 'report', self._report, split, dataset, items, counts, coco, hardest, previous)
        for backend in followers(runner):
            backend.log_report(split, build)

    # ---- what is logged (on the writer thread) ---------------------------------------------------------------

    def _report(self, split: str, dataset: Any, items: dict, counts: Optional[np.ndarray], coco: dict,
                hardest: list, previous: dict) -> dict:
        metainfo, data = dataset.metainfo, {}
        data.update(self._guarded('gallery', self._gallery_images, f'{split}/gallery', metainfo, items, True,
                                  previous))
        data.update(self._guarded('changes', self._changes, f'{split}/changes', items, previous))
        data.update(self._guarded('hardest samples', self._hardest_images, f'{split}/hardest', metainfo, hardest))
        if counts is not None and counts.sum():
            data.update(self._guarded('per-class results', self._matrix_results, split, metainfo, counts))
        for capture, arrays in coco.items():
            data.update(self._guarded('per-class results', self._coco_results, split, dataset, capture, arrays))
        return data

    def _matrix_results(self, split: str, metainfo: dict, counts: np.ndarray) -> dict:
        """Segmentation and classification: per-class results and the confusion matrix, from the counts."""
        classes = list(metainfo.get('classes') or [])
        if self._family == tasks.SEGMENTATION:
            results, metric, unit = per_class.segmentation_results(counts), 'IoU', 'pixels'
        else:
            results, metric, unit = per_class.classification_results(counts), 'recall', 'images'
        data = self._per_class(f'{split}/per_class', classes, results, metric, counts.sum(axis=1), f'GT {unit}', '%')
        data.update(self._confusion_pictures(f'{split}/confusion_matrix', classes, counts, unit))
        return data

    def _coco_results(self, split: str, dataset: Any, capture: Any, arrays: Dict[str, np.ndarray]) -> dict:
        """Detection: AP per class and precision-recall curves, per IoU type (bbox, segm)."""
        names = capture.class_names()
        if split not in self._gt_counts:
            self._gt_counts[split] = summarize(split, dataset, tasks.DETECTION, len(names), 0).counts
        data: Dict[str, Any] = {}
        for iou_type, precision in arrays.items():
            data.update(self._per_class(f'{split}/per_class/{iou_type}', names, per_class.detection_results(precision),
                                        'mAP', self._gt_counts[split], 'GT boxes', 'AP', 'AP'))
            data.update(self._pr_pictures(f'{split}/pr_curves/{iou_type}', names, precision))
        return data

    def _gallery_images(self, key: str, metainfo: dict, items: dict, draw_pred: bool,
                        previous: Optional[dict] = None) -> dict:
        images = []
        for index in sorted(items):
            sample, fallback, figures = items[index]
            words = changes.verdict(self._family, figures, (previous or {}).get(index)) if figures else None
            images.append(self._drawn(metainfo, index, sample, fallback, figures, draw_pred,
                                      f'{words} than at the previous validation' if words else None))
        return {key: images} if images else {}

    def _hardest_images(self, key: str, metainfo: dict, hardest: list) -> dict:
        images = [self._drawn(metainfo, sample.metainfo.get('sample_idx', position), sample, fallback, figures, True)
                  for _, position, (sample, fallback, figures) in hardest]
        return {key: images} if images else {}

    def _drawn(self, metainfo: dict, index: int, sample: Any, fallback: Any, figures: Optional[dict],
               draw_pred: bool, note: Optional[str] = None) -> dict:
        """One picture, ground truth beside prediction, captioned; with the per-image figures after ``|``."""
        classes = list(metainfo.get('classes') or [])
        image = tasks.source_image(sample, fallback)
        drawn = tasks.draw(self._own_visualizer(metainfo), self._family, image, sample, draw_pred, self.score_thr)
        text = tasks.caption(self._family, tasks.sample_name(sample, index), sample, classes, self.score_thr, draw_pred)
        if draw_pred and figures is not None:
            text += ' | ' + per_image.describe(self._family, figures, classes) + (f'; {note}' if note else '')
        return _image(drawn, text)

    def _changes(self, key: str, items: dict, previous: dict) -> dict:
        rows = [(tasks.sample_name(items[i][0], i), items[i][2], previous.get(i)) for i in sorted(items)
                if items[i][2] is not None]
        if not rows:
            return {}
        return {key: media.text(changes.table(self._family, rows),
                                caption="the gallery's images now and at the previous validation, largest drops first")}

    def _per_class(self, key: str, classes: List[str], results: Dict[str, np.ndarray], scalar_metric: str,
                   gt: np.ndarray, gt_label: str, unit: str, scalar_prefix: Optional[str] = None) -> dict:
        data = {f'{key}/table': media.text(per_class.text_table(classes, results, gt, gt_label),
                                             caption=f'{", ".join(results)} per class ({unit})'),
                f'{key}/chart': _image(charts.bar_chart(f'{key}: {", ".join(results)}', classes, results, unit))}
        if self.echarts:
            data[f'{key}/chart_echarts'] = charts.echarts_bar(classes, results)
        values = results[scalar_metric]
        for k in per_class.charted_classes(gt, self.max_class_charts):
            if np.isfinite(values[k]):
                data[f'{key}/{scalar_prefix or scalar_metric}/{_key_part(classes[k])}'] = float(values[k])
        return data

    def _confusion_pictures(self, key: str, classes: List[str], counts: np.ndarray, unit: str) -> dict:
        shown = charts.heat_map_classes(counts)
        data = {key: _image(charts.heat_map(f'confusion matrix ({unit})', classes, counts)),
                f'{key}_table': media.text(per_class.matrix_table(classes, counts, shown),
                                             caption=f'confusion matrix ({unit}), rows: ground truth')}
        if self.echarts:
            data[f'{key}_echarts'] = charts.echarts_heat_map(classes, counts)
        return data

    def _pr_pictures(self, key: str, classes: List[str], precision: np.ndarray) -> dict:
        recall = np.linspace(0, 1, precision.shape[1])  # COCO's 101 recall thresholds
        curves = per_class.pr_curves(precision, classes, min(self.max_class_charts, MAX_PR_CLASSES))
        data = {key: [_image(charts.pr_curves(f'{key} ({iou})', recall, lines), iou)
                      for iou, lines in curves.items()]}
        if self.echarts:
            data[f'{key}_echarts'] = charts.echarts_lines(recall, curves['IoU=0.50:0.95'])
        return data

    # ---- the dataset card ------------------------------------------------------------------------------------

    def _send_card(self, runner) -> None:
        splits = [(name, loop.dataloader.dataset) for name, loop in
                  (('train', runner.train_loop), ('val', getattr(runner, '_val_loop', None)))
                  if loop is not None and hasattr(loop, 'dataloader')]
        val = dict(splits).get('val')
        if val is not None and 'val' not in self._gallery:
            self._gallery['val'] = _gallery_keys(val, self.num_samples, self.seed)
        for backend in followers(runner):
            backend.log_report('dataset', partial(self._guarded, 'dataset card', self._card, splits))

    def _card(self, splits: list) -> dict:
        datasets = dict(splits)
        reference = datasets.get('val') or datasets['train']
        metainfo = reference.metainfo
        classes = list(metainfo.get('classes') or [])
        indices = sorted(set(self._gallery.get('val', {}).values()))
        items = {}
        for index in indices:
            packed = reference[index]
            sample = packed['data_samples']
            self._family = self._family or tasks.family_of(sample)
            items[index] = (tasks.slim_sample(self._family, sample, self.score_thr),
                            tasks.input_image(packed['inputs'], self._bgr_inputs), None)
        if self._family is None:
            return {}
        summaries = [summarize(name, dataset, self._family, len(classes), self.max_card_files)
                     for name, dataset in splits]
        self._gt_counts = {s.name: s.counts for s in summaries}
        names = [tasks.sample_name(items[i][0], i) for i in indices]
        card = card_text(summaries, classes, self._family, names)
        data = {'dataset/card': media.text(card, caption='dataset card'),
                'dataset/instances_per_class': _image(charts.bar_chart(
                    'ground truth per class', classes, {s.name: s.counts for s in summaries}, 'count'))}
        data.update(self._gallery_images('dataset/gallery', metainfo, items, draw_pred=False))
        return data

    def _send_model_card(self, runner) -> None:
        """Counted here, on the training thread, once: the FLOP count runs the model (a trace)."""
        loop = getattr(runner, '_val_loop', None)
        text, error = model_card.measure(runner.model, getattr(getattr(loop, 'dataloader', None), 'dataset', None))
        if error is not None:
            self._warned('FLOP count', print_log, 'SwanLab insights: the model card has no FLOPs '
                         f'({type(error).__name__}: {error}); the rest of it is logged (shown once)',
                         logger='current', level=logging.WARNING)
        card = {'model/card': media.text(text, caption='model card')}
        for backend in followers(runner):
            backend.log_report('dataset', lambda: card)

    # ---- helpers ---------------------------------------------------------------------------------------------

    def _own_visualizer(self, metainfo: dict) -> Any:
        if self._visualizer is None:
            cls, options = self._visualizer_spec
            try:  # the config's colours and line widths; a direct construction is not registered as "current"
                self._visualizer = cls(name='swanlab_insights', **options)
            except TypeError:
                self._visualizer = cls(name='swanlab_insights')
        self._visualizer.dataset_meta = metainfo
        return self._visualizer

    def _guarded(self, stage: str, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:  # insights must never take training or validation down
            self._warned(stage, print_log,
                         f'SwanLab insights: the {stage} failed and is skipped ({type(e).__name__}: {e}); '
                         'training and validation go on (shown once)', logger='current', level=logging.WARNING)
            return {}


def _gallery_keys(dataset: Any, num_samples: int, seed: int) -> Dict[Any, int]:
    """The gallery's dataset indices (a seeded choice, the same every time), by image path and by index."""
    count = min(num_samples, len(dataset))
    indices = sorted(np.random.default_rng(seed).choice(len(dataset), count, replace=False).tolist())
    keys: Dict[Any, int] = {}
    for index in indices:
        info = dataset.get_data_info(index)
        keys[('sample_idx', index)] = index
        if info.get('img_path'):
            keys[('img_path', info['img_path'])] = index
    return keys


def _gallery_index(keys: Dict[Any, int], sample: Any) -> Optional[int]:
    meta = sample.metainfo
    if meta.get('img_path'):  # mmdet and mmseg do not pack sample_idx
        return keys.get(('img_path', meta['img_path']))
    return keys.get(('sample_idx', meta.get('sample_idx')))


def _key_part(name: str) -> str:
    return str(name).replace('/', '_').strip() or '_'


def _image(array: np.ndarray, caption: Optional[str] = None) -> dict:
    """A picture for the writer process to encode (PNG encoding costs this process nothing)."""
    return media.image(to_uint8_image(array), caption)
