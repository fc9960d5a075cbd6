"""Per-call costs of one setup's backends, in its own process (started by ``run_bench.py``).

    python -m bench.micro_child SETUP --work-dir W --steps 2000 --images 10 --result OUT.json

Builds the setup's backends and, as MMEngine's ``Visualizer`` does, calls each in
turn: ``steps`` ``add_scalars`` calls of 12 keys, then ``images`` ``add_image``
calls with a 1333x800 RGB uint8 image, then ``prints`` ``print`` calls of one of
MMEngine's log lines (stdout is the run's log file: a tracker that records the console
wraps it), then ``close()``. Every call is timed on this, the calling, thread: for a
backend that logs on a background thread (ours), that is what the training loop pays,
not the whole cost of logging.
"""
import argparse
import os
import sys
import time

# What a detector's LoggerHook hands the backends at every iteration, and then some.
SCALAR_KEYS = ('loss', 'loss_cls', 'loss_bbox', 'loss_mask', 'acc', 'lr', 'grad_norm', 'time', 'data_time',
               'memory', 'epoch', 'iter')
IMAGE_SHAPE = (800, 1333, 3)
LOG_LINE = ('12/01 12:00:00 - mmengine - INFO - Epoch(train)  [1][ 100/1000]  base_lr: 2.0000e-02 lr: 2.0000e-02  '
            'eta: 0:10:00  time: 0.5000  data_time: 0.0100  memory: 1024  loss: 0.5000  loss_rpn_cls: 0.1000')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('setup')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--images', type=int, default=10)
    parser.add_argument('--prints', type=int, default=2000)
    parser.add_argument('--result', required=True, help='JSON file the measurements are written to')
    return parser.parse_args(argv)


def scalar_dicts(steps: int) -> list:
    """Built before timing starts: the loop should time the backends, not dict building."""
    return [{key: 1.0 / (step + 1) + index for index, key in enumerate(SCALAR_KEYS)} for step in range(steps)]


def photo_like_image():
    """A colour gradient with mild noise: compresses about as badly as a photo does."""
    import numpy as np
    height, width, _ = IMAGE_SHAPE
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 215, width)[None, :, None] + np.linspace(0, 40, height)[:, None, None]
    image = ramp + np.array([0, 30, -30]) + rng.normal(0, 8, IMAGE_SHAPE)
    return np.clip(image, 0, 255).astype(np.uint8)


def timed_ns(fn, *args, **kwargs) -> int:
    started = time.perf_counter_ns()
    fn(*args, **kwargs)
    return time.perf_counter_ns() - started


def timed_calls(backends: list, method: str, calls: list) -> list:
    """Per backend, the nanoseconds of each call; each call goes to every backend in turn, as in the Visualizer."""
    times = [[] for _ in backends]
    for args, kwargs in calls:
        for backend, backend_times in zip(backends, times):
            backend_times.append(timed_ns(getattr(backend, method), *args, **kwargs))
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    import mmengine.visualization  # noqa: F401  (registers MMEngine's own backends)
    from mmengine.registry import VISBACKENDS

    from bench.setups import BY_KEY, vis_backends, write_result
    setup = BY_KEY[args.setup]
    save_dir = os.path.join(args.work_dir, 'vis_data')
    backends = [VISBACKENDS.build(dict(cfg, save_dir=save_dir))
                for cfg in vis_backends(setup, os.path.join(args.work_dir, 'swanlog'))]
    names = [type(b).__module__.split('.')[0] + '.' + type(b).__name__ for b in backends]
    init_s = [timed_ns(lambda b=b: b.experiment) / 1e9 for b in backends]  # starts runs, opens files

    scalars_ns = timed_calls(backends, 'add_scalars',
                             [((scalars,), dict(step=step)) for step, scalars in enumerate(scalar_dicts(args.steps))])
    image = photo_like_image()
    image_ns = timed_calls(backends, 'add_image', [(('val_image', image), dict(step=step))
                                                   for step in range(args.images)])

    print_ns = [timed_ns(print, LOG_LINE) for _ in range(args.prints)]

    close_s = [timed_ns(backend.close) / 1e9 for backend in backends]
    swanlab_finish_s = None
    if setup.tracker == 'swanlab':  # its close() does nothing; swanlab.finish() does the work
        import swanlab
        swanlab_finish_s = timed_ns(swanlab.finish) / 1e9

    return write_result(args.result, dict(backends=names, init_s=init_s, scalars_ns=scalars_ns,
                                          image_ns=image_ns, print_ns=print_ns, close_s=close_s,
                                          swanlab_finish_s=swanlab_finish_s))


if __name__ == '__main__':
    sys.exit(main())
