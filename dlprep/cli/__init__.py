"""The command-line face: parse, call a feature, render. No SQL, YAML or SM-2 here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dlprep import __version__
from dlprep.cli.context import AppContext
from dlprep.errors import DlprepError


def _one_line(text: str) -> None:
    sys.stderr.write(text.rstrip() + "\n")
    sys.stderr.flush()


# The order `dlprep --help` lists commands in: the daily loop first, maintenance last.
COMMAND_ORDER = (
    "quiz",
    "today",
    "mock",
    "plan",
    "forecast",
    "assess",
    "stats",
    "report",
    "cheatsheet",
    "show",
    "practice",
    "review",
    "undo",
    "due",
    "topics",
    "cards",
    "card",
    "export",
    "import",
    "backup",
    "restore",
    "validate",
    "config",
    "db",
)


class DlprepGroup(TyperGroup):
    """Turns user errors, Ctrl-C and closed input into one line and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from typer._click.exceptions import ClickException, UsageError
        from typer.exceptions import Abort

        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        except UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.stdout.write(exc.format_message() + "\n")
                rv = 0
            else:
                where = exc.ctx.command_path if exc.ctx else "dlprep"
                _one_line(f"error: {exc.format_message()} (see '{where} --help')")
                rv = exc.exit_code
        except ClickException as exc:
            _one_line(f"error: {exc.format_message()}")
            rv = exc.exit_code
        except Abort:
            _one_line("interrupted")
            rv = 130
        code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DlprepError as exc:
            _one_line(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _one_line("interrupted")
            raise typer.Exit(130) from None
        except EOFError:
            _one_line("input closed")
            raise typer.Exit(1) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            obj = ctx.obj
            if isinstance(obj, AppContext) and obj.debug:
                raise
            if _is_click_exception(exc):
                raise
            if type(exc).__module__ == "sqlite3":  # damage found by a read, not at open (no full check there)
                from dlprep.core.store import _error
                from dlprep.paths import db_path

                err = _error(db_path(), exc)
                _one_line(f"error: {err}")
                raise typer.Exit(err.exit_code) from None
            _one_line(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
            raise typer.Exit(70) from None
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


def _is_click_exception(exc: Exception) -> bool:
    return type(exc).__module__.startswith(("click", "typer"))


app = typer.Typer(
    cls=DlprepGroup,
    name="dlprep",
    help="Prepare for deep-learning interviews: quiz, spaced repetition, cheat sheets, demos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlprep {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    bank: Annotated[
        list[Path] | None,
        typer.Option(
            "--bank",
            metavar="DIR",
            help="Extra card folder, merged with the bundled bank (repeatable).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for internal errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = AppContext(bank_dirs=list(bank or []), debug=debug)


try:  # option values are converted without importing Pydantic unless they need it
    from dlprep.cli import coercion  # Typer's internals: only versions that convert through Pydantic have them
except ImportError:
    pass
else:
    coercion.install()

# Command modules register themselves on `app`; each keeps heavy imports inside its commands.
from dlprep.cli import (  # noqa: E402,F401
    bank_cmds,
    config_cmds,
    data_cmds,
    memory_cmds,
    practice_cmds,
    quiz_cmds,
    report_cmds,
    schedule_cmds,
    show_cmds,
    study_cmds,
)

ROOT_VALUE_OPTIONS = ("--bank",)  # the root options that take a value


def invoked_command(argv: list[str]) -> str | None:
    """The command name ``argv`` runs (``due`` in ``dlprep --bank D due --all``), or None for the
    root's own help or version, or when no command is named."""
    args = iter(argv)
    for arg in args:
        if arg in ("-h", "--help", "--version") or arg == "--":
            return None
        if arg in ROOT_VALUE_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main() -> None:
    """Run the app, turning into Click objects only the command being run (Typer converts every
    command's signature at start-up otherwise: a noticeable part of an everyday command's time).
    The root's help and an unknown command (Click suggests the names) still see them all."""
    from typer.main import get_command_name

    name = invoked_command(sys.argv[1:])
    commands, groups = app.registered_commands, app.registered_groups
    one = [c for c in commands if (c.name or get_command_name(c.callback.__name__)) == name]
    one_group = [g for g in groups if g.name == name]
    if one or one_group:
        app.registered_commands, app.registered_groups = one, one_group
    try:
        app(prog_name="dlprep")
    finally:
        app.registered_commands, app.registered_groups = commands, groups
