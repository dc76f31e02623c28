"""Progress read from the review history: per card, per topic, overall."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import CardState

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.store import Store

RECENT = 3  # a card's mastery looks at its last few scheduling grades


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
    grades: dict[str, list[int]] = defaultdict(list)
    for r in store.reviews():
        if r["counts"]:
            grades[r["card_id"]].append(r["grade"])
    return grades


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
    """Rubric points missed most often: (card id, point, times missed, times asked)."""
    missed: Counter[tuple[str, int]] = Counter()
    asked: Counter[tuple[str, int]] = Counter()
    for r in store.reviews():
        card = bank.by_id.get(r["card_id"])
        if card is None or r["points_hit"] is None or (topic and card.topic != topic):
            continue
        hit = set(r["points_hit"])
        for i in range(len(card.rubric)):
            asked[(card.id, i)] += 1
            if i not in hit:
                missed[(card.id, i)] += 1
    rows = [
        (cid, bank.by_id[cid].rubric[i].point, n, asked[(cid, i)])
        for (cid, i), n in missed.items()
        if i < len(bank.by_id[cid].rubric)
    ]
    return sorted(rows, key=lambda r: (-r[2], -r[2] / r[3], r[0]))
