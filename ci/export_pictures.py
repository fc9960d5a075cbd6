"""Copy the insight pictures of smoke or demo runs out of the local dashboard, for the docs.

    python -m ci.run_smoke --out work_dirs/smoke --only faster-rcnn_r50_fpn_1x_coco \\
        segformer_mit-b0_8xb2-160k_ade20k-512x512 resnet18_8xb16_cifar10
    python -m ci.export_pictures --log-dir work_dirs/smoke/swanlog --out docs/insights

``python -m ci.screenshots`` calls this for the demos (``--suffix -demo``), beside
its browser screenshots. Reads each picture as the dashboard serves it (the last validation's entry, its
first image: for ``val/hardest`` the worst) and writes it as ``<recipe family>_<key>.png``, at most 900 px
wide and 300 KB, plus the last per-class table, "what changed" table and the dataset and model cards as ``.txt``.
"""
import argparse
import io
import os
import sys
from typing import List

from PIL import Image

from ci.dashboard import LocalDashboard

PICTURES = {  # experiment: (file prefix, image keys, text keys)
    'faster-rcnn_r50_fpn_1x_coco': ('detection', ['val/gallery', 'dataset/gallery', 'val/pr_curves/bbox',
                                                  'val/per_class/bbox/chart', 'val/hardest'],
                                    ['val/per_class/bbox/table', 'val/changes', 'model/card']),
    'segformer_mit-b0_8xb2-160k_ade20k-512x512': ('segmentation', ['val/gallery', 'val/confusion_matrix',
                                                                   'val/per_class/chart', 'val/hardest'],
                                                  ['val/changes']),
    'resnet18_8xb16_cifar10': ('classification', ['val/gallery', 'val/confusion_matrix', 'val/per_class/chart',
                                                  'dataset/instances_per_class', 'val/hardest'],
                               ['val/per_class/table', 'dataset/card', 'val/changes', 'model/card']),
}
MAX_WIDTH, MAX_BYTES = 900, 300_000


def export(board: LocalDashboard, out: str, suffix: str = '') -> List[str]:
    """Writes the pictures of the experiments ``<recipe><suffix>`` (``-demo`` for demos) into ``out``."""
    written = []
    for name, (prefix, image_keys, text_keys) in PICTURES.items():
        exp = board.experiment(name + suffix)
        for key in image_keys:
            entry = board.media(exp, key)[-1]
            image = Image.open(io.BytesIO(board.media_bytes(exp, key, entry['files'][0]))).convert('RGB')
            if image.width > MAX_WIDTH:
                image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.LANCZOS)
            path = os.path.join(out, f'{prefix}_{key.replace("/", "_")}.png')
            image.save(path, optimize=True)
            if os.path.getsize(path) > MAX_BYTES:
                image.quantize(256).save(path, optimize=True)
            written.append(path)
        for key in text_keys:
            path = os.path.join(out, f'{prefix}_{key.replace("/", "_")}.txt')
            with open(path, 'w') as f:
                f.write(board.media(exp, key)[-1]['files'][0] + '\n')
            written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--log-dir', required=True, help='the SwanLab log dir of the smoke runs')
    parser.add_argument('--out', default='docs/insights')
    parser.add_argument('--suffix', default='', help="the experiments' name after the recipe's (demos: -demo)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with LocalDashboard(args.log_dir) as board:
        for path in export(board, args.out, args.suffix):
            print(f'{path}  {os.path.getsize(path) // 1024} KB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
