"""The quiz in a real pseudo-terminal: a full session, Ctrl-C mid-session,
Ctrl-D, and a closed stdin. Only a terminal shows these."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import FIXTURE_BANK  # noqa: E402

from dlprep.core.store import Store  # noqa: E402

pytestmark = pytest.mark.pty


def spawn(home: Path, *args: str, now: str = "2026-11-21T10:00:00+01:00"):
    env = {
        **os.environ,
        "DLPREP_HOME": str(home),
        "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK),
        "DLPREP_NOW": now,
        "TERM": "xterm",
        "NO_COLOR": "1",
        "COLUMNS": "80",
        "LINES": "40",
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "dlprep", *args], env=env, encoding="utf-8", timeout=20, dimensions=(40, 80)
    )
    return child


def grades(home: Path) -> list[tuple[str, int, str]]:
    store = Store.open(home / "dlprep.db")
    try:
        return [(r["card_id"], r["grade"], r["mode"]) for r in store.reviews()]
    finally:
        store.close()


def answer_card(child, points: str, follow_up: str | None = "y") -> None:
    child.expect("Enter reveal")
    child.sendline("")
    child.expect("points covered")
    child.sendline(points)
    if follow_up is not None:
        child.expect("then Enter to reveal")
        child.sendline("")
        child.expect("did you get it")
        child.sendline(follow_up)
    child.expect("Enter accept")
    child.sendline("")
    child.expect("saved")


def test_full_session_in_a_terminal(tmp_path):
    child = spawn(tmp_path, "quiz")
    child.expect("3 card\\(s\\) in this session")
    answer_card(child, "a")  # alpha: 100%, follow-up got -> 5
    answer_card(child, "a", follow_up=None)  # beta: no follow-ups
    answer_card(child, "123")  # gamma: one key per point
    child.expect("Session summary")
    child.expect("due tomorrow: 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert grades(tmp_path) == [("alpha", 5, "quiz"), ("beta", 5, "quiz"), ("gamma", 5, "quiz")]


def test_ctrl_c_mid_session_keeps_earlier_reviews(tmp_path):
    child = spawn(tmp_path, "quiz")
    answer_card(child, "a")
    child.expect("Enter reveal")
    child.sendline("")
    child.expect("points covered")
    child.sendintr()  # Ctrl-C in the middle of the second card
    child.expect("Session summary \\(interrupted")
    child.expect("interrupted: 1 review\\(s\\) saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert grades(tmp_path) == [("alpha", 5, "quiz")]


def test_ctrl_d_ends_the_session_cleanly(tmp_path):
    child = spawn(tmp_path, "quiz")
    answer_card(child, "a")
    child.expect("Enter reveal")
    child.sendeof()
    child.expect("input closed: 1 review\\(s\\) saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert grades(tmp_path) == [("alpha", 5, "quiz")]


def test_closed_stdin_is_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "DLPREP_HOME": str(tmp_path), "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK)}
    proc = subprocess.run(
        [sys.executable, "-m", "dlprep", "quiz"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 1
    assert proc.stderr == "input closed: 0 review(s) saved\n"


def test_come_back_next_day_sees_due_cards(tmp_path):
    child = spawn(tmp_path, "quiz", "--limit", "1")
    answer_card(child, "a")
    child.expect(pexpect.EOF)
    child = spawn(tmp_path, "today", now="2026-11-22T08:00:00+01:00")
    child.expect("1 review\\(s\\) due")
    child.expect("alpha")
    child.expect(pexpect.EOF)


def test_rapid_fire_shows_a_running_timer(tmp_path):
    child = spawn(tmp_path, "quiz", "--rapid", "--limit", "1")
    child.expect("rapid-fire: aim to have your answer ready within 30s")
    child.expect("timer: 0s of 30s")
    child.expect("timer: [12]s of 30s", timeout=5)  # redrawn in place while the prompt waits
    child.sendline("")
    child.expect("answered in \\d+s \\(target 30s\\): within target")
    child.expect("points covered")
    child.sendline("q")
    child.expect(pexpect.EOF)


def test_killed_terminal_keeps_confirmed_reviews(tmp_path):
    import signal

    child = spawn(tmp_path, "quiz")
    answer_card(child, "a")
    child.expect("Enter reveal")
    child.kill(signal.SIGHUP)  # the terminal window is closed mid-session
    child.expect(pexpect.EOF)
    child.close()
    assert grades(tmp_path) == [("alpha", 5, "quiz")]
    store = Store.open(tmp_path / "dlprep.db")
    try:
        assert store.check() == []
    finally:
        store.close()
