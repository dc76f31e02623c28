"""`dlprep quiz` and `dlprep mock`: the interactive sessions."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from dlprep.cli import app
from dlprep.cli.options import Difficulty, JsonOpt, Role, TopicOpt
from dlprep.cli.output import Output


def read_line(prompt: str, stream=None) -> str:
    """One line of input; EOFError when input is closed (Ctrl-D, closed pipe).

    The prompt goes to ``stream`` (stdout by default; stderr under --json)."""
    stream = stream or sys.stdout
    if stream is sys.stdout and sys.stdin.isatty() and sys.stdout.isatty():
        return input(prompt)  # line editing via readline
    stream.write(prompt)
    stream.flush()
    line = sys.stdin.readline()
    if line == "":
        stream.write("\n")
        raise EOFError
    return line.rstrip("\n")


def demo_runner(out: Output):
    def run(demo_id: str) -> None:
        from dlprep.features.demos import run_demo

        code = run_demo(demo_id, device="auto", stream=True)
        if code != 0:
            out.message(f"demo {demo_id} ended with status {code}; back to the quiz")

    return run


@app.command()
def quiz(
    ctx: typer.Context,
    topic: TopicOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many cards.")] = None,
    new: Annotated[
        int | None, typer.Option("--new", min=0, help="New cards to introduce (default: the daily limit).")
    ] = None,
    role: Role = None,
    difficulty: Difficulty = None,
    cram: Annotated[
        bool, typer.Option("--cram", help="Ask cards that are not due; the schedule is left alone.")
    ] = False,
    reschedule: Annotated[
        bool, typer.Option("--reschedule", help="With --cram: let these reviews move the schedule.")
    ] = False,
    rapid: Annotated[bool, typer.Option("--rapid", help="Rapid-fire: answer against each card's time target.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the session summary as JSON on stdout at the end.")
    ] = False,
) -> None:
    """Quiz today's due and new cards against their rubrics.

    Answer, reveal the model answer, mark the rubric points you covered, take the
    follow-up, confirm the grade: it is saved at once and feeds SM-2 scheduling.
    """
    from dlprep.features.demos import torch_available
    from dlprep.features.quiz import Options, QuizSession, select_cards

    obj = ctx.obj
    cfg = obj.config
    opts = Options(
        topics=list(topic or []),
        limit=limit,
        new=new,
        role=role.value if role else None,
        difficulty=difficulty.value if difficulty else None,
        cram=cram,
        reschedule=reschedule,
        rapid=rapid,
    )
    bank, store = obj.bank, obj.store
    cards = select_cards(bank, store, obj.now(), opts, cfg.day_rollover_hour, cfg.new_per_day, cfg.review_cap)
    out = Output(json_out)
    if not cards:
        out.message("Nothing to review right now: no cards due and no new cards left for today.")
        out.message("Try `dlprep today` for the forecast, or `dlprep quiz --cram` to practise anyway.")
        if json_out:
            out.json({"cards": 0, "reviews": []})
        return
    session = QuizSession(bank, store, obj.now, opts, cfg.day_rollover_hour, demo_available=torch_available())
    _run_session(session, cards, out, rapid, notices=_notices(obj))


def _notices(obj: Any) -> dict[str, Any]:
    """Cards corrected since the user's last review of them (see features/errata.py)."""
    from dlprep.features.errata import notices

    return notices(obj.bank, obj.store, obj.errata)


def _run_session(
    session, cards, out: Output, rapid: bool, emit_json: bool = True, notices: dict[str, Any] | None = None
) -> None:
    """Run a quiz session and always end with its summary (as JSON too, with --json)."""
    from rich.console import Console

    from dlprep.cli.quiz_ui import TerminalQuizUI, summary_view
    from dlprep.features.quiz import Quit

    # In --json mode the conversation goes to stderr so stdout holds only data.
    console = out.err if out.json_mode else out.console
    assert isinstance(console, Console)
    ui = TerminalQuizUI(console, _reader(out), demo_runner(out), notices)
    intro = f"{len(cards)} card(s) in this session. Type ? at any prompt for help, q to stop."
    console.print(intro, markup=False)
    ending: tuple[str, int] | None = None
    try:
        summary = session.run(cards, ui)
    except Quit:
        summary = session.summary()
    except KeyboardInterrupt:
        summary = session.summary(interrupted=True)
        ending = (f"interrupted: {len(summary.outcomes)} review(s) saved", 130)
    except EOFError:
        summary = session.summary(interrupted=True)
        ending = (f"input closed: {len(summary.outcomes)} review(s) saved", 1)
    if summary.outcomes:
        console.print()
        console.print(summary_view(summary, rapid))
    if out.json_mode and emit_json:
        out.json(summary.to_dict())
    if ending:
        out.message(ending[0])
        raise typer.Exit(ending[1])


def _reader(out: Output):
    if not out.json_mode:
        return read_line
    return lambda prompt: read_line(prompt, sys.stderr)


@app.command()
def mock(
    ctx: typer.Context,
    minutes: Annotated[int, typer.Option("--minutes", "-m", min=5, max=180, help="Length of the interview.")] = 45,
    role: Role = None,
    topics: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Topics to cover (default: chosen for you).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """A timed mock interview with chained follow-ups.

    4-5 topics from your weakest and your role's path; writes a markdown scorecard.
    """
    from dlprep.features.demos import torch_available
    from dlprep.features.mock import MockInterview, choose_topics, pick_cards
    from dlprep.features.plan import current_plan

    obj = ctx.obj
    bank, store = obj.bank, obj.store
    plan = current_plan(store)
    role_id = role.value if role else (plan.role if plan else None)
    chosen = [bank.check_topic(t) for t in topics] if topics else choose_topics(bank, store, role_id)
    cards = pick_cards(bank, store, chosen, minutes, role_id)
    out = Output(json_out)
    if not cards:
        out.message("No cards for those topics.")
        raise typer.Exit(1)
    interview = MockInterview(
        bank, store, obj.now, minutes, chosen, obj.config.day_rollover_hour, demo_available=torch_available()
    )
    console = out.err if json_out else out.console
    from dlprep.cli.quiz_ui import TerminalQuizUI

    ui = TerminalQuizUI(console, _reader(out), demo_runner(out))
    console.print(
        f"Mock interview: {minutes} minutes over {', '.join(chosen)}. Answer out loud, as you would to an "
        "interviewer. The clock is running; q ends early.",
        markup=False,
    )
    from dlprep.features.quiz import Quit

    ending: tuple[str, int] | None = None
    try:
        interview.run(cards, ui, console)
    except Quit:
        pass  # q: the scorecard says the interview was stopped early
    except KeyboardInterrupt:
        ending = ("interrupted: answers so far are saved", 130)
    except EOFError:
        ending = ("input closed: answers so far are saved", 1)
    card_path, result = interview.write_scorecard()
    if json_out:
        out.json({**result, "scorecard": str(card_path)})
    else:
        from dlprep.cli.render import markdown

        console.print(markdown(interview.scorecard_markdown(result)))
        console.print(f"scorecard written to {card_path}", markup=False)
    if ending:
        out.message(ending[0])
        raise typer.Exit(ending[1])
