"""One training run of the benchmark, in its own process (started by ``run_bench.py``).

    python -m bench.train_child SETUP --recipe R --data-root D --work-dir W --length N --result OUT.json

Trains the recipe on its tiny dataset through the smoke override (logging every
iteration, drawing validation images), with the setup's ``vis_backends``; then
closes the trackers as the end of a job would. SwanLab writes under
``$SWANLAB_LOG_DIR``, which the parent points into the run's temporary dir.
"""
import argparse
import os
import sys
import threading
import time

from mmengine.hooks import Hook


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('setup')
    parser.add_argument('--recipe', required=True)
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--length', type=int, required=True,
                        help='smoke length: epochs, or validation rounds of 3 iterations')
    parser.add_argument('--result', required=True, help='JSON file the measurements are written to')
    return parser.parse_args(argv)


def thread_cpu_s() -> dict:
    """CPU seconds used so far by each live thread, by name (threads Python did not start: ``native-<id>``)."""
    import psutil
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    return {names.get(t.id, f'native-{t.id}'): t.user_time + t.system_time for t in psutil.Process().threads()}


class LoopTimer(Hook):
    """Brackets the training loop (iterations, validations, checkpoints), so that the fixed costs of a
    tracker (its start when the runner is built, its finish) can be told from its cost per iteration,
    and records the CPU each thread used meanwhile: a tracker's background threads compete with training."""

    def before_train(self, runner) -> None:
        self.cpu_before = thread_cpu_s()
        self.started = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.last_iter_wall = time.time()  # wall clock: the parent compares it with the moment the process exited

    def after_train(self, runner) -> None:
        self.ended = time.perf_counter()
        cpu_after = thread_cpu_s()
        self.cpu_s = {name: cpu - self.cpu_before.get(name, 0.0) for name, cpu in cpu_after.items()}


def finish_trackers(runner) -> None:
    """What the end of a job does: our backend only finishes its run on a second close()
    (the first, at the end of train(), keeps it open for test()); SwanLab's own backend
    never finishes it (swanlab's atexit hook would), so it is finished here, timed."""
    runner.visualizer.close()
    if 'swanlab' in sys.modules:
        import swanlab
        if swanlab.has_run():
            swanlab.finish()


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.runner import Runner

    import ci.tiny_datasets  # noqa: F401  (registers TinyCIFAR10)
    from bench.setups import BY_KEY, vis_backends, write_result
    from ci.smoke_overrides import apply_smoke_overrides

    cfg = Config.fromfile(args.recipe)
    apply_smoke_overrides(cfg, args.data_root, length=args.length, label='bench')
    cfg.visualizer.vis_backends = vis_backends(BY_KEY[args.setup], os.environ['SWANLAB_LOG_DIR'])
    cfg.work_dir = args.work_dir
    started = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    built = time.perf_counter()
    loop = LoopTimer()
    runner.register_hook(loop, priority='VERY_LOW')
    runner.train()
    trained = time.perf_counter()
    finish_trackers(runner)
    finished = time.perf_counter()
    return write_result(args.result, dict(train_s=finished - started, build_s=built - started,
                                          loop_s=loop.ended - loop.started, finish_s=finished - trained,
                                          loop_thread_cpu_s=loop.cpu_s, iters=runner.iter,
                                          last_iter_wall=loop.last_iter_wall))


if __name__ == '__main__':
    sys.exit(main())
