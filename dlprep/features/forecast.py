"""How much will be recalled on a day: the FSRS memory model over the whole review log.

The forecast works whichever scheduler is in use, because it reads each card's
memory state derived from the log (kept in the database, migration m006:
dlprep/core/memory_state.py), not the schedule. Per card it is FSRS's retrievability on the day, assuming
no review in between; a topic's (and the overall) number is the mean over
its studied cards, i.e. the expected share of them recalled that day.

Parameters are the user's own when ``forecast --fit`` has fitted them (see
``dlprep.core.memory.fit_parameters``), FSRS-6's defaults otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core import memory, memory_state
from dlprep.errors import DlprepError

if TYPE_CHECKING:
    from dlprep.core.bank import Bank
    from dlprep.core.scheduler import CardState
    from dlprep.core.store import Store
    from dlprep.features.schedule import DueCard

PARAMS_KEY = memory_state.PARAMS_KEY
AT_RISK = 10  # how many cards the forecast names as most at risk


@dataclass(frozen=True)
class Parameters:
    values: tuple[float, ...]
    fitted_reviews: int | None = None  # None: the FSRS-6 defaults
    fitted_on: str | None = None

    @property
    def fitted(self) -> bool:
        return self.fitted_reviews is not None

    def describe(self) -> str:
        if self.fitted:
            return f"parameters fitted to your log ({self.fitted_reviews} reviews, {self.fitted_on})"
        return "default FSRS-6 parameters"

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": list(self.values), "reviews": self.fitted_reviews, "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parameters:
        return cls(tuple(float(v) for v in data["parameters"]), data.get("reviews"), data.get("fitted_on"))


def parameters(store: Store) -> Parameters:
    """The fitted parameters if any (and still valid), else the defaults
    (a damaged setting falls back to the defaults rather than stopping every forecast)."""
    values, data = memory_state.parameters_in_use(store.conn)
    if data is None:
        return Parameters(values)
    return Parameters(values, data.get("reviews"), data.get("fitted_on"))


def log_rows(store: Store) -> list[tuple[str, int, datetime, int]]:
    """Every graded review, by card and oldest first, as (card id, grade, time, rollover hour)."""
    return [(cid, g, at, rh) for cid, log in store.review_log().items() for g, at, _, rh, _ in log]


def _stored(store: Store) -> tuple[Parameters, bool]:
    """The parameters in use, and whether the stored memory states were computed with them.
    If they were not (after a fit, or when a damaged fitted setting gives way to the
    defaults), every card's state is recomputed first, unless the database is read-only."""
    params = parameters(store)
    if store.memory_parameters() == params.values:
        return params, True
    if store.read_only:
        return params, False
    store.refresh_memory(params.values)
    return params, True


def memory_states(store: Store) -> tuple[Parameters, dict[str, memory.MemoryState], int]:
    """(The parameters in use, every studied card's memory state, how many reviews a fit could use).
    Read from the stored states (one row per card); replayed from the log only on a read-only
    database whose states were computed with other parameters."""
    params, stored = _stored(store)
    if stored:
        return params, store.memory_states(), store.usable_reviews()
    rows = log_rows(store)
    return params, memory.memory_states(rows, params.values), memory.usable_reviews(rows)


@dataclass(frozen=True)
class CardRecall:
    card_id: str
    topic: str
    recall: float
    state: memory.MemoryState

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.card_id, "topic": self.topic, "recall": round(self.recall, 4), **self.state.to_dict()}


@dataclass
class Forecast:
    day: date
    params: Parameters
    cards: list[CardRecall]  # lowest recall first
    usable_reviews: int  # reviews a fit could use (a day or more after the card's previous one)

    @property
    def overall(self) -> float | None:
        return sum(c.recall for c in self.cards) / len(self.cards) if self.cards else None

    def topics(self) -> list[tuple[str, int, float]]:
        """(topic, studied cards, mean recall), weakest first."""
        by: dict[str, list[float]] = {}
        for c in self.cards:
            by.setdefault(c.topic, []).append(c.recall)
        rows = [(t, len(v), sum(v) / len(v)) for t, v in by.items()]
        return sorted(rows, key=lambda r: (r[2], r[0]))

    def at_risk(self, n: int = AT_RISK) -> list[CardRecall]:
        return self.cards[:n]

    def headline(self) -> str | None:
        if not self.cards:
            return None
        return (
            f"expected recall on {self.day.isoformat()}: {self.overall:.0%} of {len(self.cards)} studied cards "
            f"({self.params.describe()})"
        )

    def brief(self) -> dict[str, Any]:
        """The headline as data: the day, the expected share recalled, of how many cards, which parameters."""
        return {
            "day": self.day.isoformat(),
            "overall": round(self.overall, 4) if self.overall is not None else None,
            "studied_cards": len(self.cards),
            "parameters": "fitted" if self.params.fitted else "default",
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.brief(),
            "fitted_reviews": self.params.fitted_reviews,
            "fitted_on": self.params.fitted_on,
            "usable_reviews": self.usable_reviews,
            "reviews_needed_to_fit": memory.MIN_REVIEWS_TO_FIT,
            "topics": [{"topic": t, "cards": n, "recall": round(r, 4)} for t, n, r in self.topics()],
            "at_risk": [c.card_id for c in self.at_risk()],
            "cards": [c.to_dict() for c in self.cards],
        }


def recall_on(bank: Bank, states: dict[str, memory.MemoryState], day: date, params: Parameters) -> list[CardRecall]:
    """Each studied card still in the bank with its recall on ``day``, lowest first."""
    out = [
        CardRecall(cid, bank.by_id[cid].topic, memory.retrievability(st, day, params.values), st)
        for cid, st in states.items()
        if cid in bank.by_id
    ]
    return sorted(out, key=lambda c: (c.recall, c.card_id))


def build_forecast(bank: Bank, store: Store, day: date, topics: list[str] | None = None) -> Forecast:
    params, states, usable = memory_states(store)
    cards = recall_on(bank, states, day, params)
    if topics:
        cards = [c for c in cards if c.topic in topics]
    return Forecast(day, params, cards, usable)


def card_memory(store: Store, card_id: str, day: date) -> dict[str, Any] | None:
    """One card's FSRS memory state and its recall probability on ``day``; None if never reviewed."""
    params, stored = _stored(store)
    if stored:
        state = store.memory_state(card_id)
    else:
        rows = [(r["grade"], datetime.fromisoformat(r["at"]), r["rollover_hour"]) for r in store.reviews(card_id)]
        state = memory.Replayer(params.values).replay(memory.study_days(rows))
    if state is None:
        return None
    return {
        **state.to_dict(),
        "retrievability": round(memory.retrievability(state, day, params.values), 4),
        "on": day.isoformat(),
        "parameters": "fitted" if params.fitted else "default",
    }


def interview_forecast(bank: Bank, store: Store, plan: Any) -> Forecast | None:
    """The forecast for a plan's interview day, or None without an interview date."""
    if plan is None or plan.interview is None:
        return None
    return build_forecast(bank, store, plan.interview)


def fit(store: Store, on: date) -> tuple[Parameters, int]:
    """Fit parameters to the log and keep them if the log is large enough.

    Returns (the parameters now in use, usable reviews). Below
    ``MIN_REVIEWS_TO_FIT`` usable reviews nothing is stored.
    """
    rows = log_rows(store)
    usable = memory.usable_reviews(rows)
    if usable < memory.MIN_REVIEWS_TO_FIT:
        raise DlprepError(
            f"fitting needs {memory.MIN_REVIEWS_TO_FIT} reviews made a day or more after the card's previous "
            f"review; your log has {usable}. The forecast uses the default FSRS-6 parameters until then"
        )
    try:
        values = memory.fit_parameters(rows)
    except ImportError:
        raise DlprepError(
            "fitting needs the optimizer's packages: pip install 'dlprep[fit]' (torch, pandas, tqdm)"
        ) from None
    p = Parameters(values, usable, on.isoformat())
    store.set_setting(PARAMS_KEY, p.to_dict())
    store.refresh_memory(p.values)  # (were this interrupted, the next forecast would see the change and do it)
    return p, usable


# ---------------------------------------------------------------- the last days before the interview


def final_window_due(
    bank: Bank,
    store: Store,
    states: dict[str, CardState],
    day: date,
    rollover_hour: int,
    review_cap: int,
    topics: list[str] | None = None,
) -> tuple[list[DueCard], int] | None:
    """Today's reviews in a plan's final window, or None outside it (or without an interview date).

    The rule: in the ``FINAL_WINDOW_DAYS`` days before the interview, the cards
    still to see are those due today or earlier, and those due by the
    interview's eve that have not been reviewed since the window began.
    They come lowest predicted recall *on the interview day* first, and each
    day takes its even share, ceil(cards left / days left), at most
    ``review_cap``: the weakest first, the work spread over the window, and
    on the eve everything left. Returns (today's reviews, how many due cards
    wait for a later day).
    """
    from dlprep.core.scheduler import study_day
    from dlprep.features.plan import FINAL_WINDOW_DAYS, current_plan
    from dlprep.features.schedule import due_cards

    plan = current_plan(store)
    if plan is None or plan.interview is None:
        return None
    interview = plan.interview
    start = interview - timedelta(days=FINAL_WINDOW_DAYS)
    if not start <= day < interview:
        return None
    candidates = [
        d
        for d in due_cards(bank, states, interview - timedelta(days=1), topics)
        if (d.state.due and d.state.due <= day)
        or (d.state.last_review is not None and study_day(d.state.last_review, rollover_hour) < start)
    ]
    params, mem, _ = memory_states(store)
    recall = {cid: memory.retrievability(st, interview, params.values) for cid, st in mem.items()}
    candidates.sort(key=lambda d: (recall.get(d.card.id, 0.0), d.card.id))
    share = min(review_cap, math.ceil(len(candidates) / (interview - day).days))
    chosen = candidates[:share]
    due_now = sum(1 for d in candidates[share:] if d.state.due and d.state.due <= day)
    return chosen, due_now
