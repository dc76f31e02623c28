"""`dlprep stats` in the terminal: a calendar heatmap, retention, time, the
due forecast, topics and missed rubric points.

Every chart keeps its meaning without colour (NO_COLOR): heatmap shades are
the characters · ░ ▒ ▓ █ and bars are block characters; colour only adds to
them. Charts have a fixed layout that fits 60 columns, so nothing on them
moves or splits as the terminal narrows; at 80 columns and more the heatmap
has the key numbers beside it, below it when narrower.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from dlprep.cli.render import Col, FitTable, inline, mastery_bar
from dlprep.features.stats import heat_key

SHADES = ("·", "░", "▒", "▓", "█")
SHADE_STYLES = ("dim", "color(22)", "color(28)", "color(34)", "bold color(40)")
BAR_EIGHTHS = " ▁▂▃▄▅▆▇█"
BAR_ROWS = 6
WEEKDAY_LABELS = {0: "Mon", 2: "Wed", 4: "Fri", 6: "Sun"}
SIDE_BY_SIDE = 80  # from this width the key numbers sit beside the heatmap


def _pct(rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else "-"


def _of(share: dict[str, Any]) -> str:
    return f"{share['rate']:.0%} of {share['reviews']}" if share["reviews"] else "-"


def _hours(minutes: float) -> str:
    return f"{minutes / 60:.1f} h" if minutes >= 60 else f"{minutes:.0f} min"


def heatmap(data: dict[str, Any]) -> Text:
    """Weeks as columns (Monday on top), one character and a space per day."""
    days = data["heatmap"]["days"]
    first = date.fromisoformat(data["heatmap"]["first_day"])
    weeks = (len(days) + 6) // 7
    months = [" "] * (4 + 2 * weeks)
    last_month = None
    for w in range(weeks):
        monday = first + timedelta(days=7 * w)
        sunday = monday + timedelta(days=6)
        month = sunday.strftime("%b") if sunday.day <= 7 or w == 0 else None
        if month and month != last_month and 4 + 2 * w + 3 <= len(months):
            months[4 + 2 * w : 4 + 2 * w + 3] = list(month)
            last_month = month
    text = Text("".join(months).rstrip() + "\n", style="dim")
    for weekday in range(7):
        text.append(f"{WEEKDAY_LABELS.get(weekday, ''):<4}", style="dim")
        cells = []
        for w in range(weeks):
            i = 7 * w + weekday
            cells.append(days[i]["level"] if i < len(days) else None)
        for j, level in enumerate(cells):
            if level is None:
                break
            if j:
                text.append(" ")
            text.append(SHADES[level], style=SHADE_STYLES[level])
        text.append("\n")
    text.append("    less ", style="dim")
    for level, shade in enumerate(SHADES):
        text.append(shade, style=SHADE_STYLES[level])
        text.append(" ")
    text.append("more", style="dim")
    key = heat_key(data["heatmap"]["levels"])
    if key:
        text.append("\n    " + "  ".join(f"{SHADES[level]} {span}" for level, span in key) + " reviews", style="dim")
    return text


def key_numbers(data: dict[str, Any]) -> Text:
    days = "day" if data["streak_days"] == 1 else "days"
    lines = [
        f"{data['reviews']} reviews",
        f"{data['cards_seen']}/{data['cards_total']} cards seen",
        f"streak {data['streak_days']} {days}",
        f"longest {data['longest_streak_days']}",
        f"{data['study_days']} study days",
        f"average grade {data['average_grade']:.2f}" if data["average_grade"] is not None else "average grade -",
    ]
    return Text("\n".join(lines))


class HeatmapBlock:
    """The heatmap with the key numbers beside it (wide terminals) or below it."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def __rich_console__(self, console: Any, options: Any) -> Any:
        map_, numbers = heatmap(self.data), key_numbers(self.data)
        if options.max_width >= SIDE_BY_SIDE:
            grid = Table.grid(padding=(0, 4))
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True)
            grid.add_row(map_, Text("\n").append_text(numbers))
            yield grid
        else:
            yield map_
            yield Text(" · ").join(Text(line) for line in numbers.plain.split("\n"))


def retention_table(data: dict[str, Any]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("")
    for col in ("all", "young", "mature"):
        table.add_column(col, justify="right")
    for key, label in (("last_7_days", "last 7 days"), ("last_30_days", "last 30 days"), ("all_time", "all time")):
        row = data["retention_by"][key]
        table.add_row(label, *(_of(row[a]) for a in ("all", "young", "mature")))
    return table


def bar_chart(values: list[int], rows: int = BAR_ROWS) -> Text:
    """Vertical bars, one character and a space each, ``rows`` high; a day with none shows ·."""
    most = max(values, default=0)
    text = Text()
    for r in range(rows - 1, -1, -1):
        for i, v in enumerate(values):
            eighths = round(8 * rows * v / most) if most else 0
            level = min(8, max(0, eighths - 8 * r))
            if v and r == 0 and level == 0:
                level = 1  # a non-zero day is never invisible
            ch = BAR_EIGHTHS[level] if v else ("·" if r == 0 else " ")
            text.append(ch, style="cyan" if v else "dim")
            if i < len(values) - 1:
                text.append(" ")
        if r:
            text.append("\n")
    return text


def forecast_chart(data: dict[str, Any]) -> Group:
    values = [d["due"] for d in data["forecast"]]
    labels = [" "] * (2 * len(values) - 1)
    for day, label in ((0, "today"), (7, "+7"), (14, "+14"), (21, "+21"), (28, "+28")):
        if day < len(values):
            labels[2 * day : 2 * day + len(label)] = list(label)
    title = Text(f"Due per day, next {len(values)} days", style="bold")
    title.append(f" (most {max(values, default=0)}, {data['overdue']} overdue)", style="dim")
    return Group(title, bar_chart(values), Text("".join(labels).rstrip(), style="dim"))


def time_line(data: dict[str, Any]) -> Text:
    days = data["heatmap"]["days"][-28:]
    most = max((d["minutes"] for d in days), default=0)
    spark = "".join(BAR_EIGHTHS[max(1, round(8 * d["minutes"] / most))] if d["minutes"] and most else "·" for d in days)
    text = Text("Time per study day, last 28 days\n", style="bold")
    text.append(spark, style="cyan")
    text.append(
        f"\ntoday {_hours(days[-1]['minutes'] if days else 0)} · last 7 days {_hours(data['minutes_last_7_days'])}"
        f" · last 30 days {_hours(data['minutes_last_30_days'])} · in all {_hours(data['minutes'])}",
    )
    return text


def topics_table(data: dict[str, Any]) -> FitTable:
    rows = []
    for t in data["topics"]:
        rows.append(
            [
                t["topic"],
                f"{t['seen']}/{t['cards']}",
                f"{t['mature_share']:.0%}",
                f"{t['mean_easiness']:.2f}" if t["mean_easiness"] is not None else "-",
                _pct(t["retention"]),
                _pct(t["follow_up_miss_rate"]),
                mastery_bar(t["mastery"]),
            ]
        )
    columns = [
        Col("topic"),
        Col("seen", justify="right"),
        Col("mature", justify="right"),
        Col("EF", justify="right"),
        Col("retention", justify="right"),
        Col("missed", justify="right"),
        Col("mastery"),
    ]
    return FitTable(columns, rows, box=None, header_style="bold", pad_edge=False)


def _heading(text: str) -> Text:
    return Text("\n" + text, style="bold")


def drill_line(data: dict[str, Any]) -> list[Text]:
    """One line on implementation drills, when any was tried."""
    d = data.get("drills") or {}
    if not d.get("tried"):
        return []
    grade = f" (average grade {d['average_grade']})" if d["average_grade"] is not None else ""
    return [Text(f"drills: {d['tried']} tried, {d['settled']} settled{grade}, {d['due']} due, {d['runs']} check runs")]


def stats_view(data: dict[str, Any]) -> Group:
    scope = f"topic {data['topic']}" if data["topic"] else "all topics"
    parts: list[Any] = [
        Text(f"Progress on {data['today']} ({scope})", style="bold"),
        Text("Reviews per study day, last 16 weeks", style="bold"),
        HeatmapBlock(data),
        _heading("Retention: scheduled reviews of cards seen before, graded 3+"),
        retention_table(data),
        Text("young: interval before the review < 21 days; mature: 21+", style="dim"),
        Text(""),
        time_line(data),
        *drill_line(data),
        Text(""),
        forecast_chart(data),
        _heading("Topics"),
        topics_table(data),
        Text("mature: share of cards at 21+ days; missed: share of follow-up questions missed", style="dim"),
    ]
    if data["most_missed"]:
        from dlprep.cli.render_study import bullets

        parts.append(_heading("Rubric points you miss most"))
        parts.append(
            bullets(
                [
                    inline(m["point"]) + Text(f" ({m['card']}, missed {m['missed']} of {m['asked']})", style="dim")
                    for m in data["most_missed"]
                ]
            )
        )
    return Group(*parts)
