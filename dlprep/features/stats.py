"""Progress in numbers: reviews, streak, retention, per-topic coverage and mastery."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import study_day
from dlprep.features.progress import grades_by_card, missed_points, topic_mastery

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store

HISTORY_DAYS = 14


def streak(days: set[date], today: date) -> int:
    """Consecutive study days ending today (or yesterday, if today is not done yet)."""
    day = today if today in days else today - timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


def build_stats(bank: Bank, store: Store, now: datetime, rollover_hour: int) -> dict[str, Any]:
    today = study_day(now, rollover_hour)
    rows = [r for r in store.reviews()]
    scheduling = [r for r in rows if r["counts"]]
    days = Counter(study_day(datetime.fromisoformat(r["at"]), rollover_hour) for r in rows)
    states = store.states()
    grades = grades_by_card(store)
    mastery = topic_mastery(bank, store)
    # Retention: reviews of cards seen before that were recalled (grade >= 3).
    seen: set[str] = set()
    recalls = []
    for r in scheduling:
        if r["card_id"] in seen:
            recalls.append(r["grade"] >= 3)
        seen.add(r["card_id"])
    topics = []
    for tid in bank.topic_order():
        cards = bank.cards_in(tid)
        topics.append(
            {
                "topic": tid,
                "cards": len(cards),
                "seen": sum(1 for c in cards if c.id in grades),
                "due": sum(1 for c in cards if c.id in states and states[c.id].due and states[c.id].due <= today),
                "mastery": mastery.get(tid, 0.0),
            }
        )
    seconds = sum(r["seconds"] or 0 for r in rows)
    return {
        "today": today.isoformat(),
        "reviews": len(rows),
        "scheduling_reviews": len(scheduling),
        "cards_seen": len([c for c in grades if c in bank.by_id]),
        "cards_total": len(bank.cards),
        "study_days": len(days),
        "streak_days": streak(set(days), today),
        "average_grade": round(sum(r["grade"] for r in scheduling) / len(scheduling), 2) if scheduling else None,
        "retention": round(sum(recalls) / len(recalls), 3) if recalls else None,
        "minutes": round(seconds / 60, 1),
        "last_days": [
            {"day": (today - timedelta(days=i)).isoformat(), "reviews": days.get(today - timedelta(days=i), 0)}
            for i in range(HISTORY_DAYS - 1, -1, -1)
        ],
        "topics": topics,
        "most_missed": [
            {"card": c, "point": p, "missed": m, "asked": a} for c, p, m, a in missed_points(bank, store)[:5]
        ],
    }
