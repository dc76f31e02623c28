"""The bundled bank meets the content standard: strict validation, enough
cards per topic, complete cards, spread over levels, kinds and patterns, and
a cheat sheet for every topic."""

from __future__ import annotations

from collections import Counter

import pytest

from dlprep.core.bank import PATTERNS, check_bank, load_bank
from dlprep.paths import bundled_bank_dir

MINIMUM = {
    "fundamentals": 20,
    "backprop": 20,
    "activations": 20,
    "cnns": 20,
    "rnns": 20,
    "normalization": 20,
    "attention": 20,
    "transformers": 20,
    "training": 20,
    "distributed": 20,
    "generative": 20,
    "production": 25,
    "llms": 40,
    "design": 25,
}


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def test_bundled_bank_passes_strict_validation():
    _, problems = check_bank(folders=[bundled_bank_dir()], strict=True)
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize(("topic", "minimum"), MINIMUM.items())
def test_enough_cards_per_topic(bank, topic, minimum):
    assert len(bank.cards_in(topic)) >= minimum


def test_topics_are_the_briefs_in_dependency_order(bank):
    assert bank.topic_order() == list(MINIMUM)


@pytest.mark.parametrize("topic", MINIMUM)
def test_cards_spread_over_levels_and_patterns(bank, topic):
    cards = bank.cards_in(topic)
    levels = Counter(c.difficulty for c in cards)
    assert set(levels) == {"junior", "mid", "senior"}, levels
    if topic != "design":  # design cards are design and behavioural by nature
        assert len({c.kind for c in cards}) >= 3
        assert len({c.pattern for c in cards if c.pattern}) >= 3


def test_every_pattern_appears_in_the_bank(bank):
    assert {c.pattern for c in bank.cards if c.pattern} == set(PATTERNS)


def test_rubrics_weigh_the_most_important_point_most(bank):
    # Weights are integers >= 1 and each rubric has a strictly heaviest or tied-heaviest first-class point:
    # at least one point must weigh more than the lightest, so weighting says something.
    flat = [c.id for c in bank.cards if len({p.weight for p in c.rubric}) == 1]
    assert len(flat) <= len(bank.cards) // 10, f"{len(flat)} cards weigh every rubric point the same: {flat[:10]}"


@pytest.mark.parametrize("topic", MINIMUM)
def test_every_topic_has_a_cheat_sheet(bank, topic):
    sheet = bank.topics[topic].cheatsheet
    assert len(sheet.formulas) >= 3 or topic == "design"
    assert len(sheet.summaries) >= 5
    assert len(sheet.traps) >= 5


def test_production_sheet_has_the_symptom_table(bank):
    sheet = bank.topics["production"].cheatsheet
    assert sheet.table_columns == ("symptom", "likely causes")
    symptoms = " ".join(r[0].lower() for r in sheet.table_rows)
    for needle in ("nan", "plateau", "oscillat", "chance", "8 gpus"):
        assert needle in symptoms, needle


def test_study_paths_for_every_role(bank):
    assert set(bank.paths) == {"mle", "nlp", "cv", "research", "startup"}
    assert bank.paths["mle"].days == 21 and bank.paths["nlp"].days == 14 and bank.paths["research"].days == 28


def test_ids_are_unique_and_questions_distinct(bank):
    questions = Counter(c.question.strip().lower() for c in bank.cards)
    assert [q for q, n in questions.items() if n > 1] == []
