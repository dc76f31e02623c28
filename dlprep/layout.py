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

    Spare room goes, one cell at a time, to the column furthest below its
    natural width, so long columns shrink first and short ones stay whole.
    """
    naturals = [max(n, m) for m, n in zip(minimums, naturals, strict=True)]
    if sum(naturals) <= available:
        return list(naturals)
    widths = list(minimums)
    spare = available - sum(widths)
    if spare < 0:
        return None
    while spare > 0:
        deficits = [n - w for w, n in zip(widths, naturals, strict=True)]
        i = max(range(len(widths)), key=lambda k: deficits[k])
        if deficits[i] <= 0:
            break
        widths[i] += 1
        spare -= 1
    return widths
