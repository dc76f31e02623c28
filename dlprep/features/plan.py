"""The study plan: a role's path laid over the days to the interview.

A chosen plan (``dlprep plan --role R [--interview DATE]``) is stored in the
database. It orders new cards (the role's path first), and with an interview
date it caps due dates: a card whose next review would fall on or after the
interview is brought forward into the last three days before it, so every
studied card is seen once more just before the interview.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import study_day
from dlprep.errors import DlprepError

if TYPE_CHECKING:
    from dlprep.core.store import Store

FINAL_WINDOW_DAYS = 3
PLAN_KEY = "plan"


@dataclass(frozen=True)
class Plan:
    role: str
    start: date
    interview: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "start": self.start.isoformat(),
            "interview": self.interview.isoformat() if self.interview else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            role=data["role"],
            start=date.fromisoformat(data["start"]),
            interview=date.fromisoformat(data["interview"]) if data.get("interview") else None,
        )


HORIZON_DAYS = 730  # an interview more than two years out is a typo, not a plan


def check_interview(when: date, today: date) -> None:
    """An interview date must be after today and within two years."""
    if when <= today:
        raise DlprepError(f"the interview date {when.isoformat()} must be after today ({today.isoformat()})")
    if (when - today).days > HORIZON_DAYS:
        latest = (today + timedelta(days=HORIZON_DAYS)).isoformat()
        raise DlprepError(f"the interview date {when.isoformat()} is more than two years away (latest {latest})")


def current_plan(store: Store) -> Plan | None:
    data = store.get_setting(PLAN_KEY)
    return Plan.from_dict(data) if data else None


def save_plan(store: Store, plan: Plan | None) -> None:
    store.set_setting(PLAN_KEY, plan.to_dict() if plan else None)


def cap_for(card_id: str, day: date, interview: date | None) -> date | None:
    """The latest due date allowed for a card reviewed on ``day``.

    Cards are spread over the final window (the 1-3 days before the
    interview) by a stable hash of their id, so they do not all land on the
    last evening. No cap once the window has started or the date has passed.
    """
    if interview is None:
        return None
    offset = 1 + zlib.crc32(card_id.encode()) % FINAL_WINDOW_DAYS
    cap = interview - timedelta(days=offset)
    if cap <= day:
        cap = interview - timedelta(days=1)
    return cap if cap > day else None


def due_cap(store: Store, card_id: str, when: datetime, rollover_hour: int) -> date | None:
    plan = current_plan(store)
    if plan is None:
        return None
    return cap_for(card_id, study_day(when, rollover_hour), plan.interview)


# ---------------------------------------------------------------- laying out a plan

CHECKPOINTS: tuple[tuple[int, str], ...] = (
    (3, "Checkpoint: recall everything so far"),
    (7, "Connections: link topics (e.g. BatchNorm -> LayerNorm as CNNs -> transformers)"),
    (14, "Timed simulation: five 10-min problems, 60 s per topic (quiz --rapid)"),
    (21, "45-min mock interview over 4-5 topics (dlprep mock)"),
)


@dataclass(frozen=True)
class Block:
    topic: str
    first_day: date
    last_day: date
    weight: float


@dataclass(frozen=True)
class Milestone:
    day: date
    text: str


@dataclass
class PlanView:
    role: str
    title: str
    start: date
    end: date  # the interview day, or the end of the path's nominal length
    interview: date | None
    blocks: list[Block]
    milestones: list[Milestone]
    drills: dict[str, list[str]] = field(default_factory=dict)  # topic -> drill ids practised in its block

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def periods(self) -> list[tuple[str, date, date]]:
        """Weeks, or single days when the plan is two weeks or shorter."""
        step = 1 if self.days <= 14 else 7
        out = []
        day = self.start
        i = 1
        while day < self.end:
            last = min(day + timedelta(days=step - 1), self.end - timedelta(days=1))
            out.append((f"Day {i}" if step == 1 else f"Week {i}", day, last))
            day = last + timedelta(days=1)
            i += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "interview": self.interview.isoformat() if self.interview else None,
            "days": self.days,
            "blocks": [
                {
                    "topic": b.topic,
                    "first_day": b.first_day.isoformat(),
                    "last_day": b.last_day.isoformat(),
                    "weight": round(b.weight, 2),
                    "drills": self.drills.get(b.topic, []),
                }
                for b in self.blocks
            ],
            "periods": [
                {
                    "label": label,
                    "from": a.isoformat(),
                    "to": b.isoformat(),
                    "topics": [x.topic for x in self.blocks if x.first_day <= b and x.last_day >= a],
                    "drills": [
                        d
                        for t in dict.fromkeys(x.topic for x in self.blocks if x.first_day <= b and x.last_day >= a)
                        for d in self.drills.get(t, [])
                    ],
                }
                for label, a, b in self.periods()
            ],
            "milestones": [{"day": m.day.isoformat(), "text": m.text} for m in self.milestones],
        }


def weakness(topic: str, ratings: dict[str, int], mastery: dict[str, float], seen: set[str]) -> float:
    """0 (strong) to 1 (weak), from the self-rating and measured mastery; 0.5 when nothing is known."""
    signals = []
    if topic in ratings:
        signals.append((5 - ratings[topic]) / 4)
    if topic in seen and topic in mastery:
        signals.append(1 - mastery[topic])
    return sum(signals) / len(signals) if signals else 0.5


def lay_out(
    bank: Any,
    role: str,
    start: date,
    interview: date | None,
    ratings: dict[str, int] | None = None,
    mastery: dict[str, float] | None = None,
    seen_topics: set[str] | None = None,
    drills: dict[str, list[str]] | None = None,
) -> PlanView:
    """Spread the role's path over the days to the interview, giving weak
    topics more days; keep the last days for mock interviews and cheat sheets.
    ``drills`` (topic -> drill ids) are practised in their topic's blocks."""
    from dlprep.errors import DlprepError

    if role not in bank.paths:
        raise DlprepError(f"no study path for role {role!r} (roles: {', '.join(sorted(bank.paths))})")
    path = bank.paths[role]
    end = interview or start + timedelta(days=path.days)
    days = (end - start).days
    if days < 1:
        raise DlprepError(f"the interview date {end.isoformat()} must be after today ({start.isoformat()})")
    # A topic a path lists in several stages (the NLP path weaves llms through both
    # weeks) gets a block in each, sharing its weight between them.
    topics = [t for st in path.stages for t in st.topics]
    ratings, mastery, seen = ratings or {}, mastery or {}, seen_topics or set()
    weights = [(1 + weakness(t, ratings, mastery, seen)) / topics.count(t) for t in topics]
    final = 2 if days >= 7 else (1 if days >= 3 else 0)
    study = days - final
    total = sum(weights)
    blocks, acc = [], 0.0
    for t, w in zip(topics, weights, strict=True):
        first = int(study * acc / total)
        acc += w
        last = max(first, int(study * acc / total) - 1)
        blocks.append(Block(t, start + timedelta(days=first), start + timedelta(days=min(last, study - 1)), w))
    milestones = [Milestone(start + timedelta(days=d), text) for d, text in CHECKPOINTS if d < days - final]
    for st in path.stages:
        if not st.topics and st.note:
            milestones.append(Milestone(start + timedelta(days=max(study - 1, 0)), st.note))
    if interview is not None:
        if final >= 2:
            milestones.append(Milestone(interview - timedelta(days=2), "Mock interview (dlprep mock)"))
        if final >= 1:
            milestones.append(
                Milestone(
                    interview - timedelta(days=1),
                    "Cheat sheets (dlprep cheatsheet --all), light review, no new topics",
                )
            )
        milestones.append(Milestone(interview, "Interview"))
    milestones.sort(key=lambda m: m.day)
    wanted = {t: list(ids) for t, ids in (drills or {}).items() if t in topics and ids}
    return PlanView(role, path.title, start, end, interview, blocks, milestones, wanted)
