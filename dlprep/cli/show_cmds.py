"""`dlprep show`: list, read and run the PyTorch demos."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt, TopicOpt
from dlprep.cli.output import Output
from dlprep.errors import DlprepError, UsageError


@app.command()
def show(
    ctx: typer.Context,
    demo_id: Annotated[str | None, typer.Argument(help="The demo to run (see --list).", show_default=False)] = None,
    list_: Annotated[bool, typer.Option("--list", "-l", help="List the demos.")] = False,
    code: Annotated[bool, typer.Option("--code", help="Print the demo's source instead of running it.")] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or mps.")] = "auto",
    trust: Annotated[
        bool, typer.Option("--trust", help="Run a demo from your own bank folder without asking.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Stop the demo after this many seconds.")] = 120,
    all_: Annotated[
        bool, typer.Option("--all", help="Run every demo (or those of --topic), one after another.")
    ] = False,
    topic: TopicOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a PyTorch demo that shows a claim with numbers."""
    from dlprep.demos.registry import discover
    from dlprep.features.demos import find_demo, run_demo

    obj = ctx.obj
    demo_dirs = [d / "demos" for d in obj.extra_bank_dirs if (d / "demos").is_dir()]
    out = Output(json_out)
    if all_:
        if demo_id is not None or list_ or code:
            raise UsageError("--all runs every demo: give no demo id, --list or --code with it")
        _show_all(discover(demo_dirs), topic or [], device, trust, timeout, out)
        return
    if topic:
        raise UsageError("--topic goes with --all")
    if list_ or demo_id is None:
        demos = sorted(discover(demo_dirs).values(), key=lambda d: (d.topic, d.id))
        if json_out:
            out.json([d.to_dict() for d in demos])
            return
        from rich.table import Table

        table = Table(title=f"{len(demos)} demos · run one with `dlprep show ID`", title_justify="left")
        for col in ("id", "topic", "title"):
            table.add_column(col, overflow="fold")
        for d in demos:
            table.add_row(d.id, d.topic, d.title + ("" if d.bundled else "  (your bank)"))
        out.print(table)
        return
    info = find_demo(demo_id, demo_dirs)
    if code:
        source = info.path.read_text(encoding="utf-8")
        if json_out:
            out.json({"id": info.id, "path": str(info.path), "source": source})
            return
        from dlprep.cli.render import CodeListing

        out.print(CodeListing(source))
        return
    if not info.bundled:
        from dlprep.cli.trust import confirm_bank_code

        confirm_bank_code(out, info.id, info.path, trust, "bank demos")
    if device not in ("auto", "cpu", "cuda", "mps"):
        raise UsageError(f"unknown device {device!r} (choose from auto, cpu, cuda, mps)")
    status = run_demo(info.id, device, demo_dirs, json_out=json_out, stream=not json_out, timeout_s=timeout)
    if status != 0:
        raise typer.Exit(status)


def _show_all(demos: dict[str, Any], topics: list[str], device: str, trust: bool, timeout: float, out: Output) -> None:
    """Every demo (of the topics, if any) in turn, with a progress bar when
    both outputs are a terminal; exits 1 if any demo failed."""
    from dlprep.cli.progress import progress_bar
    from dlprep.features.demos import run_each

    chosen = sorted((d for d in demos.values() if not topics or d.topic in topics), key=lambda d: (d.topic, d.id))
    if not chosen:
        raise DlprepError(f"no demos for topic(s) {', '.join(topics)}")
    untrusted = [d.id for d in chosen if not d.bundled and not trust]
    chosen = [d for d in chosen if d.bundled or trust]
    if untrusted:
        out.message(f"skipped {len(untrusted)} demo(s) from your bank: {', '.join(untrusted)} (--trust runs them)")
    if not chosen:
        raise DlprepError("nothing to run")

    def emit(run: Any) -> None:
        if not out.json_mode:
            sys.stdout.write(run.stdout)
            sys.stdout.flush()
        if run.stderr:
            sys.stderr.write(run.stderr)

    bar = not out.json_mode and sys.stdout.isatty()  # demo output goes above the bar only when both are the terminal
    with progress_bar("running demos", len(chosen), enabled=bar) as tick:
        runs = run_each(chosen, device, out.json_mode, timeout, on_done=lambda run: (emit(run), tick(1)))
    failed = [r.id for r in runs if not r.ok]
    if out.json_mode:
        out.json([_result(r) for r in runs])
    out.message(
        f"ran {len(runs)} demo(s): {len(runs) - len(failed)} ok" + (f", failed: {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise typer.Exit(1)


def _result(run: Any) -> dict[str, Any]:
    import json

    if run.ok:
        try:
            return {**json.loads(run.stdout), "ok": True}
        except ValueError:
            pass
    return {"id": run.id, "ok": False, "status": run.status, "error": (run.stderr.strip().splitlines() or [None])[-1]}
