"""Rendering of `dlprep forecast` and the memory lines elsewhere."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Group
from rich.text import Text

from dlprep.cli.render import Col, FitTable
from dlprep.core import memory
from dlprep.features.forecast import Forecast


def render_forecast(f: Forecast, today: date) -> Any:
    if not f.cards:
        return Text("No studied cards yet: the forecast starts after your first reviews (dlprep quiz).")
    when = "today" if f.day == today else f"on {f.day.isoformat()} (in {(f.day - today).days} day(s))"
    parts: list[Any] = [
        Text(f"Expected recall {when}: {f.overall:.0%} of {len(f.cards)} studied cards", style="bold"),
        Text(f"FSRS memory model, {f.params.describe()}; assumes no review before then.", style="dim"),
    ]
    if not f.params.fitted:
        parts.append(
            Text(
                f"Fitting to your own log needs {memory.MIN_REVIEWS_TO_FIT} reviews made a day or more after the "
                f"card's previous one (you have {f.usable_reviews}); then: dlprep forecast --fit",
                style="dim",
            )
        )
    rows = [[t, str(n), f"{r:.0%}"] for t, n, r in f.topics()]
    parts.append(FitTable([Col("topic"), Col("cards", justify="right"), Col("recall", justify="right")], rows))
    risk = [
        [c.card_id, c.topic, f"{c.recall:.0%}", f"{c.state.stability:.1f}d", c.state.last_day.isoformat()]
        for c in f.at_risk()
    ]
    parts.append(Text("\nMost at risk", style="bold"))
    parts.append(
        FitTable(
            [Col("id"), Col("topic"), Col("recall", justify="right"), Col("stability"), Col("last review")],
            risk,
            box=None,
        )
    )
    return Group(*parts)
