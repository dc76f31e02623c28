"""Where output goes: data on stdout, messages on stderr, JSON as one envelope.

Card text is user text: it is never interpreted as Rich markup here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

LIST_SHOWN = 50  # rows of a long list on a terminal, unless --all


class Output:
    """Consoles for one command run. Rich is imported on first use."""

    def __init__(self, json_mode: bool = False):
        self.json_mode = json_mode
        self._hint: str | None = None

    @cached_property
    def console(self):
        from rich.console import Console

        return Console(highlight=False, no_color=_no_color() or None, soft_wrap=False)

    @cached_property
    def err(self):
        from rich.console import Console

        return Console(stderr=True, highlight=False, no_color=_no_color() or None)

    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Print Rich renderables or plain text; plain strings are never markup."""
        kwargs.setdefault("markup", False)
        self.console.print(*objects, **kwargs)

    @contextmanager
    def steps(self, total: int, label: str) -> Iterator[Callable[[str], None]]:
        """A progress bar over ``total`` named steps, on stderr when it is a
        terminal; silent otherwise. Yields ``step(name)``: call it as each step starts."""
        if not self.err.is_terminal:
            yield lambda _name: None
            return
        from dlprep.cli.progress import rich_bar

        with rich_bar(self.err, f"{label}: {{task.description}}", total, ("bar", "elapsed"), transient=False) as (
            bar,
            task,
        ):
            started = [0]

            def step(name: str) -> None:
                bar.update(task, description=name, completed=started[0])
                started[0] += 1

            yield step
            bar.update(task, completed=total)

    def shown(self, items: list[Any], everything: bool, command: str) -> list[Any]:
        """What a long list shows: on a terminal, the first ``LIST_SHOWN`` items
        (with a hint on stderr to run ``command --all``); piped or with
        ``everything``, all of them. The caller renders a count of the rest."""
        if everything or len(items) <= LIST_SHOWN or not self.console.is_terminal:
            return items
        self._hint = f"({command} --all lists them all)"
        return items[:LIST_SHOWN]

    def hint(self) -> None:
        """The hint :meth:`shown` left, if any, after the list."""
        if self._hint:
            self.message(self._hint, style="dim")

    def message(self, text: str, style: str | None = None) -> None:
        """A message for the person at the terminal, on stderr, wrapped between words."""
        self.err.print(text, style=style, markup=False, highlight=False)


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))
