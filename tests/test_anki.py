"""Anki export: one note per card, stable identities, HTML that keeps the card's text."""

from __future__ import annotations

import sqlite3
import zipfile

import pytest

pytest.importorskip("genanki")

from dlprep.features.anki import markdown_to_html

pytestmark = pytest.mark.usefixtures("small_bank")


def notes(path, tmp_path):
    zipfile.ZipFile(path).extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        return {
            flds.split("\x1f")[0]: (guid, flds.split("\x1f"), tags.split())
            for guid, flds, tags in db.execute("SELECT guid, flds, tags FROM notes")
        }
    finally:
        db.close()


def test_export_writes_one_note_per_card(cli, tmp_path):
    deck = tmp_path / "deck.apkg"
    result = cli("export", "anki", str(deck))
    assert result.exit_code == 0 and "wrote 3 card(s)" in result.stderr
    found = notes(deck, tmp_path)
    assert set(found) == {"alpha", "beta", "gamma"}
    _, fields, tags = found["alpha"]
    assert fields[2] == "What is alpha? Shape [batch, seq, dim]."
    assert "[brackets]" in fields[3]
    assert "Names alpha <i>(weight 3)</i>" in fields[4]
    assert "Why not beta?" in fields[5] and "Alpha is last." in fields[6]
    assert {"dlprep::basics", "junior", "concept", "why-not"} <= set(tags)


def test_the_deck_says_it_carries_cards_not_progress_and_every_card_is_new(cli, tmp_path, clock):
    assert cli("review", "alpha", "--grade", "5").exit_code == 0
    deck = tmp_path / "deck.apkg"
    result = cli("export", "anki", str(deck))
    said = " ".join(result.stderr.split())
    assert said == (
        f"wrote 3 card(s) to {deck} (deck 'dlprep'): cards only, not your dlprep progress (they arrive as new); "
        "import it in Anki with File > Import"
    )
    zipfile.ZipFile(deck).extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    try:  # genanki writes no scheduling: type 0 (new), no interval, ease or reviews, even for a reviewed card
        assert set(db.execute("SELECT type, queue, ivl, factor, reps FROM cards")) == {(0, 0, 0, 0, 0)}
    finally:
        db.close()


def test_export_without_a_subcommand_still_takes_an_apkg_path(cli, tmp_path):
    deck = tmp_path / "old-style.apkg"
    result = cli("export", str(deck), "--topic", "advanced")
    assert result.exit_code == 0 and set(notes(deck, tmp_path)) == {"gamma"}
    unknown = cli("export", "deck.txt")
    assert unknown.exit_code == 2 and "No such command 'deck.txt'" in unknown.stderr


def test_reexport_keeps_note_identities(cli, tmp_path):
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    cli("export", str(first))
    cli("export", str(second))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = notes(first, tmp_path / "a"), notes(second, tmp_path / "b")
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}


def test_export_filters_and_refuses_other_suffixes(cli, tmp_path):
    deck = tmp_path / "deck.apkg"
    assert cli("export", str(deck), "--topic", "advanced").exit_code == 0
    assert set(notes(deck, tmp_path)) == {"gamma"}
    bad = cli("export", "anki", str(tmp_path / "deck.txt"))
    assert bad.exit_code == 2 and "must end in .apkg" in bad.stderr
    none = cli("export", "anki", str(deck), "--role", "cv", "--difficulty", "junior")
    assert none.exit_code == 1 and none.stderr == "error: no cards match those filters\n"


def test_export_without_genanki_is_one_line(cli, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_genanki(name, *args, **kwargs):
        if name == "genanki":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_genanki)
    result = cli("export", str(tmp_path / "deck.apkg"))
    assert result.exit_code == 1
    assert result.stderr == "error: Anki export needs genanki: pip install 'dlprep[anki]'\n"


def test_markdown_to_html_covers_the_banks_markdown():
    text = (
        "Intro with `code` and **bold** <tag>.\n\n"
        "    Q = X W_Q   (n x d_k)\n    K = X W_K\n\n"
        "1. first\n2. second\n   continued\n\n"
        "- a\n- b\n\n"
        "```\nx = 1 < 2\n```"
    )
    assert markdown_to_html(text) == (
        "<p>Intro with <code>code</code> and <b>bold</b> &lt;tag&gt;.</p>\n"
        "<pre>Q = X W_Q   (n x d_k)\nK = X W_K</pre>\n"
        "<ol><li>first</li><li>second continued</li></ol>\n"
        "<ul><li>a</li><li>b</li></ul>\n"
        "<pre>x = 1 &lt; 2</pre>"
    )


def test_markdown_to_html_italic_and_bold_but_maths_stays_maths():
    text = (
        "- *Dead units:* a unit whose _pre-activation_ is below zero on **every** input.\n"
        "- Maths: a * b, x_i + y_j, 2*x*y, ||w||_1 <= t, log_softmax(z)_i and `a*b*c`.\n"
        "- Escaped \\*stars\\* and **bold with `code` inside**."
    )
    assert markdown_to_html(text) == (
        "<ul><li><i>Dead units:</i> a unit whose <i>pre-activation</i> is below zero on <b>every</b> input.</li>"
        "<li>Maths: a * b, x_i + y_j, 2*x*y, ||w||_1 &lt;= t, log_softmax(z)_i and <code>a*b*c</code>.</li>"
        "<li>Escaped *stars* and <b>bold with </b><b><code>code</code></b><b> inside</b>.</li></ul>"
    )


def test_every_answer_in_the_bank_loses_its_emphasis_markers_in_anki(monkeypatch):
    import re

    from dlprep.core.bank import load_bank

    monkeypatch.delenv("DLPREP_BUNDLED_BANK")  # the bundled bank, not the fixture
    cards = load_bank().cards
    assert len(cards) > 100
    for card in cards:
        body = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", markdown_to_html(card.answer), flags=re.S)
        assert not re.search(r"(?<![\w*])\*(?=\w)|\*\*", body), card.id
