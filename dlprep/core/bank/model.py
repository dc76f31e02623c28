"""The card model: the typed objects the bank is made of.

Every stored type has ``to_dict``/``from_dict`` (``--json`` output, and the
bank cache's topics, paths and references); cards have a faster packed form
for the cache (``Card.pack``, ``core/bankcache.py``). Nothing here reads
files or validates: that is ``validate.py`` (rules) and ``load.py`` (files
in, bank out).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from dlprep.errors import DlprepError

DIFFICULTIES = ("junior", "mid", "senior")
KINDS = ("concept", "derivation", "implementation", "design", "debugging", "behavioral")
ROLES = ("mle", "nlp", "cv", "research", "startup")
PATTERNS = ("derive-then-scale", "why-not", "connect-the-dots", "debug-the-run")
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TOPICS_FILE = "topics.yaml"
REFERENCES_FILE = "references.yaml"
REFERENCE_TYPES = ("paper", "book", "docs")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RUBRIC_MIN, RUBRIC_MAX = 3, 6
TIME_MIN, TIME_MAX = 10, 600
ANSWER_WORDS = (80, 300)

CARD_REQUIRED = ("id", "question", "answer", "rubric")
CARD_OPTIONAL = (
    "follow_ups",
    "red_flags",
    "difficulty",
    "kind",
    "roles",
    "pattern",
    "show_me",
    "see_also",
    "time_target_s",
    "references",
)
STRICT_REQUIRED = ("difficulty", "kind", "roles", "time_target_s")
TOPIC_KEYS = ("id", "title", "order", "summary", "prerequisites", "cheatsheet")
CHEATSHEET_KEYS = ("formulas", "summaries", "traps", "table")
PATH_KEYS = ("role", "title", "days", "stages")
STAGE_KEYS = ("label", "topics", "note")


def suggest(key: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest allowed name, or nothing."""
    hint = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


# ---------------------------------------------------------------- types


def _trusted(cls: type, values: dict[str, Any]) -> Any:
    """A frozen dataclass built from complete values we wrote ourselves (the
    bank cache), without ``__init__``: a frozen ``__init__`` sets each field
    through ``object.__setattr__``, which was most of the cached load's time.
    Equality, hashing and repr are the dataclass's, from the same fields."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


@dataclass(frozen=True)
class RubricPoint:
    point: str
    weight: int


@dataclass(frozen=True)
class FollowUp:
    question: str
    answer: str


@dataclass(frozen=True)
class Reference:
    """One work in the reference registry (``references.yaml``)."""

    key: str
    title: str
    venue: str
    type: str = "paper"
    authors: str = ""
    year: int | None = None
    arxiv: str = ""
    url: str = ""

    @property
    def link(self) -> str:
        if self.url:
            return self.url
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else ""

    def describe(self) -> str:
        """``He, Zhang, Ren & Sun 2016. Deep Residual ... CVPR 2016.``"""
        who = " ".join(str(x) for x in (self.authors, self.year or "") if x)
        parts = [p for p in (who, self.title, self.venue) if p]
        return ". ".join(p.rstrip(".") for p in parts) + "."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        return cls(**data)


@dataclass(frozen=True)
class Citation:
    """A card's pointer into the registry: a key and an optional locator
    (``section 3.2``, ``chapter 8``). Banks without a registry may cite free
    text, kept in ``key`` with ``resolved`` False."""

    key: str
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "at": self.at} if self.at else {"key": self.key}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | str) -> Citation:
        if isinstance(data, str):
            return cls(data)
        return cls(data["key"], data.get("at", ""))


@dataclass(frozen=True)
class Card:
    id: str
    topic: str
    question: str
    answer: str
    rubric: tuple[RubricPoint, ...]
    follow_ups: tuple[FollowUp, ...] = ()
    red_flags: tuple[str, ...] = ()
    difficulty: str = "mid"
    kind: str = "concept"
    roles: tuple[str, ...] = ROLES
    pattern: str | None = None
    show_me: str | None = None
    see_also: tuple[str, ...] = ()
    time_target_s: int = 60
    references: tuple[Citation, ...] = ()
    source: str = ""
    line: int = 0

    @property
    def total_weight(self) -> int:
        return sum(p.weight for p in self.rubric)

    @cached_property
    def content_hash(self) -> str:
        """A short hash of what a learner memorises (question, answer, rubric,
        follow-ups, red flags), whitespace-normalised. Stored with each review,
        so a later change to the card can be pointed out. Computed once per
        card (the bank cache stores it, so ``today`` need not unpack answers)."""
        import hashlib
        import json

        parts = [
            self.question,
            self.answer,
            [(p.point, p.weight) for p in self.rubric],
            [(f.question, f.answer) for f in self.follow_ups],
            list(self.red_flags),
        ]
        text = " ".join(json.dumps(parts, ensure_ascii=False).split())
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rubric", "follow_ups", "red_flags", "roles", "see_also"):
            data[key] = list(data[key])
        data["references"] = [c.to_dict() for c in self.references]
        return data

    def __getattr__(self, name: str) -> Any:
        """Reached only for a field missing from ``__dict__``: a card from the
        bank cache keeps its long fields (``PACKED``) as one marshal blob until
        one of them is read, so list screens never decode 1,000 answers."""
        packed = self.__dict__.get("_packed")
        if packed is None or name not in PACKED:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.__dict__.update(_unpack(packed))
        del self.__dict__["_packed"]
        return self.__dict__[name]

    def pack(self) -> bytes:
        """The ``PACKED`` fields as one marshal blob (plain tuples and strings: loading it runs no code)."""
        import marshal

        return marshal.dumps(
            (
                self.answer,
                tuple((p.point, p.weight) for p in self.rubric),
                tuple((f.question, f.answer) for f in self.follow_ups),
                tuple(self.red_flags),
                tuple((c.key, c.at) for c in self.references),
            )
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        data = dict(data)
        data["rubric"] = tuple(RubricPoint(**p) for p in data["rubric"])
        data["follow_ups"] = tuple(FollowUp(**f) for f in data.get("follow_ups", ()))
        for key in ("red_flags", "roles", "see_also"):
            if key in data:
                data[key] = tuple(data[key])
        if "references" in data:
            data["references"] = tuple(Citation.from_dict(c) for c in data["references"])
        return cls(**data)


PACKED = ("answer", "rubric", "follow_ups", "red_flags", "references")
# A packed card has no instance value for these until read (``Card.__getattr__``):
# a class-level default would shadow that. ``__init__`` keeps its own defaults.
for _name in PACKED:
    if hasattr(Card, _name):
        delattr(Card, _name)


def _unpack(blob: bytes) -> dict[str, Any]:
    import marshal

    answer, rubric, follow_ups, red_flags, references = marshal.loads(blob)
    return {
        "answer": answer,
        "rubric": tuple([_trusted(RubricPoint, {"point": p, "weight": w}) for p, w in rubric]),
        "follow_ups": tuple([_trusted(FollowUp, {"question": q, "answer": a}) for q, a in follow_ups]),
        "red_flags": red_flags,
        "references": tuple([_trusted(Citation, {"key": k, "at": a}) for k, a in references]),
    }


@dataclass(frozen=True)
class Cheatsheet:
    formulas: tuple[tuple[str, str], ...] = ()
    summaries: tuple[str, ...] = ()
    traps: tuple[str, ...] = ()
    table_columns: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cheatsheet:
        return cls(
            formulas=tuple(tuple(f) for f in data["formulas"]),  # type: ignore[misc]
            summaries=tuple(data["summaries"]),
            traps=tuple(data["traps"]),
            table_columns=tuple(data["table_columns"]),
            table_rows=tuple(tuple(r) for r in data["table_rows"]),
        )


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    order: int
    summary: str
    prerequisites: tuple[str, ...] = ()
    cheatsheet: Cheatsheet = field(default_factory=Cheatsheet)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topic:
        data = dict(data)
        data["prerequisites"] = tuple(data["prerequisites"])
        data["cheatsheet"] = Cheatsheet.from_dict(data["cheatsheet"])
        return cls(**data)


@dataclass(frozen=True)
class Stage:
    label: str
    topics: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class StudyPath:
    role: str
    title: str
    days: int
    stages: tuple[Stage, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyPath:
        stages = tuple(Stage(s["label"], tuple(s["topics"]), s.get("note", "")) for s in data["stages"])
        return cls(data["role"], data["title"], data["days"], stages)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    card_id: str | None = None
    column: int = 0

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        if self.card_id:
            return f"{where}: {self.card_id}: {self.message}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "card": self.card_id,
            "message": self.message,
        }


class BankError(DlprepError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0] if problems else "no problems"
        more = f" (and {len(problems) - 1} more; run `dlprep validate`)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")


@dataclass
class Bank:
    topics: dict[str, Topic]
    cards: list[Card]
    paths: dict[str, StudyPath]
    demo_ids: frozenset[str] = frozenset()
    files: list[str] = field(default_factory=list)
    references: dict[str, Reference] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.cards}

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": [t.to_dict() for t in self.topics.values()],
            "cards": [c.to_dict() for c in self.cards],
            "paths": [p.to_dict() for p in self.paths.values()],
            "demo_ids": sorted(self.demo_ids),
            "files": list(self.files),
            "references": [r.to_dict() for r in self.references.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bank:
        topics = [Topic.from_dict(t) for t in data["topics"]]
        paths = [StudyPath.from_dict(p) for p in data["paths"]]
        refs = [Reference.from_dict(r) for r in data["references"]]
        return cls(
            topics={t.id: t for t in topics},
            cards=[Card.from_dict(c) for c in data["cards"]],
            paths={p.role: p for p in paths},
            demo_ids=frozenset(data["demo_ids"]),
            files=list(data["files"]),
            references={r.key: r for r in refs},
        )

    def cite(self, citation: Citation) -> str:
        """A citation as one line of text: the full reference, its locator and link."""
        ref = self.references.get(citation.key)
        text = ref.describe() if ref else citation.key
        if citation.at:
            text += f" ({citation.at})"
        if ref and ref.link:
            text += f" {ref.link}"
        return text

    def cited_works(self, cards: Iterable[Card]) -> list[Reference]:
        """The registry entries the given cards cite, in first-cited order."""
        seen: dict[str, Reference] = {}
        for card in cards:
            for c in card.references:
                if c.key in self.references:
                    seen.setdefault(c.key, self.references[c.key])
        return list(seen.values())

    def topic_order(self) -> list[str]:
        return [t.id for t in sorted(self.topics.values(), key=lambda t: (t.order, t.id))]

    def cards_in(self, topic: str) -> list[Card]:
        return [c for c in self.cards if c.topic == topic]

    def get(self, card_id: str) -> Card:
        try:
            return self.by_id[card_id]
        except KeyError:
            from dlprep.drills.model import DRILL_PREFIX

            if card_id.startswith(DRILL_PREFIX):
                drill = card_id.removeprefix(DRILL_PREFIX)
                raise DlprepError(
                    f"{card_id} is an implementation drill, not a card: `dlprep practice {drill}` shows it "
                    f"and `dlprep practice {drill} --check` records its reviews"
                ) from None
            raise DlprepError(f"unknown card id {card_id!r}{suggest(card_id, self.by_id)}") from None

    def check_topic(self, topic: str) -> str:
        if topic not in self.topics:
            raise DlprepError(f"unknown topic {topic!r} (topics: {', '.join(self.topic_order())})")
        return topic

    def filter(
        self,
        topics: Iterable[str] = (),
        difficulty: str | None = None,
        role: str | None = None,
    ) -> list[Card]:
        wanted = {self.check_topic(t) for t in topics}
        order = {t: i for i, t in enumerate(self.topic_order())}
        chosen = [
            c
            for c in self.cards
            if (not wanted or c.topic in wanted)
            and (difficulty is None or c.difficulty == difficulty)
            and (role is None or role in c.roles)
        ]
        return sorted(chosen, key=lambda c: order.get(c.topic, len(order)))
