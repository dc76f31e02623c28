"""Schema migrations: ordered, append-only. An applied migration is never edited.

Each runs in a transaction with its record (sqlite-utils ``Migrations``), and
``PRAGMA user_version`` holds how many this database has, so an older dlprep
refuses a newer database instead of silently using it. An up-to-date
database is recognised from ``user_version`` alone, so everyday commands do
not pay for importing sqlite-utils (and numpy, which it pulls in).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any


def m001_reviews_and_state(db: Any) -> None:
    db.execute(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            meta TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute(
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            card_id TEXT NOT NULL,
            at TEXT NOT NULL,              -- ISO 8601 with the user's UTC offset
            at_utc TEXT NOT NULL,          -- the same instant in UTC, for ordering
            grade INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 5),
            mode TEXT NOT NULL,
            counts INTEGER NOT NULL CHECK (counts IN (0, 1)),  -- moves the schedule?
            points_hit TEXT,               -- JSON list of rubric point indices covered
            coverage REAL,
            follow_up TEXT CHECK (follow_up IN ('got', 'missed')),
            follow_up_index INTEGER,
            answer_text TEXT,
            seconds REAL,
            session_id INTEGER REFERENCES sessions(id),
            rollover_hour INTEGER NOT NULL,
            due_cap TEXT                   -- a study plan's cap on the due date, if any
        )"""
    )
    db["reviews"].create_index(["card_id", "at_utc"], if_not_exists=True)
    db.execute(
        """
        CREATE TABLE card_state (
            card_id TEXT PRIMARY KEY,
            repetitions INTEGER NOT NULL,
            easiness_hundredths INTEGER NOT NULL CHECK (easiness_hundredths >= 130),
            interval_days INTEGER NOT NULL,
            due TEXT,
            last_review TEXT,
            reviews INTEGER NOT NULL,
            lapses INTEGER NOT NULL
        )"""
    )
    db["card_state"].create_index(["due"], if_not_exists=True)


def m002_settings_and_assessments(db: Any) -> None:
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """
        CREATE TABLE assessments (
            id INTEGER PRIMARY KEY,
            taken_at TEXT NOT NULL,
            topic TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 5),
            kind TEXT NOT NULL DEFAULT 'self'
        )"""
    )


def m003_review_card_hash(db: Any) -> None:
    """The card's content hash at each review, to tell users about later corrections."""
    db.execute("ALTER TABLE reviews ADD COLUMN card_hash TEXT")


def m004_summaries_and_indexes(db: Any) -> None:
    """Summaries of the log kept for speed (see dlprep/core/summaries.py) and the
    indexes everyday reads filter on. Created empty: ``migrate`` recomputes every
    summary from the log after any migration."""
    db.execute(
        """
        CREATE TABLE card_summary (
            card_id TEXT PRIMARY KEY,
            reviews INTEGER NOT NULL,      -- every logged review of the card
            scheduling INTEGER NOT NULL,   -- those that moved the schedule (counts = 1)
            grade_sum INTEGER NOT NULL,    -- sum of scheduling grades
            passes INTEGER NOT NULL,       -- scheduling grades >= 3
            grade_1 INTEGER,               -- the latest scheduling grade
            grade_2 INTEGER,               -- the one before
            grade_3 INTEGER,               -- the one before that
            first_grade INTEGER,           -- the first scheduling grade
            first_at TEXT NOT NULL,        -- earliest review (local ISO time, as logged)
            last_at TEXT NOT NULL,         -- latest review
            last_hash TEXT,                -- the card hash stored with the latest review
            first_day TEXT,                -- study day of the first scheduling review
            last_day TEXT NOT NULL,        -- study day of the latest review
            seconds_ms INTEGER NOT NULL,   -- time spent, all reviews, in milliseconds
            timed INTEGER NOT NULL,        -- timed reviews that are not same-session repeats
            timed_ms INTEGER NOT NULL,     -- their time, in milliseconds
            pointed INTEGER NOT NULL       -- reviews with rubric points marked
        ) WITHOUT ROWID"""
    )
    db.execute(
        """
        CREATE TABLE day_summary (
            day TEXT PRIMARY KEY,          -- study day, by the rollover hour recorded with each review
            reviews INTEGER NOT NULL,
            cards INTEGER NOT NULL,        -- distinct cards reviewed
            scheduling INTEGER NOT NULL,
            grade_sum INTEGER NOT NULL,
            passes INTEGER NOT NULL,       -- scheduling grades >= 3
            seen_before INTEGER NOT NULL,  -- scheduling reviews of cards already reviewed before
            recalled INTEGER NOT NULL,     -- of those, grades >= 3 (retention)
            seconds_ms INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )
    db.execute(
        """
        CREATE TABLE point_summary (
            card_id TEXT NOT NULL,
            point INTEGER NOT NULL,        -- rubric point index
            hits INTEGER NOT NULL,         -- reviews that marked it covered
            PRIMARY KEY (card_id, point)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_reviews_at_utc ON reviews (at_utc)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_reviews_day"
        " ON reviews (date(substr(at, 1, 19), '-' || rollover_hour || ' hours'))"
    )


def m005_card_age(db: Any) -> None:
    """The card's SM-2 interval before each scheduled review (its *card age*,
    young below 21 days, mature from 21 on), so stats need not replay the log;
    and the young/mature retention and follow-up counts the summaries keep.
    ``migrate`` fills them from the log after this runs."""
    # NULL for a card's first scheduled review and for reviews that do not move the schedule.
    db.execute("ALTER TABLE reviews ADD COLUMN interval_before INTEGER")
    for table, columns in (
        ("day_summary", ("young_seen", "young_recalled", "mature_seen", "mature_recalled")),
        (
            "card_summary",
            ("young_seen", "young_recalled", "mature_seen", "mature_recalled", "follow_up_got", "follow_up_missed"),
        ),
    ):
        # young_/mature_seen: retention reviews by card age; _recalled: those graded >= 3.
        for column in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")


def m006_card_memory(db: Any) -> None:
    """Each card's FSRS memory state after its whole log (see dlprep/core/memory_state.py),
    so the forecast need not replay the log, and the parameters it was computed with.
    ``migrate`` fills them from the log after this runs."""
    db.execute(
        """
        CREATE TABLE card_memory (
            card_id TEXT PRIMARY KEY,
            stability REAL NOT NULL,       -- FSRS stability, days
            difficulty REAL NOT NULL,      -- FSRS difficulty, 1-10
            last_day TEXT NOT NULL,        -- study day of the card's latest review (by log order)
            reviews INTEGER NOT NULL,      -- every logged review of the card (all are FSRS evidence)
            usable INTEGER NOT NULL        -- of its first 64, those a study day or more after the previous one
        ) WITHOUT ROWID"""
    )
    db.execute(
        """
        CREATE TABLE memory_parameters (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            parameters TEXT NOT NULL       -- JSON list: the FSRS parameters card_memory was computed with
        )"""
    )


# Append new migrations here; never edit or reorder the ones above.
MIGRATIONS = (
    m001_reviews_and_state,
    m002_settings_and_assessments,
    m003_review_card_hash,
    m004_summaries_and_indexes,
    m005_card_age,
    m006_card_memory,
)
SCHEMA_VERSION = len(MIGRATIONS)


def build_migrations() -> Any:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations("dlprep")
    for fn in MIGRATIONS:
        migrations()(fn)
    return migrations


def migrate(conn: sqlite3.Connection, get_db: Callable[[], Any]) -> None:
    """Apply pending migrations and record the schema version.

    ``get_db`` gives a sqlite-utils Database on ``conn``; it is only called
    when there is something to do.
    """
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    db = get_db()
    migrations = build_migrations()
    known = {fn.__name__ for fn in MIGRATIONS}
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if unknown:
        from dlprep.errors import DlprepError

        raise DlprepError(f"database has migrations this dlprep does not know ({', '.join(unknown)}); upgrade dlprep")
    if migrations.pending(db):
        migrations.apply(db)
    if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
        from dlprep.core import memory_state, summaries

        # Derived tables and columns may have gained columns or rules: recompute them from the log.
        conn.execute("BEGIN IMMEDIATE")
        try:
            summaries.fix_intervals(conn)
            summaries.refresh_all(conn)
            memory_state.refresh_all(conn, memory_state.parameters_in_use(conn)[0])
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
