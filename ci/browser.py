"""The local SwanLab dashboard as a person sees it: headless Chromium driven by Playwright.

    with LocalDashboard(log_dir) as board, DashboardBrowser(board) as browser:
        page = browser.experiment_page(board.experiment('resnet18_8xb16_cifar10'))
        browser.chart(page, 'train/loss')         # the chart card: title, canvas, images

Chromium is Debian's ``chromium`` (``scripts/test.sh`` installs it; Playwright is in
``requirements/stack.txt``), started with an empty profile and without any network of its own
(no background networking, component updates, sync or first-run pages), so it
works on a machine with no internet. Used by ``tests/test_dashboard_in_browser.py``
and ``python -m ci.screenshots``.
"""
import shutil
import tempfile
from typing import Any, Dict, List

CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-default-apps', '--mute-audio']
CHART = 'section.chart-container'  # swanboard 0.1.10: one section per chart, its title in p.font-semibold
INSTALL_HINT = ('run `bash scripts/lib/apt_install.sh chromium "the browser test" chromium` '
                '(apt-get install chromium, as root; pip install playwright)')


def chromium_path() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(f'no Chromium found: {INSTALL_HINT}')


class DashboardBrowser:
    """A headless Chromium on ``board`` (a started :class:`ci.dashboard.LocalDashboard`)."""

    def __init__(self, board: Any, width: int = 1400, height: int = 1000):
        self.board, self.size = board, dict(width=width, height=height)

    def __enter__(self) -> 'DashboardBrowser':
        if self.board.process is None:
            self.board.start()
        self.root = self.board.url.rstrip('/')
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as e:
            raise RuntimeError(f'Playwright is missing: {INSTALL_HINT}') from e
        self._profile = tempfile.TemporaryDirectory(prefix='chromium-profile-')
        self._playwright = sync_playwright().start()
        self._context = self._playwright.chromium.launch_persistent_context(
            self._profile.name, executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True,
            viewport=self.size, locale='en-US')
        return self

    def __exit__(self, *exc) -> None:
        self._context.close()
        self._playwright.stop()
        self._profile.cleanup()

    def open(self, path: str = '/') -> Any:
        page = self._context.new_page()
        page.goto(self.root + path, wait_until='networkidle')
        return page

    def experiment_page(self, experiment: Dict[str, Any], tab: str = 'chart') -> Any:
        """The experiment's ``chart`` page (or ``''``: its card), with every chart scrolled into view once so
        that lazily drawn charts and images are there."""
        page = self.open(f'/experiment/{experiment["id"]}' + (f'/{tab}' if tab else ''))
        if tab == 'chart':
            page.wait_for_selector('canvas', timeout=30_000)
            for chart in page.locator(CHART).all():
                chart.scroll_into_view_if_needed()
                page.wait_for_timeout(100)
            page.wait_for_load_state('networkidle')
            page.evaluate('() => document.querySelectorAll("*").forEach(e => { e.scrollTop = 0; })')  # back to the top
        return page

    @staticmethod
    def chart_titles(page: Any) -> List[str]:
        """The chart titles in the order the page shows them."""
        return [text.strip() for text in page.locator(f'{CHART} p.font-semibold').all_inner_texts()]

    @staticmethod
    def full_text(page: Any, chart: Any) -> Any:
        """The dialog a text chart opens with its first text in full (its zoom icon shows on hover)."""
        chart.locator('.line').first.hover()
        chart.locator('.line svg').first.click()
        dialog = page.locator('.sl-dialog').first
        dialog.wait_for()
        page.wait_for_timeout(500)  # its bounce-in animation
        return dialog

    @staticmethod
    def chart(page: Any, title: str) -> Any:
        """The chart card titled ``title`` (its kind is in its class: ``line-chart``, ``image-chart``...)."""
        return page.locator(CHART).filter(has=page.locator('p.font-semibold', has_text=title)).filter(
            has_text=title).locator(f'xpath=self::*[.//p[normalize-space()="{title}"]]').first
