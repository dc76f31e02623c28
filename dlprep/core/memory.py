"""A memory model over the review log: FSRS-6, as the `fsrs` package defines it, behind one small adapter.

Pure: reviews in, memory states and recall probabilities out. No clock, no
database, no randomness (FSRS's interval fuzz is off).

How dlprep's log is fed to FSRS (the rules the tests pin):

- Grades map to FSRS ratings: 0, 1, 2 -> Again (forgotten); 3 -> Hard;
  4 -> Good; 5 -> Easy. FSRS counts only Again as a failure, exactly as
  SM-2 counts grades below 3.
- Time is counted in study days (the rollover hour decides the day, as
  everywhere in dlprep): FSRS's "elapsed days" is the number of study days
  between two reviews, whatever the time zone. (Handing reviews to the fsrs
  package, as the fit and the tests do, places each at midnight UTC of its
  study day, which gives the same count.)
- Every graded review is evidence, including same-session repeats and cram
  reviews that do not move the schedule. A second review on the same study
  day has 0 elapsed days, and FSRS handles it as it expects to: with its
  short-term stability formula (S' = S * e^(w17 * (G - 3 + w18)) * S^-w19,
  at least S for Hard or better); difficulty is updated as usual.
- Retrievability on a day is FSRS-6's forgetting curve,
  R = (1 + F * t / S) ^ -w20 with F = 0.9 ^ (-1 / w20) - 1, t = study days
  since the last review (so R = 0.9 when t = S).
- No learning steps: dlprep works in whole days, so every review leaves the
  card in FSRS's Review state and the next interval is
  max(1, round(S / F * (r ^ (-1 / w20) - 1))) days for desired retention r.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dlprep.core.scheduler import CardState, study_day

# FSRS-6 default parameters, as in fsrs 6.3.2 (fsrs.scheduler.DEFAULT_PARAMETERS);
# a test checks they still match the installed package.
DEFAULT_PARAMETERS: tuple[float, ...] = (
    0.212,
    1.2931,
    2.3065,
    8.2956,
    6.4133,
    0.8334,
    3.0194,
    0.001,
    1.8722,
    0.1666,
    0.796,
    1.4835,
    0.0614,
    0.2629,
    1.6483,
    0.6014,
    1.8729,
    0.5425,
    0.0912,
    0.0658,
    0.1542,
)
DEFAULT_RETENTION = 0.9
MAX_INTERVAL_DAYS = 36_500
# The optimizer refuses to move off the defaults below this many reviews that
# come a day or more after the card's previous review (fsrs.optimizer's mini-batch size).
MIN_REVIEWS_TO_FIT = 512
OPTIMIZER_SEQ_LEN = 64  # the optimizer learns from each card's first 64 reviews only

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4  # fsrs.Rating values


def rating(grade: int) -> int:
    """The FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy) for a dlprep grade 0-5."""
    if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
        raise ValueError(f"grade must be an integer from 0 to 5, got {grade!r}")
    return AGAIN if grade < 3 else grade - 1


def fsrs_time(day: date) -> datetime:
    """Where a study day sits on FSRS's clock: midnight UTC of that date."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class MemoryState:
    """One card's FSRS memory after its reviews: stability in days, difficulty 1-10."""

    stability: float
    difficulty: float
    last_day: date  # study day of the last review
    reviews: int

    def elapsed(self, day: date) -> int:
        return max((day - self.last_day).days, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stability": self.stability,
            "difficulty": self.difficulty,
            "last_day": self.last_day.isoformat(),
            "reviews": self.reviews,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryState:
        return cls(
            stability=float(data["stability"]),
            difficulty=float(data["difficulty"]),
            last_day=date.fromisoformat(data["last_day"]),
            reviews=int(data["reviews"]),
        )


def decay_factor(params: Sequence[float]) -> tuple[float, float]:
    """(DECAY, FACTOR) of the forgetting curve for these parameters."""
    decay = -params[20]
    return decay, 0.9 ** (1 / decay) - 1


def recall_probability(stability: float, elapsed_days: float, params: Sequence[float] = DEFAULT_PARAMETERS) -> float:
    """FSRS-6 retrievability after ``elapsed_days`` at this stability."""
    decay, factor = decay_factor(params)
    return (1 + factor * max(elapsed_days, 0) / stability) ** decay


def retrievability(state: MemoryState, day: date, params: Sequence[float] = DEFAULT_PARAMETERS) -> float:
    return recall_probability(state.stability, state.elapsed(day), params)


def interval_days(stability: float, desired_retention: float, params: Sequence[float] = DEFAULT_PARAMETERS) -> int:
    """Days until recall is expected to fall to ``desired_retention``."""
    decay, factor = decay_factor(params)
    days = round(stability / factor * (desired_retention ** (1 / decay) - 1))
    return min(max(days, 1), MAX_INTERVAL_DAYS)


STABILITY_MIN = 0.001
DIFFICULTY_RANGE = (1.0, 10.0)


class Replayer:
    """FSRS-6's review step, in plain arithmetic: what ``fsrs.Scheduler.review_card``
    computes with no learning steps and no fuzz (a test checks they agree on
    random review sequences), without its per-review copies and datetimes, so
    that replaying a whole log for ``today`` stays cheap. The ``fsrs`` package
    remains the reference, the parameter validator and the optimizer.
    """

    def __init__(self, params: Sequence[float] = DEFAULT_PARAMETERS, desired_retention: float = DEFAULT_RETENTION):
        self.params = tuple(params)
        self.desired_retention = desired_retention
        self.decay, self.factor = decay_factor(self.params)

    def new_card(self) -> MemoryState | None:
        return None

    def _initial_difficulty(self, r: int) -> float:
        w = self.params
        return w[4] - math.exp(w[5] * (r - 1)) + 1

    def _clamp_difficulty(self, d: float) -> float:
        return min(max(d, DIFFICULTY_RANGE[0]), DIFFICULTY_RANGE[1])

    def _next_difficulty(self, d: float, r: int) -> float:
        w = self.params
        damped = d + (10.0 - d) * -(w[6] * (r - 3)) / 9.0  # linear damping
        return self._clamp_difficulty(w[7] * self._initial_difficulty(EASY) + (1 - w[7]) * damped)  # mean reversion

    def _next_stability(self, d: float, s: float, elapsed: int, r: int) -> float:
        w = self.params
        if elapsed < 1:  # same study day: short-term stability
            increase = math.exp(w[17] * (r - 3 + w[18])) * s ** -w[19]
            if r >= HARD:
                increase = max(increase, 1.0)
            return max(s * increase, STABILITY_MIN)
        retr = (1 + self.factor * elapsed / s) ** self.decay
        if r == AGAIN:
            long_term = w[11] * d ** -w[12] * ((s + 1) ** w[13] - 1) * math.exp((1 - retr) * w[14])
            return max(min(long_term, s / math.exp(w[17] * w[18])), STABILITY_MIN)
        hard = w[15] if r == HARD else 1
        easy = w[16] if r == EASY else 1
        grow = math.exp(w[8]) * (11 - d) * s ** -w[9] * (math.exp((1 - retr) * w[10]) - 1) * hard * easy
        return max(s * (1 + grow), STABILITY_MIN)

    def step(self, card: MemoryState | None, grade: int, day: date) -> MemoryState:
        r = rating(grade)
        if card is None:
            s = max(self.params[r - 1], STABILITY_MIN)
            return MemoryState(s, self._clamp_difficulty(self._initial_difficulty(r)), day, 1)
        s = self._next_stability(card.difficulty, card.stability, card.elapsed(day), r)
        return MemoryState(s, self._next_difficulty(card.difficulty, r), day, card.reviews + 1)

    def replay(self, reviews: Iterable[tuple[int, date]]) -> MemoryState | None:
        """The memory state after (grade, study day) reviews, oldest first; None if there are none."""
        card = None
        for grade, day in reviews:
            card = self.step(card, grade, day)
        return card


def study_days(rows: Iterable[tuple[int, datetime, int]]) -> list[tuple[int, date]]:
    """(grade, time, rollover hour) review rows as (grade, study day)."""
    return [(g, study_day(at, rh)) for g, at, rh in rows]


def memory_states(
    rows: Iterable[tuple[str, int, datetime, int]], params: Sequence[float] = DEFAULT_PARAMETERS
) -> dict[str, MemoryState]:
    """Every card's memory state from (card id, grade, time, rollover hour) rows, oldest first."""
    by_card: dict[str, list[tuple[int, date]]] = {}
    for card_id, grade, at, rh in rows:
        by_card.setdefault(card_id, []).append((grade, study_day(at, rh)))
    replayer = Replayer(params)
    out = {}
    for card_id, reviews in by_card.items():
        state = replayer.replay(reviews)
        if state is not None:
            out[card_id] = state
    return out


def fsrs_due(
    entries: Iterable[tuple[int, date, bool, date | None]],
    params: Sequence[float] = DEFAULT_PARAMETERS,
    desired_retention: float = DEFAULT_RETENTION,
) -> tuple[date, int] | None:
    """FSRS's (due day, interval) after (grade, study day, counts, due cap) reviews, oldest first.

    Every review updates the memory state; only scheduling reviews (``counts``)
    set the due date, from the state right after them, capped by a study
    plan's cap exactly as SM-2's is. None if none counted.
    """
    replayer = Replayer(params, desired_retention)
    card = replayer.new_card()
    result = None
    for grade, day, counts, cap in entries:
        card = replayer.step(card, grade, day)
        if counts:
            ivl = interval_days(card.stability, desired_retention, params)
            result = (capped_due(day, ivl, cap), ivl)
    return result


def fsrs_state(
    log: Sequence[tuple[int, datetime, date | None, int, bool]],
    params: Sequence[float] = DEFAULT_PARAMETERS,
    desired_retention: float = DEFAULT_RETENTION,
) -> CardState | None:
    """A card's scheduling state under FSRS, from its whole log: (grade, time, due cap,
    rollover hour, counts) entries, oldest first. None if no review counts.

    The SM-2 fields (repetitions, easiness, lapses, reviews, last review) are
    SM-2's over the scheduling reviews, as always; the due date and interval
    are FSRS's (``fsrs_due``). So switching scheduler changes only when cards
    come due, and switching back replays SM-2 exactly.
    """
    from dataclasses import replace

    from dlprep.core import scheduler

    counted = [(g, at, cap, rh) for g, at, cap, rh, counts in log if counts]
    if not counted:
        return None
    due = fsrs_due([(g, study_day(at, rh), counts, cap) for g, at, cap, rh, counts in log], params, desired_retention)
    assert due is not None  # some review counts
    return replace(scheduler.replay(counted), due=due[0], interval_days=due[1])


def capped_due(day: date, interval: int, cap: date | None) -> date:
    """``day + interval``, moved no later than a plan's cap (never earlier than the next day)."""
    from dlprep.core.scheduler import _capped

    return _capped(day + timedelta(days=interval), day, cap)


def check_parameters(params: Sequence[float]) -> tuple[float, ...]:
    """Parameters the fsrs package accepts (21 numbers within its bounds), or ValueError."""
    import fsrs

    fsrs.Scheduler(parameters=tuple(float(p) for p in params))  # validates count and bounds
    return tuple(float(p) for p in params)


def usable_reviews(rows: Iterable[tuple[str, int, datetime, int]]) -> int:
    """How many (card id, grade, time, rollover hour) rows the optimizer learns from:
    among each card's first OPTIMIZER_SEQ_LEN reviews, those made a study day or
    more after the card's previous review (as fsrs.optimizer counts them)."""
    last: dict[str, date] = {}
    seen: dict[str, int] = {}
    n = 0
    for card_id, _, at, rh in rows:
        seen[card_id] = seen.get(card_id, 0) + 1
        if seen[card_id] > OPTIMIZER_SEQ_LEN:
            continue
        day = study_day(at, rh)
        if card_id in last and day > last[card_id]:
            n += 1
        last[card_id] = day
    return n


def fit_parameters(rows: Sequence[tuple[str, int, datetime, int]]) -> tuple[float, ...]:
    """FSRS parameters fitted to (card id, grade, time, rollover hour) rows, oldest first.
    Needs the optimizer's extra packages (torch, pandas, tqdm): ImportError otherwise.
    With fewer than MIN_REVIEWS_TO_FIT usable reviews the optimizer returns the defaults."""
    from fsrs import Rating, ReviewLog
    from fsrs.optimizer import Optimizer

    ids: dict[str, int] = {}
    logs = [
        ReviewLog(ids.setdefault(cid, len(ids) + 1), Rating(rating(g)), fsrs_time(study_day(at, rh)), None)
        for cid, g, at, rh in rows
    ]
    return tuple(float(p) for p in Optimizer(logs).compute_optimal_parameters(verbose=False))
