"""The bank cache (core/bankcache.py): what it serves equals a fresh load, any
change to a file the bank or its errata come from invalidates it, damage is a
miss, and an unchanged run imports no PyYAML."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURE_BANK

from dlprep.core import bankcache, cachefile
from dlprep.core.bank import Card, load_bank
from dlprep.core.bank.model import FollowUp, RubricPoint
from dlprep.core.errata import load_errata
from dlprep.paths import bundled_bank_dir, cache_dir

EXTRA_CARDS = """\
topic: fundamentals
cards:
  - id: extra-bias-variance
    question: "What is the bias-variance trade-off? (extra bank)"
    answer: |
      Expected test error splits into bias squared, variance and noise.
      A flexible model lowers bias and raises variance — non-ASCII on purpose: ×, é.
    rubric:
      - point: Names bias, variance and noise
        weight: 2
      - point: Says flexibility trades one for the other
        weight: 1
      - point: Mentions regularisation as a lever
        weight: 1
    follow_ups:
      - question: How does more data change it?
        answer: It lowers variance.
    red_flags: ["Says more parameters always overfit"]
    difficulty: junior
    roles: [mle, research]
    see_also: [extra-dropout]
    time_target_s: 90
  - id: extra-dropout
    question: Why does dropout regularise?
    answer: It trains an ensemble of thinned networks that share weights.
    rubric:
      - point: Ensemble of subnetworks
        weight: 1
      - point: Shared weights
        weight: 1
      - point: Scaling at test time
        weight: 1
"""
EXTRA_ERRATA = """\
- card: extra-dropout
  date: 2026-11-02
  field: answer
  was: "It adds noise."
  now: "It trains an ensemble of thinned networks."
  source: "Srivastava et al. 2014"
"""


def hit_or_fail(monkeypatch):
    """From here on, a cache miss fails the test (the full loader is never reached)."""
    from dlprep.core.bank import load as bank_load

    def refuse(*_args, **_kwargs):
        raise AssertionError("cache miss: the bank was loaded from YAML")

    monkeypatch.setattr(bank_load, "load_bank", refuse)


def test_the_cached_bank_and_errata_equal_a_fresh_load_field_by_field(tmp_path, monkeypatch):
    extra = tmp_path / "extra"
    (extra / "errata").mkdir(parents=True)
    (extra / "more.yaml").write_text(EXTRA_CARDS, encoding="utf-8")
    (extra / "errata" / "more.yaml").write_text(EXTRA_ERRATA, encoding="utf-8")
    fresh = load_bank([extra])
    errata, problems = load_errata([bundled_bank_dir(), extra])
    assert not problems and errata["extra-dropout"] and len(errata) > 1  # bundled errata too

    first = bankcache.load_cached([extra])  # a miss: loads, then writes the cache
    hit_or_fail(monkeypatch)
    cached = bankcache.load_cached([extra])
    assert cached.bank is not first.bank
    bank = cached.bank
    assert [c.id for c in bank.cards] == [c.id for c in fresh.cards] and len(bank.cards) > 300
    for mine, theirs in zip(bank.cards, fresh.cards, strict=True):
        assert mine.content_hash == theirs.content_hash  # stored, before any long field is unpacked
        assert "_packed" in mine.__dict__
        for f in dataclasses.fields(Card):
            assert getattr(mine, f.name) == getattr(theirs, f.name), (mine.id, f.name)
            assert type(getattr(mine, f.name)) is type(getattr(theirs, f.name)), (mine.id, f.name)
        assert "_packed" not in mine.__dict__
        assert mine == theirs and hash(mine) == hash(theirs) and repr(mine) == repr(theirs)
        assert mine.to_dict() == theirs.to_dict()
    assert bank.by_id["extra-bias-variance"].source == str(extra / "more.yaml")
    assert bank.by_id["extra-bias-variance"].line == 3 and bank.by_id["extra-dropout"].line == 23
    assert bank.topics == fresh.topics and list(bank.topics) == list(fresh.topics)
    assert bank.paths == fresh.paths and list(bank.paths) == list(fresh.paths)
    assert bank.references == fresh.references and list(bank.references) == list(fresh.references)
    assert bank.demo_ids == fresh.demo_ids and bank.files == fresh.files
    assert cached.errata == errata and list(cached.errata) == list(errata)


def test_a_packed_card_behaves_like_the_card_it_was_packed_from():
    card = Card(
        id="c",
        topic="t",
        question="q?",
        answer="a [not markup] ×",
        rubric=(RubricPoint("p", 2), RubricPoint("r", 1)),
        follow_ups=(FollowUp("f?", "g"),),
        red_flags=("x",),
    )
    packed = object.__new__(Card)
    record = dict(zip(bankcache.LIGHT, bankcache._card_record(card, 0), strict=True))
    record["source"] = card.source
    packed.__dict__.update(record)
    assert packed.total_weight == 3 and packed.answer == card.answer  # the first read unpacks
    assert packed == card and dataclasses.replace(packed, answer="b") == dataclasses.replace(card, answer="b")
    assert dataclasses.asdict(packed) == dataclasses.asdict(card)
    with pytest.raises(AttributeError):
        packed.no_such_field  # noqa: B018
    # A card built normally has every field, defaults included.
    assert Card("c", "t", "q", "a", ()).follow_ups == () and Card("c", "t", "q", "a", ()).references == ()


# ------------------------------------------------------------ invalidation


@pytest.fixture
def own_bank(tmp_path, monkeypatch):
    """A copy of the fixture bank as the bundled bank, with an errata file and a demos folder."""
    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    (bank / "errata").mkdir()
    (bank / "errata" / "basics.yaml").write_text(
        '- card: alpha\n  date: 2026-11-02\n  field: answer\n  was: "x"\n  now: "y"\n  source: "s"\n', encoding="utf-8"
    )
    (bank / "demos").mkdir()
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(bank))
    return bank


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


DEMO = 'TOPIC = "basics"\nTITLE = "A demo"\n\n\ndef run(out):\n    out("hi")\n'


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        (
            lambda b: edit(b / "advanced.yaml", "What is gamma?", "What is gamma, really?"),
            lambda c: c.bank.by_id["gamma"].question == "What is gamma, really?",
        ),
        (
            lambda b: edit(b / "topics.yaml", "title: Basics", "title: The basics"),
            lambda c: c.bank.topics["basics"].title == "The basics",
        ),
        (
            lambda b: (b / "more.yaml").write_text((b / "advanced.yaml").read_text().replace("gamma", "delta")),
            lambda c: "delta" in c.bank.by_id,
        ),
        (lambda b: (b / "advanced.yaml").unlink(), lambda c: "gamma" not in c.bank.by_id),
        (lambda b: (b / "demos" / "my_demo.py").write_text(DEMO), lambda c: "my-demo" in c.bank.demo_ids),
        (
            lambda b: edit(b / "errata" / "basics.yaml", 'now: "y"', 'now: "y, corrected"'),
            lambda c: c.errata["alpha"][0].now == "y, corrected",
        ),
        (
            lambda b: (b / "errata" / "advanced.yaml").write_text(
                '- card: gamma\n  date: 2026-11-03\n  field: answer\n  was: "a"\n  now: "b"\n  source: "s"\n'
            ),
            lambda c: [e.now for e in c.errata.get("gamma", [])] == ["b"],
        ),
        (lambda b: (b / "errata" / "basics.yaml").unlink(), lambda c: c.errata == {}),
    ],
    ids=[
        "card edited",
        "topics edited",
        "card file added",
        "card file removed",
        "demo added",
        "errata edited",
        "errata file added",
        "errata file removed",
    ],
)
def test_any_change_to_a_source_file_is_seen_at_once(own_bank, change, seen):
    before = bankcache.load_cached()
    assert not seen(before)
    assert not seen(bankcache.load_cached())  # served from the cache
    change(own_bank)
    assert seen(bankcache.load_cached())


def test_a_new_dlprep_version_or_python_misses_the_cache(own_bank, monkeypatch):
    bankcache.load_cached()
    key = bankcache.signature([own_bank])
    cache = cache_dir() / bankcache.CACHE_FILE
    assert cachefile.read(cache, bankcache.NAME, key) is not None
    monkeypatch.setattr(bankcache, "__version__", "0.0.0-other")
    assert bankcache.signature([own_bank]) != key
    monkeypatch.undo()
    monkeypatch.setattr(cachefile, "PYTHON", "cpython-399-m9")  # marshal's format is Python's
    assert cachefile.read(cache, bankcache.NAME, key) is None


def test_an_extra_folder_is_part_of_the_key(own_bank, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "more.yaml").write_text(EXTRA_CARDS.replace("fundamentals", "basics").replace("see_also", "x_see"))
    with pytest.raises(Exception, match="unknown key 'x_see'"):
        bankcache.load_cached([extra])
    (extra / "more.yaml").write_text(EXTRA_CARDS.replace("fundamentals", "basics"))
    assert "extra-dropout" in bankcache.load_cached([extra]).bank.by_id
    assert "extra-dropout" not in bankcache.load_cached().bank.by_id


# ------------------------------------------------------------ damage


def damaged(data: bytes) -> list[bytes]:
    head = data.index(b"\n") + 1
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    return [
        data[: len(data) // 2],  # truncated
        bytes(flipped),  # one bit in the payload
        data[:head],  # header only
        data[: head - 2] + b"\n" + data[head:],  # short checksum
        b"",
        b"\x00" * 100,
    ]


@pytest.mark.parametrize("which", range(6))
def test_a_damaged_cache_is_a_miss_and_is_rewritten(own_bank, which):
    good = bankcache.load_cached()
    cache = cache_dir() / bankcache.CACHE_FILE
    data = cache.read_bytes()
    cache.write_bytes(damaged(data)[which])
    again = bankcache.load_cached()
    assert again.bank.cards == good.bank.cards and again.errata == good.errata
    assert cache.read_bytes() == data


def test_a_planted_code_object_is_never_run(own_bank, tmp_path):
    marker = tmp_path / "pwned"
    bankcache.load_cached()
    key = bankcache.signature([own_bank])
    cache = cache_dir() / bankcache.CACHE_FILE
    cachefile.write(cache, bankcache.NAME, key, compile(f"open({str(marker)!r}, 'w')", "x", "exec"))
    assert cachefile.read(cache, bankcache.NAME, key) is not None  # a well-formed file: the checksum matches
    assert sorted(bankcache.load_cached().bank.by_id) == ["alpha", "beta", "gamma"]
    assert not marker.exists()


def test_an_unwritable_cache_is_ignored(own_bank):
    cache_dir().parent.mkdir(parents=True, exist_ok=True)
    cache_dir().write_text("a file where the cache folder belongs")
    assert sorted(bankcache.load_cached().bank.by_id) == ["alpha", "beta", "gamma"]
    assert sorted(bankcache.load_cached().bank.by_id) == ["alpha", "beta", "gamma"]


def test_the_old_json_cache_is_removed(own_bank):
    cache_dir().mkdir(parents=True)
    (cache_dir() / "bank.json").write_text("{}")
    bankcache.load_cached()
    assert not (cache_dir() / "bank.json").exists()


# ------------------------------------------------------------ no PyYAML when nothing changed

RUN = """
import sys
from dlprep.cli import main
sys.argv = ["dlprep", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
finally:
    sys.stderr.write("YAML=" + str("yaml" in sys.modules))
"""


@pytest.mark.parametrize(
    ("args", "answers"),
    [
        (["today"], None),
        (["card", "sigmoid-max-derivative-quarter", "--json"], None),
        (["due"], None),
        (["quiz", "--limit", "1", "--new", "1"], "\na\n\ny\n\n"),
    ],
)
def test_an_unchanged_bank_and_errata_cost_no_yaml(args, answers, dlprep_home):
    assert any((bundled_bank_dir() / "errata").glob("*.yaml"))  # the real bank, with its errata
    env = {**os.environ, "DLPREP_NOW": "2026-11-21T10:00:00+00:00"}
    command = [sys.executable, "-c", RUN, *args]
    run = lambda: subprocess.run(command, capture_output=True, text=True, env=env, input=answers or "")  # noqa: E731
    first = run()
    assert first.stderr.endswith("YAML=True"), first.stderr  # a miss parses the YAML and writes the cache
    second = run()
    assert second.stderr.endswith("YAML=False"), second.stderr
    assert second.stdout == first.stdout or answers  # a quiz's second run shows the next card


# ------------------------------------------------------------ demo scans (demos/registry.py)


def test_demo_scans_are_kept_per_file_and_redone_when_one_changes(tmp_path, monkeypatch):
    from dlprep.demos import registry

    monkeypatch.setattr(registry, "_scans", {})
    new_process = registry._scans.clear
    folder = tmp_path / "demos"
    folder.mkdir()
    (folder / "my_demo.py").write_text(DEMO)
    (folder / "helper.py").write_text("X = 1\n")  # not a demo: remembered as such
    first = registry.discover([folder])
    assert first["my-demo"].title == "A demo" and "helper" not in first
    assert not (cache_dir() / registry.SCAN_CACHE).exists()  # discovering writes nothing...
    registry.save_scans()  # ...the bank cache saves the scans when it writes itself
    parsed = []
    real = registry.read_info
    monkeypatch.setattr(registry, "read_info", lambda path, bundled: parsed.append(path.name) or real(path, bundled))
    new_process()
    assert registry.discover([folder]) == first and parsed == []  # nothing parsed again
    (folder / "my_demo.py").write_text(DEMO.replace("A demo", "A longer demo"))
    assert registry.discover([folder])["my-demo"].title == "A longer demo" and parsed == ["my_demo.py"]
    registry.save_scans()
    new_process()
    assert registry.discover([folder])["my-demo"].title == "A longer demo" and parsed == ["my_demo.py"]
    (folder / "my_demo.py").write_text(DEMO.replace("def run(out):", "def run(out:"))  # a syntax error
    assert "my-demo" not in registry.discover([folder])
    (cache_dir() / registry.SCAN_CACHE).write_bytes(b"damaged")
    new_process()
    parsed.clear()
    assert set(registry.discover([folder])) == set(first) - {"my-demo"}
    assert "my_demo.py" in parsed and "helper.py" in parsed  # a damaged cache: everything parsed again


def test_a_bank_cache_miss_saves_the_demo_scans(own_bank, monkeypatch):
    from dlprep.demos import registry

    monkeypatch.setattr(registry, "_scans", {})
    bankcache.load_cached()
    assert cachefile.read(cache_dir() / registry.SCAN_CACHE, "demos", registry._SCAN_KEY)
