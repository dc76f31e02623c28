"""The typed drill: what one ``questions/drills/<id>.yaml`` holds once validated.

The format is documented in ``docs/drills.md``; the rules are in ``load.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DRILL_PREFIX = "drill:"  # a drill's reviews are logged under card id "drill:<id>"
DRILLS_FOLDER = "drills"  # inside a bank folder
REQUIRED = (
    "id",
    "title",
    "topic",
    "difficulty",
    "minutes",
    "task",
    "hints",
    "starter",
    "solution",
    "checks",
    "mistakes",
)
OPTIONAL = ("forbidden", "cards", "references", "needs")
MISTAKE_KEYS = ("name", "fails", "message", "code")
NEEDS = ("torch", "numpy")  # what the checks import; "torch" unless a drill says otherwise
DIFFICULTY_MIN, DIFFICULTY_MAX = 1, 3
MINUTES_MIN, MINUTES_MAX = 5, 60
HINTS_MIN, HINTS_MAX = 2, 4
DIFFICULTY_NAMES = {1: "warm-up", 2: "standard", 3: "hard"}


def review_id(drill_id: str) -> str:
    """The card id a drill's reviews are logged under."""
    return DRILL_PREFIX + drill_id


def is_drill_review(card_id: str) -> bool:
    return card_id.startswith(DRILL_PREFIX)


@dataclass(frozen=True)
class Mistake:
    """A wrong solution people actually write, and the check that must catch it."""

    name: str
    fails: str
    message: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fails": self.fails, "message": self.message, "code": self.code}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mistake:
        return cls(data["name"], data["fails"], data["message"], data["code"])


@dataclass(frozen=True)
class Drill:
    id: str
    title: str
    topic: str
    difficulty: int
    minutes: int
    task: str
    hints: tuple[str, ...]
    starter: str
    solution: str
    checks: str
    mistakes: tuple[Mistake, ...]
    forbidden: tuple[str, ...] = ()
    cards: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    needs: str = "torch"
    path: str = ""  # the YAML file it came from
    bundled: bool = True  # shipped with dlprep (False: from the user's extra bank folder)

    @property
    def review_id(self) -> str:
        return review_id(self.id)

    def spec(self) -> dict[str, Any]:
        """The mapping :mod:`dlprep.drills.runner` works on."""
        return {
            "id": self.id,
            "starter": self.starter,
            "solution": self.solution,
            "checks": self.checks,
            "forbidden": list(self.forbidden),
            "mistakes": [m.to_dict() for m in self.mistakes],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "topic": self.topic,
            "difficulty": self.difficulty,
            "minutes": self.minutes,
            "task": self.task,
            "hints": list(self.hints),
            "starter": self.starter,
            "solution": self.solution,
            "checks": self.checks,
            "mistakes": [m.to_dict() for m in self.mistakes],
            "forbidden": list(self.forbidden),
            "cards": list(self.cards),
            "references": list(self.references),
            "needs": self.needs,
            "path": self.path,
            "bundled": self.bundled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Drill:
        return cls(
            id=data["id"],
            title=data["title"],
            topic=data["topic"],
            difficulty=int(data["difficulty"]),
            minutes=int(data["minutes"]),
            task=data["task"],
            hints=tuple(data["hints"]),
            starter=data["starter"],
            solution=data["solution"],
            checks=data["checks"],
            mistakes=tuple(Mistake.from_dict(m) for m in data["mistakes"]),
            forbidden=tuple(data.get("forbidden", ())),
            cards=tuple(data.get("cards", ())),
            references=tuple(data.get("references", ())),
            needs=data.get("needs", "torch"),
            path=data.get("path", ""),
            bundled=bool(data.get("bundled", True)),
        )
