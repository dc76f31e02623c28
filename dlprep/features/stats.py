"""Progress in numbers: activity per study day, streaks, retention (by card
age), mastery per topic, missed rubric points, follow-ups, time and the due
forecast. Every number is an aggregate SQLite computes
(:mod:`dlprep.core.stats_queries`); this module only arranges them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core import stats_queries as Q
from dlprep.core.scheduler import study_day

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store

HISTORY_DAYS = 14  # `last_days`: the short strip kept for scripts that read it
HEATMAP_WEEKS = 16
FORECAST_DAYS = 30
MOST_MISSED = 10
HEAT_LEVELS = 4  # shades above "no reviews"
WINDOWS = (("last_7_days", "7"), ("last_30_days", "30"), ("all_time", ""))


def streak(days: set[date], today: date) -> int:
    """Consecutive study days ending today (or yesterday, if today is not done yet).
    The same rule as the SQL in :func:`dlprep.core.stats_queries.streaks`, for small sets."""
    day = today if today in days else today - timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


def heat_level(reviews: int, most: int) -> int:
    """0 for a day without reviews, else 1-4: ceil(4 * reviews / most)."""
    if reviews <= 0 or most <= 0:
        return 0
    return min(HEAT_LEVELS, -(-HEAT_LEVELS * reviews // most))


def heat_thresholds(most: int) -> list[int]:
    """The fewest reviews that reach each level 1-4 (for a legend)."""
    if most <= 0:
        return []
    return [(level - 1) * most // HEAT_LEVELS + 1 for level in range(1, HEAT_LEVELS + 1)]


def _rate(passed: int, n: int) -> float | None:
    return round(passed / n, 3) if n else None


def _share(part: int, whole: int) -> dict[str, Any]:
    return {"reviews": whole, "passed": part, "rate": _rate(part, whole)}


def scope_for(bank: Bank, today: date, rollover_hour: int, topic: str | None = None) -> Q.Scope:
    topics = [topic] if topic else bank.topic_order()
    cards = [(c.id, c.topic, len(c.rubric)) for t in topics for c in bank.cards_in(t)]
    return Q.Scope(rollover_hour, today, cards, topic_only=topic is not None)


def build_stats(
    bank: Bank, store: Store, now: datetime, rollover_hour: int, topic: str | None = None
) -> dict[str, Any]:
    """Every number `dlprep stats` shows (``topic`` narrows them to one topic's cards)."""
    today = study_day(now, rollover_hour)
    scope = scope_for(bank, today, rollover_hour, topic)
    totals = Q.totals(store, scope)
    runs = Q.streaks(store, scope)
    first = today - timedelta(days=today.weekday() + 7 * (HEATMAP_WEEKS - 1))  # a Monday
    per_day = {r["day"]: r for r in Q.days(store, scope, first)}
    day_rows = []
    for i in range((today - first).days + 1):
        d = (first + timedelta(days=i)).isoformat()
        r = per_day.get(d, {"reviews": 0, "seconds": 0})
        day_rows.append({"day": d, "reviews": r["reviews"], "minutes": round(r["seconds"] / 60, 1)})
    most = max((d["reviews"] for d in day_rows), default=0)
    for d in day_rows:
        d["level"] = heat_level(d["reviews"], most)

    ret = Q.retention(store, scope)
    topic_rows = {r["topic"]: r for r in Q.topics(store, scope)}
    follow = {r["topic"]: r for r in Q.follow_ups(store, scope)}
    topics = []
    for tid in [topic] if topic else bank.topic_order():
        row = topic_rows.get(tid)
        if row is None:  # a topic without cards
            continue
        mine = [r for r in ret if r["topic"] == tid]
        n, passed = sum(r["n"] for r in mine), sum(r["passed"] for r in mine)
        f = follow.get(tid, {"asked": 0, "missed": 0})
        topics.append(
            {
                "topic": tid,
                "cards": row["cards"],
                "seen": row["seen"],
                "due": row["due"],
                "mastery": round(row["mastery_sum"] / row["cards"], 3),
                "mature": row["mature"],
                "mature_share": round(row["mature"] / row["cards"], 3),
                "mean_easiness": round(row["mean_ef"] / 100, 2) if row["mean_ef"] is not None else None,
                "retention": _rate(passed, n),
                "retention_reviews": n,
                "follow_ups_asked": f["asked"],
                "follow_ups_missed": f["missed"],
                "follow_up_miss_rate": _rate(f["missed"], f["asked"]),
            }
        )

    retention_by = {}
    for key, suffix in WINDOWS:
        cut = {
            age: (
                sum(r[f"passed{suffix}"] for r in ret if age is None or r["mature"] == age),
                sum(r[f"n{suffix}"] for r in ret if age is None or r["mature"] == age),
            )
            for age in (None, 0, 1)
        }
        retention_by[key] = {
            "all": _share(*cut[None]),
            "young": _share(*cut[0]),
            "mature": _share(*cut[1]),
        }
    weekly = []
    for w in range(Q.WEEKS_BACK - 1, -1, -1):
        n = sum(r["n"] for r in ret if r["week"] == w)
        passed = sum(r["passed"] for r in ret if r["week"] == w)
        end = today - timedelta(days=7 * w)
        weekly.append({"from": (end - timedelta(days=6)).isoformat(), "to": end.isoformat(), **_share(passed, n)})

    due = {r["day"]: r for r in Q.forecast(store, scope, FORECAST_DAYS)}
    forecast = [
        {"day": d, "due": due[d]["due"] if d in due else 0}
        for d in ((today + timedelta(days=i)).isoformat() for i in range(FORECAST_DAYS))
    ]
    by_id = bank.by_id
    most_missed = [
        {
            "card": r["card_id"],
            "topic": by_id[r["card_id"]].topic,
            "index": r["point"],
            "point": by_id[r["card_id"]].rubric[r["point"]].point,
            "missed": r["missed"],
            "asked": r["asked"],
        }
        for r in Q.missed_points(store, scope, MOST_MISSED)
    ]
    recent = day_rows[-30:]
    seconds = totals["seconds"] or 0
    return {
        "today": today.isoformat(),
        "topic": topic,
        "reviews": totals["reviews"],
        "scheduling_reviews": totals["scheduling_reviews"],
        "cards_seen": sum(t["seen"] for t in topics),
        "cards_total": sum(t["cards"] for t in topics),
        "study_days": runs["study_days"],
        "streak_days": runs["current"],
        "longest_streak_days": runs["longest"],
        "average_grade": round(totals["average_grade"], 2) if totals["average_grade"] is not None else None,
        "retention": retention_by["all_time"]["all"]["rate"],
        "retention_by": retention_by,
        "minutes": round(seconds / 60, 1),
        "minutes_last_7_days": round(sum(d["minutes"] for d in day_rows[-7:]), 1),
        "minutes_last_30_days": round(sum(d["minutes"] for d in recent), 1),
        "last_days": [{"day": d["day"], "reviews": d["reviews"]} for d in day_rows[-HISTORY_DAYS:]],
        "heatmap": {"first_day": first.isoformat(), "levels": heat_thresholds(most), "days": day_rows},
        "weekly_retention": weekly,
        "forecast": forecast,
        "overdue": sum(r["overdue"] for r in due.values()),
        "topics": topics,
        "most_missed": most_missed,
    }


def measured_ratings(bank: Bank, store: Store, stats: dict[str, Any]) -> dict[str, float | None]:
    """What `dlprep assess` measures per area (1 + 4 x mastery for a seen
    topic; rapid-fire from rapid reviews graded 4+ within the card's time
    target), from the stats' SQL numbers rather than a pass over the log."""
    from dlprep.features.assess import RAPID_FIRE

    result: dict[str, float | None] = {
        t["topic"]: (round(1 + 4 * t["mastery"], 1) if t["seen"] else None) for t in stats["topics"]
    }
    rapid = Q.rapid_fire(store, {c.id: c.time_target_s for c in bank.cards})
    result[RAPID_FIRE] = round(1 + 4 * rapid["good"] / rapid["n"], 1) if rapid["n"] else None
    return result
