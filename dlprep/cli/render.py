"""Rich renderables for cards and schedules. Card text is never parsed as markup."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dlprep.core.bank import Bank, Card
from dlprep.layout import column_range, fit_widths


@dataclass(frozen=True)
class Col:
    """A column of a :class:`FitTable`. Only a ``wrap`` column may break a cell
    across lines, and only between words; ``min_width`` keeps it readable."""

    header: str
    wrap: bool = False
    justify: str = "left"
    min_width: int = 0


class FitTable:
    """A table whose cells are never cut and whose words are never split.

    Ids are what `card` and `review` need, so they must survive any width.
    When the columns fit (each keeping its longest word, or its whole cell
    if it may not wrap) this is an ordinary Rich table, without its borders
    if only that way it fits. When it still does not fit, each row becomes
    a block: the first cell on its own line, the short cells below it as
    "header value", then the wrapping cells, indented.
    """

    INDENT = 4

    def __init__(self, columns: list[Col], rows: list[list[str | Text]], title: str | None = None, **table: Any):
        self.columns = columns
        self.rows = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
        self.title = title
        self.table = table

    def layout(self, console: Any, width: int) -> Table | None:
        """The table at ``width`` (bordered if it fits, else borderless), or None."""
        from rich.measure import Measurement

        ranges = []
        for i, col in enumerate(self.columns):
            low, high = column_range([col.header, *(row[i].plain for row in self.rows)], col.wrap, cell_len)
            ranges.append((max(low, min(col.min_width, high)), high))
        styles = [self.table] + ([{**self.table, "box": None}] if self.table.get("box", True) is not None else [])
        for style in styles:
            table = self._empty(style)
            for col in table.columns:
                col.width = 1
            overhead = Measurement.get(console, console.options.update_width(10**6), table).maximum - len(ranges)
            widths = fit_widths([lo for lo, _ in ranges], [hi for _, hi in ranges], width - overhead)
            if widths is not None:
                for col, w in zip(table.columns, widths, strict=True):
                    col.width = w
                for row in self.rows:
                    table.add_row(*row)
                return table
        return None

    def _empty(self, style: dict[str, Any]) -> Table:
        table = Table(title=self.title, title_justify="left", **style)
        for col in self.columns:
            table.add_column(col.header, justify=col.justify, no_wrap=not col.wrap)  # type: ignore[arg-type]
        return table

    def __rich_console__(self, console: Any, options: Any) -> Any:
        table = self.layout(console, options.max_width)
        if table is not None:
            yield table
            return
        if self.title:
            yield Text(self.title, style="table.title")
        for row in self.rows:
            yield Text.assemble(row[0], style="bold")
            meta = [
                Text.assemble(Text(col.header + " ", style="dim"), cell)
                for col, cell in zip(self.columns[1:], row[1:], strict=True)
                if not col.wrap and cell.plain
            ]
            if meta:
                yield Padding(Text(" · ", style="dim").join(meta), (0, 0, 0, self.INDENT))
            wrapping = [col for col in self.columns[1:] if col.wrap]
            for col, cell in zip(self.columns[1:], row[1:], strict=True):
                if col.wrap and cell.plain:
                    head = Text(col.header + " ", style="dim") if len(wrapping) > 1 else Text("")
                    yield Padding(Text.assemble(head, cell), (0, 0, 0, self.INDENT))


class CodeListing:
    """Source code with line numbers that is never cut at the terminal edge.

    A line wider than the terminal goes on over as many lines as it needs,
    each marked with ``CONTINUED`` in the number gutter; it breaks after a
    space when there is one in the second half of the line, else at the edge.
    The text is exactly the source: joining a line and its continuations
    gives the original line back.
    """

    CONTINUED = "↪"

    def __init__(self, source: str, lexer: str = "python", theme: str = "ansi_dark"):
        self.source = source.expandtabs(4).rstrip("\n")
        self.lexer = lexer
        self.theme = theme

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.syntax import Syntax

        highlighted = Syntax(self.source, self.lexer, theme=self.theme).highlight(self.source)
        lines = highlighted.split("\n", allow_blank=True)[: self.source.count("\n") + 1]  # not Syntax's last "\n"
        gutter = len(str(len(lines)))
        room = max(options.max_width - gutter - 1, 8)
        for number, line in enumerate(lines, 1):
            for k, piece in enumerate(self.pieces(line, room)):
                label = f"{number:>{gutter}} " if k == 0 else f"{self.CONTINUED:>{gutter}} "
                yield Text.assemble((label, "dim"), piece, no_wrap=True, end="\n")

    @staticmethod
    def pieces(line: Text, room: int) -> list[Text]:
        """``line`` cut into pieces at most ``room`` cells wide."""
        offsets, start, width = [], 0, 0
        plain = line.plain
        for i, ch in enumerate(plain):
            w = cell_len(ch)
            if width + w > room:
                space = plain.rfind(" ", start, i)
                cut = space + 1 if space >= start + room // 2 else i
                offsets.append(cut)
                start, width = cut, cell_len(plain[cut:i])
            width += w
        return list(line.divide(offsets)) if offsets else [line]


def markdown(text: str) -> Any:
    """Rich's Markdown, with code blocks that are not padded with extra blank lines."""
    return _markdown_class()(text)


@cache
def _markdown_class() -> type:
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    class TightCodeBlock(CodeBlock):
        # Rich pads code blocks with a blank line above and below, on top of the blank line
        # Markdown already puts between blocks: two blank lines around every code block.
        def __rich_console__(self, console: Any, options: Any) -> Any:
            code = str(self.text).rstrip()
            yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, padding=(0, 1))

    class TightMarkdown(Markdown):
        elements: ClassVar[dict[str, type]] = {
            **Markdown.elements,
            "fence": TightCodeBlock,
            "code_block": TightCodeBlock,
        }

    return TightMarkdown


def question_panel(card: Card, index: int | None = None, total: int | None = None) -> Panel:
    counter = f"{index}/{total}  " if index is not None and total else ""
    title = Text(f"{counter}{card.topic} · {card.difficulty} · {card.kind}")
    return Panel(inline(card.question, style="bold"), title=title, title_align="left", border_style="cyan")


def rubric_table(card: Card, marks: set[int] | None = None) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("key", justify="right", style="cyan", no_wrap=True)
    table.add_column("rubric point", overflow="fold")
    table.add_column("weight", justify="right", no_wrap=True)
    for i, p in enumerate(card.rubric):
        key = str(i + 1)
        if marks is not None:
            key = ("[x] " if i in marks else "[ ] ") + key
        table.add_row(Text(key), inline(p.point), str(p.weight))
    return table


class DayStrip:
    """Numbers per day under their dates, right-aligned in columns.

    Days are two spaces apart; one space when that is what fits; and when
    even that does not fit, the days go on in blocks of a week, one under
    the other. Rows are lists of cells, one per day; the first is the header.
    """

    def __init__(self, rows: list[list[str]], styles: list[str | None]):
        self.rows = rows
        self.styles = styles

    def __rich_console__(self, console: Any, options: Any) -> Any:
        days = len(self.rows[0])
        widths = [max(cell_len(row[d]) for row in self.rows) for d in range(days)]
        for size, gap in ((days, 2), (days, 1), (7, 2), (7, 1)):
            blocks = [range(start, min(start + size, days)) for start in range(0, days, size)]
            if all(sum(widths[d] for d in b) + gap * (len(b) - 1) <= options.max_width for b in blocks):
                break
        for i, block in enumerate(blocks):
            if i:
                yield Text("")
            yield from self._block(block, widths, gap)

    def _block(self, days: range, widths: list[int], gap: int) -> Any:
        for row, style in zip(self.rows, self.styles, strict=True):
            cells = [" " * (widths[d] - cell_len(row[d])) + row[d] for d in days]
            yield Text((" " * gap).join(cells), style=style or "", no_wrap=True)


def inline(text: str, style: str = "") -> Text:
    """Card text (inline markdown: `code`, **bold**, *italic*) as a Rich Text.

    The delimiters are read by ``core.inline_markdown`` and never by Rich's
    markup parser, so brackets and everything else print as written. Styles
    are the ones Rich's Markdown uses for answers, so both look alike.
    """
    from dlprep.core.inline_markdown import spans

    out = Text(style=style)
    for s in spans(text):
        names = [n for n, on in (("markdown.code", s.code), ("bold", s.bold), ("italic", s.italic)) if on]
        out.append(s.text, style=" ".join(names) or None)
    return out


def cards_table(cards: list[Card], total: int | None = None) -> FitTable:
    """Cards as rows; ``total`` (when more were chosen than shown) adds a count of the rest."""
    total = len(cards) if total is None else total
    columns = [Col("id"), Col("topic"), Col("level"), Col("question", wrap=True, min_width=30)]
    rows: list[list[str | Text]] = [[c.id, c.topic, c.difficulty, inline(c.question)] for c in cards]
    if total > len(cards):
        rows.append([f"... and {total - len(cards)} more", "", "", ""])
    return FitTable(columns, rows, title=f"{total} cards")


def due_table(due: list[Any], day: Any, title: str | None = None, more: int = 0, **table: Any) -> FitTable:
    """Due cards (``features.schedule.DueCard``) with how overdue they are on ``day``."""
    rows: list[list[str | Text]] = [
        [d.card.id, d.card.topic, d.state.due.isoformat(), f"{d.overdue_days(day)}d"] for d in due
    ]
    if more > 0:
        rows.append([f"... and {more} more", "", "", ""])
    columns = [Col("id"), Col("topic"), Col("due"), Col("overdue")]
    return FitTable(columns, rows, title=title, **table)


def card_panel(card: Card, bank: Bank | None = None) -> Group:
    parts: list[Any] = [question_panel(card)]
    parts.append(Panel(markdown(card.answer), title="model answer", title_align="left", border_style="green"))
    parts.append(Text("Rubric", style="bold"))
    parts.append(rubric_table(card))
    if card.follow_ups:
        parts.append(Text("\nFollow-ups", style="bold"))
        for f in card.follow_ups:
            parts.append(Text("Q: ", style="bold cyan") + inline(f.question))
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
        refs = Table.grid(padding=(0, 1))
        refs.add_column(no_wrap=True)
        refs.add_column(overflow="fold")  # a URL longer than the line is folded, never cut
        for c in card.references:
            refs.add_row("  ·", Text(bank.cite(c) if bank else c.key), style="dim")
        parts.append(refs)
    parts.append(Text("\n" + "\n".join(extras), style="dim"))
    return Group(*parts)


def red_flags(card: Card) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="red", no_wrap=True)
    grid.add_column(overflow="fold")
    for flag in card.red_flags:
        grid.add_row("  ✗", inline(flag))
    return Group(Text("\nRed flags (what not to say)", style="bold red"), grid)


def schedule_line(progress: dict[str, Any]) -> Text:
    if not progress["reviews"]:
        return Text("new card: not reviewed yet", style="dim")
    return Text(
        f"reviews: {len(progress['reviews'])} · due {progress['due']} · interval {progress['interval_days']}d"
        f" · easiness {progress['easiness']:.2f} · repetitions {progress['repetitions']}",
        style="dim",
    )


HISTORY_ROWS = 10


def review_history(progress: dict[str, Any], last: int = HISTORY_ROWS) -> Group | None:
    """The card's last reviews, dated: when, grade, mode and the follow-up's outcome."""
    reviews = progress["reviews"]
    if not reviews:
        return None
    shown = reviews[-last:]
    title = "Review history" + (f" (last {len(shown)} of {len(reviews)})" if len(shown) < len(reviews) else "")
    rows: list[list[str | Text]] = []
    for r in shown:
        mode = r["mode"] + ("" if r["counts"] or r["mode"] == "repeat" else " (schedule unchanged)")
        rows.append([r["at"][:16].replace("T", " "), str(r["grade"]), mode, r["follow_up"] or "-"])
    columns = [Col("date"), Col("grade", justify="right"), Col("mode"), Col("follow-up")]
    return Group(Text("\n" + title, style="bold"), FitTable(columns, rows, box=None, pad_edge=False))


def mastery_bar(value: float | None, width: int = 10) -> Text:
    if value is None:
        return Text("-" * width, style="dim")
    filled = round(value * width)
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim") + Text(f" {value:4.0%}")


class _NotedLabel:
    """A tree label with a note on its right that wraps under itself, not under
    the label; on its own line below when not even its longest word fits."""

    def __init__(self, label: Text, note: Text):
        self.label, self.note = label, note

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from dlprep.layout import column_range

        room = options.max_width - self.label.cell_len - 2
        if room >= column_range([self.note.plain], wrap=True, width=cell_len)[0]:
            grid = Table.grid(padding=(0, 0, 0, 2))
            grid.add_column(no_wrap=True)
            grid.add_column()
            grid.add_row(self.label, self.note)
            yield grid
        else:
            yield self.label
            yield Padding(self.note, (0, 0, 0, 2))


def topic_tree(bank: Bank, mastery: dict[str, float]) -> Any:
    """The dependency map: each topic under its first prerequisite, others noted."""
    from rich.tree import Tree

    # The title is printed above a hidden root, which saves the root's four columns of guide:
    # the deepest line with a note is then 79 columns wide and fits an 80-column terminal.
    root = Tree(Text(""), hide_root=True)
    nodes: dict[str, Any] = {}
    for tid in bank.topic_order():
        t = bank.topics[tid]
        label: Any = Text(f"{t.id:<14}") + mastery_bar(mastery.get(tid))
        others = [p for p in t.prerequisites[1:]]
        if others:
            label = _NotedLabel(label, Text(f"(also needs {', '.join(others)})", style="dim"))
        parent = nodes.get(t.prerequisites[0]) if t.prerequisites else None
        nodes[tid] = (parent or root).add(label)
    return Group(Text("topics (mastery from your reviews)", style="bold"), root)
