"""The review store: atomic writes, the log as source of truth, migrations,
bad database files, two processes at once, and a process killed mid-review."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dlprep.core.migrations import SCHEMA_VERSION, build_migrations
from dlprep.core.scheduler import CardState
from dlprep.core.store import Review, Store
from dlprep.errors import DatabaseBusy, DatabaseDamaged, DlprepError

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=CET)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "dlprep.db")
    yield s
    s.close()


def test_new_database_is_migrated_wal_and_versioned(store):
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    names = [m.name for m in build_migrations().applied(store.db)]
    assert names == [
        "m001_reviews_and_state",
        "m002_settings_and_assessments",
        "m003_review_card_hash",
        "m004_summaries_and_indexes",
        "m005_card_age",
        "m006_card_memory",
    ]


def test_record_writes_log_row_and_state_together(store):
    state = store.record(Review("c1", 5, T0, points_hit=(0, 2), coverage=0.8, answer_text="x", seconds=12.5))
    assert state.interval_days == 1 and state.due == date(2026, 11, 3)
    assert store.state("c1") == state
    [row] = store.reviews("c1")
    assert (row["grade"], row["points_hit"], row["answer_text"], row["seconds"], row["mode"]) == (
        5,
        [0, 2],
        "x",
        12.5,
        "review",
    )
    assert row["at"] == "2026-11-02T10:00:00+01:00"


def test_non_counting_reviews_are_logged_but_leave_the_schedule(store):
    first = store.record(Review("c1", 5, T0))
    store.record(Review("c1", 1, T0 + timedelta(minutes=5), mode="repeat", counts=False))
    assert store.state("c1") == first
    assert [r["grade"] for r in store.reviews("c1")] == [5, 1]


def test_grades_0_and_5_are_accepted(store):
    assert store.record(Review("c1", 0, T0)).repetitions == 0
    assert store.record(Review("c2", 5, T0)).repetitions == 1


def test_a_review_at_the_same_instant_as_the_last_is_accepted(store):
    # Two reviews entered for one date (`--at 2026-11-02` twice) share a time.
    store.record(Review("c1", 5, T0))
    assert store.record(Review("c1", 4, T0)).reviews == 2


def test_the_default_rollover_is_4am(store):
    assert store.record(Review("c1", 5, datetime(2026, 11, 3, 3, 59, tzinfo=CET))).due == date(2026, 11, 3)
    assert store.record(Review("c2", 5, datetime(2026, 11, 3, 4, 0, tzinfo=CET))).due == date(2026, 11, 4)
    assert [r["rollover_hour"] for r in store.reviews()] == [4, 4]


def test_timing_counts_timed_reviews_and_leaves_out_repeats(store):
    assert store.timing() == (0, None)
    store.record(Review("c1", 5, T0, seconds=30))
    store.record(Review("c2", 5, T0, seconds=60))
    store.record(Review("c3", 5, T0))  # not timed
    store.record(Review("c1", 1, T0, mode="repeat", counts=False, seconds=600))
    assert store.timing() == (2, 45.0)
    assert store.review_count() == 4


def test_sessions_are_recorded_with_their_cards_and_end(store):
    first = store.start_session("quiz", T0, {"cards": ["a", "b"]})
    second = store.start_session("mock", T0)
    assert second == first + 1
    store.end_session(first, T0 + timedelta(minutes=5))
    rows = store._rows("SELECT id, mode, started_at, ended_at, meta FROM sessions ORDER BY id")
    assert [(r["mode"], r["started_at"], r["ended_at"], r["meta"]) for r in rows] == [
        ("quiz", "2026-11-02T10:00:00+01:00", "2026-11-02T10:05:00+01:00", '{"cards": ["a", "b"]}'),
        ("mock", "2026-11-02T10:00:00+01:00", None, "{}"),
    ]


def test_delete_review_replays_the_card_from_the_rest_of_the_log(store):
    store.record(Review("c1", 5, T0))
    second = store.record(Review("c1", 5, T0 + timedelta(days=1)))
    store.record(Review("c2", 3, T0))
    [first_id, second_id] = [r["id"] for r in store.reviews("c1")]
    assert store.delete_review(second_id) == store.state("c1") == store.rebuild()["c1"]
    assert (store.state("c1").interval_days, second.interval_days) == (1, 6)
    assert store.delete_review(first_id) == CardState()
    assert "c1" not in store.states() and store.reviews("c1") == []  # no review left: a new card again
    assert store.state("c2").reviews == 1
    with pytest.raises(DlprepError, match="no review with id 999"):
        store.delete_review(999)


def test_last_review_and_last_seen_follow_absolute_time(store):
    kolkata, la = timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))
    assert store.last_review() is None and store.last_seen() == {}
    store.record(Review("a", 5, datetime(2026, 11, 21, 9, 0, tzinfo=kolkata), card_hash="h1"))  # 03:30 UTC
    store.record(Review("b", 5, datetime(2026, 11, 20, 20, 0, tzinfo=la), card_hash="h3"))  # 04:00 UTC
    store.record(Review("a", 5, datetime(2026, 11, 20, 23, 0, tzinfo=la), card_hash="h2"))  # 07:00 UTC
    assert store.last_seen() == {"a": ("2026-11-20T23:00:00-08:00", "h2"), "b": ("2026-11-20T20:00:00-08:00", "h3")}
    assert (store.last_review()["card_id"], store.last_review()["card_hash"]) == ("a", "h2")
    assert store.last_review("b")["card_hash"] == "h3"
    assert store.last_review("nobody") is None


def test_review_earlier_than_last_is_refused_and_nothing_written(store):
    store.record(Review("c1", 5, T0))
    with pytest.raises(DlprepError, match="earlier than its last review"):
        store.record(Review("c1", 4, T0 - timedelta(hours=1)))
    assert len(store.reviews("c1")) == 1


def test_bad_grade_is_refused_and_nothing_written(store):
    for bad in (6, -1):
        with pytest.raises(DlprepError, match="grade must be a whole number from 0 to 5"):
            store.record(Review("c1", bad, T0))
    assert store.reviews() == []


def test_failed_write_rolls_back_log_row(store, monkeypatch):
    import dlprep.core.store as store_mod

    def boom(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_mod, "_put_state", boom)
    with pytest.raises(RuntimeError):
        store.record(Review("c1", 5, T0))
    assert store.reviews() == [] and store.states() == {}


def test_rebuild_from_log_gives_identical_states(store):
    at = T0
    for card in ("a", "b", "c"):
        for g in (5, 3, 1, 4, 5):
            st = store.record(Review(card, g, at, counts=True))
            store.record(Review(card, 2, at + timedelta(minutes=1), mode="repeat", counts=False))
            at = datetime.combine(st.due, at.timetz())
    before = store.states()
    store.conn.execute("UPDATE card_state SET easiness_hundredths = 300, interval_days = 99")
    assert store.check() != []
    after = store.rebuild()
    assert after == before == store.states()
    assert store.check() == []


def test_rebuild_reproduces_due_caps_and_rollover_hours(store):
    store.record(Review("a", 5, T0), rollover_hour=4)
    store.record(Review("a", 5, T0 + timedelta(days=1)), rollover_hour=4)
    late = datetime(2026, 11, 10, 2, 0, tzinfo=CET)
    store.record(Review("a", 5, late), rollover_hour=6, due_cap=date(2026, 11, 15))
    before = store.states()
    assert before["a"].due == date(2026, 11, 15)
    assert store.rebuild() == before


def test_settings_and_assessments(store):
    assert store.get_setting("plan") is None
    store.set_setting("plan", {"role": "nlp"})
    assert store.get_setting("plan") == {"role": "nlp"}
    store.set_setting("plan", None)
    assert store.get_setting("plan") is None
    store.add_assessment(T0, {"backprop": 3, "cnns": 2})
    store.add_assessment(T0 + timedelta(days=1), {"backprop": 4})
    assert store.latest_assessment() == ((T0 + timedelta(days=1)).isoformat(), {"backprop": 4})


def test_latest_assessment_is_the_latest_instant_whatever_the_offset(store):
    """Taken at 10:00 UTC, then at 09:30 at UTC-2 (11:30 UTC): the second is the latest, though its text sorts first."""
    utc = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    west = datetime(2026, 1, 1, 9, 30, tzinfo=timezone(timedelta(hours=-2)))
    store.add_assessment(utc, {"backprop": 2})
    store.add_assessment(west, {"backprop": 5, "cnns": 1})
    assert west.isoformat() < utc.isoformat()
    assert store.latest_assessment() == (west.isoformat(), {"backprop": 5, "cnns": 1})
    store.add_assessment(west + timedelta(minutes=1), {"rnns": 3}, kind="measured")  # another kind is apart
    assert store.latest_assessment()[1] == {"backprop": 5, "cnns": 1}


def test_review_round_trip_to_dict():
    r = Review("c1", 3, T0, mode="quiz", points_hit=(1,), coverage=0.5, follow_up="missed", follow_up_index=0)
    assert Review.from_dict(r.to_dict()) == r


def test_corrupt_file_is_one_clear_error(tmp_path):
    path = tmp_path / "dlprep.db"
    path.write_bytes(b"this is not sqlite at all" * 200)
    with pytest.raises(DlprepError) as info:
        Store.open(path)
    assert str(info.value).startswith(f"{path}: database is damaged")
    assert path.read_bytes().startswith(b"this is not sqlite")  # never overwritten


def test_folder_at_database_path(tmp_path):
    (tmp_path / "db").mkdir()
    with pytest.raises(DlprepError, match="is a folder, not a database"):
        Store.open(tmp_path / "db")


def test_database_from_newer_version_is_refused(tmp_path):
    path = tmp_path / "dlprep.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DlprepError, match="written by a newer dlprep"):
        Store.open(path)


def test_unknown_applied_migration_is_refused(tmp_path):
    path = tmp_path / "dlprep.db"
    s = Store.open(path)
    s.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('dlprep', 'm999_future', 'x')"
    )
    s.conn.execute("PRAGMA user_version = 1")  # e.g. written by a fork with a migration of its own
    s.close()
    with pytest.raises(DlprepError, match="m999_future"):
        Store.open(path)


def old_database(path, stop_before: str, version: int):
    """A database at an older schema (migrations up to ``stop_before``) holding one review."""
    from sqlite_utils import Database

    conn = sqlite3.connect(path, isolation_level=None)
    build_migrations().apply(Database(conn, execute_plugins=False), stop_before=stop_before)
    conn.execute(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour)"
        " VALUES ('old', '2026-11-01T10:00:00+01:00', '2026-11-01T09:00:00.000000Z', 5, 'review', 1, 4)"
    )
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return path


def test_upgrade_from_first_schema_keeps_reviews(tmp_path):
    path = old_database(tmp_path / "dlprep.db", "m002_settings_and_assessments", 1)
    s = Store.open(path)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [r["card_id"] for r in s.reviews()] == ["old"]
    assert s.rebuild()["old"] == CardState(1, 260, 1, date(2026, 11, 2), datetime(2026, 11, 1, 10, tzinfo=CET), 1, 0)
    s.set_setting("k", 1)  # the new table exists
    assert s.reviews()[0]["card_hash"] is None  # m003's column, empty for old reviews


def test_upgrade_from_second_schema_adds_card_hash_and_keeps_reviews(tmp_path):
    from dlprep.core.store import Review

    s = Store.open(old_database(tmp_path / "dlprep.db", "m003_review_card_hash", 2))
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    s.record(Review("old", 4, datetime(2026, 11, 2, 10, tzinfo=CET), card_hash="abc"))
    assert [(r["card_id"], r["card_hash"]) for r in s.reviews()] == [("old", None), ("old", "abc")]
    assert s.last_seen() == {"old": ("2026-11-02T10:00:00+01:00", "abc")}


CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    import dlprep.core.store as store_mod
    from dlprep.core.store import Review, Store

    path, card, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    s = Store.open(Path(path))
    t0 = datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    for i in range(n):
        s.record(Review(card, 5, t0 + timedelta(days=40 * i), counts=True))
    if mode == "hang-mid-review":
        real = store_mod._put_state
        def slow(*args):
            print("mid-review", flush=True)
            time.sleep(60)
            real(*args)
        store_mod._put_state = slow
        s.record(Review(card, 3, t0 + timedelta(days=40 * n)))
    elif mode == "hold-lock":
        s.conn.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(60)
    print("done", flush=True)
    """
)


def spawn(tmp_path, card, n, mode="plain"):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "dlprep.db"), card, str(n), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_process_killed_mid_review_keeps_every_earlier_review(tmp_path):
    Store.open(tmp_path / "dlprep.db").close()
    child = spawn(tmp_path, "c1", 5, "hang-mid-review")
    assert child.stdout.readline().strip() == "mid-review"  # log row inserted, state not yet written
    child.kill()
    child.wait()
    s = Store.open(tmp_path / "dlprep.db")
    assert [r["grade"] for r in s.reviews("c1")] == [5, 5, 5, 5, 5]
    assert s.state("c1").reviews == 5
    assert s.check() == []


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    Store.open(tmp_path / "dlprep.db").close()
    children = [spawn(tmp_path, f"card-{i}", 30) for i in range(2)]
    for c in children:
        out, _ = c.communicate(timeout=60)
        assert c.returncode == 0 and out.strip() == "done"
    s = Store.open(tmp_path / "dlprep.db")
    assert len(s.reviews()) == 60
    assert {cid: st.reviews for cid, st in s.states().items()} == {"card-0": 30, "card-1": 30}
    assert s.check() == []


def test_busy_database_waits_then_errors_clearly(tmp_path):
    Store.open(tmp_path / "dlprep.db").close()
    child = spawn(tmp_path, "c1", 0, "hold-lock")
    try:
        assert child.stdout.readline().strip() == "locked"
        s = Store.open(tmp_path / "dlprep.db", timeout=0.3)
        start = time.monotonic()
        with pytest.raises(DlprepError, match="database is busy"):
            s.record(Review("c2", 5, T0))
        assert time.monotonic() - start >= 0.25  # it waited before giving up
        assert s.reviews("c2") == []
    finally:
        child.kill()
        child.wait()


# ---------------------------------------------------------------- what a user is told


def test_sqlite_integrity_problems_are_reported_one_a_line(tmp_path):
    path = tmp_path / "dlprep.db"
    s = Store.open(path)
    for cid in ("a", "b"):
        s.record(Review(cid, 5, T0))
    s.close()
    conn = sqlite3.connect(path)  # an index that no longer matches its table
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = 'CREATE INDEX idx_card_state_due ON card_state (lapses DESC)'"
        " WHERE name = 'idx_card_state_due'"
    )
    conn.commit()
    conn.close()
    s = Store.open(path)
    expected = ["row 1 missing from index idx_card_state_due", "row 2 missing from index idx_card_state_due"]
    assert s.integrity_problems() == expected
    assert s.check() == expected  # SQLite's own problems first, without comparing with the log
    s.close()


@pytest.mark.parametrize(
    ("message", "kind", "said"),
    [
        ("database is locked", DatabaseBusy, "database is busy (another dlprep is writing); try again in a moment"),
        ("database table is busy", DatabaseBusy, "database is busy (another dlprep is writing); try again in a moment"),
        ("database disk image is malformed", DatabaseDamaged, "database is damaged (database disk image is malformed)"),
        ("file is not a database", DatabaseDamaged, "database is damaged (file is not a database)"),
        ("file is encrypted", DatabaseDamaged, "database is damaged (file is encrypted)"),
        (
            "attempt to write a readonly database",
            DlprepError,
            "database is read-only (attempt to write a readonly database)",
        ),
        ("the file system is read-only", DlprepError, "database is read-only (the file system is read-only)"),
        (
            "database or disk is full",
            DlprepError,
            "cannot write (database or disk is full; is the disk full?): this change was not saved, earlier reviews are safe",
        ),
        (
            "disk I/O error",
            DlprepError,
            "cannot write (disk I/O error; is the disk full?): this change was not saved, earlier reviews are safe",
        ),
        ("no such table: reviews", DlprepError, "database error (no such table: reviews)"),
    ],
)
def test_each_sqlite_error_is_one_clear_line(tmp_path, message, kind, said):
    from dlprep.core.store import _error

    error = _error(tmp_path / "d.db", sqlite3.OperationalError(message))
    assert type(error) is kind
    assert str(error).startswith(f"{tmp_path / 'd.db'}: {said}")
    if kind is DatabaseDamaged:
        assert str(error).endswith("; run `dlprep db check` to see what can be recovered")


def test_which_errors_mean_the_folder_cannot_be_written():
    from dlprep.core.store import _unwritable

    for message in ("unable to open database file", "attempt to write a readonly database", "read-only file system"):
        assert _unwritable(sqlite3.OperationalError(message)) is True
    assert _unwritable(sqlite3.OperationalError("database is locked")) is False


# ---------------------------------------------------------------- a folder that cannot be written


def test_a_database_that_cannot_be_written_opens_read_only(tmp_path, monkeypatch):
    import dlprep.core.store as store_mod

    path = tmp_path / "dlprep.db"
    s = Store.open(path)
    s.record(Review("c1", 5, T0))
    s.close()

    def readonly(*args):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(store_mod, "migrate", readonly)
    s = Store.open(path)
    assert s.read_only is True
    assert [r["card_id"] for r in s.reviews()] == ["c1"] and s.state("c1").reviews == 1
    with pytest.raises(DlprepError, match="the data folder is read-only, so nothing can be saved"):
        s.record(Review("c1", 4, T0 + timedelta(days=1)))
    s.close()


def test_read_only_falls_back_to_immutable_when_mode_ro_fails(tmp_path, monkeypatch):
    path = tmp_path / "dlprep.db"
    s = Store.open(path)
    s.record(Review("c1", 5, T0))
    s.close()  # checkpointed: immutable=1 reads the main file only
    real = sqlite3.connect

    def connect(target, *args, **kwargs):
        if "mode=ro" in str(target):  # a WAL database without its -shm file, in a folder we cannot write
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    s = Store._open_read_only(path)
    assert s.read_only and s.state("c1").reviews == 1
    s.close()


def test_read_only_needs_the_current_schema_and_a_readable_log(tmp_path):
    path = tmp_path / "dlprep.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.close()
    with pytest.raises(DlprepError) as info:
        Store._open_read_only(path)
    assert str(info.value) == (
        f"{path}: this database needs upgrading (schema {SCHEMA_VERSION - 1} -> {SCHEMA_VERSION}) "
        "but its folder is read-only"
    )
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(DlprepError, match=r"database error \(no such table: reviews\)"):
        Store._open_read_only(empty)


def test_an_integrity_check_that_cannot_run_is_the_one_problem(tmp_path):
    path = tmp_path / "dlprep.db"
    s = Store.open(path)
    s.record(Review("a", 5, T0))
    s.close()
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'idx_card_state_due'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:  # zero the index's root page: the tables still read
        fh.seek((root - 1) * size)
        fh.write(b"\0" * size)
    s = Store.open(path)
    assert s.integrity_problems() == ["database disk image is malformed"]
    s.close()
