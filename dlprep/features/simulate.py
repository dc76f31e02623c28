"""Simulated learners, to compare schedulers on what a user pays and gets.

Each learner's memory *is* the FSRS-6 model, with parameters drawn around
the defaults (see ``draw_learner``). Over a plan of ``days`` to an interview,
the learner meets ``new_per_day`` new cards a day (none in the final window),
and each day reviews what the scheduler under test says is due (most
overdue first, at most ``review_cap``), with the plan's due-date cap
(``plan.cap_for``) as dlprep applies it. A review is recalled with the
probability the learner's true memory gives; a recalled card is rated Hard,
Good or Easy with the learner's own odds, a forgotten one Again. The
schedulers see only those ratings (as dlprep grades), never the true memory;
FSRS schedules with the default parameters, as it would before a fit.

Measured per learner: reviews done, minutes spent (each review costs its
card's time target), and the mean true recall of the studied cards on the
interview day. Randomness comes from one ``random.Random`` per learner,
seeded from the run's seed, so a run is reproducible and every scheduler
meets the same learners.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dlprep.core import memory, scheduler
from dlprep.features.plan import FINAL_WINDOW_DAYS, cap_for

START = date(2026, 1, 5)
# How far each parameter of a learner strays from the default (sd of a log-normal factor):
# initial stabilities vary most between people; the rest moderately.
SPREAD_INITIAL = 0.5
SPREAD_OTHER = 0.2


@dataclass(frozen=True)
class Learner:
    params: tuple[float, ...]
    first: tuple[float, float, float, float]  # P(Again, Hard, Good, Easy) on first sight
    recalled: tuple[float, float, float]  # P(Hard, Good, Easy) when a review is recalled


def draw_learner(rng: random.Random) -> Learner:
    """Parameters around FSRS-6's defaults, clipped to the package's bounds."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    params = []
    for i, w in enumerate(memory.DEFAULT_PARAMETERS):
        spread = SPREAD_INITIAL if i < 4 else SPREAD_OTHER
        value = w * math.exp(rng.gauss(0, spread))
        params.append(min(max(value, LOWER_BOUNDS_PARAMETERS[i]), UPPER_BOUNDS_PARAMETERS[i]))
    again = rng.uniform(0.15, 0.4)
    easy = rng.uniform(0.05, 0.2)
    hard = rng.uniform(0.05, 0.2)
    first = (again, hard * (1 - again), (1 - hard - easy) * (1 - again), easy * (1 - again))
    return Learner(tuple(params), first, (hard, 1 - hard - easy, easy))


GRADE_FOR_RATING = {1: 1, 2: 3, 3: 4, 4: 5}  # Again -> 1, Hard -> 3, Good -> 4, Easy -> 5


@dataclass(frozen=True)
class Outcome:
    reviews: int
    minutes: float
    recall: float  # mean true recall of the studied cards on the interview day
    cards: int


class Policy:
    """A scheduler under test: first review and later reviews -> next due day."""

    name = ""

    def start(self) -> Any: ...

    def review(self, state: Any, grade: int, day: date, cap: date | None) -> tuple[Any, date]: ...


class Sm2(Policy):
    name = "SM-2"

    def start(self) -> Any:
        return scheduler.CardState()

    def review(self, state: Any, grade: int, day: date, cap: date | None) -> tuple[Any, date]:
        st = scheduler.review(state, grade, datetime.combine(day, time(12), tzinfo=UTC), 0, cap)
        assert st.due is not None
        return st, st.due


class Fsrs(Policy):
    def __init__(self, desired_retention: float):
        self.retention = desired_retention
        self.name = f"FSRS r={desired_retention:.2f}"
        self.model = memory.Replayer(memory.DEFAULT_PARAMETERS, desired_retention)

    def start(self) -> Any:
        return self.model.new_card()

    def review(self, state: Any, grade: int, day: date, cap: date | None) -> tuple[Any, date]:
        card = self.model.step(state, grade, day)
        return card, memory.capped_due(day, memory.interval_days(card.stability, self.retention), cap)


def run_learner(
    learner: Learner,
    policy: Policy,
    seed: int,
    targets: Sequence[int],
    days: int = 28,
    new_per_day: int = 10,
    review_cap: int = 100,
) -> Outcome:
    rng = random.Random(seed)
    truth = memory.Replayer(learner.params)
    interview = START + timedelta(days=days)
    last_new_day = days - FINAL_WINDOW_DAYS  # no new cards in the final window
    cards: list[dict[str, Any]] = []
    reviews = 0
    seconds = 0.0
    for offset in range(days):
        day = START + timedelta(days=offset)
        due = sorted((c for c in cards if c["due"] <= day), key=lambda c: (c["due"], c["i"]))[:review_cap]
        fresh = []
        if offset < last_new_day:
            for _ in range(new_per_day):
                if len(cards) + len(fresh) >= len(targets):
                    break
                i = len(cards) + len(fresh)
                fresh.append({"i": i, "id": f"c{i}", "true": truth.new_card(), "sched": policy.start()})
        for c in due:
            r = memory.recall_probability(c["true"].stability, (day - c["last"]).days, learner.params)
            if rng.random() < r:
                rating = rng.choices((2, 3, 4), learner.recalled)[0]
            else:
                rating = 1
            _review(c, rating, day, truth, policy, interview)
        for c in fresh:
            _review(c, rng.choices((1, 2, 3, 4), learner.first)[0], day, truth, policy, interview)
            cards.append(c)
        reviews += len(due) + len(fresh)
        seconds += sum(targets[c["i"]] for c in due) + sum(targets[c["i"]] for c in fresh)
    recall = statistics.fmean(
        memory.recall_probability(c["true"].stability, (interview - c["last"]).days, learner.params) for c in cards
    )
    return Outcome(reviews, seconds / 60, recall, len(cards))


def _review(c: dict[str, Any], rating: int, day: date, truth: memory.Replayer, policy: Policy, interview: date) -> None:
    grade = GRADE_FOR_RATING[rating]
    c["true"] = truth.step(c["true"], grade, day)
    c["sched"], c["due"] = policy.review(c["sched"], grade, day, cap_for(c["id"], day, interview))
    c["last"] = day


@dataclass
class Row:
    name: str
    outcomes: list[Outcome]

    def column(self, key: str) -> list[float]:
        return [getattr(o, key) for o in self.outcomes]


def simulate(
    policies: Sequence[Policy],
    learners: int,
    seed: int,
    targets: Sequence[int],
    days: int = 28,
    new_per_day: int = 10,
    review_cap: int = 100,
    progress: Callable[[int], None] | None = None,
) -> list[Row]:
    """Every policy over the same ``learners`` simulated learners."""
    master = random.Random(seed)
    people = [(draw_learner(master), master.randrange(2**32)) for _ in range(learners)]
    rows = [Row(p.name, []) for p in policies]
    for n, (person, s) in enumerate(people, 1):
        for row, policy in zip(rows, policies, strict=True):
            row.outcomes.append(run_learner(person, policy, s, targets, days, new_per_day, review_cap))
        if progress:
            progress(n)
    return rows


def summary(rows: list[Row]) -> list[dict[str, Any]]:
    """Per policy: mean and sd over learners, and the paired difference from the
    first policy with a 95% interval (mean +- 1.96 sd / sqrt(n))."""
    base = rows[0]
    out = []
    for row in rows:
        entry: dict[str, Any] = {"scheduler": row.name, "learners": len(row.outcomes)}
        for key in ("reviews", "minutes", "recall"):
            values = row.column(key)
            diffs = [a - b for a, b in zip(values, base.column(key), strict=True)]
            half = 1.96 * statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
            entry[key] = {
                "mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                "vs_first": statistics.fmean(diffs),
                "vs_first_95": half,
            }
        out.append(entry)
    return out
