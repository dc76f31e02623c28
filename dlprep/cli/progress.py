"""A Rich progress bar on stderr for work that can take more than a second,
shown only when stderr is a terminal (quiet in pipes, files and tests).

    with progress_bar("importing", total) as tick:
        feature(..., tick=tick)   # tick(n) advances by n

The feature takes a plain ``tick`` callable, so it stays free of Rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


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
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def tick(n: int = 1) -> None:
            bar.advance(task, n)

        yield tick
