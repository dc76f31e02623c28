"""A quiz session: which cards, in what order, how a self-assessment becomes a
grade, and the same-day repeats. The terminal is behind the :class:`QuizUI`
protocol, so the whole flow runs in tests with a scripted UI.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from dlprep.core.bank import Bank, Card, FollowUp
from dlprep.core.scheduler import CardState, study_day
from dlprep.core.store import Review, Store
from dlprep.errors import DatabaseBusy
from dlprep.features.plan import current_plan, due_cap
from dlprep.features.schedule import due_cards, introduced_on, new_cards

# Weighted rubric coverage -> suggested SM-2 grade (published in the README).
COVERAGE_GRADES: tuple[tuple[float, int], ...] = ((0.9, 5), (0.75, 4), (0.5, 3), (0.3, 2))
FOLLOW_UP_MISSED_CAP = 3
REPEAT_BELOW = 4  # SM-2's same-day rule: graded below 4 -> asked again this session
REPEAT_GAP = 3  # a repeated card comes back after this many other cards (or at the end)
SAVE_BACKOFF_S = (0.5, 1.0, 2.0)  # waits between save attempts while another process holds the database


class Quit(Exception):
    """The user asked to stop the session."""


def coverage(card: Card, hit: set[int]) -> float:
    """Weighted share of the rubric covered, 0.0 to 1.0."""
    total = card.total_weight
    return sum(p.weight for i, p in enumerate(card.rubric) if i in hit) / total if total else 0.0


def grade_from_coverage(cov: float) -> int:
    for threshold, grade in COVERAGE_GRADES:
        if cov >= threshold:
            return grade
    return 1 if cov > 0 else 0


@dataclass(frozen=True)
class Suggestion:
    grade: int
    reasons: tuple[str, ...]


def suggest_grade(cov: float, follow_up_missed: bool = False, over_time: bool = False) -> Suggestion:
    grade = grade_from_coverage(cov)
    reasons = [f"rubric coverage {cov:.0%} -> {grade}"]
    if over_time and grade > 0:
        grade -= 1
        reasons.append(f"over the rapid-fire target -> {grade}")
    if follow_up_missed and grade > FOLLOW_UP_MISSED_CAP:
        grade = FOLLOW_UP_MISSED_CAP
        reasons.append(f"missed follow-up caps the grade at {FOLLOW_UP_MISSED_CAP}")
    return Suggestion(grade, tuple(reasons))


@dataclass
class Options:
    topics: list[str] = field(default_factory=list)
    limit: int | None = None
    new: int | None = None
    role: str | None = None
    difficulty: str | None = None
    cram: bool = False
    reschedule: bool = False  # with cram: let the reviews move the schedule
    rapid: bool = False


@dataclass
class Outcome:
    card: Card
    grade: int
    coverage: float
    points_hit: tuple[int, ...]
    follow_up: str | None
    seconds: float
    repeat: bool
    over_time: bool
    due: date | None
    follow_ups_missed: tuple[str, ...] = ()
    comes_back: bool = False  # asked again later in this session (SM-2's same-day rule)
    saved: bool = True  # False: the user chose to skip saving it (database locked)


@dataclass
class SessionSummary:
    outcomes: list[Outcome]
    planned: int
    due_tomorrow: int
    seconds: float
    interrupted: bool = False

    @property
    def first_attempts(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.repeat]

    def weakest_points(self, n: int = 5) -> list[tuple[str, str, int]]:
        """Rubric points missed this session, heaviest first: (card id, point, weight)."""
        missed = []
        for o in self.first_attempts:
            for i, p in enumerate(o.card.rubric):
                if i not in o.points_hit:
                    missed.append((o.card.id, p.point, p.weight))
        return sorted(missed, key=lambda m: -m[2])[:n]

    def to_dict(self) -> dict[str, Any]:
        first = self.first_attempts
        return {
            "cards": len(first),
            "planned": self.planned,
            "repeats": len(self.outcomes) - len(first),
            "average_coverage": round(sum(o.coverage for o in first) / len(first), 3) if first else None,
            "seconds": round(self.seconds, 1),
            "due_tomorrow": self.due_tomorrow,
            "interrupted": self.interrupted,
            "reviews": [
                {
                    "id": o.card.id,
                    "grade": o.grade,
                    "coverage": round(o.coverage, 3),
                    "follow_up": o.follow_up,
                    "seconds": round(o.seconds, 1),
                    "repeat": o.repeat,
                    "over_time": o.over_time,
                    "due": o.due.isoformat() if o.due else None,
                }
                for o in self.outcomes
            ],
            "weakest_points": [{"card": c, "point": p, "weight": w} for c, p, w in self.weakest_points()],
        }


class QuizUI(Protocol):
    """What a session needs from a terminal (or a test script).

    Any method may raise :class:`Quit`, ``KeyboardInterrupt`` or ``EOFError``.
    """

    def question(self, card: Card, index: int, total: int, repeat: bool, target_s: int | None) -> str | None:
        """Show the question; return the typed answer (or None) once the user asks for the reveal."""

    def reveal(self, card: Card, elapsed_s: float, target_s: int | None) -> None: ...

    def rubric(self, card: Card) -> set[int]:
        """Indices of the rubric points the user says they covered."""

    def follow_up(self, card: Card, follow_up: FollowUp) -> bool:
        """Ask the follow-up, reveal its answer; True if the user got it."""

    def confirm(self, card: Card, suggestion: Suggestion, demo: bool) -> int:
        """Return the final grade (the suggestion or an override)."""

    def saved(self, outcome: Outcome) -> None: ...

    def save_failed(self, card: Card, problem: str) -> str:
        """Saving failed after retries (database locked): return "retry", "skip" or "quit"."""


def select_cards(
    bank: Bank, store: Store, now: datetime, opts: Options, rollover_hour: int, new_per_day: int, review_cap: int
) -> list[Card]:
    """The session's cards: due reviews (most overdue first), then new cards;
    or, with ``cram``, cards not due, least recently seen first."""
    for t in opts.topics:
        bank.check_topic(t)
    eligible = {c.id for c in bank.filter(opts.topics, opts.difficulty, opts.role)}
    states = store.states()
    day = study_day(now, rollover_hour)
    if opts.cram:
        not_due = [
            c
            for c in bank.filter(opts.topics, opts.difficulty, opts.role)
            if c.id not in states or (states[c.id].due or day) > day
        ]
        # Seen cards first (oldest review first), then unseen ones in bank order.
        seen = sorted((c for c in not_due if c.id in states), key=lambda c: states[c.id].last_review)
        cards = seen + [c for c in not_due if c.id not in states]
        return cards[: opts.limit] if opts.limit else cards
    due = [d.card for d in due_cards(bank, states, day, opts.topics or None) if d.card.id in eligible][:review_cap]
    from dlprep.features.forecast import final_window_due  # the plan's last days: as `today` lists them

    window = final_window_due(bank, store, states, day, rollover_hour, review_cap, opts.topics or None)
    if window is not None:
        due = [d.card for d in window[0] if d.card.id in eligible]
    plan = current_plan(store)
    introduced = introduced_on(states, day, rollover_hour)
    n_new = opts.new if opts.new is not None else max(new_per_day - introduced, 0)
    fresh = [c for c in new_cards(bank, states, plan.role if plan else None, opts.topics or None) if c.id in eligible]
    cards = due + fresh[:n_new]
    return cards[: opts.limit] if opts.limit else cards


def next_follow_up(store: Store, card: Card) -> tuple[int, FollowUp] | None:
    """Rotate through a card's follow-ups across its reviews."""
    if not card.follow_ups:
        return None
    asked = sum(1 for r in store.reviews(card.id) if r["follow_up"] is not None)
    i = asked % len(card.follow_ups)
    return i, card.follow_ups[i]


@dataclass
class QuizSession:
    bank: Bank
    store: Store
    clock: Callable[[], datetime]
    opts: Options
    rollover_hour: int = 4
    demo_available: bool = False
    mode: str = "quiz"
    monotonic: Callable[[], float] = time.monotonic
    outcomes: list[Outcome] = field(default_factory=list)
    session_id: int | None = None
    planned: int = 0
    elapsed: float = 0.0
    repeats: bool = True  # SM-2's same-day rule; a mock interview moves on instead
    chain_follow_ups: bool = False  # ask every follow-up in turn (mock) rather than one in rotation
    minutes: float | None = None  # time box; the session stops at the next card once it is over
    timed_out: bool = False
    sleep: Callable[[float], None] = time.sleep

    def run(self, cards: list[Card], ui: QuizUI) -> SessionSummary:
        """Ask every card (and the repeats). Each grade is saved the moment it
        is confirmed; Quit, Ctrl-C and closed input end the session with every
        confirmed review kept. Ctrl-C and EOF propagate after the summary is built
        (see :meth:`summary`), so the caller decides the exit code."""
        start = self.monotonic()
        mode = "rapid" if self.opts.rapid else ("cram" if self.opts.cram else self.mode)
        self.session_id = self.store.start_session(mode, self.clock(), {"cards": [c.id for c in cards]})
        queue: list[tuple[Card, bool]] = [(c, False) for c in cards]
        first_total = self.planned = len(cards)
        asked_first = 0
        deadline = start + self.minutes * 60 if self.minutes else None
        try:
            while queue:
                if deadline is not None and self.monotonic() >= deadline:
                    self.timed_out = True
                    break
                card, repeat = queue.pop(0)
                if not repeat:
                    asked_first += 1
                outcome = self.ask(card, ui, asked_first, first_total, repeat, mode)
                if outcome.comes_back:
                    queue.insert(min(REPEAT_GAP, len(queue)), (card, True))
        finally:
            self.elapsed = self.monotonic() - start
            with contextlib.suppress(DatabaseBusy):  # a session's end time is not worth losing the summary over
                self.store.end_session(self.session_id, self.clock())
        return self.summary()

    def summary(self, interrupted: bool = False) -> SessionSummary:
        day = study_day(self.clock(), self.rollover_hour)
        tomorrow = day + timedelta(days=1)
        states = self.store.states()
        due_tomorrow = sum(1 for cid, st in states.items() if st.due and st.due <= tomorrow and cid in self.bank.by_id)
        return SessionSummary(self.outcomes, self.planned, due_tomorrow, self.elapsed, interrupted)

    def ask(self, card: Card, ui: QuizUI, index: int, total: int, repeat: bool, mode: str) -> Outcome:
        target = card.time_target_s if self.opts.rapid else None
        t0 = self.monotonic()
        typed = ui.question(card, index, total, repeat, target)
        answered_s = self.monotonic() - t0
        over = bool(target is not None and answered_s > target)
        ui.reveal(card, answered_s, target)
        hit = ui.rubric(card)
        cov = coverage(card, hit)
        if repeat:
            asked: list[tuple[int, FollowUp]] = []
        elif self.chain_follow_ups:
            asked = list(enumerate(card.follow_ups))
        else:
            follow = next_follow_up(self.store, card)
            asked = [follow] if follow else []
        missed = tuple(f.question for _, f in asked if not ui.follow_up(card, f))
        got = None if not asked else not missed
        suggestion = suggest_grade(cov, follow_up_missed=bool(missed), over_time=over)
        grade = ui.confirm(card, suggestion, self.demo_available and bool(card.show_me))
        counts = not repeat and (not self.opts.cram or self.opts.reschedule)
        now = self.clock()
        review = Review(
            card_id=card.id,
            grade=grade,
            at=now,
            mode="repeat" if repeat else mode,
            counts=counts,
            points_hit=tuple(sorted(hit)),
            coverage=round(cov, 4),
            follow_up=None if got is None else ("got" if got else "missed"),
            follow_up_index=asked[0][0] if asked else None,
            answer_text=typed or None,
            seconds=round(self.monotonic() - t0, 2),
            session_id=self.session_id,
            card_hash=card.content_hash,
        )
        state = self.save(card, review, ui)
        saved = state is not None
        comes_back = saved and self.repeats and grade < REPEAT_BELOW
        outcome = Outcome(
            card,
            grade,
            cov,
            review.points_hit or (),
            review.follow_up,
            review.seconds or 0.0,
            repeat,
            over,
            state.due if counts and state is not None else None,
            missed,
            comes_back,
            saved,
        )
        if saved:
            self.outcomes.append(outcome)
            ui.saved(outcome)
        return outcome

    def save(self, card: Card, review: Review, ui: QuizUI) -> CardState | None:
        """Record one review. If another process holds the database, retry with
        backoff (the review stays in memory), then let the user retry, skip this
        card (returns None) or quit (raises Quit; the summary is still shown)."""
        while True:
            for delay in (*SAVE_BACKOFF_S, None):
                try:
                    cap = due_cap(self.store, card.id, review.at, self.rollover_hour)
                    return self.store.record(review, self.rollover_hour, cap)
                except DatabaseBusy as exc:
                    problem = str(exc)
                    if delay is None:
                        break
                    self.sleep(delay)
            choice = ui.save_failed(card, problem)
            if choice == "skip":
                return None
            if choice == "quit":
                raise Quit()
