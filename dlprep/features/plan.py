"""The study plan: a role's path laid over the days to the interview.

A chosen plan (``dlprep plan --role R [--interview DATE]``) is stored in the
database. It orders new cards (the role's path first), and with an interview
date it caps due dates: a card whose next review would fall on or after the
interview is brought forward into the last three days before it, so every
studied card is seen once more just before the interview.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dlprep.core.scheduler import study_day
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
