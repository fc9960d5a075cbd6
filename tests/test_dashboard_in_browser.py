"""The local dashboard as a person sees it, in headless Chromium: not its HTTP API, the pages it draws.

One demo training (ResNet-18 on the generated CIFAR-10, the demo's own settings,
with a secret in its config) is opened in ``swanlab watch`` on 127.0.0.1: the
experiment is listed as finished, the loss and validation curves are drawn in the
series colour (the validation curve rising) and come before the config text, the
gallery and per-class pictures are shown, the config page shows a known value,
and the secret appears on no page.
"""
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ci.browser import DashboardBrowser
from ci.dashboard import LocalDashboard
from ci.run_smoke import smoke_env

from helpers import ROOT

RECIPE = ROOT / 'recipes' / 'mmpretrain' / 'resnet18_8xb16_cifar10.py'
NAME = 'resnet18_8xb16_cifar10-demo'
SECRET = 'sk-browser-test-7f3a9c'
PAGES = ('', '/chart', '/index', '/env/index', '/log')  # what the experiment's tabs show


@pytest.fixture(scope='module')
def seen(tmp_path_factory):
    root = tmp_path_factory.mktemp('browser')
    result = subprocess.run(
        [sys.executable, '-m', 'ci.demo', str(RECIPE), '--dataset', 'cifar10', '--data-root', str(root / 'data'),
         '--work-dir', str(root / 'work_dir'), '--cfg-options', f'api_token={SECRET}'],
        capture_output=True, text=True, env=smoke_env(str(root / 'swanlog')), cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    with LocalDashboard(str(root / 'swanlog')) as board, DashboardBrowser(board) as browser:
        experiment = board.experiment(NAME)
        yield board, browser, experiment, browser.experiment_page(experiment)


def _series_pixels(chart, colour):
    """``(x, y)`` of the canvas pixels drawn in the series colour (within a small tolerance)."""
    png = chart.locator('canvas').first.screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert('RGB')).astype(int)
    ys, xs = np.nonzero(np.abs(pixels - colour).max(axis=2) <= 12)
    return xs, ys


def _colour(board):
    hex_colour = board.get('/project')['colors']['light'][0]  # a project's first experiment draws in this
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def test_the_experiment_is_listed_as_finished(seen):
    board, browser, experiment, page = seen
    home = browser.open('/')
    home.wait_for_selector(f'text={NAME}', timeout=30_000)
    assert home.get_by_text(NAME, exact=True).first.is_visible()
    assert page.get_by_text('Finished', exact=True).first.is_visible()


def test_curves_come_first_and_are_drawn(seen):
    board, browser, experiment, page = seen
    titles = browser.chart_titles(page)
    assert titles[0].startswith('train/'), titles[:5]
    assert titles.index('train/loss') < titles.index('config/config_text') < titles.index('val/gallery')
    colour = _colour(board)
    for title in ('train/loss', 'val/accuracy/top1'):
        chart = browser.chart(page, title)
        chart.scroll_into_view_if_needed()
        assert 'line-chart' in chart.get_attribute('class') and 'Step' in chart.inner_text()
        xs, ys = _series_pixels(chart, colour)
        assert len(xs) > 100, f'{title}: only {len(xs)} pixels in the series colour'


def test_the_validation_curve_rises(seen):
    board, browser, experiment, page = seen
    chart = browser.chart(page, 'val/accuracy/top1')
    chart.scroll_into_view_if_needed()
    xs, ys = _series_pixels(chart, _colour(board))
    width = xs.max() - xs.min()
    left, right = ys[xs <= xs.min() + width * 0.1].mean(), ys[xs >= xs.max() - width * 0.1].mean()
    assert right < left - 10, f'the curve does not rise on screen: y {left:.0f} at the left, {right:.0f} at the right'
    values = [v for _, v in sorted(board.scalar_series(experiment, 'val/accuracy/top1').items())]
    assert values[-1] > values[0], values


def test_the_gallery_and_per_class_pictures_are_shown(seen):
    board, browser, experiment, page = seen
    for title, count in (('val/gallery', 8), ('val/per_class/chart', 1), ('val/confusion_matrix', 1),
                         ('dataset/gallery', 8)):
        chart = browser.chart(page, title)
        chart.scroll_into_view_if_needed()
        assert 'image-chart' in chart.get_attribute('class')
        widths = chart.locator('img').evaluate_all('images => images.map(i => i.complete ? i.naturalWidth : 0)')
        assert len(widths) == count and min(widths) > 0, (title, widths)
    table = browser.chart(page, 'val/per_class/table')
    table.scroll_into_view_if_needed()
    assert 'airplane' in table.inner_text() and 'recall' in table.inner_text()


def test_the_config_page_shows_a_known_value(seen):
    board, browser, experiment, page = seen
    card = browser.open(f'/experiment/{experiment["id"]}/index')
    card.wait_for_selector('text=model.backbone.type', timeout=30_000)
    text = card.inner_text('body')
    assert 'ResNet_CIFAR' in text and 'api_token' in text


def test_the_secret_appears_on_no_page(seen):
    board, browser, experiment, page = seen
    for path in ['/'] + [f'/experiment/{experiment["id"]}{tab}' for tab in PAGES]:
        shown = browser.open(path)
        shown.wait_for_timeout(500)
        assert SECRET not in shown.content() and SECRET not in shown.inner_text('body'), path
    assert SECRET not in page.content()  # the chart page with every chart drawn, the config text among them
