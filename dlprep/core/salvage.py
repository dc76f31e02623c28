"""Recovering the review log from a damaged database.

The review log is the source of truth and everything else is derived, so a
database whose derived tables (``card_state``) or indexes are damaged loses
nothing: :func:`inspect` reads it read-only and says how much of the log is
readable, and :func:`recover` writes a fresh database from every readable
review (plus sessions, settings and assessments where they can be read),
recomputes the derived state, and keeps the damaged file aside.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dlprep.errors import DlprepError

# Tables copied to the fresh database, in foreign-key order; reviews is the one that matters.
TABLES = ("sessions", "reviews", "settings", "assessments")


@dataclass
class Salvage:
    path: Path
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)  # table -> why it could not be read (fully)
    derived_ok: bool = True  # card_state readable?

    @property
    def reviews(self) -> int:
        return len(self.rows.get("reviews", []))

    @property
    def log_readable(self) -> bool:
        return "reviews" in self.rows and "reviews" not in self.lost

    def to_dict(self) -> dict:
        return {
            "database": str(self.path),
            "log_readable": self.log_readable,
            "reviews_readable": self.reviews,
            "derived_state_readable": self.derived_ok,
            "unreadable": dict(self.lost),
        }


def _read_table(conn: sqlite3.Connection, table: str, result: Salvage) -> None:
    try:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        result.columns[table] = [c[0] for c in cur.description]
        result.rows[table] = cur.fetchall()
        return
    except sqlite3.DatabaseError as exc:
        reason = str(exc)
    # Row by row, skipping what cannot be read.
    rows: list[tuple] = []
    try:
        top = conn.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0
        cur = conn.execute(f"SELECT * FROM {table} LIMIT 0")
        result.columns[table] = [c[0] for c in cur.description]
    except sqlite3.DatabaseError:
        result.lost[table] = reason
        return
    for rowid in range(1, top + 1):
        with contextlib.suppress(sqlite3.DatabaseError):
            rows.extend(conn.execute(f"SELECT * FROM {table} WHERE rowid = ?", (rowid,)).fetchall())
    result.rows[table] = rows
    result.lost[table] = f"{reason} (read {len(rows)} rows one by one)"


def inspect(path: Path) -> Salvage:
    """Read what can be read from a (possibly damaged) database, read-only."""
    result = Salvage(Path(path))
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        result.lost["reviews"] = str(exc)
        return result
    try:
        for table in TABLES:
            _read_table(conn, table, result)
        try:
            conn.execute("SELECT * FROM card_state").fetchall()
        except sqlite3.DatabaseError:
            result.derived_ok = False
    finally:
        conn.close()
    return result


def recover(path: Path, now: datetime, progress: Callable[[int, int], None] | None = None) -> tuple[Salvage, Path]:
    """Write a fresh database from every readable review and put it in place
    of ``path``; the damaged file (and its -wal/-shm) is renamed aside.
    ``progress`` is passed to ``Store.rebuild``, which recomputes every derived table.
    Returns what was salvaged and where the damaged copy now is."""
    from dlprep.core.store import Store

    path = Path(path)
    found = inspect(path)
    if "reviews" not in found.rows:
        raise DlprepError(
            f"{path}: the review log cannot be read ({found.lost.get('reviews', 'unknown error')}); "
            "nothing can be salvaged: move the file aside to start fresh"
        )
    fresh = path.with_name(path.name + ".recovering")
    for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    store = Store.open(fresh)
    try:
        conn = store.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            session_ids = set()
            for table in TABLES:
                cols = [c for c in found.columns.get(table, []) if c in _columns(conn, table)]
                if not cols:
                    continue
                index = [found.columns[table].index(c) for c in cols]
                sql = f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                for row in found.rows.get(table, []):
                    values = dict(zip(cols, (row[i] for i in index), strict=True))
                    if table == "sessions":
                        session_ids.add(values.get("id"))
                    if table == "reviews" and values.get("session_id") not in session_ids:
                        values["session_id"] = None  # its session row was lost; keep the review
                    conn.execute(sql, [values[c] for c in cols])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        store.rebuild(progress)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    aside = replace_keeping_aside(path, fresh, "damaged", now)
    assert aside is not None  # the damaged file was there: inspect() read it
    return found, aside


def aside_path(path: Path, label: str, now: datetime) -> Path:
    """Where a database set aside is kept: ``dlprep.db.<label>-<YYYYmmdd-HHMMSS>``,
    with ``-2``, ``-3``... when that name is taken (never overwrite a kept copy)."""
    stem = f"{path.name}.{label}-{now.strftime('%Y%m%d-%H%M%S')}"
    aside = path.with_name(stem)
    n = 1
    while aside.exists() or Path(f"{aside}-wal").exists():
        n += 1
        aside = path.with_name(f"{stem}-{n}")
    return aside


def replace_keeping_aside(path: Path, fresh: Path, label: str, now: datetime) -> Path | None:
    """Put the closed database ``fresh`` in place of ``path``. The database
    that was there (with its -wal and -shm) is renamed aside (see
    :func:`aside_path`); returns that name, or None if there was none."""
    aside = None
    if path.exists() or Path(f"{path}-wal").exists():  # a -wal left alone would be replayed into the new file
        aside = aside_path(path, label, now)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    os.replace(fresh, path)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{fresh}{suffix}")
    return aside


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
