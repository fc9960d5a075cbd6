"""Which of a rank's validation samples are real, and which are the padding of MMEngine's ``DefaultSampler``.

Under DDP, ``DefaultSampler`` repeats the first samples until every rank has the same number, and hands rank
``r`` the padded positions ``r, r + world_size, r + 2 * world_size, ...``. MMEngine's metrics drop the padding
after gathering (``collect_results(..., size=len(dataset))`` interleaves the ranks' results and cuts at the
dataset's length); the insights drop it where it is collected, by the same rule, so that per-class results,
confusion matrices and the hardest samples count every sample once, as the task's own metric does.
"""
from typing import Optional

from mmengine.dist import get_dist_info


class SamplePositions:
    """Counts the samples this rank collects in one evaluation; says whether the next one is padding."""

    def __init__(self, dataset_size: int):
        self.rank, self.world_size = get_dist_info()
        self.dataset_size = dataset_size
        self.seen = 0

    def next(self) -> Optional[int]:
        """For each collected sample, in order: its global position, or None when that lies past the dataset
        (padding). Without shuffling, the position is the sample's index in the dataset."""
        position = self.seen * self.world_size + self.rank
        self.seen += 1
        return position if position < self.dataset_size else None
