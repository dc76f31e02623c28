"""The quiz in a terminal: Rich output, line input, one key (plus Enter) per choice.

Line input (rather than raw key reads) keeps it usable over ssh, in tmux, in
an 80-column terminal, and when scripted; every prompt answers ``?``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dlprep.cli import render
from dlprep.core.bank import Card, FollowUp
from dlprep.core.scheduler import GRADE_LABELS
from dlprep.features.quiz import Outcome, Quit, SessionSummary, Suggestion

HELP_QUESTION = """\
Answer in your head, out loud, or type it - then reveal the model answer.
  Enter  reveal the answer
  t      type an answer (finish with an empty line); it is saved with the review
  q      quit: every grade you confirmed is already saved
  ?      this help"""

HELP_RUBRIC = """\
Mark the rubric points your answer covered; dlprep weighs them into a grade.
  1 3 4  the numbers of the points you covered (spaces or commas)
  a      all of them
  Enter  none of them
  q      quit"""

HELP_CONFIRM = """\
The suggested grade comes from your weighted rubric coverage:
  >= 90% -> 5, >= 75% -> 4, >= 50% -> 3, >= 30% -> 2, > 0% -> 1, else 0.
A missed follow-up caps it at 3; in rapid-fire, going over the target lowers it by one.
Grades below 4 bring the card back later in this session (the schedule is not moved twice).
  Enter  accept the suggestion
  0-5    use this grade instead
  s      run the card's show-me demo (needs torch)
  g      show the grade scale
  q      quit"""


class LiveTimer:
    """Rapid-fire clock on the line above the prompt, redrawn every half second.

    It only draws on a real terminal: it saves the cursor, moves up a line,
    rewrites the clock and restores the cursor, so typing at the prompt is
    not disturbed. It stops as soon as the prompt returns.
    """

    def __init__(self, target_s: int, stream=None, interval: float = 0.5):
        self.target_s = target_s
        self.stream = stream or sys.stdout
        self.interval = interval
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def line(self) -> str:
        elapsed = int(time.monotonic() - self.start)
        over = " - over the target" if elapsed > self.target_s else ""
        return f"timer: {elapsed}s of {self.target_s}s{over}"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write(f"\x1b7\x1b[1A\r{self.line()}\x1b[K\x1b8")
            self.stream.flush()

    def __enter__(self) -> LiveTimer:
        self.stream.write(self.line() + "\n")
        self.stream.flush()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class TerminalQuizUI:
    def __init__(
        self,
        console: Console,
        read_line: Callable[[str], str],
        run_demo: Callable[[str], None],
        notices: dict[str, Any] | None = None,
    ):
        self.console = console
        self.read_line = read_line
        self.run_demo = run_demo
        self.notices = notices or {}  # card id -> errata Notice: corrected since the user's last review

    # ---------------------------------------------------------------- helpers

    def ask(self, prompt: str, help_text: str) -> str:
        while True:
            reply = self.read_line(prompt).strip()
            if reply == "?":
                self.console.print(Text(help_text, style="dim"))
                continue
            if reply.lower() in ("q", "quit"):
                raise Quit
            return reply

    # ---------------------------------------------------------------- QuizUI

    def question(self, card: Card, index: int, total: int, repeat: bool, target_s: int | None) -> str | None:
        self.console.print()
        panel = render.question_panel(card, index, total)
        if repeat:
            panel.subtitle = Text("again: graded below 4 earlier this session")
            panel.subtitle_align = "right"
        self.console.print(panel)
        notice = self.notices.get(card.id)
        if notice is not None and not repeat:
            for line in notice.lines():
                self.console.print(Text(line, style="yellow"))
        live = target_s is not None and self.console.is_terminal and sys.stdin.isatty()
        if target_s is not None:
            self.console.print(Text(f"rapid-fire: aim to have your answer ready within {target_s}s", style="yellow"))
        while True:
            if live:
                with LiveTimer(target_s):
                    reply = self.ask("Enter reveal · t type · q quit · ? help > ", HELP_QUESTION)
            else:
                reply = self.ask("Enter reveal · t type · q quit · ? help > ", HELP_QUESTION)
            if reply == "":
                return None
            if reply.lower() == "t":
                return self.type_answer()
            self.console.print(Text("Press Enter to reveal, t to type, q to quit, ? for help.", style="yellow"))

    def type_answer(self) -> str | None:
        self.console.print(Text("Type your answer; an empty line ends it.", style="dim"))
        lines = []
        while True:
            line = self.read_line("  | ")
            if not line.strip():
                break
            lines.append(line.rstrip())
        return "\n".join(lines) or None

    def reveal(self, card: Card, elapsed_s: float, target_s: int | None) -> None:
        if target_s is not None:
            over = elapsed_s - target_s
            verdict = f"over by {over:.0f}s: suggested grade lowered by one" if over > 0 else "within target"
            self.console.print(
                Text(
                    f"answered in {elapsed_s:.0f}s (target {target_s}s): {verdict}",
                    style="red" if over > 0 else "green",
                )
            )
        self.console.print(
            Panel(render.markdown(card.answer), title="model answer", title_align="left", border_style="green")
        )
        if card.red_flags:
            self.console.print(render.red_flags(card))

    def rubric(self, card: Card) -> set[int]:
        self.console.print(Text("\nWhich rubric points did you cover?", style="bold"))
        self.console.print(render.rubric_table(card))
        n = len(card.rubric)
        while True:
            reply = self.ask(f"points covered (1-{n}, a = all, Enter = none) > ", HELP_RUBRIC)
            chosen = parse_points(reply, n)
            if chosen is not None:
                return chosen
            self.console.print(
                Text(f"Type numbers from 1 to {n} (e.g. 1 3), a for all, Enter for none.", style="yellow")
            )

    def follow_up(self, card: Card, follow_up: FollowUp) -> bool:
        self.console.print(
            Panel(
                render.inline(follow_up.question, style="bold"),
                title="follow-up",
                title_align="left",
                border_style="magenta",
            )
        )
        self.ask("answer it, then Enter to reveal > ", "Think or say your answer, then press Enter.")
        self.console.print(render.markdown(follow_up.answer))
        while True:
            reply = self.ask("did you get it? y/n > ", "y if your answer had the same substance, n if not.")
            if reply.lower() in ("y", "yes"):
                return True
            if reply.lower() in ("n", "no"):
                return False

    def confirm(self, card: Card, suggestion: Suggestion, demo: bool) -> int:
        self.console.print(Text(f"suggested grade {suggestion.grade}: {GRADE_LABELS[suggestion.grade]}", style="bold"))
        for reason in suggestion.reasons:
            self.console.print(Text(f"  · {reason}", style="dim"))
        demo_hint = " · s demo" if demo else ""
        while True:
            reply = self.ask(f"Enter accept · 0-5 override{demo_hint} · g scale · ? help > ", HELP_CONFIRM)
            if reply == "":
                return suggestion.grade
            if reply in {"0", "1", "2", "3", "4", "5"}:
                return int(reply)
            if reply.lower() == "g":
                self.console.print(grade_scale())
                continue
            if reply.lower() == "s" and card.show_me:
                if demo:
                    self.run_demo(card.show_me)
                else:
                    self.console.print(Text("Demos need torch: pip install torch (see README).", style="yellow"))
                continue
            self.console.print(Text("Enter to accept, a grade 0-5 to override, ? for help.", style="yellow"))

    def saved(self, outcome: Outcome) -> None:
        if outcome.repeat:
            msg = f"saved (same-session repeat, schedule unchanged): grade {outcome.grade}"
        elif outcome.due:
            msg = f"saved: grade {outcome.grade} · next review {outcome.due.isoformat()}"
        else:
            msg = f"saved: grade {outcome.grade} (cram: schedule unchanged)"
        if outcome.comes_back:
            msg += " · comes back later this session"
        self.console.print(Text(msg, style="dim"))

    def save_failed(self, card: Card, problem: str) -> str:
        self.console.print(Text(f"could not save {card.id}: {problem}", style="bold red"))
        self.console.print(Text("your answer and grade are kept in memory", style="dim"))
        help_text = (
            "r or Enter: try to save again · s: skip this card (nothing saved for it) · "
            "q: end the session; every review saved so far is kept and the summary follows"
        )
        while True:
            reply = self.ask("r retry · s skip this card · q quit > ", help_text).lower()
            if reply in ("", "r", "retry"):
                return "retry"
            if reply in ("s", "skip"):
                return "skip"


def parse_points(reply: str, n: int) -> set[int] | None:
    """'1 3,4' -> {0, 2, 3}; 'a' -> all; '' -> none; None when invalid."""
    reply = reply.strip().lower()
    if reply in ("a", "all"):
        return set(range(n))
    if not reply:
        return set()
    chosen = set()
    for part in reply.replace(",", " ").split():
        # "134" with n < 10 means 1, 3 and 4: one key per point.
        digits = list(part) if part.isdigit() and n < 10 else [part]
        for d in digits:
            if not d.isdigit() or not 1 <= int(d) <= n:
                return None
            chosen.add(int(d) - 1)
    return chosen


def grade_scale() -> Table:
    table = Table(box=None, show_header=False)
    for g, label in GRADE_LABELS.items():
        table.add_row(str(int(g)), label)
    return table


def summary_view(summary: SessionSummary, rapid: bool) -> object:
    from rich.console import Group

    first = summary.first_attempts
    parts: list[object] = []
    title = "Session summary" + (" (interrupted: every confirmed grade is saved)" if summary.interrupted else "")
    columns = [
        render.Col("card"),
        render.Col("grade", justify="right"),
        render.Col("coverage", justify="right"),
        render.Col("follow-up"),
        render.Col("time" + (" / target" if rapid else ""), justify="right"),
    ]
    rows: list[list[str | Text]] = []
    for o in summary.outcomes:
        t = f"{o.seconds:.0f}s"
        if rapid:
            t += f" / {o.card.time_target_s}s" + (" !" if o.over_time else "")
        rows.append(
            [o.card.id + (" (again)" if o.repeat else ""), str(o.grade), f"{o.coverage:.0%}", o.follow_up or "-", t]
        )
    parts.append(render.FitTable(columns, rows, title=title))
    avg = sum(o.coverage for o in first) / len(first) if first else 0.0
    minutes = summary.seconds / 60
    parts.append(
        Text(
            f"{len(first)} of {summary.planned} card(s) done · {len(summary.outcomes) - len(first)} repeat(s) · "
            f"average coverage {avg:.0%} · {minutes:.1f} min"
        )
    )
    parts.append(Text(f"due tomorrow: {summary.due_tomorrow}"))
    weak = summary.weakest_points()
    if weak:
        parts.append(Text("Weakest rubric points this session:", style="bold"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for cid, point, weight in weak:
            grid.add_row("  -", render.inline(point) + Text(f" ({cid}, weight {weight})", style="dim"))
        parts.append(grid)
    return Group(*parts)
