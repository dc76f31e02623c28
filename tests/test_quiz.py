"""The quiz: grade suggestion, the session flow with scripted input, repeats,
follow-up rotation, cram and rapid-fire, quitting, and the mock interview."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from dlprep.cli.quiz_ui import parse_points
from dlprep.core.bank import load_bank
from dlprep.core.store import Store
from dlprep.features.quiz import (
    Options,
    Quit,
    QuizSession,
    Suggestion,
    coverage,
    grade_from_coverage,
    suggest_grade,
)

pytestmark = pytest.mark.usefixtures("small_bank")
CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("cov", "grade"),
    [
        (1.0, 5),
        (0.9, 5),
        (0.89, 4),
        (0.75, 4),
        (0.74, 3),
        (0.5, 3),
        (0.49, 2),
        (0.3, 2),
        (0.29, 1),
        (0.01, 1),
        (0.0, 0),
    ],
)
def test_coverage_to_grade_mapping(cov, grade):
    assert grade_from_coverage(cov) == grade


def test_coverage_is_weighted():
    card = load_bank().get("alpha")  # weights 3, 1, 1
    assert coverage(card, {0}) == pytest.approx(0.6)
    assert coverage(card, {1, 2}) == pytest.approx(0.4)
    assert coverage(card, {0, 1, 2}) == 1.0


def test_suggestion_edges_and_reasons():
    assert suggest_grade(0.1, over_time=True) == Suggestion(
        0, ("rubric coverage 10% -> 1", "over the rapid-fire target -> 0")
    )
    assert suggest_grade(0.5, follow_up_missed=True) == Suggestion(3, ("rubric coverage 50% -> 3",))  # already 3
    assert suggest_grade(0.8, follow_up_missed=True) == Suggestion(
        3, ("rubric coverage 80% -> 4", "missed follow-up caps the grade at 3")
    )


def test_missed_follow_up_caps_at_three_and_overtime_lowers_by_one():
    assert suggest_grade(1.0, follow_up_missed=True).grade == 3
    assert suggest_grade(0.5, follow_up_missed=True).grade == 3
    assert suggest_grade(0.3, follow_up_missed=True).grade == 2
    assert suggest_grade(1.0, over_time=True).grade == 4
    assert suggest_grade(0.0, over_time=True).grade == 0
    s = suggest_grade(1.0, follow_up_missed=True, over_time=True)
    assert s.grade == 3 and len(s.reasons) == 3


def test_parse_points():
    assert parse_points("1 3", 4) == {0, 2}
    assert parse_points("1,3,4", 4) == {0, 2, 3}
    assert parse_points("134", 4) == {0, 2, 3}
    assert parse_points("a", 4) == {0, 1, 2, 3}
    assert parse_points("", 4) == set()
    assert parse_points("5", 4) is None
    assert parse_points("x", 4) is None


def reviews(home):
    store = Store.open(home / "dlprep.db")
    try:
        return store.reviews(), store.states()
    finally:
        store.close()


# alpha: rubric weights 3,1,1, two follow-ups; beta: weights 2,2,1, none; gamma: 1,1,1, one follow-up.
FULL_SESSION = (
    "\n".join(
        [
            "",
            "1 2",
            "",
            "y",
            "",  # alpha: reveal, cover 80% -> 4, follow-up got, accept 4
            "t",
            "my typed answer",
            "",
            "a",
            "",  # beta: type an answer, cover all -> 5, accept
            "",
            "1",
            "",
            "n",
            "",  # gamma: 33% -> 2, follow-up missed, accept 2 -> repeat later
            "",
            "a",
            "",  # gamma again: 100% -> 5 (no follow-up on a repeat)
        ]
    )
    + "\n"
)


def test_full_session(cli, clock, dlprep_home):
    result = cli("quiz", input=FULL_SESSION)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 card(s) in this session" in out
    assert "suggested grade 4: right, after hesitation\n  · rubric coverage 80% -> 4" in out
    assert "again: graded below 4 earlier this session" in out
    assert "Session summary" in out and "3 of 3 card(s) done · 1 repeat(s)" in out
    rows, states = reviews(dlprep_home)
    assert [(r["card_id"], r["grade"], r["mode"], r["counts"]) for r in rows] == [
        ("alpha", 4, "quiz", True),
        ("beta", 5, "quiz", True),
        ("gamma", 2, "quiz", True),
        ("gamma", 5, "repeat", False),
    ]
    assert rows[0]["points_hit"] == [0, 1] and rows[0]["coverage"] == 0.8 and rows[0]["follow_up"] == "got"
    assert rows[1]["answer_text"] == "my typed answer"
    assert rows[2]["follow_up"] == "missed"
    # The repeat did not move gamma's schedule: still n=0, I=1 from the grade 2.
    assert (states["gamma"].repetitions, states["gamma"].interval_days, states["gamma"].reviews) == (0, 1, 1)


def test_next_day_sees_the_right_cards_due(cli, clock, dlprep_home):
    cli("quiz", input=FULL_SESSION)
    clock("2026-11-22T09:00:00+01:00")
    due = cli.json("due")
    assert [d["id"] for d in due] == ["alpha", "beta", "gamma"]  # all three had interval 1
    # The second review of alpha rotates to its second follow-up.
    script = "\n".join(["", "a", "", "y", "", "q"]) + "\n"
    result = cli("quiz", input=script)
    assert "How would you know?" in result.stdout
    assert "Why not beta?" not in result.stdout
    rows, states = reviews(dlprep_home)
    assert rows[-1]["follow_up_index"] == 1
    assert states["alpha"].interval_days == 6


def test_missed_follow_up_caps_grade(cli, clock, dlprep_home):
    result = cli("quiz", "--limit", "1", input="\na\n\nn\n\nq\n")
    assert "missed follow-up caps the grade at 3" in result.stdout
    rows, _ = reviews(dlprep_home)
    assert rows[0]["grade"] == 3


def test_grade_override(cli, clock, dlprep_home):
    cli("quiz", "--limit", "1", input="\n1\n\ny\n5\n")
    rows, _ = reviews(dlprep_home)
    assert rows[0]["grade"] == 5 and rows[0]["coverage"] == 0.6


def test_bad_keys_reprompt_and_help(cli, clock, dlprep_home):
    script = "x\n?\n\n9\n?\n1\n\ny\nz\n?\n\nq\n"  # graded 3, so it would come back: q
    result = cli("quiz", "--limit", "1", input=script)
    assert result.exit_code == 0
    out = result.stdout
    assert "Press Enter to reveal, t to type, q to quit, ? for help." in out
    assert "Type numbers from 1 to 3 (e.g. 1 3), a for all, Enter for none." in out
    assert "Mark the rubric points your answer covered" in out  # rubric help
    assert ">= 90% -> 5, >= 75% -> 4" in out  # grade help
    rows, _ = reviews(dlprep_home)
    assert [r["grade"] for r in rows] == [3]


def test_quit_keeps_confirmed_reviews(cli, clock, dlprep_home):
    result = cli("quiz", input="\na\n\ny\n\nq\n")
    assert result.exit_code == 0
    assert "1 of 3 card(s) done" in result.stdout
    rows, _ = reviews(dlprep_home)
    assert [r["card_id"] for r in rows] == ["alpha"]


def test_closed_input_mid_session_keeps_reviews_and_exits_nonzero(cli, clock, dlprep_home):
    result = cli("quiz", input="\na\n\ny\n\n\n1")  # input ends inside the second card
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("input closed: 1 review(s) saved")
    assert "Traceback" not in result.output
    rows, _ = reviews(dlprep_home)
    assert [r["card_id"] for r in rows] == ["alpha"]


def test_closed_input_at_start(cli, clock, dlprep_home):
    result = cli("quiz", input="")
    assert result.exit_code == 1
    assert result.stderr.strip() == "input closed: 0 review(s) saved"


def test_nothing_to_do(cli, clock, dlprep_home):
    result = cli("quiz", "--topic", "advanced", "--new", "0")
    assert result.exit_code == 0
    assert "Nothing to review right now" in result.stderr


def test_json_summary_on_stdout_conversation_on_stderr(cli, clock):
    result = cli("quiz", "--limit", "1", "--json", input="\na\n\ny\n\n")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    seconds = data.pop("seconds")
    review_seconds = data["reviews"][0].pop("seconds")
    assert isinstance(seconds, float) and 0 <= review_seconds <= seconds
    assert data == {
        "cards": 1,
        "planned": 1,
        "repeats": 0,
        "average_coverage": 1.0,
        "due_tomorrow": 1,
        "interrupted": False,
        "reviews": [
            {
                "id": "alpha",
                "grade": 5,
                "coverage": 1.0,
                "follow_up": "got",
                "repeat": False,
                "over_time": False,
                "due": "2026-11-22",
            }
        ],
        "weakest_points": [],
    }
    assert "model answer" in result.stderr


def test_cram_leaves_schedule_alone_unless_asked(cli, clock, dlprep_home):
    cli("review", "alpha", "--grade", "5")
    before = cli.json("card", "alpha")["due"]
    result = cli("quiz", "--cram", "--topic", "basics", input="\na\n\ny\n\n\na\n\n")
    assert result.exit_code == 0
    rows, states = reviews(dlprep_home)
    assert [(r["card_id"], r["mode"], r["counts"]) for r in rows[1:]] == [
        ("alpha", "cram", False),
        ("beta", "cram", False),
    ]
    assert cli.json("card", "alpha")["due"] == before and "beta" not in states
    cli("quiz", "--cram", "--reschedule", "--limit", "1", input="\na\n\ny\n\n")
    assert cli.json("card", "alpha")["repetitions"] == 2


def test_filters_role_and_difficulty(cli, clock):
    result = cli("quiz", "--role", "cv", "--difficulty", "mid", "--json", input="\na\n\n")
    assert [r["id"] for r in json.loads(result.stdout)["reviews"]] == ["beta"]


class ScriptedUI:
    """A QuizUI that answers from a script and records what it was shown."""

    def __init__(self, points, follow_ups=(), grades=(), on_question=None, on_save_failed=()):
        self.points = list(points)
        self.follow_ups = list(follow_ups)
        self.grades = list(grades)
        self.on_question = on_question
        self.on_save_failed = list(on_save_failed)
        self.save_failures = []
        self.shown = []
        self.positions = []  # (index, total) as shown in the header
        self.demos = []  # whether `s` (run the demo) was offered

    def question(self, card, index, total, repeat, target_s):
        self.shown.append((card.id, repeat, target_s))
        self.positions.append((index, total))
        if self.on_question:
            self.on_question(card)
        return None

    def reveal(self, card, elapsed_s, target_s):
        pass

    def rubric(self, card):
        return self.points.pop(0)

    def follow_up(self, card, follow_up):
        return self.follow_ups.pop(0)

    def confirm(self, card, suggestion, demo):
        self.demos.append(demo)
        return self.grades.pop(0) if self.grades else suggestion.grade

    def saved(self, outcome):
        pass

    def save_failed(self, card, problem):
        self.save_failures.append((card.id, problem))
        return self.on_save_failed.pop(0)


class FakeClock:
    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self):
        return self.t


def session(tmp_path, **kw):
    store = Store.open(tmp_path / "q.db")
    now = datetime(2026, 11, 21, 10, tzinfo=CET)
    return QuizSession(load_bank(), store, lambda: now, **kw)


def test_rapid_fire_over_target_lowers_grade(tmp_path):
    mono = FakeClock()
    s = session(tmp_path, opts=Options(rapid=True), monotonic=mono)
    bank = s.bank

    def think(card):
        mono.t += card.time_target_s + 5 if card.id == "alpha" else 1

    ui = ScriptedUI(points=[{0, 1, 2}, {0, 1, 2}], follow_ups=[True], on_question=think)
    summary = s.run([bank.get("alpha"), bank.get("beta")], ui)
    assert [(o.card.id, o.grade, o.over_time) for o in summary.outcomes] == [("alpha", 4, True), ("beta", 5, False)]
    assert ui.shown[0][2] == 30  # the target was shown
    assert [r["mode"] for r in s.store.reviews()] == ["rapid", "rapid"]


def test_same_session_repeats_until_four(tmp_path):
    s = session(tmp_path, opts=Options())
    bank = s.bank
    ui = ScriptedUI(points=[set(), {0}, {0, 1}, {0, 1, 2}])
    summary = s.run([bank.get("beta")], ui)
    assert [o.grade for o in summary.outcomes] == [0, 2, 4]  # stops once it reaches 4
    assert [r["mode"] for r in s.store.reviews()] == ["quiz", "repeat", "repeat"]
    assert s.store.state("beta").reviews == 1


def test_repeat_comes_back_after_other_cards(tmp_path):
    s = session(tmp_path, opts=Options())
    bank = s.bank
    ui = ScriptedUI(points=[set(), {0, 1, 2}, {0, 1, 2}, {0, 1, 2}], follow_ups=[True, True])
    s.run([bank.get("beta"), bank.get("alpha"), bank.get("gamma")], ui)
    assert [cid for cid, _, _ in ui.shown] == ["beta", "alpha", "gamma", "beta"]


def test_mock_interview_chains_follow_ups_writes_scorecard(cli, clock, dlprep_home):
    # gamma (derive-then-scale) has one follow-up; alpha (why-not) two.
    script = "\n".join(["", "1", "", "n", "", "", "a", "", "y", "", "y", ""]) + "\n"
    result = cli("mock", "--topic", "advanced", "--topic", "basics", "--minutes", "20", input=script)
    assert result.exit_code == 0, result.output
    assert "scorecard written to" in result.stdout
    cards = list((dlprep_home / "scorecards").glob("mock-*.md"))
    assert len(cards) == 1
    text = cards[0].read_text()
    assert "| advanced | 33% |" in text and "| basics | 100% |" in text
    assert "- follow-up missed: And delta?" in text
    assert "- `dlprep card gamma`" in text
    rows, _ = reviews(dlprep_home)
    assert [(r["card_id"], r["mode"], r["follow_up"]) for r in rows] == [
        ("gamma", "mock", "missed"),
        ("alpha", "mock", "got"),
    ]


def test_mock_stopped_early_says_so_and_how_many_were_answered(cli, clock, dlprep_home):
    args = ("mock", "--topic", "advanced", "--topic", "basics", "--minutes", "20")
    at_first = cli(*args, input="q\n")
    assert at_first.exit_code == 0, at_first.output
    assert "0 of 2 question(s)" in at_first.stdout and "(stopped early)" in at_first.stdout
    assert "no question answered (of 2 planned): nothing to review yet" in at_first.stdout
    assert "well done" not in at_first.stdout
    # gamma answered in full (grade 5), then q at alpha
    after_one = cli(*args, input="\na\n\ny\n\nq\n")
    assert after_one.exit_code == 0, after_one.output
    assert "1 of 2 question(s)" in after_one.stdout and "(stopped early)" in after_one.stdout
    assert "nothing below grade 4 in the 1 question(s) answered; 1 of 2 were not reached" in after_one.stdout
    assert "well done" not in after_one.stdout
    closed = cli(*args, "--json", input="")  # input closed at the first question
    data = json.loads(closed.stdout)
    assert (data["asked"], data["planned"], data["stopped_early"], data["timed_out"]) == (0, 2, True, False)


def test_mock_stops_when_time_is_up(tmp_path):
    from dlprep.features.mock import MockInterview

    store = Store.open(tmp_path / "m.db")
    bank = load_bank()
    mono = FakeClock()
    interview = MockInterview(
        bank, store, lambda: datetime(2026, 11, 21, 10, tzinfo=CET), 5, ["basics", "advanced"], monotonic=mono
    )

    def slow(card):
        mono.t += 400  # each answer takes longer than the whole interview

    ui = ScriptedUI(points=[{0}] * 3, follow_ups=[True] * 3, on_question=slow)
    interview.run([bank.get("alpha"), bank.get("beta"), bank.get("gamma")], ui)
    result = interview.result()
    assert result["timed_out"] is True and result["asked"] == 1 and result["planned"] == 3


def _hold_lock(path):
    import sqlite3

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_locked_database_keeps_the_review_and_retries_then_asks(tmp_path):
    """Another process holds the write lock: the quiz retries with backoff, then
    asks; 'retry' after the lock is released saves the review with its typed text."""
    s = session(tmp_path, opts=Options(limit=2))
    s.store.close()
    s.store = Store.open(tmp_path / "q.db", timeout=0.05)
    slept = []
    s.sleep = slept.append
    cards = [s.bank.get("alpha"), s.bank.get("beta")]
    holder = {}

    def on_question(card):
        if card.id == cards[0].id:
            holder["conn"] = _hold_lock(tmp_path / "q.db")

    ui = ScriptedUI(
        points=[{0, 1, 2}, {0, 1, 2}], follow_ups=[True, True], on_question=on_question, on_save_failed=["retry"]
    )
    original = ui.save_failed

    def release_then_retry(card, problem):
        holder.pop("conn").execute("ROLLBACK")
        return original(card, problem)

    ui.save_failed = release_then_retry
    summary = s.run(cards, ui)
    assert slept == [0.5, 1.0, 2.0]  # the backoff before asking
    assert [c for c, _ in ui.save_failures] == [cards[0].id]
    assert "database is busy" in ui.save_failures[0][1]
    assert [o.card.id for o in summary.outcomes] == [c.id for c in cards]
    assert [r["card_id"] for r in s.store.reviews()] == [c.id for c in cards]


def test_skip_and_quit_on_a_locked_database_still_give_a_summary(tmp_path):
    s = session(tmp_path, opts=Options(limit=3))
    s.store.close()
    s.store = Store.open(tmp_path / "q.db", timeout=0.05)
    s.sleep = lambda _: None
    cards = [s.bank.get(c) for c in ("alpha", "beta", "gamma")]
    held = {}

    def on_question(card):
        if "conn" not in held:
            held["conn"] = _hold_lock(tmp_path / "q.db")

    ui = ScriptedUI(
        points=[{0, 1, 2}, {0, 1, 2}], follow_ups=[True, True], on_question=on_question, on_save_failed=["skip", "quit"]
    )
    with pytest.raises(Quit):
        s.run(cards, ui)
    held["conn"].execute("ROLLBACK")
    summary = s.summary(interrupted=True)
    assert [c for c, _ in ui.save_failures] == [cards[0].id, cards[1].id]
    assert summary.outcomes == [] and summary.planned == 3
    assert s.store.reviews() == []


def test_a_mock_outcome_never_says_it_comes_back(tmp_path):
    s = session(tmp_path, opts=Options(limit=1), repeats=False)
    ui = ScriptedUI(points=[set()], follow_ups=[False])
    summary = s.run([s.bank.get("alpha")], ui)
    assert summary.outcomes[0].grade < 4 and summary.outcomes[0].comes_back is False
    (tmp_path / "b").mkdir()
    s2 = session(tmp_path / "b", opts=Options(limit=1))
    summary = s2.run([s2.bank.get("alpha")], ScriptedUI(points=[set(), {0, 1, 2}], follow_ups=[False]))
    assert [(o.repeat, o.comes_back) for o in summary.outcomes] == [(False, True), (True, False)]


# ---------------------------------------------------------------- the rules at their edges

NOW = datetime(2026, 11, 21, 10, tzinfo=CET)


def five_card_bank(tmp_path):
    from dlprep.core.bank import check_bank

    folder = tmp_path / "five"
    folder.mkdir()
    (folder / "topics.yaml").write_text("topics:\n  - {id: t, title: T, order: 1, summary: S., prerequisites: []}\n")
    rubric = "rubric: [{point: a, weight: 2}, {point: b, weight: 1}, {point: c, weight: 1}]"
    body = "".join(f"  - id: c{i}\n    question: Q{i}?\n    answer: A.\n    {rubric}\n" for i in range(1, 6))
    (folder / "t.yaml").write_text("topic: t\ncards:\n" + body)
    bank, problems = check_bank(folders=[folder])
    assert problems == []
    return bank


def test_a_grade_three_comes_back_and_a_grade_four_does_not(tmp_path):
    s = session(tmp_path, opts=Options())
    ui = ScriptedUI(points=[{0, 1, 2}] * 3, follow_ups=[True], grades=[3, 4, 4])
    summary = s.run([s.bank.get("beta"), s.bank.get("gamma")], ui)
    assert [(o.card.id, o.grade, o.repeat, o.comes_back) for o in summary.outcomes] == [
        ("beta", 3, False, True),
        ("gamma", 4, False, False),
        ("beta", 4, True, False),
    ]


def test_a_repeat_comes_back_after_three_other_cards(tmp_path):
    store = Store.open(tmp_path / "q.db")
    bank = five_card_bank(tmp_path)
    s = QuizSession(bank, store, lambda: NOW, Options())
    ui = ScriptedUI(points=[set()] + [{0, 1, 2}] * 5)
    s.run([bank.get(f"c{i}") for i in range(1, 6)], ui)
    assert [(cid, repeat) for cid, repeat, _ in ui.shown] == [
        ("c1", False),
        ("c2", False),
        ("c3", False),
        ("c4", False),
        ("c1", True),
        ("c5", False),
    ]


def test_session_summary_figures(tmp_path):
    from dlprep.core.store import Review

    mono = FakeClock(100.0)
    s = session(tmp_path, opts=Options(), monotonic=mono)
    s.store.record(Review("beta", 5, datetime(2026, 11, 16, 10, tzinfo=CET)))
    s.store.record(Review("beta", 5, datetime(2026, 11, 17, 10, tzinfo=CET)))  # due 11-23: not tomorrow
    s.store.record(Review("gone", 5, datetime(2026, 11, 20, 10, tzinfo=CET)))  # due 11-21, not in the bank
    spent = {"alpha": [12.345, 3.25], "gamma": [7.51, 2.27]}

    def think(card):
        mono.t += spent[card.id].pop(0)

    # alpha covers 60% and gamma 2 of 3 points (grade 3 each): both come back, then covered in full.
    ui = ScriptedUI(points=[{0}, {0, 1}, {0, 1, 2}, {0, 1, 2}], follow_ups=[True, True], on_question=think)
    summary = s.run([s.bank.get("alpha"), s.bank.get("gamma")], ui)
    assert summary.to_dict() == {
        "cards": 2,
        "planned": 2,
        "repeats": 2,
        "average_coverage": 0.633,
        "seconds": 25.4,
        "due_tomorrow": 2,  # alpha and gamma (11-22); not beta (11-23), not the orphan
        "interrupted": False,
        "reviews": [
            {
                "id": "alpha",
                "grade": 3,
                "coverage": 0.6,
                "follow_up": "got",
                "seconds": 12.3,
                "repeat": False,
                "over_time": False,
                "due": "2026-11-22",
            },
            {
                "id": "gamma",
                "grade": 3,
                "coverage": 0.667,
                "follow_up": "got",
                "seconds": 7.5,
                "repeat": False,
                "over_time": False,
                "due": "2026-11-22",
            },
            {
                "id": "alpha",
                "grade": 5,
                "coverage": 1.0,
                "follow_up": None,
                "seconds": 3.2,
                "repeat": True,
                "over_time": False,
                "due": None,
            },
            {
                "id": "gamma",
                "grade": 5,
                "coverage": 1.0,
                "follow_up": None,
                "seconds": 2.3,
                "repeat": True,
                "over_time": False,
                "due": None,
            },
        ],
        "weakest_points": [
            {"card": "alpha", "point": "Says it is first", "weight": 1},
            {"card": "alpha", "point": "Mentions [brackets]", "weight": 1},
            {"card": "gamma", "point": "Says it is advanced", "weight": 1},
        ],
    }
    rows = s.store.reviews()[3:]
    assert [(r["coverage"], r["seconds"], r["mode"]) for r in rows] == [
        (0.6, 12.34, "quiz"),
        (0.6667, 7.51, "quiz"),
        (1.0, 3.25, "repeat"),
        (1.0, 2.27, "repeat"),
    ]
    assert ui.positions == [(1, 2), (2, 2), (2, 2), (2, 2)]  # a repeat does not advance the count
    assert s.summary(interrupted=True).to_dict()["interrupted"] is True


def test_a_summary_before_the_first_card(tmp_path):
    s = session(tmp_path, opts=Options())
    assert s.summary(interrupted=True).to_dict() == {
        "cards": 0,
        "planned": 0,
        "repeats": 0,
        "average_coverage": None,
        "seconds": 0.0,
        "due_tomorrow": 0,
        "interrupted": True,
        "reviews": [],
        "weakest_points": [],
    }


def test_weakest_points_are_the_five_heaviest_missed_first_attempts():
    from dlprep.features.quiz import Outcome, SessionSummary

    bank = load_bank()

    def missed_all(card_id, repeat=False):
        return Outcome(bank.get(card_id), 0, 0.0, (), None, 1.0, repeat, False, None)

    summary = SessionSummary([missed_all("alpha"), missed_all("beta"), missed_all("gamma", repeat=True)], 3, 0, 3.0)
    assert [(c, w) for c, _, w in summary.weakest_points()] == [
        ("alpha", 3),
        ("beta", 2),
        ("beta", 2),
        ("alpha", 1),
        ("alpha", 1),
    ]
    assert len(summary.weakest_points(n=10)) == 6  # the repeat's points are not counted
    assert summary.to_dict()["average_coverage"] == 0.0
    assert SessionSummary([], 0, 0, 0.0).to_dict()["average_coverage"] is None


def test_answering_in_exactly_the_target_time_is_not_over_it(tmp_path):
    mono = FakeClock()
    s = session(tmp_path, opts=Options(rapid=True), monotonic=mono)

    def think(card):
        mono.t += card.time_target_s if card.id == "beta" else card.time_target_s + 0.5

    ui = ScriptedUI(points=[{0, 1, 2}, {0, 1, 2}], follow_ups=[True], on_question=think)
    summary = s.run([s.bank.get("beta"), s.bank.get("alpha")], ui)
    assert [(o.card.id, o.over_time, o.grade) for o in summary.outcomes] == [("beta", False, 5), ("alpha", True, 4)]


def test_without_rapid_there_is_no_target(tmp_path):
    mono = FakeClock()
    s = session(tmp_path, opts=Options(), monotonic=mono)
    ui = ScriptedUI(points=[{0, 1, 2}], on_question=lambda card: setattr(mono, "t", mono.t + 999))
    summary = s.run([s.bank.get("beta")], ui)
    assert ui.shown == [("beta", False, None)] and summary.outcomes[0].over_time is False


def test_the_interview_date_caps_a_quiz_review(tmp_path):
    from datetime import date

    from dlprep.core.store import Review
    from dlprep.features.plan import Plan, cap_for, save_plan

    s = session(tmp_path, opts=Options())
    s.store.record(Review("beta", 5, datetime(2026, 11, 15, 10, tzinfo=CET)))
    s.store.record(Review("beta", 5, datetime(2026, 11, 16, 10, tzinfo=CET)))  # I = 6, due 11-22
    interview = date(2026, 11, 25)
    save_plan(s.store, Plan("mle", date(2026, 11, 14), interview))
    summary = s.run([s.bank.get("beta")], ScriptedUI(points=[{0, 1, 2}]))
    # SM-2 gives 17 days (11-21 + 17 = 12-08); the plan brings it before the interview.
    assert s.store.state("beta").interval_days == 17
    cap = cap_for("beta", date(2026, 11, 21), interview)
    assert summary.outcomes[0].due == cap and date(2026, 11, 22) <= cap < interview
    assert s.store.rebuild()["beta"].due == cap  # the cap is logged with the review


def select(tmp_path, opts, new_per_day=10, review_cap=100, reviews=()):
    from dlprep.core.store import Review
    from dlprep.features.quiz import select_cards

    store = Store.open(tmp_path / f"sel-{len(list(tmp_path.glob('sel-*.db')))}.db")  # a fresh one each call
    for cid, when in reviews:
        store.record(Review(cid, 5, when))
    try:
        return [c.id for c in select_cards(load_bank(), store, NOW, opts, 4, new_per_day, review_cap)]
    finally:
        store.close()


OVERDUE_GAMMA_TODAY_ALPHA = (
    ("gamma", datetime(2026, 11, 19, 10, tzinfo=CET)),  # due 11-20: overdue
    ("alpha", datetime(2026, 11, 21, 9, tzinfo=CET)),  # introduced today, due 11-22
)


@pytest.mark.parametrize(
    ("opts", "new_per_day", "review_cap", "expected"),
    [
        (Options(), 2, 100, ["gamma", "beta"]),  # 2 new a day, 1 already introduced today
        (Options(), 1, 100, ["gamma"]),
        (Options(), 0, 100, ["gamma"]),
        (Options(new=0), 10, 100, ["gamma"]),
        (Options(new=1), 0, 100, ["gamma", "beta"]),  # --new overrides the daily count
        (Options(), 10, 0, ["beta"]),  # the review cap
        (Options(limit=1), 10, 100, ["gamma"]),
        (Options(difficulty="mid"), 10, 100, ["beta"]),  # filters apply to due cards too
        (Options(role="cv"), 10, 100, ["gamma", "beta"]),
        (Options(topics=["basics"]), 10, 100, ["beta"]),
    ],
)
def test_select_cards(tmp_path, opts, new_per_day, review_cap, expected):
    assert select(tmp_path, opts, new_per_day, review_cap, OVERDUE_GAMMA_TODAY_ALPHA) == expected


def test_no_new_cards_once_more_were_introduced_than_the_daily_count(tmp_path):
    introduced = (("alpha", datetime(2026, 11, 21, 9, tzinfo=CET)),)
    assert select(tmp_path, Options(), 0, 100, introduced) == []  # 0 - 1: none, not a negative slice
    assert select(tmp_path, Options(), 2, 100, introduced) == ["beta"]


def test_cram_asks_cards_not_due_least_recently_seen_first(tmp_path):
    reviews = (
        ("alpha", datetime(2026, 11, 20, 10, tzinfo=CET)),  # due today: not crammed
        ("gamma", datetime(2026, 11, 21, 8, tzinfo=CET)),  # due tomorrow
    )
    assert select(tmp_path, Options(cram=True), reviews=reviews) == ["gamma", "beta"]
    assert select(tmp_path, Options(cram=True, limit=1), reviews=reviews) == ["gamma"]
    later = (("beta", datetime(2026, 11, 21, 9, tzinfo=CET)), ("gamma", datetime(2026, 11, 21, 8, tzinfo=CET)))
    assert select(tmp_path, Options(cram=True), reviews=later) == ["gamma", "beta", "alpha"]


def test_an_unknown_topic_is_refused(tmp_path):
    from dlprep.errors import DlprepError

    with pytest.raises(DlprepError, match="unknown topic 'basic'"):
        select(tmp_path, Options(topics=["basic"]))


def test_follow_ups_rotate_across_reviews(tmp_path):
    from dlprep.core.store import Review
    from dlprep.features.quiz import next_follow_up

    store = Store.open(tmp_path / "f.db")
    alpha, beta = load_bank().get("alpha"), load_bank().get("beta")
    assert next_follow_up(store, beta) is None
    asked = []
    for day in (1, 2, 3):
        i, f = next_follow_up(store, alpha)
        asked.append((i, f.question))
        store.record(Review("alpha", 5, datetime(2026, 11, day, 10, tzinfo=CET), follow_up="got", follow_up_index=i))
    store.record(Review("alpha", 5, datetime(2026, 11, 9, 10, tzinfo=CET)))  # no follow-up asked: no turn used
    assert asked == [(0, "Why not beta?"), (1, "How would you know?"), (0, "Why not beta?")]
    assert next_follow_up(store, alpha)[0] == 1


def test_a_sessions_day_rolls_over_at_4am_by_default(tmp_path):
    dues = []
    for i, hour_minute in enumerate(((3, 59), (4, 0))):
        store = Store.open(tmp_path / f"r{i}.db")
        when = datetime(2026, 11, 22, *hour_minute, tzinfo=CET)
        s = QuizSession(load_bank(), store, lambda when=when: when, Options())
        dues.append(s.run([s.bank.get("beta")], ScriptedUI(points=[{0, 1, 2}])).outcomes[0].due.isoformat())
    assert dues == ["2026-11-22", "2026-11-23"]


def test_the_demo_key_is_offered_only_for_a_card_with_a_demo_when_demos_can_run(tmp_path):
    s = session(tmp_path, opts=Options())
    ui = ScriptedUI(points=[{0, 1, 2}], follow_ups=[True])
    s.run([s.bank.get("alpha")], ui)
    (tmp_path / "b").mkdir()
    s2 = session(tmp_path / "b", opts=Options(), demo_available=True)
    ui2 = ScriptedUI(points=[{0, 1, 2}, {0, 1, 2}], follow_ups=[True])
    s2.run([s2.bank.get("alpha"), s2.bank.get("beta")], ui2)
    assert (ui.demos, ui2.demos) == ([False], [True, False])


def test_a_time_box_stops_at_the_first_card_after_it_is_over(tmp_path):
    mono = FakeClock(50.0)
    s = session(tmp_path, opts=Options(), monotonic=mono, minutes=5)
    took = [299, 1, 1]

    def think(card):
        mono.t += took.pop(0)

    ui = ScriptedUI(points=[{0, 1, 2}] * 3, follow_ups=[True, True], on_question=think)
    summary = s.run([s.bank.get(c) for c in ("beta", "alpha", "gamma")], ui)
    assert [o.card.id for o in summary.outcomes] == ["beta", "alpha"]  # 300 s used: the third is not asked
    assert s.timed_out is True and summary.seconds == 300
    (tmp_path / "b").mkdir()
    s2 = session(tmp_path / "b", opts=Options())
    s2.run([s2.bank.get("beta")], ScriptedUI(points=[{0, 1, 2}]))
    assert s2.timed_out is False


def test_a_cram_session_leaves_the_schedule_unless_told(tmp_path):
    s = session(tmp_path, opts=Options(cram=True))
    summary = s.run([s.bank.get("beta")], ScriptedUI(points=[{0, 1, 2}]))
    assert summary.outcomes[0].due is None and s.store.states() == {}
    assert [(r["mode"], r["counts"]) for r in s.store.reviews()] == [("cram", False)]
    (tmp_path / "b").mkdir()
    s2 = session(tmp_path / "b", opts=Options(cram=True, reschedule=True))
    summary = s2.run([s2.bank.get("beta")], ScriptedUI(points=[{0, 1, 2}]))
    assert summary.outcomes[0].due.isoformat() == "2026-11-22" and s2.store.state("beta").reviews == 1
