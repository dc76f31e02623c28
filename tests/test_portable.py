"""Progress files: `dlprep export progress` / `dlprep import progress`.

A round trip keeps every field; importing merges without duplicates (a
review is card + UTC instant + grade), so merging two machines both ways
gives one log; a bad line or unknown card is reported with its line number
and nothing is written."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dlprep.core.store import MODES, Review, Store
from dlprep.features.plan import Plan, current_plan, save_plan
from dlprep.features.portable import (
    FORMAT,
    ProgressFileError,
    export_progress,
    import_progress,
    read_progress,
)

CARDS = {"alpha", "beta", "gamma"}
ROLES = ("mle", "nlp", "cv", "research", "startup")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
START = datetime(2026, 10, 1, 9, 0, tzinfo=timezone(timedelta(hours=-7)))


def history(store: Store, n: int, seed: int = 1, start: datetime = START) -> None:
    """n reviews over the three cards with every optional field in use."""
    rng = random.Random(seed)
    for i in range(n):
        at = start + timedelta(hours=7 * i, minutes=rng.randrange(60), microseconds=rng.randrange(10**6))
        mode = rng.choice(MODES)
        store.record(
            Review(
                card_id=rng.choice(sorted(CARDS)),
                grade=rng.randrange(6),
                at=at,
                mode=mode,
                counts=mode != "repeat",
                points_hit=tuple(sorted(rng.sample(range(4), rng.randrange(4)))) if i % 3 else None,
                coverage=rng.choice([None, 0.0, 0.5, 1.0]),
                follow_up=rng.choice([None, "got", "missed"]),
                follow_up_index=rng.choice([None, 0, 2]),
                answer_text=rng.choice([None, "softmax [batch, seq]", "ünïcode ✓"]),
                seconds=rng.choice([None, 0.0, 41.5]),
                card_hash=rng.choice([None, "abc123"]),
            ),
            rollover_hour=rng.choice([0, 4, 23]),
            due_cap=rng.choice([None, date(2026, 12, 9)]),
        )


def open_store(path: Path) -> Store:
    return Store.open(path)


def export_file(store: Store, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        export_progress(store, f, NOW)
    return path


def log_of(store: Store) -> list[dict]:
    """The log without local numbers (row id, session id), in time order."""
    return [{k: v for k, v in r.items() if k not in ("id", "session_id")} for r in store.reviews()]


@pytest.fixture
def stores(tmp_path):
    opened = []

    def make(name: str) -> Store:
        s = open_store(tmp_path / f"{name}.db")
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def test_round_trip_keeps_every_review_field_assessments_and_the_plan(stores, tmp_path):
    a = stores("a")
    history(a, 40)
    a.add_assessment(datetime(2026, 11, 1, 9, tzinfo=UTC), {"backprop": 4, "cnns": 2})
    a.add_assessment(datetime(2026, 11, 2, 9, tzinfo=UTC), {"backprop": 3}, kind="diagnostic")
    save_plan(a, Plan("nlp", date(2026, 11, 1), date(2026, 12, 12)))
    path = export_file(a, tmp_path / "p.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["format"] == FORMAT and header["version"] == 1
    assert header["counts"] == {"review": 40, "assessment": 3, "plan": 1} and len(lines) == 1 + 40 + 3 + 1

    b = stores("b")
    result = import_progress(b, path, CARDS, ROLES)
    assert (result.reviews_added, result.reviews_present, result.assessments_added, result.plan) == (
        40,
        0,
        3,
        "imported",
    )
    assert log_of(b) == log_of(a)
    assert b.states() == a.states() and b.check() == []
    assert sorted(b._rows("SELECT taken_at, topic, rating, kind FROM assessments"), key=str) == sorted(
        a._rows("SELECT taken_at, topic, rating, kind FROM assessments"), key=str
    )
    assert current_plan(b) == current_plan(a)
    assert {r["session_id"] for r in b.reviews()} == {None}  # sessions are local: not carried


def test_importing_the_same_file_twice_adds_nothing(stores, tmp_path):
    a, b = stores("a"), stores("b")
    history(a, 15)
    a.add_assessment(NOW, {"backprop": 4})
    path = export_file(a, tmp_path / "p.jsonl")
    import_progress(b, path, CARDS, ROLES)
    before = log_of(b)
    again = import_progress(b, path, CARDS, ROLES)
    assert (again.reviews_added, again.reviews_present) == (0, 15)
    assert (again.assessments_added, again.assessments_present) == (0, 1)
    assert log_of(b) == before


def test_two_machines_merged_both_ways_have_the_same_log_and_states(stores, tmp_path):
    a, b = stores("a"), stores("b")
    history(a, 20, seed=1)
    shared = export_file(a, tmp_path / "shared.jsonl")
    import_progress(b, shared, CARDS, ROLES)  # b started as a copy of a...
    history(a, 12, seed=2, start=START + timedelta(days=30))  # ...then both studied apart
    history(b, 9, seed=3, start=START + timedelta(days=30, minutes=17))
    a_file, b_file = export_file(a, tmp_path / "a.jsonl"), export_file(b, tmp_path / "b.jsonl")
    into_a = import_progress(a, b_file, CARDS, ROLES)
    into_b = import_progress(b, a_file, CARDS, ROLES)
    assert (into_a.reviews_added, into_a.reviews_present) == (9, 20)
    assert (into_b.reviews_added, into_b.reviews_present) == (12, 20)
    assert log_of(a) == log_of(b) and len(log_of(a)) == 41
    assert a.states() == b.states() and a.check() == [] and b.check() == []


def test_a_review_is_its_card_utc_instant_and_grade(stores, tmp_path):
    a = stores("a")
    at = datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=UTC)
    a.record(Review("alpha", 4, at))
    path = tmp_path / "p.jsonl"
    same_instant_other_offset = at.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    one_microsecond_later = (at + timedelta(microseconds=1)).isoformat()
    rows = [
        {"type": "review", "card_id": "alpha", "at": same_instant_other_offset, "grade": 4},  # already here
        {"type": "review", "card_id": "alpha", "at": at.isoformat(), "grade": 3},  # another grade: new
        {"type": "review", "card_id": "beta", "at": at.isoformat(), "grade": 4},  # another card: new
        {"type": "review", "card_id": "alpha", "at": one_microsecond_later, "grade": 4},  # another instant: new
        {"type": "review", "card_id": "beta", "at": at.isoformat(), "grade": 4},  # twice in one file: once
    ]
    write(path, [{**r, "mode": "review", "counts": True, "rollover_hour": 4} for r in rows])
    result = import_progress(a, path, CARDS, ROLES)
    assert (result.reviews_added, result.reviews_present) == (3, 2)  # the repeat within the file counts as present
    assert a.review_count() == 4


def test_a_differing_plan_is_kept_and_said_so(stores, tmp_path):
    a, b = stores("a"), stores("b")
    save_plan(a, Plan("nlp", date(2026, 11, 1), None))
    save_plan(b, Plan("cv", date(2026, 11, 5), None))
    path = export_file(a, tmp_path / "a.jsonl")
    assert import_progress(b, path, CARDS, ROLES).plan == "kept"
    assert current_plan(b).role == "cv"
    save_plan(b, Plan("nlp", date(2026, 11, 1), None))
    assert import_progress(b, path, CARDS, ROLES).plan == "same"


# ---------------------------------------------------------------- checking


def write(path: Path, objs: list, header: dict | None = None) -> Path:
    head = header if header is not None else {"format": FORMAT, "version": 1}
    path.write_text("".join(json.dumps(o) + "\n" for o in [head, *objs]), encoding="utf-8")
    return path


GOOD = {
    "type": "review",
    "card_id": "alpha",
    "at": "2026-11-01T09:30:00+01:00",
    "grade": 4,
    "mode": "quiz",
    "counts": True,
    "rollover_hour": 4,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grade": 6}, "grade must be a whole number from 0 to 5, got 6"),
        ({"grade": -1}, "grade must be a whole number from 0 to 5, got -1"),
        ({"grade": "4"}, "grade must be a whole number from 0 to 5, got '4'"),
        ({"grade": True}, "grade must be a whole number from 0 to 5, got True"),
        ({"at": "2026-11-01T09:30:00"}, "has no UTC offset"),
        ({"at": "yesterday"}, "at 'yesterday' is not an ISO 8601 date-time"),
        ({"at": 1700000000}, "at must be an ISO 8601 date-time string"),
        (
            {"mode": "sleep"},
            "mode must be one of quiz, rapid, cram, mock, review, repeat, diagnostic, drill, got 'sleep'",
        ),
        ({"counts": 1}, "counts must be true or false, got 1"),
        ({"rollover_hour": 24}, "rollover_hour must be a whole number from 0 to 23, got 24"),
        ({"rollover_hour": -1}, "rollover_hour must be a whole number from 0 to 23, got -1"),
        ({"points_hit": [0, -1]}, "each of points_hit must be a whole number of at least 0, got -1"),
        ({"points_hit": "0 1"}, "points_hit must be a list"),
        ({"coverage": 1.01}, "coverage must be from 0 to 1, got 1.01"),
        ({"coverage": -0.01}, "coverage must be from 0 to 1, got -0.01"),
        ({"seconds": -1}, "seconds must be of at least 0, got -1"),
        ({"follow_up": "yes"}, "follow_up must be got, missed or null, got 'yes'"),
        ({"follow_up_index": 1.5}, "follow_up_index must be a whole number of at least 0, got 1.5"),
        ({"due_cap": "2026-13-01"}, "due_cap '2026-13-01' is not a date YYYY-MM-DD"),
        ({"answer_text": 42}, "answer_text must be a string or null, got 42"),
        ({"card_id": ""}, "card_id must be a non-empty string"),
        ({"grade_": 4}, "review: unknown field 'grade_'"),
        ({"type": "note"}, "type must be one of review, assessment, plan, got 'note'"),
    ],
)
def test_every_field_is_checked_and_reported_with_its_line(stores, tmp_path, change, message):
    b = stores("b")
    b.record(Review("beta", 3, NOW))
    path = write(tmp_path / "p.jsonl", [GOOD, GOOD | {"at": "2026-11-02T09:30:00+01:00"}, {**GOOD, **change}])
    with pytest.raises(ProgressFileError) as info:
        import_progress(b, path, CARDS, ROLES)
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith(f"{path}:4: ")
    assert message in info.value.problems[0]
    assert str(info.value) == info.value.problems[0] + " (nothing was imported)"
    assert b.review_count() == 1  # the two good lines before it were not written either


@pytest.mark.parametrize(
    "change",
    [
        {"grade": 0},
        {"grade": 5},
        {"rollover_hour": 0},
        {"rollover_hour": 23},
        {"coverage": 0},
        {"coverage": 1},
        {"seconds": 0},
        {"points_hit": []},
        {"follow_up": "missed", "follow_up_index": 0},
        {"due_cap": "2026-12-09", "card_hash": "x", "answer_text": ""},
    ],
)
def test_values_at_the_edges_are_accepted(stores, tmp_path, change):
    b = stores("b")
    path = write(tmp_path / "p.jsonl", [{**GOOD, **change}])
    assert import_progress(b, path, CARDS, ROLES).reviews_added == 1


def test_every_bad_line_is_listed_and_the_first_is_the_message(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps({"format": FORMAT, "version": 1})
        + "\n"
        + json.dumps(GOOD)
        + "\n{not json\n\n"
        + json.dumps([1, 2])
        + "\n"
        + json.dumps({k: v for k, v in GOOD.items() if k != "mode"})
        + "\n"
        + json.dumps(
            {"type": "assessment", "taken_at": "2026-11-01T09:00:00Z", "topic": "x", "rating": 6, "kind": "self"}
        )
        + "\n"
        + json.dumps({"type": "assessment", "taken_at": "2026-11-01T09:00:00Z", "topic": "x", "rating": 2, "kind": "?"})
        + "\n"
        + json.dumps({"type": "plan", "role": "chef", "start": "2026-11-01"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ProgressFileError) as info:
        read_progress(path, CARDS, ROLES)
    assert info.value.problems == [
        f"{path}:3: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{path}:5: each line must be a JSON object, got list",
        f"{path}:6: review: missing field 'mode'",
        f"{path}:7: rating must be a whole number from 0 to 5, got 6",
        f"{path}:8: kind must be one of self, diagnostic, got '?'",
        f"{path}:9: plan role must be one of mle, nlp, cv, research, startup, got 'chef'",
    ]
    assert str(info.value) == info.value.problems[0] + " (and 5 more; nothing was imported)"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            json.dumps(GOOD) + "\n",
            ':1: not a dlprep progress file (the first line must be the header {"format": "dlprep-progress", ...})',
        ),
        ("SQLite format 3\x00\x01\x02\n", ":1: not a dlprep progress file (the first line is not JSON)"),
        (
            json.dumps({"format": FORMAT, "version": 2}) + "\n",
            ":1: format version 2 is newer than this dlprep reads (1); upgrade dlprep",
        ),
        (
            json.dumps({"format": FORMAT, "version": "1"}) + "\n",
            ":1: header: version must be a whole number from 1, got '1'",
        ),
        ("", ": empty file, not a dlprep progress file"),
        (
            json.dumps({"format": FORMAT, "version": 1, "counts": {"review": 2}}) + "\n" + json.dumps(GOOD) + "\n",
            ":2: the header announces 2 review line(s) but the file has 1 (cut short, or edited?)",
        ),
    ],
    ids=["no-header", "binary", "newer", "bad-version", "empty", "cut-short"],
)
def test_the_header_is_checked(tmp_path, content, message):
    path = tmp_path / "p.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProgressFileError) as info:
        read_progress(path, CARDS, ROLES)
    assert info.value.problems == [f"{path}{message}"]


def test_a_second_plan_line_is_an_error(tmp_path):
    plan = {"type": "plan", "role": "nlp", "start": "2026-11-01", "interview": None}
    path = write(tmp_path / "p.jsonl", [plan, plan])
    with pytest.raises(ProgressFileError, match=r"p.jsonl:3: a second plan line"):
        read_progress(path, CARDS, ROLES)


def test_an_unknown_card_is_an_error_with_its_line_unless_kept(stores, tmp_path):
    b = stores("b")
    path = write(tmp_path / "p.jsonl", [GOOD, GOOD | {"card_id": "my-own-card"}, GOOD | {"card_id": "beta"}])
    with pytest.raises(ProgressFileError) as info:
        import_progress(b, path, CARDS, ROLES)
    assert info.value.problems == [
        f"{path}:3: unknown card id 'my-own-card': not in the bundled bank or your banks (add its folder with "
        "--bank DIR or `banks:` in config.yaml, or pass --keep-unknown)"
    ]
    assert b.review_count() == 0
    result = import_progress(b, path, CARDS, ROLES, keep_unknown=True)
    assert result.reviews_added == 3 and result.unknown_cards == ["my-own-card"]
    assert b.state("my-own-card").reviews == 1


# ---------------------------------------------------------------- the commands


@pytest.fixture
def home_with_history(dlprep_home, small_bank):
    store = Store.open(dlprep_home / "dlprep.db")
    history(store, 10)
    store.close()
    return dlprep_home


def test_export_and_import_through_the_cli(cli, home_with_history, tmp_path, monkeypatch):
    out = tmp_path / "p.jsonl"
    made = cli("export", "progress", "-o", str(out))
    assert made.exit_code == 0, made.stderr
    assert " ".join(made.stderr.split()) == f"wrote 10 review(s), 0 assessment rating(s) to {out}"
    assert not (tmp_path / "p.jsonl.partial").exists()
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path / "other"))
    first = cli("import", "progress", str(out))
    assert first.exit_code == 0, first.stderr
    assert " ".join(first.stderr.split()) == (
        "imported 10 new review(s) (0 already here) and 0 assessment rating(s) (0 already here); rebuilt 3 card state(s)"
    )
    again = cli("import", "progress", str(out))
    assert " ".join(again.stderr.split()) == (
        "imported 0 new review(s) (10 already here) and 0 assessment rating(s) (0 already here)"
    )
    data = json.loads(cli("import", "progress", str(out), "--json").stdout)
    assert data["reviews_added"] == 0 and data["reviews_already_present"] == 10 and data["card_states_rebuilt"] == 0


def test_a_bad_import_through_the_cli_is_one_line_and_writes_nothing(cli, home_with_history, tmp_path):
    path = write(tmp_path / "p.jsonl", [GOOD, GOOD | {"grade": 9}, GOOD | {"mode": "x"}])
    result = cli("import", "progress", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:3: grade must be a whole number from 0 to 5, got 9 (and 1 more; nothing was imported)\n"
    )
    store = Store.open(home_with_history / "dlprep.db")
    assert store.review_count() == 10
    store.close()
    missing = cli("import", "progress", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 1 and missing.stderr == f"error: {tmp_path / 'nope.jsonl'}: no such file\n"


def test_a_card_from_an_extra_bank_folder_is_known_with_bank(cli, small_bank, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        (Path(small_bank) / "basics.yaml")
        .read_text()
        .replace("id: alpha", "id: mine-1")
        .replace("id: beta", "id: mine-2")
    )
    path = write(tmp_path / "p.jsonl", [GOOD | {"card_id": "mine-1"}])
    unknown = cli("import", "progress", str(path))
    assert unknown.exit_code == 1 and "unknown card id 'mine-1'" in unknown.stderr
    known = cli("--bank", str(folder), "import", "progress", str(path))
    assert known.exit_code == 0, known.stderr


def test_export_without_a_database_is_one_line(cli, dlprep_home, tmp_path):
    result = cli("export", "progress", "-o", str(tmp_path / "p.jsonl"))
    assert result.exit_code == 1
    assert result.stderr == f"error: {dlprep_home / 'dlprep.db'}: no database yet, so there is no progress to export\n"


# ---------------------------------------------------------------- a long history


def long_log(path: Path, n: int) -> Path:
    """n reviews of the three cards, 30 minutes apart, as a progress file."""
    rng = random.Random(7)
    cards = sorted(CARDS)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    line = '{{"type": "review", "card_id": "{}", "at": "{}", "grade": {}, "mode": "quiz", "counts": true, "rollover_hour": 4}}\n'
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"format": FORMAT, "version": 1, "counts": {"review": n}}) + "\n")
        f.writelines(
            line.format(cards[i % 3], (start + timedelta(minutes=30 * i)).isoformat(), rng.randrange(6))
            for i in range(n)
        )
    return path


@pytest.mark.slow
def test_a_100000_review_log_imports_in_one_go_and_again_adds_nothing(stores, tmp_path):
    path = long_log(tmp_path / "long.jsonl", 100_000)
    b = stores("b")
    first = import_progress(b, path, CARDS, ROLES)
    assert first.reviews_added == 100_000 and b.review_count() == 100_000
    assert b.state("alpha").reviews == 33_334 and b.state("gamma").reviews == 33_333
    again = import_progress(b, path, CARDS, ROLES)
    assert (again.reviews_added, again.reviews_present) == (0, 100_000)
    buffer = io.StringIO()
    counts = export_progress(b, buffer, NOW)
    assert counts["review"] == 100_000 and buffer.getvalue().count("\n") == 100_001


def test_an_import_while_another_process_writes_waits_then_is_one_busy_line(tmp_path):
    import sqlite3

    from dlprep.errors import DatabaseBusy

    store = Store.open(tmp_path / "b.db", timeout=0.1)
    holder = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy) as info:
            import_progress(store, write(tmp_path / "p.jsonl", [GOOD]), CARDS, ROLES)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (
        str(info.value) == f"{tmp_path / 'b.db'}: database is busy (another dlprep is writing); try again in a moment"
    )
    assert store.review_count() == 0
    store.close()


def test_drill_reviews_are_known_when_the_drill_is(cli, dlprep_home, tmp_path):
    drill_review = GOOD | {"card_id": "drill:stable-softmax", "mode": "drill", "counts": False, "grade": 1}
    path = write(tmp_path / "p.jsonl", [drill_review])
    known = cli("import", "progress", str(path))
    assert known.exit_code == 0, known.stderr
    gone = write(tmp_path / "q.jsonl", [drill_review | {"card_id": "drill:no-such-drill"}])
    unknown = cli("import", "progress", str(gone))
    assert unknown.exit_code == 1 and "unknown card id 'drill:no-such-drill'" in unknown.stderr
