"""Rendering of `dlprep today`."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from dlprep.cli.render import Col, DayStrip, FitTable, due_table
from dlprep.features.plan import Plan
from dlprep.features.schedule import DEFAULT_SECONDS_PER_CARD, Today


def render_today(
    t: Today, plan: Plan | None, headline: str | None = None, drills_due: list[dict[str, Any]] | None = None
) -> Any:
    parts: list[Any] = []
    head = Text(f"Today, {t.day.isoformat()}", style="bold")
    if plan and plan.interview:
        left = (plan.interview - t.day).days
        head.append(f"  ·  interview in {left} day(s) ({plan.interview.isoformat()}, {plan.role} path)", style="cyan")
    parts.append(head)
    if headline:
        parts.append(Text(headline[0].upper() + headline[1:], style="cyan"))
    overdue = len(t.overdue)
    per_card = (
        f"{t.seconds_per_card / 60:.1f} min a card, your average"
        if t.seconds_per_card != DEFAULT_SECONDS_PER_CARD
        else "2 min a card until you have some history"
    )
    summary = Text(
        f"{len(t.due)} review(s) due ({overdue} overdue) · {len(t.new)} new card(s) · about {t.minutes} min"
        f" ({per_card})"
    )
    parts.append(summary)
    if t.held_back:
        parts.append(
            Text(
                f"{t.held_back} more due review(s) "
                + (
                    "wait for a later day before the interview (the final days' share)."
                    if t.by_interview_recall
                    else "held back by the daily cap; they stay due and come first tomorrow."
                ),
                style="yellow",
            )
        )
    if t.due:
        order = "lowest predicted recall on interview day first" if t.by_interview_recall else "most overdue first"
        parts.append(Text(f"\nReviews ({order})", style="bold"))
        parts.append(due_table(t.due[:15], t.day, more=len(t.due) - 15, box=None))
    if t.new:
        parts.append(Text("\nNew cards to introduce", style="bold"))
        parts.append(FitTable([Col("id"), Col("topic")], [[c.id, c.topic] for c in t.new], box=None))
    if drills_due:
        minutes = sum(d["minutes"] for d in drills_due)
        parts.append(Text(f"\nDrills due (about {minutes} min; not part of the quiz)", style="bold"))
        parts.append(
            FitTable(
                [Col("drill"), Col("topic"), Col("due"), Col("run", wrap=True)],
                [[f"drill:{d['id']}", d["topic"], d["due"], d["action"]] for d in drills_due],
                box=None,
            )
        )
    if not t.due and not t.new and not drills_due:
        parts.append(Text("Nothing due and no new cards today. `dlprep quiz --cram` to practise anyway."))
    parts.append(Text("\nDue in the next 14 days", style="bold"))
    parts.append(
        DayStrip(
            [
                [d.strftime("%d") for d, _ in t.forecast],
                [d.strftime("%a")[:2] for d, _ in t.forecast],
                [str(n) for _, n in t.forecast],
            ],
            ["bold", "dim", None],
        )
    )
    if t.orphans:
        parts.append(
            Text(
                f"{len(t.orphans)} card(s) with history are no longer in the bank (see `dlprep db check`).", style="dim"
            )
        )
    parts.append(Text("Start with: dlprep quiz", style="dim"))
    return Group(*parts)
