"""What the insights (gallery, per-class results, confusion matrix, PR curves, hardest samples, what changed)
add to a validation.

    python -m bench.insights_cost [--repeats N] [--val-scale K]    # ~5 min on 2 cores

``--val-scale K`` (default 24) makes the ADE20K and CIFAR-10 validation sets K
times their tiny default size (2 and 20 images), so that their validations last
long enough to be timed; COCO's keeps its 4 images (one Faster R-CNN validation
already takes seconds).

For one recipe per task family, on its tiny generated dataset through the smoke
override (``ci/smoke_overrides.py``), one runner validates ``2 * N + 1`` times,
the ``SwanlabInsightsHook`` taken out of its hooks and put back in turn (the
first validation, a warm-up, is not counted). Reported per recipe: the
validation's median wall time without and with the hook, their ratio (the
median of the per-pair ratios; target <= 1.05), and the median time the
backend's writer thread then needed to draw and log the insights (off the
training thread; measured by waiting for it after each validation, outside
the timed part).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RECIPES = {
    'faster-rcnn_r50_fpn_1x_coco': ('mmdet', 'coco'),
    'segformer_mit-b0_8xb2-160k_ade20k-512x512': ('mmseg', 'ade20k'),
    'resnet18_8xb16_cifar10': ('mmpretrain', 'cifar10'),
}


def build_runner(name: str, data_root: str, work_dir: str):
    from mmengine.config import Config
    from mmengine.runner import Runner

    import ci.tiny_datasets  # noqa: F401  (TinyCIFAR10)
    from ci.smoke_overrides import apply_smoke_overrides
    family, _ = RECIPES[name]
    cfg = Config.fromfile(os.path.join(ROOT, 'recipes', family, f'{name}.py'))
    apply_smoke_overrides(cfg, data_root, label='bench')
    cfg.work_dir = work_dir
    return Runner.from_cfg(cfg)


def measure(runner, repeats: int) -> dict:
    from swanlab_backend import SwanlabInsightsHook, SwanlabVisBackend
    hook = next(h for h in runner._hooks if isinstance(h, SwanlabInsightsHook))
    backends = [b for b in runner.visualizer._vis_backends.values() if isinstance(b, SwanlabVisBackend)]
    runner.call_hook('before_run')
    loop = runner.val_loop

    def validate(with_insights: bool) -> tuple:
        if hook in runner._hooks and not with_insights:
            runner._hooks.remove(hook)
        elif hook not in runner._hooks and with_insights:
            runner._hooks.insert(0, hook)
        started = time.perf_counter()
        loop.run()
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for backend in backends:
            backend._session.background.flush()  # the drawing left on the background thread
        return seconds, time.perf_counter() - started

    validate(True)  # warm-up: first images read, first figure drawn, the run started
    plain, insights, ratios, background = [], [], [], []
    for round_ in range(repeats):
        order = (False, True) if round_ % 2 == 0 else (True, False)
        times = {on: validate(on) for on in order}
        plain.append(times[False][0])
        insights.append(times[True][0])
        ratios.append(times[True][0] / times[False][0])
        background.append(times[True][1])
    runner.call_hook('after_run')
    return dict(plain=statistics.median(plain), insights=statistics.median(insights),
                ratio=statistics.median(ratios), background=statistics.median(background))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5, help='pairs of validations per recipe')
    parser.add_argument('--val-scale', type=int, default=24,
                        help='ADE20K and CIFAR-10 validation sets this many times their default size')
    args = parser.parse_args()
    from ci.tiny_datasets import make_ade20k, make_cifar10, make_coco
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        datasets = os.path.join(tmp, 'data')
        make_coco(os.path.join(datasets, 'coco'))
        make_ade20k(os.path.join(datasets, 'ade20k'), num_val=2 * args.val_scale)
        make_cifar10(os.path.join(datasets, 'cifar10'), per_class_test=2 * args.val_scale)
        os.environ.update(SWANLAB_MODE='local', SWANLAB_LOG_DIR=os.path.join(tmp, 'swanlog'))
        for name, (_, data) in RECIPES.items():
            runner = build_runner(name, os.path.join(datasets, data), os.path.join(tmp, name))
            rows.append((name, measure(runner, args.repeats)))
            print(f'{name}: {rows[-1][1]}', flush=True)
    print('\n| recipe | validation s | with insights s | ratio (target <= 1.05) | drawing on the writer thread s |')
    print('|---|---|---|---|---|')
    for name, r in rows:
        print(f"| {name} | {r['plain']:.3f} | {r['insights']:.3f} | {r['ratio']:.3f} | {r['background']:.3f} |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
