"""Column widths that never split a word: pure arithmetic for the renderers.

Rich shrinks a table that is too wide by levelling its widest columns, and
cuts or folds whatever no longer fits, ids and words included. The
renderers (``dlprep/cli/render*.py`` and the demo runner) ask here first
whether the columns fit at all when each keeps its longest word, and choose
another layout when they do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


def column_range(cells: Iterable[str], wrap: bool, width: Callable[[str], int] = len) -> tuple[int, int]:
    """(minimum, natural) width of a column: a column that may wrap needs its
    longest word, one that may not needs its widest line. ``width`` measures
    a string in terminal cells (the renderers pass Rich's ``cell_len``)."""
    lines = [line for cell in cells for line in cell.split("\n")]
    natural = max((width(line) for line in lines), default=0)
    if not wrap:
        return natural, natural
    return max((width(word) for line in lines for word in line.split()), default=0), natural


def fit_widths(minimums: Sequence[int], naturals: Sequence[int], available: int) -> list[int] | None:
    """Widths summing to at most ``available``, each between its column's
    minimum and natural width; None when the minimums alone do not fit.

    While the columns are too wide, the widest one that can still shrink
    gives up a cell, so long columns wrap first and short ones stay whole.
    """
    widths = [max(n, m) for m, n in zip(minimums, naturals, strict=True)]
    if sum(minimums) > available:
        return None
    excess = sum(widths) - available
    while excess > 0:
        i = max((k for k in range(len(widths)) if widths[k] > minimums[k]), key=lambda k: widths[k])
        widths[i] -= 1
        excess -= 1
    return widths
