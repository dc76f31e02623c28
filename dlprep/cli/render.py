"""Rich renderables for cards and schedules. Card text is never parsed as markup."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dlprep.core.bank import Bank, Card


def markdown(text: str) -> Any:
    from rich.markdown import Markdown

    return Markdown(text)


def question_panel(card: Card, index: int | None = None, total: int | None = None) -> Panel:
    counter = f"{index}/{total}  " if index is not None and total else ""
    title = Text(f"{counter}{card.topic} · {card.difficulty} · {card.kind}")
    return Panel(Text(card.question, style="bold"), title=title, title_align="left", border_style="cyan")


def rubric_table(card: Card, marks: set[int] | None = None) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("key", justify="right", style="cyan", no_wrap=True)
    table.add_column("rubric point", overflow="fold")
    table.add_column("weight", justify="right", no_wrap=True)
    for i, p in enumerate(card.rubric):
        key = str(i + 1)
        if marks is not None:
            key = ("[x] " if i in marks else "[ ] ") + key
        table.add_row(Text(key), Text(p.point), str(p.weight))
    return table


def card_panel(card: Card, bank: Bank | None = None) -> Group:
    parts: list[Any] = [question_panel(card)]
    parts.append(Panel(markdown(card.answer), title="model answer", title_align="left", border_style="green"))
    parts.append(Text("Rubric", style="bold"))
    parts.append(rubric_table(card))
    if card.follow_ups:
        parts.append(Text("\nFollow-ups", style="bold"))
        for f in card.follow_ups:
            parts.append(Text("Q: ", style="bold cyan") + Text(f.question))
            parts.append(markdown(f.answer))
    if card.red_flags:
        parts.append(red_flags(card))
    extras = []
    if card.show_me:
        extras.append(f"demo: dlprep show {card.show_me}")
    if card.see_also:
        extras.append("see also: " + ", ".join(card.see_also))
    extras.append(f"id: {card.id} · roles: {', '.join(card.roles)} · rapid-fire target: {card.time_target_s}s")
    if card.references:
        parts.append(Text("\nReferences", style="bold"))
        for c in card.references:
            parts.append(Text("  · " + (bank.cite(c) if bank else c.key), style="dim"))
    parts.append(Text("\n" + "\n".join(extras), style="dim"))
    return Group(*parts)


def red_flags(card: Card) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="red", no_wrap=True)
    grid.add_column(overflow="fold")
    for flag in card.red_flags:
        grid.add_row("  ✗", Text(flag))
    return Group(Text("\nRed flags (what not to say)", style="bold red"), grid)


def schedule_line(progress: dict[str, Any]) -> Text:
    if not progress["reviews"]:
        return Text("new card: not reviewed yet", style="dim")
    return Text(
        f"reviews: {len(progress['reviews'])} · due {progress['due']} · interval {progress['interval_days']}d"
        f" · easiness {progress['easiness']:.2f} · repetitions {progress['repetitions']}",
        style="dim",
    )


def mastery_bar(value: float | None, width: int = 10) -> Text:
    if value is None:
        return Text("-" * width, style="dim")
    filled = round(value * width)
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim") + Text(f" {value:4.0%}")


def topic_tree(bank: Bank, mastery: dict[str, float]) -> Any:
    """The dependency map: each topic under its first prerequisite, others noted."""
    from rich.tree import Tree

    root = Tree(Text("topics (mastery from your reviews)", style="bold"))
    nodes: dict[str, Any] = {}
    for tid in bank.topic_order():
        t = bank.topics[tid]
        label = Text(f"{t.id:<14}") + mastery_bar(mastery.get(tid))
        others = [p for p in t.prerequisites[1:]]
        if others:
            label.append(f"  (also needs {', '.join(others)})", style="dim")
        parent = nodes.get(t.prerequisites[0]) if t.prerequisites else None
        nodes[tid] = (parent or root).add(label)
    return root
