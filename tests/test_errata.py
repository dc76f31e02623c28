"""Errata: the log is valid, and a user who studied a card before it was
corrected is told so in `card`, the quiz and `today`."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from dlprep.core.bank import load_bank
from dlprep.core.errata import FIELDS, Erratum, load_errata
from dlprep.paths import bundled_bank_dir


def test_the_bundled_errata_log_is_valid_and_names_real_cards():
    bank = load_bank()
    errata, problems = load_errata([bundled_bank_dir()], set(bank.by_id))
    assert problems == []
    assert sum(len(v) for v in errata.values()) > 50
    for entries in errata.values():
        for e in entries:
            assert e.field in FIELDS and e.was.strip() and e.now.strip() and e.source.strip()
            assert e.was != e.now


def test_errata_problems_name_file_and_line(tmp_path):
    d = tmp_path / "errata"
    d.mkdir()
    (d / "x.yaml").write_text(
        "- card: a\n  date: 2026-12-01\n  field: answer\n  was: x\n  now: y\n  source: s\n"
        "- card: nowhere\n  date: 2026-12-01\n  field: answer\n  was: x\n  now: y\n  source: s\n"
        "- card: a\n  date: 2026-12-01\n  field: title\n  was: x\n  now: y\n  source: s\n"
        "- card: a\n  date: 2026-12-01\n"
    )
    errata, problems = load_errata([tmp_path], {"a"})
    assert [e.card for e in errata["a"]] == ["a"]
    assert problems == [
        f"{d}/x.yaml:7: 'nowhere' is not a card id",
        f"{d}/x.yaml:13: field must be one of question, answer, rubric, follow_ups, red_flags",
        f"{d}/x.yaml:19: each erratum needs exactly card, date, field, was, now, source",
    ]


@pytest.fixture
def editable_bank(tmp_path, monkeypatch):
    from conftest import FIXTURE_BANK

    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(bank))
    return bank


def test_a_corrected_card_is_flagged_after_a_hashed_review(cli, clock, editable_bank):
    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20T10:00+01:00")
    assert cli.json("card", "alpha")["changed_since_review"] is None
    assert cli.json("today")["changed_since_review"] == []
    # The card's answer is corrected and an erratum logged.
    text = (editable_bank / "basics.yaml").read_text()
    (editable_bank / "basics.yaml").write_text(
        text.replace("Alpha is the first card.", "Alpha is the first card, corrected.")
    )
    (editable_bank / "errata").mkdir()
    (editable_bank / "errata" / "basics.yaml").write_text(
        "- card: alpha\n  date: 2026-11-21\n  field: answer\n  was: old claim\n  now: new claim\n  source: a paper\n"
    )
    notice = cli.json("card", "alpha")["changed_since_review"]
    assert notice["last_review"] == "2026-11-20T10:00:00+01:00"
    assert [e["now"] for e in notice["errata"]] == ["new claim"]
    assert cli.json("today")["changed_since_review"] == ["alpha"]
    shown = cli("card", "alpha").stdout
    assert "Corrected since your last review (2026-11-20):" in shown
    assert 'was "old claim"; now: new claim' in shown
    assert "1 card(s) you studied were corrected" in cli("today").stdout
    # The quiz shows it when the card comes up.
    out = cli("quiz", "--limit", "1", input="\na\n\ny\n\n").stdout
    assert 'was "old claim"; now: new claim' in out
    # Reviewing the corrected card clears the notice.
    assert cli.json("card", "alpha")["changed_since_review"] is None


def test_old_reviews_without_a_hash_use_the_errata_dates(cli, clock, editable_bank, dlprep_home):
    from datetime import datetime

    from dlprep.core.store import Review, Store

    store = Store.open(dlprep_home / "dlprep.db")
    store.record(Review("alpha", 4, datetime.fromisoformat("2026-11-10T10:00+01:00")))  # no hash: an old review
    store.record(Review("beta", 4, datetime.fromisoformat("2026-11-20T10:00+01:00")))
    store.close()
    (editable_bank / "errata").mkdir()
    (editable_bank / "errata" / "basics.yaml").write_text(
        "- card: alpha\n  date: 2026-11-15\n  field: rubric\n  was: a\n  now: b\n  source: s\n"
        "- card: beta\n  date: 2026-11-15\n  field: rubric\n  was: a\n  now: b\n  source: s\n"
    )
    assert cli.json("today")["changed_since_review"] == ["alpha"]  # beta was reviewed after its correction
    assert date.fromisoformat(cli.json("card", "alpha")["changed_since_review"]["errata"][0]["date"]) == date(
        2026, 11, 15
    )


def test_content_hash_ignores_references_and_whitespace_but_not_text():
    from dataclasses import replace

    card = load_bank().cards[0]
    assert replace(card, references=()).content_hash == card.content_hash
    assert replace(card, answer=card.answer.replace(" ", "  ")).content_hash == card.content_hash
    assert replace(card, answer=card.answer + " More.").content_hash != card.content_hash
    assert replace(card, red_flags=()).content_hash != card.content_hash


ENTRY = "- card: a\n  date: {date}\n  field: answer\n  was: x\n  now: y\n  source: s\n"


def errata_folder(root, files: dict[str, str]):
    d = root / "errata"
    d.mkdir(parents=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return root


def test_two_bad_entries_of_each_kind_are_all_reported_and_the_good_ones_kept(tmp_path):
    bad = {
        "a.yaml": "topic: [\n",
        "b.yaml": "- [unclosed\n",
        "c.yaml": "card: a\n",
        "d.yaml": "just text\n",
        "e.yaml": ENTRY.format(date="2026-12-01").replace("answer", "title") * 2,
        "f.yaml": ENTRY.format(date="soon") + ENTRY.format(date="12/01/2026"),
        "f2.yaml": ENTRY.format(date="2026-13-01"),
        "g.yaml": "- just a sentence\n- 42\n" + ENTRY.format(date="2026-12-02"),
    }
    errata, problems = load_errata([tmp_path / "none", errata_folder(tmp_path / "bank", bad)], {"a"})
    d = tmp_path / "bank" / "errata"
    assert [p.replace(f"{d}/", "") for p in problems] == [
        problems[0].replace(f"{d}/", ""),  # the YAML parser's own words: checked below
        problems[1].replace(f"{d}/", ""),
        "c.yaml:1: an errata file is a list of entries",
        "d.yaml:1: an errata file is a list of entries",
        "e.yaml:1: field must be one of question, answer, rubric, follow_ups, red_flags",
        "e.yaml:7: field must be one of question, answer, rubric, follow_ups, red_flags",
        "f.yaml:1: date must be YYYY-MM-DD",
        "f.yaml:7: date must be YYYY-MM-DD",
        "f2.yaml:2: invalid YAML: '2026-13-01' is not a valid date (month must be in 1..12)",
        "g.yaml:1: each erratum needs exactly card, date, field, was, now, source",
        "g.yaml:2: each erratum needs exactly card, date, field, was, now, source",
    ]
    assert problems[0].startswith(f"{d}/a.yaml:") and problems[1].startswith(f"{d}/b.yaml:")
    assert [e.date for e in errata["a"]] == [date(2026, 12, 2)]


def test_errata_of_every_bank_folder_are_read_oldest_first(tmp_path):
    first = errata_folder(tmp_path / "one", {"x.yaml": ENTRY.format(date="2026-12-05")})
    second = errata_folder(tmp_path / "two", {"y.yaml": ENTRY.format(date="2026-12-01")})
    errata, problems = load_errata([tmp_path / "no-errata", first, second])
    assert problems == [] and [e.date for e in errata["a"]] == [date(2026, 12, 1), date(2026, 12, 5)]


def test_values_that_yaml_reads_as_numbers_are_kept_as_text(tmp_path):
    text = "- card: a\n  date: 2026-12-01\n  field: answer\n  was: 0.5\n  now: 1\n  source: 2020\n"
    errata, problems = load_errata([errata_folder(tmp_path, {"x.yaml": text})])
    [e] = errata["a"]
    assert problems == [] and (e.was, e.now, e.source) == ("0.5", "1", "2020")
    assert e.line() == '2026-12-01 (answer): was "0.5"; now: 1'
    assert Erratum.from_dict(e.to_dict()) == e


def _card_and_review(at: str, stored_hash: str | None):
    from dlprep.features.errata import notice_for

    card = load_bank().get("alpha")
    return lambda errata: notice_for(card, (at, stored_hash), errata)


def _errata(*days: int) -> dict:
    return {"alpha": [Erratum("alpha", date(2026, 11, d), "answer", "old", "new", "s") for d in days]}


def test_a_hashed_review_is_told_of_corrections_from_its_own_day_on(small_bank):
    notice = _card_and_review("2026-11-20T10:00:00+01:00", "an-older-hash")
    found = notice(_errata(19, 20, 21))
    assert [e.date.day for e in found.errata] == [20, 21]  # a fix made that day may have come after the review
    assert found.lines() == [
        "Corrected since your last review (2026-11-20):",
        '  2026-11-20 (answer): was "old"; now: new',
        '  2026-11-21 (answer): was "old"; now: new',
    ]
    edited = notice(_errata(19))  # the card changed, but no erratum explains it
    assert edited.errata == () and edited.lines() == ["This card was edited since your last review (2026-11-20)."]
    assert edited.to_dict() == {"card": "alpha", "last_review": "2026-11-20T10:00:00+01:00", "errata": []}


def test_the_same_hash_means_nothing_changed(small_bank):
    current = load_bank().get("alpha").content_hash
    assert _card_and_review("2026-11-20T10:00:00+01:00", current)(_errata(21)) is None
    assert _card_and_review("2026-11-20T10:00:00+01:00", None)({}) is None


def test_an_old_review_without_a_hash_is_told_only_of_corrections_after_its_day(small_bank):
    notice = _card_and_review("2026-11-20T10:00:00+01:00", None)
    assert notice(_errata(19, 20)) is None  # the same day: it cannot be known which came first
    assert [e.date.day for e in notice(_errata(20, 21)).errata] == [21]
