"""The review store: atomic writes, the log as source of truth, migrations,
bad database files, two processes at once, and a process killed mid-review."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from dlprep.core.migrations import SCHEMA_VERSION, build_migrations
from dlprep.core.scheduler import CardState
from dlprep.core.store import Review, Store
from dlprep.errors import DlprepError

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
    assert names == ["m001_reviews_and_state", "m002_settings_and_assessments", "m003_review_card_hash"]


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
