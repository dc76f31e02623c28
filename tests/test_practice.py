"""`dlprep practice`: grading and recording at every boundary, hints and the
solution gate, the starter file, today/plan/db check/card/undo with drill
reviews, the trust rule, and end-to-end check runs in the child process
(pass, a wrong answer with its message, a syntax error, an exception trimmed
to the user's file, an endless loop, a memory hog, a forbidden call, no torch)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dlprep.core.store import Review, Store
from dlprep.drills.model import Drill, Mistake
from dlprep.drills.runner import CheckResult
from dlprep.errors import DlprepError, UsageError
from dlprep.features import practice as P

DRILLS_DIR = Path(__file__).resolve().parents[1] / "questions" / "drills"
T0 = datetime.fromisoformat("2026-11-21T10:00:00+01:00")
ROLL = 4


def drill(hints: int = 3) -> Drill:
    return Drill(
        id="tiny",
        title="Double a number",
        topic="fundamentals",
        difficulty=1,
        minutes=5,
        task="Write `double(x)`.\nIt returns 2 * x.",
        hints=tuple(f"hint {i}" for i in range(1, hints + 1)),
        starter="def double(x):\n    raise NotImplementedError\n",
        solution="def double(x):\n    return 2 * x\n",
        checks='def check_value(user, h):\n    """doubles 3"""\n    if user.double(3) != 6:\n        h.fail("double(3) is not 6")\n',
        mistakes=(Mistake("adds", "check_value", "not 6", "def double(x):\n    return x + 2\n"),),
        needs="numpy",
    )


def results(passed: int, total: int, loaded: bool = True) -> list[CheckResult]:
    rows = [CheckResult("loads", "your file loads", loaded), CheckResult("defines", "defines double", loaded)]
    rows += [CheckResult(f"check_{i}", f"check {i}", True) for i in range(total - 2)]
    fails = total - passed
    for r in rows[::-1][:fails]:
        r.passed = False
    return rows


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "db.sqlite")
    yield s
    s.close()


# ---------------------------------------------------------------- the grade rule


@pytest.mark.parametrize(
    ("passed", "total", "loaded", "attempt", "hints", "seen", "grade"),
    [
        (0, 2, False, 1, 0, False, 0),  # the file does not load
        (5, 10, True, 1, 0, False, 1),  # exactly half pass: 1
        (6, 10, True, 1, 0, False, 2),  # more than half: 2
        (9, 10, True, 1, 0, False, 2),
        (10, 10, True, 1, 0, False, 5),  # first run, no hint
        (10, 10, True, 1, 1, False, 4),  # first run, one hint
        (10, 10, True, 2, 0, False, 4),
        (10, 10, True, 3, 0, False, 4),  # third run: still 4
        (10, 10, True, 4, 0, False, 3),  # fourth run: 3
        (10, 10, True, 9, 4, False, 3),
        (10, 10, True, 1, 0, True, 2),  # the solution was seen: 2
    ],
)
def test_grade_rule_at_each_boundary(passed, total, loaded, attempt, hints, seen, grade):
    assert P.grade_run(passed, total, loaded, attempt, hints, seen) == grade


# ---------------------------------------------------------------- recording runs


def test_a_first_clean_pass_settles_with_grade_5(store):
    d = drill()
    out = P.record_run(store, d, results(5, 5), T0, ROLL)
    assert (out.kind, out.grade, out.attempt) == ("settled", 5, 1)
    st = store.state("drill:tiny")
    assert st.reviews == 1 and st.interval_days == 1
    row = store.last_review("drill:tiny")
    assert (row["mode"], row["counts"], row["coverage"]) == ("drill", 1, 1.0)
    assert json.loads(row["answer_text"]) == {"passed": 5, "total": 5, "failed": [], "attempt": 1, "hints": 0}


def test_failing_runs_are_attempts_that_leave_the_schedule_alone(store):
    d = drill()
    first = P.record_run(store, d, results(3, 5), T0, ROLL)
    assert (first.kind, first.grade, first.failed) == ("attempt", 2, ["check_2"][:0] + first.failed)
    assert first.failed == ["check_1", "check_2"]
    assert store.state("drill:tiny").reviews == 0
    second = P.record_run(store, d, results(5, 5), T0 + timedelta(minutes=5), ROLL)
    assert (second.kind, second.grade, second.attempt) == ("settled", 4, 2)
    assert store.state("drill:tiny").reviews == 1


@pytest.mark.parametrize(("fails", "grade"), [(2, 4), (3, 3)])
def test_passing_on_the_third_run_is_4_and_on_the_fourth_is_3(store, fails, grade):
    d = drill()
    for i in range(fails):
        P.record_run(store, d, results(2, 5), T0 + timedelta(minutes=i), ROLL)
    out = P.record_run(store, d, results(5, 5), T0 + timedelta(minutes=10), ROLL)
    assert (out.attempt, out.grade) == (fails + 1, grade)


def test_attempts_carry_over_to_a_later_day(store):
    d = drill()
    P.record_run(store, d, results(1, 5), T0, ROLL)
    out = P.record_run(store, d, results(5, 5), T0 + timedelta(days=2), ROLL)
    assert (out.kind, out.attempt, out.grade) == ("settled", 2, 4)


def test_runs_after_settling_the_same_day_are_repeats(store):
    d = drill()
    P.record_run(store, d, results(5, 5), T0, ROLL)
    before = store.state("drill:tiny")
    fail = P.record_run(store, d, results(1, 5), T0 + timedelta(hours=1), ROLL)
    again = P.record_run(store, d, results(5, 5), T0 + timedelta(hours=2), ROLL)
    assert fail.kind == again.kind == "repeat"
    assert store.state("drill:tiny") == before
    assert [r["mode"] for r in store.reviews("drill:tiny")] == ["drill", "repeat", "repeat"]
    # the next day's first run is an attempt again, counted from 1 (repeats are not attempts)
    nxt = P.record_run(store, d, results(5, 5), T0 + timedelta(days=1), ROLL)
    assert (nxt.kind, nxt.attempt, nxt.grade) == ("settled", 1, 5)


def test_hints_lower_the_grade_and_are_cleared_when_settled(store):
    d = drill()
    shown, new = P.next_hint(store, d)
    assert (shown, new) == (["hint 1"], True)
    out = P.record_run(store, d, results(5, 5), T0, ROLL)
    assert (out.hints, out.grade) == (1, 4)
    assert P.load_progress(store, "tiny") == P.Progress()


def test_hints_come_one_at_a_time_and_stop_at_the_last(store):
    d = drill(hints=2)
    assert P.next_hint(store, d) == (["hint 1"], True)
    assert P.next_hint(store, d) == (["hint 1", "hint 2"], True)
    assert P.next_hint(store, d) == (["hint 1", "hint 2"], False)
    assert P.load_progress(store, "tiny").hints == 2


def test_the_solution_is_gated_until_a_run_and_then_caps_the_grade(store):
    d = drill()
    with pytest.raises(UsageError, match="try the drill first"):
        P.reveal_solution(store, d, False, T0, ROLL)
    P.record_run(store, d, results(2, 5), T0, ROLL)
    assert P.reveal_solution(store, d, False, T0, ROLL) == d.solution
    out = P.record_run(store, d, results(5, 5), T0 + timedelta(minutes=1), ROLL)
    assert out.grade == 2
    assert store.state("drill:tiny").interval_days == 1
    assert store.state("drill:tiny").repetitions == 0  # grade < 3: SM-2 starts over


def test_forcing_the_solution_before_any_run_caps_the_first_pass(store):
    d = drill()
    assert P.reveal_solution(store, d, True, T0, ROLL) == d.solution
    assert P.record_run(store, d, results(5, 5), T0, ROLL).grade == 2


def test_reading_the_solution_after_passing_today_does_not_cost_the_next_review(store):
    d = drill()
    P.record_run(store, d, results(5, 5), T0, ROLL)
    P.reveal_solution(store, d, False, T0 + timedelta(hours=1), ROLL)
    assert P.load_progress(store, "tiny").solution_seen is False
    P.reveal_solution(store, d, False, T0 + timedelta(days=1), ROLL)  # a later day: it counts
    assert P.load_progress(store, "tiny").solution_seen is True


def test_give_up_records_the_last_failing_run(store):
    d = drill()
    with pytest.raises(UsageError, match="no failing run"):
        P.give_up(store, d, T0, ROLL)
    P.record_run(store, d, results(4, 5), T0, ROLL)  # grade 2
    P.record_run(store, d, results(2, 5), T0 + timedelta(minutes=1), ROLL)  # grade 1
    out = P.give_up(store, d, T0 + timedelta(minutes=2), ROLL)
    assert (out.kind, out.grade, out.passed, out.total, out.attempt) == ("gave-up", 1, 2, 5, 2)
    st = store.state("drill:tiny")
    assert (st.reviews, st.repetitions, st.interval_days) == (1, 0, 1)
    with pytest.raises(UsageError):
        P.give_up(store, d, T0 + timedelta(minutes=3), ROLL)


def test_undo_and_rebuild_agree_with_the_log(store):
    d = drill()
    P.record_run(store, d, results(2, 5), T0, ROLL)
    P.record_run(store, d, results(5, 5), T0 + timedelta(minutes=1), ROLL)
    assert store.rebuild()["drill:tiny"] == store.state("drill:tiny")
    store.delete_review(store.last_review("drill:tiny")["id"])
    assert store.state("drill:tiny").reviews == 0
    assert len(P.pending_attempts(store, d)) == 1  # the failing run is pending again


# ---------------------------------------------------------------- the starter file


def test_starter_file_has_the_task_as_comments_and_is_left_alone_unless_fresh(tmp_path):
    import ast

    d = drill()
    started = P.write_starter(d, tmp_path / "w")
    assert started.created and started.path == tmp_path / "w" / "tiny.py"
    text = started.path.read_text()
    assert text.startswith("# dlprep drill tiny: Double a number\n")
    assert "# It returns 2 * x." in text and "dlprep practice tiny --check" in text
    assert text.endswith(d.starter)
    ast.parse(text)
    started.path.write_text("mine")
    again = P.write_starter(d, tmp_path / "w")
    assert (again.created, again.path.read_text()) == (False, "mine")
    fresh = P.write_starter(d, tmp_path / "w", fresh=True)
    assert fresh.created and fresh.backup.read_text() == "mine"
    assert fresh.path.read_text() == text


def test_every_bundled_starter_file_parses(cli):
    import ast

    from dlprep.core.bank import load_bank
    from dlprep.drills.load import load_drills

    for d in load_drills(load_bank()).values():
        ast.parse(P.starter_text(d))


# ---------------------------------------------------------------- the command, without running checks


def write_user_bank(folder: Path, topic: str) -> Path:
    """An extra bank folder holding one numpy-only drill (its checks need no torch)."""
    import yaml

    (folder / "drills").mkdir(parents=True)
    keep = ("path", "bundled", "forbidden", "cards", "references")
    text = {k: v for k, v in drill().to_dict().items() if k not in keep} | {"topic": topic}
    (folder / "drills" / "tiny.yaml").write_text(yaml.safe_dump(text, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def user_bank(tmp_path):
    return write_user_bank(tmp_path / "mybank", "fundamentals")


@pytest.fixture
def small_user_bank(tmp_path, small_bank):
    """The tiny drill over the three-card fixture bank: quick to load, no torch in the child."""
    return write_user_bank(tmp_path / "mybank", "basics")


def test_list_shows_drills_by_topic_with_the_last_result(cli, clock):
    data = cli.json("practice", "--list")
    ids = [d["id"] for d in data]
    assert {"stable-softmax", "debug-training-loop"} <= set(ids)
    assert all(d["last"] is None for d in data)
    from dlprep.core.bank import load_bank
    from dlprep.drills.load import load_drills
    from dlprep.paths import db_path

    store = Store.open(db_path())
    P.record_run(store, load_drills(load_bank())["stable-softmax"], results(7, 9), T0, ROLL)
    store.close()
    row = next(d for d in cli.json("practice", "--list") if d["id"] == "stable-softmax")
    assert (row["last"]["passed"], row["last"]["total"], row["due"]) == (7, 9, None)
    text = cli("practice", "--list").stdout
    assert "7/9" in text and "2026-11-21" in text


def test_start_writes_the_starter_and_prints_its_path(cli, tmp_path):
    result = cli("practice", "stable-softmax", "--dir", str(tmp_path / "w"))
    assert result.exit_code == 0
    path = tmp_path / "w" / "stable_softmax.py"
    assert f"starter written to {path}" in result.stdout.replace("\n", "")
    assert "def log_softmax" in path.read_text()
    again = cli.json("practice", "stable-softmax", "--dir", str(tmp_path / "w"))
    assert (again["path"], again["created"]) == (str(path), False)


def test_default_working_folder_is_under_the_data_folder(cli, dlprep_home):
    data = cli.json("practice", "stable-softmax")
    assert data["path"] == str(dlprep_home / "practice" / "stable_softmax.py")


def test_edit_opens_the_editor_on_the_file(cli, tmp_path, monkeypatch):
    marker = tmp_path / "opened"
    editor = tmp_path / "fake-editor"
    editor.write_text(f'#!/bin/sh\necho "$1" > {marker}\n')
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    assert cli("practice", "stable-softmax", "--edit", "--dir", str(tmp_path)).exit_code == 0
    assert marker.read_text().strip() == str(tmp_path / "stable_softmax.py")
    monkeypatch.delenv("EDITOR")
    result = cli("practice", "stable-softmax", "--edit", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: --edit needs $VISUAL or $EDITOR")


def test_hint_and_solution_gating_through_the_command(cli):
    first = cli.json("practice", "stable-softmax", "--hint")
    assert (len(first["hints"]), first["new"]) == (1, True)
    assert len(cli.json("practice", "stable-softmax", "--hint")["hints"]) == 2
    gated = cli("practice", "stable-softmax", "--solution")
    assert gated.exit_code == 2
    assert gated.stderr.count("\n") == 1 and "--solution --force" in gated.stderr
    forced = cli.json("practice", "stable-softmax", "--solution", "--force")
    assert "def softmax" in forced["solution"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("practice", "stable-sofmax"), "unknown drill 'stable-sofmax' (did you mean 'stable-softmax'?)"),
        (("practice", "stable-softmax", "--hint", "--check"), "choose one of --check, --hint"),
        (("practice", "stable-softmax", "x.py"), "a FILE is only read with --check"),
        (("practice", "stable-softmax", "--force"), "--force goes with --solution"),
        (("practice", "--check"), "name a drill"),
        (("practice", "stable-softmax", "--give-up"), "no failing run of stable-softmax"),
        (("practice", "stable-softmax", "--check", "/nonexistent/x.py"), "/nonexistent/x.py: no such file"),
    ],
)
def test_user_mistakes_are_one_line(cli, args, message):
    result = cli(*args)
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_today_lists_due_drills_apart_from_the_quiz(cli, clock):
    from dlprep.core.bank import load_bank
    from dlprep.drills.load import load_drills
    from dlprep.paths import db_path

    store = Store.open(db_path())
    P.record_run(store, load_drills(load_bank())["stable-softmax"], results(9, 9), T0, ROLL)
    store.close()
    clock("2026-11-22T10:00:00+01:00")
    data = cli.json("today")
    assert [d["id"] for d in data["drills_due"]] == ["stable-softmax"]
    assert data["drills_due"][0]["action"] == "dlprep practice stable-softmax --check"
    assert all(not d["id"].startswith("drill:") for d in data["due"])
    assert data["orphaned_cards"] == []
    text = cli("today").stdout
    assert "Drills due" in text and "drill:stable-softmax" in text
    clock("2026-11-21T12:00:00+01:00")
    assert cli.json("today")["drills_due"] == []  # due tomorrow, not today
    assert cli.json("due") == []
    assert cli.json("stats")["reviews"] == 1


def test_card_undo_db_check_and_plan_with_drill_reviews(cli, clock, user_bank):
    from dlprep.core.bank import load_bank
    from dlprep.drills.load import load_drills
    from dlprep.paths import db_path

    store = Store.open(db_path())
    P.record_run(store, load_drills(load_bank())["stable-softmax"], results(9, 9), T0, ROLL)
    P.record_run(store, drill(), results(5, 5), T0, ROLL)  # a drill that is in no loaded bank
    store.close()
    card = cli("card", "drill:stable-softmax")
    assert card.exit_code == 1
    assert (
        "drill:stable-softmax is an implementation drill, not a card: `dlprep practice stable-softmax`" in card.stderr
    )
    check = cli.json("db", "check")
    assert check["orphaned_cards"] == ["drill:tiny"]
    assert cli.json("--bank", str(user_bank), "db", "check")["orphaned_cards"] == []
    undone = cli.json("undo", "drill:stable-softmax", "--yes")
    assert undone["undone"]["card_id"] == "drill:stable-softmax"
    plan = cli.json("plan", "--role", "mle")
    blocks = {b["topic"]: b["drills"] for b in plan["blocks"]}
    assert "stable-softmax" in blocks["activations"]
    assert "debug-training-loop" in blocks["training"]
    assert any("stable-softmax" in p["drills"] for p in plan["periods"])


def test_list_marks_drills_from_the_users_bank(cli, small_user_bank):
    data = cli.json("--bank", str(small_user_bank), "practice", "--list")
    assert [(d["id"], d["bundled"]) for d in data] == [("tiny", False)]
    assert "(your bank)" in cli("--bank", str(small_user_bank), "practice", "--list").stdout


# ---------------------------------------------------------------- check runs in the child process


def check_tiny(cli, bank: Path, path: Path, *extra: str, input: str | None = None):
    """`dlprep --bank BANK practice tiny --check PATH ...`; parsed JSON when --json is among ``extra``."""
    result = cli("--bank", str(bank), "practice", "tiny", "--check", str(path), *extra, input=input)
    return json.loads(result.stdout) if "--json" in extra else result


def attempt(tmp_path: Path, code: str, name: str = "attempt.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def test_bank_drill_checks_need_trust(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def double(x):\n    return 2 * x\n")
    refused = check_tiny(cli, small_user_bank, path, input="n\n")
    assert refused.exit_code == 1
    assert "is code from your bank, not from dlprep" in refused.stderr
    assert "not run (use --trust to run checks of bank drills without asking)" in refused.stderr
    assert cli.json("--bank", str(small_user_bank), "practice", "--list")[-1]["last"] is None  # nothing recorded
    asked = check_tiny(cli, small_user_bank, path, input="y\n")
    assert asked.exit_code == 0, asked.output
    trusted = cli.json("--bank", str(small_user_bank), "practice", "tiny", "--check", str(path), "--trust")
    assert (trusted["passed"], trusted["total"]) == (3, 3)


def test_a_failing_check_shows_its_message_and_exits_1(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def double(x):\n    return x + 2\n")
    result = check_tiny(cli, small_user_bank, path, "--trust")
    assert result.exit_code == 1
    assert "double(3) is not 6" in result.stdout
    assert "run 1 logged" in result.stdout.replace("\n", " ")


def test_an_exception_is_the_users_traceback_only(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def helper(x):\n    return x / 0\n\n\ndef double(x):\n    return helper(x)\n")
    data = check_tiny(cli, small_user_bank, path, "--trust", "--json")
    message = next(c["message"] for c in data["checks"] if c["id"] == "check_value")
    assert message.startswith("Traceback (your file only):")
    assert f'File "{path}", line 6, in double' in message and f'File "{path}", line 2, in helper' in message
    assert "ZeroDivisionError: division by zero" in message
    assert "dlprep" not in message.replace(str(tmp_path), "")


def test_a_syntax_error_is_one_row_with_its_line(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def double(x):\n    return 2 *\n")
    data = check_tiny(cli, small_user_bank, path, "--trust", "--json")
    assert [c["id"] for c in data["checks"]] == ["loads"]
    assert data["checks"][0]["message"].startswith("SyntaxError at line 2")
    assert data["grade"] == 0


def test_an_endless_loop_becomes_a_timeout_row_naming_the_check(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def double(x):\n    while True:\n        pass\n")
    result = check_tiny(cli, small_user_bank, path, "--trust", "--timeout", "1")
    assert result.exit_code == 1
    assert "doubles 3" in result.stdout and "timed out: still running after 1 s" in result.stdout.replace("\n", " ")


def test_a_loop_at_import_time_is_named_as_loading(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "while True:\n    pass\n")
    data = check_tiny(cli, small_user_bank, path, "--trust", "--timeout", "1", "--json")
    assert [(c["id"], c["passed"]) for c in data["checks"]] == [("loads", False)]
    assert data["checks"][0]["message"].startswith("timed out")


def test_a_memory_hog_becomes_a_limit_row(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, "def double(x):\n    return len(bytearray(8 * 1024**3))\n")
    data = check_tiny(cli, small_user_bank, path, "--trust", "--memory", "512", "--json")
    row = next(c for c in data["checks"] if c["id"] == "check_value")
    assert row["message"] == "ran out of memory (it asked for more than the check's memory limit)"


def test_user_prints_do_not_break_the_protocol(cli, small_user_bank, tmp_path):
    path = attempt(tmp_path, 'print("{not json")\n\n\ndef double(x):\n    print(x)\n    return 2 * x\n')
    data = check_tiny(cli, small_user_bank, path, "--trust", "--json")
    assert data["passed"] == data["total"] == 3


def test_ctrl_c_stops_the_child(tmp_path, monkeypatch):
    import subprocess

    from dlprep.drills import process

    started = []
    real = subprocess.Popen

    def spy(*args, **kwargs):
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(process.subprocess, "Popen", spy)
    previous = signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            process.run_drill_checks(
                drill(), "def double(x):\n    while True:\n        pass\n", "a.py", process.Limits(30)
            )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    (proc,) = started
    assert proc.returncode is not None  # waited for: no child left running


def test_without_torch_the_check_says_how_to_get_it_in_one_line(cli, tmp_path, monkeypatch):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'torch'\")\n"
        "sys.meta_path.insert(0, _NoTorch())\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(shim))
    path = attempt(tmp_path, (DRILLS_DIR / "stable-softmax.yaml").read_text() and "import torch\n")
    result = cli("practice", "stable-softmax", "--check", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: drills need torch: pip install 'dlprep[demos]' (on a CPU-only machine: pip install torch==2.13.0)\n"
    )
    assert cli.json("practice", "--list")[0]["last"] is None  # nothing recorded


@pytest.mark.slow
def test_end_to_end_with_torch_pass_wrong_and_forbidden(cli, tmp_path, clock):
    """The real thing: stable-softmax's solution passes and is recorded; a
    softmax without max-subtraction fails with nan named; a method-form
    shortcut is caught at run time."""
    pytest.importorskip("torch")
    import yaml

    spec = yaml.safe_load((DRILLS_DIR / "stable-softmax.yaml").read_text())
    wrong = attempt(tmp_path, spec["mistakes"][0]["code"], "wrong.py")
    failed = cli("practice", "stable-softmax", "--check", str(wrong))
    assert failed.exit_code == 1
    text = failed.stdout.replace("\n", " ")
    assert "large logits (1e4) stay finite" in failed.stdout and "got nan" in text
    method = attempt(
        tmp_path,
        "import torch\n\n\ndef softmax(x, dim=-1):\n    return x.softmax(dim)\n\n\n"
        "def log_softmax(x, dim=-1):\n    return x - x.exp().sum(dim, keepdim=True).log()\n",
        "method.py",
    )
    data = json.loads(cli("practice", "stable-softmax", "--check", str(method), "--json").stdout)
    assert any("uses torch.Tensor.softmax, which this drill forbids" in c["message"] for c in data["checks"])
    good = attempt(tmp_path, spec["solution"], "good.py")
    passed = cli.json("practice", "stable-softmax", "--check", str(good))
    assert (passed["recorded_as"], passed["attempt"], passed["grade"]) == ("settled", 3, 4)
    assert passed["due"] == "2026-11-22"


@pytest.mark.slow
def test_verify_runs_the_drill_authors_check_in_the_child(cli, small_user_bank):
    result = cli("--bank", str(small_user_bank), "practice", "tiny", "--verify", "--trust")
    assert result.exit_code == 0, result.output
    assert "tiny: ok: the solution passes and every mistake fails as stated" in result.stdout


def test_the_cli_does_not_import_torch_or_the_runner():
    import subprocess

    code = "import sys, dlprep.cli; print('torch' in sys.modules, 'dlprep.drills.runner' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), check=True)
    assert out.stdout.split() == ["False", "False"]


def test_drill_id_helpers():
    from dlprep.drills.model import is_drill_review, review_id

    assert review_id("x") == "drill:x" and is_drill_review("drill:x") and not is_drill_review("x")
    with pytest.raises(DlprepError):
        from dlprep.drills.load import find_drill

        find_drill({}, "nope")


def test_plan_puts_drills_in_their_topic_blocks(small_bank):
    from datetime import date

    from dlprep.core.bank import load_bank
    from dlprep.features.plan import lay_out

    view = lay_out(load_bank(), "mle", date(2026, 11, 21), date(2026, 12, 1), drills={"basics": ["a", "b"], "x": ["c"]})
    data = view.to_dict()
    assert {b["topic"]: b["drills"] for b in data["blocks"]} == {"advanced": [], "basics": ["a", "b"]}
    assert view.drills == {"basics": ["a", "b"]}  # a topic outside the path is left out
    for period in data["periods"]:
        assert period["drills"] == (["a", "b"] if "basics" in period["topics"] else [])


def test_torch_that_does_not_fit_the_memory_limit_is_one_line(cli, tmp_path):
    pytest.importorskip("torch")
    path = attempt(tmp_path, "import torch\n")
    result = cli("practice", "stable-softmax", "--check", str(path), "--memory", "300")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: torch could not be imported within the 300 MB memory limit (raise it")
    assert result.stderr.count("\n") == 1


def test_stats_counts_drills_apart_from_cards(store):
    d = drill()
    empty = P.drill_totals(store, T0.date())
    assert empty == {"tried": 0, "settled": 0, "average_grade": None, "due": 0, "runs": 0}
    P.record_run(store, d, results(2, 5), T0, ROLL)  # an attempt: tried, not settled
    assert P.drill_totals(store, T0.date())["tried"] == 1
    assert P.drill_totals(store, T0.date())["settled"] == 0
    P.record_run(store, d, results(5, 5), T0 + timedelta(minutes=1), ROLL)  # settles with grade 4
    other = dataclasses.replace(d, id="other")
    P.record_run(store, other, results(5, 5), T0 + timedelta(minutes=2), ROLL)  # first run, grade 5
    store.record(Review("some-card", 4, T0 + timedelta(minutes=3)))  # a card review is not a drill
    totals = P.drill_totals(store, T0.date())
    assert totals == {"tried": 2, "settled": 2, "average_grade": 4.5, "due": 0, "runs": 3}
    due_day = min(store.state(f"drill:{x}").due for x in ("tiny", "other"))
    assert P.drill_totals(store, due_day)["due"] >= 1
    assert P.drill_totals(store, due_day - timedelta(days=1))["due"] == 0
