"""Studying around the quiz: cheatsheet, assess, plan, stats."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt, Role
from dlprep.cli.output import Output
from dlprep.errors import DlprepError, UsageError


class SheetFormat(StrEnum):
    terminal = "terminal"
    md = "md"
    html = "html"


def _has_history() -> bool:
    from dlprep.paths import db_path

    return db_path().exists()


@app.command()
def cheatsheet(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Argument(help="The topic (see `dlprep topics`).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every topic, in dependency order.")] = False,
    fmt: Annotated[SheetFormat, typer.Option("--format", "-f", help="terminal, md or html.")] = SheetFormat.terminal,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    weak: Annotated[bool, typer.Option("--weak", help="Add the rubric points you miss most often.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Print or export a topic's cheat sheet.

    Formulas, one-liners, traps, tables, and what each answer must contain.
    """
    from dlprep.features.cheatsheet import build_sheets, to_html, to_markdown

    obj = ctx.obj
    bank = obj.bank
    if all_ == (topic is not None):
        raise UsageError("name one topic, or use --all")
    topics = bank.topic_order() if all_ else [bank.check_topic(topic)]
    store = obj.store if (weak and _has_history()) else None
    sheets = build_sheets(bank, topics, store, weak)
    out = Output(json_out)
    if json_out:
        out.json([s.to_dict() for s in sheets])
        return
    if fmt == SheetFormat.terminal and output is None:
        from dlprep.cli.render_study import sheet_view

        for s in sheets:
            out.print(sheet_view(s))
        if weak and store is None:
            out.message("no review history yet: --weak has nothing to add")
        return
    if fmt == SheetFormat.terminal:
        fmt = SheetFormat.html if output and output.suffix.lower() in (".html", ".htm") else SheetFormat.md
    title = "dlprep cheat sheet: " + (", ".join(s.title for s in sheets) if len(sheets) < 4 else "all topics")
    text = to_html(sheets, title) if fmt == SheetFormat.html else to_markdown(sheets)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DlprepError(f"{output}: cannot write ({exc.strerror})") from None
    out.message(f"wrote {output} ({len(sheets)} topic(s), {fmt.value})")


@app.command()
def assess(
    ctx: typer.Context,
    ratings: Annotated[
        str | None,
        typer.Option(
            "--ratings",
            help="Rate without prompts: backprop=3,cnns=4,... (all 11 areas; other topics such as llms optional).",
        ),
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Show your last assessment without rating again.")] = False,
    diagnostic: Annotated[
        bool, typer.Option("--diagnostic", help="Answer 10 questions, one per core topic, scored by rubric.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Rate yourself per topic and compare with your reviews."""
    from dlprep.features import assess as A

    obj = ctx.obj
    bank, store = obj.bank, obj.store
    out = Output(json_out)
    if diagnostic:
        _diagnostic(ctx, out)
        return
    others = A.other_areas(bank)
    if show:
        taken, given = store.latest_assessment()
        if not given:
            raise DlprepError("no self-assessment yet: run `dlprep assess`")
    else:
        if ratings is not None:
            try:
                given = A.parse_ratings(ratings, others)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            missing = [a for a in A.AREAS if a not in given]
            if missing:
                raise UsageError(f"--ratings is missing {', '.join(missing)}")
        else:
            given = _ask_ratings(out, others)
        taken = obj.now().isoformat()
        store.add_assessment(obj.now(), given)
    rated_others = [a for a in others if a in given]
    measured = A.measured(bank, store, [*A.AREAS, *rated_others])  # one pass over the history for both lists
    comparison = A.compare(given, measured)
    other_comparison = A.compare(given, measured, rated_others)
    total = A.total(given)
    result = {
        "taken_at": taken,
        "total": total,
        "band": A.band(total) if all(a in given for a in A.AREAS) else None,
        "areas": [c.to_dict() for c in comparison],
        "other_areas": [c.to_dict() for c in other_comparison],
    }
    if json_out:
        out.json(result)
        return
    from dlprep.cli.render_study import assessment_view

    out.print(assessment_view(result))


def _ask_ratings(out: Output, others: list[str]) -> dict[str, int]:
    from dlprep.cli.quiz_cmds import read_line
    from dlprep.features.assess import AREAS, SCALE

    out.message("Rate each area from 1 to 5:")
    for k, v in SCALE.items():
        out.message(f"  {k}  {v}")
    ratings = {}
    asked = [(a, False) for a in AREAS] + [(a, True) for a in others]
    for i, (area, optional) in enumerate(asked):
        if optional and i == len(AREAS):
            out.message("Other topics (not counted in the 11-55 total; Enter to skip):")
        while True:
            reply = read_line(f"{area:<14} 1-5{' or Enter' if optional else ''} > ").strip()
            if reply in {"1", "2", "3", "4", "5"}:
                ratings[area] = int(reply)
                break
            if optional and reply == "":
                break
            if reply.lower() == "q":
                raise DlprepError("assessment not saved")
            out.message("  a whole number from 1 to 5 (q to stop)")
    return ratings


def _diagnostic(ctx: typer.Context, out: Output) -> None:
    from dlprep.cli.quiz_cmds import _run_session
    from dlprep.features import assess as A
    from dlprep.features.demos import torch_available
    from dlprep.features.quiz import Options, QuizSession

    obj = ctx.obj
    bank, store = obj.bank, obj.store
    cards = A.diagnostic_cards(bank, store)
    if not cards:
        raise DlprepError("the bank has no cards in the core topics (backprop ... generative)")
    session = QuizSession(
        bank,
        store,
        obj.now,
        Options(),
        obj.config.day_rollover_hour,
        demo_available=torch_available(),
        mode="diagnostic",
        repeats=False,
    )
    out.message(f"Diagnostic: {len(cards)} questions, one per core topic. Answer as in an interview.")
    _run_session(session, cards, out, rapid=False, emit_json=False)
    coverage = {o.card.topic: o.coverage for o in session.outcomes}
    start, weak = A.recommend(coverage, bank.topic_order())
    if coverage:
        store.add_assessment(obj.now(), {t: 1 + round(4 * c) for t, c in coverage.items()}, kind="diagnostic")
    result = {
        "coverage": {t: round(c, 3) for t, c in coverage.items()},
        "start_with": start,
        "weak_topics": weak,
    }
    if out.json_mode:
        out.json(result)
        return
    if start:
        out.print(f"Start with {start}. Weak topics, in dependency order: {', '.join(weak)}.")
        out.print(f"Next: dlprep quiz --topic {start}   (or dlprep plan --role ROLE to lay out the weeks)")
    elif coverage:
        out.print("No topic below 50% coverage: go for rapid-fire (dlprep quiz --rapid) and mock interviews.")


@app.command()
def plan(
    ctx: typer.Context,
    role: Role = None,
    interview: Annotated[str | None, typer.Option("--interview", help="Interview date, YYYY-MM-DD.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the current plan.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Lay a role's study path over the days to the interview.

    The plan also orders new cards in `dlprep quiz` and `dlprep today`.
    """
    from dlprep.core.scheduler import study_day
    from dlprep.features.plan import HORIZON_DAYS, Plan, check_interview, current_plan, lay_out, save_plan
    from dlprep.features.progress import grades_by_card, topic_mastery

    obj = ctx.obj
    bank, store = obj.bank, obj.store
    out = Output(json_out)
    if clear:
        save_plan(store, None)
        out.message("plan cleared")
        return
    today = study_day(obj.now(), obj.config.day_rollover_hour)
    current = current_plan(store)
    if role is None and interview is None:
        if current is None:
            raise DlprepError("no plan yet: dlprep plan --role mle|nlp|cv|research|startup [--interview YYYY-MM-DD]")
        chosen = current
        if chosen.interview is not None and (chosen.interview - today).days > HORIZON_DAYS:
            raise DlprepError(
                f"the saved plan's interview date {chosen.interview.isoformat()} is out of range: "
                "set a new one with --interview YYYY-MM-DD, or --clear"
            )
    else:
        when = None
        if interview:
            try:
                when = date.fromisoformat(interview)
            except ValueError:
                raise UsageError(f"bad --interview {interview!r}: use YYYY-MM-DD") from None
            check_interview(when, today)
        role_id = role.value if role else (current.role if current else None)
        if role_id is None:
            raise UsageError("choose a role: --role mle|nlp|cv|research|startup")
        chosen = Plan(role_id, today, when if interview else (current.interview if current else None))
    _, ratings = store.latest_assessment()
    grades = grades_by_card(store)
    seen = {bank.by_id[c].topic for c in grades if c in bank.by_id}
    from dlprep.drills.load import drills_by_topic, load_drills

    by_topic = drills_by_topic(load_drills(bank, obj.extra_bank_dirs))
    view = lay_out(
        bank, chosen.role, chosen.start, chosen.interview, ratings, topic_mastery(bank, store), seen, by_topic
    )
    if chosen is not current:
        save_plan(store, chosen)
    from dlprep.features.forecast import interview_forecast

    recall = interview_forecast(bank, store, chosen)
    if json_out:
        out.json({**view.to_dict(), "expected_recall": recall.brief() if recall else None})
        return
    from dlprep.cli.render_study import plan_view

    out.print(plan_view(view, today, recall.headline() if recall else None))


@app.command()
def stats(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Only this topic's cards.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Activity heatmap, streaks, retention, time, the due forecast and mastery per topic."""
    from dlprep.features.stats import build_stats

    obj = ctx.obj
    bank = obj.bank
    data = build_stats(
        bank, obj.store, obj.now(), obj.config.day_rollover_hour, bank.check_topic(topic) if topic else None
    )
    out = Output(json_out)
    if json_out:
        out.json(data)
        return
    from dlprep.cli.render_stats import stats_view

    out.print(stats_view(data))
