"""``ci.smoke_train`` with a recorder: trains, validates and tests one recipe on a tiny dataset, and pickles
what the insights tests recompute their figures from (``--record``): every evaluation's raw outputs (ground
truth and predictions, per sample, in validation order), its metrics as the evaluator returned them, and
the built model's parameter count.

    python tests/insights_train.py CONFIG --data-root DIR --work-dir DIR --record FILE [--classwise-metric]
        [ci.smoke_train's options]

Under DDP only rank 0 records (its own samples); the metrics are the whole set's.
"""
import argparse
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmengine.hooks import Hook  # noqa: E402

import swanlab_backend.stack_fixes  # noqa: E402,F401  (as ci.smoke_train)
from ci.smoke_train import parse_args, smoke_config  # noqa: E402


class Recorder(Hook):
    priority = 'VERY_LOW'

    def __init__(self, path: str):
        self.path, self.record, self.outputs = path, dict(params=None, evaluations=[]), []

    def before_train(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        self.record['params'] = sum(p.numel() for p in model.parameters())

    def before_val_epoch(self, runner) -> None:
        self.outputs = []

    before_test_epoch = before_val_epoch

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.outputs += [_raw(sample) for sample in outputs]

    after_test_iter = after_val_iter

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._save('val', runner, metrics)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._save('test', runner, metrics)

    def _save(self, split, runner, metrics) -> None:
        from mmengine.dist import get_rank
        self.record['evaluations'].append(dict(split=split, iter=runner.iter, metrics=metrics, outputs=self.outputs))
        if get_rank() == 0:
            with open(self.path, 'wb') as f:
                pickle.dump(self.record, f)


def _raw(sample) -> dict:
    def array(value):
        value = getattr(value, 'tensor', value)
        return value.detach().cpu().numpy()
    raw = dict(img_path=sample.metainfo.get('img_path'), sample_idx=sample.metainfo.get('sample_idx'))
    if 'gt_instances' in sample:
        raw.update(gt_bboxes=array(sample.gt_instances.bboxes), gt_labels=array(sample.gt_instances.labels),
                   bboxes=array(sample.pred_instances.bboxes), scores=array(sample.pred_instances.scores),
                   labels=array(sample.pred_instances.labels))
    elif 'gt_sem_seg' in sample:
        raw.update(gt=array(sample.gt_sem_seg.data)[0], pred=array(sample.pred_sem_seg.data)[0])
    else:
        raw.update(gt_label=int(sample.gt_label[0]), pred_score=array(sample.pred_score))
    return raw


def main() -> int:
    own = argparse.ArgumentParser()
    own.add_argument('--record', required=True)
    own.add_argument('--classwise-metric', action='store_true',
                     help="classification: also mmpretrain's SingleLabelMetric(average=None), per class")
    known, rest = own.parse_known_args()
    args = parse_args(rest)
    from mmengine.runner import Runner

    cfg = smoke_config(args)
    if known.classwise_metric:
        cfg.val_evaluator = [cfg.val_evaluator, dict(type='SingleLabelMetric', average=None)]
    runner = Runner.from_cfg(cfg)
    runner.register_hook(Recorder(known.record))
    runner.train()
    if not args.no_test:
        runner.test()
    return 0


if __name__ == '__main__':
    sys.exit(main())
