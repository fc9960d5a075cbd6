"""A long training of a cheap step, in its own process (started by ``run_bench.py``).

    python -m bench.long_child SETUP --work-dir W --iters 20000 --result OUT.json

A real MMEngine ``Runner`` trains a one-layer model for ``iters`` iterations,
logging every one (``LoggerHook(interval=1)``), with the setup's ``vis_backends``.
The step itself costs almost nothing, so ``(loop time - loop time of (a)) / iters``
is what tracking costs per iteration, apart from its fixed start and finish.
"""
import argparse
import os
import sys
import time

import torch
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from bench.train_child import LoopTimer, finish_trackers


class CheapModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, inputs, targets, mode='loss'):
        return dict(loss=((self.linear(inputs) - targets) ** 2).mean())


class RandomPairs(Dataset):
    def __init__(self, size=256):
        generator = torch.Generator().manual_seed(0)
        self.inputs, self.targets = torch.randn(size, 4, generator=generator), torch.randn(size, 1, generator=generator)

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return dict(inputs=self.inputs[index], targets=self.targets[index])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('setup')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--iters', type=int, default=20000)
    parser.add_argument('--result', required=True)
    args = parser.parse_args(argv)
    from mmengine.runner import Runner

    from bench.setups import BY_KEY, vis_backends, write_result
    started = time.perf_counter()
    runner = Runner(
        model=CheapModel(), work_dir=args.work_dir,
        train_dataloader=dict(dataset=RandomPairs(), sampler=dict(type='InfiniteSampler', shuffle=True),
                              batch_size=8, num_workers=0, collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=args.iters), optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook',
                                                                                          interval=10 ** 9)),
        visualizer=dict(type='Visualizer', vis_backends=vis_backends(BY_KEY[args.setup],
                                                                     os.environ['SWANLAB_LOG_DIR'])),
        log_level='WARNING')
    loop = LoopTimer()
    runner.register_hook(loop, priority='VERY_LOW')
    runner.train()
    finish_trackers(runner)
    return write_result(args.result, dict(train_s=time.perf_counter() - started, loop_s=loop.ended - loop.started,
                                          iters=runner.iter, loop_thread_cpu_s=loop.cpu_s))


if __name__ == '__main__':
    sys.exit(main())
