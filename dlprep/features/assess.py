"""Self-assessment: rate the 11 areas 1-5, see the band and what to do next,
and compare each rating with what your review history measures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlprep.features.progress import grades_by_card, topic_mastery

if TYPE_CHECKING:
    from dlprep.core.bank import Bank, Card
    from dlprep.core.store import Store

# The 10 deep-learning topics of the brief, backprop to generative, in dependency order.
CORE_TOPICS: tuple[str, ...] = (
    "backprop",
    "activations",
    "cnns",
    "rnns",
    "attention",
    "transformers",
    "normalization",
    "training",
    "distributed",
    "generative",
)
RAPID_FIRE = "rapid-fire"
# What a self-assessment rates: the core topics plus rapid-fire practice (11 areas, 11-55 points).
AREAS: tuple[str, ...] = (*CORE_TOPICS, RAPID_FIRE)
SCALE = {
    1: "cannot explain it",
    2: "vaguely recall it",
    3: "can explain it",
    4: "can derive or implement it",
    5: "can teach it",
}
BANDS: tuple[tuple[int, int, str], ...] = (
    (11, 22, "Study everything in order, starting from backprop."),
    (23, 33, "Fill the weak spots, following the dependency map (dlprep topics --tree)."),
    (34, 44, "Nearly ready: practice problems and rapid-fire (dlprep quiz --rapid)."),
    (45, 55, "Ready: a final pass over the cheat sheets and mock interviews (dlprep mock)."),
)
OVERCONFIDENT_GAP = 1.5


def band(total: int) -> str:
    for lo, hi, advice in BANDS:
        if lo <= total <= hi:
            return f"{lo}-{hi}: {advice}"
    raise ValueError(f"total {total} outside 11-55")


def other_areas(bank: Bank) -> list[str]:
    """The bank's topics outside the brief's 11 areas (fundamentals, production,
    llms, design...): rated on the same 1-5 scale but shown separately and never
    counted in the 11-55 total, so its bands keep their meaning."""
    return [t for t in bank.topic_order() if t not in AREAS]


def parse_ratings(text: str, extra: tuple[str, ...] | list[str] = ()) -> dict[str, int]:
    """'backprop=3,cnns=4' -> {'backprop': 3, 'cnns': 4}; raises ValueError with a clear message.
    ``extra`` names the other topics that may also be rated."""
    ratings: dict[str, int] = {}
    allowed = (*AREAS, *extra)
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or name not in allowed:
            raise ValueError(f"{part!r}: expected AREA=RATING with AREA one of {', '.join(allowed)}")
        if value not in {"1", "2", "3", "4", "5"}:
            raise ValueError(f"{part!r}: a rating is a whole number from 1 to 5")
        ratings[name] = int(value)
    return ratings


def measured(bank: Bank, store: Store, areas: tuple[str, ...] | list[str] = AREAS) -> dict[str, float | None]:
    """Per area, a 1-5 rating measured from review history (None with no history)."""
    grades = grades_by_card(store)
    mastery = topic_mastery(bank, store)
    result: dict[str, float | None] = {}
    for area in areas:
        if area == RAPID_FIRE:
            rapid, good = store.rapid_scores({c.id: c.time_target_s for c in bank.cards})
            result[area] = round(1 + 4 * good / rapid, 1) if rapid else None
            continue
        seen = any(grades.get(c.id) for c in bank.cards_in(area)) if area in bank.topics else False
        result[area] = round(1 + 4 * mastery[area], 1) if seen else None
    return result


@dataclass
class Comparison:
    area: str
    self_rating: int | None
    measured: float | None

    @property
    def overconfident(self) -> bool:
        return (
            self.self_rating is not None
            and self.measured is not None
            and self.self_rating - self.measured >= OVERCONFIDENT_GAP
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "self": self.self_rating,
            "measured": self.measured,
            "overconfident": self.overconfident,
        }


def compare(
    ratings: dict[str, int], measured_: dict[str, float | None], areas: tuple[str, ...] | list[str] = AREAS
) -> list[Comparison]:
    return [Comparison(a, ratings.get(a), measured_.get(a)) for a in areas]


def total(ratings: dict[str, int]) -> int:
    """The 11-55 total: the brief's 11 areas only."""
    return sum(ratings[a] for a in AREAS if a in ratings)


def diagnostic_cards(bank: Bank, store: Store) -> list[Card]:
    """One question per core topic: a mid-level concept or derivation card,
    one the user has not seen when possible."""
    seen = set(store.states())
    rank_kind = {"concept": 0, "derivation": 1}
    chosen = []
    for area in CORE_TOPICS:
        if area not in bank.topics:
            continue
        cards = bank.cards_in(area)
        if not cards:
            continue
        chosen.append(
            min(
                cards,
                key=lambda c: (
                    c.id in seen,
                    c.difficulty != "mid",
                    rank_kind.get(c.kind, 2),
                    not c.follow_ups,
                    c.id,
                ),
            )
        )
    return chosen


def recommend(coverage_by_topic: dict[str, float], order: list[str]) -> tuple[str | None, list[str]]:
    """Where to start (the first weak topic in dependency order) and every weak topic."""
    weak = [t for t in order if t in coverage_by_topic and coverage_by_topic[t] < 0.5]
    return (weak[0] if weak else None), weak
