"""`dlprep backup` and `dlprep restore`: a consistent copy while another
process writes, and a restore that checks the file first and never loses the
database it replaces."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dlprep.core import backup as backup_mod
from dlprep.core.backup import backup, restore
from dlprep.core.migrations import MIGRATIONS, SCHEMA_VERSION
from dlprep.core.store import Review, Store
from dlprep.errors import DatabaseBusy, DlprepError

NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_db(path: Path, n: int, card_prefix: str = "c") -> Path:
    store = Store.open(path)
    try:
        for i in range(n):
            store.record(Review(card_id=f"{card_prefix}{i % 5}", grade=i % 6, at=START + timedelta(hours=i)))
    finally:
        store.close()
    return path


def log(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, card_id, grade, at_utc FROM reviews ORDER BY id").fetchall()
    finally:
        conn.close()


def old_schema_db(path: Path, version: int) -> Path:
    """A database as an older dlprep left it: only the first ``version`` migrations."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    db = Database(path)
    migrations = Migrations("dlprep")
    for fn in MIGRATIONS[:version]:
        migrations()(fn)
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour)"
        " VALUES ('c0', '2026-01-01T10:00:00+00:00', '2026-01-01T10:00:00.000000Z', 4, 'review', 1, 4)"
    )
    db.conn.commit()
    db.close()
    return path


# ---------------------------------------------------------------- backup


def test_backup_is_a_checked_self_contained_copy(tmp_path):
    db = make_db(tmp_path / "dlprep.db", 12)
    result = backup(db, tmp_path / "out" / "b.db")
    assert result.reviews == 12 and result.path == tmp_path / "out" / "b.db"
    assert not Path(f"{result.path}-wal").exists() and not (tmp_path / "out" / "b.db.partial").exists()
    conn = sqlite3.connect(result.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, nothing beside it
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert log(result.path) == log(db)


def test_backup_refuses_to_overwrite_without_force_and_never_targets_the_live_db(tmp_path):
    db = make_db(tmp_path / "dlprep.db", 3)
    target = tmp_path / "b.db"
    target.write_text("precious")
    with pytest.raises(DlprepError, match="already exists; choose another name or pass --force"):
        backup(db, target)
    assert target.read_text() == "precious"
    assert backup(db, target, overwrite=True).reviews == 3
    with pytest.raises(DlprepError, match="that is the live database"):
        backup(db, db, overwrite=True)
    with pytest.raises(DlprepError, match="no database yet"):
        backup(tmp_path / "none.db", tmp_path / "x.db")


def test_backup_does_not_wait_for_a_writer_holding_the_lock_and_leaves_out_its_uncommitted_rows(tmp_path):
    db = make_db(tmp_path / "dlprep.db", 4)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour)"
        " VALUES ('late', '2026-02-01T00:00:00+00:00', '2026-02-01T00:00:00.000000Z', 5, 'review', 1, 4)"
    )
    try:
        result = backup(db, tmp_path / "b.db", timeout=0.2)
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.reviews == 4
    assert "late" not in {r[1] for r in log(result.path)}
    assert "late" in {r[1] for r in log(db)}


WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from dlprep.core.store import Review, Store
store = Store.open(sys.argv[1])
start = datetime(2026, 1, 1, tzinfo=UTC)
i = 0
while True:
    store.record(Review(card_id=f"w{i % 7}", grade=i % 6, at=start + timedelta(minutes=i)))
    i += 1
"""


def expected_prefix(k: int) -> list[tuple]:
    """The first k reviews the writer records, as (id, card, grade, at_utc)."""
    return [
        (i + 1, f"w{i % 7}", i % 6, (START + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")) for i in range(k)
    ]


@pytest.mark.slow
def test_backups_taken_while_another_process_records_reviews_are_consistent_prefixes(tmp_path):
    db = tmp_path / "dlprep.db"
    Store.open(db).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=Path(__file__).parent.parent)
    copies = []
    try:
        deadline = time.monotonic() + 30
        while len(log(db)) < 50:
            assert proc.poll() is None and time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        for n in range(4):
            committed = len(log(db))
            copies.append(backup(db, tmp_path / f"b{n}.db").path)
            assert len(log(copies[-1])) >= committed  # everything committed before it started, -wal included
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    sizes = []
    for copy in copies:
        rows = log(copy)
        sizes.append(len(rows))
        assert rows == expected_prefix(len(rows))  # exactly the first k reviews: no gap, no half-written one
        store = Store.open(copy)
        try:
            assert store.check() == []  # integrity_check passes and every card's state agrees with the log
        finally:
            store.close()
    assert sizes == sorted(sizes) and sizes[0] >= 50
    assert len(log(db)) > sizes[0]  # the writer kept writing while the copies were taken


def test_backup_of_an_exclusively_locked_database_is_one_line(cli, dlprep_home, monkeypatch):
    db = make_db(dlprep_home / "dlprep.db", 2)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseBusy):
            backup(db, dlprep_home / "b.db", timeout=0.1)
        monkeypatch.setattr(backup_mod, "BUSY_TIMEOUT_S", 0.1)  # the CLI's wait, shortened
        result = cli("backup", "-o", str(dlprep_home / "b.db"))
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert result.exit_code == 1
    assert result.stderr == f"error: {db}: database is busy (another dlprep is writing); try again in a moment\n"
    assert not (dlprep_home / "b.db").exists() and not (dlprep_home / "b.db.partial").exists()


# ---------------------------------------------------------------- restore


def aside_files(home: Path) -> list[Path]:
    return sorted(home.glob("dlprep.db.before-restore-*"))


def test_restore_replaces_the_database_and_keeps_the_current_one_aside(tmp_path):
    live = make_db(tmp_path / "home" / "dlprep.db", 3, "live")
    saved = make_db(tmp_path / "saved.db", 8, "old")
    result = restore(saved, live, NOW)
    assert result.reviews == 8 and result.kept_aside == tmp_path / "home" / "dlprep.db.before-restore-20261121-100000"
    assert {r[1] for r in log(live)} == {f"old{i}" for i in range(5)}
    assert {r[1] for r in log(result.kept_aside)} == {f"live{i}" for i in range(3)}  # nothing lost
    store = Store.open(live)
    assert store.check() == []
    store.close()
    assert sorted(p.name for p in (tmp_path / "home").iterdir() if "restoring" in p.name) == []


def test_two_restores_in_the_same_second_keep_both_previous_databases(tmp_path):
    live = make_db(tmp_path / "home" / "dlprep.db", 1, "first")
    restore(make_db(tmp_path / "a.db", 2, "second"), live, NOW)
    restore(make_db(tmp_path / "b.db", 3, "third"), live, NOW)
    kept = aside_files(tmp_path / "home")
    assert [p.name for p in kept] == [
        "dlprep.db.before-restore-20261121-100000",
        "dlprep.db.before-restore-20261121-100000-2",
    ]
    assert [len(log(p)) for p in kept] == [1, 2]


def test_restore_into_an_empty_home_keeps_nothing_aside(tmp_path):
    result = restore(make_db(tmp_path / "saved.db", 2), tmp_path / "home" / "dlprep.db", NOW)
    assert result.kept_aside is None and len(log(tmp_path / "home" / "dlprep.db")) == 2


def test_restore_of_an_older_schema_migrates_it_and_rebuilds_states(tmp_path):
    old = old_schema_db(tmp_path / "old.db", 1)
    live = tmp_path / "home" / "dlprep.db"
    result = restore(old, live, NOW)
    assert (result.schema_from, result.schema_to) == (1, SCHEMA_VERSION)
    store = Store.open(live)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.state("c0").reviews == 1 and store.check() == []
    finally:
        store.close()
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 1  # the file given is not modified


def _not_dlprep(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    return path


def _text(path: Path) -> Path:
    path.write_text("review log\nalpha 4\n")
    return path


def _newer(path: Path) -> Path:
    make_db(path, 1)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return path


def _damaged(path: Path) -> Path:
    make_db(path, 400)
    Store.open(path).conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page : 4 * page] = b"\x13" * (2 * page)  # two pages of the log overwritten
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_not_dlprep, r"a SQLite database, but not a dlprep one \(no dlprep review log\); nothing was restored"),
        (_text, "not a SQLite database, so not a dlprep backup; nothing was restored"),
        (_newer, rf"written by a newer dlprep \(schema {SCHEMA_VERSION + 1}, this version knows {SCHEMA_VERSION}\); "),
        (_damaged, r"the file is damaged \(.*\); nothing was restored"),
        (lambda p: p.write_bytes(b"") or p, "not a SQLite database"),
    ],
    ids=["not-dlprep", "text", "newer", "damaged", "empty"],
)
def test_restore_refuses_a_bad_file_in_one_line_and_changes_nothing(cli, dlprep_home, tmp_path, make, message):
    live = make_db(dlprep_home / "dlprep.db", 3)
    before = log(live)
    bad = make(tmp_path / "bad.db")
    result = cli("restore", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: ") and result.stderr.count("\n") == 1, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert log(live) == before and aside_files(dlprep_home) == []
    assert [p.name for p in dlprep_home.iterdir() if "restoring" in p.name] == []


def test_restore_waits_for_a_writer_then_says_busy_in_one_line_and_changes_nothing(
    cli, dlprep_home, tmp_path, monkeypatch
):
    live = make_db(dlprep_home / "dlprep.db", 3)
    saved = make_db(tmp_path / "saved.db", 5)
    holder = sqlite3.connect(live, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy):
            restore(saved, live, NOW, timeout=0.1)
        monkeypatch.setattr(backup_mod, "BUSY_TIMEOUT_S", 0.1)  # the CLI's wait, shortened
        result = cli("restore", str(saved))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert result.stderr == f"error: {live}: database is busy (another dlprep is writing); try again in a moment\n"
    assert len(log(live)) == 3 and aside_files(dlprep_home) == []


def test_backup_then_restore_through_the_cli(cli, clock, dlprep_home, tmp_path):
    make_db(dlprep_home / "dlprep.db", 6)
    made = cli("backup")
    assert made.exit_code == 0, made.stderr
    copy = dlprep_home / "backups" / "dlprep-20261121-100000.db"  # named by the clock's time, as the user sees it
    assert list((dlprep_home / "backups").iterdir()) == [copy] and "backed up 6 review(s)" in made.stderr
    make_db(dlprep_home / "other.db", 2)
    (dlprep_home / "dlprep.db").unlink()
    (dlprep_home / "other.db").rename(dlprep_home / "dlprep.db")
    done = cli("restore", str(copy), "--json")
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["reviews"] == 6 and data["previous_database"].startswith(str(dlprep_home / "dlprep.db.before-restore-"))
    assert len(log(dlprep_home / "dlprep.db")) == 6
