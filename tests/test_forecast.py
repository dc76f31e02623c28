"""Recall forecast, interview-day ordering, FSRS as a scheduler, and the simulator (small)."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dlprep.config import Config
from dlprep.core import memory, scheduler
from dlprep.core.scheduler import CardState
from dlprep.core.store import Review, Store
from dlprep.errors import DlprepError
from dlprep.features import forecast, scheduling, simulate
from dlprep.features.plan import Plan, save_plan

pytestmark = pytest.mark.usefixtures("small_bank")

W = memory.DEFAULT_PARAMETERS
F = 0.9 ** (-1 / W[20]) - 1


def r(t: float, s: float) -> float:  # FSRS-6 forgetting curve, written out
    return (1 + F * t / s) ** -W[20]


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "t.db")
    yield s
    s.close()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, 1, hour, tzinfo=UTC) + timedelta(days=day)


# ---------------------------------------------------------------- forecast


def test_forecast_json_per_card_topic_and_overall(cli, clock):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-10")  # Good: S = w2
    cli("review", "gamma", "--grade", "5", "--at", "2026-11-12")  # Easy: S = w3
    clock("2026-11-21T10:00:00+01:00")
    data = cli.json("forecast", "--on", "2026-11-30")
    ra, rg = r(20, W[2]), r(18, W[3])
    assert data["day"] == "2026-11-30" and data["studied_cards"] == 2 and data["parameters"] == "default"
    cards = {c["id"]: c for c in data["cards"]}
    assert cards["alpha"]["recall"] == round(ra, 4) and cards["alpha"]["stability"] == W[2]
    assert cards["gamma"]["recall"] == round(rg, 4)
    assert [c["id"] for c in data["cards"]] == ["alpha", "gamma"]  # lowest recall first
    assert data["at_risk"] == ["alpha", "gamma"]
    assert data["overall"] == round((ra + rg) / 2, 4)
    assert data["topics"] == [
        {"topic": "basics", "cards": 1, "recall": round(ra, 4)},
        {"topic": "advanced", "cards": 1, "recall": round(rg, 4)},
    ]
    assert data["reviews_needed_to_fit"] == 512 and data["usable_reviews"] == 0
    text = cli("forecast", "--on", "2026-11-30").stdout
    assert f"Expected recall on 2026-11-30 (in 9 day(s)): {(ra + rg) / 2:.0%} of 2 studied cards" in text
    assert "default FSRS-6 parameters" in text and "alpha" in text
    only = cli.json("forecast", "--on", "2026-11-30", "--topic", "advanced")
    assert [c["id"] for c in only["cards"]] == ["gamma"]


def test_forecast_defaults_to_the_interview_then_today(cli, clock):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20")
    assert cli.json("forecast")["day"] == "2026-11-21"  # no plan: today
    cli("plan", "--role", "mle", "--interview", "2026-12-05")
    assert cli.json("forecast")["day"] == "2026-12-05"


def test_forecast_refuses_a_past_or_bad_day_in_one_line(cli, clock):
    res = cli("forecast", "--on", "2026-11-20")
    assert res.exit_code != 0 and res.stderr.count("\n") == 1 and "in the past" in res.stderr
    assert cli("forecast", "--on", "2026-11-21").exit_code == 0  # today is allowed
    res = cli("forecast", "--on", "12/12/2026")
    assert res.exit_code != 0 and "use YYYY-MM-DD" in res.stderr


def test_forecast_with_no_reviews(cli, clock):
    assert "No studied cards yet" in cli("forecast").stdout
    assert cli.json("forecast")["overall"] is None


def test_fitted_parameters_are_used_and_named(store):
    store.record(Review("alpha", 4, at(0)))
    assert forecast.parameters(store).fitted is False
    fitted = (1.0, *W[1:])  # a different S0 for Again; valid bounds
    store.set_setting(forecast.PARAMS_KEY, forecast.Parameters(fitted, 600, "2026-11-20").to_dict())
    p = forecast.parameters(store)
    assert p.fitted and p.values == fitted and "fitted to your log (600 reviews, 2026-11-20)" in p.describe()
    store.set_setting(forecast.PARAMS_KEY, {"parameters": [1.0, 2.0]})  # damaged: back to the defaults
    assert forecast.parameters(store).values == W


def test_fit_needs_512_usable_reviews(store, monkeypatch):
    # ten cards, each reviewed on 52 study days: 51 x 10 = 510 reviews come a day or more after the previous one
    rows = [(f"c{i}", 4, at(day), 4) for day in range(52) for i in range(10)]
    monkeypatch.setattr(forecast, "log_rows", lambda _store: rows)
    assert memory.usable_reviews(rows) == 510
    with pytest.raises(DlprepError, match=r"needs 512 reviews .* your log has 510"):
        forecast.fit(store, date(2028, 1, 1))
    rows.append(("c0", 4, at(51, 13), 4))  # a second review the same study day is not usable
    assert memory.usable_reviews(rows) == 510
    rows += [("c1", 4, at(52), 4), ("c2", 4, at(52), 4)]  # 512: the optimizer runs
    assert memory.usable_reviews(rows) == 512
    monkeypatch.setattr(memory, "fit_parameters", lambda _rows: (1.0, *W[1:]))
    params, used = forecast.fit(store, date(2028, 1, 1))
    assert used == 512 and forecast.parameters(store) == params and params.values[0] == 1.0


def test_the_optimizer_learns_from_each_cards_first_64_reviews_only():
    rows = [("c", 4, at(day), 4) for day in range(64)]
    assert memory.usable_reviews(rows) == 63
    assert memory.usable_reviews([*rows, ("c", 4, at(64), 4)]) == 63  # the 65th is not used


def test_fit_without_the_optimizer_packages_says_what_to_install(store, monkeypatch):
    rows = [(f"c{i}", 4, at(day), 4) for day in range(60) for i in range(10)]
    monkeypatch.setattr(forecast, "log_rows", lambda _store: rows)

    def missing(_rows):
        raise ImportError("torch")

    monkeypatch.setattr(memory, "fit_parameters", missing)
    with pytest.raises(DlprepError, match=r"pip install 'dlprep\[fit\]'"):
        forecast.fit(store, date(2028, 1, 1))
    assert forecast.parameters(store).fitted is False


def test_card_shows_memory_state(cli, clock):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-19")
    data = cli.json("card", "alpha")
    assert data["memory"]["stability"] == W[2]
    assert data["memory"]["retrievability"] == round(r(2, W[2]), 4)
    assert "memory (FSRS, default parameters): stability 2.3 days" in cli("card", "alpha").stdout
    assert cli.json("card", "beta")["memory"] is None


# ---------------------------------------------------------------- the plan's final window


def _studied(store: Store, recalls: dict[str, int]) -> None:
    """Review each card once on day 0 with a grade (sets its stability)."""
    for cid, grade in recalls.items():
        store.record(Review(cid, grade, at(0)))


def _window(store: Store, bank, day: date, cap: int = 100):
    states = store.states()
    return forecast.final_window_due(bank, store, states, day, 4, cap)


def test_final_window_boundaries_order_and_share(store):
    from dlprep.core.bank import load_bank

    bank = load_bank()
    _studied(store, {"alpha": 5, "beta": 3, "gamma": 4})  # Easy, Hard, Good: stabilities w3 > w2 > w1
    interview = date(2026, 11, 20)
    save_plan(store, Plan("mle", date(2026, 11, 1), interview))
    assert _window(store, bank, date(2026, 11, 16)) is None  # 4 days before: not yet
    assert _window(store, bank, interview) is None  # the day itself: over
    # 3 days before: ceil(3 / 3) = 1 card, the one weakest on interview day (beta: Hard)
    chosen, waiting = _window(store, bank, date(2026, 11, 17))
    assert [d.card.id for d in chosen] == ["beta"] and waiting == 2
    # the eve: all of them, weakest first
    chosen, _ = _window(store, bank, date(2026, 11, 19))
    assert [d.card.id for d in chosen] == ["beta", "gamma", "alpha"]
    # 2 days before: ceil(3 / 2) = 2, at most review_cap
    assert len(_window(store, bank, date(2026, 11, 18))[0]) == 2
    assert len(_window(store, bank, date(2026, 11, 18), cap=1)[0]) == 1
    # a card reviewed inside the window is not asked for again until it is due
    store.record(Review("beta", 4, datetime(2026, 11, 17, 12, tzinfo=UTC)))
    chosen, _ = _window(store, bank, date(2026, 11, 18))
    assert "beta" not in [d.card.id for d in chosen]


def test_final_window_needs_an_interview_date(store):
    from dlprep.core.bank import load_bank

    _studied(store, {"alpha": 4})
    save_plan(store, Plan("mle", date(2026, 11, 1), None))
    assert _window(store, load_bank(), date(2026, 11, 17)) is None


def test_today_in_the_final_window_says_so(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-01")
    cli("review", "beta", "--grade", "3", "--at", "2026-11-01")
    clock("2026-11-02T10:00:00+01:00")
    cli("plan", "--role", "mle", "--interview", "2026-11-20")
    clock("2026-11-18T10:00:00+01:00")
    data = cli.json("today")
    assert [d["id"] for d in data["due"]] == ["beta"]  # ceil(2 / 2), weakest first
    assert data["expected_recall"]["day"] == "2026-11-20"
    out = cli("today").stdout
    assert "Reviews (lowest predicted recall on interview day first)" in out
    assert "Expected recall on 2026-11-20" in out


# ---------------------------------------------------------------- FSRS as the scheduler


LOG = [  # card, grade, day, counts
    ("alpha", 4, 0, True),
    ("alpha", 2, 0, False),  # same-session repeat
    ("alpha", 4, 1, True),
    ("beta", 5, 0, True),
    ("alpha", 5, 4, True),
    ("beta", 1, 7, True),
    ("gamma", 3, 2, False),  # cram only: no schedule
]


def _record(store: Store, rows) -> None:
    for cid, g, d, counts in rows:
        store.record(Review(cid, g, at(d), mode="review" if counts else "cram", counts=counts))


def test_fsrs_state_is_sm2_fields_with_fsrs_due():
    log = [(4, at(0), None, 4, True), (2, at(0, 13), None, 4, False), (4, at(3), None, 4, True)]
    st = memory.fsrs_state(log)
    sm2 = scheduler.replay([(4, at(0), None, 4), (4, at(3), None, 4)])
    # S after Good, same-day Hard (short-term, at least S... for Again it may shrink), Good three days later
    s = memory.Replayer().replay([(4, date(2026, 11, 1)), (2, date(2026, 11, 1)), (4, date(2026, 11, 4))]).stability
    ivl = memory.interval_days(s, 0.9)
    assert st == CardState(
        sm2.repetitions, sm2.easiness_hundredths, ivl, date(2026, 11, 4) + timedelta(days=ivl), sm2.last_review, 2, 0
    )
    assert memory.fsrs_state([(4, at(0), None, 4, False)]) is None
    # a plan's cap applies to FSRS's due date too
    capped = memory.fsrs_state([(5, at(0), date(2026, 11, 3), 4, True)])
    assert capped.due == date(2026, 11, 3) and capped.interval_days > 2


def test_switching_scheduler_replays_the_log_and_loses_nothing(store):
    _record(store, LOG)
    sm2_states = store.states()
    assert set(sm2_states) == {"alpha", "beta"}
    assert scheduling.attach(store, Config(scheduler="fsrs")) is True
    fsrs_states = store.states()
    assert fsrs_states != sm2_states and store.check() == []
    assert store.review_count() == len(LOG)
    for cid in ("alpha", "beta"):
        log = [(g, at(d), None, 4, c) for c2, g, d, c in LOG if c2 == cid]
        assert fsrs_states[cid] == memory.fsrs_state(log)
    # nothing to do when nothing changed
    assert scheduling.attach(store, Config(scheduler="fsrs")) is False
    # recording under FSRS gives what a replay gives
    _record(store, [("gamma", 4, 9, True), ("alpha", 3, 12, True)])
    recorded = store.states()
    assert store.rebuild() == recorded and store.check() == []
    # another retention replays again, with other due dates
    assert scheduling.attach(store, Config(scheduler="fsrs", desired_retention=0.8)) is True
    assert store.states()["alpha"].due > recorded["alpha"].due
    # back to SM-2: exactly the states recording everything under SM-2 gives
    assert scheduling.attach(store, Config()) is True
    fresh = Store.open(store.path.with_name("fresh.db"))
    _record(fresh, [*LOG, ("gamma", 4, 9, True), ("alpha", 3, 12, True)])
    assert store.states() == fresh.states()
    fresh.close()


def test_undo_under_fsrs_replays_the_card(store):
    scheduling.attach(store, Config(scheduler="fsrs"))
    _record(store, LOG[:3])
    before = store.states()["alpha"]
    store.record(Review("alpha", 1, at(5)))
    last = store.last_review("alpha")
    assert store.delete_review(last["id"]) == before


def test_config_scheduler_and_retention_bounds(cli, clock):
    assert cli("config", "set", "scheduler", "FSRS").exit_code == 0
    assert cli.json("config")["scheduler"] == "fsrs"
    bad = cli("config", "set", "scheduler", "anki")
    assert bad.exit_code != 0 and bad.stderr.count("\n") == 1 and "one of sm2, fsrs" in bad.stderr
    for ok in ("0.7", "0.97"):
        assert cli("config", "set", "desired_retention", ok).exit_code == 0
    for no in ("0.69", "0.98", "high"):
        res = cli("config", "set", "desired_retention", no)
        assert res.exit_code != 0 and "from 0.7 to 0.97" in res.stderr
    with pytest.raises(DlprepError):
        Config.from_dict({"desired_retention": True})


def test_config_set_scheduler_replays_and_review_follows_fsrs(cli, clock):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20")
    sm2_due = cli.json("card", "alpha")["due"]
    res = cli("config", "set", "scheduler", "fsrs")
    assert "replayed 1 card(s)' schedules from the review log under FSRS" in res.stderr
    # Good once: S = w2 = 2.3065 -> round(S / F * (0.9^(-1/w20) - 1)) = round(S) = 2 days
    assert cli.json("card", "alpha")["due"] == "2026-11-22" != sm2_due
    assert cli.json("review", "beta", "--grade", "5")["due"] == "2026-11-29"  # Easy: S = w3 = 8.2956 -> 8 days
    res = cli("config", "unset", "scheduler")
    assert "under SM-2" in res.stderr and cli.json("card", "alpha")["due"] == sm2_due
    assert "ok:" in cli("db", "check").stdout


# ---------------------------------------------------------------- simulator (a few learners; the full run is benchmarks/)


def test_simulation_is_reproducible_and_retention_moves_the_work():
    targets = [60] * 40
    policies = [simulate.Sm2(), simulate.Fsrs(0.8), simulate.Fsrs(0.95)]
    rows = simulate.simulate(policies, 2, 7, targets, days=10, new_per_day=5)
    again = simulate.simulate(policies, 2, 7, targets, days=10, new_per_day=5)
    assert [row.outcomes for row in rows] == [row.outcomes for row in again]
    sm2, low, high = rows
    assert all(o.cards == 35 for o in sm2.outcomes)  # 5 a day for the 7 days before the final window
    assert all(o.minutes == o.reviews for o in sm2.outcomes)  # 60 s a review
    assert sum(low.column("reviews")) < sum(high.column("reviews"))
    summary = simulate.summary(rows)
    assert summary[0]["reviews"]["vs_first"] == 0
    assert summary[1]["recall"]["mean"] == pytest.approx(sum(low.column("recall")) / 2)


def test_drawn_learners_stay_within_fsrs_bounds():
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    rng = random.Random(1)
    for _ in range(50):
        lr = simulate.draw_learner(rng)
        assert all(
            lo <= p <= hi for p, lo, hi in zip(lr.params, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
        )
        assert math.isclose(sum(lr.first), 1) and math.isclose(sum(lr.recalled), 1)


@pytest.mark.slow
def test_fsrs_is_not_imported_by_help_review_or_today_without_an_interview(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dlprep.cli import app\n"
        "for args in (['--help'], ['review', 'alpha', '-g', '4'], ['today'], ['due']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, (args, r.output)\n"
        "print('fsrs' in sys.modules)\n"
    )
    from pathlib import Path

    env = {
        "DLPREP_HOME": str(tmp_path),
        "DLPREP_BUNDLED_BANK": str(Path(__file__).parent / "fixtures" / "bank"),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_a_zone_other_than_utc_counts_study_days():
    # 23:30 in +09:00 and 05:00 the next local morning: two study days apart by rollover 4
    tz = timezone(timedelta(hours=9))
    rows = [("c", 4, datetime(2026, 11, 1, 23, 30, tzinfo=tz), 4), ("c", 4, datetime(2026, 11, 2, 5, 0, tzinfo=tz), 4)]
    assert memory.memory_states(rows)["c"].last_day == date(2026, 11, 2)
    assert memory.usable_reviews(rows) == 1


def test_recovering_a_damaged_database_under_fsrs_keeps_fsrs_due_dates(cli, clock, dlprep_home):
    from test_reliability import _damage_table, _history

    cli("config", "set", "scheduler", "fsrs")
    alpha, beta = _history(cli)
    _damage_table(dlprep_home / "dlprep.db", "card_state")
    assert cli("db", "rebuild").exit_code == 0
    assert (cli.json("card", "alpha")["due"], cli.json("card", "beta")["due"]) == (alpha["due"], beta["due"])
    assert cli("db", "check").exit_code == 0
