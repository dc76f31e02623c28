"""Summaries of the review log, kept so that everyday screens never read the whole log.

Three derived tables (schema in migration m004):

- ``card_summary``: per card, counts, grade sums, its last three scheduling
  grades, first and last review, time spent, rubric-marked reviews;
- ``day_summary``: per study day, reviews, distinct cards, grades, retention
  counts, time spent;
- ``point_summary``: per card and rubric point, how often it was marked covered.

Each is defined once, below, as a SELECT over ``reviews``. Recording or
deleting a review refreshes the rows it touches in the same transaction
(:func:`refresh`); :func:`refresh_all` (``Store.rebuild`` and every migration)
recomputes them all. So they stay derivable from the log, and
``tests/test_summaries.py`` proves the incremental rows equal the rebuilt ones.

A study day is the review's local date (its logged UTC offset) rolled over at
the rollover hour recorded with the review: the day the review counted for
when it was made. ``DAY_SQL`` is that rule in SQL, and the expression of the
``idx_reviews_day`` index (the text must stay identical for the index to be used).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

DAY_SQL = "date(substr(at, 1, 19), '-' || rollover_hour || ' hours')"
# The same rule on the ``reviews r`` alias (SQLite still matches it to the index).
_R_DAY_SQL = "date(substr(r.at, 1, 19), '-' || r.rollover_hour || ' hours')"

# Milliseconds, so that sums are exact and do not depend on the order rows are added in.
_MS = "CAST(ROUND(seconds * 1000) AS INTEGER)"

CARD_COLUMNS = (
    "card_id, reviews, scheduling, grade_sum, passes, grade_1, grade_2, grade_3, first_grade, first_at, last_at,"
    " last_hash, first_day, last_day, seconds_ms, timed, timed_ms, pointed"
)
_CARD_SELECT = f"""
SELECT card_id,
    COUNT(*),
    SUM(counts),
    SUM(CASE WHEN counts = 1 THEN grade ELSE 0 END),
    SUM(counts = 1 AND grade >= 3),
    MAX(CASE WHEN newest_scheduling = 1 THEN grade END),
    MAX(CASE WHEN newest_scheduling = 2 THEN grade END),
    MAX(CASE WHEN newest_scheduling = 3 THEN grade END),
    MAX(CASE WHEN oldest_scheduling = 1 THEN grade END),
    MAX(CASE WHEN oldest = 1 THEN at END),
    MAX(CASE WHEN newest = 1 THEN at END),
    MAX(CASE WHEN newest = 1 THEN card_hash END),
    MAX(CASE WHEN oldest_scheduling = 1 THEN day END),
    MAX(CASE WHEN newest = 1 THEN day END),
    COALESCE(SUM({_MS}), 0),
    SUM(seconds IS NOT NULL AND mode != 'repeat'),
    COALESCE(SUM(CASE WHEN mode != 'repeat' THEN {_MS} END), 0),
    SUM(points_hit IS NOT NULL)
FROM (
    SELECT card_id, grade, counts, at, card_hash, seconds, mode, points_hit, {DAY_SQL} AS day,
        ROW_NUMBER() OVER (PARTITION BY card_id ORDER BY at_utc DESC, id DESC) AS newest,
        ROW_NUMBER() OVER (PARTITION BY card_id ORDER BY at_utc, id) AS oldest,
        CASE WHEN counts = 1 THEN ROW_NUMBER() OVER (PARTITION BY card_id, counts ORDER BY at_utc DESC, id DESC) END
            AS newest_scheduling,
        CASE WHEN counts = 1 THEN ROW_NUMBER() OVER (PARTITION BY card_id, counts ORDER BY at_utc, id) END
            AS oldest_scheduling
    FROM reviews {{where}}
)
GROUP BY card_id"""

DAY_COLUMNS = "day, reviews, cards, scheduling, grade_sum, passes, seen_before, recalled, seconds_ms"
# A scheduling review is "seen before" unless it is its card's first scheduling review.
_FIRST_SCHEDULING = (
    "(SELECT p.id FROM reviews p WHERE p.card_id = r.card_id AND p.counts = 1 ORDER BY p.at_utc, p.id LIMIT 1)"
)
_DAY_SELECT = f"""
SELECT day,
    COUNT(*),
    COUNT(DISTINCT card_id),
    SUM(counts),
    SUM(CASE WHEN counts = 1 THEN grade ELSE 0 END),
    SUM(counts = 1 AND grade >= 3),
    SUM(counts = 1 AND id != first_id),
    SUM(counts = 1 AND id != first_id AND grade >= 3),
    COALESCE(SUM({_MS}), 0)
FROM (
    SELECT r.id, r.card_id, r.grade, r.counts, r.seconds, {_R_DAY_SQL} AS day,
        CASE WHEN r.counts = 1 THEN {_FIRST_SCHEDULING} END AS first_id
    FROM reviews r {{where}}
)
GROUP BY day"""

POINT_COLUMNS = "card_id, point, hits"
_POINT_SELECT = """
SELECT r.card_id, CAST(j.value AS INTEGER), COUNT(DISTINCT r.id)
FROM reviews r, json_each(r.points_hit) j
WHERE r.points_hit IS NOT NULL {and_where}
GROUP BY r.card_id, CAST(j.value AS INTEGER)"""


def derived_cards(where: str = "") -> str:
    """The SELECT that derives ``card_summary`` rows (``where`` filters the log)."""
    return _CARD_SELECT.format(where=where)


def derived_days(where: str = "") -> str:
    return _DAY_SELECT.format(where=where)


def derived_points(and_where: str = "") -> str:
    return _POINT_SELECT.format(and_where=and_where)


def refresh(conn: sqlite3.Connection, card_ids: Iterable[str], days: Iterable[str]) -> None:
    """Recompute the summary rows of these cards and study days from the log.
    Runs inside the caller's transaction."""
    for card_id in set(card_ids):
        conn.execute("DELETE FROM card_summary WHERE card_id = ?", (card_id,))
        conn.execute(
            f"INSERT INTO card_summary ({CARD_COLUMNS}) {derived_cards('WHERE card_id = ?')}",
            (card_id,),
        )
        conn.execute("DELETE FROM point_summary WHERE card_id = ?", (card_id,))
        conn.execute(
            f"INSERT INTO point_summary ({POINT_COLUMNS}) {derived_points('AND r.card_id = ?')}",
            (card_id,),
        )
    day_filter = f"WHERE {_R_DAY_SQL} = ?"
    for day in set(days):
        conn.execute("DELETE FROM day_summary WHERE day = ?", (day,))
        conn.execute(f"INSERT INTO day_summary ({DAY_COLUMNS}) {derived_days(day_filter)}", (day,))


def refresh_all(conn: sqlite3.Connection) -> None:
    """Recompute every summary from the log. Runs inside the caller's transaction."""
    for table, columns, select in (
        ("card_summary", CARD_COLUMNS, derived_cards()),
        ("day_summary", DAY_COLUMNS, derived_days()),
        ("point_summary", POINT_COLUMNS, derived_points()),
    ):
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {table} ({columns}) {select}")


def differences(conn: sqlite3.Connection) -> list[str]:
    """Summary rows that differ from what the log derives (``db check``); [] when they agree."""
    problems = []
    for table, columns, select, key in (
        ("card_summary", CARD_COLUMNS, derived_cards(), "card"),
        ("day_summary", DAY_COLUMNS, derived_days(), "day"),
        ("point_summary", POINT_COLUMNS, derived_points(), "card"),
    ):
        stored = f"SELECT {columns} FROM {table}"
        rows = conn.execute(
            f"SELECT * FROM ({stored} EXCEPT {select}) UNION SELECT * FROM ({select} EXCEPT {stored})"
        ).fetchall()
        for first in sorted({str(r[0]) for r in rows}):
            problems.append(f"{table} for {key} {first} differs from the review log (run `dlprep db rebuild`)")
    return problems


@dataclass(frozen=True)
class CardSummary:
    """One ``card_summary`` row (see the column comments in migration m004)."""

    card_id: str
    reviews: int
    scheduling: int
    grade_sum: int
    passes: int
    grade_1: int | None
    grade_2: int | None
    grade_3: int | None
    first_grade: int | None
    first_at: str
    last_at: str
    last_hash: str | None
    first_day: str | None
    last_day: str
    seconds_ms: int
    timed: int
    timed_ms: int
    pointed: int

    @property
    def recent(self) -> list[int]:
        """The last (up to three) scheduling grades, oldest first."""
        return [g for g in (self.grade_3, self.grade_2, self.grade_1) if g is not None]

    @property
    def seen_before(self) -> int:
        """Scheduling reviews after the card's first one."""
        return max(self.scheduling - 1, 0)

    @property
    def recalled(self) -> int:
        """Of ``seen_before``, those graded >= 3."""
        first_pass = 1 if self.first_grade is not None and self.first_grade >= 3 else 0
        return self.passes - first_pass

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardSummary:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class DaySummary:
    """One ``day_summary`` row."""

    day: date
    reviews: int
    cards: int
    scheduling: int
    grade_sum: int
    passes: int
    seen_before: int
    recalled: int
    seconds_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DaySummary:
        values = {f.name: data[f.name] for f in fields(cls)}
        values["day"] = date.fromisoformat(values["day"]) if isinstance(values["day"], str) else values["day"]
        return cls(**values)
