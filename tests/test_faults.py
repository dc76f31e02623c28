"""Fault injection: a scripted quiz killed at 25 random points, a database
held locked across a save, a full disk. No confirmed review is ever lost and
every failure is one clear line (the read-only data folder is in
test_reliability.py)."""

from __future__ import annotations

import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from conftest import FIXTURE_BANK  # noqa: E402
from test_pty import grades, spawn  # noqa: E402

pytestmark = [pytest.mark.pty, pytest.mark.slow]

# One full session over the three fixture cards, as (expect, send) steps.
STEPS = [
    ("Enter reveal", ""),
    ("points covered", "a"),
    ("then Enter to reveal", ""),
    ("did you get it", "y"),
    ("Enter accept", ""),
    ("saved", None),
    ("Enter reveal", ""),
    ("points covered", "a"),
    ("Enter accept", ""),
    ("saved", None),
    ("Enter reveal", ""),
    ("points covered", "1"),
    ("then Enter to reveal", ""),
    ("did you get it", "n"),
    ("Enter accept", ""),
    ("saved", None),
]


def db_is_consistent(home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dlprep", "db", "check"],
        env={**os.environ, "DLPREP_HOME": str(home), "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_quiz_killed_at_25_random_points_never_loses_a_confirmed_review(tmp_path):
    rng = random.Random(20261203)
    for run in range(25):
        home = tmp_path / f"run{run}"
        kill_at = rng.randrange(len(STEPS) + 1)
        delay = rng.choice([0.0, 0.002, 0.02, 0.1])
        child = spawn(home, "quiz")
        confirmed = 0
        for expect, send in STEPS[:kill_at]:
            child.expect(expect)
            if expect == "saved":
                confirmed += 1
            if send is not None:
                child.sendline(send)
        time.sleep(delay)
        child.kill(signal.SIGKILL)
        child.close(force=True)
        logged = grades(home) if (home / "dlprep.db").exists() else []
        # Every review the user saw confirmed is in the log; at most the one in flight more.
        assert confirmed <= len(logged) <= confirmed + 1, (run, kill_at, confirmed, logged)
        if logged:
            db_is_consistent(home)


def test_a_database_held_locked_across_a_save_keeps_the_answer(tmp_path):
    child = spawn(tmp_path, "quiz")
    child.expect("Enter reveal")
    db = tmp_path / "dlprep.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    child.sendline("t")
    child.expect("type your answer|answer")
    child.sendline("my typed answer about alpha")
    child.sendline("")
    for expect, send in STEPS[1:5]:
        child.expect(expect)
        child.sendline(send)
    child.expect("could not save alpha", timeout=60)
    child.expect("retry")
    other.execute("ROLLBACK")
    other.close()
    child.sendline("r")
    child.expect("saved")
    child.sendline("q")
    child.expect("Session summary")
    child.expect(pexpect.EOF)
    child.close()
    assert grades(tmp_path)[0][0] == "alpha"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT answer_text FROM reviews").fetchone()[0].startswith("my typed answer")
    conn.close()


def _limited(max_bytes: int):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return preexec


def test_a_full_disk_is_one_line_and_keeps_earlier_reviews(tmp_path):
    env = {
        **os.environ,
        "DLPREP_HOME": str(tmp_path),
        "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK),
        "DLPREP_NOW": "2026-11-21T10:00:00+01:00",
    }
    cmd = [sys.executable, "-m", "dlprep"]
    first = subprocess.run([*cmd, "review", "alpha", "--grade", "4"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "dlprep.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # No write may reach past byte 1,000 of any file: a WAL frame (4 KiB) cannot be written.
    full = subprocess.run(
        [*cmd, "review", "beta", "--grade", "4"],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limited(1000),
    )
    assert full.returncode == 1
    assert full.stderr.count("\n") == 1 and "Traceback" not in full.stderr, full.stderr
    assert "is the disk full?): this change was not saved, earlier reviews are safe" in full.stderr, full.stderr
    assert [g[0] for g in grades(tmp_path)] == ["alpha"]
    db_is_consistent(tmp_path)
