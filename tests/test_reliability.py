"""Faults a user can cause never lose data, lock a card or end in a traceback
(issue: the faults found when tried as a new user would). One test (or more)
per fault; each failed before its fix."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("small_bank")


def reviews_of(cli, card_id):
    return cli.json("card", card_id)["reviews"]


# ---------------------------------------------------------------- 1. future reviews, undo


@pytest.mark.parametrize("at", ["2027-01-01", "2026-11-21T10:11:00+01:00", "2026-11-22T00:00+01:00"])
def test_a_review_dated_in_the_future_is_refused(cli, clock, at):
    result = cli("review", "alpha", "--grade", "4", "--at", at)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: review time ") and "is in the future" in result.stderr
    assert result.stderr.count("\n") == 1
    assert reviews_of(cli, "alpha") == []


def test_clock_skew_tolerance_accepts_a_review_minutes_ahead(cli, clock):
    # now is 10:00+01:00; 10:09 is within the 10-minute tolerance.
    assert cli("review", "alpha", "--grade", "4", "--at", "2026-11-21T10:09:00+01:00").exit_code == 0


def test_undo_removes_the_last_review_and_replays_the_schedule(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")  # due 11-20
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T10:00+01:00")  # due 11-26
    cli("review", "beta", "--grade", "2", "--at", "2026-11-20T11:00+01:00")
    # Undo one card's last review: beta stays, alpha goes back to its first review.
    result = cli("undo", "alpha", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "undone alpha: grade 5 at 2026-11-20T10:00:00+01:00" in result.stdout
    card = cli.json("card", "alpha")
    assert (len(card["reviews"]), card["due"], card["repetitions"]) == (1, "2026-11-20", 1)
    assert len(reviews_of(cli, "beta")) == 1
    # Without a card: the last review of any card (beta's), after confirmation.
    result = cli("undo", input="y\n")
    assert "undo beta: grade 2" in result.stdout and result.exit_code == 0
    assert cli.json("card", "beta")["due"] is None
    # The log is the source of truth: a rebuild agrees with what undo left.
    assert cli.json("db", "rebuild")["changed"] == []


def test_undo_asks_first_and_a_no_changes_nothing(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T10:00+01:00")
    result = cli("undo", input="n\n")
    assert result.exit_code == 1 and "nothing changed" in result.stdout
    assert len(reviews_of(cli, "alpha")) == 1


def test_undo_with_nothing_to_undo_is_one_line(cli, clock):
    result = cli("undo", "--yes")
    assert (result.exit_code, result.stderr) == (2, "error: no review to undo\n")
    result = cli("undo", "alpha", "--yes", "--json")
    assert (result.exit_code, result.stderr) == (2, "error: no review of alpha to undo\n")


def test_undo_json(cli, clock):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20T10:00+01:00")
    out = cli.json("undo", "--yes")
    assert out == {
        "undone": {"card_id": "alpha", "grade": 4, "at": "2026-11-20T10:00:00+01:00", "mode": "review"},
        "due": None,
    }


def test_a_card_locked_by_an_old_future_review_can_be_undone(cli, clock, dlprep_home):
    """Databases written before the fix may hold a future review: undo frees the card."""
    from datetime import datetime

    from dlprep.core.store import Review, Store

    store = Store.open(dlprep_home / "dlprep.db")
    store.record(Review("alpha", 4, datetime.fromisoformat("2027-01-01T12:00+01:00")))
    store.close()
    assert cli("review", "alpha", "--grade", "4").exit_code == 1  # "earlier than its last review"
    assert cli("undo", "alpha", "--yes").exit_code == 0
    assert cli("review", "alpha", "--grade", "4").exit_code == 0


# ---------------------------------------------------------------- 5. dates


def test_a_date_only_at_is_that_study_day_even_with_a_late_rollover(cli, clock, dlprep_home):
    (dlprep_home).mkdir(parents=True, exist_ok=True)
    (dlprep_home / "config.yaml").write_text("day_rollover_hour: 11\n")
    out = cli.json("review", "beta", "--grade", "4", "--at", "2026-11-01")
    assert out["at"].startswith("2026-11-01T12:00:00")
    assert out["due"] == "2026-11-02"


@pytest.mark.parametrize("at", ["0001-01-01", "9999-12-31", "1969-12-31T23:00"])
def test_out_of_range_dates_are_one_clean_line(cli, clock, at):
    result = cli("review", "alpha", "--grade", "4", "--at", at)
    assert result.exit_code == 1
    assert result.stderr == f"error: bad --at '{at}': the year must be from 1970 to 9000\n"


# ---------------------------------------------------------------- 6. same-day repeats


def test_a_second_review_on_the_same_study_day_is_a_repeat(cli, clock):
    first = cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-21T09:00+01:00")
    assert (first["repeat"], first["interval_days"], first["due"]) == (False, 1, "2026-11-22")
    second = cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-21T09:30+01:00")
    assert (second["repeat"], second["interval_days"], second["due"]) == (True, 1, "2026-11-22")
    modes = [r["mode"] for r in reviews_of(cli, "alpha")]
    assert modes == ["review", "repeat"]
    result = cli("review", "alpha", "--grade", "3")
    assert "as a same-day repeat; schedule unchanged" in result.stdout


def test_the_study_day_not_the_calendar_day_decides_a_repeat(cli, clock):
    # 01:30 belongs to the previous study day (rollover 04:00), so it repeats the 23:00 review.
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T23:00+01:00")
    assert cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-20T01:30+01:00")["repeat"] is True
    # 04:30 is a new study day: it schedules.
    assert cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-20T04:30+01:00")["repeat"] is False


def test_reschedule_lets_a_same_day_review_move_the_schedule(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-21T09:00+01:00")
    out = cli.json("review", "alpha", "--grade", "5", "--at", "2026-11-21T09:30+01:00", "--reschedule")
    assert (out["repeat"], out["interval_days"]) == (False, 6)


# ---------------------------------------------------------------- 4. plans


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("9999-12-31", "error: the interview date 9999-12-31 is more than two years away (latest 2028-11-20)\n"),
        ("2028-11-21", "error: the interview date 2028-11-21 is more than two years away (latest 2028-11-20)\n"),
        ("2026-11-21", "error: the interview date 2026-11-21 must be after today (2026-11-21)\n"),
    ],
)
def test_a_bad_interview_date_is_refused_and_not_saved(cli, clock, date, message):
    result = cli("plan", "--role", "nlp", "--interview", date)
    assert (result.exit_code, result.stderr) == (1, message)
    assert cli("plan").stderr.startswith("error: no plan yet")
    assert cli.json("today")["plan"] is None


def test_an_interview_exactly_two_years_away_is_accepted(cli, clock):
    result = cli("plan", "--role", "mle", "--interview", "2028-11-20")
    assert result.exit_code == 0, result.stderr
    assert cli.json("today")["plan"]["interview"] == "2028-11-20"


def test_a_saved_plan_from_an_older_version_with_an_absurd_date_is_one_line(cli, clock, dlprep_home):
    from datetime import date

    from dlprep.core.store import Store
    from dlprep.features.plan import Plan, save_plan

    store = Store.open(dlprep_home / "dlprep.db")
    save_plan(store, Plan("mle", date(2026, 11, 21), date(9999, 12, 31)))
    store.close()
    result = cli("plan")
    assert result.exit_code == 1
    assert "the saved plan's interview date 9999-12-31 is out of range" in result.stderr
    assert cli("plan", "--clear").exit_code == 0


# ---------------------------------------------------------------- 2. damaged derived state


def _damage_table(db, table):
    """Overwrite the root page of one table with garbage (after a checkpoint)."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = (
        1
        if table == "sqlite_master"
        else conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    )
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * size)
        fh.write(b"\xde\xad" * (size // 2))


def _history(cli):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20T10:00+01:00")
    cli("review", "beta", "--grade", "2", "--at", "2026-11-20T11:00+01:00")
    return cli.json("card", "alpha"), cli.json("card", "beta")


def test_damaged_card_state_is_recovered_from_the_log(cli, clock, dlprep_home):
    alpha, beta = _history(cli)
    db = dlprep_home / "dlprep.db"
    _damage_table(db, "card_state")
    # Every command says what to do, in one line, and points at db check.
    result = cli("today")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "database is damaged" in result.stderr and "dlprep db check" in result.stderr
    # db check says the log is readable and how many reviews it holds.
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "the review log is readable (3 reviews): `dlprep db rebuild`" in result.stdout
    check = cli("db", "check", "--json")
    import json

    data = json.loads(check.stdout)
    assert (data["ok"], data["log_readable"], data["reviews_readable"], data["derived_state_readable"]) == (
        False,
        True,
        3,
        False,
    )
    # db rebuild recovers everything and keeps the damaged file aside.
    result = cli("db", "rebuild")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("recovered 3 reviews into a fresh database; the damaged file is kept at ")
    aside = list(dlprep_home.glob("dlprep.db.damaged-*"))
    assert len([p for p in aside if not p.name.endswith(("-wal", "-shm"))]) == 1
    after_alpha, after_beta = cli.json("card", "alpha"), cli.json("card", "beta")
    for before, after in ((alpha, after_alpha), (beta, after_beta)):
        assert after["reviews"] == before["reviews"]
        assert (after["due"], after["repetitions"], after["easiness"]) == (
            before["due"],
            before["repetitions"],
            before["easiness"],
        )
    assert cli("db", "check").exit_code == 0


def test_an_unreadable_log_says_nothing_can_be_salvaged(cli, clock, dlprep_home):
    _history(cli)
    db = dlprep_home / "dlprep.db"
    _damage_table(db, "sqlite_master")  # page 1: the file header and the schema itself
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "nothing can be salvaged" in result.stdout
    result = cli("db", "rebuild")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "the review log cannot be read" in result.stderr
    assert db.exists()  # never deleted


# ---------------------------------------------------------------- 7. config set banks


def _bank_folder(path, card_id="mine-1", topic="basics"):
    path.mkdir(parents=True, exist_ok=True)
    (path / "extra.yaml").write_text(
        f"topic: {topic}\ncards:\n  - id: {card_id}\n    question: Q?\n    answer: A.\n    rubric:\n"
        "      - point: a\n        weight: 1\n      - point: b\n        weight: 1\n      - point: c\n        weight: 1\n"
    )
    return path


def test_config_set_banks_stores_absolute_paths_that_work_from_anywhere(cli, tmp_path, monkeypatch):
    _bank_folder(tmp_path / "work" / "mine")
    monkeypatch.chdir(tmp_path / "work")
    assert cli("config", "set", "banks", "mine").exit_code == 0
    assert cli.json("config")["banks"] == [str(tmp_path / "work" / "mine")]
    monkeypatch.chdir(tmp_path)  # another directory: the bank still loads
    assert "mine-1" in [c["id"] for c in cli.json("cards")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "bank folder does not exist"),
        (lambda p: p.write_text("a file"), "not a folder"),
        (lambda p: _bank_folder(p, topic="nowhere"), "unknown topic 'nowhere'"),
    ],
)
def test_config_set_banks_refuses_what_loading_would_refuse(cli, tmp_path, make, message):
    target = tmp_path / "bank"
    make(target)
    result = cli("config", "set", "banks", str(target))
    assert result.exit_code == 1 and message in result.stderr and result.stderr.count("\n") == 1
    assert cli.json("config")["banks"] == []  # nothing saved
    assert cli("today").exit_code == 0  # and nothing broken


def test_a_relative_bank_in_config_yaml_is_relative_to_the_config_file(cli, dlprep_home, tmp_path, monkeypatch):
    _bank_folder(dlprep_home / "cards")
    (dlprep_home / "config.yaml").write_text("banks: [cards]\n")
    monkeypatch.chdir(tmp_path)
    assert "mine-1" in [c["id"] for c in cli.json("cards")]


# ---------------------------------------------------------------- 9. unwritable data folders


def test_config_set_on_a_data_folder_that_is_a_file_is_one_line(cli, dlprep_home):
    dlprep_home.parent.mkdir(parents=True, exist_ok=True)
    dlprep_home.write_text("not a folder")
    result = cli("config", "set", "new_per_day", "5")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "cannot save settings" in result.stderr


def test_config_set_on_a_full_disk_leaves_no_temporary_file(cli, dlprep_home, monkeypatch):
    import errno
    from pathlib import Path

    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            real(self, "", encoding="utf-8")  # the partial file a full disk leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    result = cli("config", "set", "new_per_day", "5")
    assert (result.exit_code, result.stderr.count("\n")) == (1, 1)
    assert "cannot save settings (No space left on device)" in result.stderr
    assert not (dlprep_home / "config.yaml.tmp").exists()


def _as_unprivileged(home):
    """Run a dlprep command that cannot write ``home`` (mode 0555). Root ignores
    permission bits, so as root the child first drops CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from its bounding set: after exec it obeys the bits."""
    import ctypes
    import os
    import subprocess
    import sys

    env = {**os.environ, "DLPREP_HOME": str(home), "DLPREP_NOW": "2026-11-21T10:00+01:00", "COLUMNS": "100"}
    home.chmod(0o555)

    def preexec():
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dlprep", *args],
            capture_output=True,
            text=True,
            env=env,
            preexec_fn=preexec,
            timeout=60,
        )

    return run


@pytest.mark.slow
def test_a_read_only_data_folder_still_shows_data_and_refuses_saves(cli, clock, dlprep_home):
    import json
    import os

    from conftest import FIXTURE_BANK

    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T10:00+01:00")
    home = dlprep_home
    (home / "dlprep.db").chmod(0o444)
    try:
        os.environ["DLPREP_BUNDLED_BANK"] = str(FIXTURE_BANK)
        run = _as_unprivileged(home)
        shown = run("card", "alpha", "--json")
        assert shown.returncode == 0, shown.stderr
        assert "reviews cannot be saved" in shown.stderr
        assert len(json.loads(shown.stdout)["reviews"]) == 1
        assert run("today").returncode == 0
        saved = run("review", "alpha", "--grade", "4")
        assert saved.returncode == 1
        assert saved.stderr.strip().splitlines()[-1].endswith("the data folder is read-only, so nothing can be saved")
        assert "Traceback" not in saved.stderr
        config = run("config", "set", "new_per_day", "5")
        assert config.returncode == 1 and "cannot save settings" in config.stderr
        assert not (home / "config.yaml.tmp").exists()
    finally:
        os.environ.pop("DLPREP_BUNDLED_BANK", None)
        home.chmod(0o755)


# ---------------------------------------------------------------- 10. validate names the line


def test_validate_names_the_line_of_a_card_that_is_a_plain_string(cli, tmp_path):
    f = tmp_path / "extra.yaml"
    f.write_text(
        "topic: basics\ncards:\n  - id: ok-1\n    question: Q?\n    answer: A.\n    rubric:\n"
        "      - point: a\n        weight: 1\n      - point: b\n        weight: 1\n      - point: c\n        weight: 1\n"
        "  - just a sentence where a card belongs\n  - 42\n"
    )
    result = cli("validate", str(f))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines() + result.stderr.strip().splitlines()
    assert any(
        line.startswith(f"{f}:13: card #2 must be a mapping with id, question, answer and rubric, got a plain string")
        for line in lines
    ), lines
    assert any(line.startswith(f"{f}:14: card #3 must be a mapping") and line.endswith("got int") for line in lines)


def test_validate_names_the_line_and_column_of_the_first_bad_byte(cli, tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"topic: basics\ncards:\n  - id: caf\xe9\n")
    result = cli("validate", str(f))
    assert result.exit_code == 1
    out = result.stdout + result.stderr
    # "  - id: caf" is 11 characters: the bad byte is line 3, column 12.
    assert f"{f}:3:12: not UTF-8 text (byte 0xe9: invalid continuation byte)" in out, out
