"""The bank as readable markdown: one file per topic, in dependency order,
plus an index. Card text is already markdown, so it is written as it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dlprep.errors import DlprepError
from dlprep.features.cheatsheet import _md_link

if TYPE_CHECKING:
    from dlprep.core.bank import Bank, Card

INDEX = "index.md"


def topic_file_name(position: int, topic: str) -> str:
    """``01-backprop.md``: the number keeps files in dependency order."""
    return f"{position:02d}-{topic}.md"


def card_markdown(card: Card, bank: Bank) -> str:
    out = [f"## {card.question}", "", f"`{card.id}` · {card.difficulty} · {card.kind} · {', '.join(card.roles)}", ""]
    out += ["### Answer", "", card.answer.strip(), ""]
    out += ["### Rubric", ""] + [f"{i}. {p.point} (weight {p.weight})" for i, p in enumerate(card.rubric, 1)] + [""]
    if card.follow_ups:
        out += ["### Follow-ups", ""]
        for f in card.follow_ups:
            out += [f"**{f.question}**", "", f.answer.strip(), ""]
    if card.red_flags:
        out += ["### Red flags", ""] + [f"- {x}" for x in card.red_flags] + [""]
    if card.references:
        out += ["### References", ""]
        for c in card.references:
            ref = bank.references.get(c.key)
            out.append(f"- {_md_link(bank.cite(c), ref.link if ref else '')}")
        out.append("")
    extras = []
    if card.show_me:
        extras.append(f"demo: `dlprep show {card.show_me}`")
    if card.see_also:
        extras.append("see also: " + ", ".join(f"`{x}`" for x in card.see_also))
    if extras:
        out += [" · ".join(extras), ""]
    return "\n".join(out)


def topic_markdown(bank: Bank, topic: str) -> str:
    t = bank.topics[topic]
    out = [f"# {t.title}", "", f"_{t.summary}_", ""]
    if t.prerequisites:
        out += ["Builds on: " + ", ".join(bank.topics[p].title for p in t.prerequisites if p in bank.topics), ""]
    for card in bank.cards_in(topic):
        out.append(card_markdown(card, bank))
    return "\n".join(out).rstrip() + "\n"


def index_markdown(bank: Bank) -> str:
    out = ["# dlprep question bank", "", f"{len(bank.cards)} cards in {len(bank.topics)} topics.", ""]
    for i, tid in enumerate(bank.topic_order(), 1):
        t = bank.topics[tid]
        out.append(f"{i}. [{t.title}]({topic_file_name(i, tid)}) ({len(bank.cards_in(tid))} cards): {t.summary}")
    return "\n".join(out) + "\n"


def write_markdown(bank: Bank, folder: Path, tick: Callable[[int], None] = lambda n: None) -> list[Path]:
    """Write one file per topic and ``index.md`` into ``folder``; returns the
    files written. ``tick(n)`` is called with each topic's card count."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DlprepError(f"{folder}: is a file; give a folder for the markdown export")
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for i, tid in enumerate(bank.topic_order(), 1):
            path = folder / topic_file_name(i, tid)
            path.write_text(topic_markdown(bank, tid), encoding="utf-8")
            written.append(path)
            tick(len(bank.cards_in(tid)))
        index = folder / INDEX
        index.write_text(index_markdown(bank), encoding="utf-8")
        written.append(index)
    except OSError as exc:
        raise DlprepError(f"{exc.filename or folder}: cannot write ({exc.strerror})") from None
    return written
