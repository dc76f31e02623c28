"""Recording a review by hand (``dlprep review``) and taking one back (``dlprep undo``).

The rules a hand-entered review follows, so that no entry can lock a card:
- a review may not be dated in the future (beyond a small clock-skew
  tolerance): a future ``last_review`` would refuse every later review;
- a second review of a card on the same study day is logged as a repeat that
  does not move the schedule (SM-2's same-day rule, as in the quiz), unless
  ``reschedule`` says otherwise.

Undo deletes the review row and replays the card's state from what is left
of its log: the log stays the source of truth, so ``db rebuild`` agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dlprep.core.scheduler import CardState, study_day
from dlprep.core.store import Review, Store
from dlprep.errors import UsageError

CLOCK_SKEW = timedelta(minutes=10)


def check_not_future(when: datetime, now: datetime) -> None:
    if when > now + CLOCK_SKEW:
        raise UsageError(
            f"review time {when.isoformat(timespec='minutes')} is in the future "
            f"(now {now.isoformat(timespec='minutes')}); reviews are recorded when they happen"
        )


@dataclass(frozen=True)
class Recorded:
    card_id: str
    grade: int
    at: datetime
    state: CardState
    repeat: bool  # a same-day repeat: logged, schedule unchanged

    def to_dict(self) -> dict[str, Any]:
        st = self.state
        return {
            "card": self.card_id,
            "grade": self.grade,
            "at": self.at.isoformat(),
            "repeat": self.repeat,
            "repetitions": st.repetitions,
            "easiness": st.easiness,
            "interval_days": st.interval_days,
            "due": st.due.isoformat() if st.due else None,
        }


def record_review(
    store: Store,
    card_id: str,
    grade: int,
    when: datetime,
    now: datetime,
    rollover_hour: int,
    due_cap: date | None = None,
    reschedule: bool = False,
    card_hash: str | None = None,
) -> Recorded:
    check_not_future(when, now)
    old = store.state(card_id)
    repeat = (
        not reschedule
        and old.last_review is not None
        and study_day(old.last_review, rollover_hour) == study_day(when, rollover_hour)
    )
    review = Review(card_id, grade, when, mode="repeat" if repeat else "review", counts=not repeat, card_hash=card_hash)
    state = store.record(review, rollover_hour, due_cap)
    return Recorded(card_id, grade, when, state, repeat)
