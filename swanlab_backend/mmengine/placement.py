"""Training side: where MMEngine's values go on the dashboard: their key and their step.

MMEngine logs validation metrics with ``step=epoch``, test metrics not at all, and
a visualization hook's images with the batch index as step. Here train values keep
their iteration, validation and test values go to the training iteration they
belong to (``val/epoch`` beside them in epoch-based loops), several images of one
key at one step get steps of their own, and a test's images wait for the step of
its metrics. How far training is comes from what MMEngine publishes: the epoch
from the runner's ``MessageHub``, the iterations done from ``SwanlabHook``.
"""
import contextlib
import logging
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine.logging import print_log

from .. import media
from .metrics import KeyMapper

MAX_TEST_IMAGES_PER_KEY = 50


class Placement:
    """The section MMEngine is logging in (``train``, ``val``, ``test``), and the key and step of each value."""

    def __init__(self):
        self.section: Optional[str] = None
        self.key = KeyMapper()
        # MessageHub's `iter` is the iteration begun last; a validation after it needs the count done.
        self.iterations_done, self.by_epoch = 0, False
        self.test_step: Optional[int] = None  # a test-only run: the tested checkpoint's iteration
        self._image_steps: Dict[str, int] = {}
        self._epoch_axes: set = set()
        self._test_images: Dict[str, List[dict]] = {}

    def step(self, runner: Any, section: Optional[str], step: int) -> Tuple[int, dict]:
        """``(step, extra keys)`` for values of ``section`` that MMEngine logged at ``step``."""
        if section == 'test' and self.test_step is not None:
            return int(self.test_step), {}
        if runner is None or section not in ('train', 'val', 'test'):
            return int(step), {}
        # The epoch begun last, 0-based: during its iterations and at the validation after it.
        epoch = float(runner.message_hub.get_info('epoch', 0) + 1)
        if section == 'train':
            return int(step), ({'train/epoch': epoch} if self.by_epoch else {})
        return self.iterations_done, ({'val/epoch': epoch} if self.by_epoch and section == 'val' else {})

    @contextlib.contextmanager
    def in_section(self, section: str) -> Iterator[None]:
        previous, self.section = self.section, section
        try:
            yield
        finally:
            self.section = previous

    def new_epoch_axes(self, extra: dict, data: dict) -> List[str]:
        """Keys of epoch-based validation curves seen for the first time: they get ``val/epoch`` as x axis."""
        if 'val/epoch' not in extra:
            return []
        new = sorted(set(data) - self._epoch_axes - {'val/epoch'})
        self._epoch_axes.update(new)
        return new

    def image_step(self, key: str, step: int) -> int:
        """Several images of one key at one step (mmdet logs one per batch item) get their own steps."""
        step = max(int(step), self._image_steps.get(key, -1) + 1)
        self._image_steps[key] = step
        return step

    def hold_test_image(self, key: str, array: Any, caption: str) -> None:
        held = self._test_images.setdefault(key, [])
        if len(held) == MAX_TEST_IMAGES_PER_KEY:
            print_log(f'SwanLab: only the first {MAX_TEST_IMAGES_PER_KEY} test images of {key!r} are logged '
                      "(raise the visualization hook's interval)", logger='current', level=logging.WARNING)
        if len(held) < MAX_TEST_IMAGES_PER_KEY:
            held.append(media.image(array, caption))

    def take_test_images(self) -> Dict[str, Any]:
        """The images held during a test, one value per key (a list where there are several)."""
        held, self._test_images = self._test_images, {}
        return {key: images if len(images) > 1 else images[0] for key, images in held.items()}
