"""`dlprep show`: list, read and run the PyTorch demos."""

from __future__ import annotations

from typing import Annotated

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt
from dlprep.cli.output import Output
from dlprep.errors import UsageError


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
    json_out: JsonOpt = False,
) -> None:
    """Run a PyTorch demo that shows a claim with numbers."""
    from dlprep.demos.registry import discover
    from dlprep.features.demos import find_demo, run_demo

    obj = ctx.obj
    demo_dirs = [d / "demos" for d in obj.extra_bank_dirs if (d / "demos").is_dir()]
    out = Output(json_out)
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
