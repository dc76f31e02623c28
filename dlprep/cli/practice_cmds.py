"""`dlprep practice`: implementation drills, checked against PyTorch in a child process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt
from dlprep.cli.output import Output
from dlprep.errors import UsageError

if TYPE_CHECKING:
    from dlprep.drills.model import Drill
    from dlprep.drills.runner import CheckResult
    from dlprep.features.practice import DrillStatus, RunOutcome


@app.command()
def practice(
    ctx: typer.Context,
    drill_id: Annotated[str | None, typer.Argument(help="The drill (see --list).", show_default=False)] = None,
    file: Annotated[
        Path | None,
        typer.Argument(help="With --check: the file to check (default: the drill's file in the working folder)."),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", "-l", help="List the drills with your last result.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Run the checks on your file and record the result.")] = False,
    hint: Annotated[bool, typer.Option("--hint", help="Show the next hint (one more each time).")] = False,
    solution: Annotated[
        bool, typer.Option("--solution", help="Show the reference solution (after at least one --check).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="With --solution: show it before any attempt.")] = False,
    give_up: Annotated[
        bool, typer.Option("--give-up", help="Record the latest failing run as the result (the drill comes back soon).")
    ] = False,
    edit: Annotated[bool, typer.Option("--edit", help="Open the file in $VISUAL or $EDITOR.")] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over: a new starter file (the old one kept as .bak).")
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Working folder for drill files (default: practice/ in the data folder)."),
    ] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="Run checks of a drill from your bank folder without asking.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1, help="Stop the checks after this many seconds (torch's import excluded)."),
    ] = 20,
    memory: Annotated[
        int, typer.Option("--memory", min=256, help="Address-space limit of the check process, MB.")
    ] = 2048,
    verify: Annotated[
        bool, typer.Option("--verify", help="For drill authors: the solution passes and each mistake fails as stated.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Implementation drills: write the layer yourself, dlprep checks it against PyTorch.

    `dlprep practice ID` writes a starter file and prints its path; edit it,
    then `dlprep practice ID --check` runs the checks in a child process and
    records the run as a review of drill:ID (see docs/drills.md for grading).
    """
    from dlprep.drills.load import checked, find_drill, load_drills

    obj = ctx.obj
    out = Output(json_out)
    actions = [
        name
        for name, on in (
            ("--check", check),
            ("--hint", hint),
            ("--solution", solution),
            ("--give-up", give_up),
            ("--verify", verify),
        )
        if on
    ]
    if len(actions) > 1:
        raise UsageError(f"choose one of {', '.join(actions)}")
    drills = load_drills(obj.bank, obj.extra_bank_dirs)
    if list_ or drill_id is None:
        if actions or file is not None:
            raise UsageError("name a drill: dlprep practice ID " + (actions[0] if actions else "--check FILE"))
        _list(out, obj, drills)
        return
    drill = find_drill(drills, drill_id)
    if check or verify:
        drill = checked(drill, obj.bank)
    if file is not None and not check:
        raise UsageError("a FILE is only read with --check")
    if force and not solution:
        raise UsageError("--force goes with --solution")
    now, rollover = obj.now(), obj.config.day_rollover_hour
    from dlprep.features import practice as P
    from dlprep.paths import practice_dir

    work = folder if folder is not None else practice_dir()
    if hint:
        shown, new = P.next_hint(obj.store, drill)
        _hints(out, drill, shown, new)
    elif solution:
        text = P.reveal_solution(obj.store, drill, force, now, rollover)
        if json_out:
            out.json({"id": drill.id, "solution": text})
        else:
            from dlprep.cli.render import CodeListing

            out.print(CodeListing(text))
    elif give_up:
        _outcome(out, drill, [], P.give_up(obj.store, drill, now, rollover))
    elif verify:
        _verify(out, drill, trust, timeout)
    elif check:
        _check(out, obj, drill, file or work / P.starter_name(drill), trust, timeout, memory)
    else:
        started = P.write_starter(drill, work, fresh)
        if json_out:
            out.json({"id": drill.id, "path": str(started.path), "created": started.created, "task": drill.task})
        else:
            _started(out, drill, started)
        if edit:
            _open_editor(started.path)


def _list(out: Output, obj: Any, drills: dict[str, Drill]) -> None:
    from dlprep.features.practice import statuses

    rows = statuses(obj.store, drills, obj.bank.topic_order())
    if out.json_mode:
        out.json([s.to_dict() for s in rows])
        return
    from dlprep.cli.render import Col, FitTable

    table = FitTable(
        [
            Col("id"),
            Col("topic"),
            Col("level", justify="right"),
            Col("min", justify="right"),
            Col("title", wrap=True),
            Col("last result", wrap=True),
        ],
        [
            [
                s.drill.id,
                s.drill.topic,
                str(s.drill.difficulty),
                str(s.drill.minutes),
                s.drill.title + ("" if s.drill.bundled else "  (your bank)"),
                _last(s),
            ]
            for s in rows
        ],
        title=f"{len(rows)} drills · start one with `dlprep practice ID`",
    )
    out.print(table)


def _last(s: DrillStatus) -> str:
    from dlprep.features.practice import summary

    if s.last is None:
        return "not tried"
    info = summary(s.last)
    day = s.last["at"][:10]
    checks = f"{info['passed']}/{info['total']} checks" if "total" in info else f"grade {s.last['grade']}"
    due = f", due {s.state.due.isoformat()}" if s.state.due else ""
    return f"{checks} on {day}{due}"


def _hints(out: Output, drill: Drill, shown: list[str], new: bool) -> None:
    if out.json_mode:
        out.json({"id": drill.id, "hints": shown, "new": new, "total": len(drill.hints)})
        return
    from rich.text import Text

    for i, h in enumerate(shown, 1):
        style = "bold" if new and i == len(shown) else "dim"
        out.print(Text(f"hint {i}/{len(drill.hints)}: ", style=style) + Text(h))
    if not new:
        out.message("no more hints; `--solution` shows the reference solution (it caps this round's grade at 2)")


def _started(out: Output, drill: Drill, started: Any) -> None:
    from rich.text import Text

    from dlprep.cli.render import markdown

    out.print(Text(f"{drill.id}: {drill.title}", style="bold"))
    out.print(markdown(drill.task))
    if started.created:
        note = f" (the old one is {started.backup})" if started.backup else ""
        out.print(f"starter written to {started.path}{note}")
    else:
        out.print(f"your file is {started.path} (already there, left as it is; --fresh starts over)")
    out.print(
        Text(f"check it: dlprep practice {drill.id} --check    a hint: dlprep practice {drill.id} --hint", style="dim")
    )


def _open_editor(path: Path) -> None:
    import os
    import shlex
    import subprocess

    from dlprep.errors import DlprepError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise DlprepError(f"--edit needs $VISUAL or $EDITOR set; the file is {path}")
    try:
        subprocess.run([*shlex.split(editor), str(path)], check=False)
    except OSError as exc:
        raise DlprepError(f"cannot start the editor {editor!r}: {exc.strerror or exc}") from None


def _check(out: Output, obj: Any, drill: Drill, path: Path, trust: bool, timeout: float, memory: int) -> None:
    from dlprep.drills.process import Limits, run_drill_checks
    from dlprep.features.practice import read_attempt, record_run

    source = read_attempt(path)
    if not drill.bundled:
        from dlprep.cli.trust import confirm_bank_code

        confirm_bank_code(out, f"drill {drill.id}'s checks", drill.path, trust, "checks of bank drills")
    results = _with_progress(
        out,
        f"checking {path.name}",
        lambda: run_drill_checks(drill, source, str(path.resolve()), Limits(timeout, memory)),
    )
    outcome = record_run(obj.store, drill, results, obj.now(), obj.config.day_rollover_hour)
    _outcome(out, drill, results, outcome, path)
    if outcome.passed < outcome.total:
        raise typer.Exit(1)


def _with_progress(out: Output, label: str, work: Any) -> Any:
    """Run ``work()`` with a spinner on a terminal (a check run takes a few seconds)."""
    import sys

    if out.json_mode or not sys.stderr.isatty():
        return work()
    with out.err.status(label):
        return work()


def _outcome(out: Output, drill: Drill, results: list[CheckResult], o: RunOutcome, path: Path | None = None) -> None:
    if out.json_mode:
        data = o.to_dict()
        if path is not None:
            data["file"] = str(path)
        data["checks"] = [r.to_dict() for r in results]
        out.json(data)
        return
    from rich.table import Table
    from rich.text import Text

    if results:
        table = Table(title=f"{drill.id}: {o.passed}/{o.total} checks pass", title_justify="left")
        table.add_column("check", overflow="fold")
        table.add_column("result")
        table.add_column("what went wrong", overflow="fold")
        for r in results:
            verdict = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
            table.add_row(Text(r.name), verdict, Text(_headline(r.message)))
        out.print(table)
        first = next((r for r in results if not r.passed), None)
        if first is not None and first.message != _headline(first.message):
            out.print(Text(f"First failure, {first.name}:", style="bold"))
            out.print(Text(first.message), soft_wrap=True)
    due = o.state.due.isoformat() if o.state.due else None
    if o.kind == "settled":
        line = (
            f"all checks pass: recorded as a review of drill:{drill.id}, grade {o.grade} "
            f"(run {o.attempt}, {o.hints} hint(s)); next due {due}"
        )
    elif o.kind == "gave-up":
        line = (
            f"recorded drill:{drill.id} as given up, grade {o.grade}; next due {due}. `--solution` shows the reference."
        )
    elif o.kind == "repeat":
        line = f"logged as a same-day repeat: today's result for drill:{drill.id} stands (next due {due})"
    else:
        line = (
            f"run {o.attempt} logged; the schedule moves when every check passes "
            f"(or `dlprep practice {drill.id} --give-up`). `--hint` for a nudge."
        )
    out.print(line)


def _headline(message: str) -> str:
    """A table cell for a check's message: a traceback by its last line, anything else by its first."""
    lines = [ln for ln in message.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    return lines[-1].strip() if lines[0].startswith("Traceback") else lines[0]


def _verify(out: Output, drill: Drill, trust: bool, timeout: float) -> None:
    from dlprep.drills.process import Limits, verify_in_child

    if not drill.bundled:
        from dlprep.cli.trust import confirm_bank_code

        confirm_bank_code(out, f"drill {drill.id}'s checks", drill.path, trust, "checks of bank drills")
    problems = _with_progress(
        out, f"verifying {drill.id}", lambda: verify_in_child(drill, Limits(timeout_s=max(timeout, 60)))
    )
    if out.json_mode:
        out.json({"id": drill.id, "ok": not problems, "problems": problems})
    else:
        for p in problems:
            out.print(f"{drill.path}: {drill.id}: {p}")
        out.print(
            f"{drill.id}: "
            + (
                "ok: the solution passes and every mistake fails as stated"
                if not problems
                else f"{len(problems)} problem(s)"
            )
        )
    if problems:
        raise typer.Exit(1)
