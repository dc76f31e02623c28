"""Local time: the machine's zone decides what a time without an offset means,
and nothing else. Every test here runs twice (conftest ``machine_zone``): in
Los Angeles (UTC-8 in November) and in Kolkata (UTC+5:30). A late-evening
time is the next day in UTC in Los Angeles; an early-morning one is the day
before in UTC in Kolkata, so code that mixes local time with UTC fails in
one zone or the other."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.usefixtures("small_bank")

OFFSET = {"America/Los_Angeles": "-08:00", "Asia/Kolkata": "+05:30"}  # in November


def test_a_naive_now_is_local_time_and_decides_the_study_day(cli, clock, machine_zone):
    clock("2026-11-21T23:30")
    assert cli.json("today")["day"] == "2026-11-21"
    out = cli.json("review", "alpha", "--grade", "5")
    assert (out["at"], out["due"]) == (f"2026-11-21T23:30:00{OFFSET[machine_zone]}", "2026-11-22")


def test_before_the_rollover_it_is_still_yesterday_in_local_time(cli, clock):
    clock("2026-11-22T01:30")
    assert cli.json("today")["day"] == "2026-11-21"
    assert cli.json("review", "alpha", "--grade", "5")["due"] == "2026-11-22"
    clock("2026-11-22T04:00")
    assert cli.json("today")["day"] == "2026-11-22"


def test_a_date_alone_is_noon_local_time_on_that_day(cli, clock, machine_zone):
    clock("2026-11-21T10:00")
    out = cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-20")
    assert (out["at"], out["due"]) == (f"2026-11-20T12:00:00{OFFSET[machine_zone]}", "2026-11-21")


def test_the_same_day_repeat_follows_the_local_study_day(cli, clock):
    clock("2026-11-22T05:00")
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T23:00")
    assert cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-21T01:30")["repeat"] is True
    assert cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-21T04:30")["repeat"] is False


def test_the_future_check_compares_local_times(cli, clock):
    clock("2026-11-21T10:00")
    assert cli("review", "alpha", "--grade", "4", "--at", "2026-11-21T10:09").exit_code == 0
    assert cli("review", "beta", "--grade", "4", "--at", "2026-11-21T10:11").exit_code == 2


def test_reviews_made_while_travelling_keep_their_own_days_and_order(tmp_path):
    """Kolkata at 09:00 on the 21st, then Los Angeles at 23:00 on the 20th, which
    is 3.5 hours later: accepted, in that order, each on its own local day."""
    from dlprep.core.store import Review, Store

    kolkata, la = timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))
    store = Store.open(tmp_path / "t.db")
    first = store.record(Review("alpha", 5, datetime(2026, 11, 21, 9, 0, tzinfo=kolkata)))
    second = store.record(Review("alpha", 5, datetime(2026, 11, 20, 23, 0, tzinfo=la)))
    assert (first.due, second.due) == (date(2026, 11, 22), date(2026, 11, 26))  # 11-20 + 6 days
    assert [r["at"] for r in store.reviews("alpha")] == ["2026-11-21T09:00:00+05:30", "2026-11-20T23:00:00-08:00"]
    assert store.rebuild()["alpha"] == second
    with pytest.raises(Exception, match="earlier than its last review"):
        store.record(Review("alpha", 5, datetime(2026, 11, 21, 12, 0, tzinfo=kolkata)))  # 06:30 UTC: before
    store.close()


def test_stats_count_each_review_on_its_local_study_day(cli, clock):
    clock("2026-11-22T09:00")
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T23:30")
    cli("review", "beta", "--grade", "4", "--at", "2026-11-22T01:00")  # still the 21st
    s = cli.json("stats")
    assert s["last_days"][-3:] == [
        {"day": "2026-11-20", "reviews": 1},
        {"day": "2026-11-21", "reviews": 1},
        {"day": "2026-11-22", "reviews": 0},
    ]
    assert s["streak_days"] == 2
