"""Cheat sheets: a topic's formulas, one-liners, traps and tables, its cards'
questions with their top rubric point, and (with history) the points you
miss most. Built as plain data, then written as markdown or one
self-contained HTML page."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store


@dataclass
class Sheet:
    topic: str
    title: str
    summary: str
    formulas: list[tuple[str, str]]
    summaries: list[str]
    traps: list[str]
    table_columns: list[str]
    table_rows: list[list[str]]
    questions: list[tuple[str, str, str]]  # (card id, question, top rubric point)
    weak_points: list[tuple[str, str, int, int]] = field(default_factory=list)  # (card, point, missed, asked)
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (key, full reference, link or "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["references"] = [{"key": k, "text": t, "link": link or None} for k, t, link in self.references]
        data["formulas"] = [{"name": n, "formula": f} for n, f in self.formulas]
        data["questions"] = [{"id": c, "question": q, "top_point": p} for c, q, p in self.questions]
        data["weak_points"] = [{"card": c, "point": p, "missed": m, "asked": a} for c, p, m, a in self.weak_points]
        return data


def build_sheet(bank: Bank, topic: str, store: Store | None = None, weak: bool = False) -> Sheet:
    from dlprep.features.progress import missed_points

    t = bank.topics[bank.check_topic(topic)]
    cs = t.cheatsheet
    questions = []
    for card in bank.cards_in(topic):
        top = max(card.rubric, key=lambda p: p.weight)  # the first of the heaviest
        questions.append((card.id, card.question, top.point))
    weak_points = missed_points(bank, store, topic)[:8] if (weak and store is not None) else []
    works = bank.cited_works(bank.cards_in(topic))
    works.sort(key=lambda r: (r.type == "docs", (r.authors or r.title).lower(), r.year or 0))  # papers and books first
    references = [(r.key, r.describe(), r.link) for r in works]
    return Sheet(
        topic=t.id,
        title=t.title,
        summary=t.summary,
        formulas=list(cs.formulas),
        summaries=list(cs.summaries),
        traps=list(cs.traps),
        table_columns=list(cs.table_columns),
        table_rows=[list(r) for r in cs.table_rows],
        questions=questions,
        weak_points=weak_points,
        references=references,
    )


def build_sheets(bank: Bank, topics: list[str], store: Store | None = None, weak: bool = False) -> list[Sheet]:
    return [build_sheet(bank, t, store, weak) for t in topics]


# ---------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_link(text: str, link: str) -> str:
    text = text.replace("[", "\\[").replace("]", "\\]")
    return f"[{text}]({link})" if link else text


def to_markdown(sheets: list[Sheet]) -> str:
    out: list[str] = []
    for s in sheets:
        out += [f"# {s.title}", "", f"_{s.summary}_", ""]
        if s.formulas:
            out += ["## Key formulas", "", "| | |", "|---|---|"]
            out += [f"| {_md_cell(n)} | `{_md_cell(f)}` |" for n, f in s.formulas]
            out.append("")
        if s.summaries:
            out += ["## In one line", ""] + [f"- {x}" for x in s.summaries] + [""]
        if s.traps:
            out += ["## Common traps", ""] + [f"- {x}" for x in s.traps] + [""]
        if s.table_columns:
            out += ["| " + " | ".join(_md_cell(c) for c in s.table_columns) + " |"]
            out += ["|" + "---|" * len(s.table_columns)]
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.table_rows]
            out.append("")
        if s.weak_points:
            out += ["## Your most-missed rubric points", ""]
            out += [f"- {p} (`{c}`, missed {m} of {a})" for c, p, m, a in s.weak_points]
            out.append("")
        if s.questions:
            out += ["## Questions and what the answer must contain", ""]
            out += [f"- **{q}** {p} (`{c}`)" for c, q, p in s.questions]
            out.append("")
        if s.references:
            out += ["## References", ""]
            out += [f"- {_md_link(t, link)}" for _k, t, link in s.references]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- HTML

CSS = """
@page { size: A4; margin: 14mm; }
body { font: 10.5pt/1.4 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111;
       max-width: 190mm; margin: 0 auto; padding: 8mm; }
h1 { font-size: 16pt; margin: 0 0 2pt; border-bottom: 2px solid #333; page-break-after: avoid; }
h2 { font-size: 11.5pt; margin: 10pt 0 3pt; color: #234; page-break-after: avoid; }
p.summary { margin: 2pt 0 6pt; color: #444; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 2pt 5pt; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
code { font: 9.5pt/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap; }
td.formula { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9.5pt; }
ul { margin: 2pt 0; padding-left: 14pt; }
li { margin: 1pt 0; }
section.topic { page-break-before: always; }
section.topic:first-of-type { page-break-before: avoid; }
.muted { color: #666; }
ul.refs { font-size: 9pt; color: #333; }
@media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }
"""


def to_html(sheets: list[Sheet], title: str = "dlprep cheat sheet") -> str:
    from dlprep.core.inline_markdown import to_html as md  # card text is markdown; formulas are literal

    e = html.escape
    body: list[str] = []
    for s in sheets:
        part = [
            f'<section class="topic" id="{e(s.topic)}">',
            f"<h1>{e(s.title)}</h1>",
            f'<p class="summary">{md(s.summary)}</p>',
        ]
        if s.formulas:
            part.append("<h2>Key formulas</h2><table>")
            part += [f'<tr><th>{e(n)}</th><td class="formula">{e(f)}</td></tr>' for n, f in s.formulas]
            part.append("</table>")
        if s.summaries:
            part.append("<h2>In one line</h2><ul>" + "".join(f"<li>{md(x)}</li>" for x in s.summaries) + "</ul>")
        if s.traps:
            part.append("<h2>Common traps</h2><ul>" + "".join(f"<li>{md(x)}</li>" for x in s.traps) + "</ul>")
        if s.table_columns:
            part.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in s.table_columns) + "</tr>")
            part += ["<tr>" + "".join(f"<td>{md(c)}</td>" for c in row) + "</tr>" for row in s.table_rows]
            part.append("</table>")
        if s.weak_points:
            part.append("<h2>Your most-missed rubric points</h2><ul>")
            part += [
                f'<li>{md(p)} <span class="muted">({e(c)}, missed {m} of {a})</span></li>'
                for c, p, m, a in s.weak_points
            ]
            part.append("</ul>")
        if s.questions:
            part.append("<h2>Questions and what the answer must contain</h2><ul>")
            part += [f'<li><b>{md(q)}</b> {md(p)} <span class="muted">({e(c)})</span></li>' for c, q, p in s.questions]
            part.append("</ul>")
        if s.references:
            part.append('<h2>References</h2><ul class="refs">')
            part += [
                f'<li><a href="{e(link)}">{e(t)}</a></li>' if link else f"<li>{e(t)}</li>"
                for _k, t, link in s.references
            ]
            part.append("</ul>")
        part.append("</section>")
        body.append("\n".join(part))
    from dlprep.features.html_page import page

    return page(title, CSS, body)
