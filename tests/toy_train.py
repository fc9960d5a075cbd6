"""A real MMEngine training run on a toy model, in its own process, for the backend tests.

    python tests/toy_train.py --work-dir W --log-dir L --name NAME [--loop iter] [--crash-at 3]

Each test runs it as a subprocess, as a user would run a training: so SwanLab's
process-level hooks (exit, excepthook, SIGINT) behave as they do for real.
"""
import argparse
import os
import signal
import sys
import time
import warnings

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from torch.utils.data import Dataset

# Images with known colours: red, green and blue thirds, so that a test can check the PNG.
STRIPES = np.zeros((60, 90, 3), dtype=np.uint8)
STRIPES[:, :30, 0] = 255
STRIPES[:, 30:60, 1] = 255
STRIPES[:, 60:, 2] = 255


@DATASETS.register_module(force=True)
class ToyData(Dataset):
    def __init__(self, size=16):
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(size, 4, generator=generator)
        self.y = (self.x.sum(1) > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], labels=self.y[i])


@MODELS.register_module(force=True)
class ToyClassifier(BaseModel):
    """Two-class logistic regression; ``crash_at`` raises at that training iteration (on ``crash_rank``);
    ``markers_at``: prints, logs and warns a marker at that one, and draws a progress bar."""

    def __init__(self, crash_at=0, crash_rank=0, nan_at=0, hang_at=0, iter_seconds=0.0, markers_at=0):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)
        if int(os.environ.get('RANK', 0)) != crash_rank:
            crash_at = 0
        self.crash_at, self.nan_at, self.hang_at, self.markers_at = crash_at, nan_at, hang_at, markers_at
        self.iter_seconds = iter_seconds  # a training that lasts, for faults that happen mid-run
        self.calls = 0

    def forward(self, inputs, labels, mode='tensor'):
        logits = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        labels = torch.stack(labels) if isinstance(labels, list) else labels
        if mode == 'loss':
            self.calls += 1
            if self.calls == self.crash_at:
                raise RuntimeError(f'toy failure at iteration {self.calls}')
            if self.calls == self.markers_at:
                print(f'TOY_PRINT_MARKER rank {os.environ.get("RANK", 0)}', flush=True)
                MMLogger.get_current_instance().info('TOY_LOGGER_MARKER')
                warnings.warn('TOY_WARNING_MARKER')
                print('TOY_PROGRESS 1/3\rTOY_PROGRESS 2/3\rTOY_PROGRESS 3/3')  # print: a closed console takes it
                print('TOY_LONG_LINE ' + 'x' * 2000)
            time.sleep(self.iter_seconds)
            if self.calls == self.hang_at:
                print('TOY_HANGING', flush=True)
                signal.pause()
            loss = torch.nn.functional.cross_entropy(logits, labels)
            # A NaN in a logged-only term: the logged total is NaN once, the weights stay finite.
            aux = float('nan') if self.calls == self.nan_at else 0.5
            return dict(loss=loss, loss_aux=loss.detach() * 0 + aux)
        return list(zip(logits.argmax(1), labels))


@METRICS.register_module(force=True)
class ToyAccuracy(BaseMetric):
    def process(self, data_batch, data_samples):
        self.results.extend(int(p == t) for p, t in data_samples)

    def compute_metrics(self, results):
        return dict(accuracy=100.0 * sum(results) / len(results))


@HOOKS.register_module(force=True)
class StripesImageHook(Hook):
    """Logs the stripes image after each validation, and one per test batch at the batch index as step,
    as the task visualization hooks do; with ``train_image_size`` (width, height), a photo-sized image
    after every training iteration too."""

    def __init__(self, train_image_size=None):
        self.train_image = None
        if train_image_size:
            width, height = train_image_size
            self.train_image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.train_image is not None:
            runner.visualizer.add_image('train_photo', self.train_image, step=runner.iter + 1)

    def after_val_epoch(self, runner, metrics=None):
        runner.visualizer.add_image('stripes', STRIPES, step=runner.iter)

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        runner.visualizer.add_image('test_stripes', STRIPES[:, batch_idx:], step=batch_idx)


def build_config(args):
    loader = dict(dataset=dict(type='ToyData'), batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='default_collate'))
    if args.loop == 'epoch':
        train_cfg = dict(by_epoch=True, max_epochs=args.length, val_interval=1)
    else:
        train_cfg = dict(by_epoch=False, max_iters=args.length, val_interval=args.val_interval)
    backend = dict(type=args.backend_type, init_kwargs=dict(
        project=args.project, experiment_name=args.name, log_dir=args.log_dir, mode=args.mode,
        tags=['toy']), upload_timeout=args.upload_timeout, **eval(args.backend_options))
    backend['init_kwargs'].update(eval(args.extra_init_kwargs))
    return dict(
        model=dict(type='ToyClassifier', crash_at=args.crash_at, crash_rank=args.crash_rank, nan_at=args.nan_at,
                   hang_at=args.hang_at, iter_seconds=args.iter_seconds, markers_at=args.markers_at),
        launcher=args.launcher,
        work_dir=args.work_dir,
        # An iteration-based loop restarts a finite sampler every 4 iterations, and MMEngine sleeps 2 s each time.
        train_dataloader=loader if args.loop == 'epoch' else dict(loader, sampler=dict(type='InfiniteSampler')),
        val_dataloader=loader, test_dataloader=loader,
        train_cfg=train_cfg, val_cfg=dict(), test_cfg=dict(),
        val_evaluator=dict(type='ToyAccuracy'), test_evaluator=dict(type='ToyAccuracy'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=args.checkpoint_interval,
                                           by_epoch=args.loop == 'epoch', **eval(args.checkpoint_options))),
        custom_hooks=[dict(type='StripesImageHook', train_image_size=eval(args.train_image_size))]
        + ([dict(type='SwanlabHook')] if args.hook_in_config else []),
        log_processor=dict(by_epoch=args.loop == 'epoch'),
        custom_imports=dict(imports=args.imports.split(','), allow_failed_imports=False),
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'), backend]),
        resume=args.resume,
        secret_token=args.secret_token,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--log-dir', required=True)
    parser.add_argument('--name', required=True)
    parser.add_argument('--project', default='swanlab-openmmlab-tests')
    parser.add_argument('--mode', default='local')
    parser.add_argument('--loop', choices=['epoch', 'iter'], default='epoch')
    parser.add_argument('--length', type=int, default=2, help='epochs, or iterations')
    parser.add_argument('--val-interval', type=int, default=4)
    parser.add_argument('--checkpoint-interval', type=int, default=1)
    parser.add_argument('--crash-at', type=int, default=0)
    parser.add_argument('--crash-rank', type=int, default=0)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--nan-at', type=int, default=0)
    parser.add_argument('--markers-at', type=int, default=0)
    parser.add_argument('--hang-at', type=int, default=0)
    parser.add_argument('--iter-seconds', type=float, default=0.0)
    parser.add_argument('--upload-timeout', type=float, default=60.0)
    parser.add_argument('--resume', action='store_true')
    parser.add_argument('--no-test', action='store_true')
    parser.add_argument('--test-only', metavar='CHECKPOINT',
                        help="as tools/test.py does: load the checkpoint and run runner.test() alone")
    parser.add_argument('--script', action='store_true',
                        help='pass a Visualizer instance to Runner(...) instead of building from a config')
    parser.add_argument('--hook-in-config', action='store_true',
                        help="list SwanlabHook in custom_hooks (MMEngine's way) instead of the backend adding it")
    parser.add_argument('--imports', default='swanlab_backend,swanlab_backend.stack_fixes')
    parser.add_argument('--backend-type', default='SwanlabVisBackend')
    parser.add_argument('--extra-init-kwargs', default='{}')
    parser.add_argument('--backend-options', default='{}', help='more SwanlabVisBackend arguments, a dict')
    parser.add_argument('--checkpoint-options', default='{}', help='more CheckpointHook arguments, a dict')
    parser.add_argument('--secret-token', default='')
    parser.add_argument('--train-image-size', default='None', help='(width, height): an image every iteration')
    args = parser.parse_args()

    cfg = build_config(args)
    if args.test_only:
        cfg['load_from'] = args.test_only
    if args.script:
        import swanlab_backend  # noqa: F401  (what custom_imports does for a config)
        visualizer = Visualizer(name='toy', vis_backends=cfg.pop('visualizer')['vis_backends'],
                                save_dir=os.path.join(args.work_dir, 'vis_data'))
        for not_a_runner_argument in ('custom_imports', 'secret_token'):
            cfg.pop(not_a_runner_argument)
        runner = Runner(visualizer=visualizer, **cfg)
    else:  # as tools/train.py does: a config file, whose custom_imports load the backend
        from mmengine.config import Config
        os.makedirs(args.work_dir, exist_ok=True)
        path = os.path.join(args.work_dir, 'toy_config.py')
        Config(cfg).dump(path)
        runner = Runner.from_cfg(Config.fromfile(path))
    if not args.test_only:
        runner.train()
    if not args.no_test:
        runner.test()
    print('TOY_DONE', flush=True)


if __name__ == '__main__':
    sys.exit(main())
