"""Rich progress bars on stderr for work that can take more than a second,
shown only when stderr is a terminal (quiet in pipes, files and tests).

    with progress_bar("importing", total) as tick:
        feature(..., tick=tick)   # tick(n) advances by n

Features take a plain callable (``tick(n)``, ``progress(done, total)`` or
``step(name)``), so they stay free of Rich. Every bar here is built by
:func:`rich_bar`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Rich column classes by short name (rich.progress is imported only when a bar shows)
_COLUMNS = {
    "bar": "BarColumn",
    "percent": "TaskProgressColumn",
    "eta": "TimeRemainingColumn",
    "count": "MofNCompleteColumn",
    "elapsed": "TimeElapsedColumn",
}


@contextmanager
def rich_bar(
    console: Any, text: str, total: int | None, columns: tuple[str, ...], transient: bool = True
) -> Iterator[tuple[Any, Any]]:
    """A Rich ``Progress`` on ``console``: ``text`` (a Rich TextColumn format,
    e.g. ``"{task.description}"``), then the named ``columns``. Yields (progress, task id)."""
    import rich.progress as rp

    shown = [rp.TextColumn(text), *(getattr(rp, _COLUMNS[c])() for c in columns)]
    with rp.Progress(*shown, console=console, transient=transient) as bar:
        yield bar, bar.add_task("", total=total)


def _quiet(_: int = 1) -> None:
    pass


@contextmanager
def progress_bar(
    description: str, total: int | None, console: Any = None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """Yield ``tick(n)``; a transient bar when ``console`` (default: the
    app's stderr console) is a terminal, a no-op otherwise or when not
    ``enabled``. While the bar shows, writes to sys.stdout appear above it."""
    if console is None:
        from dlprep.cli.output import Output

        console = Output().err
    if not enabled or not console.is_terminal or not total:
        yield _quiet
        return
    with rich_bar(console, "{task.description}", total, ("bar", "percent", "eta")) as (bar, task):
        bar.update(task, description=description)

        def tick(n: int = 1) -> None:
            bar.advance(task, n)

        yield tick


@contextmanager
def count_bar(description: str, console: Any, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """Yield ``progress(done, total)`` for work that learns its total as it
    goes (a rebuild), with a done/total count; None when not on a terminal."""
    if not enabled or not console.is_terminal:
        yield None
        return
    with rich_bar(console, "{task.description}", None, ("bar", "count", "elapsed")) as (bar, task):
        bar.update(task, description=description)
        yield lambda done, total: bar.update(task, completed=done, total=total)
