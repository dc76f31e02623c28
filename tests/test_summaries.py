"""The summaries kept for speed (card_summary, day_summary, point_summary):
the per-review transaction keeps them equal to what `db rebuild` recomputes,
both equal an independent computation from the log, and the everyday queries
read them through indexes, never by scanning the review log."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from dlprep.core import summaries
from dlprep.core.migrations import SCHEMA_VERSION, build_migrations
from dlprep.core.scheduler import CardState, review, study_day
from dlprep.core.store import Review, Store
from dlprep.core.summaries import CardSummary, DaySummary

ZONES = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((1, 0), (-8, 0), (5, 30))]
MODES = ("quiz", "rapid", "review", "mock")
AGES = ("young_seen", "young_recalled", "mature_seen", "mature_recalled")


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "dlprep.db")
    s.conn.execute("PRAGMA synchronous = OFF")  # these tests write hundreds of reviews; durability is not under test
    yield s
    s.close()


def tables(store: Store) -> dict[str, list[tuple]]:
    """The summaries, and each review's stored card age (m005)."""
    return {
        t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
        for t in ("card_summary", "day_summary", "point_summary")
    } | {"ages": store.conn.execute("SELECT id, interval_before FROM reviews ORDER BY id").fetchall()}


def random_history(store: Store, rng: random.Random, n: int, undo_every: int = 0) -> None:
    """n reviews of 6 cards, times moving forward with jitter across offsets and
    rollover hours, some same-day repeats, some timed, some with rubric points;
    every ``undo_every``-th step deletes a random review instead."""
    at = datetime(2026, 3, 1, 9, 0, tzinfo=ZONES[0])
    for step in range(n):
        if undo_every and step % undo_every == undo_every - 1:
            ids = [r[0] for r in store.conn.execute("SELECT id FROM reviews").fetchall()]
            if ids:
                store.delete_review(rng.choice(ids))
            continue
        at = (at + timedelta(hours=rng.choice((0, 1, 3, 7, 20, 30)), minutes=rng.randrange(60))).astimezone(
            rng.choice(ZONES)
        )
        card = f"c{rng.randrange(6)}"
        counts = rng.random() < 0.8
        points = tuple(sorted(rng.sample(range(4), rng.randrange(4)))) if rng.random() < 0.5 else None
        if points and rng.random() < 0.2:
            points = points + points[:1]  # a point listed twice counts once
        review = Review(
            card,
            rng.randrange(6),
            at,
            mode=rng.choice(MODES) if counts else "repeat",
            counts=counts,
            points_hit=points,
            seconds=round(rng.uniform(1, 300), 3) if rng.random() < 0.7 else None,
            follow_up=rng.choice((None, None, "got", "missed")),
        )
        store.record(review, rollover_hour=rng.choice((0, 4, 23)))


def expected(store: Store) -> tuple[dict[str, dict], dict[str, dict], dict[tuple[str, int], int]]:
    """The summaries computed in Python from the whole log, independently of the SQL."""
    cards: dict[str, dict] = {}
    days: dict[str, dict] = {}
    points: dict[tuple[str, int], int] = defaultdict(int)
    seen: set[str] = set()
    states: dict[str, CardState] = {}  # SM-2 replayed, for card age
    for r in store.reviews():  # oldest first
        day = study_day(datetime.fromisoformat(r["at"]), r["rollover_hour"]).isoformat()
        ms = round(r["seconds"] * 1000) if r["seconds"] is not None else 0
        c = cards.setdefault(
            r["card_id"],
            dict(reviews=0, scheduling=0, grade_sum=0, passes=0, grades=[], first_at=r["at"], seconds_ms=0)
            | dict(timed=0, timed_ms=0, pointed=0, first_day=None, follow_up_got=0, follow_up_missed=0)
            | dict.fromkeys(AGES, 0),
        )
        d = days.setdefault(day, dict(reviews=0, cards=set(), scheduling=0, grade_sum=0, passes=0, seconds_ms=0))
        for key in AGES:
            d.setdefault(key, 0)
        old = states.get(r["card_id"])
        age = None  # young or mature before this review; None for a first or unscheduled review
        if r["counts"]:
            if old is not None:
                age = "mature" if old.interval_days >= 21 else "young"
            states[r["card_id"]] = review(old or CardState(), r["grade"], datetime.fromisoformat(r["at"]))
        assert r["interval_before"] == (old.interval_days if age else None), r
        for x in (c, d):
            if age:
                x[f"{age}_seen"] += 1
                x[f"{age}_recalled"] += r["grade"] >= 3
        if r["follow_up"]:
            c[f"follow_up_{r['follow_up']}"] += 1
        d.setdefault("seen_before", 0)
        d.setdefault("recalled", 0)
        for x in (c, d):
            x["reviews"] += 1
            x["seconds_ms"] += ms
            if r["counts"]:
                x["scheduling"] += 1
                x["grade_sum"] += r["grade"]
                x["passes"] += r["grade"] >= 3
        d["cards"].add(r["card_id"])
        c.update(last_at=r["at"], last_hash=r["card_hash"], last_day=day)
        if r["counts"]:
            if r["card_id"] in seen:
                d["seen_before"] += 1
                d["recalled"] += r["grade"] >= 3
            else:
                c["first_day"] = day
            seen.add(r["card_id"])
            c["grades"].append(r["grade"])
        if r["seconds"] is not None and r["mode"] != "repeat":
            c["timed"] += 1
            c["timed_ms"] += ms
        if r["points_hit"] is not None:
            c["pointed"] += 1
            for p in set(r["points_hit"]):
                points[(r["card_id"], p)] += 1
    for d in days.values():
        d["cards"] = len(d["cards"])
    return cards, days, dict(points)


def assert_matches_log(store: Store) -> None:
    cards, days, points = expected(store)
    got = store.card_summaries()
    assert set(got) == set(cards)
    for cid, c in cards.items():
        s = got[cid]
        assert s.recent == c["grades"][-3:]
        assert s.first_grade == (c["grades"][0] if c["grades"] else None)
        for key in ("reviews", "scheduling", "grade_sum", "passes", "first_at", "last_at", "last_hash"):
            assert getattr(s, key) == c[key], (cid, key)
        for key in ("first_day", "last_day", "seconds_ms", "timed", "timed_ms", "pointed", *AGES):
            assert getattr(s, key) == c[key], (cid, key)
        assert (s.follow_up_got, s.follow_up_missed) == (c["follow_up_got"], c["follow_up_missed"]), cid
    got_days = {d.day.isoformat(): d for d in store.day_summaries()}
    assert set(got_days) == set(days)
    for day, d in days.items():
        assert {k: getattr(got_days[day], k) for k in d} == d, day
    assert {(cid, p): n for cid, hits in store.point_hits().items() for p, n in hits.items()} == points


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_summaries_equal_rebuilt_ones_and_the_log(store, seed):
    rng = random.Random(seed)
    random_history(store, rng, 120, undo_every=7)
    assert store.review_count() > 50
    assert_matches_log(store)
    cards = store.card_summaries().values()
    # the history reaches both card ages and both follow-up outcomes
    assert all(sum(getattr(c, k) for c in cards) > 0 for k in (*AGES[:3], "follow_up_got", "follow_up_missed"))
    incremental = tables(store)
    assert store.check() == []
    store.rebuild()
    assert tables(store) == incremental


def test_undo_of_a_cards_first_review_moves_retention_to_its_new_first_day(store):
    """Deleting a card's first scheduling review makes its next one (on another
    day) the first: that day's seen-before and recalled counts drop."""
    d1 = datetime(2026, 3, 1, 10, tzinfo=ZONES[0])
    store.record(Review("a", 4, d1))
    store.record(Review("a", 5, d1 + timedelta(days=1)))
    store.record(Review("a", 2, d1 + timedelta(days=2)))
    day2 = store.day_summaries(date(2026, 3, 2), date(2026, 3, 2))[0]
    assert (day2.seen_before, day2.recalled) == (1, 1)
    first = store.conn.execute("SELECT MIN(id) FROM reviews").fetchone()[0]
    store.delete_review(first)
    assert [d.day for d in store.day_summaries()] == [date(2026, 3, 2), date(2026, 3, 3)]
    day2, day3 = store.day_summaries()
    assert (day2.seen_before, day2.recalled, day3.seen_before, day3.recalled) == (0, 0, 1, 0)
    s = store.card_summary("a")
    assert (s.first_grade, s.first_day, s.recent, s.seen_before, s.recalled) == (5, "2026-03-02", [5, 2], 1, 0)
    assert_matches_log(store)


def test_undo_of_a_cards_only_review_removes_its_rows(store):
    store.record(Review("a", 4, datetime(2026, 3, 1, 10, tzinfo=ZONES[0]), points_hit=(0, 2)))
    store.record(Review("b", 3, datetime(2026, 3, 1, 11, tzinfo=ZONES[0])))
    store.delete_review(store.conn.execute("SELECT id FROM reviews WHERE card_id = 'a'").fetchone()[0])
    assert store.card_summary("a") is None and set(store.card_summaries()) == {"b"}
    assert store.point_hits() == {}
    assert [(d.reviews, d.cards) for d in store.day_summaries()] == [(1, 1)]


def test_study_day_follows_the_rollover_hour_recorded_with_each_review(store):
    """03:59 local belongs to the day before with rollover 4, to its own day with rollover 3;
    the local offset logged with the review decides the date, not UTC."""
    store.record(Review("a", 4, datetime(2026, 3, 2, 3, 59, tzinfo=ZONES[0])), rollover_hour=4)
    store.record(Review("b", 4, datetime(2026, 3, 2, 3, 59, tzinfo=ZONES[0])), rollover_hour=3)
    store.record(Review("c", 4, datetime(2026, 3, 2, 23, 30, tzinfo=ZONES[1])), rollover_hour=0)  # 07:30Z on 3-3
    assert [(d.day, d.reviews) for d in store.day_summaries()] == [(date(2026, 3, 1), 1), (date(2026, 3, 2), 2)]
    assert store.card_summary("c").last_day == "2026-03-02"


def test_day_summaries_are_read_by_range(store):
    for i in range(5):
        store.record(Review(f"c{i}", 4, datetime(2026, 3, 1 + i, 10, tzinfo=ZONES[0])))
    days = store.day_summaries(date(2026, 3, 2), date(2026, 3, 4))
    assert [d.day for d in days] == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert [d.day for d in store.day_summaries(start=date(2026, 3, 5))] == [date(2026, 3, 5)]
    assert [d.day for d in store.day_summaries(end=date(2026, 3, 1))] == [date(2026, 3, 1)]


def test_timing_excludes_repeats_and_untimed_reviews(store):
    at = datetime(2026, 3, 1, 10, tzinfo=ZONES[0])
    assert store.timing() == (0, None)
    store.record(Review("a", 4, at, seconds=10.0))
    store.record(Review("b", 4, at, seconds=20.5))
    store.record(Review("a", 4, at, mode="repeat", counts=False, seconds=1000.0))
    store.record(Review("c", 4, at))
    assert store.timing() == (2, 15.25)


def test_check_names_a_tampered_summary_and_rebuild_repairs_it(store):
    at = datetime(2026, 3, 1, 10, tzinfo=ZONES[0])
    store.record(Review("a", 4, at, points_hit=(1,)))
    store.record(Review("b", 2, at))
    store.conn.execute("UPDATE card_summary SET passes = 7 WHERE card_id = 'b'")
    store.conn.execute("UPDATE day_summary SET cards = 9")
    store.conn.execute("DELETE FROM point_summary")
    assert store.check() == [
        "card_summary for card b differs from the review log (run `dlprep db rebuild`)",
        "day_summary for day 2026-03-01 differs from the review log (run `dlprep db rebuild`)",
        "point_summary for card a differs from the review log (run `dlprep db rebuild`)",
    ]
    store.rebuild()
    assert store.check() == []
    assert_matches_log(store)


def test_check_names_a_tampered_card_age_and_rebuild_repairs_it(store):
    for i in range(4):
        store.record(Review("a", 5, datetime(2026, 3, 1 + i, 10, tzinfo=ZONES[0])))
    store.conn.execute("UPDATE reviews SET interval_before = 30 WHERE interval_before = 6")
    store.conn.execute("UPDATE reviews SET interval_before = 1 WHERE interval_before IS NULL")
    assert store.check() == [
        "reviews: 2 card ages (interval_before) differ from the review log (run `dlprep db rebuild`)",
        # the summaries derived from the tampered ages disagree with the stored ones too
        "card_summary for card a differs from the review log (run `dlprep db rebuild`)",
        "day_summary for day 2026-03-01 differs from the review log (run `dlprep db rebuild`)",
        "day_summary for day 2026-03-03 differs from the review log (run `dlprep db rebuild`)",
    ]
    store.rebuild()
    assert store.check() == []
    assert [r["interval_before"] for r in store.reviews("a")] == [None, 1, 6, 17]


def test_undo_in_the_middle_of_a_history_moves_the_later_reviews_card_age(store):
    """Each pass of 5 sets intervals 1, 6, 17, 48 (EF 2.5 rising by 0.1): the fifth
    review comes at 48 days, mature. Deleting the second leaves 1, 6, 17: all young."""
    days = [datetime(2026, 3, d, 10, tzinfo=ZONES[0]) for d in (1, 2, 8, 25, 28)]
    for at in days:
        store.record(Review("a", 5, at))
    assert [r["interval_before"] for r in store.reviews("a")] == [None, 1, 6, 17, 48]
    assert (store.card_summary("a").young_seen, store.card_summary("a").mature_seen) == (3, 1)
    assert [d.mature_seen for d in store.day_summaries()] == [0, 0, 0, 0, 1]
    store.delete_review(store.reviews("a")[1]["id"])
    assert [r["interval_before"] for r in store.reviews("a")] == [None, 1, 6, 17]
    assert (store.card_summary("a").young_seen, store.card_summary("a").mature_seen) == (3, 0)
    assert [(d.young_seen, d.mature_seen) for d in store.day_summaries()] == [(0, 0), (1, 0), (1, 0), (1, 0)]
    assert store.check() == []
    assert_matches_log(store)


def test_card_age_is_the_sm2_interval_under_the_fsrs_scheduler_too(store):
    """The README defines card age by SM-2; with the FSRS hook setting the due dates the
    stored ages are still 1, 6, 17, 48 (as in the undo test above), and rebuild agrees."""
    from dlprep.core import memory

    store.replay_log = memory.fsrs_state
    for d in (1, 2, 8, 25, 28):
        store.record(Review("a", 5, datetime(2026, 3, d, 10, tzinfo=ZONES[0])))
    assert [r["interval_before"] for r in store.reviews("a")] == [None, 1, 6, 17, 48]
    incremental = tables(store)
    store.rebuild()
    assert tables(store) == incremental and store.check() == []


def test_rebuild_reports_progress_to_the_end(store):
    at = datetime(2026, 3, 1, 10, tzinfo=ZONES[0])
    for i in range(120):
        store.record(Review(f"c{i}", 4, at))
    calls: list[tuple[int, int]] = []
    store.rebuild(lambda done, total: calls.append((done, total)))
    assert calls[-1] == (121, 121)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 3
    assert {t for _, t in calls} == {121}


def test_upgrade_to_m004_fills_summaries_from_the_existing_log(tmp_path):
    from sqlite_utils import Database

    path = tmp_path / "dlprep.db"
    conn = sqlite3.connect(path, isolation_level=None)
    build_migrations().apply(Database(conn, execute_plugins=False), stop_before="m004_summaries_and_indexes")
    conn.executemany(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour, seconds, points_hit)"
        " VALUES (?, ?, ?, ?, 'review', 1, 4, ?, ?)",
        [
            ("old", "2026-11-01T10:00:00+01:00", "2026-11-01T09:00:00.000000Z", 5, 12.0, "[0, 1]"),
            ("old", "2026-11-02T10:00:00+01:00", "2026-11-02T09:00:00.000000Z", 2, None, None),
            ("new", "2026-11-02T11:00:00+01:00", "2026-11-02T10:00:00.000000Z", 4, 3.5, "[1]"),
        ],
    )
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    s = Store.open(path)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert s.card_summary("old").recent == [5, 2]
    assert [(d.day, d.reviews, d.seen_before, d.recalled) for d in s.day_summaries()] == [
        (date(2026, 11, 1), 1, 0, 0),
        (date(2026, 11, 2), 2, 1, 0),
    ]
    assert s.point_hits() == {"old": {0: 1, 1: 1}, "new": {1: 1}}
    assert s.timing() == (2, 7.75)
    assert_matches_log(s)
    s.close()


def test_upgrade_to_m005_fills_card_ages_from_the_existing_log(tmp_path):
    """A schema-4 database with reviews: opening it stores each review's card age and
    recounts the summaries by it (intervals 1, 6, 17, 48: see the undo test above)."""
    from sqlite_utils import Database

    path = tmp_path / "dlprep.db"
    conn = sqlite3.connect(path, isolation_level=None)
    build_migrations().apply(Database(conn, execute_plugins=False), stop_before="m005_card_age")
    rows = [("a", f"2026-03-{d:02d}T10:00:00+01:00", f"2026-03-{d:02d}T09:00:00.000000Z", 5, 1, None) for d in (1, 2)]
    rows += [("a", "2026-03-02T11:00:00+01:00", "2026-03-02T10:00:00.000000Z", 1, 0, "missed")]  # a repeat
    rows += [
        ("a", f"2026-03-{d:02d}T10:00:00+01:00", f"2026-03-{d:02d}T09:00:00.000000Z", 5, 1, "got") for d in (8, 25)
    ]
    rows += [("a", "2026-04-30T10:00:00+01:00", "2026-04-30T09:00:00.000000Z", 2, 1, None)]
    rows += [("b", "2026-04-30T10:00:00+01:00", "2026-04-30T09:00:00.000000Z", 4, 1, "got")]
    conn.executemany(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour, follow_up)"
        " VALUES (?, ?, ?, ?, 'review', ?, 4, ?)",
        rows,
    )
    # (schema 4's summaries are left empty here: every upgrade recomputes them all from the log)
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    s = Store.open(path)
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [r["interval_before"] for r in s.reviews("a")] == [None, 1, None, 6, 17, 48]
    assert [r["interval_before"] for r in s.reviews("b")] == [None]
    a = s.card_summary("a")
    assert (a.young_seen, a.young_recalled, a.mature_seen, a.mature_recalled) == (3, 3, 1, 0)
    assert (a.follow_up_got, a.follow_up_missed) == (2, 1)
    assert [(d.day.isoformat(), d.young_seen, d.mature_seen) for d in s.day_summaries()][-1] == ("2026-04-30", 0, 1)
    # (card_state is not under test: the rows above were written without it)
    assert summaries.stale_intervals(s.conn) == [] and summaries.differences(s.conn) == []
    assert_matches_log(s)
    s.close()


def test_summary_types_round_trip(store):
    store.record(Review("a", 4, datetime(2026, 3, 1, 10, tzinfo=ZONES[0]), seconds=2.0, card_hash="h"))
    card = store.card_summary("a")
    assert CardSummary.from_dict(card.to_dict()) == card
    assert card.to_dict()["last_hash"] == "h"
    day = store.day_summaries()[0]
    assert DaySummary.from_dict(day.to_dict()) == day
    assert day.to_dict()["day"] == "2026-03-01"


# ------------------------------------------------------------ query plans


def plans_during(store: Store, action) -> list[str]:
    """Run ``action`` and return the query plan lines of every statement it ran."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        store.conn.set_trace_callback(None)
    lines = []
    for sql in statements:
        head = sql.lstrip().split(None, 1)[0].upper()
        if head in {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"}:
            continue
        for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall():
            lines.append(f"{row[3]}   <- {' '.join(sql.split())}")
    return lines


def log_scans(lines: list[str]) -> list[str]:
    """Plan lines that read the review log (``reviews``, aliased r or p) in full.
    Walking an index in order to stop at the first row (``ORDER BY ... LIMIT 1``) is not."""
    return [
        ln
        for ln in lines
        if ln.startswith(("SCAN reviews ", "SCAN r ", "SCAN p "))
        and not ("USING INDEX" in ln and ln.endswith("LIMIT 1"))
    ]


@pytest.fixture
def big_store(store):
    """Enough history that SQLite's planner has something to choose between."""
    rng = random.Random(7)
    random_history(store, rng, 300)
    store.conn.execute("ANALYZE")
    return store


def test_recording_and_undoing_a_review_never_scan_the_log(big_store):
    at = datetime(2026, 9, 1, 10, tzinfo=ZONES[0])
    lines = plans_during(big_store, lambda: big_store.record(Review("c1", 4, at, points_hit=(0,), seconds=3.0)))
    assert any("idx_reviews_day" in ln for ln in lines)  # the day is refreshed through its index
    assert any("idx_reviews_card_id_at_utc" in ln for ln in lines)
    assert log_scans(lines) == []
    last = big_store.last_review("c1")["id"]
    lines = plans_during(big_store, lambda: big_store.delete_review(last))
    assert log_scans(lines) == [] and lines


def test_everyday_reads_never_scan_the_log(big_store):
    day = date(2026, 4, 1)
    reads = [
        lambda: big_store.state("c1"),
        big_store.states,
        lambda: big_store.due_states(day),
        lambda: big_store.due_days(day, day + timedelta(days=14)),
        big_store.timing,
        big_store.last_seen,
        big_store.card_summaries,
        lambda: big_store.card_summary("c1"),
        lambda: big_store.day_summaries(day - timedelta(days=13), day),
        big_store.point_hits,
        lambda: big_store.point_hits(["c1", "c2"]),
        big_store.last_review,
        lambda: big_store.last_review("c2"),
        lambda: big_store.reviews("c3"),
    ]
    for read in reads:
        lines = plans_during(big_store, read)
        assert lines and log_scans(lines) == [], lines


def test_the_due_list_reads_through_the_due_index(big_store):
    lines = plans_during(big_store, lambda: big_store.due_states(date(2026, 4, 1)))
    assert any("idx_card_state_due" in ln for ln in lines), lines


def test_the_day_expression_is_the_indexed_one():
    """The index is matched on the expression's text: the migration and DAY_SQL must agree."""
    from dlprep.core.migrations import m004_summaries_and_indexes

    class Recorder:
        def __init__(self):
            self.statements: list[str] = []

        def execute(self, sql):
            self.statements.append(sql)

    rec = Recorder()
    m004_summaries_and_indexes(rec)
    assert any(summaries.DAY_SQL in sql and "idx_reviews_day" in sql for sql in rec.statements)


# ------------------------------------------------------------ db rebuild's progress bar


def test_db_rebuild_shows_a_progress_bar_on_a_terminal_only(tmp_path, dlprep_home, small_bank, cli):
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    s = Store.open(dlprep_home / "dlprep.db")
    for i in range(30):
        s.record(Review("c1", 4, datetime(2026, 3, 1, 10, tzinfo=ZONES[0]) + timedelta(days=7 * i)))
    s.close()
    piped = cli("db", "rebuild")
    assert piped.exit_code == 0 and piped.stderr == ""
    assert piped.stdout == "rebuilt 1 card states from the log; 0 changed\n"
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "DLPREP_HOME": str(dlprep_home)}
    child = pexpect.spawn(
        sys.executable, ["-m", "dlprep", "db", "rebuild"], env=env, encoding="utf-8", timeout=20, dimensions=(24, 100)
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "rebuilding from the review log" in child.before
    assert "rebuilt 1 card states from the log; 0 changed" in child.before


def test_stats_queries_never_scan_the_log(big_store):
    """`dlprep stats` reads the summaries (card age and follow-ups included, m005), and with
    --topic the topic's reviews through the (card_id, at_utc) index: never the whole log."""
    from dlprep.core import stats_queries as Q

    today = date(2026, 4, 1)
    cards = [(f"c{i}", "one" if i < 2 else "two", 4) for i in range(6)]
    for scope in (Q.Scope(today, cards), Q.Scope(today, cards[:2], topic_only=True)):
        reads = [
            lambda s=scope: Q.retention_by_age(big_store, s),
            lambda s=scope: Q.follow_ups(big_store, s),
            lambda s=scope: Q.totals(big_store, s),
            lambda s=scope: Q.days(big_store, s, today - timedelta(days=100)),
            lambda s=scope: Q.streaks(big_store, s),
            lambda s=scope: Q.retention(big_store, s),
            lambda s=scope: Q.weekly_retention(big_store, s),
            lambda s=scope: Q.topics(big_store, s),
            lambda s=scope: Q.missed_points(big_store, s),
            lambda s=scope: Q.forecast(big_store, s, 30),
        ]
        for read in reads:
            lines = plans_during(big_store, read)
            assert lines and log_scans(lines) == [], lines
    topic_age = plans_during(big_store, lambda: Q.retention_by_age(big_store, Q.Scope(today, cards[:2], True)))
    assert any("idx_reviews_card_id_at_utc (card_id=? AND at_utc>?)" in ln for ln in topic_age), topic_age
