"""Direct calls into a SwanlabVisBackend (no Runner), one scenario per process, for the fault tests.

    python tests/backend_scenarios.py SCENARIO --log-dir L --name NAME

Scenarios: odd-scalars (tensors, arrays, strings, None; keys SwanLab rejects),
odd-config (types, functions, lambdas, lazy objects, numpy values, huge lists),
images (gray, float, CHW tensor, RGBA, 8000x8000), many-steps (2000 steps of 12
scalars and 10 images, then the time close() takes).
"""
import argparse
import functools
import time

import numpy as np
import torch
from mmengine.config import Config

from swanlab_backend import SwanlabVisBackend

ODD_KEYS = {'a:b': 1.0, 'x*y': 2.0, 'why?': 3.0, '<tag>': 4.0, 'p|q': 5.0, 'k' * 300: 6.0, '': 7.0}


def odd_scalars(backend):
    values = {'tensor': torch.tensor(2.5), 'array': np.array([3.5]), 'np_float': np.float32(4.5),
              'flag': True, 'string': 'hello', 'none': None, 'vector': torch.ones(3)}
    for step in (1, 2):
        backend.add_scalars(values, step=step)
        backend.add_scalars(ODD_KEYS, step=step)


def odd_config(backend):
    config = Config(dict(
        model=dict(type='ToyClassifier', depth=50),
        a_type=torch.nn.Conv2d,
        a_function=np.mean,
        a_lambda=lambda x: x,
        a_partial=functools.partial(max, 1),
        numpy_value=np.float64(0.5),
        numpy_array=np.zeros((3, 4)),
        tuple_value=(1, 2),
        huge_list=list(range(100000)),
        long_text='x' * 5000,
        nested=dict(wandb_api_key='wk-123456', inner=[dict(k=1), dict(k=2)]),
    ))
    backend.add_config(config)
    backend.add_scalars({'loss': 1.0}, step=1)


def images(backend):
    gradient = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (48, 1))
    backend.add_image('gray', (gradient * 255).astype(np.uint8), step=1)
    backend.add_image('float01', np.stack([gradient, np.zeros_like(gradient), 1 - gradient], -1), step=1)
    chw = torch.zeros(3, 48, 64, dtype=torch.uint8)
    chw[1] = 200  # green
    backend.add_image('chw_tensor', chw, step=1)
    rgba = np.zeros((48, 64, 4), dtype=np.uint8)
    rgba[..., 2], rgba[..., 3] = 255, 128
    backend.add_image('rgba', rgba, step=1)
    huge = np.zeros((8000, 8000, 3), dtype=np.uint8)
    huge[:, :4000, 0] = 255
    backend.add_image('huge', huge, step=1)
    backend.add_image('not_an_image', np.zeros(7), step=1)


def many_steps(backend):
    keys = [f'metric_{i}' for i in range(12)]
    image = np.random.default_rng(0).integers(0, 255, (800, 1333, 3), dtype=np.uint8)
    for step in range(1, 2001):
        backend.add_scalars({k: step * 0.001 + i for i, k in enumerate(keys)}, step=step)
        if step % 200 == 0:
            backend.add_image('snapshot', image, step=step)


SCENARIOS = {'odd-scalars': odd_scalars, 'odd-config': odd_config, 'images': images,
             'many-steps': many_steps}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('scenario', choices=SCENARIOS)
    parser.add_argument('--log-dir', required=True)
    parser.add_argument('--name', required=True)
    args = parser.parse_args()
    backend = SwanlabVisBackend(save_dir=args.log_dir, init_kwargs=dict(
        project='swanlab-openmmlab-tests', experiment_name=args.name, log_dir=args.log_dir, mode='local'))
    SCENARIOS[args.scenario](backend)
    started = time.monotonic()
    backend.close()
    print(f'CLOSE_SECONDS {time.monotonic() - started:.2f}', flush=True)


if __name__ == '__main__':
    main()
