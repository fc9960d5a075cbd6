"""Pictures of per-class results: bar charts, confusion-matrix heat maps, precision-recall curves.

SwanLab's local dashboard shows images and text but never ECharts, so every chart
here is drawn as an RGB array first (matplotlib's object API, no pyplot state, safe
on the writer thread); :func:`echarts_bar`, :func:`echarts_heat_map` and
:func:`echarts_lines` give the same data to the cloud dashboard as interactive charts.
"""
from typing import Dict, List, Sequence

import numpy as np

from .. import media

MAX_HEAT_MAP_CLASSES = 30
MAX_BAR_ROWS = 40


def _render(figure) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100, layout='constrained')


def bar_chart(title: str, classes: Sequence[str], values: Dict[str, np.ndarray], unit: str = '') -> np.ndarray:
    """Horizontal bars per class, one colour per metric, sorted by the first metric (worst at the top).

    Classes with a NaN (not in the ground truth) are left out; above
    ``MAX_BAR_ROWS`` classes, the worst and the best half of that are shown.
    """
    table = np.array([np.asarray(series, dtype=float) for series in values.values()])
    first = table[0]
    order = [i for i in np.argsort(first, kind='stable') if np.isfinite(table[:, i]).all()]
    shown = order if len(order) <= MAX_BAR_ROWS else order[:MAX_BAR_ROWS // 2] + order[-MAX_BAR_ROWS // 2:]
    if len(shown) < len(order):
        title += f' ({len(shown) // 2} worst and {len(shown) // 2} best of {len(order)} classes)'
    figure = _figure(8, 1.2 + 0.28 * max(len(shown), 1) * max(1, len(values) / 2))
    axes = figure.add_subplot()
    height = 0.8 / len(values)
    rows = np.arange(len(shown))
    for k, (name, series) in enumerate(values.items()):
        series = np.asarray(series, dtype=float)[shown] if shown else np.zeros(0)
        axes.barh(rows + k * height, np.nan_to_num(series), height=height, label=name)
    axes.set_yticks(rows + height * (len(values) - 1) / 2, [classes[i] for i in shown], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(unit)
    axes.set_title(title, fontsize=10)
    if len(values) > 1:
        axes.legend(fontsize=8, loc='lower right')
    axes.grid(axis='x', alpha=0.3)
    return _render(figure)


def heat_map_classes(matrix: np.ndarray, limit: int = MAX_HEAT_MAP_CLASSES) -> List[int]:
    """The classes a heat map can show readably: all, or the ``limit`` most frequent in the ground truth."""
    if len(matrix) <= limit:
        return list(range(len(matrix)))
    return sorted(np.argsort(-matrix.sum(axis=1), kind='stable')[:limit].tolist())


def heat_map(title: str, classes: Sequence[str], matrix: np.ndarray) -> np.ndarray:
    """A confusion matrix (rows: ground truth, columns: prediction), coloured by the share of its row,
    with the counts written in when it stays readable."""
    shown = heat_map_classes(matrix)
    if len(shown) < len(matrix):
        title += f' ({len(shown)} most frequent of {len(matrix)} classes)'
    sub = matrix[np.ix_(shown, shown)].astype(float)
    rows = sub.sum(axis=1, keepdims=True)
    share = np.divide(sub, rows, out=np.zeros_like(sub), where=rows > 0)
    side = 2.5 + 0.35 * len(shown)
    figure = _figure(side + 1.5, side)
    axes = figure.add_subplot()
    image = axes.imshow(share, cmap='Blues', vmin=0, vmax=1)
    names = [classes[i] for i in shown]
    axes.set_xticks(range(len(shown)), names, rotation=90, fontsize=7)
    axes.set_yticks(range(len(shown)), names, fontsize=7)
    axes.set_xlabel('prediction')
    axes.set_ylabel('ground truth')
    axes.set_title(title, fontsize=10)
    if len(shown) <= 15:
        for r in range(len(shown)):
            for c in range(len(shown)):
                if sub[r, c]:
                    axes.text(c, r, _count(sub[r, c]), ha='center', va='center', fontsize=7,
                              color='white' if share[r, c] > 0.5 else 'black')
    figure.colorbar(image, ax=axes, label='share of the ground-truth row')
    return _render(figure)


def _count(value: float) -> str:
    return f'{value / 1e6:.1f}M' if value >= 1e6 else f'{value / 1e3:.0f}k' if value >= 1e4 else f'{value:.0f}'


def pr_curves(title: str, recall: np.ndarray, curves: Dict[str, np.ndarray]) -> np.ndarray:
    """Precision against recall, one line per entry of ``curves`` (the first drawn thicker)."""
    figure = _figure(7, 5)
    axes = figure.add_subplot()
    for k, (name, precision) in enumerate(curves.items()):
        axes.plot(recall, precision, label=name, linewidth=2.5 if k == 0 else 1.2)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel('recall')
    axes.set_ylabel('precision')
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc='lower left', ncol=2 if len(curves) > 8 else 1)
    return _render(figure)


# ---- the same data for the cloud dashboard ---------------------------------------------------------------


def echarts_bar(classes: Sequence[str], values: Dict[str, np.ndarray]) -> dict:
    return media.bar_chart(classes, values)


def echarts_heat_map(classes: Sequence[str], matrix: np.ndarray) -> dict:
    shown = heat_map_classes(matrix)
    cells = [[c, r, int(matrix[shown[r], shown[c]])] for r in range(len(shown)) for c in range(len(shown))]
    return media.heat_map([classes[i] for i in shown], cells, int(matrix.max() or 1))


def echarts_lines(x: np.ndarray, curves: Dict[str, np.ndarray]) -> dict:
    return media.line_chart(x, curves)
