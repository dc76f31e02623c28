"""Everyday commands at scale (issue #16): long lists stop on a terminal, an
unchanged config costs no PyYAML, and option values cost no Pydantic."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from dlprep.core.store import Review, Store

ZONES = [timezone(timedelta(hours=1))]


# ------------------------------------------------------------ dlprep due on a terminal


def seed_due(home, n: int) -> list[str]:
    """n cards of the bundled bank reviewed on 2026-11-01, so all are due by 2026-11-21."""
    from dlprep.core.bank import load_bank

    ids = [c.id for c in load_bank().cards[:n]]
    s = Store.open(home / "dlprep.db")
    s.conn.execute("PRAGMA synchronous = OFF")
    for cid in ids:
        s.record(Review(cid, 4, datetime(2026, 11, 1, 10, tzinfo=ZONES[0])))
    s.close()
    return ids


def due_rows(output: str, ids: list[str]) -> int:
    return sum(1 for line in output.splitlines() if any(f" {cid} " in f" {line} " for cid in ids))


@pytest.mark.parametrize(("due", "shown", "rest"), [(50, 50, 0), (51, 50, 1)])
def test_due_on_a_terminal_stops_after_50_with_a_count_of_the_rest(cli, clock, dlprep_home, due, shown, rest):
    ids = seed_due(dlprep_home, due)
    tty = {"TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    result = cli("due", env=tty)
    assert result.exit_code == 0
    assert f"{due} due on or before 2026-11-21" in result.stdout
    assert due_rows(result.stdout, ids) == shown
    assert (f"... and {rest} more" in result.stdout) == bool(rest)
    assert ("dlprep due --all" in result.stderr) == bool(rest)
    everything = cli("due", "--all", env=tty)
    assert due_rows(everything.stdout, ids) == due and "more" not in everything.stdout
    piped = cli("due", env={"COLUMNS": "200"})
    assert due_rows(piped.stdout, ids) == due and "more" not in piped.stdout


@pytest.mark.parametrize(("topic", "rest"), [(None, True), ("fundamentals", False)])
def test_cards_on_a_terminal_stops_after_50_with_a_count_of_the_rest(cli, topic, rest):
    from dlprep.core.bank import load_bank

    bank = load_bank()
    chosen = bank.filter([topic] if topic else [])
    assert (len(chosen) > 50) == rest
    args = ["cards", *(["--topic", topic] if topic else [])]
    tty = {"TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    ids = [c.id for c in chosen]
    result = cli(*args, env=tty)
    assert result.exit_code == 0 and f"{len(chosen)} cards" in result.stdout
    assert due_rows(result.stdout, ids) == (50 if rest else len(chosen))
    assert (f"... and {len(chosen) - 50} more" in result.stdout) == rest
    assert ("dlprep cards --all" in result.stderr) == rest
    assert due_rows(cli(*args, "--all", env=tty).stdout, ids) == len(chosen)
    assert due_rows(cli(*args, env={"COLUMNS": "200"}).stdout, ids) == len(chosen)


# ------------------------------------------------------------ config without PyYAML


def test_an_unchanged_config_is_read_without_importing_yaml_and_an_edit_is_seen(dlprep_home):
    import subprocess
    import sys

    from dlprep.config import load_config

    dlprep_home.mkdir(parents=True, exist_ok=True)
    config = dlprep_home / "config.yaml"
    config.write_text("new_per_day: 7\n", encoding="utf-8")
    assert load_config().new_per_day == 7  # parses and keeps the result
    script = (
        "import sys; from dlprep.config import load_config; c = load_config();"
        " print(c.new_per_day, 'yaml' in sys.modules)"
    )
    run = lambda: subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout  # noqa: E731
    assert run() == "7 False\n"
    config.write_text("new_per_day: 8\n", encoding="utf-8")  # same size, maybe the same mtime
    assert run() == "8 True\n"
    assert run() == "8 False\n"
    config.write_text("new_per_day: [\n", encoding="utf-8")
    with pytest.raises(Exception, match="invalid YAML in config"):
        load_config()


# ------------------------------------------------------------ option values without Pydantic


@pytest.mark.parametrize(
    "args",
    [
        ["today"],
        ["due"],
        ["cards", "--difficulty", "mid", "--role", "mle"],
        ["topics", "--tree"],
        ["review", "alpha", "--grade", "4"],
        ["cheatsheet", "basics", "--weak"],
        ["stats"],
    ],
)
def test_everyday_commands_do_not_import_pydantic(args, small_bank, clock, dlprep_home):
    code = (
        "import sys\n"
        "from dlprep.cli import main\n"
        f"sys.argv = ['dlprep', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "finally:\n"
        "    sys.stderr.write('PYDANTIC=' + str('pydantic' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.endswith("PYDANTIC=False"), out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "alpha", "--grade", "6"], "Input should be less than or equal to 5"),
        (["review", "alpha", "--grade", "-1"], "Input should be greater than or equal to 0"),
        (["review", "alpha", "--grade", "four"], "Input should be a valid integer"),
        (["cards", "--difficulty", "MID"], "'MID' is not one of 'junior', 'mid', 'senior'"),
    ],
)
def test_values_that_need_converting_get_typers_own_messages(cli, small_bank, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_values_within_bounds_are_converted_as_typer_would(cli, small_bank, clock):
    assert cli("review", "alpha", "--grade", "0").exit_code == 0
    assert cli("review", "beta", "--grade", "5").exit_code == 0
    assert cli("review", "gamma", "--grade", " 4").exit_code == 0  # left to Pydantic, which accepts it
    grades = [r["grade"] for r in Store.open(__import__("dlprep.paths").paths.db_path()).reviews()]
    assert grades == [0, 5, 4]


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["due"], "due"),
        (["due", "--all"], "due"),
        (["--debug", "today"], "today"),
        (["--bank", "today", "due"], "due"),  # --bank takes a value, even one that looks like a command
        (["--bank=extra", "stats"], "stats"),
        (["db", "check"], "db"),
        ([], None),
        (["--help"], None),
        (["-h"], None),
        (["--version"], None),
        (["--debug"], None),
        (["--", "due"], None),
    ],
)
def test_the_invoked_command_is_found_past_the_root_options(argv, name):
    from dlprep.cli import invoked_command

    assert invoked_command(argv) == name


def _run_main(monkeypatch, argv):
    from dlprep.cli import main

    monkeypatch.setattr(sys, "argv", ["dlprep", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code


def test_main_builds_only_the_invoked_command_and_puts_the_others_back(monkeypatch, small_bank, capsys):
    import typer.main

    from dlprep.cli import app

    built: list[list[str]] = []
    real = typer.main.get_group

    def spy(typer_app):
        group = real(typer_app)
        built.append(sorted(group.commands))
        return group

    monkeypatch.setattr(typer.main, "get_group", spy)
    commands, groups = list(app.registered_commands), list(app.registered_groups)
    assert _run_main(monkeypatch, ["topics"]) == 0
    assert built[-1] == ["topics"]
    assert _run_main(monkeypatch, ["db", "path"]) == 0
    assert built[-1] == ["db"]
    assert app.registered_commands == commands and app.registered_groups == groups
    # the root's help and a misspelt name see every command (Click suggests the closest)
    assert _run_main(monkeypatch, ["--help"]) == 0
    assert {"topics", "due", "db", "quiz"} <= set(built[-1])
    assert _run_main(monkeypatch, ["topcs"]) == 2
    assert "Did you mean 'topics'?" in capsys.readouterr().err
