"""Errata: the log is valid, and a user who studied a card before it was
corrected is told so in `card`, the quiz and `today`."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from dlprep.core.bank import load_bank
from dlprep.core.errata import FIELDS, load_errata
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
