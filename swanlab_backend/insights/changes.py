"""What changed for the gallery's images since the previous validation: a table, largest drops first,
and a word (better, worse, same) for each gallery caption.
"""
from typing import Any, Dict, List, Optional, Tuple

from . import per_image
from .per_class import format_table


def verdict(family: str, now: Dict[str, Any], before: Optional[Dict[str, Any]]) -> Optional[str]:
    """``better``, ``worse`` or ``same`` than ``before`` (None: no previous validation of this image)."""
    if before is None:
        return None
    change = round(per_image.badness(family, now) - per_image.badness(family, before), 4)  # as printed
    return 'worse' if change > 0 else 'better' if change < 0 else 'same'


def table(family: str, rows: List[Tuple[str, Dict[str, Any], Optional[Dict[str, Any]]]]) -> str:
    """``rows``: (image name, figures now, figures at the previous validation or None); the images whose
    figures dropped most come first, the ones never validated before last."""
    def drop(row):
        _, now, before = row
        if before is None:
            return (1, 0.0)
        return (0, per_image.badness(family, before) - per_image.badness(family, now))

    names = per_image.FIGURE_NAMES[family]
    header = ['sample', *names, *(f'{n} before' for n in names), 'change']
    lines = [[name, *per_image.cells(family, now), *per_image.cells(family, before),
              verdict(family, now, before) or 'new'] for name, now, before in sorted(rows, key=drop)]
    return format_table(header, lines)
