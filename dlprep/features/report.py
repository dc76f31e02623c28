"""`dlprep report`: the stats as one self-contained HTML page of charts
(inline CSS and SVG, no scripts, no network), printable on A4.

Figures: the review heatmap, retention per week, the 30-day due forecast,
mastery per topic, self-rating vs measured rating (from `dlprep assess`),
and the study plan's progress against its checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import study_day
from dlprep.features import svg
from dlprep.features.stats import build_stats, heat_key

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store

STEPS = ("reading your history", "self-assessment", "study plan", "drawing the charts")


def plan_progress(bank: Bank, store: Store, stats: dict[str, Any], today: date) -> dict[str, Any] | None:
    """The saved plan laid out as `dlprep plan` shows it, with each topic
    block's share of cards seen against the share expected by today (0 before
    the block, rising by day through it, 1 after it), and each checkpoint
    passed or to come."""
    from dlprep.features.plan import current_plan, lay_out

    plan = current_plan(store)
    if plan is None:
        return None
    _, ratings = store.latest_assessment()
    topics = {t["topic"]: t for t in stats["topics"]}
    mastery = {t: v["mastery"] for t, v in topics.items()}
    seen = {t for t, v in topics.items() if v["seen"]}
    view = lay_out(bank, plan.role, plan.start, plan.interview, ratings, mastery, seen)
    blocks = []
    for b in view.blocks:
        t = topics.get(b.topic, {"seen": 0, "cards": 0})
        days = (b.last_day - b.first_day).days + 1
        expected = min(max((today - b.first_day).days + 1, 0), days) / days
        blocks.append(
            {
                "topic": b.topic,
                "first_day": b.first_day.isoformat(),
                "last_day": b.last_day.isoformat(),
                "cards": t["cards"],
                "seen": t["seen"],
                "seen_share": round(t["seen"] / t["cards"], 3) if t["cards"] else 0.0,
                "expected_share": round(expected, 3),
            }
        )
    milestones = [
        {"day": m.day.isoformat(), "text": m.text, "passed": m.day <= today, "in_days": (m.day - today).days}
        for m in view.milestones
    ]
    return {**view.to_dict(), "blocks": blocks, "milestones": milestones}


def build_report(
    bank: Bank,
    store: Store,
    now: datetime,
    rollover_hour: int,
    topic: str | None = None,
    step: Callable[[str], None] = lambda _name: None,
) -> dict[str, Any]:
    """The numbers the report draws. ``step`` is told as each part starts (a progress bar)."""
    from dlprep.features.assess import AREAS, measured

    step(STEPS[0])
    stats = build_stats(bank, store, now, rollover_hour, topic)
    step(STEPS[1])
    taken, ratings = store.latest_assessment()
    areas = [*AREAS, *(a for a in bank.topic_order() if a not in AREAS and a in ratings)]  # as `dlprep assess`
    measured_ = measured(bank, store, areas)
    assessment = {
        "taken_at": taken,
        "areas": [{"area": a, "self": ratings.get(a), "measured": measured_[a]} for a in areas],
    }
    step(STEPS[2])
    plan = plan_progress(bank, store, stats, study_day(now, rollover_hour))
    return {"stats": stats, "assessment": assessment, "plan": plan}


CSS = """
@page { size: A4; margin: 12mm; }
body { font: 10.5pt/1.4 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111;
       max-width: 190mm; margin: 0 auto; padding: 8mm; }
h1 { font-size: 17pt; margin: 0 0 2pt; border-bottom: 2px solid #333; }
h2 { font-size: 12pt; margin: 14pt 0 4pt; color: #234; page-break-after: avoid; }
p { margin: 2pt 0 4pt; }
.muted { color: #666; font-size: 9pt; }
.figure { page-break-inside: avoid; break-inside: avoid; }
.figure svg { max-width: 100%; height: auto; display: block; }
.numbers { display: flex; flex-wrap: wrap; gap: 6pt; margin: 8pt 0; }
.numbers div { border: 1px solid #ccd; border-radius: 4px; padding: 4pt 8pt; min-width: 24mm; }
.numbers b { display: block; font-size: 14pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; font-size: 9.5pt; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #ccc; padding: 2pt 5pt; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 2px -1px; border-radius: 2px; }
@media print { body { padding: 0; } }
"""


def _pct(rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else "–"


def _when(milestone: dict[str, Any]) -> str:
    if milestone["passed"]:
        return "done" if milestone["in_days"] else "today"
    return f"in {milestone['in_days']} d"


def _figure(title: str, chart: str, note: str = "") -> str:
    tail = f'<p class="muted">{escape(note)}</p>' if note else ""
    return f'<section class="figure"><h2>{escape(title)}</h2>{chart}{tail}</section>'


def _numbers(s: dict[str, Any]) -> str:
    items = [
        ("reviews", str(s["reviews"])),
        ("cards seen", f"{s['cards_seen']}/{s['cards_total']}"),
        ("streak", f"{s['streak_days']} d"),
        ("longest streak", f"{s['longest_streak_days']} d"),
        ("retention, 30 days", _pct(s["retention_by"]["last_30_days"]["all"]["rate"])),
        ("time, 30 days", f"{s['minutes_last_30_days'] / 60:.1f} h"),
    ]
    return '<div class="numbers">' + "".join(f"<div><b>{escape(v)}</b>{escape(k)}</div>" for k, v in items) + "</div>"


def _retention_table(s: dict[str, Any]) -> str:
    rows = ["<tr><th></th><th>all</th><th>young (&lt; 21 d)</th><th>mature (21+ d)</th></tr>"]
    for key, label in (("last_7_days", "last 7 days"), ("last_30_days", "last 30 days"), ("all_time", "all time")):
        cells = []
        for age in ("all", "young", "mature"):
            c = s["retention_by"][key][age]
            cells.append(f'<td class="n">{_pct(c["rate"])} <span class="muted">of {c["reviews"]}</span></td>')
        rows.append(f"<tr><th>{label}</th>{''.join(cells)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _topic_table(s: dict[str, Any]) -> str:
    head = (
        "<tr><th>topic</th><th>seen</th><th>mature</th><th>mean EF</th><th>retention</th>"
        "<th>missed follow-ups</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(t['topic'])}</td><td class='n'>{t['seen']}/{t['cards']}</td>"
        f"<td class='n'>{_pct(t['mature_share'])}</td>"
        f"<td class='n'>{t['mean_easiness'] if t['mean_easiness'] is not None else '–'}</td>"
        f"<td class='n'>{_pct(t['retention'])}</td><td class='n'>{_pct(t['follow_up_miss_rate'])}</td></tr>"
        for t in s["topics"]
    ]
    return "<table>" + head + "".join(rows) + "</table>"


def to_html(report: dict[str, Any], title: str = "dlprep progress report") -> str:
    from dlprep.features.html_page import page

    s = report["stats"]
    scope = f"topic {s['topic']}" if s["topic"] else "all topics"
    body = [f"<h1>{escape(title)}</h1>", f'<p class="muted">{escape(s["today"])} · {escape(scope)}</p>', _numbers(s)]
    legend = "".join(f'<span style="background:{c}"></span>' for c in svg.HEAT_COLOURS)
    bounds = ", ".join(
        f'<span style="background:{svg.HEAT_COLOURS[lv]}"></span>{r}' for lv, r in heat_key(s["heatmap"]["levels"])
    )
    body.append(
        _figure(
            "Reviews per study day, last 16 weeks",
            svg.heatmap(s["heatmap"]["days"], s["heatmap"]["first_day"])
            + f'<p class="legend muted">less {legend} more{(" · " + bounds + " reviews") if bounds else ""}</p>',
        )
    )
    weeks = s["weekly_retention"]
    body.append(
        _figure(
            "Retention per week",
            svg.line(
                [w["rate"] for w in weeks],
                [w["to"][5:] for w in weeks],
                [f"{w['from']} to {w['to']}: {_pct(w['rate'])} of {w['reviews']}" for w in weeks],
                "retention per week, last 26 weeks",
            )
            + _retention_table(s),
            "Retention: the share of scheduled reviews of cards seen before that were graded 3 or more. "
            "Young and mature: the card's interval before the review, under 21 days or 21 and more.",
        )
    )
    fc = s["forecast"]
    body.append(
        _figure(
            "Due in the next 30 days",
            svg.bars(
                [d["due"] for d in fc],
                [d["day"][5:] for d in fc],
                [f"{d['day']}: {d['due']} due" for d in fc],
                "cards due per day, next 30 days",
            ),
            f"Overdue cards ({s['overdue']}) count on the first day.",
        )
    )
    body.append(
        _figure(
            "Mastery per topic",
            svg.hbars(
                [
                    (t["topic"], t["mastery"], f"{_pct(t['mastery'])}, {t['seen']}/{t['cards']} seen")
                    for t in s["topics"]
                ],
                "mastery per topic",
            )
            + _topic_table(s),
            "Mastery: the mean of each card's last three scheduled grades over 5, unseen cards counting 0.",
        )
    )
    areas = report["assessment"]["areas"]
    if any(a["self"] is not None for a in areas):
        note = f"Self-rating from `dlprep assess` on {report['assessment']['taken_at'][:10]}. "
    else:
        note = "No self-assessment yet (dlprep assess): only the measured ratings are shown. "
    body.append(
        _figure(
            "Self-rating vs measured",
            svg.dumbbell([(a["area"], a["self"], a["measured"]) for a in areas], "self-rating vs measured rating"),
            note + "Open circle: your rating; dot: 1 + 4 x mastery from your reviews; orange: 1.5 or more apart.",
        )
    )
    plan = report["plan"]
    if plan is None:
        body.append(_figure("Study plan", "<p>No study plan yet: <code>dlprep plan --role ROLE</code>.</p>"))
    else:
        marks = "".join(
            f"<tr><td class='n'>{i}</td><td>{escape(m['day'])}</td><td>{escape(m['text'])}</td><td>{_when(m)}</td></tr>"
            for i, m in enumerate(plan["milestones"], 1)
        )
        body.append(
            _figure(
                f"Study plan: {plan['title']}, {plan['start']} to {plan['end']}",
                svg.timeline(
                    date.fromisoformat(plan["start"]),
                    date.fromisoformat(plan["end"]),
                    date.fromisoformat(s["today"]),
                    plan["blocks"],
                    plan["milestones"],
                    "study plan progress",
                )
                + "<table><tr><th>#</th><th>day</th><th>checkpoint</th><th></th></tr>"
                + marks
                + "</table>",
                "Bars: each topic's days; blue fill: its cards seen so far; black tick: where it should be by today.",
            )
        )
    if s["most_missed"]:
        items = "".join(
            f"<li>{escape(m['point'])} <span class='muted'>({escape(m['card'])}, missed {m['missed']} of "
            f"{m['asked']})</span></li>"
            for m in s["most_missed"]
        )
        body.append(f'<section class="figure"><h2>Rubric points you miss most</h2><ul>{items}</ul></section>')
    return page(title, CSS, body)
