"""Every bundled drill: valid YAML, its solution passes its checks and each
listed mistake fails the check it names with the message it names (in this
process, torch imported once). Then the validator's rules, each at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlprep.core.bank import load_bank
from dlprep.drills.load import check_drills, drill_folders, drills_by_topic, split_paths
from dlprep.drills.model import Drill, Mistake, review_id
from dlprep.paths import bundled_bank_dir

DRILLS_DIR = Path(__file__).resolve().parents[1] / "questions" / "drills"
DRILL_FILES = sorted(DRILLS_DIR.glob("*.yaml"))
# Drills whose checks take seconds even in this process (none since the training-loop drill's checks stopped
# building a torch.optim optimizer, whose first use imports torch._dynamo).
SLOW_DRILLS: set[str] = set()


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def one_thread():
    """Small tensors: one thread is faster than two fighting over CI's two cores."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_there_are_bundled_drills():
    assert {"stable-softmax", "debug-training-loop"} <= {f.stem for f in DRILL_FILES}


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_DRILLS else p for p in DRILL_FILES],
    ids=lambda p: p.stem,
)
def test_drill_is_valid_and_its_checks_catch_its_mistakes(path, bank, one_thread):
    from dlprep.drills.runner import run_checks, verify_drill

    drills, problems = check_drills(files=[path], bank=bank)
    assert [str(p) for p in problems] == []
    (drill,) = drills
    assert verify_drill(drill.spec()) == []
    # the starter as given is not a solution: some check fails on it
    assert not all(r.passed for r in run_checks(drill.spec(), drill.starter, "starter.py"))


@pytest.mark.slow
def test_debug_training_loop_names_each_planted_bug(bank, one_thread):
    """The three planted bugs each fail their own check, and the loop as given cannot reach the loss threshold."""
    from dlprep.drills.runner import run_checks

    drills, _ = check_drills(files=[DRILLS_DIR / "debug-training-loop.yaml"], bank=bank)
    drill = drills[0]
    failed = {r.id: r.message for r in run_checks(drill.spec(), drill.starter, "starter.py") if not r.passed}
    assert set(failed) == {"check_loss_falls", "check_zero_grad", "check_train_mode", "check_raw_logits"}
    assert "zero_grad" in failed["check_zero_grad"]
    assert "eval mode" in failed["check_train_mode"]
    assert "probabilities" in failed["check_raw_logits"]
    assert "expected below 0.3" in failed["check_loss_falls"]


def test_bundled_drills_load_from_the_bundled_bank(bank):
    drills, problems = check_drills(drill_folders(bundled_bank_dir()), bank=bank)
    assert problems == []
    assert {d.id for d in drills} == {f.stem for f in DRILL_FILES}
    assert all(d.bundled for d in drills)
    by_topic = drills_by_topic({d.id: d for d in drills})
    assert "debug-training-loop" in by_topic["training"]


def test_drill_round_trips_through_to_dict(bank):
    drills, _ = check_drills(files=[DRILLS_DIR / "stable-softmax.yaml"], bank=bank)
    d = drills[0]
    assert Drill.from_dict(d.to_dict()) == d
    assert Mistake.from_dict(d.mistakes[0].to_dict()) == d.mistakes[0]
    assert d.review_id == review_id("stable-softmax") == "drill:stable-softmax"


# ---------------------------------------------------------------- the validator's rules

GOOD = """\
id: {id}
title: A tiny drill
topic: fundamentals
difficulty: 1
minutes: 5
needs: numpy
task: |
  Write double(x).
hints:
  - Multiply.
  - By two.
starter: |
  def double(x):
      raise NotImplementedError
solution: |
  def double(x):
      return 2 * x
checks: |
  def check_value(user, h):
      \"\"\"doubles 3\"\"\"
      if user.double(3) != 6:
          h.fail("double(3) is not 6")
mistakes:
  - name: adds
    fails: check_value
    message: "not 6"
    code: |
      def double(x):
          return x + 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, bank) -> list[str]:
    return [str(p) for p in check_drills(files=[path], bank=bank)[1]]


def test_a_good_user_drill_validates_and_verifies(tmp_path, bank):
    from dlprep.drills.runner import verify_drill

    path = write(tmp_path / "drills", "tiny", GOOD.format(id="tiny"))
    drills, problems = check_drills(files=[path], bank=bank)
    assert problems == []
    assert verify_drill(drills[0].spec()) == []


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("id: tiny", "id: Tiny"), 1, "must be kebab-case"),
        (("id: tiny", "id: other"), 1, "must match the file name (tiny.yaml)"),
        (
            ("topic: fundamentals", "topic: fundamental"),
            3,
            "unknown topic 'fundamental' (did you mean 'fundamentals'?)",
        ),
        (("difficulty: 1", "difficulty: 4"), 4, "'difficulty' must be an integer from 1 to 3, got 4"),
        (("difficulty: 1", "difficulty: 0"), 4, "'difficulty' must be an integer from 1 to 3, got 0"),
        (("minutes: 5", "minutes: 4"), 5, "'minutes' must be an integer from 5 to 60, got 4"),
        (("minutes: 5", "minutes: 61"), 5, "'minutes' must be an integer from 5 to 60, got 61"),
        (("needs: numpy", "needs: jax"), 6, "'needs' must be one of torch, numpy"),
        (("  - By two.\n", ""), 9, "'hints' must have 2 to 4 entries, not 1"),
        (("  - By two.\n", "  - By two.\n  - c\n  - d\n  - e\n"), 9, "'hints' must have 2 to 4 entries, not 5"),
        (("      return 2 * x\n", "      return 2 *\n"), 17, "'solution' is not valid Python"),
        (("def double(x):\n      return 2", "def triple(x):\n      return 2"), 15, "'solution' does not define double"),
        (
            ("  def double(x):\n      raise NotImplementedError\n", "  x = 1\n"),
            12,
            "'starter' must define at least one",
        ),
        (("def check_value(user, h):", "def check_value(user):"), 19, "check_value must take exactly (user, h)"),
        (("def check_value(user, h):", "def value(user, h):"), 18, "must define at least one check_<name>(user, h)"),
        (("fails: check_value", "fails: check_valu"), 25, "fails 'check_valu', which is not a check (did you mean"),
        (("fails: check_value", "fails: no_shortcut"), 25, "fails 'no_shortcut', which is not a check"),
        (("          return x + 2", "          return x +"), 29, "code is not valid Python"),
        (("title: A tiny drill\n", ""), 1, "missing required key 'title'"),
        (("minutes: 5\n", "minutes: 5\nshow_me: x\n"), 6, "unknown key 'show_me' in drill"),
        (("needs: numpy\n", "needs: numpy\nforbidden:\n  - 'torch.'\n"), 7, "forbidden name 'torch.' must be"),
        (("needs: numpy\n", "needs: numpy\ncards:\n  - no-such-card\n"), 7, "card 'no-such-card' is not a card id"),
        (("needs: numpy\n", "needs: numpy\nreferences:\n  - no-such-key\n"), 7, "reference 'no-such-key' is not"),
    ],
)
def test_each_rule_is_reported_at_its_line(tmp_path, bank, change, line, message):
    old, new = change
    text = GOOD.format(id="tiny")
    assert old in text
    path = write(tmp_path / "drills", "tiny", text.replace(old, new, 1))
    found = problems_of(path, bank)
    assert any(p.startswith(f"{path}:{line}:") and message in p for p in found), found


def test_no_shortcut_is_a_check_only_when_something_is_forbidden(tmp_path, bank):
    text = GOOD.format(id="tiny").replace("fails: check_value", "fails: no_shortcut")
    text = text.replace("needs: numpy\n", "needs: numpy\nforbidden:\n  - math.prod\n")
    assert problems_of(write(tmp_path / "drills", "tiny", text), bank) == []


def test_a_mistake_that_fails_loading_may_be_invalid_python(tmp_path, bank):
    text = GOOD.format(id="tiny").replace("fails: check_value", "fails: loads").replace("return x + 2", "return x +")
    assert problems_of(write(tmp_path / "drills", "tiny", text), bank) == []


def test_bad_yaml_and_non_mapping_are_problems_not_crashes(tmp_path, bank):
    bad = write(tmp_path / "drills", "bad", "id: [unclosed\n")
    scalar = write(tmp_path / "drills", "scalar", "just text\n")
    found = [str(p) for p in check_drills([(tmp_path / "drills", False)], bank=bank)[1]]
    assert any(p.startswith(f"{bad}:") and "invalid YAML" in p for p in found)
    assert any(p.startswith(f"{scalar}:1:") and "must be a mapping" in p for p in found)


def test_duplicate_ids_across_folders_name_the_first(tmp_path, bank):
    first = write(tmp_path / "a" / "drills", "tiny", GOOD.format(id="tiny"))
    second = write(tmp_path / "b" / "drills", "tiny", GOOD.format(id="tiny"))
    drills, problems = check_drills([(first.parent, False), (second.parent, False)], bank=bank)
    assert [d.path for d in drills] == [str(first)]
    assert [str(p) for p in problems] == [f"{second}:1: tiny: duplicate drill id (first defined in {first})"]


def test_duplicate_keys_and_two_bad_mistakes_are_all_reported(tmp_path, bank):
    text = GOOD.format(id="tiny").replace("minutes: 5\n", "minutes: 5\nminutes: 6\n")
    text += "  - just a string\n  - name: x\n    fails: nope\n    message: m\n    code: 'pass'\n"
    found = problems_of(write(tmp_path / "drills", "tiny", text), bank)
    assert any("duplicate key 'minutes'" in p for p in found)
    assert any("mistake 2 must be a mapping" in p for p in found)
    assert any("fails 'nope', which is not a check" in p for p in found)


def test_validate_paths_are_split_into_bank_and_drill_parts(tmp_path):
    bank_dir = tmp_path / "bank"
    (bank_dir / "drills").mkdir(parents=True)
    loose = bank_dir / "drills" / "x.yaml"
    card_file = bank_dir / "cards.yaml"
    folders, files, drill_dirs, drill_files = split_paths([bank_dir, bank_dir / "drills"], [loose, card_file])
    assert folders == [bank_dir]
    assert files == [card_file]
    assert drill_dirs == [(bank_dir / "drills", True), (bank_dir / "drills", True)]
    assert drill_files == [loose]


def test_validate_command_covers_drills(cli, tmp_path):
    ok = cli("validate")
    assert ok.exit_code == 0
    assert f"{len(DRILL_FILES)} drill(s)" in ok.stdout
    path = write(tmp_path / "drills", "tiny", GOOD.format(id="tiny").replace("minutes: 5", "minutes: 99"))
    bad = cli("validate", str(path))
    assert bad.exit_code == 1
    assert f"{path}:5: tiny: 'minutes' must be an integer from 5 to 60, got 99" in bad.stdout
    data = cli("validate", str(path.parent), "--json")
    assert data.exit_code == 1
    assert '"drills": 0' in data.stdout
