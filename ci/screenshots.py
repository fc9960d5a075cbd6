"""Regenerate the pictures of the docs: the dashboard as a browser shows it, and the insight pictures.

    python -m ci.screenshots                      # runs three demos first (~6 min on 2 cores)
    python -m ci.screenshots --runs DIR           # the same, keeping the demos in DIR
    python -m ci.screenshots --log-dir DIR/swanlog   # pictures of demos already run

Runs the demos of ResNet-18 CIFAR-10, SegFormer ADE20K and Faster R-CNN COCO
(``ci/demo.py``), opens ``swanlog`` in headless Chromium (``ci/browser.py``) and
writes ``docs/screenshots/*.png`` (page and chart views) and ``docs/insights/*``
(the pictures as the backend logged them, ``ci/export_pictures.py``), each PNG at
most 300 KB. The READMEs show them.
"""
import argparse
import io
import os
import subprocess
import sys
import tempfile

from PIL import Image

from ci.browser import DashboardBrowser
from ci.dashboard import LocalDashboard
from ci.export_pictures import MAX_BYTES, export

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = [('recipes/mmpretrain/resnet18_8xb16_cifar10.py', 'cifar10'),
         ('recipes/mmseg/segformer_mit-b0_8xb2-160k_ade20k-512x512.py', 'ade20k'),
         ('recipes/mmdet/faster-rcnn_r50_fpn_1x_coco.py', 'coco')]
CLASSIFICATION, SEGMENTATION, DETECTION = (f'{os.path.basename(c)[:-3]}-demo' for c, _ in DEMOS)
CHARTS = {  # file: (experiment, chart title)
    'gallery_detection': (DETECTION, 'val/gallery'),
    'gallery_segmentation': (SEGMENTATION, 'val/gallery'),
    'gallery_classification': (CLASSIFICATION, 'val/gallery'),
    'per_class_chart': (CLASSIFICATION, 'val/per_class/chart'),
    'confusion_matrix': (CLASSIFICATION, 'val/confusion_matrix'),
    'dataset_card': (DETECTION, 'dataset/instances_per_class'),
}
TEXTS = {  # file: (experiment, text chart title): its first text, opened in full (the card cuts it to one line)
    'alerts_finished': (CLASSIFICATION, 'alerts/finished'),  # every run's summary (README: Alerts)
}


def run_demos(out: str) -> str:
    from ci.run_smoke import smoke_env
    log_dir = os.path.join(out, 'swanlog')
    for config, dataset in DEMOS:
        name = os.path.basename(config)[:-3]
        print(f'demo {name} ...', flush=True)
        subprocess.run([sys.executable, '-m', 'ci.demo', config, '--dataset', dataset, '--data-root',
                        os.path.join(out, 'data', dataset), '--work-dir', os.path.join(out, name)],
                       check=True, capture_output=True, env=smoke_env(log_dir), cwd=ROOT)
    return log_dir


def save(png: bytes, path: str) -> None:
    image = Image.open(io.BytesIO(png)).convert('RGB')
    image.save(path, optimize=True)
    if os.path.getsize(path) > MAX_BYTES:
        image.quantize(256).save(path, optimize=True)
    print(f'{path}  {os.path.getsize(path) // 1024} KB', flush=True)


def screenshots(board: LocalDashboard, out: str) -> None:
    with DashboardBrowser(board, width=1400, height=900) as browser:
        experiment = board.experiment(CLASSIFICATION)
        page = browser.experiment_page(experiment)
        save(page.screenshot(), os.path.join(out, 'experiment.png'))  # what a person sees first
        card = browser.open(f'/experiment/{experiment["id"]}/index')
        card.wait_for_selector('text=model.backbone.type', timeout=30_000)
        save(card.screenshot(), os.path.join(out, 'config.png'))
        pages = {}
        for name, (experiment_name, title) in {**CHARTS, **TEXTS}.items():
            if experiment_name not in pages:
                pages[experiment_name] = browser.experiment_page(board.experiment(experiment_name))
            page = pages[experiment_name]
            chart = browser.chart(page, title)
            chart.scroll_into_view_if_needed()
            shown = browser.full_text(page, chart) if name in TEXTS else chart
            save(shown.screenshot(), os.path.join(out, f'{name}.png'))
            if name in TEXTS:
                page.keyboard.press('Escape')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--log-dir', help='the swanlog of demos already run (default: run them now)')
    parser.add_argument('--runs', help='where to run the demos (kept; default: a temporary folder)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs'))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='screenshots-') as tmp:
        log_dir = args.log_dir or run_demos(args.runs or tmp)
        for folder in ('screenshots', 'insights'):
            os.makedirs(os.path.join(args.out, folder), exist_ok=True)
        with LocalDashboard(log_dir) as board:
            screenshots(board, os.path.join(args.out, 'screenshots'))
            for path in export(board, os.path.join(args.out, 'insights'), suffix='-demo'):
                print(f'{path}  {os.path.getsize(path) // 1024} KB', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
