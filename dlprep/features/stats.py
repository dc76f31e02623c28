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


def heat_key(levels: list[int]) -> list[tuple[int, str]]:
    """(level, its range of reviews) for a legend, leaving out levels no day can reach."""
    key = []
    for level, low in enumerate(levels, 1):
        high = levels[level] - 1 if level < len(levels) else None
        if high is None:
            key.append((level, f"{low}+"))
        elif high >= low:
            key.append((level, f"{low}-{high}" if high > low else f"{low}"))
    return key


def _rate(passed: int, n: int) -> float | None:
    return round(passed / n, 3) if n else None


def _share(part: int, whole: int) -> dict[str, Any]:
    return {"reviews": whole, "passed": part, "rate": _rate(part, whole)}


def scope_for(bank: Bank, today: date, topic: str | None = None) -> Q.Scope:
    topics = [topic] if topic else bank.topic_order()
    cards = [(c.id, c.topic, len(c.rubric)) for t in topics for c in bank.cards_in(t)]
    return Q.Scope(today, cards, topic_only=topic is not None)


def _heatmap(store: Store, scope: Q.Scope) -> tuple[date, list[dict[str, Any]]]:
    """The last HEATMAP_WEEKS weeks, Monday to Sunday, up to today: reviews, minutes and shade per day."""
    today = scope.today
    first = today - timedelta(days=today.weekday() + 7 * (HEATMAP_WEEKS - 1))
    per_day = {r["day"]: r for r in Q.days(store, scope, first)}
    rows = []
    for i in range((today - first).days + 1):
        d = (first + timedelta(days=i)).isoformat()
        r = per_day.get(d, {"reviews": 0, "seconds_ms": 0})
        rows.append({"day": d, "reviews": r["reviews"], "minutes": round(r["seconds_ms"] / 60_000, 1)})
    most = max(r["reviews"] for r in rows)
    for r in rows:
        r["level"] = heat_level(r["reviews"], most)
    return first, rows


def _topics(bank: Bank, store: Store, scope: Q.Scope) -> list[dict[str, Any]]:
    order = {t: i for i, t in enumerate(bank.topic_order())}
    follow = {r["topic"]: r for r in Q.follow_ups(store, scope)}
    topics = []
    for row in sorted(Q.topics(store, scope), key=lambda r: order.get(r["topic"], len(order))):
        f = follow.get(row["topic"], {"asked": 0, "missed": 0})
        topics.append(
            {
                "topic": row["topic"],
                "cards": row["cards"],
                "seen": row["seen"],
                "due": row["due"],
                "mastery": round(row["mastery_sum"] / row["cards"], 3),
                "mature": row["mature"],
                "mature_share": round(row["mature"] / row["cards"], 3),
                "mean_easiness": round(row["mean_ef"] / 100, 2) if row["mean_ef"] is not None else None,
                "retention": _rate(row["recalled"], row["retention_reviews"]),
                "retention_reviews": row["retention_reviews"],
                "follow_ups_asked": f["asked"],
                "follow_ups_missed": f["missed"],
                "follow_up_miss_rate": _rate(f["missed"], f["asked"]),
            }
        )
    return topics


def _retention(store: Store, scope: Q.Scope) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Retention in the last 7 and 30 days and in all, overall and by card age; and per week."""
    overall = Q.retention(store, scope)
    none = {"n": 0, "passed": 0, "n7": 0, "passed7": 0, "n30": 0, "passed30": 0}
    by_age = {r["mature"]: r for r in Q.retention_by_age(store, scope)}
    young, mature = by_age.get(0, none), by_age.get(1, none)
    retention_by = {
        key: {
            "all": _share(overall[f"passed{s}"], overall[f"n{s}"]),
            "young": _share(young[f"passed{s}"], young[f"n{s}"]),
            "mature": _share(mature[f"passed{s}"], mature[f"n{s}"]),
        }
        for key, s in WINDOWS
    }
    weeks = {r["week"]: r for r in Q.weekly_retention(store, scope)}
    weekly = []
    for w in range(Q.WEEKS_BACK - 1, -1, -1):
        r = weeks.get(w, {"n": 0, "passed": 0})
        end = scope.today - timedelta(days=7 * w)
        weekly.append(
            {"from": (end - timedelta(days=6)).isoformat(), "to": end.isoformat(), **_share(r["passed"], r["n"])}
        )
    return retention_by, weekly


def build_stats(
    bank: Bank, store: Store, now: datetime, rollover_hour: int, topic: str | None = None
) -> dict[str, Any]:
    """Every number `dlprep stats` shows (``topic`` narrows them to one topic's cards;
    the drill line is always the whole bank's)."""
    from dlprep.features.practice import drill_totals

    today = study_day(now, rollover_hour)
    scope = scope_for(bank, today, topic)
    totals = Q.totals(store, scope)
    runs = Q.streaks(store, scope)
    first, day_rows = _heatmap(store, scope)
    topics = _topics(bank, store, scope)
    retention_by, weekly = _retention(store, scope)
    due = {r["day"]: r for r in Q.forecast(store, scope, FORECAST_DAYS)}
    forecast = [
        {"day": d, "due": due[d]["due"] if d in due else 0}
        for d in ((today + timedelta(days=i)).isoformat() for i in range(FORECAST_DAYS))
    ]
    cards = bank.by_id
    most_missed = [
        {
            "card": r["card_id"],
            "topic": cards[r["card_id"]].topic,
            "index": r["point"],
            "point": cards[r["card_id"]].rubric[r["point"]].point,
            "missed": r["missed"],
            "asked": r["asked"],
        }
        for r in Q.missed_points(store, scope, MOST_MISSED)
    ]
    scheduled = totals["scheduling_reviews"]
    return {
        "today": today.isoformat(),
        "topic": topic,
        "reviews": totals["reviews"],
        "scheduling_reviews": scheduled,
        "cards_seen": sum(t["seen"] for t in topics),
        "cards_total": sum(t["cards"] for t in topics),
        "study_days": runs["study_days"],
        "streak_days": runs["current"],
        "longest_streak_days": runs["longest"],
        "average_grade": round(totals["grade_sum"] / scheduled, 2) if scheduled else None,
        "retention": retention_by["all_time"]["all"]["rate"],
        "retention_by": retention_by,
        "minutes": round(totals["seconds_ms"] / 60_000, 1),
        "minutes_last_7_days": round(sum(d["minutes"] for d in day_rows[-7:]), 1),
        "minutes_last_30_days": round(sum(d["minutes"] for d in day_rows[-30:]), 1),
        "last_days": [{"day": d["day"], "reviews": d["reviews"]} for d in day_rows[-HISTORY_DAYS:]],
        "heatmap": {
            "first_day": first.isoformat(),
            "levels": heat_thresholds(max(d["reviews"] for d in day_rows)),
            "days": day_rows,
        },
        "weekly_retention": weekly,
        "forecast": forecast,
        "overdue": sum(r["overdue"] for r in due.values()),
        "topics": topics,
        "most_missed": most_missed,
        "drills": drill_totals(store, today),
    }
