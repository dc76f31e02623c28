"""A timed mock interview: 4-5 topics, main questions with chained follow-ups,
and a markdown scorecard in the data folder."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dlprep.core.bank import Bank, Card
from dlprep.core.store import Store
from dlprep.features.assess import CORE_TOPICS
from dlprep.features.progress import card_mastery, grades_by_card, topic_mastery
from dlprep.features.quiz import Options, QuizSession, QuizUI

# What a mock draws from when no role path is set: the core topics and debugging/production.
MOCK_TOPICS = (*CORE_TOPICS, "production")
PATTERN_ORDER = ("derive-then-scale", "why-not", "connect-the-dots", "debug-the-run")
MINUTES_PER_CARD = 8  # a main question with its follow-ups, answered out loud


def choose_topics(bank: Bank, store: Store, role: str | None, count: int = 5) -> list[str]:
    """The weakest topics (by review history) on the role's path, else the core."""
    if role and role in bank.paths:
        pool = [t for st in bank.paths[role].stages for t in st.topics]
    else:
        pool = [t for t in MOCK_TOPICS if t in bank.topics]
    pool = [t for t in dict.fromkeys(pool) if bank.cards_in(t)]
    mastery = topic_mastery(bank, store)
    position = {t: i for i, t in enumerate(pool)}
    return sorted(pool, key=lambda t: (mastery.get(t, 0.0), position[t]))[:count]


def pick_cards(bank: Bank, store: Store, topics: list[str], minutes: int, role: str | None) -> list[Card]:
    """Main questions: per topic the weakest card with an interview pattern,
    rotating through the patterns; more per topic when time allows."""
    grades = grades_by_card(store)
    per_topic = max(1, round(minutes / MINUTES_PER_CARD / max(len(topics), 1)))
    chosen: list[Card] = []
    for slot, topic in enumerate(topics):
        cards = [c for c in bank.cards_in(topic) if not role or role in c.roles] or bank.cards_in(topic)
        wanted = PATTERN_ORDER[slot % len(PATTERN_ORDER)]

        def rank(c: Card, wanted: str = wanted) -> tuple:
            return (
                c.pattern != wanted,  # the pattern this slot of the interview practises
                c.pattern is None,
                not c.follow_ups,
                card_mastery(grades.get(c.id, [])),
                c.id,
            )

        chosen.extend(sorted(cards, key=rank)[:per_topic])
    return chosen


@dataclass
class MockInterview:
    bank: Bank
    store: Store
    clock: Any
    minutes: int
    topics: list[str]
    rollover_hour: int = 4
    demo_available: bool = False
    started: datetime | None = None
    session: QuizSession | None = field(default=None, repr=False)
    monotonic: Callable[[], float] = time.monotonic

    def run(self, cards: list[Card], ui: QuizUI, console: Any = None) -> None:
        self.started = self.clock()
        self.session = QuizSession(
            self.bank,
            self.store,
            self.clock,
            Options(),
            self.rollover_hour,
            self.demo_available,
            mode="mock",
            monotonic=self.monotonic,
            repeats=False,
            chain_follow_ups=True,
            minutes=self.minutes,
        )
        self.session.run(cards, ui)

    def result(self) -> dict[str, Any]:
        outcomes = self.session.outcomes if self.session else []
        by_topic: dict[str, list] = defaultdict(list)
        for o in outcomes:
            by_topic[o.card.topic].append(o)
        topics = []
        for t in self.topics:
            os_ = by_topic.get(t, [])
            topics.append(
                {
                    "topic": t,
                    "cards": [o.card.id for o in os_],
                    "coverage": round(sum(o.coverage for o in os_) / len(os_), 3) if os_ else None,
                    "seconds": round(sum(o.seconds for o in os_), 1),
                    "missed_points": [
                        p.point for o in os_ for i, p in enumerate(o.card.rubric) if i not in o.points_hit
                    ],
                    "missed_follow_ups": [q for o in os_ for q in o.follow_ups_missed],
                }
            )
        review_next = [o.card.id for o in sorted(outcomes, key=lambda o: o.coverage) if o.grade < 4]
        timed_out = bool(self.session and self.session.timed_out)
        planned = self.session.planned if self.session else 0
        return {
            "started": self.started.isoformat() if self.started else None,
            "minutes": self.minutes,
            "timed_out": timed_out,
            "stopped_early": not timed_out and len(outcomes) < planned,  # q, Ctrl-C or closed input
            "asked": len(outcomes),
            "planned": planned,
            "seconds": round(self.session.elapsed, 1) if self.session else 0.0,
            "topics": topics,
            "review_next": review_next,
        }

    def scorecard_markdown(self, result: dict[str, Any]) -> str:
        lines = [
            f"# Mock interview scorecard, {result['started'][:16].replace('T', ' ') if result['started'] else ''}",
            "",
        ]
        lines.append(
            f"{result['asked']} of {result['planned']} question(s) in {result['seconds'] / 60:.1f} of "
            f"{result['minutes']} minutes"
            + (" (time ran out)" if result["timed_out"] else "")
            + (" (stopped early)" if result.get("stopped_early") else "")
            + "."
        )
        lines.append("")
        lines.append("| topic | coverage | time | missed follow-ups |")
        lines.append("|---|---|---|---|")
        for t in result["topics"]:
            cov = f"{t['coverage']:.0%}" if t["coverage"] is not None else "not reached"
            lines.append(f"| {t['topic']} | {cov} | {t['seconds'] / 60:.1f} min | {len(t['missed_follow_ups'])} |")
        for t in result["topics"]:
            if t["missed_points"] or t["missed_follow_ups"]:
                lines += ["", f"## {t['topic']}"]
                lines += [f"- missed: {p}" for p in t["missed_points"]]
                lines += [f"- follow-up missed: {q}" for q in t["missed_follow_ups"]]
        lines += ["", "## Review next"]
        lines += [f"- `dlprep card {cid}`" for cid in result["review_next"]] or [self._nothing_to_review(result)]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _nothing_to_review(result: dict[str, Any]) -> str:
        asked, planned = result["asked"], result["planned"]
        if asked == 0:
            return f"- no question answered (of {planned} planned): nothing to review yet"
        if asked < planned:
            return (
                f"- nothing below grade 4 in the {asked} question(s) answered; "
                f"{planned - asked} of {planned} were not reached"
            )
        return "- nothing below grade 4: well done"

    def write_scorecard(self) -> tuple[Path, dict[str, Any]]:
        from dlprep.paths import scorecards_dir

        result = self.result()
        folder = scorecards_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = (self.started or self.clock()).strftime("%Y%m%d-%H%M%S")
        path = folder / f"mock-{stamp}.md"
        path.write_text(self.scorecard_markdown(result), encoding="utf-8")
        return path, result
