"""What to study on a given day: due reviews, new cards, the 14-day forecast."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dlprep.core.bank import Bank, Card
from dlprep.core.scheduler import CardState, study_day
from dlprep.core.store import Store
from dlprep.drills.model import is_drill_review

DEFAULT_SECONDS_PER_CARD = 120
MIN_SECONDS_PER_CARD = 20  # reading, revealing and marking a card takes at least this
FORECAST_DAYS = 14


@dataclass
class DueCard:
    card: Card
    state: CardState

    def overdue_days(self, day: date) -> int:
        return (day - self.state.due).days if self.state.due else 0


@dataclass
class Today:
    day: date
    due: list[DueCard]
    held_back: int
    new: list[Card]
    new_introduced_today: int
    minutes: int
    seconds_per_card: float
    forecast: list[tuple[date, int]]
    orphans: list[str] = field(default_factory=list)
    by_interview_recall: bool = False  # the plan's final window: weakest on interview day first

    @property
    def overdue(self) -> list[DueCard]:
        return [d for d in self.due if d.state.due and d.state.due < self.day]

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "due": [
                {
                    "id": d.card.id,
                    "topic": d.card.topic,
                    "due": d.state.due.isoformat() if d.state.due else None,
                    "overdue_days": d.overdue_days(self.day),
                }
                for d in self.due
            ],
            "due_count": len(self.due),
            "overdue_count": len(self.overdue),
            "held_back": self.held_back,
            "new": [{"id": c.id, "topic": c.topic} for c in self.new],
            "new_introduced_today": self.new_introduced_today,
            "estimated_minutes": self.minutes,
            "seconds_per_card": round(self.seconds_per_card),
            "forecast": [{"day": d.isoformat(), "due": n} for d, n in self.forecast],
            "orphaned_cards": self.orphans,
        }


def topic_sequence(bank: Bank, role: str | None = None) -> list[str]:
    """Topics in the order new cards are introduced: the role's study path
    first (when a plan is chosen), then the rest in dependency order."""
    order = bank.topic_order()
    if role and role in bank.paths:
        first = [t for st in bank.paths[role].stages for t in st.topics if t in bank.topics]
        seen: set[str] = set()
        first = [t for t in first if not (t in seen or seen.add(t))]
        return first + [t for t in order if t not in seen]
    return order


def new_cards(
    bank: Bank, states: dict[str, CardState], role: str | None = None, topics: list[str] | None = None
) -> list[Card]:
    """Never-reviewed cards in introduction order (within a topic, junior first)."""
    rank = {"junior": 0, "mid": 1, "senior": 2}
    result = []
    for topic in topic_sequence(bank, role):
        if topics and topic not in topics:
            continue
        cards = [c for c in bank.cards_in(topic) if c.id not in states]
        result.extend(sorted(cards, key=lambda c: rank.get(c.difficulty, 1)))
    return result


def due_cards(bank: Bank, states: dict[str, CardState], on: date, topics: list[str] | None = None) -> list[DueCard]:
    """Cards due on or before ``on``, most overdue first (orphans skipped)."""
    order = {t: i for i, t in enumerate(bank.topic_order())}
    due = [
        DueCard(bank.by_id[cid], st)
        for cid, st in states.items()
        if st.due is not None and st.due <= on and cid in bank.by_id and (not topics or bank.by_id[cid].topic in topics)
    ]
    return sorted(due, key=lambda d: (d.state.due, order.get(d.card.topic, 99), d.card.id))


def introduced_on(states: dict[str, CardState], day: date, rollover_hour: int) -> int:
    """New cards introduced on ``day``: those whose one scheduling review was made that day."""
    return sum(
        1
        for st in states.values()
        if st.reviews == 1 and st.last_review is not None and study_day(st.last_review, rollover_hour) == day
    )


def build_today(
    bank: Bank,
    store: Store,
    now: datetime,
    rollover_hour: int,
    new_per_day: int,
    review_cap: int,
    role: str | None = None,
    topics: list[str] | None = None,
    states: dict[str, CardState] | None = None,
) -> Today:
    """``states``: ``store.states()`` when the caller has already read them."""
    day = study_day(now, rollover_hour)
    states = store.states() if states is None else states
    due_all = due_cards(bank, states, day, topics)
    due, held_back = due_all[:review_cap], max(len(due_all) - review_cap, 0)
    from dlprep.features.forecast import final_window_due  # the plan's last days (fsrs only then)

    window = final_window_due(bank, store, states, day, rollover_hour, review_cap, topics)
    if window is not None:
        due, held_back = window
    introduced = introduced_on(states, day, rollover_hour)
    new = new_cards(bank, states, role, topics)[: max(new_per_day - introduced, 0)]
    seconds = average_seconds(store)
    minutes = round((len(due) + len(new)) * seconds / 60)
    forecast = []
    for offset in range(1, FORECAST_DAYS + 1):
        d = day + timedelta(days=offset)
        forecast.append((d, sum(1 for cid, st in states.items() if st.due == d and cid in bank.by_id)))
    orphans = sorted(cid for cid in states if cid not in bank.by_id and not is_drill_review(cid))
    return Today(day, due, held_back, new, introduced, minutes, seconds, forecast, orphans, window is not None)


def average_seconds(store: Store) -> float:
    """Mean time per reviewed card from history, or 2 minutes with too little history."""
    count, mean = store.timing()
    if count >= 5 and mean is not None:
        return max(mean, float(MIN_SECONDS_PER_CARD))
    return float(DEFAULT_SECONDS_PER_CARD)
