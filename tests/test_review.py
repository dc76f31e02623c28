"""Recording a review by hand (features/review.py, behind `dlprep review`): the
future check and its ten-minute tolerance, the same-day repeat, the due cap
and what is returned. The command itself is tested in test_reliability."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from dlprep.core.store import Store
from dlprep.errors import UsageError
from dlprep.features.review import check_not_future, record_review

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=CET)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CET)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "r.db")
    yield s
    s.close()


def test_ten_minutes_ahead_is_accepted_and_a_second_more_is_refused():
    check_not_future(NOW + timedelta(minutes=10), NOW)
    with pytest.raises(UsageError) as info:
        check_not_future(NOW + timedelta(minutes=10, seconds=1), NOW)
    assert str(info.value) == (
        "review time 2026-11-21T10:10+01:00 is in the future (now 2026-11-21T10:00+01:00);"
        " reviews are recorded when they happen"
    )


def test_a_future_review_writes_nothing(store):
    with pytest.raises(UsageError):
        record_review(store, "c1", 4, NOW + timedelta(hours=1), NOW, 4)
    assert store.reviews() == []


def test_a_review_returns_its_new_schedule(store):
    done = record_review(store, "c1", 4, at(21, 9), NOW, 4, card_hash="h1")
    assert done.to_dict() == {
        "card": "c1",
        "grade": 4,
        "at": "2026-11-21T09:00:00+01:00",
        "repeat": False,
        "repetitions": 1,
        "easiness": 2.5,
        "interval_days": 1,
        "due": "2026-11-22",
    }
    [row] = store.reviews("c1")
    assert (row["mode"], row["counts"], row["card_hash"]) == ("review", True, "h1")


def test_a_second_review_on_the_same_study_day_is_a_repeat_that_leaves_the_schedule(store):
    first = record_review(store, "c1", 5, at(21, 9), NOW, 4)
    again = record_review(store, "c1", 1, at(21, 9, 30), NOW, 4)
    assert (first.repeat, again.repeat) == (False, True)
    assert again.state == first.state == store.state("c1")
    assert [(r["mode"], r["counts"], r["grade"]) for r in store.reviews("c1")] == [
        ("review", True, 5),
        ("repeat", False, 1),
    ]
    # The next study day schedules again.
    assert record_review(store, "c1", 5, at(22, 9), at(22, 10), 4).state.interval_days == 6


def test_the_repeat_rule_uses_the_rollover_hour_it_is_given(store):
    # 23:00 on the 20th and 05:30 on the 21st are one study day when it starts at 06:00, two when at 04:00.
    record_review(store, "a", 5, at(20, 23), NOW, 6)
    assert record_review(store, "a", 5, at(21, 5, 30), NOW, 6).repeat is True
    record_review(store, "b", 5, at(20, 23), NOW, 4)
    assert record_review(store, "b", 5, at(21, 5, 30), NOW, 4).repeat is False


def test_reschedule_lets_a_same_day_review_count(store):
    record_review(store, "c1", 5, at(21, 9), NOW, 4)
    done = record_review(store, "c1", 5, at(21, 9, 30), NOW, 4, reschedule=True)
    assert (done.repeat, done.state.repetitions, done.state.interval_days) == (False, 2, 6)
    assert [r["mode"] for r in store.reviews("c1")] == ["review", "review"]


def test_the_due_cap_is_applied(store):
    record_review(store, "c1", 5, at(10, 9), NOW, 4)
    done = record_review(store, "c1", 5, at(11, 9), NOW, 4, due_cap=date(2026, 11, 15))
    assert (done.state.interval_days, done.state.due) == (6, date(2026, 11, 15))  # 11-17 without the cap
