"""What to study on a day (features/schedule.py): due reviews in order, new
cards in introduction order and within the daily limit, the time estimate
(its default and floor) and the 14-day forecast."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from dlprep.core.bank import check_bank
from dlprep.core.scheduler import CardState
from dlprep.core.store import Review, Store
from dlprep.features.schedule import (
    DueCard,
    average_seconds,
    build_today,
    due_cards,
    introduced_on,
    new_cards,
    topic_sequence,
)

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 21, 10, tzinfo=CET)  # study day 2026-11-21

TOPICS = """\
topics:
  - {id: t1, title: T1, order: 1, summary: First., prerequisites: []}
  - {id: t2, title: T2, order: 2, summary: Second., prerequisites: [t1]}
paths:
  - role: mle
    title: ML engineer
    days: 14
    stages:
      - {label: W1, topics: [t2]}
      - {label: W2, topics: [t2, t1]}
"""
RUBRIC = "rubric: [{point: a, weight: 1}, {point: b, weight: 1}, {point: c, weight: 1}]"


def cards(topic: str, *specs: tuple[str, str | None]) -> str:
    out = [f"topic: {topic}", "cards:"]
    for cid, difficulty in specs:
        out.append(f"  - id: {cid}\n    question: Q?\n    answer: A.\n    {RUBRIC}")
        if difficulty:
            out.append(f"    difficulty: {difficulty}")
    return "\n".join(out) + "\n"


@pytest.fixture
def bank(tmp_path):
    """t1: s1 (senior), m1 (mid), x1 (no difficulty: mid), j1 (junior); t2: a2 (senior), b2 (junior)."""
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "topics.yaml").write_text(TOPICS)
    (folder / "t1.yaml").write_text(cards("t1", ("s1", "senior"), ("m1", "mid"), ("x1", None), ("j1", "junior")))
    (folder / "t2.yaml").write_text(cards("t2", ("a2", "senior"), ("b2", "junior")))
    bank, problems = check_bank(folders=[folder])
    assert problems == []
    return bank


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "s.db")
    yield s
    s.close()


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=CET)


def state(due: date | None, reviews: int = 1, last: datetime | None = None) -> CardState:
    return CardState(repetitions=1, interval_days=1, due=due, last_review=last or at(1), reviews=reviews)


# ---------------------------------------------------------------- new cards


def test_new_cards_go_topic_by_topic_junior_first_then_mid_then_senior(bank):
    assert [c.id for c in new_cards(bank, {})] == ["j1", "m1", "x1", "s1", "b2", "a2"]  # x1 is mid by default
    seen = {"j1": state(date(2026, 11, 22))}
    assert [c.id for c in new_cards(bank, seen)] == ["m1", "x1", "s1", "b2", "a2"]


def test_new_cards_of_some_topics_only(bank):
    assert [c.id for c in new_cards(bank, {}, topics=["t2"])] == ["b2", "a2"]
    assert [c.id for c in new_cards(bank, {}, topics=["t1"])] == ["j1", "m1", "x1", "s1"]


def test_a_roles_path_comes_first_each_topic_once(bank):
    assert topic_sequence(bank) == ["t1", "t2"]
    assert topic_sequence(bank, "mle") == ["t2", "t1"]  # the path names t2 twice
    assert topic_sequence(bank, "nlp") == ["t1", "t2"]  # no path for this role
    assert [c.id for c in new_cards(bank, {}, role="mle")][:2] == ["b2", "a2"]


# ---------------------------------------------------------------- due cards


def test_due_cards_include_today_most_overdue_first_then_topic_order_then_id(bank):
    day = date(2026, 11, 21)
    states = {
        "m1": state(day),
        "j1": state(day),
        "b2": state(date(2026, 11, 20)),
        "a2": state(day),
        "s1": state(date(2026, 11, 22)),  # tomorrow: not due
        "x1": state(None),
        "gone": state(date(2026, 11, 1)),  # no longer in the bank
    }
    due = due_cards(bank, states, day)
    assert [d.card.id for d in due] == ["b2", "j1", "m1", "a2"]
    assert [d.overdue_days(day) for d in due] == [1, 0, 0, 0]
    assert [d.card.id for d in due_cards(bank, states, day, topics=["t2"])] == ["b2", "a2"]
    assert DueCard(bank.get("x1"), state(None)).overdue_days(day) == 0


def test_introduced_on_counts_first_reviews_of_that_study_day(bank):
    day = date(2026, 11, 21)
    states = {
        "a": state(date(2026, 11, 22), reviews=1, last=at(21, 9)),
        "b": state(date(2026, 11, 22), reviews=1, last=at(22, 2)),  # 02:00 on the 22nd: still the 21st
        "c": state(date(2026, 11, 22), reviews=2, last=at(21, 9)),  # an old card reviewed again
        "d": state(date(2026, 11, 21), reviews=1, last=at(20, 9)),  # introduced yesterday
    }
    assert introduced_on(states, day, 4) == 2
    assert introduced_on(states, day, 0) == 1  # with midnight rollover, 02:00 is the 22nd


# ---------------------------------------------------------------- today


def test_today_lists_due_new_estimate_and_forecast(bank, store):
    store.record(Review("b2", 5, at(14)))  # due 11-15: 6 days overdue
    store.record(Review("j1", 5, at(20)))  # due today
    store.record(Review("x1", 5, at(21, 9)))  # introduced today, due tomorrow
    store.record(Review("m1", 5, at(19)))
    store.record(Review("m1", 5, at(20)))  # due 11-26
    t = build_today(bank, store, NOW, 4, new_per_day=3, review_cap=10)
    forecast = [{"day": f"2026-11-{d}", "due": 0} for d in range(22, 31)] + [
        {"day": f"2026-12-0{d}", "due": 0} for d in range(1, 6)
    ]
    forecast[0]["due"] = 1  # x1
    forecast[4]["due"] = 1  # m1
    assert t.to_dict() == {
        "day": "2026-11-21",
        "due": [
            {"id": "b2", "topic": "t2", "due": "2026-11-15", "overdue_days": 6},
            {"id": "j1", "topic": "t1", "due": "2026-11-21", "overdue_days": 0},
        ],
        "due_count": 2,
        "overdue_count": 1,
        "held_back": 0,
        "new": [{"id": "s1", "topic": "t1"}, {"id": "a2", "topic": "t2"}],  # 3 a day, 1 already introduced
        "new_introduced_today": 1,
        "estimated_minutes": 8,  # 4 cards x 2 min (no timing history yet)
        "seconds_per_card": 120,
        "forecast": forecast,
        "orphaned_cards": [],
    }


def test_today_holds_back_reviews_over_the_cap_and_names_orphans(bank, store):
    for cid, day in (("b2", 10), ("j1", 11), ("m1", 12), ("gone", 13)):
        store.record(Review(cid, 5, at(day)))
    t = build_today(bank, store, NOW, 4, new_per_day=0, review_cap=2, topics=None)
    assert [d.card.id for d in t.due] == ["b2", "j1"]
    assert (t.held_back, [c.id for c in t.new], t.orphans) == (1, [], ["gone"])
    assert all(n == 0 for _, n in t.forecast)  # the orphan's due date is not counted
    only_t1 = build_today(bank, store, NOW, 4, new_per_day=0, review_cap=2, topics=["t1"])
    assert [d.card.id for d in only_t1.due] == ["j1", "m1"]


def test_no_new_cards_once_todays_are_used_up(bank, store):
    store.record(Review("j1", 5, at(21, 9)))
    store.record(Review("x1", 5, at(21, 9)))
    assert build_today(bank, store, NOW, 4, new_per_day=2, review_cap=10).new == []
    assert build_today(bank, store, NOW, 4, new_per_day=1, review_cap=10).new == []  # never a negative count
    assert [c.id for c in build_today(bank, store, NOW, 4, new_per_day=3, review_cap=10).new] == ["m1"]


def test_the_study_day_and_forecast_follow_the_rollover_hour(bank, store):
    early = datetime(2026, 11, 22, 3, 0, tzinfo=CET)
    assert build_today(bank, store, early, 4, 0, 10).day == date(2026, 11, 21)
    t = build_today(bank, store, early, 2, 0, 10)
    assert t.day == date(2026, 11, 22)
    assert [d for d, _ in t.forecast][::13] == [date(2026, 11, 23), date(2026, 12, 6)]


# ---------------------------------------------------------------- the time estimate


def timed(store, seconds: list[float]) -> None:
    for i, s in enumerate(seconds):
        store.record(Review(f"c{i}", 4, at(1) + timedelta(minutes=i), mode="quiz", seconds=s))


def test_estimate_is_two_minutes_a_card_until_five_timed_reviews(store):
    timed(store, [30, 30, 30, 30])
    assert average_seconds(store) == 120
    store.record(Review("c9", 4, at(2), mode="quiz", seconds=30))
    assert average_seconds(store) == 30


def test_estimate_is_never_below_twenty_seconds_a_card(store):
    timed(store, [5, 5, 5, 5, 5])
    assert average_seconds(store) == 20
    timed(store, [21, 21, 21, 21, 21, 21, 21, 21, 21, 21])  # mean of all 15: 15.67 -> 20
    assert average_seconds(store) == 20
    for i in range(15):
        store.record(Review(f"d{i}", 4, at(3) + timedelta(minutes=i), mode="quiz", seconds=45))
    assert average_seconds(store) == pytest.approx((5 * 5 + 10 * 21 + 15 * 45) / 30)


def test_estimated_minutes_use_the_average_and_round(bank, store):
    timed(store, [50, 50, 50, 50, 50])  # c0..c4: not bank cards
    t = build_today(bank, store, NOW, 4, new_per_day=3, review_cap=10)
    assert (len(t.new), t.seconds_per_card, t.minutes) == (3, 50, 2)  # 150 s -> 2.5 min -> 2
    t = build_today(bank, store, NOW, 4, new_per_day=5, review_cap=10)
    assert t.minutes == 4  # 250 s -> 4.17 min -> 4


def test_estimated_minutes_are_seconds_over_60_rounded(bank, store):
    timed(store, [91, 91, 91, 91, 91])
    assert build_today(bank, store, NOW, 4, new_per_day=1, review_cap=10).minutes == 2  # 91 s = 1.52 min
    assert build_today(bank, store, NOW, 4, new_per_day=0, review_cap=10).minutes == 0
