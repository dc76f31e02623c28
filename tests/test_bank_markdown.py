"""`dlprep export md`: the bank as markdown, one file per topic in dependency order."""

from __future__ import annotations

import json

import pytest

from dlprep.features.bank_markdown import topic_file_name

pytestmark = pytest.mark.usefixtures("small_bank")


def test_one_file_per_topic_in_dependency_order_and_an_index(cli, tmp_path):
    out = tmp_path / "md"
    result = cli("export", "md", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert " ".join(result.stderr.split()) == f"wrote 3 card(s) in 2 topic file(s) and an index to {out}"
    assert sorted(p.name for p in out.iterdir()) == ["01-basics.md", "02-advanced.md", "index.md"]
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "1. [Basics](01-basics.md) (2 cards): A tiny topic for tests." in index
    assert "2. [Advanced](02-advanced.md) (1 cards)" in index


def test_a_card_keeps_all_its_parts_and_its_text_as_written(cli, tmp_path):
    out = tmp_path / "md"
    cli("export", "md", "-o", str(out))
    text = (out / "01-basics.md").read_text(encoding="utf-8")
    assert text.startswith("# Basics\n\n_A tiny topic for tests._\n")
    alpha = text[text.index("## What is alpha?") : text.index("## What is beta?")]
    for part in (
        "## What is alpha? Shape [batch, seq, dim].",  # user text: brackets kept
        "`alpha` · junior · concept · mle, nlp",
        "### Answer\n\nAlpha is the first card. It keeps its [brackets] in the terminal.",
        "### Rubric\n\n1. Names alpha (weight 3)\n2. Says it is first (weight 1)\n3. Mentions [brackets] (weight 1)",
        "### Follow-ups\n\n**Why not beta?**\n\nBeta comes second.\n\n**How would you know?**\n\nLook at the order.",
        "### Red flags\n\n- Alpha is last.",
        "demo: `dlprep show sigmoid-derivative` · see also: `beta`",
    ):
        assert part in alpha, part
    assert "Builds on: Basics" in (out / "02-advanced.md").read_text(encoding="utf-8")


def test_json_lists_the_files_and_a_file_in_the_way_is_one_line(cli, tmp_path):
    data = json.loads(cli("export", "md", "-o", str(tmp_path / "md"), "--json").stdout)
    assert data["cards"] == 3 and [p.rsplit("/", 1)[1] for p in data["files"]] == [
        topic_file_name(1, "basics"),
        topic_file_name(2, "advanced"),
        "index.md",
    ]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("export", "md", "-o", str(blocker))
    assert result.exit_code == 1
    assert result.stderr == f"error: {blocker}: is a file; give a folder for the markdown export\n"
