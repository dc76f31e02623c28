"""Backing up and restoring the whole database.

A backup is a consistent copy taken with SQLite's online backup API while
other dlprep processes may be writing: the copy holds exactly the
transactions committed before it started (each review is one transaction,
so the log in the copy is a prefix of the live log and its card states
agree with it). It is written beside the target as ``<name>.partial``,
switched to a single self-contained file (no ``-wal``), checked, and only
then renamed into place.

A restore checks the file first (a SQLite file, undamaged, a dlprep
database, not from a newer dlprep), works on a staged copy (the file given
is never modified), migrates an older schema and recomputes the derived
state, and only then puts it in place; the database it replaces is kept
aside as ``dlprep.db.before-restore-<time>`` (the naming of
:mod:`dlprep.core.salvage`).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dlprep.core.migrations import SCHEMA_VERSION
from dlprep.core.salvage import replace_keeping_aside
from dlprep.core.store import BUSY_TIMEOUT_S, Store, _error
from dlprep.errors import DlprepError

SQLITE_MAGIC = b"SQLite format 3\x00"
ASIDE_LABEL = "before-restore"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    reviews: int
    bytes: int

    def to_dict(self) -> dict:
        return {"backup": str(self.path), "reviews": self.reviews, "bytes": self.bytes}


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    database: Path
    reviews: int
    schema_from: int
    schema_to: int
    kept_aside: Path | None

    def to_dict(self) -> dict:
        return {
            "restored_from": str(self.source),
            "database": str(self.database),
            "reviews": self.reviews,
            "schema_from": self.schema_from,
            "schema_to": self.schema_to,
            "previous_database": str(self.kept_aside) if self.kept_aside else None,
        }


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DlprepError(f"{folder}: cannot create folder ({exc.strerror})") from None


def _clear(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def backup(db: Path, target: Path, overwrite: bool = False, timeout: float | None = None) -> BackupResult:
    """Copy the database at ``db`` to ``target``, consistently, while others may write.
    ``timeout``: how long to wait for a lock (default ``BUSY_TIMEOUT_S``)."""
    timeout = BUSY_TIMEOUT_S if timeout is None else timeout
    db, target = Path(db), Path(target)
    if not db.exists():
        raise DlprepError(f"{db}: no database yet, so there is nothing to back up")
    if target.exists() and target.is_dir():
        raise DlprepError(f"{target}: is a folder; give a file name for the backup")
    if target.resolve() == db.resolve():
        raise DlprepError(f"{target}: that is the live database; write the backup somewhere else")
    if target.exists() and not overwrite:
        raise DlprepError(f"{target}: already exists; choose another name or pass --force to replace it")
    _make_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    _clear(partial)
    source = Store.open(db, timeout=timeout)  # migrated like every command; refuses a newer or damaged file
    try:
        copy = sqlite3.connect(str(partial), isolation_level=None)
        try:
            # One step (pages=-1): the whole copy is read in a single read transaction,
            # so it is one committed snapshot; WAL readers do not wait for a writer.
            source.conn.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
            problems = [r[0] for r in copy.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
            reviews = copy.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        finally:
            copy.close()
    except sqlite3.Error as exc:
        _clear(partial)
        if "unable to open" in str(exc) or "readonly" in str(exc):
            raise DlprepError(f"{target}: cannot write the backup ({exc})") from None
        raise _error(db, exc) from None
    except OSError as exc:
        _clear(partial)
        raise DlprepError(f"{target}: cannot write the backup ({exc.strerror})") from None
    finally:
        source.close()
    if problems:
        _clear(partial)
        raise DlprepError(f"{target}: the copy failed its integrity check ({problems[0]}); nothing was written")
    partial.replace(target)
    return BackupResult(target, int(reviews), target.stat().st_size)


def _check_backup(staged: Path, shown: Path) -> int:
    """The schema version of the staged copy, after checking it is an undamaged
    dlprep database this dlprep can read. ``shown`` is the name in messages."""
    with staged.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    if magic != SQLITE_MAGIC:
        raise DlprepError(f"{shown}: not a SQLite database, so not a dlprep backup; nothing was restored")
    try:
        conn = sqlite3.connect(str(staged))  # our own staged copy: the file given is never opened
    except sqlite3.Error as exc:
        raise DlprepError(f"{shown}: cannot be opened ({exc}); nothing was restored") from None
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        if problems:
            raise DlprepError(f"{shown}: the file is damaged ({problems[0]}); nothing was restored")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        ours = (
            "_sqlite_migrations" in tables
            and conn.execute("SELECT COUNT(*) FROM _sqlite_migrations WHERE migration_set = 'dlprep'").fetchone()[0]
        )
    except sqlite3.DatabaseError as exc:
        raise DlprepError(f"{shown}: the file is damaged ({exc}); nothing was restored") from None
    finally:
        conn.close()
    if not ours or "reviews" not in tables:
        raise DlprepError(
            f"{shown}: a SQLite database, but not a dlprep one (no dlprep review log); nothing was restored"
        )
    if version > SCHEMA_VERSION:
        raise DlprepError(
            f"{shown}: written by a newer dlprep (schema {version}, this version knows {SCHEMA_VERSION}); "
            "upgrade dlprep to restore it; nothing was restored"
        )
    return int(version)


def restore(source: Path, db: Path, now: datetime, timeout: float | None = None) -> RestoreResult:
    """Replace the database at ``db`` with the backup ``source``, keeping the
    current one aside. Nothing changes unless every check passes. ``timeout``:
    how long to wait for another writer to finish (default ``BUSY_TIMEOUT_S``)."""
    timeout = BUSY_TIMEOUT_S if timeout is None else timeout
    source, db = Path(source), Path(db)
    if not source.exists():
        raise DlprepError(f"{source}: no such file")
    if source.is_dir():
        raise DlprepError(f"{source}: is a folder, not a backup file")
    if source.resolve() == db.resolve():
        raise DlprepError(f"{source}: that is the live database already")
    _make_folder(db.parent)
    staged = db.with_name(db.name + ".restoring")
    _clear(staged)
    try:
        try:
            shutil.copyfile(source, staged)
            if Path(f"{source}-wal").exists():  # a copy of a live database: its last commits may be there
                shutil.copyfile(f"{source}-wal", f"{staged}-wal")
        except OSError as exc:
            raise DlprepError(f"{source}: cannot be read ({exc.strerror}); nothing was restored") from None
        version = _check_backup(staged, source)
        fresh = Store.open(staged)  # migrates an older schema
        try:
            fresh.rebuild()  # derived state from the restored log, whatever wrote it
            reviews = fresh.review_count()
            fresh.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            fresh.close()
        _quiesce(db, timeout)
        aside = replace_keeping_aside(db, staged, ASIDE_LABEL, now)
    finally:
        _clear(staged)
    return RestoreResult(source, db, reviews, version, SCHEMA_VERSION, aside)


def _quiesce(db: Path, timeout: float) -> None:
    """Wait (up to ``timeout``) until no other process is writing ``db``, and
    fold its -wal into the file, so the copy kept aside is whole."""
    if not db.exists():
        return
    try:
        conn = sqlite3.connect(str(db), timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise _error(db, exc) from None
    try:
        conn.execute("BEGIN IMMEDIATE")  # no writer is mid-transaction
        conn.execute("ROLLBACK")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _error(db, exc) from None
        # A damaged current database: it is still kept aside as it is.
    finally:
        conn.close()
