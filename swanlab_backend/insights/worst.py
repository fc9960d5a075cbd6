"""The K images the model gets most wrong in one evaluation, kept while collecting (bounded memory).

Each rank keeps its own K worst in a heap; only an image that enters it is copied (its slim sample and,
without an image file, its input); rank 0 merges the ranks' heaps (:func:`merge`). Ties go to the image
earlier in the dataset, so that the choice is the same on any number of ranks.
"""
import heapq
from typing import Any, Callable, List, Tuple

Entry = Tuple[float, int, Any]  # (how wrong, global position, payload)


class HardestSamples:
    def __init__(self, k: int):
        self.k = k
        self._heap: List[tuple] = []  # ((badness, -position), position, payload); the least wrong on top

    def offer(self, badness: float, position: int, payload: Callable[[], Any]) -> None:
        """Keeps the image if it is among the K worst so far; ``payload()`` runs only then."""
        key = (badness, -position)
        if self.k == 0 or (len(self._heap) == self.k and key <= self._heap[0][0]):
            return
        entry = (key, position, payload())
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, entry)
        else:
            heapq.heapreplace(self._heap, entry)

    def entries(self) -> List[Entry]:
        return [(key[0], position, payload) for key, position, payload in self._heap]


def merge(parts: List[List[Entry]], k: int) -> List[Entry]:
    """The ``k`` worst of all ranks' entries, worst first."""
    return sorted((e for part in parts for e in part), key=lambda e: (-e[0], e[1]))[:k]
