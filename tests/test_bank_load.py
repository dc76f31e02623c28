"""The bank loader's fast path (core/yamlfile.py ``parse_fast``, core/bank/load.py
``load_bank``): yaml_rs reads card files where that is provably what PyYAML
reads, so a bank loads to exactly the same cards, and a problem is reported
with the same ``path:line`` message, as through PyYAML (``check_bank``)."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from conftest import FIXTURE_BANK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlprep.core import yamlfile
from dlprep.core.bank import BankError, check_bank, load_bank
from dlprep.core.bank import load as bank_load

CARD = """\
topic: basics
cards:
  - id: first-card
    question: What is the first card?
    answer: |
      It is first.
    rubric:
      - point: Says first
        weight: 2
      - point: Says card
        weight: 1
      - point: Says it
        weight: 1
    red_flags: [Says last]
    roles: [mle, nlp]
    time_target_s: 45
  - id: second-card
    question: {question}
    answer: {answer}
    rubric:
      - {{point: One, weight: {weight}}}
      - point: Two
        weight: 1
      - point: Three
        weight: 1
    red_flags:
      - {flag}
    see_also: [first-card]
"""
FIELDS = {"question": "What is second?", "answer": "Second.", "weight": "2", "flag": "Says first"}


@pytest.fixture
def bank_dir(tmp_path, monkeypatch):
    """A bundled bank of the fixture's topics and one card file; no demos (faster)."""
    folder = tmp_path / "bank"
    folder.mkdir()
    shutil.copy(FIXTURE_BANK / "topics.yaml", folder / "topics.yaml")
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(folder))
    monkeypatch.setattr("dlprep.demos.registry.discover", lambda *_a, **_k: {})
    return folder


def outcome(load):
    try:
        bank = load()
    except BankError as exc:
        return [str(p) for p in exc.problems]
    return [(c, c.line) for c in bank.cards]


def both(folder, text: str, monkeypatch):
    """(fast load, PyYAML load, did the fast load's final reading take the card file fast?)."""
    path = folder / "cards.yaml"
    path.write_bytes(text.encode("utf-8"))

    def slow():
        bank, problems = check_bank(folders=[folder])
        if problems:
            raise BankError(problems)
        return bank

    want = outcome(slow)
    readers, real_read, real_check = [], bank_load._FastReader.__call__, bank_load.check_bank

    def spy_read(self, f):
        readers.append(self)
        return real_read(self, f)

    def spy_check(*args, **kwargs):
        readers.append(None)  # the exact PyYAML reading of everything
        return real_check(*args, **kwargs)

    monkeypatch.setattr(bank_load._FastReader, "__call__", spy_read)
    monkeypatch.setattr(bank_load, "check_bank", spy_check)
    got = outcome(load_bank)
    last = readers[-1]
    return got, want, last is not None and str(path) in last.unchecked


def test_the_fast_path_reads_the_real_bank_exactly_as_pyyaml(monkeypatch):
    from dlprep.paths import bundled_bank_dir

    files = sorted(bundled_bank_dir().glob("*.yaml"))
    for f in files:
        text = f.read_text(encoding="utf-8")
        fast = yamlfile.parse_fast(text)
        assert fast is not None, f"{f.name} fell back to PyYAML"
        slow, _ = yamlfile.load_yaml(f)
        assert fast == slow, f.name  # dict/list equality: same keys, values and order of lists
        if "cards" in slow:
            assert [c.line for c in fast["cards"]] == [c.line for c in slow["cards"]], f.name
    monkeypatch.setattr("dlprep.core.yamlfile._yaml_rs", lambda: None)  # without yaml_rs: PyYAML only
    assert load_bank().cards == check_bank(folders=[bundled_bank_dir()])[0].cards


def test_implicit_patterns_are_pyyamls():
    ours = {p for p in yamlfile.IMPLICIT_PATTERNS}
    theirs = {rx.pattern for rs in yaml.resolver.Resolver.yaml_implicit_resolvers.values() for _tag, rx in rs}
    assert ours == theirs
    first = {ch for ch in yaml.resolver.Resolver.yaml_implicit_resolvers if ch}
    assert first == set(yamlfile.IMPLICIT_FIRST)


@pytest.mark.parametrize(
    ("fields", "fast"),
    [
        ({}, True),
        ({"answer": "yes"}, False),  # a bool to PyYAML: the answer is refused, at its line
        ({"answer": "'yes'"}, True),  # quoted: a string to both
        ({"answer": "On"}, False),
        ({"question": "1:30"}, False),  # sexagesimal 90 to PyYAML
        ({"question": "1_000"}, False),
        ({"question": "2026-01-01"}, False),  # a date to PyYAML
        ({"question": "'2026-01-01'"}, True),
        ({"question": "'1'"}, True),  # yaml_rs would read a plain 1 as a number: so it was quoted
        ({"question": "1e3"}, False),  # a float to yaml_rs: a problem, so the exact reading: PyYAML's "1e3"
        ({"question": "=", "answer": "<<"}, False),
        ({"flag": "no"}, False),
        ({"flag": "'no'"}, True),
        ({"weight": "010"}, False),  # octal 8 to PyYAML, 10 to yaml_rs
        ({"weight": "0o10"}, False),  # a string to PyYAML
        ({"weight": "08"}, False),
        ({"weight": "0x2"}, True),
        ({"weight": "+2"}, True),
        ({"answer": "!!str 3"}, False),  # tags: PyYAML's
        ({"answer": "!custom x"}, False),
        ({"answer": "&a yes"}, False),
        ({"answer": '"tab\there"'}, False),
        ({"answer": '"a \\x85 b"'}, True),  # an escape, not the character: the same string to both
        ({"answer": "a\x85b"}, False),  # NEL is a line break to YAML 1.1
        ({"answer": "a\u2028b"}, False),
        ({"answer": "a\ufeffb"}, False),
        ({"answer": "a\x07b"}, False),  # not printable: PyYAML refuses it
        ({"answer": "a\u00a0b ×"}, True),
        ({"answer": "|+\n      kept\n\n"}, True),
        ({"answer": ">-\n      folded\n      lines\n\n      para"}, True),
        ({"answer": "'it''s'"}, True),
        ({"answer": '"\\u00e9\\t\\"q\\""'}, True),
        ({"answer": "plain\n      over two lines"}, True),
        ({"answer": "|\n      text with\n      - id: first-card\n      inside"}, False),  # an id line in text
        ({"question": "What?\n    question: again"}, False),  # a duplicate key
    ],
)
def test_fast_and_pyyaml_loads_agree(bank_dir, monkeypatch, fields, fast):
    text = CARD.format(**{**FIELDS, **fields})
    got, want, was_fast = both(bank_dir, text, monkeypatch)
    assert got == want
    assert was_fast == fast


@pytest.mark.parametrize(
    "text",
    [
        CARD.format(**FIELDS).rstrip("\n"),  # no line break at the end: block scalars differ
        CARD.format(**FIELDS).replace("\n", "\r\n"),
        "\ufeff" + CARD.format(**FIELDS),
        "%YAML 1.1\n---\n" + CARD.format(**FIELDS),
        CARD.format(**FIELDS) + "---\ntopic: basics\n",
        CARD.format(**FIELDS).replace("  - id: second-card\n", "  -\n    id: second-card\n"),
        CARD.format(**FIELDS)
        .replace("  - id: second-card\n    question", "  - question")
        .replace("    answer: Second.", "    id: second-card\n    answer: Second."),
    ],
    ids=["no final newline", "CRLF", "BOM", "directive", "two documents", "id on its own line", "id not first"],
)
def test_text_the_fast_path_does_not_take_is_read_by_pyyaml(bank_dir, monkeypatch, text):
    got, want, was_fast = both(bank_dir, text, monkeypatch)
    assert got == want and not was_fast


def test_a_problem_in_a_fast_parsed_file_is_reported_at_its_line(bank_dir, monkeypatch):
    text = CARD.format(**FIELDS).replace("    see_also: [first-card]", "    see_also: [frist-card]")
    text = text.replace("    time_target_s: 45", "    time_target_s: 45\n    difficulty: expert")
    path = bank_dir / "cards.yaml"
    path.write_text(text, encoding="utf-8")
    assert yamlfile.parse_fast(text) is not None  # the file itself is fast-parseable
    with pytest.raises(BankError) as exc:
        load_bank()
    assert [str(p) for p in exc.value.problems] == [
        f"{path}:17: first-card: 'difficulty' must be one of junior, mid, senior, got 'expert'",
        f"{path}:29: second-card: see_also 'frist-card' is not a card id (did you mean 'first-card'?)",
    ]


def test_card_lines_come_from_the_id_lines(bank_dir):
    text = CARD.format(**FIELDS)
    data = yamlfile.parse_fast(text)
    assert [c.line for c in data["cards"]] == [3, 17]
    assert data["cards"].item_lines == [3, 17]


TOKENS = [
    "yes", "No", "on", "OFF", "y", "n", "true", "~", "null", "", "=", "<<", "1", "01", "010", "0o7", "0x1f", "1_0",
    "1:30", "1.5", "1e3", ".5", ".inf", "-.nan", "2026-01-02", "2026-01-02 10:00:00", "a", "a b", "x: y", "- z",
    "#c", "&a", "*a", "!t", "|", ">", "'", '"', "[a]", "{a: b}", "a,b", "é", "\t", " ", "%",
]  # fmt: skip


def render(value: str, style: str) -> str:
    if style == "plain":
        return value
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "double":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    return "|\n      " + value  # literal block


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(["plain", "single", "double", "block"])), min_size=2),
)
def test_fast_and_pyyaml_loads_agree_on_awkward_values(bank_dir, monkeypatch, parts):
    """Whatever lands in a card's question and red flag, both readings give the same bank or the same problems."""
    (q, qs), (f, fs), *_ = parts
    text = CARD.format(**{**FIELDS, "question": render(q, qs), "flag": render(f, fs)})
    with monkeypatch.context() as m:
        got, want, _fast = both(bank_dir, text, m)
    assert got == want


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("a: 'yes'\n", True),
        ('a: "yes"\n', True),
        ("a: yes\n", False),
        ("a: yes # a comment\n", False),
        ("- 'yes'\n- yes, every step\n- yes (when it fits)\n", True),  # one string each, not the word
        ("- 'yes'\n- [a, yes]\n", False),  # in a flow sequence a comma ends it
        ("- 'yes'\n- {a: yes}\n", False),
        ("- 'yes'\n- &x yes\n", False),
        ("- 'yes'\n? yes\n: 1\n", False),
        ("- 'yes'\n- yes: 1\n", False),
        ("- 'yes'\n-\n  yes\n", False),
        ("a: 'yes'\nb: the answer is yes\n", True),  # inside other text
        ('a: "\\x79es"\n', False),  # not written out at all: cannot tell
        ("a: 'yes'\nb: >\n  yes\n", False),  # a folded line of its own: counted as maybe plain
    ],
)
def test_written_quoted_is_sure_or_says_no(text, quoted):
    assert yamlfile.written_quoted(text, "yes") is quoted


def test_doubtful_strings_are_found_under_located_mappings(bank_dir):
    text = (bank_dir / "topics.yaml").read_text(encoding="utf-8").replace("title: Basics", "title: 'on'")
    data = yamlfile.parse_fast(text)
    assert isinstance(data, yamlfile.Located)
    assert yamlfile.doubtful_strings(data) == {"on"}
    assert yamlfile.written_quoted(text, "on")
    (bank_dir / "topics.yaml").write_text(text.replace("'on'", "on"), encoding="utf-8")
    with pytest.raises(BankError, match=r"topics.yaml:3: 'title' must be a non-empty string"):
        load_bank()  # a bool to PyYAML: the topics file is read by PyYAML


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-._:eExXoOabcfinINAF~", min_size=1, max_size=12))
def test_what_the_core_schema_pattern_calls_a_number_yaml_rs_reads_as_one(value):
    """``may_differ`` trusts CORE_SCHEMA instead of asking yaml_rs: it must never be wrong that way."""
    if yamlfile.CORE_SCHEMA.fullmatch(value):
        assert not isinstance(yamlfile._yaml_rs().loads(value, parse_datetime=False), str), value


def test_unusual_characters_are_exactly_those_pyyaml_refuses_or_breaks_lines_on():
    """Every character from U+0000 to U+FFFF (and a few above): flagged iff it is not LF, nor
    printable to PyYAML (its reader's rule), or is a line break or BOM in YAML 1.1 only."""
    plain = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    for code in [*range(0x10000), 0x10000, 0x1F600, 0x10FFFF]:
        ch = chr(code)
        assert yamlfile._unusual_characters(f"a: b{ch}c\n") == (not plain.match(ch)), hex(code)
