"""SM-2, exactly, as a pure function: (state, grade, review time) -> new state.

No clock, no database, no randomness. Easiness is kept in integer hundredths
so that ``ceil(I * EF)`` is exact: with floats, 6 * 2.5 can come out as
15.000000000000002 and round up to 16.

The rules (Wozniak 1990, SuperMemo 2):
- grade q >= 3: I = 1 if n == 0, 6 if n == 1, else ceil(I_prev * EF); n += 1
- grade q < 3:  n = 0, I = 1
- every grade:  EF = max(1.30, EF + 0.1 - (5 - q) * (0.08 + (5 - q) * 0.02))
- intervals stop growing at 100 years (36,500 days), so dates stay valid
- due = the study day of the review + I days, where a study day rolls over
  at ``rollover_hour`` local time (a review at 01:30 belongs to the day before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

EF_START = 250  # hundredths
EF_FLOOR = 130
PASS = 3
# SM-2 lets intervals grow without bound; after ~25 perfect reviews they pass
# the year 9999. Capping at 100 years changes nothing a person will live to see.
MAX_INTERVAL_DAYS = 36_500


class Grade(IntEnum):
    BLACKOUT = 0  # no recall at all
    WRONG = 1  # wrong, but the answer was recognized
    WRONG_EASY = 2  # wrong, but the answer seemed easy once seen
    HARD = 3  # right, with serious difficulty
    HESITANT = 4  # right, after hesitation
    PERFECT = 5  # right, at once

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS = {
    Grade.BLACKOUT: "blackout",
    Grade.WRONG: "wrong, but recognized the answer",
    Grade.WRONG_EASY: "wrong, but easy to recall once seen",
    Grade.HARD: "right, with serious difficulty",
    Grade.HESITANT: "right, after hesitation",
    Grade.PERFECT: "perfect",
}


@dataclass(frozen=True)
class CardState:
    """A card's SM-2 state. A new card is ``CardState()``."""

    repetitions: int = 0
    easiness_hundredths: int = EF_START
    interval_days: int = 0
    due: date | None = None
    last_review: datetime | None = None
    reviews: int = 0
    lapses: int = 0

    @property
    def easiness(self) -> float:
        return self.easiness_hundredths / 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "repetitions": self.repetitions,
            "easiness_hundredths": self.easiness_hundredths,
            "interval_days": self.interval_days,
            "due": self.due.isoformat() if self.due else None,
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "reviews": self.reviews,
            "lapses": self.lapses,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardState:
        return cls(
            repetitions=int(data["repetitions"]),
            easiness_hundredths=int(data["easiness_hundredths"]),
            interval_days=int(data["interval_days"]),
            due=date.fromisoformat(data["due"]) if data.get("due") else None,
            last_review=datetime.fromisoformat(data["last_review"]) if data.get("last_review") else None,
            reviews=int(data.get("reviews", 0)),
            lapses=int(data.get("lapses", 0)),
        )


def study_day(at: datetime, rollover_hour: int = 4) -> date:
    """The calendar day a moment belongs to, in its own local time, with the
    day starting at ``rollover_hour`` rather than midnight."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("study_day needs an aware datetime (with a UTC offset)")
    if not 0 <= rollover_hour <= 23:
        raise ValueError(f"rollover_hour must be 0-23, got {rollover_hour}")
    return (at - timedelta(hours=rollover_hour)).date()


def next_easiness(easiness_hundredths: int, grade: int) -> int:
    miss = 5 - grade
    return max(EF_FLOOR, easiness_hundredths + 10 - miss * (8 + miss * 2))


def review(
    state: CardState,
    grade: int,
    at: datetime,
    rollover_hour: int = 4,
    due_cap: date | None = None,
) -> CardState:
    """Apply one graded review. Returns a new state; ``state`` is untouched.

    ``due_cap`` (from a study plan's interview date) moves the due date no
    later than that day, and never earlier than the next day; the SM-2
    interval itself is kept, so scheduling carries on normally afterwards.
    """
    if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
        raise ValueError(f"grade must be an integer from 0 to 5, got {grade!r}")
    day = study_day(at, rollover_hour)
    if grade >= PASS:
        if state.repetitions == 0:
            interval = 1
        elif state.repetitions == 1:
            interval = 6
        else:
            # ceil(I * EF / 100) in integers: exact, no float rounding.
            interval = min(-(-state.interval_days * state.easiness_hundredths // 100), MAX_INTERVAL_DAYS)
        repetitions = state.repetitions + 1
        lapses = state.lapses
    else:
        interval = 1
        repetitions = 0
        lapses = state.lapses + (1 if state.repetitions > 0 else 0)
    return replace(
        state,
        repetitions=repetitions,
        easiness_hundredths=next_easiness(state.easiness_hundredths, grade),
        interval_days=interval,
        due=_capped(day + timedelta(days=interval), day, due_cap),
        last_review=at,
        reviews=state.reviews + 1,
        lapses=lapses,
    )


def _capped(due: date, day: date, cap: date | None) -> date:
    if cap is None or due <= cap:
        return due
    return max(cap, day + timedelta(days=1))


def replay(reviews: list[tuple[int, datetime, date | None, int]]) -> CardState:
    """The state after a card's scheduling reviews, oldest first, each given as
    (grade, time, due cap, rollover hour) as they were recorded."""
    state = CardState()
    for grade, at, cap, rollover_hour in reviews:
        state = review(state, grade, at, rollover_hour, cap)
    return state
