"""SM-2 against hand-computed sequences, plus properties that must always hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlprep.core.scheduler import CardState, Grade, next_easiness, replay, review, study_day

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=CET)


def run(grades: list[int], start: datetime = T0) -> list[CardState]:
    """Review on each due day at 10:00, returning the state after each grade."""
    states, state, at = [], CardState(), start
    for g in grades:
        state = review(state, g, at)
        states.append(state)
        at = datetime.combine(state.due, at.timetz())
    return states


def test_new_card_defaults():
    s = CardState()
    assert (s.repetitions, s.easiness, s.interval_days, s.due, s.reviews) == (0, 2.5, 0, None, 0)


def test_perfect_recall_sequence():
    # EF 2.5 -> 2.6 -> 2.7 -> 2.8 -> 2.9; I = 1, 6, ceil(6*2.7)=17, ceil(17*2.8)=48, ceil(48*2.9)=140
    states = run([5, 5, 5, 5, 5])
    assert [s.interval_days for s in states] == [1, 6, 17, 48, 140]
    assert [s.easiness_hundredths for s in states] == [260, 270, 280, 290, 300]
    assert [s.repetitions for s in states] == [1, 2, 3, 4, 5]
    assert states[0].due == date(2026, 11, 3)
    assert states[1].due == date(2026, 11, 9)
    assert states[2].due == date(2026, 11, 26)


def test_grade_four_keeps_easiness_and_grade_three_lowers_it():
    # q=4: EF + 0.1 - 1*(0.08 + 0.02) = EF; q=3: EF + 0.1 - 2*(0.08 + 0.04) = EF - 0.14
    states = run([4, 4, 4, 3])
    assert [s.easiness_hundredths for s in states] == [250, 250, 250, 236]
    # I: 1, 6, ceil(6*2.5)=15, ceil(15*2.5)=ceil(37.5)=38 (EF before the 4th review is 2.5)
    assert [s.interval_days for s in states] == [1, 6, 15, 38]


def test_easiness_steps_for_every_grade():
    assert [next_easiness(250, q) for q in range(6)] == [170, 196, 218, 236, 250, 260]


def test_easiness_floor_is_1_30():
    states = run([0, 0, 0, 2])
    assert [s.easiness_hundredths for s in states] == [170, 130, 130, 130]
    assert all(s.interval_days == 1 and s.repetitions == 0 for s in states)


def test_exact_hundredths_where_floats_round_up_wrongly():
    # EF: 2.5 -> 1.7 -> 1.3 (floor) -> 1.4 -> 1.5. Floats make 1.3 + 0.1 + 0.1 = 1.5000000000000002,
    # so ceil(6 * EF) becomes 10; the exact value is ceil(9.0) = 9.
    states = run([0, 0, 5, 5, 5])
    assert [s.easiness_hundredths for s in states] == [170, 130, 140, 150, 160]
    assert [s.interval_days for s in states] == [1, 1, 1, 6, 9]


def test_lapse_after_long_interval_restarts_repetitions_but_keeps_lowered_easiness():
    states = run([5, 5, 5, 5, 2, 4, 4, 4])
    lapse = states[4]
    assert states[3].interval_days == 48
    assert (lapse.repetitions, lapse.interval_days, lapse.easiness_hundredths, lapse.lapses) == (0, 1, 258, 1)
    # After the lapse the card climbs again from 1 and 6, with EF 2.58 (q=4 keeps it).
    assert [s.interval_days for s in states[5:]] == [1, 6, 16]  # ceil(6 * 2.58) = ceil(15.48) = 16
    assert [s.repetitions for s in states[5:]] == [1, 2, 3]


def test_interval_growth_stops_at_a_hundred_years():
    state = CardState()
    for _ in range(60):
        state = review(state, 5, T0)
    assert state.interval_days == 36_500
    assert state.due == study_day(T0) + timedelta(days=36_500)


def test_failing_a_new_card_is_not_a_lapse():
    assert run([1])[0].lapses == 0


def test_a_lapse_is_a_fail_after_any_pass_and_every_review_is_counted():
    # 5 (n=1), 1 (lapse: n was 1), 1 (n was 0: no lapse), 4 (n=1), 0 (lapse)
    states = run([5, 1, 1, 4, 0])
    assert [s.lapses for s in states] == [0, 1, 1, 1, 2]
    assert [s.reviews for s in states] == [1, 2, 3, 4, 5]
    assert [s.last_review for s in states][:2] == [T0, datetime.combine(states[0].due, T0.timetz())]


def test_day_rolls_over_at_4am_local():
    late = datetime(2026, 11, 22, 1, 30, tzinfo=CET)
    assert study_day(late, 4) == date(2026, 11, 21)
    assert review(CardState(), 5, late, 4).due == date(2026, 11, 22)
    assert study_day(datetime(2026, 11, 22, 3, 59, tzinfo=CET), 4) == date(2026, 11, 21)
    assert study_day(datetime(2026, 11, 22, 4, 0, tzinfo=CET), 4) == date(2026, 11, 22)
    assert review(CardState(), 5, datetime(2026, 11, 22, 4, 0, tzinfo=CET), 4).due == date(2026, 11, 23)
    assert study_day(late, 0) == date(2026, 11, 22)


def test_review_uses_the_rollover_hour_it_is_given_at_its_edge():
    # With the day starting at 06:00, 05:59 is still the 21st (due the 22nd) and 06:00 is the 22nd.
    before = datetime(2026, 11, 22, 5, 59, tzinfo=CET)
    at_edge = datetime(2026, 11, 22, 6, 0, tzinfo=CET)
    assert review(CardState(), 5, before, rollover_hour=6).due == date(2026, 11, 22)
    assert review(CardState(), 5, at_edge, rollover_hour=6).due == date(2026, 11, 23)
    # The same 05:59 with a 05:00 rollover is already the 22nd.
    assert review(CardState(), 5, before, rollover_hour=5).due == date(2026, 11, 23)


def test_the_default_rollover_is_4am():
    assert study_day(datetime(2026, 11, 22, 3, 59, tzinfo=CET)) == date(2026, 11, 21)
    assert study_day(datetime(2026, 11, 22, 4, 0, tzinfo=CET)) == date(2026, 11, 22)
    assert review(CardState(), 5, datetime(2026, 11, 22, 3, 59, tzinfo=CET)).due == date(2026, 11, 22)
    assert review(CardState(), 5, datetime(2026, 11, 22, 4, 0, tzinfo=CET)).due == date(2026, 11, 23)


def test_rollover_hour_is_0_to_23():
    assert study_day(datetime(2026, 11, 22, 0, 0, tzinfo=CET), 0) == date(2026, 11, 22)
    assert study_day(datetime(2026, 11, 22, 22, 59, tzinfo=CET), 23) == date(2026, 11, 21)
    assert study_day(datetime(2026, 11, 22, 23, 0, tzinfo=CET), 23) == date(2026, 11, 22)
    for bad in (-1, 24):
        with pytest.raises(ValueError, match=f"rollover_hour must be 0-23, got {bad}"):
            study_day(T0, bad)


def test_a_tzinfo_without_an_offset_is_refused():
    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

    with pytest.raises(ValueError, match="aware"):
        study_day(datetime(2026, 11, 22, 10, tzinfo=NoOffset()))


def test_study_day_uses_the_reviews_own_offset():
    # 23:30 UTC on the 21st is 08:30 on the 22nd in Tokyo.
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2026, 11, 21, 23, 30, tzinfo=UTC).astimezone(tokyo)
    assert study_day(at, 4) == date(2026, 11, 22)


def test_due_cap_moves_due_date_but_keeps_interval():
    state = run([5, 5, 5])[-1]  # interval 17
    at = datetime(2026, 12, 1, 10, tzinfo=CET)
    capped = review(state, 5, at, 4, due_cap=date(2026, 12, 10))
    assert capped.interval_days == 48
    assert capped.due == date(2026, 12, 10)
    # A cap in the past never schedules before tomorrow.
    assert review(state, 5, at, 4, due_cap=date(2026, 11, 1)).due == date(2026, 12, 2)


def test_review_is_pure():
    state = CardState()
    review(state, 5, T0)
    assert state == CardState()


def test_refuses_naive_datetimes_and_bad_grades():
    with pytest.raises(ValueError, match="aware"):
        review(CardState(), 5, datetime(2026, 1, 1))
    for bad in (-1, 6, 2.5, True, "5"):
        with pytest.raises(ValueError, match="grade"):
            review(CardState(), bad, T0)


def test_round_trip_to_dict():
    state = run([5, 3, 4])[-1]
    assert CardState.from_dict(state.to_dict()) == state


def test_grade_enum_matches_scale():
    assert [int(g) for g in Grade] == [0, 1, 2, 3, 4, 5]
    assert Grade.HARD.label == "right, with serious difficulty"


grades = st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(grades)
def test_easiness_never_below_floor(gs):
    assert all(s.easiness_hundredths >= 130 for s in run(gs))


@settings(max_examples=300, deadline=None)
@given(grades)
def test_intervals_never_shrink_on_passing_grades_after_the_second_review(gs):
    states = run(gs)
    for prev, cur, g in zip(states, states[1:], gs[1:], strict=False):
        if g >= 3 and prev.repetitions >= 2:
            assert cur.interval_days >= prev.interval_days


@settings(max_examples=200, deadline=None)
@given(grades)
def test_replay_equals_stepwise(gs):
    at = T0
    stepwise = CardState()
    log = []
    for g in gs:
        stepwise = review(stepwise, g, at)
        log.append((g, at, None, 4))
        at += timedelta(days=stepwise.interval_days)
    assert replay(log) == stepwise
