"""`dlprep report`: the progress report as one HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt
from dlprep.cli.output import Output
from dlprep.errors import DlprepError


@app.command()
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("progress.html"),
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Only this topic's cards.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a progress report: one self-contained HTML page of charts.

    The heatmap, retention over time, the due forecast, mastery per topic,
    self-rating vs measured, and the study plan's checkpoints. Prints on A4.
    """
    from dlprep.features.report import STEPS, build_report, to_html

    obj = ctx.obj
    bank = obj.bank
    chosen = bank.check_topic(topic) if topic else None
    out = Output(json_out)
    with out.steps(len(STEPS), "report") as step:
        data = build_report(bank, obj.store, obj.now(), obj.config.day_rollover_hour, chosen, step)
        step(STEPS[-1])
        page = to_html(data)
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DlprepError(f"{output}: cannot write ({exc.strerror})") from None
    if json_out:
        out.json({"output": str(output), **data})
        return
    out.message(f"wrote {output} ({len(page) // 1024} KB): open it in a browser, or print it")
