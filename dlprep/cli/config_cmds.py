"""`dlprep config`: show and change settings without editing config.yaml by hand."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt
from dlprep.cli.output import Output
from dlprep.errors import UsageError

config_app = typer.Typer(help="Show or change settings (config.yaml in your data folder).", invoke_without_command=True)
app.add_typer(config_app, name="config")


@config_app.callback()
def config_show(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Show the settings in force and where they live."""
    if ctx.invoked_subcommand is not None:
        return
    from dlprep import paths

    cfg = ctx.obj.config
    data = {"config_file": str(paths.config_path()), **cfg.to_dict()}
    if json_out:
        Output(True).json(data)
        return
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"{key}: {shown if shown != '' else '-'}")


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(help="banks, day_rollover_hour, new_per_day, review_cap, scheduler or desired_retention.")
    ],
    value: Annotated[
        str, typer.Argument(help="A number, sm2|fsrs for scheduler, or comma-separated folders for banks.")
    ],
) -> None:
    """Change one setting."""
    from dlprep.config import Config, parse_setting, save_config

    current = ctx.obj.config.to_dict()
    if key not in current:
        raise UsageError(f"unknown setting {key!r} (settings: {', '.join(current)})")
    updated = Config.from_dict({**current, key: parse_setting(key, value)}, source=f"config set {key}")
    if key == "banks":
        from pathlib import Path

        from dlprep.config import check_banks

        check_banks([Path(b) for b in updated.banks])
    path = save_config(updated)
    Output(False).message(f"{key} = {updated.to_dict()[key]} (saved in {path})")
    _reschedule(updated)


@config_app.command("unset")
def config_unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The setting to return to its default.")],
) -> None:
    """Return one setting to its default."""
    from dlprep.config import Config, save_config

    current = ctx.obj.config.to_dict()
    if key not in current:
        raise UsageError(f"unknown setting {key!r} (settings: {', '.join(current)})")
    default = Config().to_dict()[key]
    updated = Config.from_dict({**current, key: default})
    path = save_config(updated)
    Output(False).message(f"{key} back to its default, {default} (saved in {path})")
    _reschedule(updated)


def _reschedule(config: Any) -> None:
    """After a scheduler setting changes, replay the log now (if there is one) and say so."""
    from dlprep.features.scheduling import replay_file
    from dlprep.paths import db_path

    n = replay_file(db_path(), config)
    if n is not None:
        name = "FSRS" if config.scheduler == "fsrs" else "SM-2"
        Output(False).message(f"replayed {n} card(s)' schedules from the review log under {name}")
