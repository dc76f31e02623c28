"""Read-only commands over the bank: validate, topics, cards, card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dlprep.cli import app
from dlprep.cli.options import Difficulty, JsonOpt, Role, TopicOpt
from dlprep.cli.output import LIST_SHOWN, Output


@app.command()
def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders to check (default: the bundled bank and your extra banks).", show_default=False
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Also apply the content rules of the bundled bank.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check card files and report every problem.

    Each problem is one line: path:line: card-id: message.
    """
    from dlprep.core.bank import check_bank
    from dlprep.drills.load import check_drills, drill_folders, split_paths
    from dlprep.paths import bundled_bank_dir

    obj = ctx.obj
    bundled = bundled_bank_dir()
    if paths:
        folders, files, drill_dirs, drill_files = split_paths(
            [p for p in paths if p.is_dir()], [p for p in paths if not p.is_dir()]
        )
        refs = [bundled, *sorted({f.parent for f in files if f.parent.is_dir()})]
        bank, problems = check_bank(folders=folders, files=files, strict=strict, reference_folders=refs)
        checked = [str(p) for p in paths]
    else:
        folders = [bundled, *obj.extra_bank_dirs]
        bank, problems = check_bank(folders=folders, strict=strict)
        drill_dirs, drill_files = drill_folders(bundled, obj.extra_bank_dirs), []
        checked = [str(p) for p in folders]
    drills, drill_problems = check_drills(drill_dirs, drill_files, bank)
    problems += drill_problems
    out = Output(json_out)
    if json_out:
        out.json(
            {
                "ok": not problems,
                "checked": checked,
                "cards": len(bank.cards),
                "topics": len(bank.topics),
                "drills": len(drills),
                "problems": [p.to_dict() for p in problems],
            }
        )
    else:
        for p in problems:
            typer.echo(str(p))
        if problems:
            out.message(f"{len(problems)} problem(s) found")
        else:
            typer.echo(
                f"ok: {len(bank.cards)} cards, {len(bank.topics)} topics, {len(bank.files)} files, "
                f"{len(drills)} drill(s)"
            )
    if problems:
        raise typer.Exit(1)


@app.command()
def topics(
    ctx: typer.Context,
    tree: Annotated[bool, typer.Option("--tree", help="Show the dependency map with your mastery per topic.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """List the topics in dependency order."""
    from dlprep.features.progress import topic_mastery

    obj = ctx.obj
    bank = obj.bank
    mastery = topic_mastery(bank, obj.store) if (tree or json_out) and _has_db() else {}
    rows = []
    for tid in bank.topic_order():
        t = bank.topics[tid]
        rows.append(
            {
                "id": t.id,
                "title": t.title,
                "order": t.order,
                "summary": t.summary,
                "prerequisites": list(t.prerequisites),
                "cards": len(bank.cards_in(t.id)),
                "mastery": mastery.get(t.id),
            }
        )
    out = Output(json_out)
    if json_out:
        out.json(rows)
        return
    if tree:
        from dlprep.cli.render import topic_tree

        out.print(topic_tree(bank, mastery))
        return
    from rich.table import Table

    table = Table(title="Topics", title_justify="left")
    for col in ("topic", "title", "cards", "prerequisites"):
        table.add_column(col, justify="right" if col == "cards" else "left")
    for r in rows:
        table.add_row(r["id"], r["title"], str(r["cards"]), ", ".join(r["prerequisites"]) or "-")
    out.print(table)


def _has_db() -> bool:
    from dlprep.paths import db_path

    return db_path().exists()


@app.command()
def cards(
    ctx: typer.Context,
    topic: TopicOpt = None,
    difficulty: Difficulty = None,
    role: Role = None,
    all_: Annotated[
        bool, typer.Option("--all", help=f"On a terminal, list every card (default: the first {LIST_SHOWN}).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List cards, filtered by topic, difficulty or role.

    On a terminal a long list stops after the first cards, with a count of
    the rest; piped, --all or --json, it lists them all.
    """
    bank = ctx.obj.bank
    chosen = bank.filter(topic or (), difficulty.value if difficulty else None, role.value if role else None)
    out = Output(json_out)
    if json_out:
        out.json(
            [
                {
                    "id": c.id,
                    "topic": c.topic,
                    "difficulty": c.difficulty,
                    "kind": c.kind,
                    "roles": list(c.roles),
                    "question": c.question,
                }
                for c in chosen
            ]
        )
        return
    from dlprep.cli.render import cards_table

    shown = out.shown(chosen, all_, "dlprep cards")
    out.print(cards_table(shown, total=len(chosen)))
    out.hint()


@app.command()
def card(
    ctx: typer.Context,
    card_id: Annotated[str, typer.Argument(help="The card's id (see `dlprep cards`).")],
    json_out: JsonOpt = False,
) -> None:
    """Show one card in full, with its schedule."""
    from dlprep.features.progress import card_progress

    obj = ctx.obj
    c = obj.bank.get(card_id)
    progress = (
        card_progress(obj.store, c.id, obj.config.day_rollover_hour) if _has_db() else card_progress(None, c.id, 4)
    )
    notice = None
    mem = None
    if _has_db():
        from dlprep.features.errata import notice_for

        notice = notice_for(c, obj.store.last_seen().get(c.id), obj.errata)
        if progress["reviews"]:
            from dlprep.core.scheduler import study_day
            from dlprep.features.forecast import card_memory

            mem = card_memory(obj.store, c.id, study_day(obj.now(), obj.config.day_rollover_hour))
    out = Output(json_out)
    if json_out:
        data = c.to_dict()
        data["references"] = [_cited(obj.bank, ref) for ref in c.references]
        data.update(progress)
        data["changed_since_review"] = notice.to_dict() if notice else None
        data["errata"] = [e.to_dict() for e in obj.errata.get(c.id, [])]
        data["memory"] = mem
        out.json(data)
        return
    from rich.text import Text

    from dlprep.cli.render import card_panel, review_history, schedule_line

    out.print(card_panel(c, obj.bank))
    history = review_history(progress)
    if history is not None:
        out.print(history)
    out.print(schedule_line(progress))
    if mem:
        out.print(
            Text(
                f"memory (FSRS, {mem['parameters']} parameters): stability {mem['stability']:.1f} days"
                f" · difficulty {mem['difficulty']:.1f} of 10 · recall today {mem['retrievability']:.0%}",
                style="dim",
            )
        )
    for line in notice.lines() if notice else []:
        out.print(Text(line, style="yellow"))


def _cited(bank: Any, citation: Any) -> dict[str, Any]:
    ref = bank.references.get(citation.key)
    data: dict[str, Any] = citation.to_dict()
    data["text"] = bank.cite(citation)
    if ref is not None:
        data.update(title=ref.title, authors=ref.authors, year=ref.year, venue=ref.venue, link=ref.link or None)
    return data
