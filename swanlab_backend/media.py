"""Both sides: media as plain data: what the training side logs, and the SwanLab objects the writer makes of it.

The training process describes an image, a text or a chart as a dict (``{'__media__':
'image', 'pixels': array, 'caption': ...}``), which the journal carries as plain data;
:func:`to_swanlab` runs in the writer and builds ``swanlab.Image`` (downscaled, PNG
encoded there), ``swanlab.Text`` and ``swanlab.echarts`` charts. So the training never
imports SwanLab's media code, and the journal does not depend on how SwanLab's
classes pickle.
"""
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np

from .images import MAX_IMAGE_SIDE, downscale

MEDIA = '__media__'


def image(pixels: np.ndarray, caption: Optional[str] = None) -> dict:
    """An image: uint8 pixels as :func:`~swanlab_backend.images.to_uint8_image` gives them."""
    return {MEDIA: 'image', 'pixels': pixels, 'caption': caption}


def text(body: str, caption: Optional[str] = None) -> dict:
    return {MEDIA: 'text', 'text': str(body), 'caption': caption}


def bar_chart(x: Sequence[str], series: Dict[str, Sequence[float]]) -> dict:
    """An ECharts bar chart (the cloud dashboard shows it; the local one does not)."""
    return {MEDIA: 'echarts', 'chart': 'bar', 'x': list(x), 'series': _series(series)}


def line_chart(x: Sequence[float], series: Dict[str, Sequence[float]]) -> dict:
    return {MEDIA: 'echarts', 'chart': 'line', 'x': [round(float(v), 3) for v in x], 'series': _series(series)}


def heat_map(names: Sequence[str], cells: List[List[int]], maximum: int) -> dict:
    """``cells``: ``[column, row, count]`` triples."""
    return {MEDIA: 'echarts', 'chart': 'heat_map', 'x': list(names), 'cells': cells, 'max': int(maximum)}


def is_image(value: Any) -> bool:
    return isinstance(value, dict) and value.get(MEDIA) == 'image'


def images_in(data: dict) -> Iterator[dict]:
    """The images among the values of a ``log`` record (a value may be a list of them)."""
    for value in data.values():
        for item in (value if isinstance(value, list) else (value,)):
            if is_image(item):
                yield item


def _series(series: Dict[str, Sequence[float]]) -> Dict[str, list]:
    return {name: [_finite_or_none(v) for v in values] for name, values in series.items()}


def _finite_or_none(value: float) -> Optional[float]:
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None


# ---- in the writer -------------------------------------------------------------------------------------------

def to_swanlab(value: Any, max_side: int = MAX_IMAGE_SIDE) -> Any:
    """``value`` (a number, a media dict or a list of them) as SwanLab takes it; images longer than
    ``max_side`` are downscaled, with a caption that says so."""
    if isinstance(value, list):
        return [to_swanlab(v, max_side) for v in value]
    kind = value.get(MEDIA) if isinstance(value, dict) else None
    if kind is None:
        return value
    import swanlab
    if kind == 'text':
        return swanlab.Text(value['text'], caption=value.get('caption'))
    if kind == 'echarts':
        return _echarts(swanlab.echarts, value)
    if kind != 'image':
        raise ValueError(f'unknown media {kind!r}')
    pixels, caption = np.asarray(value['pixels'], dtype=np.uint8), value.get('caption')
    if max(pixels.shape[:2]) > max_side:
        pixels = downscale(pixels, max_side)
        caption = f'{caption or ""} (downscaled to {pixels.shape[1]}x{pixels.shape[0]})'.lstrip()
    return swanlab.Image(pixels, caption=caption)


def _echarts(echarts: Any, spec: dict) -> Any:
    if spec['chart'] == 'heat_map':
        chart = echarts.HeatMap()
        chart.add_xaxis(spec['x'])
        chart.add_yaxis('count', spec['x'], spec['cells'])
        chart.set_global_opts(visualmap_opts=echarts.options.VisualMapOpts(max_=spec['max'] or 1))
        return chart
    chart = {'bar': echarts.Bar, 'line': echarts.Line}[spec['chart']]()
    chart.add_xaxis(spec['x'])
    for name, values in spec['series'].items():
        chart.add_yaxis(name, values)
    return chart
