"""Rendering of cheat sheets, assessments, plans and stats in the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from dlprep.cli.render import Col, FitTable, inline
from dlprep.features.cheatsheet import Sheet
from dlprep.features.plan import PlanView


def _heading(text: str) -> Text:
    return Text("\n" + text, style="bold")


def bullets(items: list[Text | str]) -> Table:
    """A bulleted list whose wrapped lines hang under the text, not the bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row("  -", item if isinstance(item, Text) else inline(item))
    return grid


def sheet_view(s: Sheet) -> Group:
    parts: list[Any] = [Text(s.title, style="bold underline"), inline(s.summary, style="italic")]
    if s.formulas:
        parts.append(_heading("Key formulas"))
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("name", style="cyan", max_width=30, overflow="fold")
        table.add_column("formula", overflow="fold")
        for name, formula in s.formulas:
            table.add_row(Text(name), Text(formula))
        parts.append(table)
    for title, items in (("In one line", s.summaries), ("Common traps", s.traps)):
        if items:
            parts.append(_heading(title))
            parts.append(bullets(list(items)))
    if s.table_columns:
        columns = [Col(c, wrap=True) for c in s.table_columns]
        parts.append(Text(""))
        parts.append(FitTable(columns, [[inline(c) for c in row] for row in s.table_rows], show_lines=False))
    if s.weak_points:
        parts.append(_heading("Your most-missed rubric points"))
        parts.append(bullets([inline(p) + Text(f" ({c}, missed {m} of {a})") for c, p, m, a in s.weak_points]))
    if s.questions:
        parts.append(_heading("Questions and what the answer must contain"))
        lines = []
        for cid, q, p in s.questions:
            line = inline(q, style="bold")
            line.append(" ")
            line.append_text(inline(p))
            line.append(f" ({cid})", style="dim")
            lines.append(line)
        parts.append(bullets(lines))
    if s.references:
        parts.append(_heading("References"))
        parts.append(bullets([Text(t + (f" {link}" if link else ""), style="dim") for _k, t, link in s.references]))
    parts.append(Text(""))
    return Group(*parts)


def assessment_view(result: dict[str, Any]) -> Group:
    table = Table()
    table.add_column("area")
    table.add_column("self", justify="right")
    table.add_column("measured", justify="right")
    table.add_column("")
    for a in result["areas"]:
        measured = f"{a['measured']:.1f}" if a["measured"] is not None else "-"
        flag = Text("overconfident?", style="yellow") if a["overconfident"] else Text("")
        table.add_row(a["area"], str(a["self"] or "-"), measured, flag)
    parts: list[Any] = [
        Text("Self-rating vs what your reviews measure", style="bold"),
        table,
        Text(f"total {result['total']} of 55", style="bold"),
    ]
    if result["band"]:
        parts.append(Text(result["band"]))
    if result.get("other_areas"):
        parts.append(Text("Other topics (not in the 11-55 total)", style="bold"))
        others = Table()
        for col, justify in (("topic", "left"), ("self", "right"), ("measured", "right")):
            others.add_column(col, justify=justify)  # type: ignore[arg-type]
        for a in result["other_areas"]:
            measured = f"{a['measured']:.1f}" if a["measured"] is not None else "-"
            others.add_row(a["area"], str(a["self"] or "-"), measured)
        parts.append(others)
    parts.append(Text("measured = 1 + 4 x mastery from your recent grades; '-' = not reviewed yet", style="dim"))
    return Group(*parts)


def plan_view(view: PlanView, today: date, headline: str | None = None) -> Group:
    head = Text(
        f"{view.title} plan: {view.start.isoformat()} to {view.end.isoformat()} ({view.days} days)", style="bold"
    )
    if view.interview:
        head.append(f" · interview {view.interview.isoformat()}", style="cyan")
    if headline:
        head.append("\n" + headline[0].upper() + headline[1:], style="cyan")
    table = Table(box=None, header_style="bold")
    table.add_column("when")
    table.add_column("dates")
    table.add_column("topics")
    table.add_column("milestones", overflow="fold")
    for label, a, b in view.periods():
        topics = [x.topic for x in view.blocks if x.first_day <= b and x.last_day >= a]
        marks = [f"{m.day.strftime('%a %d')}: {m.text}" for m in view.milestones if a <= m.day <= b]
        dates = a.strftime("%b %d") + ("" if a == b else " - " + b.strftime("%b %d"))
        style = "green" if a <= today <= b else None
        named = [t + (f" ({len(view.drills[t])} drill(s))" if view.drills.get(t) else "") for t in topics]
        table.add_row(label, dates, ", ".join(named) or "-", "\n".join(marks), style=style)
    parts: list[Any] = [head, table]
    after = [m for m in view.milestones if m.day >= view.end]
    parts.extend(Text(f"{m.day.strftime('%a %d %b')}: {m.text}", style="bold cyan") for m in after)
    weights = ", ".join(f"{b.topic} {b.weight:.1f}" for b in view.blocks)
    parts.append(Text(f"time per topic weighted by weakness (1 = strong, 2 = weak): {weights}", style="dim"))
    parts.append(Text("New cards in `dlprep quiz` and `dlprep today` now follow this order.", style="dim"))
    if view.drills:
        parts.append(Text("Drills: `dlprep practice --list`; practise a topic's drills in its block.", style="dim"))
    return Group(*parts)
