"""The question bank: YAML files in, validated cards and topics out.

``load_bank`` reads the bundled bank plus any extra folders and either returns
a :class:`Bank` or raises :class:`BankError` carrying every problem found
(not just the first), each as ``path:line: card-id: message``.
The format is documented in ``docs/card-format.md``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dlprep.core.yamlfile import Located, YamlError, load_yaml
from dlprep.errors import DlprepError

DIFFICULTIES = ("junior", "mid", "senior")
KINDS = ("concept", "derivation", "implementation", "design", "debugging", "behavioral")
ROLES = ("mle", "nlp", "cv", "research", "startup")
PATTERNS = ("derive-then-scale", "why-not", "connect-the-dots", "debug-the-run")
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TOPICS_FILE = "topics.yaml"
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


# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class RubricPoint:
    point: str
    weight: int


@dataclass(frozen=True)
class FollowUp:
    question: str
    answer: str


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
    references: tuple[str, ...] = ()
    source: str = ""
    line: int = 0

    @property
    def total_weight(self) -> int:
        return sum(p.weight for p in self.rubric)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rubric", "follow_ups", "red_flags", "roles", "see_also", "references"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        data = dict(data)
        data["rubric"] = tuple(RubricPoint(**p) for p in data["rubric"])
        data["follow_ups"] = tuple(FollowUp(**f) for f in data.get("follow_ups", ()))
        for key in ("red_flags", "roles", "see_also", "references"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass(frozen=True)
class Cheatsheet:
    formulas: tuple[tuple[str, str], ...] = ()
    summaries: tuple[str, ...] = ()
    traps: tuple[str, ...] = ()
    table_columns: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    order: int
    summary: str
    prerequisites: tuple[str, ...] = ()
    cheatsheet: Cheatsheet = field(default_factory=Cheatsheet)
    source: str = ""


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

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.cards}

    def topic_order(self) -> list[str]:
        return [t.id for t in sorted(self.topics.values(), key=lambda t: (t.order, t.id))]

    def cards_in(self, topic: str) -> list[Card]:
        return [c for c in self.cards if c.topic == topic]

    def get(self, card_id: str) -> Card:
        try:
            return self.by_id[card_id]
        except KeyError:
            hint = difflib.get_close_matches(card_id, self.by_id, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise DlprepError(f"unknown card id {card_id!r}{suggestion}") from None

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


# ---------------------------------------------------------------- loading


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _suggest(key: str, allowed: Iterable[str]) -> str:
    hint = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


class _Checker:
    """Collects problems while turning parsed YAML into typed objects."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.problems: list[Problem] = []

    def add(self, path: str, line: int, message: str, card_id: str | None = None) -> None:
        self.problems.append(Problem(path, line, message, card_id))

    # -- small typed readers; each returns None (and records a problem) on failure

    def text(self, m: Located, key: str, where: tuple[str, str | None], required: bool = True) -> str | None:
        path, cid = where
        if key not in m:
            if required:
                self.add(path, m.line, f"missing required key {key!r}", cid)
            return None
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.add(path, m.line_of(key), f"{key!r} must be a non-empty string", cid)
            return None
        return value

    def choice(self, m: Located, key: str, options: tuple[str, ...], where: tuple[str, str | None]) -> str | None:
        path, cid = where
        value = m.get(key)
        if value not in options:
            self.add(path, m.line_of(key), f"{key!r} must be one of {', '.join(options)}, got {value!r}", cid)
            return None
        return value

    def str_list(self, m: Located, key: str, where: tuple[str, str | None]) -> tuple[str, ...] | None:
        path, cid = where
        value = m.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(path, m.line_of(key), f"{key!r} must be a list of non-empty strings", cid)
            return None
        return tuple(value)

    def integer(self, m: Located, key: str, lo: int, hi: int | None, where: tuple[str, str | None]) -> int | None:
        path, cid = where
        value = m.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= lo and (hi is None or value <= hi)
        if not ok:
            span = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.add(path, m.line_of(key), f"{key!r} must be an integer {span}, got {value!r}", cid)
            return None
        return value

    def keys(self, m: Located, allowed: Iterable[str], where: tuple[str, str | None], what: str) -> None:
        path, cid = where
        allowed = tuple(allowed)
        for key in m:
            if key not in allowed:
                self.add(path, m.line_of(key), f"unknown key {key!r} in {what}{_suggest(str(key), allowed)}", cid)

    # -- cards

    def card(self, raw: Any, topic: str, path: str, index: int) -> Card | None:
        if not isinstance(raw, Located):
            self.add(path, 0, f"card #{index + 1} must be a mapping")
            return None
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        where = (path, cid or f"card #{index + 1}")
        before = len(self.problems)
        self.keys(raw, CARD_REQUIRED + CARD_OPTIONAL, where, "card")

        card_id = self.text(raw, "id", where)
        if card_id is not None and not ID_RE.match(card_id):
            self.add(path, raw.line_of("id"), f"id {card_id!r} must be kebab-case (a-z, 0-9, single hyphens)", cid)
        question = self.text(raw, "question", where)
        answer = self.text(raw, "answer", where)
        rubric = self.rubric(raw, where)

        follow_ups: tuple[FollowUp, ...] = ()
        if "follow_ups" in raw:
            follow_ups = self.follow_ups(raw, where) or ()
        values: dict[str, Any] = {}
        for key in ("red_flags", "references", "see_also"):
            if key in raw:
                values[key] = self.str_list(raw, key, where) or ()
        if "difficulty" in raw:
            values["difficulty"] = self.choice(raw, "difficulty", DIFFICULTIES, where)
        if "kind" in raw:
            values["kind"] = self.choice(raw, "kind", KINDS, where)
        if "pattern" in raw:
            values["pattern"] = self.choice(raw, "pattern", PATTERNS, where)
        if "show_me" in raw:
            values["show_me"] = self.text(raw, "show_me", where)
        if "time_target_s" in raw:
            values["time_target_s"] = self.integer(raw, "time_target_s", TIME_MIN, TIME_MAX, where)
        if "roles" in raw:
            roles = self.str_list(raw, "roles", where)
            if roles is not None:
                bad = [r for r in roles if r not in ROLES]
                if bad or not roles:
                    self.add(
                        path,
                        raw.line_of("roles"),
                        f"'roles' must be a non-empty subset of {', '.join(ROLES)}, got {list(roles)!r}",
                        cid,
                    )
                elif len(set(roles)) != len(roles):
                    self.add(path, raw.line_of("roles"), "'roles' lists a role twice", cid)
                values["roles"] = roles

        if self.strict:
            for key in STRICT_REQUIRED:
                if key not in raw:
                    self.add(path, raw.line, f"missing key {key!r} (required by --strict)", cid)
            if answer is not None:
                words = len(answer.split())
                lo, hi = ANSWER_WORDS
                if not lo <= words <= hi:
                    self.add(path, raw.line_of("answer"), f"answer has {words} words; --strict wants {lo}-{hi}", cid)
            for key, what in (("follow_ups", "follow-up"), ("red_flags", "red flag"), ("references", "reference")):
                if not raw.get(key):
                    self.add(path, raw.line, f"needs at least one {what} (required by --strict)", cid)

        if len(self.problems) > before or None in (card_id, question, answer, rubric):
            return None
        return Card(
            id=card_id,
            topic=topic,
            question=question,
            answer=answer,
            rubric=rubric,
            follow_ups=follow_ups,
            source=path,
            line=raw.line,
            **{k: v for k, v in values.items() if v is not None},
        )

    def rubric(self, raw: Located, where: tuple[str, str | None]) -> tuple[RubricPoint, ...] | None:
        path, cid = where
        if "rubric" not in raw:
            self.add(path, raw.line, "missing required key 'rubric'", cid)
            return None
        items = raw["rubric"]
        if not isinstance(items, list) or not RUBRIC_MIN <= len(items) <= RUBRIC_MAX:
            got = len(items) if isinstance(items, list) else type(items).__name__
            self.add(
                path,
                raw.line_of("rubric"),
                f"'rubric' must be a list of {RUBRIC_MIN}-{RUBRIC_MAX} points, got {got}",
                cid,
            )
            return None
        points = []
        for i, item in enumerate(items):
            label = f"rubric[{i + 1}]"
            if not isinstance(item, Located):
                self.add(path, raw.line_of("rubric"), f"{label} must be a mapping with 'point' and 'weight'", cid)
                continue
            self.keys(item, ("point", "weight"), where, label)
            point = self.text(item, "point", where)
            if "weight" not in item:
                self.add(path, item.line, f"{label}: missing required key 'weight'", cid)
                continue
            weight = self.integer(item, "weight", 1, None, where)
            if point is not None and weight is not None:
                points.append(RubricPoint(point, weight))
        return tuple(points) if len(points) == len(items) else None

    def follow_ups(self, raw: Located, where: tuple[str, str | None]) -> tuple[FollowUp, ...] | None:
        path, cid = where
        items = raw["follow_ups"]
        if not isinstance(items, list):
            self.add(path, raw.line_of("follow_ups"), "'follow_ups' must be a list of question/answer pairs", cid)
            return None
        result = []
        for i, item in enumerate(items):
            if not isinstance(item, Located):
                self.add(
                    path,
                    raw.line_of("follow_ups"),
                    f"follow_ups[{i + 1}] must be a mapping with 'question' and 'answer'",
                    cid,
                )
                continue
            self.keys(item, ("question", "answer"), where, f"follow_ups[{i + 1}]")
            q = self.text(item, "question", where)
            a = self.text(item, "answer", where)
            if q is not None and a is not None:
                result.append(FollowUp(q, a))
        return tuple(result)

    # -- topics.yaml

    def topics_file(self, data: Any, path: str) -> tuple[list[Topic], list[StudyPath]]:
        if not isinstance(data, Located):
            self.add(path, 1, "topics file must be a mapping with 'topics' (and optionally 'paths')")
            return [], []
        self.keys(data, ("topics", "paths"), (path, None), "topics file")
        topics: list[Topic] = []
        raw_topics = data.get("topics", [])
        if not isinstance(raw_topics, list):
            self.add(path, data.line_of("topics"), "'topics' must be a list")
            raw_topics = []
        for raw in raw_topics:
            topic = self.topic(raw, path, data.line_of("topics"))
            if topic:
                topics.append(topic)
        study_paths: list[StudyPath] = []
        raw_paths = data.get("paths", [])
        if not isinstance(raw_paths, list):
            self.add(path, data.line_of("paths"), "'paths' must be a list")
            raw_paths = []
        for raw in raw_paths:
            sp = self.study_path(raw, path, data.line_of("paths"))
            if sp:
                study_paths.append(sp)
        return topics, study_paths

    def topic(self, raw: Any, path: str, line: int) -> Topic | None:
        if not isinstance(raw, Located):
            self.add(path, line, "each topic must be a mapping")
            return None
        before = len(self.problems)
        where = (path, None)
        self.keys(raw, TOPIC_KEYS, where, "topic")
        tid = self.text(raw, "id", where)
        if tid is not None and not ID_RE.match(tid):
            self.add(path, raw.line_of("id"), f"topic id {tid!r} must be kebab-case")
        title = self.text(raw, "title", where)
        summary = self.text(raw, "summary", where)
        order = self.integer(raw, "order", 1, None, where) if "order" in raw else None
        if "order" not in raw:
            self.add(path, raw.line, "missing required key 'order'")
        prereqs = self.str_list(raw, "prerequisites", where) if "prerequisites" in raw else ()
        sheet = (
            self.cheatsheet(raw["cheatsheet"], path, raw.line_of("cheatsheet")) if "cheatsheet" in raw else Cheatsheet()
        )
        if len(self.problems) > before:
            return None
        return Topic(tid, title, order, summary, prereqs or (), sheet or Cheatsheet(), path)

    def cheatsheet(self, raw: Any, path: str, line: int) -> Cheatsheet | None:
        where = (path, None)
        if not isinstance(raw, Located):
            self.add(path, line, "'cheatsheet' must be a mapping")
            return None
        self.keys(raw, CHEATSHEET_KEYS, where, "cheatsheet")
        formulas = []
        for item in raw.get("formulas", []) or []:
            if not isinstance(item, Located) or set(item) != {"name", "formula"}:
                self.add(
                    path, getattr(item, "line", line), "each cheatsheet formula needs exactly 'name' and 'formula'"
                )
                continue
            name, formula = self.text(item, "name", where), self.text(item, "formula", where)
            if name and formula:
                formulas.append((name, formula))
        summaries = self.str_list(raw, "summaries", where) if "summaries" in raw else ()
        traps = self.str_list(raw, "traps", where) if "traps" in raw else ()
        columns: tuple[str, ...] = ()
        rows: list[tuple[str, ...]] = []
        if "table" in raw:
            table = raw["table"]
            if not isinstance(table, Located) or set(table) != {"columns", "rows"}:
                self.add(path, raw.line_of("table"), "cheatsheet 'table' needs exactly 'columns' and 'rows'")
            else:
                columns = self.str_list(table, "columns", where) or ()
                for row in table["rows"] if isinstance(table["rows"], list) else [None]:
                    if (
                        not isinstance(row, list)
                        or len(row) != len(columns)
                        or not all(isinstance(c, str) for c in row)
                    ):
                        self.add(
                            path, table.line_of("rows"), f"each table row must be a list of {len(columns)} strings"
                        )
                        continue
                    rows.append(tuple(row))
        return Cheatsheet(tuple(formulas), summaries or (), traps or (), columns, tuple(rows))

    def study_path(self, raw: Any, path: str, line: int) -> StudyPath | None:
        where = (path, None)
        if not isinstance(raw, Located):
            self.add(path, line, "each path must be a mapping")
            return None
        before = len(self.problems)
        self.keys(raw, PATH_KEYS, where, "path")
        role = self.choice(raw, "role", ROLES, where)
        title = self.text(raw, "title", where)
        days = self.integer(raw, "days", 1, 365, where)
        stages = []
        raw_stages = raw.get("stages")
        if not isinstance(raw_stages, list) or not raw_stages:
            self.add(path, raw.line_of("stages"), "'stages' must be a non-empty list")
            raw_stages = []
        for st in raw_stages:
            if not isinstance(st, Located):
                self.add(path, raw.line_of("stages"), "each stage must be a mapping")
                continue
            self.keys(st, STAGE_KEYS, where, "stage")
            label = self.text(st, "label", where)
            topics = self.str_list(st, "topics", where) if st.get("topics") != [] else ()
            note = self.text(st, "note", where) if "note" in st else ""
            if label is not None and topics is not None:
                stages.append(Stage(label, topics, note or ""))
        if len(self.problems) > before:
            return None
        return StudyPath(role, title, days, tuple(stages))


def _find_cycle(prereqs: dict[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in prereqs.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in prereqs and state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in prereqs:
        if state.get(node) is None:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def check_bank(
    folders: Iterable[Path] = (),
    files: Iterable[Path] = (),
    strict: bool = False,
    reference_folders: Iterable[Path] = (),
) -> tuple[Bank, list[Problem]]:
    """Load and check banks. Returns the bank built from the valid parts and
    every problem found.

    ``folders`` are bank folders (a ``topics.yaml`` and topic files, maybe a
    ``demos/`` folder); ``files`` are single files checked against them.
    ``reference_folders`` are loaded only so that references from ``files``
    resolve (their own problems are not reported).
    """
    from dlprep.demos.registry import discover

    checker = _Checker(strict)
    folders = [Path(f) for f in folders]
    files = [Path(f) for f in files]
    reference_folders = [Path(f) for f in reference_folders]

    wanted: list[tuple[Path, bool]] = []  # (file, report problems?)
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            checker.add(str(folder), 0, "not a folder")
            continue
        for f in _yaml_files(folder):
            seen.add(f.resolve())
            wanted.append((f, True))
    for f in files:
        if not f.is_file():
            checker.add(str(f), 0, "no such file")
        elif f.resolve() not in seen:
            seen.add(f.resolve())
            wanted.append((f, True))
    for folder in reference_folders:
        if folder.is_dir():
            for f in _yaml_files(folder):
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    wanted.append((f, False))

    reported = checker.problems
    topics: dict[str, Topic] = {}
    study_paths: dict[str, StudyPath] = {}
    card_entries: list[tuple[Card, bool]] = []
    card_sites: list[tuple[str, str, int, bool, Located]] = []  # id, path, line, report, raw
    file_topics: list[tuple[str, str, int, bool]] = []

    # topics.yaml files first (cards name their topics), then in the order given.
    ordered = sorted(enumerate(wanted), key=lambda iw: (iw[1][0].name != TOPICS_FILE, iw[0]))
    for _, (f, report) in ordered:
        path = str(f)
        checker.problems = reported if report else []
        try:
            data, dups = load_yaml(f)
        except YamlError as exc:
            checker.problems.append(Problem(path, exc.line, exc.message, column=exc.column))
            continue
        for line, key in dups:
            checker.add(path, line, f"duplicate key {key!r}")
        if f.name == TOPICS_FILE:
            new_topics, new_paths = checker.topics_file(data, path)
            for t in new_topics:
                if t.id in topics:
                    checker.add(path, 0, f"topic {t.id!r} is defined twice (also in {topics[t.id].source})")
                else:
                    topics[t.id] = t
            for sp in new_paths:
                study_paths.setdefault(sp.role, sp)
            continue
        if data is None:
            checker.add(path, 1, "empty file: expected 'topic' and 'cards'")
            continue
        if not isinstance(data, Located):
            checker.add(path, 1, "a topic file must be a mapping with 'topic' and 'cards'")
            continue
        checker.keys(data, ("topic", "cards"), (path, None), "topic file")
        topic_id = checker.text(data, "topic", (path, None))
        if topic_id is not None:
            file_topics.append((topic_id, path, data.line_of("topic"), report))
        cards = data.get("cards")
        if "cards" not in data:
            checker.add(path, data.line, "missing required key 'cards'")
            cards = []
        elif not isinstance(cards, list):
            checker.add(path, data.line_of("cards"), "'cards' must be a list")
            cards = []
        for i, raw in enumerate(cards):
            card = checker.card(raw, topic_id or "?", path, i)
            if isinstance(raw, Located) and isinstance(raw.get("id"), str):
                card_sites.append((raw["id"], path, raw.line_of("id"), report, raw))
            if card is not None:
                card_entries.append((card, report))

    checker.problems = reported

    # Demos: bundled, plus a demos/ folder in any bank folder.
    demo_dirs = [f / "demos" for f in [*folders, *reference_folders] if (f / "demos").is_dir()]
    demo_dirs += [f.parent / "demos" for f in files if (f.parent / "demos").is_dir()]
    demo_ids = frozenset(discover(demo_dirs))

    # Cross-file checks.
    for topic_id, path, line, report in file_topics:
        if report and topic_id not in topics:
            checker.add(path, line, f"unknown topic {topic_id!r}{_suggest(topic_id, topics)}: add it to a topics.yaml")
    for t in topics.values():
        for p in t.prerequisites:
            if p not in topics:
                checker.add(t.source, 0, f"topic {t.id!r}: prerequisite {p!r} is not a topic")
    cycle = _find_cycle({t.id: t.prerequisites for t in topics.values()})
    if cycle:
        first = topics[cycle[0]]
        checker.add(first.source, 0, f"prerequisite cycle: {' -> '.join(cycle)}")
    for sp in study_paths.values():
        for st in sp.stages:
            for tid in st.topics:
                if tid not in topics:
                    checker.add(
                        next(iter(topics.values())).source if topics else "topics.yaml",
                        0,
                        f"path {sp.role!r}: stage {st.label!r} names unknown topic {tid!r}",
                    )

    first_site: dict[str, tuple[str, int]] = {}
    for cid, path, line, report, _raw in card_sites:
        if cid in first_site:
            fpath, fline = first_site[cid]
            if report:
                checker.add(path, line, f"duplicate id (first defined at {fpath}:{fline})", cid)
        else:
            first_site[cid] = (path, line)
    all_ids = set(first_site)
    for cid, path, _line, report, raw in card_sites:
        if not report:
            continue
        see_also = raw.get("see_also")
        if isinstance(see_also, list):
            for ref in see_also:
                if isinstance(ref, str) and ref not in all_ids:
                    checker.add(
                        path, raw.line_of("see_also"), f"see_also {ref!r} is not a card id{_suggest(ref, all_ids)}", cid
                    )
        demo = raw.get("show_me")
        if isinstance(demo, str) and demo.strip() and demo not in demo_ids:
            checker.add(
                path, raw.line_of("show_me"), f"show_me {demo!r} is not a demo id{_suggest(demo, demo_ids)}", cid
            )

    unique: dict[str, Card] = {}
    for card, _report in card_entries:
        unique.setdefault(card.id, card)
    bank = Bank(
        topics=topics,
        cards=list(unique.values()),
        paths=study_paths,
        demo_ids=demo_ids,
        files=[str(f) for f, _ in wanted],
    )
    return bank, checker.problems


def load_bank(extra_folders: Iterable[Path] = ()) -> Bank:
    """The bundled bank merged with the user's extra folders; raises
    :class:`BankError` if anything in them is invalid."""
    from dlprep.paths import bundled_bank_dir

    bank, problems = check_bank(folders=[bundled_bank_dir(), *extra_folders])
    if problems:
        raise BankError(problems)
    return bank
