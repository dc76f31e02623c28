"""Progress read from the review history: per card, per topic, overall."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import CardState

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store

RECENT = 3  # a card's mastery looks at its last few scheduling grades (card_summary keeps these three)


def card_progress(store: Store | None, card_id: str, rollover_hour: int) -> dict[str, Any]:
    """The scheduling fields of ``dlprep card --json``."""
    state = store.state(card_id) if store else CardState()
    history = store.reviews(card_id) if store else []
    return {
        "repetitions": state.repetitions,
        "easiness": state.easiness,
        "interval_days": state.interval_days,
        "due": state.due.isoformat() if state.due else None,
        "last_review": state.last_review.isoformat() if state.last_review else None,
        "lapses": state.lapses,
        "reviews": [
            {
                "at": r["at"],
                "grade": r["grade"],
                "mode": r["mode"],
                "counts": r["counts"],
                "coverage": r["coverage"],
                "follow_up": r["follow_up"],
            }
            for r in history
        ],
    }


def card_mastery(grades: list[int]) -> float:
    """0 for a card never reviewed; else the mean of its last few grades, over 5."""
    if not grades:
        return 0.0
    recent = grades[-RECENT:]
    return sum(recent) / (5 * len(recent))


def grades_by_card(store: Store) -> dict[str, list[int]]:
    """Per card with scheduling reviews, its last ``RECENT`` scheduling grades,
    oldest first: all that :func:`card_mastery` looks at. Read from the card
    summaries, not the log."""
    return {cid: s.recent for cid, s in store.card_summaries().items() if s.scheduling}


def topic_mastery(bank: Bank, store: Store) -> dict[str, float]:
    """Per topic, the mean card mastery over all its cards (unseen cards count 0)."""
    grades = grades_by_card(store)
    result = {}
    for tid in bank.topic_order():
        cards = bank.cards_in(tid)
        if cards:
            result[tid] = round(sum(card_mastery(grades.get(c.id, [])) for c in cards) / len(cards), 3)
    return result


def missed_points(bank: Bank, store: Store, topic: str | None = None) -> list[tuple[str, str, int, int]]:
    """Rubric points missed most often: (card id, point, times missed, times asked).

    A point is asked whenever its card's review marked rubric points, and
    missed when that review did not mark it covered."""
    summaries = store.card_summaries()
    cards = [
        bank.by_id[cid]
        for cid, s in summaries.items()
        if s.pointed and cid in bank.by_id and (not topic or bank.by_id[cid].topic == topic)
    ]
    hits = store.point_hits([c.id for c in cards]) if topic else store.point_hits()
    rows = []
    for card in cards:
        asked = summaries[card.id].pointed
        for i, point in enumerate(card.rubric):
            missed = asked - hits.get(card.id, {}).get(i, 0)
            if missed:
                rows.append((card.id, point.point, missed, asked))
    return sorted(rows, key=lambda r: (-r[2], -r[2] / r[3], r[0]))
