"""Summaries of the review log, kept so that everyday screens never read the whole log.

Three derived tables (schema in migration m004):

- ``card_summary``: per card, counts, grade sums, its last three scheduling
  grades, first and last review, time spent, rubric-marked reviews;
- ``day_summary``: per study day, reviews, distinct cards, grades, retention
  counts, time spent;
- ``point_summary``: per card and rubric point, how often it was marked covered.

Migration m005 adds each review's card age (``reviews.interval_before``: the
SM-2 interval the card's previous scheduled review set, NULL for its first
scheduled review and for reviews that do not move the schedule) and counts
retention reviews by it (young below ``MATURE_DAYS``, mature from it on) in
``card_summary`` and ``day_summary``, with the follow-ups got and missed per card.
The log row carries it, so after an undo :func:`fix_intervals` recomputes the
card's later ones.

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
from datetime import date, datetime
from typing import Any

from dlprep.core import scheduler

DAY_SQL = "date(substr(at, 1, 19), '-' || rollover_hour || ' hours')"
# The same rule on the ``reviews r`` alias (SQLite still matches it to the index).
_R_DAY_SQL = "date(substr(r.at, 1, 19), '-' || r.rollover_hour || ' hours')"
_X_DAY_SQL = "date(substr(x.at, 1, 19), '-' || x.rollover_hour || ' hours')"

MATURE_DAYS = 21  # card age: young below this interval (days), mature from it on
# Retention reviews by card age: scheduled reviews whose card had been scheduled before
# (``reviews.interval_before``, migration m005, is NULL for a card's first one).
_YOUNG = f"counts = 1 AND interval_before IS NOT NULL AND interval_before < {MATURE_DAYS}"
_MATURE = f"counts = 1 AND interval_before IS NOT NULL AND interval_before >= {MATURE_DAYS}"
AGE_SUMS = (
    f"SUM({_YOUNG}) AS young_seen, SUM({_YOUNG} AND grade >= 3) AS young_recalled,"
    f" SUM({_MATURE}) AS mature_seen, SUM({_MATURE} AND grade >= 3) AS mature_recalled"
)
_R_AGE_SUMS = AGE_SUMS.replace("counts", "r.counts").replace("interval_before", "r.interval_before")
_R_AGE_SUMS = _R_AGE_SUMS.replace("grade", "r.grade")
AGE_COLUMNS = "young_seen, young_recalled, mature_seen, mature_recalled"

# Milliseconds, so that sums are exact and do not depend on the order rows are added in.
_MS = "CAST(ROUND(seconds * 1000) AS INTEGER)"

CARD_COLUMNS = (
    "card_id, reviews, scheduling, grade_sum, passes, grade_1, grade_2, grade_3, first_grade, first_at, last_at,"
    " last_hash, first_day, last_day, seconds_ms, timed, timed_ms, pointed,"
    f" {AGE_COLUMNS}, follow_up_got, follow_up_missed"
)
_LATEST = "ORDER BY x.at_utc DESC, x.id DESC LIMIT 1"
_LATEST_SCHEDULING = "AND x.counts = 1 ORDER BY x.at_utc DESC, x.id DESC LIMIT 1"
_FIRST_SCHEDULING = "AND x.counts = 1 ORDER BY x.at_utc, x.id LIMIT 1"
# Plain aggregates in one pass over the log, then a few index look-ups per card
# for the rows at either end of its history (faster than window functions here).
_CARD_SELECT = f"""
SELECT g.card_id, g.reviews, g.scheduling, g.grade_sum, g.passes,
    (SELECT x.grade FROM reviews x WHERE x.card_id = g.card_id {_LATEST_SCHEDULING} OFFSET 0),
    (SELECT x.grade FROM reviews x WHERE x.card_id = g.card_id {_LATEST_SCHEDULING} OFFSET 1),
    (SELECT x.grade FROM reviews x WHERE x.card_id = g.card_id {_LATEST_SCHEDULING} OFFSET 2),
    (SELECT x.grade FROM reviews x WHERE x.card_id = g.card_id {_FIRST_SCHEDULING}),
    (SELECT x.at FROM reviews x WHERE x.card_id = g.card_id ORDER BY x.at_utc, x.id LIMIT 1),
    (SELECT x.at FROM reviews x WHERE x.card_id = g.card_id {_LATEST}),
    (SELECT x.card_hash FROM reviews x WHERE x.card_id = g.card_id {_LATEST}),
    (SELECT {_X_DAY_SQL} FROM reviews x WHERE x.card_id = g.card_id {_FIRST_SCHEDULING}),
    (SELECT {_X_DAY_SQL} FROM reviews x WHERE x.card_id = g.card_id {_LATEST}),
    g.seconds_ms, g.timed, g.timed_ms, g.pointed,
    g.young_seen, g.young_recalled, g.mature_seen, g.mature_recalled, g.follow_up_got, g.follow_up_missed
FROM (
    SELECT card_id,
        COUNT(*) AS reviews,
        SUM(counts) AS scheduling,
        SUM(CASE WHEN counts = 1 THEN grade ELSE 0 END) AS grade_sum,
        SUM(counts = 1 AND grade >= 3) AS passes,
        COALESCE(SUM({_MS}), 0) AS seconds_ms,
        SUM(seconds IS NOT NULL AND mode != 'repeat') AS timed,
        COALESCE(SUM(CASE WHEN mode != 'repeat' THEN {_MS} END), 0) AS timed_ms,
        SUM(points_hit IS NOT NULL) AS pointed,
        {AGE_SUMS},
        SUM(follow_up IS 'got') AS follow_up_got,
        SUM(follow_up IS 'missed') AS follow_up_missed
    FROM reviews {{where}}
    GROUP BY card_id
) g"""

DAY_COLUMNS = f"day, reviews, cards, scheduling, grade_sum, passes, seen_before, recalled, seconds_ms, {AGE_COLUMNS}"
# A scheduling review is "seen before" unless it is its card's first scheduling review;
# card_summary knows each card's first (so cards are refreshed before days).
_DAY_SELECT = f"""
SELECT d.day, d.reviews, d.cards, d.scheduling, d.grade_sum, d.passes,
    d.scheduling - COALESCE(f.firsts, 0), d.passes - COALESCE(f.first_passes, 0), d.seconds_ms,
    d.young_seen, d.young_recalled, d.mature_seen, d.mature_recalled
FROM (
    SELECT {_R_DAY_SQL} AS day,
        COUNT(*) AS reviews,
        COUNT(DISTINCT r.card_id) AS cards,
        SUM(r.counts) AS scheduling,
        SUM(CASE WHEN r.counts = 1 THEN r.grade ELSE 0 END) AS grade_sum,
        SUM(r.counts = 1 AND r.grade >= 3) AS passes,
        COALESCE(SUM({_MS.replace("seconds", "r.seconds")}), 0) AS seconds_ms,
        {_R_AGE_SUMS}
    FROM reviews r {{where}}
    GROUP BY day
) d
LEFT JOIN (
    SELECT first_day, COUNT(*) AS firsts, SUM(first_grade >= 3) AS first_passes
    FROM card_summary WHERE first_day IS NOT NULL GROUP BY first_day
) f ON f.first_day = d.day"""

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


def interval_before(state: scheduler.CardState) -> int | None:
    """A review's card age: the card's SM-2 interval (days) just before it, i.e. the
    interval its previous scheduled review set; None before its first one. The one
    place card age is read from a state (``Store.record`` and :func:`stale_intervals`)."""
    return state.interval_days if state.reviews else None


def stale_intervals(conn: sqlite3.Connection, card_id: str | None = None) -> list[tuple[int | None, int, str]]:
    """Reviews whose ``interval_before`` differs from an SM-2 replay of the log
    (of one card, or of all): (the replayed value, review id, its study day)."""
    where, params = ("WHERE card_id = ?", (card_id,)) if card_id is not None else ("", ())
    rows = conn.execute(
        f"SELECT id, card_id, grade, at, rollover_hour, counts, interval_before FROM reviews {where}"
        " ORDER BY card_id, at_utc, id",
        params,
    ).fetchall()
    states: dict[str, scheduler.CardState] = {}
    stale = []
    for review_id, cid, grade, at, rollover_hour, counts, stored in rows:
        value = None
        when = datetime.fromisoformat(at)
        if counts:
            old = states.get(cid, scheduler.CardState())
            value = interval_before(old)
            # The due cap only moves the due date, never the interval, so it is left out here.
            states[cid] = scheduler.review(old, grade, when, rollover_hour)
        if value != stored:
            stale.append((value, review_id, scheduler.study_day(when, rollover_hour).isoformat()))
    return stale


def fix_intervals(conn: sqlite3.Connection, card_id: str | None = None) -> set[str]:
    """Set ``interval_before`` from a replay of the log (one card's, or all);
    returns the study days of the reviews changed. Runs inside the caller's transaction."""
    return set_intervals(conn, stale_intervals(conn, card_id))


def set_intervals(conn: sqlite3.Connection, stale: list[tuple[int | None, int, str]]) -> set[str]:
    """Store the replayed card ages of :func:`stale_intervals`' rows; returns their study days."""
    conn.executemany("UPDATE reviews SET interval_before = ? WHERE id = ?", [(v, i) for v, i, _ in stale])
    return {day for _, _, day in stale}


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
    young_seen: int = 0  # retention reviews of the card while young (interval < 21 days)
    young_recalled: int = 0  # of those, graded >= 3
    mature_seen: int = 0
    mature_recalled: int = 0
    follow_up_got: int = 0  # follow-up questions answered
    follow_up_missed: int = 0

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
    young_seen: int = 0  # of seen_before, reviews of young cards (interval < 21 days)
    young_recalled: int = 0
    mature_seen: int = 0
    mature_recalled: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DaySummary:
        values = {f.name: data[f.name] for f in fields(cls)}
        values["day"] = date.fromisoformat(values["day"]) if isinstance(values["day"], str) else values["day"]
        return cls(**values)
