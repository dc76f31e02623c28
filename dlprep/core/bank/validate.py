"""Validation rules: parsed YAML in, typed objects and problems out.

:class:`Checker` turns one file's parsed YAML (``Located`` mappings that know
their lines) into cards, topics, study paths and registry entries, recording
every problem with its ``path:line`` instead of stopping at the first. Rules
that need the whole bank (ids unique, references resolve...) are in ``load.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import MISSING, fields
from functools import cache
from pathlib import Path
from typing import Any

from dlprep.core.bank.model import (
    ANSWER_WORDS,
    CARD_OPTIONAL,
    CARD_REQUIRED,
    CHEATSHEET_KEYS,
    DIFFICULTIES,
    ID_RE,
    KEY_RE,
    KINDS,
    PATH_KEYS,
    PATTERNS,
    REFERENCE_TYPES,
    ROLES,
    RUBRIC_MAX,
    RUBRIC_MIN,
    STAGE_KEYS,
    STRICT_REQUIRED,
    TIME_MAX,
    TIME_MIN,
    TOPIC_KEYS,
    Card,
    Cheatsheet,
    Citation,
    FollowUp,
    Problem,
    Reference,
    RubricPoint,
    Stage,
    StudyPath,
    Topic,
    _trusted,
    suggest,
)
from dlprep.core.yamlfile import IMPLICIT_FIRST, key_line, may_differ, node_line


@cache
def _key_set(allowed: tuple[str, ...]) -> frozenset[str]:
    return frozenset(allowed)


ARXIV_RE = re.compile(r"^\d{4}\.\d{4,5}$|^[a-z-]+(\.[A-Z]{2})?/\d{7}$")
CARD_KEYS = CARD_REQUIRED + CARD_OPTIONAL
# A card's defaults, for building it from validated values without the frozen __init__
CARD_DEFAULTS = {f.name: f.default for f in fields(Card) if f.default is not MISSING}
REFERENCE_KEYS = ("type", "title", "authors", "year", "venue", "arxiv", "url")
CITATION_KEYS = ("key", "at")


def unique_files(entries: Iterable[tuple[Path, bool]]) -> list[tuple[Path, bool]]:
    """(file, flag) pairs in order, each file once (by resolved path: the first listing wins)."""
    seen: set[Path] = set()
    out = []
    for f, flag in entries:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            out.append((f, flag))
    return out


class Checker:
    """Collects problems while turning parsed YAML into typed objects."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.problems: list[Problem] = []
        self.report = True  # are problems in the current file reported? (False for reference-only folders)
        # every citation read, even from cards that fail validation: (citation, path, line, card id, report)
        self.cited: list[tuple[Citation, str, int, str | None, bool]] = []
        # accepted strings that PyYAML might read as no string if written plain
        # (``yes``, ``1:30``), by file: a fast-parsed file must show them quoted
        self.ambiguous: dict[str, set[str]] = {}

    def accept(self, value: str, path: str) -> str:
        """A string the bank keeps (see ``ambiguous``)."""
        if may_differ(value):
            self.ambiguous.setdefault(path, set()).add(value)
        return value

    def add(self, path: str, line: int, message: str, card_id: str | None = None) -> None:
        self.problems.append(Problem(path, line, message, card_id))

    # -- small typed readers; each returns None (and records a problem) on failure

    def text(self, m: dict, key: str, where: tuple[str, str | None], required: bool = True) -> str | None:
        path, cid = where
        if key not in m:
            if required:
                self.add(path, node_line(m), f"missing required key {key!r}", cid)
            return None
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.add(path, key_line(m, key), f"{key!r} must be a non-empty string", cid)
            return None
        if value[:1] in IMPLICIT_FIRST:  # most text cannot match a YAML 1.1 resolver: skip the call
            self.accept(value, path)
        return value

    def choice(self, m: dict, key: str, options: tuple[str, ...], where: tuple[str, str | None]) -> str | None:
        path, cid = where
        value = m.get(key)
        if value not in options:
            self.add(path, key_line(m, key), f"{key!r} must be one of {', '.join(options)}, got {value!r}", cid)
            return None
        return value

    def str_list(self, m: dict, key: str, where: tuple[str, str | None]) -> tuple[str, ...] | None:
        path, cid = where
        value = m.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(path, key_line(m, key), f"{key!r} must be a list of non-empty strings", cid)
            return None
        for v in value:
            if v[:1] in IMPLICIT_FIRST:
                self.accept(v, path)
        return tuple(value)

    def integer(self, m: dict, key: str, lo: int, hi: int | None, where: tuple[str, str | None]) -> int | None:
        path, cid = where
        value = m.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= lo and (hi is None or value <= hi)
        if not ok:
            span = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
            self.add(path, key_line(m, key), f"{key!r} must be an integer {span}, got {value!r}", cid)
            return None
        return value

    def keys(self, m: dict, allowed: Iterable[str], where: tuple[str, str | None], what: str) -> None:
        allowed = tuple(allowed)
        if m.keys() <= _key_set(allowed):
            return
        path, cid = where
        for key in m:
            if key not in allowed:
                self.add(path, key_line(m, key), f"unknown key {key!r} in {what}{suggest(str(key), allowed)}", cid)

    # -- cards

    def card(self, raw: Any, topic: str, path: str, index: int, line: int = 0) -> Card | None:
        if not isinstance(raw, dict):
            got = "a plain string" if isinstance(raw, str) else type(raw).__name__
            self.add(path, line, f"card #{index + 1} must be a mapping with id, question, answer and rubric, got {got}")
            return None
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        where = (path, cid or f"card #{index + 1}")
        before = len(self.problems)
        self.keys(raw, CARD_KEYS, where, "card")

        card_id = self.text(raw, "id", where)
        if card_id is not None and not ID_RE.match(card_id):
            self.add(path, key_line(raw, "id"), f"id {card_id!r} must be kebab-case (a-z, 0-9, single hyphens)", cid)
        question = self.text(raw, "question", where)
        answer = self.text(raw, "answer", where)
        rubric = self.rubric(raw, where)

        follow_ups: tuple[FollowUp, ...] = ()
        if "follow_ups" in raw:
            follow_ups = self.follow_ups(raw, where) or ()
        values: dict[str, Any] = {}
        for key in ("red_flags", "see_also"):
            if key in raw:
                values[key] = self.str_list(raw, key, where) or ()
        if "references" in raw:
            values["references"] = self.citations(raw, where)
            for c in values["references"] or ():
                self.cited.append((c, path, node_line(raw), cid, self.report))
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
                        key_line(raw, "roles"),
                        f"'roles' must be a non-empty subset of {', '.join(ROLES)}, got {list(roles)!r}",
                        cid,
                    )
                elif len(set(roles)) != len(roles):
                    self.add(path, key_line(raw, "roles"), "'roles' lists a role twice", cid)
                values["roles"] = roles

        if self.strict:
            for key in STRICT_REQUIRED:
                if key not in raw:
                    self.add(path, node_line(raw), f"missing key {key!r} (required by --strict)", cid)
            if answer is not None:
                words = len(answer.split())
                lo, hi = ANSWER_WORDS
                if not lo <= words <= hi:
                    self.add(path, key_line(raw, "answer"), f"answer has {words} words; --strict wants {lo}-{hi}", cid)
            for key, what in (("follow_ups", "follow-up"), ("red_flags", "red flag"), ("references", "reference")):
                if not raw.get(key):
                    self.add(path, node_line(raw), f"needs at least one {what} (required by --strict)", cid)

        if len(self.problems) > before or None in (card_id, question, answer, rubric):
            return None
        return _trusted(
            Card,
            {
                **CARD_DEFAULTS,
                "id": card_id,
                "topic": topic,
                "question": question,
                "answer": answer,
                "rubric": rubric,
                "follow_ups": follow_ups,
                "source": path,
                "line": node_line(raw),
                **{k: v for k, v in values.items() if v is not None},
            },
        )

    def rubric(self, raw: dict, where: tuple[str, str | None]) -> tuple[RubricPoint, ...] | None:
        path, cid = where
        if "rubric" not in raw:
            self.add(path, node_line(raw), "missing required key 'rubric'", cid)
            return None
        items = raw["rubric"]
        if not isinstance(items, list) or not RUBRIC_MIN <= len(items) <= RUBRIC_MAX:
            got = len(items) if isinstance(items, list) else type(items).__name__
            self.add(
                path,
                key_line(raw, "rubric"),
                f"'rubric' must be a list of {RUBRIC_MIN}-{RUBRIC_MAX} points, got {got}",
                cid,
            )
            return None
        points = []
        for i, item in enumerate(items):
            label = f"rubric[{i + 1}]"
            if not isinstance(item, dict):
                self.add(path, key_line(raw, "rubric"), f"{label} must be a mapping with 'point' and 'weight'", cid)
                continue
            self.keys(item, ("point", "weight"), where, label)
            point = self.text(item, "point", where)
            if "weight" not in item:
                self.add(path, node_line(item), f"{label}: missing required key 'weight'", cid)
                continue
            weight = self.integer(item, "weight", 1, None, where)
            if point is not None and weight is not None:
                points.append(RubricPoint(point, weight))
        return tuple(points) if len(points) == len(items) else None

    def follow_ups(self, raw: dict, where: tuple[str, str | None]) -> tuple[FollowUp, ...] | None:
        path, cid = where
        items = raw["follow_ups"]
        if not isinstance(items, list):
            self.add(path, key_line(raw, "follow_ups"), "'follow_ups' must be a list of question/answer pairs", cid)
            return None
        result = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.add(
                    path,
                    key_line(raw, "follow_ups"),
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

    def citations(self, raw: dict, where: tuple[str, str | None]) -> tuple[Citation, ...] | None:
        """``references``: registry keys, each a string or ``{key, at}``.

        Free text (a string that is not key-shaped) is accepted outside
        --strict, for banks without a registry; whether keys resolve is checked
        in ``load.py`` once every registry is read."""
        path, cid = where
        items = raw["references"]
        if not isinstance(items, list):
            self.add(path, key_line(raw, "references"), "'references' must be a list of registry keys", cid)
            return None
        result = []
        for i, item in enumerate(items):
            label = f"references[{i + 1}]"
            if isinstance(item, str) and item.strip():
                if self.strict and not KEY_RE.match(item):
                    self.add(
                        path,
                        key_line(raw, "references"),
                        f"{label} must be a registry key (--strict), got {item!r}",
                        cid,
                    )
                    continue
                result.append(Citation(self.accept(item, path).strip()))
            elif isinstance(item, dict):
                self.keys(item, CITATION_KEYS, where, label)
                key = self.text(item, "key", where)
                at = self.text(item, "at", where) if "at" in item else ""
                if key is not None and not KEY_RE.match(key):
                    self.add(path, key_line(item, "key"), f"{label}: {key!r} is not a registry key", cid)
                    continue
                if key is not None and at is not None:
                    result.append(Citation(key, at))
            else:
                self.add(
                    path, key_line(raw, "references"), f"{label} must be a key or a mapping with 'key' and 'at'", cid
                )
        return tuple(result)

    # -- references.yaml

    def registry(self, data: Any, path: str) -> list[tuple[Reference, int]]:
        """Entries of a reference registry, each with its line."""
        if not isinstance(data, dict) or not isinstance(data.get("references"), dict):
            self.add(
                path, getattr(data, "line", 1), "a reference registry must be a mapping 'references: {key: entry}'"
            )
            return []
        self.keys(data, ("references",), (path, None), "reference registry")
        entries = []
        refs = data["references"]
        for key, raw in refs.items():
            line = key_line(refs, key)
            where = (path, None)
            if not isinstance(key, str) or not KEY_RE.match(key):
                self.add(path, line, f"reference key {key!r} must be lowercase a-z, 0-9 and hyphens")
                continue
            self.accept(key, path)
            if not isinstance(raw, dict):
                self.add(path, line, f"reference {key!r} must be a mapping")
                continue
            before = len(self.problems)
            self.keys(raw, REFERENCE_KEYS, where, f"reference {key!r}")
            kind = raw.get("type", "paper")
            if kind not in REFERENCE_TYPES:
                self.add(
                    path,
                    key_line(raw, "type"),
                    f"reference {key!r}: 'type' must be one of {', '.join(REFERENCE_TYPES)}",
                )
            title = self.text(raw, "title", where)
            venue = self.text(raw, "venue", where)
            authors = (
                self.text(raw, "authors", where, required=kind != "docs") if "authors" in raw or kind != "docs" else ""
            )
            year = None
            if "year" in raw:
                year = self.integer(raw, "year", 1600, 2100, where)
            elif kind != "docs":
                self.add(path, node_line(raw), f"reference {key!r}: missing required key 'year'")
            arxiv = self.text(raw, "arxiv", where) if "arxiv" in raw else ""
            url = ""
            if "url" in raw or kind == "docs":
                url = self.text(raw, "url", where)
            if arxiv and not ARXIV_RE.match(arxiv):
                self.add(path, key_line(raw, "arxiv"), f"reference {key!r}: arXiv id {arxiv!r} is not like 1706.03762")
            if url and not url.startswith(("https://", "http://")):
                self.add(path, key_line(raw, "url"), f"reference {key!r}: url must start with https://")
            if len(self.problems) > before:
                continue
            ref = Reference(key, title or "", venue or "", kind, authors or "", year, arxiv or "", url or "")
            entries.append((ref, line))
        return entries

    # -- topics.yaml

    def topics_file(self, data: Any, path: str) -> tuple[list[Topic], list[StudyPath]]:
        if not isinstance(data, dict):
            self.add(path, 1, "topics file must be a mapping with 'topics' (and optionally 'paths')")
            return [], []
        self.keys(data, ("topics", "paths"), (path, None), "topics file")
        topics: list[Topic] = []
        raw_topics = data.get("topics", [])
        if not isinstance(raw_topics, list):
            self.add(path, key_line(data, "topics"), "'topics' must be a list")
            raw_topics = []
        for raw in raw_topics:
            topic = self.topic(raw, path, key_line(data, "topics"))
            if topic:
                topics.append(topic)
        study_paths: list[StudyPath] = []
        raw_paths = data.get("paths", [])
        if not isinstance(raw_paths, list):
            self.add(path, key_line(data, "paths"), "'paths' must be a list")
            raw_paths = []
        for raw in raw_paths:
            sp = self.study_path(raw, path, key_line(data, "paths"))
            if sp:
                study_paths.append(sp)
        return topics, study_paths

    def topic(self, raw: Any, path: str, line: int) -> Topic | None:
        if not isinstance(raw, dict):
            self.add(path, line, "each topic must be a mapping")
            return None
        before = len(self.problems)
        where = (path, None)
        self.keys(raw, TOPIC_KEYS, where, "topic")
        tid = self.text(raw, "id", where)
        if tid is not None and not ID_RE.match(tid):
            self.add(path, key_line(raw, "id"), f"topic id {tid!r} must be kebab-case")
        title = self.text(raw, "title", where)
        summary = self.text(raw, "summary", where)
        order = self.integer(raw, "order", 1, None, where) if "order" in raw else None
        if "order" not in raw:
            self.add(path, node_line(raw), "missing required key 'order'")
        prereqs = self.str_list(raw, "prerequisites", where) if "prerequisites" in raw else ()
        sheet = (
            self.cheatsheet(raw["cheatsheet"], path, key_line(raw, "cheatsheet"))
            if "cheatsheet" in raw
            else Cheatsheet()
        )
        if len(self.problems) > before:
            return None
        return Topic(tid, title, order, summary, prereqs or (), sheet or Cheatsheet(), path)

    def cheatsheet(self, raw: Any, path: str, line: int) -> Cheatsheet | None:
        where = (path, None)
        if not isinstance(raw, dict):
            self.add(path, line, "'cheatsheet' must be a mapping")
            return None
        self.keys(raw, CHEATSHEET_KEYS, where, "cheatsheet")
        formulas = []
        for item in raw.get("formulas", []) or []:
            if not isinstance(item, dict) or set(item) != {"name", "formula"}:
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
            if not isinstance(table, dict) or set(table) != {"columns", "rows"}:
                self.add(path, key_line(raw, "table"), "cheatsheet 'table' needs exactly 'columns' and 'rows'")
            else:
                columns = self.str_list(table, "columns", where) or ()
                for row in table["rows"] if isinstance(table["rows"], list) else [None]:
                    if (
                        not isinstance(row, list)
                        or len(row) != len(columns)
                        or not all(isinstance(c, str) for c in row)
                    ):
                        self.add(
                            path, key_line(table, "rows"), f"each table row must be a list of {len(columns)} strings"
                        )
                        continue
                    rows.append(tuple([self.accept(c, path) for c in row]))
        return Cheatsheet(tuple(formulas), summaries or (), traps or (), columns, tuple(rows))

    def study_path(self, raw: Any, path: str, line: int) -> StudyPath | None:
        where = (path, None)
        if not isinstance(raw, dict):
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
            self.add(path, key_line(raw, "stages"), "'stages' must be a non-empty list")
            raw_stages = []
        for st in raw_stages:
            if not isinstance(st, dict):
                self.add(path, key_line(raw, "stages"), "each stage must be a mapping")
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
