"""Scheduling commands: review, due, today, and the db maintenance group."""

from __future__ import annotations

from typing import Annotated

import typer

from dlprep.cli import app
from dlprep.cli.context import parse_datetime
from dlprep.cli.options import JsonOpt, TopicOpt
from dlprep.cli.output import LIST_SHOWN, Output
from dlprep.errors import UsageError

db_app = typer.Typer(help="Check, rebuild or locate the review database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def review(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(help="The card's id.")],
    grade: Annotated[int, typer.Option("--grade", "-g", help="SM-2 grade 0-5 (see README).", min=0, max=5)],
    at: Annotated[
        str | None,
        typer.Option("--at", help="When: ISO 8601 date-time, or a date (= noon that day); default now; not future."),
    ] = None,
    reschedule: Annotated[
        bool, typer.Option("--reschedule", help="Let a second review on the same study day move the schedule.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Record a review without the quiz.

    For scripts, editors and reviews done on paper. A second review of a card
    on the same study day is logged as a repeat and leaves the schedule alone
    (as in the quiz), unless --reschedule.
    """
    from dlprep.features.plan import due_cap
    from dlprep.features.review import record_review

    obj = ctx.obj
    card = obj.bank.get(card_id)
    now = obj.now()
    when = parse_datetime(at, "--at") if at else now
    store = obj.store
    rollover = obj.config.day_rollover_hour
    done = record_review(
        store,
        card.id,
        grade,
        when,
        now,
        rollover,
        due_cap(store, card.id, when, rollover),
        reschedule,
        card.content_hash,
    )
    out = Output(json_out)
    if json_out:
        out.json(done.to_dict())
        return
    result = done.to_dict()
    if done.repeat:
        line = (
            f"recorded {card.id}: grade {grade} as a same-day repeat; schedule unchanged, next due "
            f"{result['due']} (--reschedule to move it)"
        )
    else:
        line = (
            f"recorded {card.id}: grade {grade}; next due {result['due']} "
            f"(interval {done.state.interval_days}d, easiness {done.state.easiness:.2f})"
        )
    out.print(line)  # wrapped between words at the terminal's width


@app.command()
def undo(
    ctx: typer.Context,
    card_id: Annotated[
        str | None, typer.Argument(help="Undo this card's last review (default: the last of any).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Take back the last review (or the last review of one card).

    The review is shown and confirmed first, then deleted from the log, and
    the card's schedule is replayed from the reviews that remain.
    """
    obj = ctx.obj
    store = obj.store
    row = store.last_review(card_id)
    if row is None:
        raise UsageError(f"no review of {card_id} to undo" if card_id else "no review to undo")
    what = f"{row['card_id']}: grade {row['grade']} at {row['at']} ({row['mode']})"
    if not yes:
        if json_out:
            raise UsageError("--json needs --yes (nothing can be confirmed on a data stream)")
        typer.echo(f"undo {what}")
        if not typer.confirm("delete this review and replay the card's schedule?", default=False):
            typer.echo("nothing changed")
            raise typer.Exit(1)
    state = store.delete_review(row["id"])
    if json_out:
        Output(True).json(
            {
                "undone": {k: row[k] for k in ("card_id", "grade", "at", "mode")},
                "due": state.due.isoformat() if state.due else None,
            }
        )
        return
    due = state.due.isoformat() if state.due else "new (no review left)"
    typer.echo(f"undone {what}; {row['card_id']} is now due {due}")


@app.command()
def due(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option("--on", help="Day to look at, YYYY-MM-DD (default today).")] = None,
    topic: TopicOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help=f"On a terminal, list every card (default: the first {LIST_SHOWN}).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Cards due on or before a day, most overdue first.

    On a terminal a long list stops after the first cards, with a count of
    the rest; piped, --all or --json, it lists them all.
    """
    from datetime import date

    from dlprep.core.scheduler import study_day
    from dlprep.features.schedule import due_cards

    obj = ctx.obj
    bank = obj.bank
    for t in topic or ():
        bank.check_topic(t)
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise UsageError(f"bad --on {on!r}: use YYYY-MM-DD") from None
    else:
        day = study_day(obj.now(), obj.config.day_rollover_hour)
    cards = due_cards(bank, obj.store.due_states(day), day, topic)
    out = Output(json_out)
    if json_out:
        out.json(
            [
                {
                    "id": d.card.id,
                    "topic": d.card.topic,
                    "due": d.state.due.isoformat(),
                    "overdue_days": d.overdue_days(day),
                    "question": d.card.question,
                }
                for d in cards
            ]
        )
        return
    if not cards:
        typer.echo(f"nothing due on or before {day.isoformat()}")
        return
    from dlprep.cli.render import due_table

    shown = out.shown(cards, all_, "dlprep due")
    title = f"{len(cards)} due on or before {day.isoformat()}"
    out.print(due_table(shown, day, title=title, more=len(cards) - len(shown)))
    out.hint()


@app.command()
def today(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Today's reviews, new cards, time estimate and forecast."""
    from dlprep.features.plan import current_plan
    from dlprep.features.schedule import build_today

    obj = ctx.obj
    cfg = obj.config
    plan = current_plan(obj.store)
    states = obj.store.states()
    t = build_today(
        obj.bank,
        obj.store,
        obj.now(),
        cfg.day_rollover_hour,
        cfg.new_per_day,
        cfg.review_cap,
        role=plan.role if plan else None,
        states=states,
    )
    from dlprep.drills.model import is_drill_review
    from dlprep.features.errata import notices
    from dlprep.features.practice import due_list

    changed = sorted(notices(obj.bank, obj.store, obj.errata))
    from dlprep.features.forecast import interview_forecast

    recall = interview_forecast(obj.bank, obj.store, plan)
    due_ids = [cid for cid, st in states.items() if is_drill_review(cid) and st.due is not None and st.due <= t.day]
    drills = {}
    if due_ids:  # read drill files (and import their YAML loader) only when one is due
        from dlprep.drills.load import load_drills

        drills = load_drills(obj.bank, obj.extra_bank_dirs)
    drills_due = due_list(states, drills, t.day)
    out = Output(json_out)
    if json_out:
        data = t.to_dict()
        data["drills_due"] = drills_due
        data["plan"] = plan.to_dict() if plan else None
        data["changed_since_review"] = changed
        data["expected_recall"] = recall.brief() if recall else None
        out.json(data)
        return
    from rich.text import Text

    from dlprep.cli.render_today import render_today

    out.print(render_today(t, plan, recall.headline() if recall else None, drills_due))
    if changed:
        out.print(
            Text(
                f"{len(changed)} card(s) you studied were corrected since you last saw them; "
                "the quiz shows what changed (or: dlprep card ID).",
                style="yellow",
            )
        )


@db_app.command("path")
def db_path_cmd(json_out: JsonOpt = False) -> None:
    """Where the database and config live (DLPREP_HOME overrides)."""
    from dlprep import paths

    data = {"home": str(paths.user_dir()), "database": str(paths.db_path()), "config": str(paths.config_path())}
    if json_out:
        Output(True).json(data)
    else:
        for k, v in data.items():
            typer.echo(f"{k}: {v}")


@db_app.command("check")
def db_check(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Integrity check, log-vs-state comparison, and cards whose id left the bank.

    On a damaged database, says whether the review log can still be read
    (then `dlprep db rebuild` recovers it) and how much of it.
    """
    from dlprep.errors import DatabaseDamaged

    obj = ctx.obj
    try:
        store = obj.store
        problems = store.check()
    except DatabaseDamaged as exc:
        _report_damage(str(exc), json_out)
        raise typer.Exit(1) from None
    if any(not p.endswith("(run `dlprep db rebuild`)") for p in problems):  # SQLite's own integrity problems
        obj.close()
        _report_damage("; ".join(problems), json_out)
        raise typer.Exit(1)
    from dlprep.drills.load import load_drills
    from dlprep.drills.model import is_drill_review

    unknown = [cid for cid in store.states() if cid not in obj.bank.by_id]
    drills = load_drills(obj.bank, obj.extra_bank_dirs) if any(map(is_drill_review, unknown)) else {}
    orphans = sorted(cid for cid in unknown if cid.removeprefix("drill:") not in drills or not is_drill_review(cid))
    reviews = store.review_count()
    if json_out:
        Output(True).json({"ok": not problems, "problems": problems, "orphaned_cards": orphans, "reviews": reviews})
    else:
        for p in problems:
            typer.echo(p)
        for cid in orphans:
            typer.echo(f"orphaned: {cid} has review history but is no longer in the bank (history kept)")
        if not problems:
            typer.echo(f"ok: {reviews} reviews, {len(store.states())} cards with history, {len(orphans)} orphaned")
    if problems:
        raise typer.Exit(1)


def _report_damage(problem: str, json_out: bool) -> None:
    from dlprep.core import salvage
    from dlprep.paths import db_path

    found = salvage.inspect(db_path())
    if json_out:
        Output(True).json({"ok": False, "problems": [problem], **found.to_dict()})
        return
    typer.echo(problem)
    if found.log_readable:
        typer.echo(
            f"the review log is readable ({found.reviews} reviews): `dlprep db rebuild` writes a fresh database "
            "from it and keeps the damaged file aside"
        )
    elif found.reviews:
        typer.echo(
            f"the review log is partly damaged: {found.reviews} reviews can be read and `dlprep db rebuild` "
            "recovers them (the rest are lost); the damaged file is kept aside"
        )
    else:
        typer.echo("the review log cannot be read: nothing can be salvaged; move the file aside to start fresh")


@db_app.command("rebuild")
def db_rebuild(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Recompute every card's scheduling state from the review log.

    If the database is damaged, writes a fresh one from every readable review
    (plus sessions, settings and assessments) and keeps the damaged file aside.
    """
    from dlprep.core import salvage
    from dlprep.errors import DatabaseDamaged
    from dlprep.paths import db_path

    obj = ctx.obj
    try:
        store = obj.store
        damaged = store.integrity_problems()
    except DatabaseDamaged:
        damaged = ["damaged"]
    out = Output(json_out)
    if not damaged:
        before = store.states()
        with _rebuild_progress(out) as progress:
            after = store.rebuild(progress)
        changed = sorted(cid for cid in set(before) | set(after) if before.get(cid) != after.get(cid))
        if json_out:
            Output(True).json({"cards": len(after), "changed": changed})
        else:
            typer.echo(f"rebuilt {len(after)} card states from the log; {len(changed)} changed")
        return
    obj.close()
    with _rebuild_progress(out) as progress:
        found, aside = salvage.recover(db_path(), obj.now(), progress)
    from dlprep.features.scheduling import replay_file

    replay_file(db_path(), obj.config, force=True)  # the recovered states are SM-2's; FSRS users get FSRS's
    if json_out:
        Output(True).json({"recovered": True, "reviews": found.reviews, "damaged_copy": str(aside), **found.to_dict()})
        return
    partial = "" if found.log_readable else " (the log was partly damaged: these are the rows that could be read)"
    typer.echo(f"recovered {found.reviews} reviews into a fresh database{partial}; the damaged file is kept at {aside}")


def _rebuild_progress(out: Output):
    """A progress bar on stderr for a rebuild, on a terminal and without --json; nothing otherwise."""
    from dlprep.cli.progress import count_bar

    return count_bar("rebuilding from the review log", out.err, enabled=not out.json_mode)
