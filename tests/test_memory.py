"""The FSRS memory model: grade mapping, study-day placement, and a hand-checked computation."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import fsrs
import pytest

from dlprep.core import memory
from dlprep.core.memory import DEFAULT_PARAMETERS as W

D0 = date(2026, 11, 1)


def test_grade_to_rating_boundaries():
    assert [memory.rating(g) for g in range(6)] == [1, 1, 1, 2, 3, 4]
    assert memory.rating(2) == fsrs.Rating.Again and memory.rating(3) == fsrs.Rating.Hard
    assert memory.rating(4) == fsrs.Rating.Good and memory.rating(5) == fsrs.Rating.Easy
    for bad in (-1, 6, True, 3.0):
        with pytest.raises(ValueError):
            memory.rating(bad)


def test_defaults_match_the_package():
    assert memory.DEFAULT_PARAMETERS == tuple(fsrs.scheduler.DEFAULT_PARAMETERS)


# ---- FSRS-6 by hand (w = default parameters), independent of the package


def s0(g):  # initial stability: w[G-1]
    return W[g - 1]


def d0(g):  # initial difficulty: w4 - e^(w5 (G-1)) + 1
    return W[4] - math.exp(W[5] * (g - 1)) + 1


def r(t, s):  # forgetting curve: (1 + F t/S)^-w20, F = 0.9^(-1/w20) - 1
    f = 0.9 ** (-1 / W[20]) - 1
    return (1 + f * t / s) ** -W[20]


def d_next(d, g):  # linear damping then mean reversion toward D0(Easy), clamped to [1, 10]
    delta = -W[6] * (g - 3)
    d2 = d + (10 - d) * delta / 9
    return min(max(W[7] * d0(4) + (1 - W[7]) * d2, 1), 10)


def s_recall(d, s, rr, g):  # success: S (1 + e^w8 (11 - D) S^-w9 (e^((1-R) w10) - 1) hard easy)
    hard = W[15] if g == 2 else 1
    easy = W[16] if g == 4 else 1
    return s * (1 + math.exp(W[8]) * (11 - d) * s ** -W[9] * (math.exp((1 - rr) * W[10]) - 1) * hard * easy)


def s_forget(d, s, rr):  # lapse: min(w11 D^-w12 ((S+1)^w13 - 1) e^((1-R) w14), S / e^(w17 w18))
    return min(W[11] * d ** -W[12] * ((s + 1) ** W[13] - 1) * math.exp((1 - rr) * W[14]), s / math.exp(W[17] * W[18]))


def s_same_day(s, g):  # short-term: S e^(w17 (G - 3 + w18)) S^-w19, at least S for Hard or better
    inc = math.exp(W[17] * (g - 3 + W[18])) * s ** -W[19]
    return s * (max(inc, 1) if g >= 2 else inc)


def hand():
    """Good (grade 4) on day 0, Good on day 3, Again (grade 1) on day 10, Good again that day."""
    s, d = s0(3), d0(3)
    rr = r(3, s)
    s, d = s_recall(d, s, rr, 3), d_next(d, 3)
    rr = r(7, s)
    s, d = s_forget(d, s, rr), d_next(d, 1)
    s, d = s_same_day(s, 3), d_next(d, 3)
    return s, d


LOG = [  # (grade, time in a +09:00 zone, rollover hour); the day-10 repeat is at 02:00 on day 11 = study day 10
    (4, datetime(2026, 11, 1, 20, 0, tzinfo=timezone(timedelta(hours=9))), 4),
    (4, datetime(2026, 11, 4, 9, 0, tzinfo=timezone(timedelta(hours=9))), 4),
    (1, datetime(2026, 11, 11, 23, 0, tzinfo=timezone(timedelta(hours=9))), 4),
    (4, datetime(2026, 11, 12, 2, 0, tzinfo=timezone(timedelta(hours=9))), 4),
]


def test_hand_checked_fsrs_computation():
    s, d = hand()
    # the chain worked by hand (4 places), so a slip in a formula above shows up here too:
    # S1 = w2 = 2.3065, D1 = 2.1181; R(3 days) = 0.8809 -> S2 = 13.8269, D2 = 2.1112;
    # R(7 days) = 0.9397 -> lapse S3 = 1.6146, D3 = 7.3922; same-day Good S4 = 1.6438, D4 = 7.3801
    assert (s0(3), round(d0(3), 4), round(r(3, s0(3)), 4)) == (2.3065, 2.1181, 0.8809)
    assert (round(s, 4), round(d, 4), round(r(2, s), 4)) == (1.6438, 7.3801, 0.886)
    # dlprep's path: study days from the log, then the adapter
    states = memory.memory_states([("c", g, at, rh) for g, at, rh in LOG])
    st = states["c"]
    assert st.last_day == date(2026, 11, 11) and st.reviews == 4
    assert st.stability == pytest.approx(s, rel=1e-12)
    assert st.difficulty == pytest.approx(d, rel=1e-12)
    # retrievability two study days after the last review, three ways
    day = date(2026, 11, 13)
    assert memory.retrievability(st, day) == pytest.approx(r(2, s), rel=1e-12)
    assert memory.retrievability(st, st.last_day) == 1.0
    # the package itself, fed UTC midnights of the same study days
    sched = fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    card = fsrs.Card(card_id=1)
    for g, dd in [(3, 1), (3, 4), (1, 11), (3, 11)]:
        card, _ = sched.review_card(card, fsrs.Rating(g), datetime(2026, 11, dd, tzinfo=UTC))
    assert card.stability == pytest.approx(s, rel=1e-12)
    assert card.difficulty == pytest.approx(d, rel=1e-12)
    assert sched.get_card_retrievability(card, datetime(2026, 11, 13, tzinfo=UTC)) == pytest.approx(r(2, s))


def test_same_study_day_uses_the_short_term_formula_and_next_day_does_not():
    at = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    same = memory.memory_states([("c", 4, at, 4), ("c", 4, at.replace(hour=23), 4)])["c"]
    assert same.stability == pytest.approx(s_same_day(s0(3), 3))
    # 03:59 the next morning is still the same study day (rollover 04:00); 04:00 is the next one
    late = memory.memory_states([("c", 4, at, 4), ("c", 4, datetime(2026, 11, 2, 3, 59, tzinfo=UTC), 4)])["c"]
    assert late.stability == same.stability
    nxt = memory.memory_states([("c", 4, at, 4), ("c", 4, datetime(2026, 11, 2, 4, 0, tzinfo=UTC), 4)])["c"]
    assert nxt.stability == pytest.approx(s_recall(d0(3), s0(3), r(1, s0(3)), 3))


def test_retrievability_is_0_9_at_stability_and_interval_matches_retention():
    assert memory.recall_probability(12.5, 12.5) == pytest.approx(0.9)
    assert memory.interval_days(10.0, 0.9) == 10
    # lower desired retention, longer interval; never under one day
    assert memory.interval_days(10.0, 0.8) > 10 > memory.interval_days(10.0, 0.95)
    assert memory.interval_days(0.01, 0.9) == 1


def test_fsrs_due_only_moves_on_scheduling_reviews():
    # Good on day 0 (counts), a cram Easy on day 1 (does not count): due stays from day 0's state
    due = memory.fsrs_due([(4, D0, True, None), (5, D0 + timedelta(days=1), False, None)])
    assert due == (D0 + timedelta(days=round(s0(3))), round(s0(3)))
    assert memory.fsrs_due([(4, D0, False, None)]) is None


def test_memory_state_round_trip():
    st = memory.MemoryState(3.25, 5.5, D0, 2)
    assert memory.MemoryState.from_dict(st.to_dict()) == st


def test_check_parameters():
    assert memory.check_parameters(list(W)) == W
    with pytest.raises(ValueError):
        memory.check_parameters(W[:20])
    with pytest.raises(ValueError):
        memory.check_parameters((500.0, *W[1:]))


def test_the_plain_step_matches_the_package_on_random_logs():
    import random

    from dlprep.features.simulate import draw_learner

    rng = random.Random(5)
    for trial in range(60):
        params = W if trial % 2 else draw_learner(rng).params
        sched = fsrs.Scheduler(params, learning_steps=(), relearning_steps=(), enable_fuzzing=False)
        card = fsrs.Card(card_id=1)
        mine = None
        replayer = memory.Replayer(params)
        day = D0
        for _ in range(rng.randint(1, 12)):
            day += timedelta(days=rng.choice((0, 0, 1, 2, 5, 13, 40)))
            grade = rng.randint(0, 5)
            card, _ = sched.review_card(card, fsrs.Rating(memory.rating(grade)), memory.fsrs_time(day))
            mine = replayer.step(mine, grade, day)
            assert mine.stability == pytest.approx(card.stability, rel=1e-9)
            assert mine.difficulty == pytest.approx(card.difficulty, rel=1e-9)
            later = day + timedelta(days=rng.randint(0, 60))
            assert memory.retrievability(mine, later, params) == pytest.approx(
                sched.get_card_retrievability(card, memory.fsrs_time(later)), rel=1e-9
            )
