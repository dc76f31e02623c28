"""The read and scripted commands, through typer's CliRunner, on the fixture bank."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from datetime import UTC

import pytest

pytestmark = pytest.mark.usefixtures("small_bank")


def test_version(cli):
    from dlprep import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"dlprep {__version__}"


def test_topics_table_and_json(cli):
    result = cli("topics")
    assert result.exit_code == 0
    assert "basics" in result.stdout and "advanced" in result.stdout
    data = cli.json("topics")
    assert [(t["id"], t["cards"], t["prerequisites"]) for t in data] == [("basics", 2, []), ("advanced", 1, ["basics"])]


def test_read_commands_do_not_create_the_database(cli, dlprep_home):
    for args in (["topics"], ["cards"], ["card", "alpha"], ["validate"], ["show", "--list"]):
        assert cli(*args).exit_code == 0
    assert not (dlprep_home / "dlprep.db").exists()


def test_cards_filters(cli):
    assert [c["id"] for c in cli.json("cards")] == ["alpha", "beta", "gamma"]
    assert [c["id"] for c in cli.json("cards", "--topic", "advanced")] == ["gamma"]
    assert [c["id"] for c in cli.json("cards", "--difficulty", "mid")] == ["beta"]
    assert [c["id"] for c in cli.json("cards", "--role", "cv")] == ["beta", "gamma"]  # gamma: no roles = all


def test_unknown_topic_is_one_line(cli):
    result = cli("cards", "--topic", "basic")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown topic 'basic' (topics: basics, advanced)\n"


def test_card_renders_brackets_literally(cli):
    result = cli("card", "alpha")
    assert result.exit_code == 0
    assert "Shape [batch, seq, dim]." in result.stdout
    assert "[brackets]" in result.stdout
    assert "Why not beta?" in result.stdout and "Alpha is last." in result.stdout
    assert "new card: not reviewed yet" in result.stdout


def test_unknown_card_suggests(cli):
    result = cli("card", "alpah")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown card id 'alpah' (did you mean 'alpha'?)\n"


def test_review_then_card_json_has_schedule(cli, clock):
    clock("2026-11-21T10:00:00+01:00")
    assert cli("review", "alpha", "--grade", "5").exit_code == 0
    clock("2026-11-22T09:00:00+01:00")
    out = cli.json("review", "alpha", "--grade", "4")
    assert (out["repetitions"], out["interval_days"], out["due"], out["easiness"]) == (2, 6, "2026-11-28", 2.6)
    card = cli.json("card", "alpha")
    assert card["id"] == "alpha" and card["rubric"][0] == {"point": "Names alpha", "weight": 3}
    assert (card["repetitions"], card["easiness"], card["interval_days"], card["due"]) == (2, 2.6, 6, "2026-11-28")
    assert card["last_review"] == "2026-11-22T09:00:00+01:00"
    assert [(r["at"], r["grade"]) for r in card["reviews"]] == [
        ("2026-11-21T10:00:00+01:00", 5),
        ("2026-11-22T09:00:00+01:00", 4),
    ]


def test_new_card_json_has_null_due(cli):
    card = cli.json("card", "beta")
    assert (card["due"], card["repetitions"], card["easiness"], card["reviews"]) == (None, 0, 2.5, [])


def test_review_at_accepts_dates_and_offsets(cli, clock):
    # A date alone means that study day (noon local time), never the day before the 04:00 rollover.
    assert cli.json("review", "beta", "--grade", "3", "--at", "2026-11-01")["due"] == "2026-11-02"
    out = cli.json("review", "beta", "--grade", "5", "--at", "2026-11-05T12:00:00-05:00")
    assert out["due"] == "2026-11-11"


def test_review_refuses_bad_input_and_writes_nothing(cli, clock):
    cases = [
        (
            ["review", "alpha", "--grade", "6"],
            2,
            "error: Invalid value for '--grade' / '-g': Input should be less than or equal to 5 (see 'dlprep review --help')\n",
        ),
        (["review", "nope", "--grade", "3"], 1, "error: unknown card id 'nope'\n"),
        (
            ["review", "alpha", "--grade", "3", "--at", "yesterday"],
            1,
            "error: bad --at 'yesterday': use ISO 8601, e.g. 2026-11-21 or 2026-11-21T09:30+01:00\n",
        ),
    ]
    for args, code, message in cases:
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (code, message)
    assert cli.json("card", "alpha")["reviews"] == []


def test_review_earlier_than_last_is_refused(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-20T10:00+01:00")
    result = cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    assert result.exit_code == 1
    assert "is earlier than its last review" in result.stderr
    assert len(cli.json("card", "alpha")["reviews"]) == 1


def test_due_lists_most_overdue_first(cli, clock):
    cli("review", "beta", "--grade", "5", "--at", "2026-11-10T10:00+01:00")  # due 11-11
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-12T10:00+01:00")  # due 11-13
    cli("review", "gamma", "--grade", "5", "--at", "2026-11-21T09:00+01:00")  # due 11-22
    clock("2026-11-21T10:00:00+01:00")
    due = cli.json("due")
    assert [(d["id"], d["overdue_days"]) for d in due] == [("beta", 10), ("alpha", 8)]
    assert [d["id"] for d in cli.json("due", "--on", "2026-11-22")] == ["beta", "alpha", "gamma"]
    assert [d["id"] for d in cli.json("due", "--topic", "advanced", "--on", "2026-11-30")] == ["gamma"]
    result = cli("due", "--on", "someday")
    assert result.exit_code == 2 and result.stderr == "error: bad --on 'someday': use YYYY-MM-DD\n"


def test_today_new_cards_follow_topic_order_and_limit(cli, clock, dlprep_home):
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "config.yaml").write_text("new_per_day: 2\n")
    t = cli.json("today")
    assert t["day"] == "2026-11-21"
    assert [c["id"] for c in t["new"]] == ["alpha", "beta"]  # basics before advanced; junior first
    assert t["estimated_minutes"] == 4  # 2 cards x 2 min until there is history
    assert len(t["forecast"]) == 14 and t["forecast"][0]["day"] == "2026-11-22"
    cli("review", "alpha", "--grade", "5")
    t = cli.json("today")
    assert [c["id"] for c in t["new"]] == ["beta"]  # one of today's two new cards is used up
    assert t["new_introduced_today"] == 1
    assert t["forecast"][0] == {"day": "2026-11-22", "due": 1}


def test_today_review_cap_holds_back_most_recent_and_keeps_them_due(cli, clock, dlprep_home):
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "config.yaml").write_text("review_cap: 2\n")
    cli("review", "gamma", "--grade", "5", "--at", "2026-11-01T10:00+01:00")
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-05T10:00+01:00")
    cli("review", "beta", "--grade", "5", "--at", "2026-11-09T10:00+01:00")
    t = cli.json("today")
    assert [d["id"] for d in t["due"]] == ["gamma", "alpha"]
    assert t["held_back"] == 1
    assert [d["id"] for d in cli.json("due")] == ["gamma", "alpha", "beta"]  # still due, state untouched
    assert cli.json("card", "beta")["due"] == "2026-11-10"


def test_today_text_mentions_held_back(cli, clock, dlprep_home):
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "config.yaml").write_text("review_cap: 1\n")
    cli("review", "gamma", "--grade", "5", "--at", "2026-11-01T10:00+01:00")
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-05T10:00+01:00")
    out = cli("today").stdout
    assert "1 more due review(s) held back by the daily cap" in out


def test_db_check_reports_orphans_and_rebuild(cli, clock, tmp_path, monkeypatch):
    cli("review", "alpha", "--grade", "5")
    cli("review", "beta", "--grade", "2")
    # The card "beta" leaves the bank: its history stays and is reported.
    import shutil

    from conftest import FIXTURE_BANK

    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    text = (bank / "basics.yaml").read_text()
    (bank / "basics.yaml").write_text(text[: text.index("  - id: beta")].replace("see_also: [beta]", "see_also: []"))
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(bank))
    check = cli.json("db", "check")
    assert check == {"ok": True, "problems": [], "orphaned_cards": ["beta"], "reviews": 2}
    rebuilt = cli.json("db", "rebuild")
    assert rebuilt == {"cards": 2, "changed": []}


def test_corrupt_database_is_one_line(cli, dlprep_home):
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "dlprep.db").write_text("garbage" * 500)
    for args in (["today"], ["review", "alpha", "--grade", "3"], ["quiz"]):
        result = cli(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {dlprep_home}/dlprep.db: database is damaged")
        assert len(result.stderr.strip().splitlines()) == 1


def test_db_path_honours_dlprep_home(cli, dlprep_home):
    assert cli.json("db", "path") == {
        "home": str(dlprep_home),
        "database": str(dlprep_home / "dlprep.db"),
        "config": str(dlprep_home / "config.yaml"),
    }


def test_internal_errors_are_one_line_unless_debug(cli, monkeypatch):
    import dlprep.features.schedule as schedule

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(schedule, "build_today", broken)
    result = cli("today")
    assert result.exit_code == 70
    assert result.stderr == "internal error: ZeroDivisionError: boom (run with --debug for a traceback)\n"
    with pytest.raises(ZeroDivisionError):
        cli("--debug", "today")


def test_no_color_is_honoured(cli, clock):
    coloured = cli("card", "alpha", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert "\x1b[" in coloured.stdout  # a forced terminal gets colour...
    plain = cli("card", "alpha", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[3" not in plain.stdout and "\x1b[9" not in plain.stdout  # ...but no colour with NO_COLOR


def test_json_output_is_valid_for_every_read_command(cli, clock):
    cli("review", "alpha", "--grade", "5")
    for args in (
        ["topics"],
        ["cards"],
        ["card", "alpha"],
        ["due"],
        ["today"],
        ["db", "check"],
        ["db", "path"],
        ["validate"],
        ["show", "--list"],
    ):
        result = cli(*args, "--json")
        assert result.exit_code == 0, args
        json.loads(result.stdout)


def test_python_dash_m_works(tmp_path):
    out = subprocess.run([sys.executable, "-m", "dlprep", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("dlprep ")


def test_bank_cache_is_used_and_invalidated_by_edits(cli, tmp_path, monkeypatch, dlprep_home):
    import shutil

    from conftest import FIXTURE_BANK

    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(bank))
    assert [c["id"] for c in cli.json("cards")] == ["alpha", "beta", "gamma"]
    assert (dlprep_home / "cache" / "bank.marshal").exists()
    # An edit (new size and mtime) is picked up at once, never served stale from the cache.
    text = (bank / "advanced.yaml").read_text().replace("What is gamma?", "What is gamma, really?")
    (bank / "advanced.yaml").write_text(text)
    assert cli.json("card", "gamma")["question"] == "What is gamma, really?"
    # A broken edit is reported, not hidden behind the cached good bank.
    (bank / "advanced.yaml").write_text(text.replace("difficulty: senior", "difficulty: expert"))
    result = cli("cards")
    assert result.exit_code == 1 and "'difficulty' must be one of" in result.stderr


@pytest.mark.parametrize(
    "garbage",
    [b"not json at all", b'{"key": "stale", "bank": {}}', b"[1, 2, 3]", b"dlprep-bank x 00000000\n", b"\xff\xfe\x00"],
)
def test_corrupt_bank_cache_is_ignored_and_rewritten(cli, dlprep_home, garbage):
    from dlprep.core import bankcache, cachefile
    from dlprep.paths import bundled_bank_dir

    assert cli("cards").exit_code == 0
    cache = dlprep_home / "cache" / "bank.marshal"
    cache.write_bytes(garbage)
    assert [c["id"] for c in cli.json("cards")] == ["alpha", "beta", "gamma"]
    fresh = cachefile.read(cache, bankcache.NAME, bankcache.signature([bundled_bank_dir()]))
    assert fresh is not None and sorted(bankcache.from_plain(fresh).bank.by_id) == ["alpha", "beta", "gamma"]


def test_bank_cache_cannot_run_code(cli, dlprep_home, tmp_path):
    """A planted pickle payload (the old cache format) is never loaded."""
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    assert cli("cards").exit_code == 0
    for name in ("bank.json", "bank.pickle", "bank.marshal"):
        (dlprep_home / "cache" / name).write_bytes(pickle.dumps(Payload()))
    assert cli("today").exit_code == 0
    assert not marker.exists()


def test_bank_round_trips_through_its_json_cache_form():
    from dlprep.core.bank import Bank, load_bank

    bank = load_bank()
    again = Bank.from_dict(json.loads(json.dumps(bank.to_dict())))
    assert again.cards == bank.cards
    assert again.topics == bank.topics
    assert again.paths == bank.paths
    assert again.references == bank.references
    assert again.demo_ids == bank.demo_ids


def test_today_estimate_uses_average_time_once_there_is_history(tmp_path):
    from datetime import datetime, timedelta

    from dlprep.core.store import Review, Store
    from dlprep.features.schedule import average_seconds

    store = Store.open(tmp_path / "t.db")
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert average_seconds(store) == 120  # no history: 2 minutes a card
    for i, s in enumerate((60, 90, 90, 120, 90)):
        store.record(Review(f"c{i}", 4, at + timedelta(minutes=i), mode="quiz", seconds=s))
    assert average_seconds(store) == 90
    store.record(Review("c9", 4, at, mode="repeat", counts=False, seconds=1))  # repeats are not counted
    assert average_seconds(store) == 90


def test_config_show_set_unset(cli, dlprep_home):
    assert cli.json("config") == {
        "config_file": str(dlprep_home / "config.yaml"),
        "banks": [],
        "day_rollover_hour": 4,
        "new_per_day": 10,
        "review_cap": 100,
        "scheduler": "sm2",
        "desired_retention": 0.9,
    }
    assert cli("config", "set", "new_per_day", "3").exit_code == 0
    assert len(cli.json("today")["new"]) == 3  # the setting takes effect
    bad = cli("config", "set", "review_cap", "0")
    assert bad.exit_code == 1
    assert bad.stderr == "error: config set review_cap: 'review_cap' must be a whole number from 1 to 10000, got 0\n"
    assert cli("config", "set", "colour", "1").exit_code == 2
    assert cli.json("config")["new_per_day"] == 3  # a refused change leaves the file alone
    assert cli("config", "unset", "new_per_day").exit_code == 0
    assert cli.json("config")["new_per_day"] == 10
    assert "new_per_day" not in (dlprep_home / "config.yaml").read_text()


def test_config_banks_list(cli, tmp_path, dlprep_home):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "extra.yaml").write_text(
        "topic: basics\ncards:\n  - id: mine-1\n    question: Q?\n    answer: A.\n    rubric:\n"
        "      - point: a\n        weight: 1\n      - point: b\n        weight: 1\n      - point: c\n        weight: 1\n"
    )
    assert cli("config", "set", "banks", str(mine)).exit_code == 0
    assert "mine-1" in [c["id"] for c in cli.json("cards")]


# ---------------------------------------------------------------- ids at narrow widths

LONG_ID = "transformer-learned-vs-sinusoidal-positions"  # 43 characters, the longest in the bank


@pytest.fixture
def real_bank(small_bank, monkeypatch):
    """The bundled bank, with its long ids, instead of the fixture bank."""
    monkeypatch.delenv("DLPREP_BUNDLED_BANK", raising=False)


def words(text: str) -> set[str]:
    return set(text.split())


@pytest.mark.usefixtures("real_bank")
@pytest.mark.parametrize("width", [60, 80])
def test_ids_are_never_cut(cli, clock, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    assert cli("review", LONG_ID, "--grade", "3", "--at", "2026-11-10").exit_code == 0
    ids = [c["id"] for c in cli.json("cards")]
    listed = words(cli("cards").stdout)
    assert [i for i in ids if i not in listed] == []
    assert LONG_ID in words(cli("due").stdout)
    assert LONG_ID in words(cli("today").stdout)
    quiz = cli("quiz", "--new", "0", input="\na\n\ny\n\n")
    assert "Session summary" in quiz.stdout
    assert LONG_ID in words(quiz.stdout.split("Session summary")[1])
    assert "…" not in cli("cards").stdout + cli("due").stdout + cli("today").stdout


def test_fit_widths_keeps_minimums_and_shrinks_the_widest_first():
    from dlprep.layout import column_range, fit_widths

    assert column_range(["an id-that-is-long", "x"], wrap=False) == (18, 18)
    assert column_range(["a question with words", "x"], wrap=True) == (8, 21)
    assert fit_widths([5, 8], [5, 40], 100) == [5, 40]  # everything fits
    assert fit_widths([5, 8], [5, 40], 20) == [5, 15]
    assert fit_widths([5, 8, 4], [10, 40, 6], 20) == [6, 8, 6]  # the widest shrinks first
    assert fit_widths([5, 8], [5, 40], 12) is None  # not even the minimums


def test_inline_markdown_is_styled_never_markup():
    from dlprep.cli.render import inline

    text = inline("Call `f()` **twice**, *then* [bold]x[/bold]: a * b and x_i")
    assert text.plain == "Call f() twice, then [bold]x[/bold]: a * b and x_i"
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles == {"f()": "markdown.code", "twice": "bold", "then": "italic"}


@pytest.mark.usefixtures("real_bank")
def test_card_text_markdown_is_rendered_not_shown_raw(cli, clock, monkeypatch):
    from rich.console import Console

    from dlprep.cli.quiz_ui import TerminalQuizUI
    from dlprep.core.bank import load_bank

    card_id = "bug-cpu-gpu-device-mismatch"  # backticks in its question and in a red flag
    monkeypatch.setenv("COLUMNS", "300")  # one line per question
    for args in (["card", card_id], ["cards", "--topic", "production"], ["cheatsheet", "production"]):
        out = cli(*args).stdout
        assert "RuntimeError: Expected all tensors" in out, args
        assert "`" not in out, args
    page = cli("cheatsheet", "production", "--format", "html").stdout
    assert "What exactly does <code>model.eval()</code> change" in page and "`" not in page
    card = load_bank().get(card_id)
    console = Console(record=True, width=300)
    ui = TerminalQuizUI(console, lambda prompt: "", lambda demo: None)
    ui.question(card, 1, 1, False, None)
    ui.reveal(card, 10, None)
    ui.rubric(card)
    shown = console.export_text()
    assert "You get RuntimeError: Expected all tensors" in shown and "scattering .cuda() calls" in shown
    assert "`" not in shown


# ---------------------------------------------------------------- every read command fits the terminal

from conftest import assert_fits  # noqa: E402


@pytest.mark.usefixtures("real_bank")
def test_every_read_command_fits_60_80_and_120_columns_without_splitting_a_word(cli, clock):
    for cid in (LONG_ID, "rnn-clipping-fixes-exploding-not-vanishing", "bias-variance-decomposition"):
        assert cli("review", cid, "--grade", "3", "--at", "2026-11-10").exit_code == 0
    quiz = cli("quiz", "--new", "0", "--limit", "2", input="\n1\n\nn\n\n" * 2 + "q\n")  # missed points for stats
    assert quiz.exit_code == 0, quiz.output
    assert cli("plan", "--role", "nlp", "--interview", "2026-12-12").exit_code == 0
    commands = [
        ["today"],
        ["due"],
        ["cards"],
        ["card", LONG_ID],
        ["card", "grad-accumulation-effective-batch"],  # code blocks in the answer
        ["topics", "--tree"],
        ["stats"],
        ["plan"],
        ["cheatsheet", "normalization"],  # a four-column table
        ["cheatsheet", "transformers"],
    ]
    for args in commands:
        reference = cli(*args, env={"COLUMNS": "1000"})
        assert reference.exit_code == 0, (args, reference.output)
        for width in (60, 80, 120):
            assert_fits(cli(*args, env={"COLUMNS": str(width)}).stdout, reference.stdout, width, args)


@pytest.mark.usefixtures("real_bank")
def test_review_and_export_messages_wrap_between_words(cli, clock, tmp_path):
    wide = cli("review", LONG_ID, "--grade", "4", env={"COLUMNS": "1000"}).stdout
    again = cli("review", LONG_ID, "--grade", "4", env={"COLUMNS": "1000"}).stdout  # a same-day repeat
    for width in (60, 80):
        shown = cli("review", LONG_ID, "--grade", "4", env={"COLUMNS": str(width)}).stdout
        assert_fits(shown, again, width)
    assert "recorded" in wide
    pytest.importorskip("genanki")
    args = ["export", str(tmp_path / "a-deck-with-a-long-name.apkg"), "--topic", "rnns", "--deck", "a long deck name"]
    reference = cli(*args, env={"COLUMNS": "1000"}).stderr
    assert_fits(cli(*args, env={"COLUMNS": "60"}).stderr, reference, 60)


@pytest.mark.usefixtures("real_bank")
def test_answers_have_one_blank_line_around_code_blocks(cli):
    out = cli("card", "transformer-rope", env={"COLUMNS": "80"}).stdout
    assert "x'_2i   = x_2i cos(m theta_i)" in out
    lines = [line.strip("│ ") for line in out.splitlines()]
    assert not any(a == b == "" for a, b in itertools.pairwise(lines))


@pytest.mark.usefixtures("real_bank")
def test_topic_tree_notes_fit_80_columns(cli, clock):
    assert cli("review", LONG_ID, "--grade", "3").exit_code == 0  # mastery bars, not dashes
    out = cli("topics", "--tree", env={"COLUMNS": "80"}).stdout
    assert "training      ░░░░░░░░░░   0%  (also needs activations, normalization)" in out


@pytest.mark.parametrize("width", [30, 50, 56, 80])
def test_the_14_day_forecast_lines_up_at_any_width(cli, clock, width):
    out = cli("today", env={"COLUMNS": str(width)}).stdout.splitlines()
    start = out.index("Due in the next 14 days") + 1
    block = out[start : out.index("Start with: dlprep quiz")]
    rows = [line for line in block if line.strip()]
    assert len(rows) in (3, 6)  # dates, weekdays, counts; in two weeks when narrow
    for week in (rows[:3], rows[3:]):
        if week:
            ends = [[m.end() for m in re.finditer(r"\S+", line)] for line in week]
            assert ends[0] == ends[1] == ends[2], week  # every count right under its date
            assert max(len(line) for line in week) <= width
    assert [w for line in rows[::3] for w in line.split()] == [f"{d:02d}" for d in [*range(22, 31), *range(1, 6)]]


def test_card_shows_a_dated_review_history_and_json_keeps_its_keys(cli, clock):
    clock("2026-11-21T10:00:00+01:00")
    assert cli("quiz", "--limit", "1", "--new", "1", input="\na\n\ny\n\n").exit_code == 0  # alpha, follow-up got
    clock("2026-11-22T09:30:00+01:00")
    assert cli("review", "alpha", "--grade", "2").exit_code == 0
    assert cli("review", "alpha", "--grade", "4").exit_code == 0  # same study day: a repeat
    shown = cli("card", "alpha").stdout
    history = shown[shown.index("Review history") :].splitlines()
    assert history[1].split() == ["date", "grade", "mode", "follow-up"]
    assert [line.split() for line in history[2:5]] == [
        ["2026-11-21", "10:00", "5", "quiz", "got"],
        ["2026-11-22", "09:30", "2", "review", "-"],
        ["2026-11-22", "09:30", "4", "repeat", "-"],
    ]
    assert "reviews: 3 · due 2026-11-23" in shown
    data = cli.json("card", "alpha")
    assert sorted(data) == [
        "answer", "changed_since_review", "difficulty", "due", "easiness", "errata", "follow_ups", "id",
        "interval_days", "kind", "lapses", "last_review", "line", "memory", "pattern", "question", "red_flags",
        "references", "repetitions", "reviews", "roles", "rubric", "see_also", "show_me", "source", "time_target_s",
        "topic",
    ]  # fmt: skip
    assert [sorted(r) for r in data["reviews"]] == [["at", "counts", "coverage", "follow_up", "grade", "mode"]] * 3
    # the memory model counts every graded review, the same-day repeat too
    assert sorted(data["memory"]) == [
        "difficulty", "last_day", "on", "parameters", "retrievability", "reviews", "stability",
    ]  # fmt: skip
    assert (data["memory"]["reviews"], data["memory"]["last_day"], data["memory"]["on"]) == (
        3,
        "2026-11-22",
        "2026-11-22",
    )


def test_card_history_shows_the_last_ten_of_more(cli, clock):
    for day in range(1, 13):
        assert cli("review", "beta", "--grade", "4", "--at", f"2026-11-{day:02d}").exit_code == 0
    shown = cli("card", "beta").stdout
    assert "Review history (last 10 of 12)" in shown
    assert "2026-11-03 12:00" in shown and "2026-11-02 12:00" not in shown


def test_today_json_has_every_key_and_value(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    cli("review", "alpha", "--grade", "2", "--at", "2026-11-20T10:00+01:00")  # due again today
    cli("review", "beta", "--grade", "4", "--at", "2026-11-21T09:00+01:00")  # introduced today, due tomorrow
    cli("plan", "--role", "mle", "--interview", "2026-12-01")
    forecast = [{"day": f"2026-11-{d}", "due": 0} for d in range(22, 31)]
    forecast += [{"day": f"2026-12-0{d}", "due": 0} for d in range(1, 6)]
    forecast[0]["due"] = 1
    assert cli.json("today") == {
        "day": "2026-11-21",
        "due": [{"id": "alpha", "topic": "basics", "due": "2026-11-21", "overdue_days": 0}],
        "due_count": 1,
        "overdue_count": 0,
        "held_back": 0,
        "new": [{"id": "gamma", "topic": "advanced"}],  # the only card not seen yet
        "new_introduced_today": 1,
        "estimated_minutes": 4,  # 2 cards x 2 min
        "seconds_per_card": 120,
        "forecast": forecast,
        "orphaned_cards": [],
        "drills_due": [],
        "plan": {"role": "mle", "start": "2026-11-21", "interview": "2026-12-01"},
        "changed_since_review": [],
        # FSRS-6 defaults (formulas in test_memory.py): alpha Easy (S = w3 = 8.2956, D = 1) then Again a day
        # later: S = min(w11 D^-w12 ((S+1)^w13 - 1) e^((1-R) w14), S / e^(w17 w18)) = 1.2162, recall after
        # 11 days 0.7026; beta Good (S = w2 = 2.3065), after 10 days 0.7744; mean 0.7385
        "expected_recall": {"day": "2026-12-01", "overall": 0.7385, "studied_cards": 2, "parameters": "default"},
    }
    out = cli("today").stdout
    assert "1 review(s) due (0 overdue) · 1 new card(s) · about 4 min (2 min a card until you have some history)" in out
    assert "interview in 10 day(s) (2026-12-01, mle path)" in out
