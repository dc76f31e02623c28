"""The 10-question diagnostic on the bundled bank: one card per core topic."""

from __future__ import annotations

import json

from dlprep.core.bank import load_bank
from dlprep.features.assess import CORE_TOPICS, diagnostic_cards


def test_diagnostic_picks_one_mid_card_per_core_topic(tmp_path):
    from dlprep.core.store import Store

    bank = load_bank()
    cards = diagnostic_cards(bank, Store.open(tmp_path / "d.db"))
    assert [c.topic for c in cards] == list(CORE_TOPICS)
    assert all(c.difficulty == "mid" for c in cards)


def test_diagnostic_recommends_first_weak_topic_in_dependency_order(cli, clock):
    strong = "\n".join(["", "a", "", "y", ""])  # reveal, all points, follow-up got, accept
    weak = "\n".join(["", "", "", "n", ""])  # reveal, no points, follow-up missed, accept
    script = "\n".join([strong] + [weak] * 9) + "\n"
    result = cli("assess", "--diagnostic", "--json", input=script)
    assert result.exit_code == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["coverage"]["backprop"] == 1.0
    assert data["start_with"] == "activations"
    assert data["weak_topics"][:2] == ["activations", "cnns"] and "backprop" not in data["weak_topics"]
