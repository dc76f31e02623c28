"""The memory model's face: `dlprep forecast`."""

from __future__ import annotations

from typing import Annotated

import typer

from dlprep.cli import app
from dlprep.cli.options import JsonOpt, TopicOpt
from dlprep.cli.output import Output
from dlprep.errors import UsageError


@app.command()
def forecast(
    ctx: typer.Context,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Day to forecast, YYYY-MM-DD (default: the plan's interview date, else today)."),
    ] = None,
    topic: TopicOpt = None,
    fit: Annotated[
        bool, typer.Option("--fit", help="First fit FSRS parameters to your log (needs dlprep[fit] and 512 reviews).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Expected recall on a day, per topic and overall, and the cards most at risk.

    Reads the whole review log through the FSRS memory model, so it works
    under either scheduler. It assumes no review between now and that day.
    """
    from datetime import date

    from dlprep.core.scheduler import study_day
    from dlprep.features.forecast import build_forecast
    from dlprep.features.forecast import fit as fit_params
    from dlprep.features.plan import current_plan

    obj = ctx.obj
    bank, store = obj.bank, obj.store
    for t in topic or ():
        bank.check_topic(t)
    today = study_day(obj.now(), obj.config.day_rollover_hour)
    plan = current_plan(store)
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise UsageError(f"bad --on {on!r}: use YYYY-MM-DD") from None
        if day < today:
            raise UsageError(f"--on {on} is in the past (today is {today.isoformat()}); the forecast looks ahead")
    else:
        day = plan.interview if plan and plan.interview and plan.interview >= today else today
    out = Output(json_out)
    if fit:
        import contextlib
        import sys

        spinner = out.err.status("fitting FSRS parameters to your log (this can take minutes)")
        with spinner if sys.stderr.isatty() else contextlib.nullcontext():
            _, used = fit_params(store, today)
        out.message(f"fitted FSRS parameters to {used} reviews; forecasts now use them")
    f = build_forecast(bank, store, day, topic)
    if json_out:
        out.json(f.to_dict())
        return
    from dlprep.cli.render_memory import render_forecast

    out.print(render_forecast(f, today))
