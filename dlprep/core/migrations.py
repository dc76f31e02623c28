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


# Append new migrations here; never edit or reorder the ones above.
MIGRATIONS = (m001_reviews_and_state, m002_settings_and_assessments, m003_review_card_hash)
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
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
