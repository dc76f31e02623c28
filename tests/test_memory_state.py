"""Each card's FSRS memory state kept in the database (card_memory, migration m006):
the review transaction keeps it equal to what `db rebuild` recomputes, both equal a
replay of the whole log (memory.memory_states, the forecast's old path), the
forecast prints the same from it, and the forecast's reads never scan the log."""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_summaries import ZONES, log_scans, plans_during, random_history

from dlprep.core import memory, memory_state
from dlprep.core.migrations import SCHEMA_VERSION, build_migrations
from dlprep.core.store import Review, Store
from dlprep.features import forecast
from dlprep.features.plan import Plan, save_plan

W = memory.DEFAULT_PARAMETERS
FITTED = (1.0, 2.0, 3.0, 9.0, *W[4:])  # other initial stabilities, within the fsrs bounds
FITTED_2 = (*W[:20], 0.5)  # another decay
BANK = Path(__file__).parent / "fixtures" / "bank"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "dlprep.db")
    s.conn.execute("PRAGMA synchronous = OFF")  # durability is not under test
    yield s
    s.close()


@pytest.fixture(scope="module")
def bank():
    from dlprep.core.bank import load_bank

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLPREP_BUNDLED_BANK", str(BANK))  # the three-card fixture bank
        return load_bank()


def replayed(store: Store, params: tuple[float, ...]) -> tuple[dict[str, memory.MemoryState], int]:
    """The states and usable count from the whole log, as the forecast computed them before m006."""
    rows = forecast.log_rows(store)
    return memory.memory_states(rows, params), memory.usable_reviews(rows)


def stored(store: Store) -> tuple[dict[str, memory.MemoryState], int]:
    return store.memory_states(), store.usable_reviews()


def rows(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT * FROM card_memory ORDER BY card_id").fetchall()


def fit_setting(values: tuple[float, ...]) -> dict:
    return forecast.Parameters(values, 600, "2026-11-20").to_dict()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, 1, hour, tzinfo=UTC) + timedelta(days=day)


# ---------------------------------------------------------------- incremental = rebuilt = replayed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_states_equal_rebuilt_ones_and_a_replay_of_the_log(store, seed):
    """Random histories across offsets, rollover hours 0/4/23, repeats and undos: the
    stored floats are exactly the replayed ones (same steps, same order)."""
    random_history(store, random.Random(seed), 150, undo_every=7)
    assert store.memory_parameters() == W
    states, usable = stored(store)
    assert (states, usable) == replayed(store, W)
    assert len(states) == 6 and usable > 0
    incremental = rows(store)
    store.rebuild()
    assert rows(store) == incremental and store.check() == []


def test_a_review_logged_before_the_cards_later_ones_replays_the_card(store):
    """Only scheduling reviews must come in order: a repeat may be logged at an earlier
    time. Then one step on top of the stored state would be wrong; the card is replayed."""
    store.record(Review("a", 4, at(0)))
    store.record(Review("a", 2, at(5)))
    store.record(Review("a", 5, at(2), mode="repeat", counts=False))  # between the two
    states, _ = stored(store)
    assert states == replayed(store, W)[0]
    assert states["a"].last_day == date(2026, 11, 6) and states["a"].reviews == 3
    only_steps = memory.Replayer(W).replay([(4, date(2026, 11, 1)), (2, date(2026, 11, 6)), (5, date(2026, 11, 3))])
    assert states["a"] != only_steps  # what stepping in arrival order would have stored


def test_reviews_at_the_same_instant_step_in_logging_order(store):
    store.record(Review("a", 1, at(0)))
    store.record(Review("a", 5, at(0), mode="repeat", counts=False))  # same at_utc: after it (id order)
    assert stored(store) == replayed(store, W)
    assert store.memory_state("a") == memory.Replayer(W).replay([(1, date(2026, 11, 1)), (5, date(2026, 11, 1))])


def test_usable_reviews_stop_at_the_64th_and_skip_same_day_repeats(store):
    """The optimizer's count, kept per card: a review a study day or more after the
    card's previous one, among its first 64 reviews."""
    for day in range(63):
        store.record(Review("a", 4, at(day)))
    assert store.usable_reviews() == 62
    store.record(Review("a", 4, at(62, 13), mode="repeat", counts=False))  # 64th review, same day: not usable
    assert store.usable_reviews() == 62
    store.record(Review("b", 4, at(0)))
    for day in range(1, 65):
        store.record(Review("b", 4, at(day)))
    assert store.memory_state("b").reviews == 65
    assert store.usable_reviews() == 62 + 63  # b's 64th counts, its 65th does not
    assert store.usable_reviews() == replayed(store, W)[1]


def test_undo_replays_the_card_and_its_last_undo_removes_its_row(store):
    for day, grade in ((0, 4), (3, 1), (9, 5)):
        store.record(Review("a", grade, at(day)))
    store.record(Review("b", 3, at(1)))
    ids = [r["id"] for r in store.reviews("a")]
    store.delete_review(ids[1])
    assert store.memory_state("a") == memory.Replayer(W).replay([(4, date(2026, 11, 1)), (5, date(2026, 11, 10))])
    assert stored(store) == replayed(store, W)
    for review_id in (ids[0], ids[2]):
        store.delete_review(review_id)
    assert set(store.memory_states()) == {"b"} and store.check() == []


def test_records_use_the_recorded_parameters_until_a_read_moves_them(store, bank):
    """Recording a review never reads the fitted setting (nor imports fsrs): it steps
    with the parameters the rows were computed with. The forecast, seeing other
    parameters in use, recomputes every row once."""
    store.record(Review("alpha", 4, at(0)))
    store.set_setting(forecast.PARAMS_KEY, fit_setting(FITTED))
    store.record(Review("alpha", 3, at(4)))
    assert store.memory_parameters() == W and stored(store) == replayed(store, W)
    f = forecast.build_forecast(bank, store, date(2026, 11, 30))
    assert store.memory_parameters() == FITTED and stored(store) == replayed(store, FITTED)
    assert f.cards[0].state == replayed(store, FITTED)[0]["alpha"] and f.params.fitted
    store.set_setting(forecast.PARAMS_KEY, {"parameters": [1.0, 2.0]})  # damaged: the defaults again
    forecast.card_memory(store, "alpha", date(2026, 11, 30))
    assert store.memory_parameters() == W and stored(store) == replayed(store, W)


def test_fit_recomputes_every_row_with_the_fitted_parameters(store, monkeypatch):
    for day in range(3):
        store.record(Review("a", 4, at(day)))
    log = [(f"c{i}", 4, at(day), 4) for day in range(60) for i in range(10)]  # 590 usable
    monkeypatch.setattr(forecast, "log_rows", lambda _store: log)
    monkeypatch.setattr(memory, "fit_parameters", lambda _rows: FITTED)
    forecast.fit(store, date(2028, 1, 1))
    monkeypatch.undo()
    assert store.memory_parameters() == FITTED  # by the fit itself, before any read
    assert stored(store) == replayed(store, FITTED) and store.check() == []


def test_a_read_only_database_with_other_parameters_is_replayed_not_written(store, bank):
    store.record(Review("alpha", 4, at(0)))
    store.set_setting(forecast.PARAMS_KEY, fit_setting(FITTED))
    before = rows(store)
    store.read_only = True
    f = forecast.build_forecast(bank, store, date(2026, 11, 30))
    assert f.cards[0].state == replayed(store, FITTED)[0]["alpha"]
    card = forecast.card_memory(store, "alpha", date(2026, 11, 30))
    assert card["stability"] == replayed(store, FITTED)[0]["alpha"].stability
    assert rows(store) == before and store.memory_parameters() == W


# ---------------------------------------------------------------- the forecast prints what it printed before


def old_forecast(bank, store: Store, day: date, topics: list[str] | None = None) -> dict:
    """The forecast as computed before m006: the whole log replayed on every run."""
    params = forecast.parameters(store)
    states, usable = replayed(store, params.values)
    cards = forecast.recall_on(bank, states, day, params)
    if topics:
        cards = [c for c in cards if c.topic in topics]
    return forecast.Forecast(day, params, cards, usable).to_dict()


CARDS = ("alpha", "beta", "gamma", "gone")  # "gone": reviewed, no longer in the bank
OPS = st.one_of(
    st.tuples(
        st.just("review"),
        st.sampled_from(CARDS),
        st.integers(0, 5),  # grade
        st.sampled_from((0, 1, 5, 20, 30, 80)),  # hours since the previous review
        st.sampled_from((0, 4, 23)),  # rollover hour
        st.integers(0, len(ZONES) - 1),
        st.booleans(),  # counts
        st.booleans(),  # logged 3 days in the past (a repeat) instead of now
    ),
    st.tuples(st.just("undo"), st.integers(0, 10**6)),
    st.tuples(st.just("params"), st.sampled_from(("fitted", "fitted2", "damaged", "none"))),
    st.tuples(st.just("read"), st.integers(0, 60)),
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=30))
def test_forecast_from_stored_states_is_the_forecast_replayed_from_the_log(bank, ops):
    """Random histories with undo, rollover-hour and zone changes, out-of-order repeats,
    and parameter changes (a fit, another fit, a damaged setting, none): the forecast's
    JSON, each card's memory and the final window's order are those a replay of the log
    gives, at every read and at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Store.open(Path(tmp) / "dlprep.db")
        s.conn.execute("PRAGMA synchronous = OFF")
        now = datetime(2026, 11, 1, 9, tzinfo=UTC)
        try:
            for op in ops:
                if op[0] == "review":
                    _, card, grade, hours, rollover, zone, counts, past = op
                    now += timedelta(hours=hours)
                    when = (now - timedelta(days=3) if past else now).astimezone(ZONES[zone])
                    if counts and not past:
                        s.record(Review(card, grade, when), rollover_hour=rollover)
                    else:  # only reviews that do not move the schedule can be logged out of order
                        s.record(Review(card, grade, when, mode="repeat", counts=False), rollover_hour=rollover)
                elif op[0] == "undo":
                    ids = [r[0] for r in s.conn.execute("SELECT id FROM reviews ORDER BY id")]
                    if ids:
                        s.delete_review(ids[op[1] % len(ids)])
                elif op[0] == "params":
                    value = {
                        "fitted": fit_setting(FITTED),
                        "fitted2": fit_setting(FITTED_2),
                        "damaged": {"parameters": ["x"]},
                        "none": None,
                    }[op[1]]
                    s.set_setting(forecast.PARAMS_KEY, value)
                else:
                    _compare(bank, s, now.date() + timedelta(days=op[1]))
            _compare(bank, s, now.date() + timedelta(days=10))
            s.rebuild()
            assert s.check() == []
        finally:
            s.close()


def _compare(bank, s: Store, day: date) -> None:
    assert forecast.build_forecast(bank, s, day).to_dict() == old_forecast(bank, s, day)
    assert forecast.build_forecast(bank, s, day, ["basics"]).to_dict() == old_forecast(bank, s, day, ["basics"])
    params = forecast.parameters(s)
    assert forecast.memory_states(s) == (params, *replayed(s, params.values))  # the final window's order
    for card in CARDS:
        log = [(r["grade"], datetime.fromisoformat(r["at"]), r["rollover_hour"]) for r in s.reviews(card)]
        want = memory.Replayer(params.values).replay(memory.study_days(log))
        got = forecast.card_memory(s, card, day)
        assert (memory.MemoryState.from_dict(got) if got else None) == want
    assert s.check() == []


# ---------------------------------------------------------------- upgrade, db check


def schema_5_database(path: Path, setting: dict | None) -> None:
    """A database as dlprep wrote it before m006, with reviews across zones and
    rollover hours (a repeat among them) and, if given, a fitted-parameters setting."""
    from sqlite_utils import Database

    conn = sqlite3.connect(path, isolation_level=None)
    build_migrations().apply(Database(conn, execute_plugins=False), stop_before="m006_card_memory")
    log = [
        ("a", "2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00.000000Z", 4, 1, 4),
        ("a", "2026-03-02T03:30:00+01:00", "2026-03-02T02:30:00.000000Z", 1, 1, 4),  # still 03-01 at rollover 4
        ("a", "2026-03-02T03:45:00+01:00", "2026-03-02T02:45:00.000000Z", 5, 0, 0),  # 03-02 at rollover 0
        ("a", "2026-03-09T22:00:00-08:00", "2026-03-10T06:00:00.000000Z", 3, 1, 23),  # 03-08 at rollover 23
        ("b", "2026-03-05T10:00:00+05:30", "2026-03-05T04:30:00.000000Z", 2, 1, 4),
    ]
    conn.executemany(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, rollover_hour)"
        " VALUES (?, ?, ?, ?, 'review', ?, ?)",
        log,
    )
    if setting is not None:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (forecast.PARAMS_KEY, json.dumps(setting)))
    # (its summaries are left empty here: every upgrade recomputes them all from the log)
    conn.execute("PRAGMA user_version = 5")
    conn.close()


@pytest.mark.parametrize(
    ("setting", "params"),
    [(None, W), (fit_setting(FITTED), FITTED), ({"parameters": [1.0, 2.0]}, W)],
    ids=["defaults", "fitted", "damaged-setting"],
)
def test_upgrade_to_m006_stores_the_replayed_states_with_the_parameters_in_use(tmp_path, setting, params):
    schema_5_database(tmp_path / "dlprep.db", setting)
    s = Store.open(tmp_path / "dlprep.db")
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert s.memory_parameters() == params
    states, usable = stored(s)
    assert (states, usable) == replayed(s, params)
    # the study days follow each review's own rollover hour: 03-01 twice, 03-02, 03-08
    assert (states["a"].last_day, states["a"].reviews, usable) == (date(2026, 3, 8), 4, 2)
    assert memory_state.differences(s.conn) == []
    s.close()


def test_db_check_names_a_tampered_memory_row_within_a_float_tolerance(store):
    for day, grade in ((0, 4), (2, 3), (7, 5)):
        store.record(Review("a", grade, at(day)))
    store.record(Review("b", 2, at(1)))
    stability = store.memory_state("a").stability
    # a difference below the tolerance (1e-9 relative) is float noise, not a problem
    store.conn.execute("UPDATE card_memory SET stability = ? WHERE card_id = 'a'", (stability * (1 + 1e-12),))
    assert store.check() == []
    store.conn.execute("UPDATE card_memory SET stability = ? WHERE card_id = 'a'", (stability * (1 + 1e-8),))
    store.conn.execute("UPDATE card_memory SET usable = usable + 1 WHERE card_id = 'b'")
    store.conn.execute("INSERT INTO card_memory VALUES ('ghost', 1.0, 5.0, '2026-11-01', 1, 0)")
    assert store.check() == [
        "card_memory for card a differs from the review log (run `dlprep db rebuild`)",
        "card_memory for card b differs from the review log (run `dlprep db rebuild`)",
        "card_memory for card ghost differs from the review log (run `dlprep db rebuild`)",
    ]
    store.rebuild()
    assert store.check() == [] and stored(store) == replayed(store, W)
    store.conn.execute("DELETE FROM card_memory WHERE card_id = 'b'")
    store.set_setting(forecast.PARAMS_KEY, fit_setting(FITTED))  # not yet recomputed: a read or rebuild does it
    assert store.check() == [
        "card_memory for card b differs from the review log (run `dlprep db rebuild`)",
        "card_memory: computed with other FSRS parameters than those in use (run `dlprep db rebuild`)",
    ]
    store.rebuild()
    assert store.check() == [] and store.memory_parameters() == FITTED


def test_db_check_command_reports_a_tampered_memory_row(cli, clock, dlprep_home, small_bank):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-10")
    conn = sqlite3.connect(dlprep_home / "dlprep.db")
    conn.execute("UPDATE card_memory SET difficulty = difficulty + 0.5")
    conn.commit()
    conn.close()
    res = cli("db", "check")
    assert res.exit_code == 1
    assert "card_memory for card alpha differs from the review log (run `dlprep db rebuild`)" in res.stdout
    assert cli("db", "rebuild").exit_code == 0 and cli("db", "check").exit_code == 0


def test_a_removed_parameters_row_is_recomputed_by_the_next_review(store):
    store.record(Review("a", 4, at(0)))
    store.conn.execute("DELETE FROM memory_parameters")
    assert store.check() == ["memory_parameters: missing, so card_memory cannot be checked (run `dlprep db rebuild`)"]
    store.record(Review("a", 3, at(2)))
    assert store.memory_parameters() == W and stored(store) == replayed(store, W) and store.check() == []


# ---------------------------------------------------------------- query plans


def test_the_forecast_paths_of_today_and_plan_never_scan_the_log(store, bank):
    """`today` and `plan` show the interview-day forecast, and in the plan's last days
    order the due list by it: both read card_memory (one row per card), never the log."""
    random_history(store, random.Random(5), 300)
    store.conn.execute("ANALYZE")
    save_plan(store, Plan("mle", date(2026, 3, 1), date(2026, 4, 10)))
    plan = Plan("mle", date(2026, 3, 1), date(2026, 4, 10))
    states = store.states()
    reads = [
        lambda: forecast.interview_forecast(bank, store, plan),
        lambda: forecast.final_window_due(bank, store, states, date(2026, 4, 8), 4, 50),
        lambda: forecast.card_memory(store, "c1", date(2026, 4, 1)),
        lambda: forecast.build_forecast(bank, store, date(2026, 4, 1), ["basics"]),
    ]
    for read in reads:
        lines = plans_during(store, read)
        assert any("card_memory" in ln for ln in lines) and log_scans(lines) == [], lines
    assert forecast.final_window_due(bank, store, states, date(2026, 4, 8), 4, 50) is not None  # in the window
    # the recomputation after a change of parameters does read the log (once), as it must
    store.set_setting(forecast.PARAMS_KEY, fit_setting(FITTED))
    assert log_scans(plans_during(store, lambda: forecast.interview_forecast(bank, store, plan)))
    assert log_scans(plans_during(store, lambda: forecast.interview_forecast(bank, store, plan))) == []


# ---------------------------------------------------------------- db rebuild and db check: one replay of the log


@pytest.mark.parametrize("hook", ["sm2", "fsrs"])
def test_one_replay_gives_what_the_separate_replays_gave(store, hook):
    """`db rebuild` and `db check` replay the log once (Store.replay_all) for the card
    states, the card ages and the memory rows; each equals its own replay: the scheduler's
    (SM-2 over the scheduling reviews with their due caps, or the FSRS hook over the whole
    log), summaries.stale_intervals, and memory_state.derived."""
    from dlprep.core import scheduler, summaries

    if hook == "fsrs":
        store.replay_log = memory.fsrs_state
    random_history(store, random.Random(11), 120, undo_every=9)
    for day in range(5):  # a plan's due cap, which moves due dates but not intervals
        store.record(Review("capped", 5, datetime(2026, 9, 1 + 3 * day, 10, tzinfo=UTC)), due_cap=date(2026, 9, 20))
    store.record(Review("repeat-only", 3, datetime(2026, 9, 2, tzinfo=UTC), mode="repeat", counts=False))
    store.conn.execute("UPDATE reviews SET interval_before = 99 WHERE id % 5 = 0")  # stale ages to find
    log = store.review_log()
    if hook == "sm2":
        want = {cid: scheduler.replay([e[:4] for e in entries if e[4]]) for cid, entries in log.items()}
        want = {cid: st for cid, st in want.items() if st.reviews}
    else:
        want = {cid: st for cid, entries in log.items() if (st := memory.fsrs_state(entries)) is not None}
    assert store.state("capped").due == date(2026, 9, 20) and "repeat-only" not in want
    got = store.replay_all(FITTED)
    assert got.states == want
    assert got.stale_ages == summaries.stale_intervals(store.conn) != []
    assert got.memory == list(memory_state.derived(store.conn, FITTED))
    assert store.replay_all().memory == [] and store.derive_states() == want
    store.rebuild()
    assert store.check() == [] and stored(store) == replayed(store, W)
