"""The inline markdown of card text: `code`, **bold** and *italic* (or _italic_).

Questions, rubric points, red flags and cheat-sheet bullets are markdown, so
every place that shows them (terminal, Anki, HTML cheat sheets) reads them
through :func:`spans` and agrees on what is emphasis. The rules follow
CommonMark's delimiter runs, a little stricter so that maths stays maths:

- a `code span` is literal (no emphasis inside); unmatched backticks are text;
- ``*`` and ``_`` open emphasis only before a non-space and close only after
  one, and neither works inside a word: ``a * b``, ``x_i``, ``2*x*y`` and
  ``||w||_1`` stay as written (CommonMark would italicize ``x`` in ``2*x*y``);
- a backslash before ASCII punctuation makes it literal (``\\*``);
- runs of three or more delimiters are left as they are.

Pure: no Rich, no HTML beyond :func:`to_html`.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    text: str
    code: bool = False
    bold: bool = False
    italic: bool = False


_BACKTICKS = re.compile(r"`+")
_CODE = object()  # stands for a whole code span when looking at neighbours


def _code_split(text: str) -> list[tuple[str, bool]]:
    """Text and code pieces: [(text, is_code)]."""
    pieces: list[tuple[str, bool]] = []
    start = pos = 0
    while (m := _BACKTICKS.search(text, pos)) is not None:
        if m.start() > 0 and text[m.start() - 1] == "\\" and not _escaped(text, m.start() - 1):
            pos = m.end()
            continue
        n = len(m.group())
        close = re.compile(rf"(?<!`)`{{{n}}}(?!`)").search(text, m.end())
        if close is None:
            pos = m.end()
            continue
        if m.start() > start:
            pieces.append((text[start : m.start()], False))
        code = text[m.end() : close.start()]
        if len(code) > 2 and code[0] == code[-1] == " " and code.strip():
            code = code[1:-1]
        pieces.append((code, True))
        start = pos = close.end()
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces


def _escaped(text: str, i: int) -> bool:
    """Is text[i] preceded by an odd number of backslashes?"""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _is_space(ch: object) -> bool:
    return ch is None or (isinstance(ch, str) and ch.isspace())


def _is_punct(ch: object) -> bool:
    if not isinstance(ch, str):
        return False
    return ch in string.punctuation or unicodedata.category(ch)[0] in "PS"


def spans(text: str) -> list[Span]:
    """``text`` as styled spans, delimiters removed."""
    # atoms: one per character of text, one per code span; delimiter candidates are unescaped * and _
    atoms: list[tuple[object, bool]] = []  # (char or (_CODE, code)), is a delimiter candidate
    for piece, is_code in _code_split(text):
        if is_code:
            atoms.append(((_CODE, piece), False))
            continue
        i = 0
        while i < len(piece):
            ch = piece[i]
            if ch == "\\" and i + 1 < len(piece) and piece[i + 1] in string.punctuation:
                atoms.append((piece[i + 1], False))
                i += 2
                continue
            atoms.append((ch, ch in "*_"))
            i += 1

    def char(k: int) -> object:
        if k < 0 or k >= len(atoms):
            return None
        a = atoms[k][0]
        return "a" if isinstance(a, tuple) else a  # a code span counts as a word character

    # delimiter runs: (start, length, char, can_open, can_close)
    runs = []
    k = 0
    while k < len(atoms):
        ch, cand = atoms[k]
        if not cand:
            k += 1
            continue
        end = k
        while end < len(atoms) and atoms[end] == (ch, True):
            end += 1
        before, after = char(k - 1), char(end)
        left = not _is_space(after) and (not _is_punct(after) or _is_space(before) or _is_punct(before))
        right = not _is_space(before) and (not _is_punct(before) or _is_space(after) or _is_punct(after))
        can_open = left and (not right or _is_punct(before))
        can_close = right and (not left or _is_punct(after))
        if end - k <= 2:
            runs.append((k, end - k, ch, can_open, can_close))
        k = end

    # match closers with the nearest opener of the same character and length
    removed: set[int] = set()
    events: dict[int, list[tuple[str, int]]] = {}
    stack: list[tuple[int, int, object]] = []
    for start, length, ch, can_open, can_close in runs:
        if can_close:
            for j in range(len(stack) - 1, -1, -1):
                o_start, o_len, o_ch = stack[j]
                if o_ch == ch and o_len == length:
                    kind = "bold" if length == 2 else "italic"
                    events.setdefault(o_start + o_len, []).append((kind, 1))
                    events.setdefault(start, []).append((kind, -1))
                    removed.update(range(o_start, o_start + o_len))
                    removed.update(range(start, start + length))
                    del stack[j:]
                    break
            else:
                if can_open:
                    stack.append((start, length, ch))
            continue
        if can_open:
            stack.append((start, length, ch))

    out: list[Span] = []
    depth = {"bold": 0, "italic": 0}
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.append(Span("".join(buf), bold=depth["bold"] > 0, italic=depth["italic"] > 0))
            buf.clear()

    for k, (a, _) in enumerate(atoms):
        if k in events:
            flush()
            for kind, step in events[k]:
                depth[kind] += step
        if k in removed:
            continue
        if isinstance(a, tuple):
            flush()
            out.append(Span(a[1], code=True, bold=depth["bold"] > 0, italic=depth["italic"] > 0))
        else:
            buf.append(str(a))
    flush()
    return out


def plain(text: str) -> str:
    """``text`` without its markdown delimiters."""
    return "".join(s.text for s in spans(text))


def to_html(text: str) -> str:
    """``text`` as escaped HTML with <code>, <b> and <i>."""
    parts = []
    for s in spans(text):
        piece = html.escape(s.text, quote=False)
        if s.code:
            piece = f"<code>{piece}</code>"
        if s.italic:
            piece = f"<i>{piece}</i>"
        if s.bold:
            piece = f"<b>{piece}</b>"
        parts.append(piece)
    return "".join(parts)
