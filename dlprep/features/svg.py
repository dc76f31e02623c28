"""Small SVG charts for the HTML report, written directly: no library, no
script, no network. Each function returns one ``<svg>`` element with a
``viewBox`` (it scales to the page width), a ``role="img"`` and an
``aria-label``, and ``<title>`` tooltips on its marks. Text is escaped."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

HEAT_COLOURS = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")
INK, MUTED, GRID, ACCENT, WARN = "#222", "#666", "#ddd", "#2f6fb0", "#d9822b"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}"'
        f' viewBox="0 0 {width:g} {height:g}" role="img"'
        f' aria-label="{escape(label)}" {FONT} font-size="11">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = MUTED, size: int | None = None) -> str:
    extra = f' font-size="{size}"' if size else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" fill="{fill}"{extra}>{escape(s)}</text>'


def heatmap(days: list[dict[str, Any]], first_day: str) -> str:
    """Weeks as columns, Monday on top, a square per day shaded by its level (0-4)."""
    cell, gap, left, top = 13, 3, 30, 18
    weeks = (len(days) + 6) // 7
    first = date.fromisoformat(first_day)
    body = []
    last_month = None
    for w in range(weeks):
        sunday = first + timedelta(days=7 * w + 6)
        month = sunday.strftime("%b")
        if month != last_month and (sunday.day <= 7 or w == 0):
            body.append(_text(left + w * (cell + gap), 11, month))
            last_month = month
    for weekday, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")):
        body.append(_text(0, top + weekday * (cell + gap) + 10, name))
    for i, d in enumerate(days):
        w, weekday = divmod(i, 7)
        x, y = left + w * (cell + gap), top + weekday * (cell + gap)
        tip = f"{d['day']}: {d['reviews']} reviews, {d['minutes']:g} min"
        body.append(
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" fill="{HEAT_COLOURS[d["level"]]}"'
            f' stroke="#0001"><title>{escape(tip)}</title></rect>'
        )
    width = left + weeks * (cell + gap)
    height = top + 7 * (cell + gap) + 4
    return _svg(width, height, "reviews per study day, last 16 weeks", body)


def _y_axis(body: list[str], left: float, top: float, height: float, right: float, top_value: float, fmt) -> None:
    for frac in (0, 0.5, 1):
        y = top + height * (1 - frac)
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:g}" y2="{y:g}" stroke="{GRID}"/>')
        body.append(_text(left - 4, y + 4, fmt(top_value * frac), "end"))


def bars(
    values: list[float], labels: list[str], tips: list[str], label: str, every: int = 7, colour: str = ACCENT
) -> str:
    """Vertical bars with a few x labels (every ``every`` bars)."""
    width, height, left, top, bottom = 640, 180, 36, 10, 24
    plot_h = height - top - bottom
    most = max(values, default=0) or 1
    step = (width - left) / max(len(values), 1)
    body: list[str] = []
    _y_axis(body, left, top, plot_h, width, most, lambda v: f"{v:.0f}")
    for i, (v, tip) in enumerate(zip(values, tips, strict=True)):
        h = plot_h * v / most
        x = left + i * step + 1
        body.append(
            f'<rect x="{x:g}" y="{top + plot_h - h:g}" width="{step - 2:g}" height="{h:g}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if i % every == 0:
            body.append(_text(x, height - 8, labels[i]))
    return _svg(width, height, label, body)


def line(points: list[float | None], labels: list[str], tips: list[str], label: str) -> str:
    """A 0-100% line with dots; a gap where a point is None. X labels every fourth point."""
    width, height, left, top, bottom = 640, 180, 36, 10, 24
    plot_h = height - top - bottom
    step = (width - left - 10) / max(len(points) - 1, 1)
    body: list[str] = []
    _y_axis(body, left, top, plot_h, width, 1.0, lambda v: f"{v:.0%}")
    path, pen_down = [], False
    for i, p in enumerate(points):
        if p is None:
            pen_down = False
            continue
        x, y = left + 5 + i * step, top + plot_h * (1 - p)
        path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    if path:
        body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for i, (p, tip) in enumerate(zip(points, tips, strict=True)):
        x = left + 5 + i * step
        if p is not None:
            body.append(
                f'<circle cx="{x:.1f}" cy="{top + plot_h * (1 - p):.1f}" r="3" fill="{ACCENT}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if i % 4 == 0:
            body.append(_text(x, height - 8, labels[i], "middle"))
    return _svg(width, height, label, body)


def hbars(rows: list[tuple[str, float, str]], label: str, scale_max: float = 1.0) -> str:
    """Horizontal bars, one per (name, value 0..scale_max, note), on a light track."""
    name_w, width, row_h = 120, 640, 20
    track = width - name_w - 130
    body: list[str] = []
    for i, (name, value, note) in enumerate(rows):
        y = 4 + i * row_h
        body.append(_text(name_w - 6, y + 12, name, "end", INK))
        body.append(f'<rect x="{name_w}" y="{y + 3}" width="{track}" height="12" rx="2" fill="#eef1f5"/>')
        body.append(
            f'<rect x="{name_w}" y="{y + 3}" width="{track * value / scale_max:g}" height="12" rx="2"'
            f' fill="{ACCENT}"><title>{escape(f"{name}: {note}")}</title></rect>'
        )
        body.append(_text(name_w + track + 6, y + 12, note))
    return _svg(width, 8 + len(rows) * row_h, label, body)


def dumbbell(rows: list[tuple[str, int | None, float | None]], label: str) -> str:
    """Self-rating (open circle) and measured rating (dot) per area on the 1-5 scale."""
    name_w, width, row_h = 120, 640, 20
    lo, hi = name_w + 10, width - 30
    scale = (hi - lo) / 4

    def x_of(v: float) -> float:
        return lo + (v - 1) * scale

    body = [_text(x_of(v), 11, str(v), "middle") for v in range(1, 6)]
    for v in range(1, 6):
        body.append(f'<line x1="{x_of(v):g}" x2="{x_of(v):g}" y1="16" y2="{20 + len(rows) * row_h}" stroke="{GRID}"/>')
    for i, (name, mine, measured) in enumerate(rows):
        y = 20 + i * row_h + 10
        body.append(_text(name_w - 6, y + 4, name, "end", INK))
        if mine is not None and measured is not None:
            colour = WARN if mine - measured >= 1.5 else MUTED
            body.append(f'<line x1="{x_of(mine):g}" x2="{x_of(measured):g}" y1="{y}" y2="{y}" stroke="{colour}"/>')
        if mine is not None:
            body.append(
                f'<circle cx="{x_of(mine):g}" cy="{y}" r="5" fill="#fff" stroke="{INK}" stroke-width="1.5">'
                f"<title>{escape(f'{name}: self {mine}')}</title></circle>"
            )
        if measured is not None:
            body.append(
                f'<circle cx="{x_of(measured):g}" cy="{y}" r="5" fill="{ACCENT}">'
                f"<title>{escape(f'{name}: measured {measured}')}</title></circle>"
            )
    return _svg(width, 26 + len(rows) * row_h, label, body)


def timeline(
    start: date, end: date, today: date, blocks: list[dict[str, Any]], milestones: list[dict[str, Any]], label: str
) -> str:
    """A plan: each topic block as a span of days, filled by the share of its
    cards seen; milestones as numbered diamonds on top; a line for today."""
    name_w, width, row_h, top = 120, 640, 20, 34
    span = max((end - start).days, 1)
    plot_w = width - name_w - 10

    def x_of(d: date) -> float:
        return name_w + plot_w * (d - start).days / span

    body: list[str] = []
    label_x = -100.0
    for n, m in enumerate(milestones, 1):
        x = x_of(date.fromisoformat(m["day"]))
        colour = ACCENT if m["day"] <= today.isoformat() else MUTED
        body.append(
            f'<path d="M{x:g},14 l5,6 l-5,6 l-5,-6 z" fill="{colour}"><title>{escape(m["day"] + ": " + m["text"])}'
            f"</title></path>"
        )
        label_x = max(x, label_x + 11)  # numbers of checkpoints a day apart side by side, not on top of each other
        body.append(_text(label_x, 10, str(n), "middle", INK, 10))
    for i, b in enumerate(blocks):
        y = top + i * row_h
        a, z = date.fromisoformat(b["first_day"]), date.fromisoformat(b["last_day"]) + timedelta(days=1)
        x0, x1 = x_of(a), x_of(z)
        body.append(_text(name_w - 6, y + 12, b["topic"], "end", INK))
        body.append(f'<rect x="{x0:g}" y="{y + 3}" width="{x1 - x0:g}" height="12" fill="#eef1f5" stroke="{GRID}"/>')
        tip = f"{b['topic']} {b['first_day']} to {b['last_day']}: {b['seen']} of {b['cards']} cards seen"
        body.append(
            f'<rect x="{x0:g}" y="{y + 3}" width="{(x1 - x0) * b["seen_share"]:g}" height="12" fill="{ACCENT}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if b["expected_share"] > 0:
            xe = x0 + (x1 - x0) * b["expected_share"]
            body.append(f'<line x1="{xe:g}" x2="{xe:g}" y1="{y + 1}" y2="{y + 17}" stroke="{INK}" stroke-width="1.5"/>')
    bottom = top + len(blocks) * row_h
    if start <= today <= end:
        x = x_of(today)
        body.append(
            f'<line x1="{x:g}" x2="{x:g}" y1="{top - 4}" y2="{bottom + 2}" stroke="{WARN}" stroke-dasharray="3 2"/>'
        )
        body.append(_text(x, bottom + 14, "today", "middle", WARN))
    body.append(_text(name_w, bottom + 28, start.isoformat()))
    body.append(_text(width - 10, bottom + 28, end.isoformat(), "end"))
    return _svg(width, bottom + 34, label, body)
