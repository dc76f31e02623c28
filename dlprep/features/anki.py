"""Export cards as an Anki deck (.apkg) for review on a phone.

Each card becomes one note whose GUID comes from the card id, so importing a
newer export updates the notes in place instead of duplicating them (and
keeps Anki's own review history). The answer's markdown is turned into the
small subset of HTML Anki shows well.

Cards, not progress: the deck carries no dlprep scheduling. genanki (0.13)
writes every card as new (type 0, interval 0, no ease, no reviews) and has
no API for review state, and Anki keeps due dates relative to the
importing collection's creation day, so a faithful copy of the SM-2 state
cannot be written. Progress moves between machines with ``dlprep export
progress`` / ``import progress`` instead.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dlprep.errors import DlprepError

if TYPE_CHECKING:
    from dlprep.core.bank import Bank, Card, Citation

MODEL_ID = 1_733_264_917  # fixed forever: Anki matches note types by this id
INSTALL_HINT = "Anki export needs genanki: pip install 'dlprep[anki]'"
FIELDS = ("Id", "Topic", "Question", "Answer", "Rubric", "FollowUps", "RedFlags", "References")

FRONT = """<div class="meta">{{Topic}}</div>
<div class="question">{{Question}}</div>"""
BACK = """{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
<h4>Rubric</h4>{{Rubric}}
{{#FollowUps}}<h4>Follow-ups</h4>{{FollowUps}}{{/FollowUps}}
{{#RedFlags}}<h4>Red flags</h4>{{RedFlags}}{{/RedFlags}}
{{#References}}<div class="refs">{{References}}</div>{{/References}}
<div class="meta">{{Id}}</div>"""
CSS = """.card { font-family: -apple-system, Helvetica, Arial, sans-serif; font-size: 17px; text-align: left;
  color: #111; background: #fff; }
.question { font-weight: 600; font-size: 19px; }
.meta { color: #777; font-size: 13px; margin: 4px 0; }
code, pre { font-family: Menlo, Consolas, monospace; font-size: 15px; background: #f3f3f3; }
pre { padding: 6px; white-space: pre-wrap; }
h4 { margin: 12px 0 4px; }
.refs { color: #666; font-size: 13px; margin-top: 10px; }"""


def _inline(text: str) -> str:
    """Escape, then `code`, **bold** and *italic* / _italic_ (see core/inline_markdown.py)."""
    from dlprep.core.inline_markdown import to_html

    return to_html(text)


def markdown_to_html(text: str) -> str:
    """The markdown the bank uses: paragraphs, - and 1. lists, fenced and indented code, `code`, **bold**, *italic*."""
    blocks: list[str] = []
    lines = text.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            blocks.append("<pre>" + html.escape("\n".join(code), quote=False) + "</pre>")
            i += 1
            continue
        if line.startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            code = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                code.append(lines[i][4:])
                i += 1
            blocks.append("<pre>" + html.escape("\n".join(code).rstrip("\n"), quote=False) + "</pre>")
            continue
        ordered = re.match(r"\s*\d+[.)]\s+", line)
        if ordered or re.match(r"\s*[-*]\s+", line):
            tag, items = ("ol" if ordered else "ul"), []
            pattern = r"\s*\d+[.)]\s+" if ordered else r"\s*[-*]\s+"
            while i < len(lines) and lines[i].strip():
                if re.match(pattern, lines[i]):
                    items.append(re.sub(pattern, "", lines[i], count=1))
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            blocks.append(f"<{tag}>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + f"</{tag}>")
            continue
        if not line.strip():
            i += 1
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith("```"):
            if para and re.match(r"\s*([-*]|\d+[.)])\s+", lines[i]):
                break
            para.append(lines[i].strip())
            i += 1
        blocks.append("<p>" + _inline(" ".join(para)) + "</p>")
    return "\n".join(blocks)


def note_fields(card: Card, bank: Bank | None = None) -> list[str]:
    rubric = "<ol>" + "".join(f"<li>{_inline(p.point)} <i>(weight {p.weight})</i></li>" for p in card.rubric)
    follow_ups = "".join(f"<p><b>{_inline(f.question)}</b></p>{markdown_to_html(f.answer)}" for f in card.follow_ups)
    red_flags = "<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in card.red_flags) + "</ul>" if card.red_flags else ""
    return [
        card.id,
        html.escape(f"{card.topic} · {card.difficulty} · {card.kind}"),
        _inline(card.question),
        markdown_to_html(card.answer),
        rubric + "</ol>",
        follow_ups,
        red_flags,
        "<br>".join(_citation_html(bank, c) for c in card.references),
    ]


def _citation_html(bank: Bank | None, citation: Citation) -> str:
    ref = bank.references.get(citation.key) if bank else None
    if ref is None:
        return html.escape(citation.key + (f" ({citation.at})" if citation.at else ""))
    text = html.escape(ref.describe() + (f" ({citation.at})" if citation.at else ""))
    return f'<a href="{html.escape(ref.link)}">{text}</a>' if ref.link else text


def write_deck(
    cards: list[Card],
    path: Path,
    deck_name: str = "dlprep",
    bank: Bank | None = None,
    tick: Callable[[int], None] = lambda n: None,
) -> int:
    """Write ``cards`` to an .apkg file; returns the number of notes.
    ``tick(1)`` is called per card (for a progress bar)."""
    try:
        import genanki
    except ImportError:
        raise DlprepError(INSTALL_HINT) from None
    model = genanki.Model(
        MODEL_ID,
        "dlprep card",
        fields=[{"name": f} for f in FIELDS],
        templates=[{"name": "Question", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
        sort_field_index=2,
    )
    # A stable deck id per deck name: re-importing updates the same deck.
    deck = genanki.Deck(1 << 30 | zlib.crc32(deck_name.encode()), deck_name)
    for card in cards:
        tags = [f"dlprep::{card.topic}", card.difficulty, card.kind] + ([card.pattern] if card.pattern else [])
        deck.add_note(
            genanki.Note(
                model=model, fields=note_fields(card, bank), guid=genanki.guid_for("dlprep", card.id), tags=tags
            )
        )
        tick(1)
    try:
        genanki.Package(deck).write_to_file(str(path))
    except OSError as exc:
        raise DlprepError(f"{path}: cannot write ({exc.strerror})") from None
    return len(cards)
