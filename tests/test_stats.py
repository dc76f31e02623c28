"""`dlprep stats`: every number pinned against a small history computed by
hand (the fixture bank: alpha and beta in basics, gamma in advanced), at the
boundaries the README states: 7 and 30 days back, card age 20 vs 21 days,
the rollover hour and a change of UTC offset."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dlprep.core import stats_queries as Q
from dlprep.core.bank import load_bank
from dlprep.core.scheduler import CardState, review, study_day
from dlprep.core.store import Review, Store
from dlprep.features.stats import build_stats, heat_key, heat_level, heat_thresholds, scope_for

pytestmark = pytest.mark.usefixtures("small_bank")

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=CET)  # a Saturday; study day 2026-11-21
TODAY = date(2026, 11, 21)
# Grade runs whose SM-2 interval ends at exactly 21 and 20 days (EF 2.50 -> 1.96 and 1.86):
# intervals 1, 1, 1, 6, ceil(6 x 1.76) = 11, then ceil(11 x 1.86) = 21 or ceil(11 x 1.76) = 20.
TO_21 = (3, 2, 3, 3, 5, 5)
TO_20 = (3, 2, 3, 3, 4, 5)


def day(offset: int, hour: int = 10, tz: timezone = CET) -> datetime:
    return datetime(2026, 11, 21, hour, tzinfo=tz) + timedelta(days=offset)


@pytest.fixture
def store(dlprep_home):
    s = Store.open(dlprep_home / "dlprep.db")
    yield s
    s.close()


@pytest.fixture
def bank():
    return load_bank()


def record(store: Store, card: str, grade: int, when: datetime, **kw) -> None:
    store.record(Review(card, grade, when, mode=kw.pop("mode", "quiz"), **kw))


def run(store: Store, card: str, grades: tuple[int, ...], first: int) -> None:
    for i, g in enumerate(grades):
        record(store, card, g, day(first + i))


# ---------------------------------------------------------------- retention, windows and card age


@pytest.fixture
def history(store):
    """alpha: first seen 40 days back, then reviews 30, 29, 7, 6 and 0 days back.
    beta: first seen 6 days back (a same-day repeat after it does not count), missed 5 days back.
    gamma: only a cram review. m21 and m20 (cards no longer in the bank: they still count
    in the log's numbers): six reviews 50-45 days back, leaving intervals of 21 and 20 days,
    then one review yesterday (mature and passed; young and missed)."""
    for offset, grade in ((-40, 5), (-30, 5), (-29, 2), (-7, 5), (-6, 4), (0, 3)):
        record(store, "alpha", grade, day(offset))
    record(store, "beta", 1, day(-6))
    record(store, "beta", 5, day(-6, 11), mode="repeat", counts=False)
    record(store, "beta", 2, day(-5))
    record(store, "gamma", 5, day(-3), mode="cram", counts=False)
    run(store, "m21", TO_21, -50)
    run(store, "m20", TO_20, -50)
    assert (store.state("m21").interval_days, store.state("m20").interval_days) == (21, 20)
    record(store, "m21", 4, day(-1))
    record(store, "m20", 2, day(-1))
    return store


def test_retention_counts_scheduled_reviews_of_cards_seen_before(history, bank):
    r = build_stats(bank, history, NOW, 4)["retention_by"]
    # All time: alpha 5 (4 passed), beta 1 (0), m21 6 (5), m20 6 (4). First reviews, the repeat and cram are out.
    assert r["all_time"]["all"] == {"reviews": 18, "passed": 13, "rate": 0.722}
    # Last 30 days: 29 days back is in, 30 is out: alpha 29, 7, 6, 0 (3 passed), beta 5, m21 and m20 yesterday.
    assert r["last_30_days"]["all"] == {"reviews": 7, "passed": 4, "rate": 0.571}
    # Last 7 days: 6 days back is in, 7 is out: alpha 6 and 0, beta 5, m21, m20.
    assert r["last_7_days"]["all"] == {"reviews": 5, "passed": 3, "rate": 0.6}


def test_card_age_is_the_interval_before_the_review_21_days_is_mature(history, bank):
    r = build_stats(bank, history, NOW, 4)["retention_by"]
    # Only m21's last review came after a 21-day interval; m20's came after 20 days: young.
    for window in ("last_7_days", "last_30_days", "all_time"):
        assert r[window]["mature"] == {"reviews": 1, "passed": 1, "rate": 1.0}
    assert r["last_7_days"]["young"] == {"reviews": 4, "passed": 2, "rate": 0.5}
    assert r["all_time"]["young"] == {"reviews": 17, "passed": 12, "rate": 0.706}


def test_card_age_matches_a_replay_of_the_scheduler_for_random_grades(store, bank):
    """The SQL recomputes SM-2 intervals with window functions: it must agree
    with the scheduler on every review, whatever the grades (EF floor, misses, long runs)."""
    rng = random.Random(7)
    expected = {}
    for c in range(40):
        card = f"card-{c:02d}"
        state, at = CardState(), day(-400)
        ages = []
        for _ in range(rng.randint(1, 18)):
            grade = rng.choice((0, 1, 2, 3, 3, 3, 4, 4, 5, 5, 5))
            ages.append(int(state.interval_days >= 21))
            state = review(state, grade, at)
            record(store, card, grade, at)
            at += timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 5))
        expected[card] = ages
    rows = Q.review_ages(store, scope_for(bank, TODAY))
    got: dict[str, list[int]] = {}
    for row in rows:
        got.setdefault(row["card_id"], []).append(row["mature"])
    assert got == expected
    assert sum(map(sum, expected.values())) > 20  # the history does reach mature cards


def test_topics_seen_mature_ef_retention_mastery_and_follow_ups(store, bank):
    run(store, "alpha", TO_21, -20)
    run(store, "beta", TO_20, -20)
    for i, outcome in enumerate(("got", "got", "got", "missed")):
        record(store, "alpha", 4, day(-1, 8 + i), mode="cram", counts=False, follow_up=outcome)
    record(store, "gamma", 1, day(-1), mode="cram", counts=False, follow_up="missed")
    topics = {t["topic"]: t for t in build_stats(bank, store, NOW, 4)["topics"]}
    basics = topics["basics"]
    assert (basics["cards"], basics["seen"], basics["mature"], basics["mature_share"]) == (2, 2, 1, 0.5)
    assert basics["mean_easiness"] == 1.91  # (1.96 + 1.86) / 2
    assert (basics["retention"], basics["retention_reviews"]) == (0.8, 10)  # 4 of 5 each after the first
    assert basics["mastery"] == 0.833  # last three grades: (3 + 5 + 5) / 15 and (3 + 4 + 5) / 15, averaged
    assert (basics["follow_ups_asked"], basics["follow_ups_missed"], basics["follow_up_miss_rate"]) == (4, 1, 0.25)
    advanced = topics["advanced"]
    assert (advanced["seen"], advanced["mean_easiness"], advanced["retention"]) == (0, None, None)
    assert (advanced["follow_ups_asked"], advanced["follow_up_miss_rate"]) == (1, 1.0)


# ---------------------------------------------------------------- study days, streaks, heatmap, time


def test_study_days_roll_over_at_the_hour_in_each_reviews_own_local_time(store, bank):
    la, kolkata = timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))
    record(store, "alpha", 5, datetime(2026, 11, 20, 3, 59, tzinfo=CET))  # before 04:00: the 19th
    record(store, "beta", 5, datetime(2026, 11, 20, 4, 0, tzinfo=CET), seconds=90)  # the 20th
    record(store, "gamma", 5, datetime(2026, 11, 21, 2, 0, tzinfo=la))  # 10:00 UTC on the 21st, yet the 20th
    record(store, "alpha", 3, datetime(2026, 11, 21, 9, 0, tzinfo=kolkata))  # 03:30 UTC, the 21st
    s = build_stats(bank, store, NOW, 4)
    assert s["last_days"][-3:] == [
        {"day": "2026-11-19", "reviews": 1},
        {"day": "2026-11-20", "reviews": 2},
        {"day": "2026-11-21", "reviews": 1},
    ]
    assert s["heatmap"]["days"][-2]["minutes"] == 1.5
    # At 03:30 on the 22nd it is still the 21st: the streak goes on.
    late = build_stats(bank, store, datetime(2026, 11, 22, 3, 30, tzinfo=CET), 4)
    assert (late["today"], late["streak_days"]) == ("2026-11-21", 3)


def test_the_sql_study_day_is_the_schedulers_for_random_times_offsets_and_rollover_hours(store, bank):
    rng = random.Random(3)
    expected: dict[str, int] = {}
    at = datetime(2026, 10, 1, tzinfo=UTC)
    for _ in range(120):
        at += timedelta(minutes=rng.randint(20, 900))
        local = at.astimezone(timezone(timedelta(minutes=15 * rng.randint(-48, 56))))
        rollover = rng.randint(0, 23)
        store.record(Review("alpha", 4, local, mode="cram", counts=False), rollover_hour=rollover)
        d = study_day(local, rollover).isoformat()
        expected[d] = expected.get(d, 0) + 1
    got = {r["day"]: r["reviews"] for r in Q.days(store, scope_for(bank, date(2026, 12, 31)), date(2026, 1, 1))}
    assert got == expected


def test_streaks_current_and_longest(store, bank):
    for offset in (-14, -13, -12, -11, -10, -4, -2, -1):
        record(store, "alpha", 4, day(offset), mode="cram", counts=False)
    s = build_stats(bank, store, NOW, 4)
    assert (s["streak_days"], s["longest_streak_days"], s["study_days"]) == (2, 5, 8)  # today not done yet
    record(store, "alpha", 4, day(0), mode="cram", counts=False)
    assert build_stats(bank, store, NOW, 4)["streak_days"] == 3
    two_days_on = build_stats(bank, store, NOW + timedelta(days=2), 4)
    assert two_days_on["streak_days"] == 0  # yesterday missed: the streak is broken


def test_heatmap_is_16_weeks_from_a_monday_to_today_with_shades_by_quarter(store, bank):
    for i in range(8):
        record(store, "alpha", 4, day(0, 10) + timedelta(minutes=i), mode="cram", counts=False)
    for i in range(2):
        record(store, "beta", 4, day(-1) + timedelta(minutes=i), mode="cram", counts=False)
    heat = build_stats(bank, store, NOW, 4)["heatmap"]
    assert heat["first_day"] == "2026-08-03"  # a Monday, 15 weeks before this week's
    assert len(heat["days"]) == 15 * 7 + 6  # Monday to Saturday of this week
    assert [d["level"] for d in heat["days"][-3:]] == [0, 1, 4]  # 2 of 8 is the first quarter
    assert heat["levels"] == [1, 3, 5, 7]


def test_heat_levels_at_their_edges():
    assert [heat_level(n, 8) for n in (0, 1, 2, 3, 4, 5, 6, 7, 8)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert heat_level(1, 1) == 4 and heat_level(0, 0) == 0
    assert heat_thresholds(8) == [1, 3, 5, 7] and heat_thresholds(0) == []
    assert heat_key(heat_thresholds(8)) == [(1, "1-2"), (2, "3-4"), (3, "5-6"), (4, "7+")]
    assert heat_key(heat_thresholds(2)) == [(2, "1"), (4, "2+")]  # levels 1 and 3 cannot happen
    assert heat_key([]) == []


def test_time_per_day_and_in_windows(store, bank):
    record(store, "alpha", 4, day(0), seconds=600, mode="cram", counts=False)
    record(store, "alpha", 4, day(-6), seconds=300, mode="cram", counts=False)
    record(store, "alpha", 4, day(-7), seconds=120, mode="cram", counts=False)
    record(store, "alpha", 4, day(-30), seconds=60, mode="cram", counts=False)
    s = build_stats(bank, store, NOW, 4)
    assert (s["minutes_last_7_days"], s["minutes_last_30_days"], s["minutes"]) == (15.0, 17.0, 18.0)


# ---------------------------------------------------------------- forecast, missed points, scope


def test_forecast_counts_overdue_cards_today_for_30_days(store, bank):
    record(store, "alpha", 5, day(-10))  # due 9 days ago: overdue
    record(store, "gamma", 4, day(-1))  # due today
    record(store, "beta", 5, day(0))  # due tomorrow
    s = build_stats(bank, store, NOW, 4)
    assert len(s["forecast"]) == 30 and s["forecast"][-1]["day"] == "2026-12-20"
    assert s["forecast"][:3] == [
        {"day": "2026-11-21", "due": 2},
        {"day": "2026-11-22", "due": 1},
        {"day": "2026-11-23", "due": 0},
    ]
    assert s["overdue"] == 1


def test_most_missed_rubric_points_most_missed_first(store, bank):
    record(store, "alpha", 3, day(-2), points_hit=(0,))
    record(store, "alpha", 4, day(-1), points_hit=(0, 1))
    record(store, "gamma", 1, day(-1), mode="cram", counts=False, points_hit=())
    missed = build_stats(bank, store, NOW, 4)["most_missed"]
    assert [(m["card"], m["index"], m["missed"], m["asked"]) for m in missed] == [
        ("alpha", 2, 2, 2),
        ("gamma", 0, 1, 1),
        ("gamma", 1, 1, 1),
        ("gamma", 2, 1, 1),
        ("alpha", 1, 1, 2),  # missed once too, but in 1 of 2
    ]
    assert missed[0]["point"] == "Mentions [brackets]" and missed[0]["topic"] == "basics"
    assert [r["point"] for r in Q.missed_points(store, scope_for(bank, TODAY), limit=2)] == [2, 0]


def test_topic_narrows_every_number(history, bank):
    s = build_stats(bank, history, NOW, 4, topic="basics")
    assert [t["topic"] for t in s["topics"]] == ["basics"]
    assert (s["reviews"], s["scheduling_reviews"], s["cards_total"]) == (9, 8, 2)  # alpha 6, beta 3 (one repeat)
    assert s["retention_by"]["all_time"]["all"] == {"reviews": 6, "passed": 4, "rate": 0.667}
    assert s["retention_by"]["all_time"]["mature"]["reviews"] == 0  # m21 is not in basics
    assert s["last_days"][-8:-5] == [
        {"day": "2026-11-14", "reviews": 1},
        {"day": "2026-11-15", "reviews": 3},  # alpha, beta and beta's repeat
        {"day": "2026-11-16", "reviews": 1},
    ]
    assert s["study_days"] == 7  # alpha's six days and beta's two, one shared


def test_topic_card_age_windows_from_the_earliest_utc_time_and_without_future_reviews(store, bank):
    """With --topic the last 30 study days are read from reviews after a UTC bound: a review
    29 study days back at local midnight in UTC+14 (rollover 00:00) is the earliest that can
    be in; 30 days back at 23:59 in UTC-12 is out. A review dated after today counts nowhere."""
    east, west = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    store.record(Review("alpha", 5, day(-60)))
    store.record(Review("alpha", 2, day(-29, 0, east)), rollover_hour=0)
    store.record(Review("beta", 5, day(-60)))
    store.record(Review("beta", 4, day(-30, 23, west).replace(minute=59)), rollover_hour=0)
    store.record(Review("beta", 5, day(2)))  # the clock was set back since
    whole = build_stats(bank, store, NOW, 4)["retention_by"]
    topic = build_stats(bank, store, NOW, 4, topic="basics")["retention_by"]
    assert topic == whole  # only basics cards reviewed
    assert topic["last_30_days"]["young"] == {"reviews": 1, "passed": 0, "rate": 0.0}
    assert topic["all_time"]["young"] == {"reviews": 2, "passed": 1, "rate": 0.5}
    assert topic["last_7_days"]["young"]["reviews"] == 0


# ---------------------------------------------------------------- the command


def test_stats_command_json_and_terminal(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T10:00+01:00")
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-21T09:00+01:00")
    data = cli.json("stats", "--topic", "basics")
    assert (data["topic"], data["reviews"], data["retention"]) == ("basics", 2, 1.0)
    out = cli("stats", env={"COLUMNS": "80", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in out
    assert re.search(r"^Mon (· ){15}·\s+2 reviews\s*$", out, re.M)  # the heatmap, key numbers beside it
    assert re.search(r"^Fri (· ){15}█\s+2 study days\s*$", out, re.M)  # Friday the 20th
    assert re.search(r"^Sun (· ){14}·\s*$", out, re.M)  # this week's Sunday is still to come
    assert "last 7 days" in out and "100% of 1" in out
    narrow = cli("stats", env={"COLUMNS": "60"}).stdout
    assert re.search(r"^Fri (· ){15}█\s*$", narrow, re.M)  # numbers below it
    assert "2 reviews · 1/3 cards seen" in narrow


def test_stats_unknown_topic_is_one_line(cli):
    result = cli("stats", "--topic", "nope")
    assert result.exit_code == 1 and result.stderr.startswith("error: unknown topic 'nope'")
    assert len(result.stderr.strip().splitlines()) == 1
