"""Progress files: the review log, assessments and plan as JSON lines, to move
or merge history between machines. The format is documented in
``docs/progress-format.md``.

Export writes one consistent snapshot. Import reads and checks the whole
file first (every line, every field, every card id), reports problems with
their line numbers, and writes nothing unless all of it is valid; then it
adds, in one transaction, only what the database does not have yet, and
recomputes the derived state with ``Store.rebuild()``.

Identity, which makes merging idempotent and symmetric:
- a review is (card id, its instant in UTC at the store's microsecond
  precision, grade): the same review exported from two machines, or a file
  imported twice, is added once;
- an assessment rating is (instant in UTC, topic, kind);
- the plan is one value: imported only when this database has none.
Sessions are not carried: imported reviews have no session (``session_id``
is NULL), since session ids are local numbers that would collide.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from dlprep import __version__
from dlprep.core.migrations import SCHEMA_VERSION
from dlprep.core.store import MODES, Store, _error, _utc
from dlprep.errors import DlprepError
from dlprep.features.plan import PLAN_KEY

FORMAT = "dlprep-progress"
VERSION = 1
ASSESSMENT_KINDS = ("self", "diagnostic")
FOLLOW_UPS = ("got", "missed")

# Review fields in the file: name -> required?
REVIEW_FIELDS: dict[str, bool] = {
    "card_id": True,
    "at": True,
    "grade": True,
    "mode": True,
    "counts": True,
    "rollover_hour": True,
    "points_hit": False,
    "coverage": False,
    "follow_up": False,
    "follow_up_index": False,
    "answer_text": False,
    "seconds": False,
    "due_cap": False,
    "card_hash": False,
}
ASSESSMENT_FIELDS = {"taken_at": True, "topic": True, "rating": True, "kind": True}
PLAN_FIELDS = {"role": True, "start": True, "interview": False}
FIELDS_BY_TYPE = {"review": REVIEW_FIELDS, "assessment": ASSESSMENT_FIELDS, "plan": PLAN_FIELDS}
# Column order for writing reviews; session_id is always NULL on import.
REVIEW_COLUMNS = (
    "card_id",
    "at",
    "at_utc",
    "grade",
    "mode",
    "counts",
    "points_hit",
    "coverage",
    "follow_up",
    "follow_up_index",
    "answer_text",
    "seconds",
    "rollover_hour",
    "due_cap",
    "card_hash",
)

Tick = Callable[[int], None]


def _no_tick(_: int) -> None:
    pass


# ---------------------------------------------------------------- export


def export_progress(store: Store, out: IO[str], now: datetime, tick: Tick = _no_tick) -> dict[str, int]:
    """Write the header and every review, assessment and the plan to ``out``.
    Reads one snapshot (a read transaction), so the counts in the header are
    those of the lines that follow. Returns the counts."""
    conn = store.conn
    try:
        conn.execute("BEGIN")
        try:
            counts = {
                "review": conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0],
                "assessment": conn.execute("SELECT COUNT(*) FROM assessments").fetchone()[0],
            }
            plan_row = conn.execute("SELECT value FROM settings WHERE key = ?", (PLAN_KEY,)).fetchone()
            counts["plan"] = 1 if plan_row else 0
            header = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": now.isoformat(),
                "dlprep": __version__,
                "schema": SCHEMA_VERSION,
                "counts": counts,
            }
            out.write(_line(header))
            cur = conn.execute(
                "SELECT card_id, at, grade, mode, counts, rollover_hour, points_hit, coverage, follow_up,"
                " follow_up_index, answer_text, seconds, due_cap, card_hash FROM reviews ORDER BY at_utc, id"
            )
            while rows := cur.fetchmany(2000):
                for r in rows:
                    out.write(_line(_review_line(r)))
                tick(len(rows))
            for taken_at, topic, rating, kind in conn.execute(
                "SELECT taken_at, topic, rating, kind FROM assessments ORDER BY taken_at, id"
            ):
                out.write(
                    _line({"type": "assessment", "taken_at": taken_at, "topic": topic, "rating": rating, "kind": kind})
                )
            tick(counts["assessment"])
            if plan_row:
                out.write(_line({"type": "plan", **json.loads(plan_row[0])}))
        finally:
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise _error(store.path, exc) from None
    return counts


def export_total(store: Store) -> int:
    """How many ticks :func:`export_progress` makes (for a progress bar)."""
    return int(
        store.conn.execute("SELECT (SELECT COUNT(*) FROM reviews) + (SELECT COUNT(*) FROM assessments)").fetchone()[0]
    )


def _review_line(r: tuple) -> dict[str, Any]:
    (card_id, at, grade, mode, counts, rollover, points, coverage, follow_up, fu_index, text, seconds, cap, h) = r
    return {
        "type": "review",
        "card_id": card_id,
        "at": at,
        "grade": grade,
        "mode": mode,
        "counts": bool(counts),
        "rollover_hour": rollover,
        "points_hit": json.loads(points) if points is not None else None,
        "coverage": coverage,
        "follow_up": follow_up,
        "follow_up_index": fu_index,
        "answer_text": text,
        "seconds": seconds,
        "due_cap": cap,
        "card_hash": h,
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one encoder for every line: building one per line is slow


def _line(obj: dict[str, Any]) -> str:
    return _ENCODER.encode(obj) + "\n"


# ---------------------------------------------------------------- reading and checking


class ProgressFileError(DlprepError):
    """Problems in a progress file, each ``FILE:LINE: message``; the message
    is the first, with how many more there are."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = (
            f" (and {len(problems) - 1} more; nothing was imported)" if len(problems) > 1 else " (nothing was imported)"
        )
        super().__init__(problems[0] + more)


class _Bad(Exception):
    pass


@dataclass
class Parsed:
    reviews: list[tuple] = field(default_factory=list)  # rows in REVIEW_COLUMNS order
    review_lines: list[int] = field(default_factory=list)
    assessments: list[tuple[str, str, int, str]] = field(default_factory=list)  # taken_at, topic, rating, kind
    plan: dict[str, Any] | None = None
    unknown_cards: dict[str, int] = field(default_factory=dict)  # card id -> first line


def _instant(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise _Bad(f"{name} must be an ISO 8601 date-time string, got {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{name} {value!r} is not an ISO 8601 date-time") from None
    if at.tzinfo is None:
        raise _Bad(f"{name} {value!r} has no UTC offset (write e.g. {value}+00:00)")
    return at


def _day(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{name} must be a date string YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _Bad(f"{name} {value!r} is not a date YYYY-MM-DD") from None


def _whole(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise _Bad(f"{name} must be a whole number {span}, got {value!r}")
    return value


def _number(value: Any, name: str, low: float, high: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(f"{name} must be a number or null, got {value!r}")
    if value < low or (high is not None and value > high):
        span = f"from {low:g} to {high:g}" if high is not None else f"of at least {low:g}"
        raise _Bad(f"{name} must be {span}, got {value!r}")
    return float(value)


def _text(value: Any, name: str, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value):
        raise _Bad(f"{name} must be {'a string or null' if optional else 'a non-empty string'}, got {value!r}")
    return value


_ALLOWED = {kind: frozenset(fields) | {"type"} for kind, fields in FIELDS_BY_TYPE.items()}
_REQUIRED = {kind: tuple(k for k, required in fields.items() if required) for kind, fields in FIELDS_BY_TYPE.items()}


def _check_fields(obj: dict[str, Any], kind: str) -> None:
    if not obj.keys() <= _ALLOWED[kind]:
        unknown = sorted(set(obj) - _ALLOWED[kind])
        raise _Bad(f"{kind}: unknown field {unknown[0]!r} (known: {', '.join(FIELDS_BY_TYPE[kind])})")
    for k in _REQUIRED[kind]:
        if k not in obj:
            raise _Bad(f"{kind}: missing field {k!r}")


def _review_row(obj: dict[str, Any]) -> tuple:
    card_id = _text(obj["card_id"], "card_id", optional=False)
    at = _instant(obj["at"], "at")
    grade = _whole(obj["grade"], "grade", 0, 5)
    mode = obj["mode"]
    if mode not in MODES:
        raise _Bad(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not isinstance(obj["counts"], bool):
        raise _Bad(f"counts must be true or false, got {obj['counts']!r}")
    rollover = _whole(obj["rollover_hour"], "rollover_hour", 0, 23)
    points = obj.get("points_hit")
    if points is not None:
        if not isinstance(points, list):
            raise _Bad(f"points_hit must be a list of rubric point indices or null, got {points!r}")
        for p in points:
            _whole(p, "each of points_hit", 0)
    follow_up = obj.get("follow_up")
    if follow_up not in (None, *FOLLOW_UPS):
        raise _Bad(f"follow_up must be got, missed or null, got {follow_up!r}")
    fu_index = obj.get("follow_up_index")
    if fu_index is not None:
        _whole(fu_index, "follow_up_index", 0)
    cap = obj.get("due_cap")
    return (
        card_id,
        at.isoformat(),
        _utc(at),
        grade,
        mode,
        int(obj["counts"]),
        json.dumps(points) if points is not None else None,
        _number(coverage, "coverage", 0.0, 1.0) if (coverage := obj.get("coverage")) is not None else None,
        follow_up,
        fu_index,
        _text(text, "answer_text") if (text := obj.get("answer_text")) is not None else None,
        _number(seconds, "seconds", 0.0) if (seconds := obj.get("seconds")) is not None else None,
        rollover,
        _day(cap, "due_cap") if cap is not None else None,
        _text(h, "card_hash") if (h := obj.get("card_hash")) is not None else None,
    )


def _assessment_row(obj: dict[str, Any]) -> tuple[str, str, int, str]:
    at = _instant(obj["taken_at"], "taken_at")
    topic = _text(obj["topic"], "topic", optional=False)
    rating = _whole(obj["rating"], "rating", 0, 5)
    if obj["kind"] not in ASSESSMENT_KINDS:
        raise _Bad(f"kind must be one of {', '.join(ASSESSMENT_KINDS)}, got {obj['kind']!r}")
    return at.isoformat(), topic, rating, obj["kind"]


def _plan(obj: dict[str, Any], roles: Iterable[str]) -> dict[str, Any]:
    roles = tuple(roles)
    if obj["role"] not in roles:
        raise _Bad(f"plan role must be one of {', '.join(roles)}, got {obj['role']!r}")
    interview = obj.get("interview")
    return {
        "role": obj["role"],
        "start": _day(obj["start"], "start"),
        "interview": _day(interview, "interview") if interview is not None else None,
    }


def _header(obj: Any) -> dict[str, int] | None:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise _Bad(f'not a dlprep progress file (the first line must be the header {{"format": "{FORMAT}", ...}})')
    version = obj.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Bad(f"header: version must be a whole number from 1, got {version!r}")
    if version > VERSION:
        raise _Bad(f"format version {version} is newer than this dlprep reads ({VERSION}); upgrade dlprep")
    counts = obj.get("counts")
    if counts is None:
        return None
    if not isinstance(counts, dict) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in counts.values()
    ):
        raise _Bad(f"header: counts must map line types to whole numbers, got {counts!r}")
    return counts


def read_progress(
    path: Path,
    known_cards: set[str] | frozenset[str] | Iterable[str],
    roles: Iterable[str],
    keep_unknown: bool = False,
    tick: Tick = _no_tick,
) -> Parsed:
    """Read and check every line of a progress file; raises ProgressFileError
    listing every problem (with line numbers) if any line is bad."""
    known = set(known_cards)
    roles = tuple(roles)
    parsed = Parsed()
    problems: list[str] = []
    announced: dict[str, int] | None = None
    seen = {"review": 0, "assessment": 0, "plan": 0}
    number = 0
    try:
        f = Path(path).open("rb")  # noqa: SIM115 (closed by the `with f` below)
    except OSError as exc:
        raise DlprepError(f"{path}: cannot read ({exc.strerror})") from None
    with f:
        pending = 0  # bytes read since the last tick (ticking every line would cost more than the bar is worth)
        for number, raw in enumerate(f, start=1):
            pending += len(raw)
            if pending >= 1 << 16:
                tick(pending)
                pending = 0
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path}:{number}: not UTF-8 text")
                if number == 1:
                    break
                continue
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:
                if number == 1:
                    problems.append(f"{path}:1: not a dlprep progress file (the first line is not JSON)")
                    break
                problems.append(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            try:
                if number == 1:
                    announced = _header(obj)
                    continue
                if not isinstance(obj, dict):
                    raise _Bad(f"each line must be a JSON object, got {type(obj).__name__}")
                kind = obj.get("type")
                if kind not in FIELDS_BY_TYPE:
                    raise _Bad(f"type must be one of {', '.join(FIELDS_BY_TYPE)}, got {kind!r}")
                _check_fields(obj, kind)
                seen[kind] += 1
                if kind == "review":
                    row = _review_row(obj)
                    if row[0] not in known:
                        if not keep_unknown:
                            raise _Bad(
                                f"unknown card id {row[0]!r}: not in the bundled bank or your banks (add its folder "
                                "with --bank DIR or `banks:` in config.yaml, or pass --keep-unknown)"
                            )
                        parsed.unknown_cards.setdefault(row[0], number)
                    parsed.reviews.append(row)
                    parsed.review_lines.append(number)
                elif kind == "assessment":
                    parsed.assessments.append(_assessment_row(obj))
                else:
                    if parsed.plan is not None:
                        raise _Bad("a second plan line (a file holds at most one plan)")
                    parsed.plan = _plan(obj, roles)
            except _Bad as exc:
                problems.append(f"{path}:{number}: {exc}")
                if number == 1:
                    break
    tick(pending)
    if number == 0:
        problems.append(f"{path}: empty file, not a dlprep progress file")
    if announced is not None and not problems:
        for kind, n in seen.items():
            if kind in announced and announced[kind] != n:
                problems.append(
                    f"{path}:{number}: the header announces {announced[kind]} {kind} line(s) but the file has {n} "
                    "(cut short, or edited?)"
                )
    if problems:
        raise ProgressFileError(problems)
    return parsed


# ---------------------------------------------------------------- merging


@dataclass
class ImportResult:
    reviews_added: int = 0
    reviews_present: int = 0
    assessments_added: int = 0
    assessments_present: int = 0
    plan: str = "none"  # none, imported, same, kept
    unknown_cards: list[str] = field(default_factory=list)
    cards_rebuilt: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reviews_added": self.reviews_added,
            "reviews_already_present": self.reviews_present,
            "assessments_added": self.assessments_added,
            "assessments_already_present": self.assessments_present,
            "plan": self.plan,
            "unknown_cards_kept": self.unknown_cards,
            "card_states_rebuilt": self.cards_rebuilt,
        }


def _utc_key(text: str) -> str:
    return _utc(datetime.fromisoformat(text))


def merge_progress(store: Store, parsed: Parsed) -> ImportResult:
    """Add what ``store`` lacks from ``parsed``, in one transaction, then (if
    any review was added) rebuild the derived state with ``Store.rebuild()``.
    Idempotent: importing the same data again adds nothing."""
    result = ImportResult(unknown_cards=sorted(parsed.unknown_cards))
    if store.read_only:
        raise DlprepError(f"{store.path}: the data folder is read-only, so nothing can be imported")
    conn = store.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _error(store.path, exc) from None
    try:
        have = set(conn.execute("SELECT card_id, at_utc, grade FROM reviews"))
        new_reviews = []
        for row in parsed.reviews:
            key = (row[0], row[2], row[3])
            if key in have:
                result.reviews_present += 1
                continue
            have.add(key)
            new_reviews.append(row)
        conn.executemany(
            f"INSERT INTO reviews ({', '.join(REVIEW_COLUMNS)}, session_id)"
            f" VALUES ({', '.join('?' * len(REVIEW_COLUMNS))}, NULL)",
            new_reviews,
        )
        result.reviews_added = len(new_reviews)
        rated = {
            (_utc_key(t), topic, kind)
            for t, topic, kind in conn.execute("SELECT taken_at, topic, kind FROM assessments")
        }
        new_ratings = []
        for taken_at, topic, rating, kind in parsed.assessments:
            key = (_utc_key(taken_at), topic, kind)
            if key in rated:
                result.assessments_present += 1
                continue
            rated.add(key)
            new_ratings.append((taken_at, topic, rating, kind))
        conn.executemany("INSERT INTO assessments (taken_at, topic, rating, kind) VALUES (?, ?, ?, ?)", new_ratings)
        result.assessments_added = len(new_ratings)
        if parsed.plan is not None:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (PLAN_KEY,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (PLAN_KEY, json.dumps(parsed.plan)))
                result.plan = "imported"
            else:
                result.plan = "same" if json.loads(row[0]) == parsed.plan else "kept"
        conn.execute("COMMIT")
    except BaseException as exc:
        conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.DatabaseError):
            raise _error(store.path, exc) from None
        raise
    if result.reviews_added:  # the log changed: recompute every derived table from it
        result.cards_rebuilt = len(store.rebuild())
    return result


def import_progress(
    store: Store,
    path: Path,
    known_cards: Iterable[str],
    roles: Iterable[str],
    keep_unknown: bool = False,
    tick: Tick = _no_tick,
) -> ImportResult:
    """Check the whole file, then merge it (see the module docstring)."""
    parsed = read_progress(path, known_cards, roles, keep_unknown, tick)
    return merge_progress(store, parsed)
