"""One bad fixture per validation rule; each asserts the exact message and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from dlprep.core.bank import check_bank, load_bank

TOPICS = """\
topics:
  - id: basics
    title: Basics
    order: 1
    summary: Test topic.
    prerequisites: []
"""

GOOD_CARD = """\
  - id: good-card
    question: What is it?
    answer: It is good.
    rubric:
      - point: One
        weight: 2
      - point: Two
        weight: 1
      - point: Three
        weight: 1
"""


def make_bank(tmp_path: Path, cards: str, topics: str = TOPICS, name: str = "basics.yaml") -> Path:
    folder = tmp_path / "bank"
    folder.mkdir(exist_ok=True)
    (folder / "topics.yaml").write_text(topics)
    (folder / name).write_text("topic: basics\ncards:\n" + textwrap.dedent(cards))
    return folder


def problems_for(folder: Path, strict: bool = False) -> list[str]:
    _, problems = check_bank(folders=[folder], strict=strict)
    return [str(p).replace(str(folder) + "/", "") for p in problems]


def card(extra: str = "", drop: str | None = None, card_id: str = "c1") -> str:
    """A valid card with lines added (``extra``) or a key removed (``drop``)."""
    lines = [
        f"  - id: {card_id}",
        "    question: Why?",
        "    answer: Because.",
        "    rubric:",
        "      - point: A",
        "        weight: 2",
        "      - point: B",
        "        weight: 1",
        "      - point: C",
        "        weight: 1",
    ]
    if drop:
        lines = [ln for ln in lines if not ln.strip().startswith(f"{drop}:") and not ln.startswith(f"  - {drop}:")]
    return "\n".join(lines) + "\n" + textwrap.indent(textwrap.dedent(extra), "    ")


def test_valid_bank_has_no_problems(tmp_path):
    assert problems_for(make_bank(tmp_path, GOOD_CARD)) == []


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (card("anwser: typo\n"), "basics.yaml:13: c1: unknown key 'anwser' in card (did you mean 'answer'?)"),
        (card(drop="answer"), "basics.yaml:3: c1: missing required key 'answer'"),
        (card(drop="question"), "basics.yaml:3: c1: missing required key 'question'"),
        (card("difficulty: easy\n"), "basics.yaml:13: c1: 'difficulty' must be one of junior, mid, senior, got 'easy'"),
        (
            card("kind: essay\n"),
            "basics.yaml:13: c1: 'kind' must be one of concept, derivation, implementation, design, debugging, behavioral, got 'essay'",
        ),
        (
            card("pattern: guess\n"),
            "basics.yaml:13: c1: 'pattern' must be one of derive-then-scale, why-not, connect-the-dots, debug-the-run, got 'guess'",
        ),
        (card("time_target_s: 5\n"), "basics.yaml:13: c1: 'time_target_s' must be an integer from 10 to 600, got 5"),
        (
            card("time_target_s: fast\n"),
            "basics.yaml:13: c1: 'time_target_s' must be an integer from 10 to 600, got 'fast'",
        ),
        (
            card("roles: [mle, chef]\n"),
            "basics.yaml:13: c1: 'roles' must be a non-empty subset of mle, nlp, cv, research, startup, got ['mle', 'chef']",
        ),
        (card("roles: [mle, mle]\n"), "basics.yaml:13: c1: 'roles' lists a role twice"),
        (card("red_flags: not-a-list\n"), "basics.yaml:13: c1: 'red_flags' must be a list of non-empty strings"),
        (card("references: 7\n"), "basics.yaml:13: c1: 'references' must be a list of registry keys"),
        (card("follow_ups:\n  - question: Why not X?\n"), "basics.yaml:14: c1: missing required key 'answer'"),
        (card("follow_ups: nope\n"), "basics.yaml:13: c1: 'follow_ups' must be a list of question/answer pairs"),
        (card("question: twice\n"), "basics.yaml:13: duplicate key 'question'"),
        (card(card_id="Bad_Id"), "basics.yaml:3: Bad_Id: id 'Bad_Id' must be kebab-case (a-z, 0-9, single hyphens)"),
        (card("see_also: [nowhere]\n"), "basics.yaml:13: c1: see_also 'nowhere' is not a card id"),
        (card("show_me: no-such-demo\n"), "basics.yaml:13: c1: show_me 'no-such-demo' is not a demo id"),
        (card() + card(card_id="c1"), "basics.yaml:13: c1: duplicate id (first defined at basics.yaml:3)"),
    ],
    ids=[
        "unknown-key",
        "missing-answer",
        "missing-question",
        "bad-difficulty",
        "bad-kind",
        "bad-pattern",
        "time-out-of-range",
        "time-wrong-type",
        "unknown-role",
        "repeated-role",
        "red-flags-type",
        "references-type",
        "follow-up-missing-answer",
        "follow-ups-type",
        "duplicate-key",
        "bad-id",
        "see-also-nowhere",
        "show-me-nowhere",
        "duplicate-id",
    ],
)
def test_card_rule(tmp_path, cards, expected):
    assert problems_for(make_bank(tmp_path, cards)) == [expected]


RUBRIC_HEAD = "  - id: c1\n    question: Why?\n    answer: Because.\n"


@pytest.mark.parametrize(
    ("rubric", "expected"),
    [
        ("    rubric: []\n", "basics.yaml:6: c1: 'rubric' must be a list of 3-6 points, got 0"),
        (
            "    rubric:\n      - point: A\n        weight: 1\n      - point: B\n        weight: 1\n",
            "basics.yaml:6: c1: 'rubric' must be a list of 3-6 points, got 2",
        ),
        (
            "    rubric:\n" + "      - point: A\n        weight: 1\n" * 7,
            "basics.yaml:6: c1: 'rubric' must be a list of 3-6 points, got 7",
        ),
        (
            "    rubric:\n      - point: A\n        weight: 0\n      - point: B\n        weight: 1\n      - point: C\n        weight: 1\n",
            "basics.yaml:8: c1: 'weight' must be an integer >= 1, got 0",
        ),
        (
            "    rubric:\n      - point: A\n        weight: 1.5\n      - point: B\n        weight: 1\n      - point: C\n        weight: 1\n",
            "basics.yaml:8: c1: 'weight' must be an integer >= 1, got 1.5",
        ),
        (
            "    rubric:\n      - point: A\n      - point: B\n        weight: 1\n      - point: C\n        weight: 1\n",
            "basics.yaml:7: c1: rubric[1]: missing required key 'weight'",
        ),
        (
            "    rubric:\n      - point: ''\n        weight: 1\n      - point: B\n        weight: 1\n      - point: C\n        weight: 1\n",
            "basics.yaml:7: c1: 'point' must be a non-empty string",
        ),
        (
            "    rubric:\n      - just text\n      - point: B\n        weight: 1\n      - point: C\n        weight: 1\n",
            "basics.yaml:6: c1: rubric[1] must be a mapping with 'point' and 'weight'",
        ),
    ],
    ids=["empty", "too-few", "too-many", "zero-weight", "float-weight", "missing-weight", "empty-point", "not-mapping"],
)
def test_rubric_rule(tmp_path, rubric, expected):
    assert problems_for(make_bank(tmp_path, RUBRIC_HEAD + rubric)) == [expected]


def test_missing_rubric(tmp_path):
    assert problems_for(make_bank(tmp_path, RUBRIC_HEAD)) == ["basics.yaml:3: c1: missing required key 'rubric'"]


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    cards = card("difficulty: easy\nkind: essay\n") + card(card_id="c2", drop="answer")
    found = problems_for(make_bank(tmp_path, cards))
    assert found == [
        "basics.yaml:13: c1: 'difficulty' must be one of junior, mid, senior, got 'easy'",
        "basics.yaml:14: c1: 'kind' must be one of concept, derivation, implementation, design, debugging, behavioral, got 'essay'",
        "basics.yaml:15: c2: missing required key 'answer'",
    ]


def test_malformed_yaml_gives_line_and_column(tmp_path):
    folder = make_bank(tmp_path, GOOD_CARD)
    (folder / "broken.yaml").write_text("topic: basics\ncards:\n  - id: x\n    question: [unclosed\n")
    found = problems_for(folder)
    assert len(found) == 1
    assert found[0].startswith("broken.yaml:5:1: invalid YAML:")


def test_topic_file_shape_errors(tmp_path):
    folder = make_bank(tmp_path, GOOD_CARD)
    (folder / "empty.yaml").write_text("")
    (folder / "list.yaml").write_text("- a\n- b\n")
    (folder / "nocards.yaml").write_text("topic: basics\n")
    (folder / "wrongtopic.yaml").write_text("topic: basic\ncards: []\n")
    assert sorted(problems_for(folder)) == [
        "empty.yaml:1: empty file: expected 'topic' and 'cards'",
        "list.yaml:1: a topic file must be a mapping with 'topic' and 'cards'",
        "nocards.yaml:1: missing required key 'cards'",
        "wrongtopic.yaml:1: unknown topic 'basic' (did you mean 'basics'?): add it to a topics.yaml",
    ]


def test_prerequisite_that_points_nowhere(tmp_path):
    topics = TOPICS.replace("prerequisites: []", "prerequisites: [calculus]")
    assert problems_for(make_bank(tmp_path, GOOD_CARD, topics)) == [
        "topics.yaml: topic 'basics': prerequisite 'calculus' is not a topic"
    ]


def test_prerequisite_cycle(tmp_path):
    topics = TOPICS.replace("prerequisites: []", "prerequisites: [extra]") + (
        "  - id: extra\n    title: Extra\n    order: 2\n    summary: More.\n    prerequisites: [basics]\n"
    )
    assert problems_for(make_bank(tmp_path, GOOD_CARD, topics)) == [
        "topics.yaml: prerequisite cycle: basics -> extra -> basics"
    ]


def test_study_path_with_unknown_topic(tmp_path):
    topics = (
        TOPICS
        + "paths:\n  - role: mle\n    title: T\n    days: 7\n    stages:\n      - label: W1\n        topics: [nope]\n"
    )
    assert problems_for(make_bank(tmp_path, GOOD_CARD, topics)) == [
        "topics.yaml: path 'mle': stage 'W1' names unknown topic 'nope'"
    ]


def test_duplicate_ids_across_files(tmp_path):
    folder = make_bank(tmp_path, card())
    (folder / "second.yaml").write_text("topic: basics\ncards:\n" + card())
    assert problems_for(folder) == ["second.yaml:3: c1: duplicate id (first defined at basics.yaml:3)"]


def test_strict_content_rules(tmp_path):
    found = problems_for(make_bank(tmp_path, card()), strict=True)
    assert found == [
        "basics.yaml:3: c1: missing key 'difficulty' (required by --strict)",
        "basics.yaml:3: c1: missing key 'kind' (required by --strict)",
        "basics.yaml:3: c1: missing key 'roles' (required by --strict)",
        "basics.yaml:3: c1: missing key 'time_target_s' (required by --strict)",
        "basics.yaml:5: c1: answer has 1 words; --strict wants 80-300",
        "basics.yaml:3: c1: needs at least one follow-up (required by --strict)",
        "basics.yaml:3: c1: needs at least one red flag (required by --strict)",
        "basics.yaml:3: c1: needs at least one reference (required by --strict)",
    ]


def test_load_bank_raises_with_every_problem(tmp_path, monkeypatch):
    from dlprep.core.bank import BankError

    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(make_bank(tmp_path, card("kind: essay\ndifficulty: easy\n"))))
    with pytest.raises(BankError) as info:
        load_bank()
    assert len(info.value.problems) == 2
    assert "(and 1 more; run `dlprep validate`)" in str(info.value)


def test_load_bank_with_one_problem_names_it_alone(tmp_path, monkeypatch):
    from dlprep.core.bank import BankError

    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(make_bank(tmp_path, card("kind: essay\n"))))
    with pytest.raises(BankError) as info:
        load_bank()
    assert str(info.value) == (
        f"{tmp_path}/bank/basics.yaml:13: c1: 'kind' must be one of concept, derivation, implementation, design,"
        " debugging, behavioral, got 'essay'"
    )


def test_validate_command_reports_and_exits_nonzero(tmp_path, cli):
    folder = make_bank(tmp_path, card("difficulty: easy\n"))
    result = cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stdout.strip().endswith(
        "basics.yaml:13: c1: 'difficulty' must be one of junior, mid, senior, got 'easy'"
    )
    assert "Traceback" not in result.output


def test_validate_json(tmp_path, cli):
    folder = make_bank(tmp_path, card("difficulty: easy\n"))
    result = cli("validate", str(folder), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["problems"] == [
        {
            "path": str(folder / "basics.yaml"),
            "line": 13,
            "column": 0,
            "card": "c1",
            "message": "'difficulty' must be one of junior, mid, senior, got 'easy'",
        }
    ]


def test_validate_single_file_resolves_references_against_bundled_bank(tmp_path, cli, small_bank):
    extra = tmp_path / "mine.yaml"
    extra.write_text("topic: basics\ncards:\n" + card("see_also: [alpha]\nshow_me: sigmoid-derivative\n"))
    result = cli("validate", str(extra))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok:")


def test_bad_yaml_in_bank_is_one_line_for_every_command(tmp_path, cli, monkeypatch):
    folder = make_bank(tmp_path, GOOD_CARD)
    (folder / "broken.yaml").write_text("topic: basics\ncards: [\n")
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(folder))
    for args in (["topics"], ["cards"], ["quiz"], ["today"]):
        result = cli(*args)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {folder}/broken.yaml:3:1: invalid YAML")


def test_extra_bank_is_merged_and_ids_stay_unique(tmp_path, cli, small_bank):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "extra.yaml").write_text("topic: basics\ncards:\n" + card(card_id="my-card") + card(card_id="alpha"))
    result = cli("--bank", str(mine), "cards", "--json")
    assert result.exit_code == 1
    assert "alpha: duplicate id (first defined at" in result.stderr
    (mine / "extra.yaml").write_text("topic: basics\ncards:\n" + card(card_id="my-card"))
    ids = [c["id"] for c in cli.json("--bank", str(mine), "cards")]
    assert ids == ["alpha", "beta", "my-card", "gamma"]


def test_extra_bank_from_config_file(tmp_path, cli, small_bank, dlprep_home):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "extra.yaml").write_text("topic: basics\ncards:\n" + card(card_id="from-config"))
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "config.yaml").write_text(f"banks: [{mine}]\n")
    assert "from-config" in [c["id"] for c in cli.json("cards")]


def test_bad_config_is_one_line(cli, small_bank, dlprep_home):
    dlprep_home.mkdir(parents=True)
    (dlprep_home / "config.yaml").write_text("new_per_day: lots\n")
    result = cli("today")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {dlprep_home}/config.yaml: 'new_per_day' must be a whole number from 0 to 1000, got 'lots'"
    )


def test_the_documented_example_card_is_the_real_one():
    import re

    import yaml

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "card-format.md").read_text()
    example = yaml.safe_load(re.search(r"```yaml\n(topic: activations.+?)```", doc, re.S).group(1))
    bank = yaml.safe_load((root / "questions" / "activations.yaml").read_text())
    [doc_card] = example["cards"]
    assert doc_card == next(c for c in bank["cards"] if c["id"] == doc_card["id"])


# ---------------------------------------------------------------- the reference registry

REGISTRY = """\
references:
  he2016resnet:
    title: Deep Residual Learning for Image Recognition
    authors: He, Zhang, Ren & Sun
    year: 2016
    venue: CVPR 2016
    arxiv: "1512.03385"
  goodfellow2016deep:
    type: book
    title: Deep Learning
    authors: Goodfellow, Bengio & Courville
    year: 2016
    venue: MIT Press
  pytorch-nn-lstm:
    type: docs
    title: torch.nn.LSTM
    venue: PyTorch documentation
    url: https://docs.pytorch.org/docs/stable/generated/torch.nn.LSTM.html
"""


def registry_bank(tmp_path, refs: str, registry: str = REGISTRY, cards: str | None = None) -> Path:
    folder = make_bank(tmp_path, cards or card("references:\n" + textwrap.indent(refs, "      ")))
    (folder / "references.yaml").write_text(registry)
    return folder


def ref_problems(folder: Path, strict: bool) -> list[str]:
    """Problems about references only (the fixture card is not complete enough for --strict)."""
    return [p for p in problems_for(folder, strict) if "reference" in p or "cites" in p]


ALL_CITED = "- he2016resnet\n- key: goodfellow2016deep\n  at: chapter 8\n- pytorch-nn-lstm\n"


def test_registry_keys_resolve_with_locators(tmp_path):
    folder = registry_bank(tmp_path, ALL_CITED)
    assert ref_problems(folder, strict=True) == []
    bank, _ = check_bank(folders=[folder])
    c = bank.get("c1")
    assert [(x.key, x.at) for x in c.references] == [
        ("he2016resnet", ""),
        ("goodfellow2016deep", "chapter 8"),
        ("pytorch-nn-lstm", ""),
    ]
    assert bank.cite(c.references[0]) == (
        "He, Zhang, Ren & Sun 2016. Deep Residual Learning for Image Recognition. CVPR 2016."
        " https://arxiv.org/abs/1512.03385"
    )
    assert bank.cite(c.references[1]) == "Goodfellow, Bengio & Courville 2016. Deep Learning. MIT Press. (chapter 8)"
    assert bank.cite(c.references[2]).endswith(
        "PyTorch documentation. https://docs.pytorch.org/docs/stable/generated/torch.nn.LSTM.html"
    )


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ("- he2016resnt\n", "reference 'he2016resnt' is not in any references.yaml (did you mean 'he2016resnet'?)"),
        ("- key: nowhere2020\n  at: section 2\n", "reference 'nowhere2020' is not in any references.yaml"),
    ],
)
def test_unknown_keys_are_refused_even_without_strict(tmp_path, refs, expected):
    problems = problems_for(registry_bank(tmp_path, refs))
    assert problems == [f"basics.yaml:1: c1: {expected}"] or problems == [f"basics.yaml:3: c1: {expected}"]


def test_free_text_references_pass_without_strict_but_not_with_it(tmp_path):
    folder = make_bank(tmp_path, card('references: ["Some Author 2020, A Paper", "Another 2021, B"]\n'))
    assert problems_for(folder) == []
    strict = [p for p in problems_for(folder, strict=True) if "registry key" in p]
    assert len(strict) == 2  # each bad item is reported, not only the first


def test_strict_registry_rules(tmp_path):
    registry = (
        REGISTRY
        + """\
  unused2020paper:
    title: A Paper Nobody Cites
    authors: Nobody
    year: 2020
    venue: arXiv preprint
  he2015resnet:
    title: "Deep residual learning for image recognition."
    authors: He et al.
    year: 2015
    venue: arXiv preprint
"""
    )
    folder = registry_bank(
        tmp_path, "- he2016resnet\n- goodfellow2016deep\n- pytorch-nn-lstm\n- he2015resnet\n", registry
    )
    problems = ref_problems(folder, strict=True)
    assert any("cites the book 'goodfellow2016deep' without a chapter or section" in p for p in problems)
    assert any("reference 'unused2020paper' is not cited by any card" in p for p in problems)
    assert any("reference 'he2015resnet' is the same work as 'he2016resnet'" in p for p in problems)
    assert len(problems) == 3
    # None of these are problems outside --strict.
    assert problems_for(folder) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("    authors: X\n    year: 2020\n    venue: V\n", "missing required key 'title'"),
        ("    title: T\n    year: 2020\n    venue: V\n", "missing required key 'authors'"),
        ("    title: T\n    authors: X\n    venue: V\n", "missing required key 'year'"),
        ("    title: T\n    authors: X\n    year: 2020\n", "missing required key 'venue'"),
        ("    type: docs\n    title: T\n    venue: V\n", "missing required key 'url'"),
        ("    type: blog\n    title: T\n    authors: X\n    year: 2020\n    venue: V\n", "'type' must be one of"),
        ("    title: T\n    authors: X\n    year: 2020\n    venue: V\n    arxiv: '17.0'\n", "is not like 1706.03762"),
        ("    title: T\n    authors: X\n    year: 2020\n    venue: V\n    url: www.x.org\n", "url must start with"),
        ("    title: T\n    authors: X\n    year: 20\n    venue: V\n", "'year' must be an integer"),
        ("    title: T\n    authors: X\n    year: 2020\n    venue: V\n    doi: x\n", "unknown key 'doi'"),
    ],
)
def test_registry_entry_rules(tmp_path, entry, expected):
    registry = "references:\n  x2020:\n" + entry
    folder = registry_bank(tmp_path, "- x2020\n", registry)
    problems = problems_for(folder)
    assert any(expected in p and p.startswith("references.yaml:") for p in problems), problems


def test_a_key_defined_in_two_registries_is_refused(tmp_path):
    folder = registry_bank(tmp_path, ALL_CITED)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "references.yaml").write_text(REGISTRY)
    _, problems = check_bank(folders=[folder, extra])
    assert sum("is defined twice" in str(p) for p in problems) == 3


# ---------------------------------------------------------------- two bad items in one list: each is reported

TWO_RUBRIC_POINTS_BAD = "    rubric:\n      - just text\n      - more text\n      - point: C\n        weight: 1\n"
TWO_WEIGHTS_MISSING = "    rubric:\n      - point: A\n      - point: B\n      - point: C\n        weight: 1\n"


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (
            RUBRIC_HEAD + TWO_RUBRIC_POINTS_BAD,
            [
                "basics.yaml:6: c1: rubric[1] must be a mapping with 'point' and 'weight'",
                "basics.yaml:6: c1: rubric[2] must be a mapping with 'point' and 'weight'",
            ],
        ),
        (
            RUBRIC_HEAD + TWO_WEIGHTS_MISSING,
            [
                "basics.yaml:7: c1: rubric[1]: missing required key 'weight'",
                "basics.yaml:8: c1: rubric[2]: missing required key 'weight'",
            ],
        ),
        (
            card("follow_ups:\n  - just text\n  - more text\n"),
            [
                "basics.yaml:13: c1: follow_ups[1] must be a mapping with 'question' and 'answer'",
                "basics.yaml:13: c1: follow_ups[2] must be a mapping with 'question' and 'answer'",
            ],
        ),
        (
            card("references:\n  - key: Bad Key\n  - key: Also_Bad\n"),
            [
                "basics.yaml:14: c1: references[1]: 'Bad Key' is not a registry key",
                "basics.yaml:15: c1: references[2]: 'Also_Bad' is not a registry key",
            ],
        ),
        (
            card("references: [1, 2.5]\n"),
            [
                "basics.yaml:13: c1: references[1] must be a key or a mapping with 'key' and 'at'",
                "basics.yaml:13: c1: references[2] must be a key or a mapping with 'key' and 'at'",
            ],
        ),
        (
            card("anwser: typo\nzzz: x\n"),
            [
                "basics.yaml:13: c1: unknown key 'anwser' in card (did you mean 'answer'?)",
                "basics.yaml:14: c1: unknown key 'zzz' in card",
            ],
        ),
        (
            "  - just a sentence\n  - 42\n" + card(),
            [
                "basics.yaml:3: card #1 must be a mapping with id, question, answer and rubric, got a plain string",
                "basics.yaml:4: card #2 must be a mapping with id, question, answer and rubric, got int",
            ],
        ),
    ],
    ids=["rubric-not-mappings", "rubric-weights", "follow-ups", "citation-keys", "citation-types", "keys", "cards"],
)
def test_two_bad_items_in_one_list_are_both_reported(tmp_path, cards, expected):
    assert problems_for(make_bank(tmp_path, cards)) == expected


def test_two_bad_citations_are_both_reported_under_strict(tmp_path):
    found = [
        p
        for p in problems_for(make_bank(tmp_path, card("references: [Free Text, More Text]\n")), True)
        if "registry key" in p
    ]
    assert found == [
        "basics.yaml:13: c1: references[1] must be a registry key (--strict), got 'Free Text'",
        "basics.yaml:13: c1: references[2] must be a registry key (--strict), got 'More Text'",
    ]


ENTRY = "    title: T\n    authors: X\n    year: 2020\n    venue: V\n"


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        (
            "references:\n  Bad_Key:\n" + ENTRY + "  Worse Key:\n" + ENTRY,
            [
                "references.yaml:2: reference key 'Bad_Key' must be lowercase a-z, 0-9 and hyphens",
                "references.yaml:7: reference key 'Worse Key' must be lowercase a-z, 0-9 and hyphens",
            ],
        ),
        (
            "references:\n  x2020: just text\n  y2020: more text\n",
            [
                "references.yaml:2: reference 'x2020' must be a mapping",
                "references.yaml:3: reference 'y2020' must be a mapping",
            ],
        ),
        (
            "references:\n  x2020:\n    title: T\n    year: 2020\n    venue: V\n  y2020:\n    title: T\n    year: 2020\n    venue: V\n",
            ["references.yaml:3: missing required key 'authors'", "references.yaml:7: missing required key 'authors'"],
        ),
    ],
    ids=["keys", "not-mappings", "incomplete"],
)
def test_two_bad_registry_entries_are_both_reported(tmp_path, registry, expected):
    folder = registry_bank(tmp_path, "", registry, cards=card())
    assert problems_for(folder) == expected


CHEATSHEET_TOPICS = TOPICS + "    cheatsheet:\n"


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        (
            "      formulas:\n        - name: only a name\n        - formula: only a formula\n",
            [
                "topics.yaml:9: each cheatsheet formula needs exactly 'name' and 'formula'",
                "topics.yaml:10: each cheatsheet formula needs exactly 'name' and 'formula'",
            ],
        ),
        (
            "      table:\n        columns: [a, b]\n        rows:\n          - [x]\n          - [x, y, z]\n          - [x, y]\n",
            [
                "topics.yaml:10: each table row must be a list of 2 strings",
                "topics.yaml:10: each table row must be a list of 2 strings",
            ],
        ),
    ],
    ids=["formulas", "table-rows"],
)
def test_two_bad_cheatsheet_items_are_both_reported(tmp_path, sheet, expected):
    found = problems_for(make_bank(tmp_path, GOOD_CARD, CHEATSHEET_TOPICS + sheet))
    assert found == [
        *expected,
        "basics.yaml:1: unknown topic 'basics': add it to a topics.yaml",
    ]  # the topic is refused


def test_two_bad_stages_are_both_reported(tmp_path):
    topics = (
        TOPICS + "paths:\n  - role: mle\n    title: T\n    days: 7\n    stages:\n      - just text\n      - more text\n"
    )
    assert problems_for(make_bank(tmp_path, GOOD_CARD, topics)) == [
        "topics.yaml:11: each stage must be a mapping",
        "topics.yaml:11: each stage must be a mapping",
    ]


def test_two_bad_files_are_both_reported(tmp_path):
    folder = make_bank(tmp_path, GOOD_CARD)
    for name in ("a.yaml", "b.yaml"):
        (folder / name).write_text("topic: basics\ncards: [\n")
    for name in ("c.yaml", "d.yaml"):
        (folder / name).write_text("")
    for name in ("e.yaml", "f.yaml"):
        (folder / name).write_text("- x\n")
    found = problems_for(folder)
    assert [p.split(":")[0] for p in found] == ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml", "f.yaml"]
    assert found[2:4] == [
        "c.yaml:1: empty file: expected 'topic' and 'cards'",
        "d.yaml:1: empty file: expected 'topic' and 'cards'",
    ]


def test_two_missing_folders_and_files_are_all_reported(tmp_path):
    _, problems = check_bank(
        folders=[tmp_path / "no1", tmp_path / "no2"], files=[tmp_path / "x.yaml", tmp_path / "y.yaml"]
    )
    assert [str(p) for p in problems] == [
        f"{tmp_path}/no1: not a folder",
        f"{tmp_path}/no2: not a folder",
        f"{tmp_path}/x.yaml: no such file",
        f"{tmp_path}/y.yaml: no such file",
    ]


def test_two_unknown_references_are_both_reported(tmp_path):
    folder = registry_bank(tmp_path, "- nowhere2020\n- nowhere2021\n")
    assert [p for p in problems_for(folder) if "not in any" in p] == [
        "basics.yaml:3: c1: reference 'nowhere2020' is not in any references.yaml",
        "basics.yaml:3: c1: reference 'nowhere2021' is not in any references.yaml",
    ]


# ---------------------------------------------------------------- bounds at their edges


def words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize(("n", "ok"), [(79, False), (80, True), (300, True), (301, False)])
def test_strict_answer_length_is_80_to_300_words(tmp_path, n, ok):
    found = [
        p for p in problems_for(make_bank(tmp_path, card().replace("Because.", words(n))), strict=True) if "words" in p
    ]
    assert found == ([] if ok else [f"basics.yaml:5: c1: answer has {n} words; --strict wants 80-300"])


def test_answer_length_is_not_checked_without_strict(tmp_path):
    assert problems_for(make_bank(tmp_path, card().replace("Because.", words(301)))) == []


@pytest.mark.parametrize(("seconds", "ok"), [(9, False), (10, True), (600, True), (601, False)])
def test_time_target_is_10_to_600_seconds(tmp_path, seconds, ok):
    found = problems_for(make_bank(tmp_path, card(f"time_target_s: {seconds}\n")))
    assert found == (
        [] if ok else [f"basics.yaml:13: c1: 'time_target_s' must be an integer from 10 to 600, got {seconds}"]
    )
    if ok:
        bank, _ = check_bank(folders=[tmp_path / "bank"])
        assert bank.get("c1").time_target_s == seconds


@pytest.mark.parametrize(
    ("card_id", "ok"),
    [
        *[("a", True), ("a1", True), ("1a", True), ("a-1", True), ("ab-cd-ef", True)],
        *[("-a", False), ("a-", False), ("a--b", False), ("A", False), ("a_b", False), ("a.b", False), ("é", False)],
    ],
)
def test_card_id_pattern(tmp_path, card_id, ok):
    found = problems_for(make_bank(tmp_path, card(card_id=card_id)))
    bad = f"basics.yaml:3: {card_id}: id {card_id!r} must be kebab-case (a-z, 0-9, single hyphens)"
    assert found == ([] if ok else [bad])


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        *[("a", True), ("he2016resnet", True), ("pytorch-nn-lstm", True), ("a-", True)],
        *[("-a", False), ("He2016", False), ("a_b", False), ("", False)],
    ],
)
def test_registry_key_pattern(tmp_path, key, ok):
    registry = f"references:\n  '{key}':\n" + ENTRY
    found = [p for p in problems_for(registry_bank(tmp_path, "", registry, cards=card())) if "must be lowercase" in p]
    assert found == ([] if ok else [f"references.yaml:2: reference key {key!r} must be lowercase a-z, 0-9 and hyphens"])


@pytest.mark.parametrize(("points", "ok"), [(3, True), (6, True)])
def test_rubric_of_three_and_six_points_is_accepted(tmp_path, points, ok):
    rubric = "    rubric:\n" + "      - point: A\n        weight: 1\n" * points
    assert problems_for(make_bank(tmp_path, RUBRIC_HEAD + rubric)) == []
    bank, _ = check_bank(folders=[tmp_path / "bank"])
    assert len(bank.get("c1").rubric) == points and bank.get("c1").total_weight == points


@pytest.mark.parametrize(("year", "ok"), [(1599, False), (1600, True), (2100, True), (2101, False)])
def test_reference_year_is_1600_to_2100(tmp_path, year, ok):
    registry = f"references:\n  x2020:\n    title: T\n    authors: X\n    year: {year}\n    venue: V\n"
    found = problems_for(registry_bank(tmp_path, "- x2020\n", registry))
    assert found == ([] if ok else [f"references.yaml:5: 'year' must be an integer from 1600 to 2100, got {year}"])


@pytest.mark.parametrize(
    ("arxiv", "ok"),
    [
        *[("1706.03762", True), ("1512.0338", True), ("hep-th/9901001", True), ("math.GT/0309136", True)],
        *[("17.0", False), ("1706.037620", False), ("x1706.03762", False), ("hep-th/990100", False)],
    ],
)
def test_arxiv_id_pattern(tmp_path, arxiv, ok):
    registry = f"references:\n  x2020:\n{ENTRY}    arxiv: '{arxiv}'\n"
    found = problems_for(registry_bank(tmp_path, "- x2020\n", registry))
    assert found == ([] if ok else [f"references.yaml:7: reference 'x2020': arXiv id {arxiv!r} is not like 1706.03762"])


def test_roles_must_be_a_non_empty_list(tmp_path):
    assert problems_for(make_bank(tmp_path, card("roles: []\n"))) == [
        "basics.yaml:13: c1: 'roles' must be a non-empty subset of mle, nlp, cv, research, startup, got []"
    ]


def test_weight_of_one_is_accepted(tmp_path):
    rubric = "    rubric:\n" + "      - point: A\n        weight: 1\n" * 3
    assert problems_for(make_bank(tmp_path, RUBRIC_HEAD + rubric)) == []


def test_a_date_that_is_no_date_is_a_problem_at_its_line_not_a_crash(tmp_path, cli):
    folder = make_bank(tmp_path, card("kind: 2026-13-01\n"))
    assert problems_for(folder) == [
        "basics.yaml:13:9: invalid YAML: '2026-13-01' is not a valid date (month must be in 1..12)"
    ]
    result = cli("validate", str(folder))
    assert result.exit_code == 1 and "Traceback" not in result.output and "internal error" not in result.output


# ---------------------------------------------------------------- what a valid bank loads into


FULL_TOPICS = """\
topics:
  - id: basics
    title: Basics
    order: 1
    summary: Test topic.
    prerequisites: []
    cheatsheet:
      formulas:
        - {name: Sigmoid, formula: "s(x) = 1 / (1 + e^-x)"}
      summaries: [One summary.]
      traps: [One trap.]
      table:
        columns: [a, b]
        rows:
          - [x, y]
paths:
  - role: mle
    title: ML engineer
    days: 365
    stages:
      - {label: W1, topics: [basics]}
      - {label: Last, topics: [], note: Mock interviews.}
"""


def test_a_valid_bank_keeps_every_field(tmp_path):
    from dlprep.core.bank import Cheatsheet, FollowUp, RubricPoint, Stage, StudyPath

    extra = (
        "follow_ups:\n  - question: Why not X?\n    answer: Because Y.\n  - question: And Z?\n    answer: No.\n"
        "red_flags: [A wrong claim.]\nsee_also: [c2]\ndifficulty: senior\nkind: derivation\nroles: [nlp, cv]\n"
        "pattern: why-not\ntime_target_s: 45\n"
    )
    folder = make_bank(tmp_path, card(extra) + card(card_id="c2"), FULL_TOPICS)
    bank, problems = check_bank(folders=[folder])
    assert problems == []
    c1 = bank.get("c1")
    assert c1.follow_ups == (FollowUp("Why not X?", "Because Y."), FollowUp("And Z?", "No."))
    assert (c1.red_flags, c1.see_also, c1.roles) == (("A wrong claim.",), ("c2",), ("nlp", "cv"))
    assert (c1.difficulty, c1.kind, c1.pattern, c1.time_target_s) == ("senior", "derivation", "why-not", 45)
    assert c1.rubric == (RubricPoint("A", 2), RubricPoint("B", 1), RubricPoint("C", 1))
    assert (c1.topic, c1.line, c1.answer) == ("basics", 3, "Because.")
    assert bank.topics["basics"].cheatsheet == Cheatsheet(
        (("Sigmoid", "s(x) = 1 / (1 + e^-x)"),), ("One summary.",), ("One trap.",), ("a", "b"), (("x", "y"),)
    )
    assert bank.paths["mle"] == StudyPath(
        "mle", "ML engineer", 365, (Stage("W1", ("basics",)), Stage("Last", (), "Mock interviews."))
    )


def test_a_docs_reference_keeps_its_authors(tmp_path):
    registry = (
        "references:\n  torch-docs:\n    type: docs\n    title: torch.nn\n    authors: PyTorch team\n"
        "    venue: PyTorch documentation\n    url: https://docs.pytorch.org/\n"
    )
    bank, problems = check_bank(folders=[registry_bank(tmp_path, "- torch-docs\n", registry)])
    assert problems == [] and bank.references["torch-docs"].authors == "PyTorch team"


def test_an_invalid_card_is_left_out_of_the_bank(tmp_path):
    bank, problems = check_bank(folders=[make_bank(tmp_path, card("difficulty: easy\n") + card(card_id="c2"))])
    assert len(problems) == 1 and list(bank.by_id) == ["c2"]


# ---------------------------------------------------------------- more rules


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (card("red_flags: [fine, '']\n"), "basics.yaml:13: c1: 'red_flags' must be a list of non-empty strings"),
        (card("red_flags: [fine, 1]\n"), "basics.yaml:13: c1: 'red_flags' must be a list of non-empty strings"),
        (
            card("follow_ups:\n  - {question: Q, answer: A}\n  - {question: Q, answer: A, hint: H}\n"),
            "basics.yaml:15: c1: unknown key 'hint' in follow_ups[2]",
        ),
        (card("references:\n  - at: section 2\n"), "basics.yaml:14: c1: missing required key 'key'"),
        (
            GOOD_CARD + "  - question: No id?\n    answer: None.\n    rubric: []\n",
            "basics.yaml:13: card #2: missing required key 'id'",
        ),
    ],
    ids=["empty-string", "not-a-string", "follow-up-key", "citation-without-key", "card-without-id"],
)
def test_card_rule_more(tmp_path, cards, expected):
    assert expected in problems_for(make_bank(tmp_path, cards))


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ("- a\n", "topics.yaml:1: topics file must be a mapping with 'topics' (and optionally 'paths')"),
        (TOPICS.replace("id: basics", "id: Bad_Topic"), "topics.yaml:2: topic id 'Bad_Topic' must be kebab-case"),
        (TOPICS.replace("order: 1", "order: 0"), "topics.yaml:4: 'order' must be an integer >= 1, got 0"),
        (
            TOPICS + "    cheatsheet:\n      table:\n        columns: [a]\n",
            "topics.yaml:8: cheatsheet 'table' needs exactly 'columns' and 'rows'",
        ),
        (
            TOPICS + "paths:\n  - role: mle\n    title: T\n    days: 7\n    stages: []\n",
            "topics.yaml:11: 'stages' must be a non-empty list",
        ),
        (
            TOPICS
            + "paths:\n  - role: mle\n    title: T\n    days: 0\n    stages:\n      - {label: W, topics: [basics]}\n",
            "topics.yaml:10: 'days' must be an integer from 1 to 365, got 0",
        ),
        (
            TOPICS
            + "paths:\n  - role: mle\n    title: T\n    days: 366\n    stages:\n      - {label: W, topics: [basics]}\n",
            "topics.yaml:10: 'days' must be an integer from 1 to 365, got 366",
        ),
    ],
    ids=["not-a-mapping", "topic-id", "order-0", "table-keys", "no-stages", "days-0", "days-366"],
)
def test_topics_file_rule(tmp_path, topics, expected):
    assert expected in problems_for(make_bank(tmp_path, GOOD_CARD, topics))


def test_a_path_of_one_day_and_of_365_days_is_accepted(tmp_path):
    for days in (1, 365):
        topics = (
            TOPICS
            + f"paths:\n  - role: mle\n    title: T\n    days: {days}\n    stages:\n      - {{label: W, topics: [basics]}}\n"
        )
        assert problems_for(make_bank(tmp_path, GOOD_CARD, topics)) == []


@pytest.mark.parametrize(
    ("registry", "line"),
    [("", 1), ("- a\n- b\n", 1), ("\n\nreferences: [a, b]\n", 3)],
    ids=["empty", "a-list", "references-a-list"],
)
def test_a_registry_must_be_a_mapping_of_entries(tmp_path, registry, line):
    found = problems_for(registry_bank(tmp_path, "", registry, cards=card()))
    assert found == [f"references.yaml:{line}: a reference registry must be a mapping 'references: {{key: entry}}'"]


def test_arxiv_old_style_ids_need_an_archive_name(tmp_path):
    registry = f"references:\n  x2020:\n{ENTRY}    arxiv: '/9901001'\n"
    assert problems_for(registry_bank(tmp_path, "- x2020\n", registry)) == [
        "references.yaml:7: reference 'x2020': arXiv id '/9901001' is not like 1706.03762"
    ]


# ---------------------------------------------------------------- loading: files, folders, order


def test_only_yaml_files_of_a_bank_folder_are_read(tmp_path):
    folder = make_bank(tmp_path, GOOD_CARD)
    (folder / "README.md").write_text("# notes: not: a: bank\n")
    (folder / "notes.txt").write_text("[")
    (folder / "old.yaml").mkdir()
    (folder / "more.yml").write_text("topic: basics\ncards:\n" + card(card_id="from-yml"))
    bank, problems = check_bank(folders=[folder])
    assert problems == [] and set(bank.by_id) == {"good-card", "from-yml"}


def test_a_single_file_is_checked_once(tmp_path):
    folder = make_bank(tmp_path, card("difficulty: easy\n"))
    outside = tmp_path / "mine.yaml"
    outside.write_text("topic: basics\ncards:\n" + card("kind: essay\n", card_id="c9"))
    _, problems = check_bank(folders=[folder], files=[folder / "basics.yaml", outside])
    assert [p.message.split(" must")[0] for p in problems] == ["'difficulty'", "'kind'"]
    _, problems = check_bank(files=[outside], reference_folders=[folder])
    assert [str(p) for p in problems] == [
        f"{outside}:13: c9: 'kind' must be one of concept, derivation, implementation, design, debugging, behavioral, got 'essay'"
    ]


def test_topics_then_registries_then_topic_files(tmp_path):
    folder = registry_bank(tmp_path, "- he2016resnet\n", REGISTRY + "  bad_key:\n" + ENTRY)
    (folder / "a.yaml").write_text("topic: basics\ncards:\n" + card("kind: essay\n", card_id="c9"))
    (folder / "topics.yaml").write_text(TOPICS.replace("order: 1", "order: 0"))
    found = [p.split(":")[0] for p in problems_for(folder)]
    assert found[:3] == ["topics.yaml", "references.yaml", "a.yaml"]


def test_a_topic_or_a_reference_defined_twice_names_the_first(tmp_path):
    first = registry_bank(tmp_path, ALL_CITED)
    second = tmp_path / "second"
    second.mkdir()
    (second / "topics.yaml").write_text(TOPICS)
    (second / "references.yaml").write_text(REGISTRY)
    _, problems = check_bank(folders=[first, second])
    found = [str(p) for p in problems]
    assert found[0] == f"{second}/topics.yaml: topic 'basics' is defined twice (also in {first}/topics.yaml)"
    assert (
        f"{second}/references.yaml:2: reference 'he2016resnet' is defined twice (also at {first}/references.yaml:2)"
        in found
    )


def test_a_prerequisite_cycle_across_folders_is_reported_where_it_starts(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, tid, prereq in ((one, "a-topic", "b-topic"), (two, "b-topic", "a-topic")):
        folder.mkdir()
        (folder / "topics.yaml").write_text(
            f"topics:\n  - {{id: {tid}, title: T, order: 1, summary: S., prerequisites: [{prereq}]}}\n"
        )
    _, problems = check_bank(folders=[one, two])
    assert [str(p) for p in problems] == [f"{one}/topics.yaml: prerequisite cycle: a-topic -> b-topic -> a-topic"]


def test_strict_checks_a_single_file_without_reporting_its_reference_folders(tmp_path):
    folder = registry_bank(tmp_path, ALL_CITED, REGISTRY + "  unused2020:\n" + ENTRY)
    mine = tmp_path / "mine.yaml"
    mine.write_text("topic: basics\ncards:\n" + card("references: [he2016resnet]\n", card_id="mine"))
    _, problems = check_bank(files=[mine], reference_folders=[folder], strict=True)
    assert problems and all(p.path == str(mine) for p in problems)  # nothing about the registry's unused entry
    assert not any("reference" in p.message for p in problems)
