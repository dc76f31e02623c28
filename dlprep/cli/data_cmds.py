"""Moving data in and out: backup, restore, export (anki, progress, md), import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dlprep.cli import app
from dlprep.cli.options import Difficulty, JsonOpt, Role, TopicOpt
from dlprep.cli.output import Output
from dlprep.errors import DlprepError, UsageError


class ExportGroup(TyperGroup):
    """`dlprep export deck.apkg` (the form before subcommands) still means `export anki deck.apkg`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0].lower().endswith(".apkg"):
            return "anki", self.commands["anki"], args
        return super().resolve_command(ctx, args)


export_app = typer.Typer(
    cls=ExportGroup, help="Export cards (Anki, markdown) or your progress (JSON lines).", no_args_is_help=True
)
import_app = typer.Typer(help="Import progress exported on another machine.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")


# ---------------------------------------------------------------- backup and restore


@app.command()
def backup(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The backup file (default: backups/dlprep-<time>.db in the data folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Copy the database to a file, safely even while a quiz is running."""
    from dlprep.core.backup import backup as run_backup
    from dlprep.paths import backups_dir, db_path

    target = output or backups_dir() / f"dlprep-{ctx.obj.now().strftime('%Y%m%d-%H%M%S')}.db"
    result = run_backup(db_path(), target, overwrite=force)
    if json_out:
        Output(True).json(result.to_dict())
        return
    Output(False).message(
        f"backed up {result.reviews} review(s) to {result.path}; restore with `dlprep restore {result.path}`"
    )


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup written by `dlprep backup`.")],
    json_out: JsonOpt = False,
) -> None:
    """Replace the database with a backup, keeping the current one aside.

    The file is checked first (SQLite, undamaged, a dlprep database, not from a
    newer dlprep); an older one is upgraded. The current database is renamed
    to dlprep.db.before-restore-<time>, never deleted.
    """
    from dlprep.core.backup import restore as run_restore
    from dlprep.paths import db_path

    result = run_restore(file, db_path(), ctx.obj.now())
    if json_out:
        Output(True).json(result.to_dict())
        return
    kept = f"; the previous database is kept at {result.kept_aside}" if result.kept_aside else ""
    upgraded = f" (upgraded from schema {result.schema_from})" if result.schema_from != result.schema_to else ""
    Output(False).message(f"restored {result.reviews} review(s) from {file}{upgraded}{kept}")


# ---------------------------------------------------------------- export


@export_app.command("anki")
def export_anki(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="The Anki deck file to write, e.g. dlprep.apkg.")],
    topic: TopicOpt = None,
    difficulty: Difficulty = None,
    role: Role = None,
    deck: Annotated[str, typer.Option("--deck", help="Deck name in Anki.")] = "dlprep",
) -> None:
    """Export cards as an Anki deck (.apkg) to review on a phone.

    Cards only, not your progress: every card arrives in Anki as new (genanki
    cannot write scheduling). Notes keep the card id as their identity, so
    importing a newer export updates them in place. Needs the `anki` extra.
    """
    from dlprep.cli.progress import progress_bar
    from dlprep.features.anki import write_deck

    if output.suffix.lower() != ".apkg":
        raise UsageError(f"{output}: the file name must end in .apkg")
    bank = ctx.obj.bank
    chosen = bank.filter(topic or (), difficulty.value if difficulty else None, role.value if role else None)
    if not chosen:
        raise DlprepError("no cards match those filters")
    with progress_bar("writing Anki deck", len(chosen)) as tick:
        n = write_deck(chosen, output, deck, bank, tick=tick)
    Output(False).message(
        f"wrote {n} card(s) to {output} (deck {deck!r}): cards only, not your dlprep progress "
        "(they arrive as new); import it in Anki with File > Import"
    )


@export_app.command("progress")
def export_progress_cmd(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write, e.g. progress.jsonl.")],
    json_out: JsonOpt = False,
) -> None:
    """Export your review log, assessments and plan as JSON lines.

    Import it on another machine with `dlprep import progress FILE`; the
    format is described in docs/progress-format.md.
    """
    from dlprep.cli.progress import progress_bar
    from dlprep.features.portable import export_progress, export_total
    from dlprep.paths import db_path

    if not db_path().exists():
        raise DlprepError(f"{db_path()}: no database yet, so there is no progress to export")
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give a file name, e.g. {output / 'progress.jsonl'}")
    obj = ctx.obj
    store = obj.store
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as f, progress_bar("exporting progress", export_total(store)) as tick:
            counts = export_progress(store, f, obj.now(), tick)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DlprepError(f"{output}: cannot write ({exc.strerror})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if json_out:
        Output(True).json({"output": str(output), **{f"{k}s": v for k, v in counts.items()}})
        return
    Output(False).message(
        f"wrote {counts['review']} review(s), {counts['assessment']} assessment rating(s)"
        f"{' and your plan' if counts['plan'] else ''} to {output}"
    )


@export_app.command("md")
def export_md(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The folder to write the markdown files into.")],
    json_out: JsonOpt = False,
) -> None:
    """Export the bank as readable markdown: one file per topic and an index."""
    from dlprep.cli.progress import progress_bar
    from dlprep.features.bank_markdown import write_markdown

    bank = ctx.obj.bank
    with progress_bar("writing markdown", len(bank.cards)) as tick:
        written = write_markdown(bank, output, tick)
    if json_out:
        Output(True).json({"folder": str(output), "files": [str(p) for p in written], "cards": len(bank.cards)})
        return
    Output(False).message(
        f"wrote {len(bank.cards)} card(s) in {len(written) - 1} topic file(s) and an index to {output}"
    )


# ---------------------------------------------------------------- import


@import_app.command("progress")
def import_progress_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `dlprep export progress`.")],
    keep_unknown: Annotated[
        bool,
        typer.Option(
            "--keep-unknown",
            help="Import reviews of cards not in your banks (e.g. from a folder only the other machine has).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Merge progress from another machine into this one.

    Reviews already here are not added twice (a review is its card, instant
    and grade), so importing both ways gives both machines the same log.
    Every line is checked first: if any is bad, nothing is imported.
    """
    from dlprep.cli.progress import progress_bar
    from dlprep.core.bank import ROLES
    from dlprep.features.portable import merge_progress, read_progress

    obj = ctx.obj
    if not file.is_file():
        raise DlprepError(f"{file}: no such file" if not file.exists() else f"{file}: is a folder, not a progress file")
    from dlprep.drills.load import load_drills

    bank = obj.bank
    known = set(bank.by_id) | {d.review_id for d in load_drills(bank, obj.extra_bank_dirs).values()}
    with progress_bar("checking progress file", file.stat().st_size) as tick:
        parsed = read_progress(file, known, ROLES, keep_unknown, tick)
    result = merge_progress(obj.store, parsed)
    if json_out:
        Output(True).json(result.to_dict())
        return
    out = Output(False)
    out.message(
        f"imported {result.reviews_added} new review(s) ({result.reviews_present} already here) and "
        f"{result.assessments_added} assessment rating(s) ({result.assessments_present} already here)"
        + (f"; rebuilt {result.cards_rebuilt} card state(s)" if result.reviews_added else "")
    )
    if result.plan == "imported":
        out.message("plan: imported (this database had none)")
    elif result.plan == "kept":
        out.message("plan: kept this machine's plan (the file's differs; change it with `dlprep plan`)")
    if result.unknown_cards:
        out.message(
            f"kept reviews of {len(result.unknown_cards)} card(s) not in your banks: {', '.join(result.unknown_cards)}"
        )
