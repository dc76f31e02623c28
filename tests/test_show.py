"""`dlprep show`: listing, source, running in a child process with a time
limit, devices, the no-torch path, and the trust prompt for bank demos."""

from __future__ import annotations

import json

import pytest

from dlprep.demos.registry import discover
from dlprep.features.assess import CORE_TOPICS

DEMO_TEMPLATE = '''"""A demo from a user's bank."""

TOPIC = "basics"
TITLE = "{title}"


def run(device="cpu"):
    import time

    from dlprep.demos.base import DemoResult

    time.sleep({sleep})
    return DemoResult(columns=["x"], rows=[[1]], conclusion="user demo ran on " + device, metrics={{"x": 1.0}})
'''


@pytest.fixture
def user_bank(tmp_path):
    bank = tmp_path / "mybank"
    (bank / "demos").mkdir(parents=True)
    (bank / "demos" / "my_demo.py").write_text(DEMO_TEMPLATE.format(title="My demo", sleep=0))
    (bank / "demos" / "slow_demo.py").write_text(DEMO_TEMPLATE.format(title="Slow demo", sleep=30))
    return bank


def test_list_has_every_planned_demo_with_topic_and_title(cli):
    demos = cli.json("show", "--list")
    ids = {d["id"] for d in demos}
    assert len(ids) >= 22
    assert all(d["topic"] and d["title"] and d["bundled"] for d in demos)
    # at least 2 demos for every deep-learning topic and production
    topics = [d["topic"] for d in demos]
    for topic in (*CORE_TOPICS, "production"):
        assert topics.count(topic) >= 2, topic


def test_every_show_me_in_the_bank_points_at_a_demo():
    from dlprep.core.bank import load_bank

    bank = load_bank()
    demos = discover()
    linked = {c.show_me for c in bank.cards if c.show_me}
    assert linked <= set(demos)
    assert len(linked) >= 15  # most demos are linked from a card


def test_code_prints_source(cli):
    result = cli("show", "sigmoid-derivative", "--code", "--json")
    data = json.loads(result.stdout)
    assert data["id"] == "sigmoid-derivative" and "def run(" in data["source"]
    assert "def run(" in cli("show", "sigmoid-derivative", "--code").stdout


@pytest.mark.parametrize("width", [40, 80])
def test_code_is_never_cut_long_lines_continue_after_a_marker(cli, monkeypatch, width):
    from dlprep.cli.render import CodeListing
    from dlprep.demos.registry import discover

    monkeypatch.setenv("COLUMNS", str(width))
    source = discover()["kv-cache"].path.read_text(encoding="utf-8")
    assert max(len(line) for line in source.splitlines()) > width  # there is something to wrap
    out = cli("show", "kv-cache", "--code").stdout
    rebuilt: list[str] = []
    for line in out.splitlines():
        assert len(line) <= width, line
        mark, text = line[:3].strip(), line[4:]
        if mark == CodeListing.CONTINUED:
            rebuilt[-1] += text
        else:
            assert mark == str(len(rebuilt) + 1), line
            rebuilt.append(text)
    assert rebuilt == source.rstrip("\n").split("\n")


def test_unknown_demo_suggests(cli):
    result = cli("show", "sigmoid-derivativ")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown demo 'sigmoid-derivativ' (did you mean 'sigmoid-derivative'?); `dlprep show --list` lists them\n"
    )


def test_without_torch_show_is_one_line_and_the_rest_works(cli, monkeypatch):
    import dlprep.features.demos as demos

    monkeypatch.setattr(demos, "torch_available", lambda: False)
    result = cli("show", "sigmoid-derivative")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: demos need torch: pip install 'dlprep[demos]' (on a CPU-only machine: pip install torch==2.13.0)\n"
    )
    assert cli("show", "--list").exit_code == 0
    assert cli("show", "sigmoid-derivative", "--code").exit_code == 0


torch_needed = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("torch") is None, reason="torch not installed"
)


@torch_needed
def test_runs_in_a_child_process_and_reports_device(cli):
    result = cli("show", "sigmoid-derivative", "--device", "cpu", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["device"] == "cpu" and data["id"] == "sigmoid-derivative"
    assert data["metrics"]["max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert data["conclusion"].startswith("max sigmoid'(x) = 0.2500")


@torch_needed
def test_auto_device_falls_back_to_cpu_here(cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    data = json.loads(cli("show", "sigmoid-derivative", "--json").stdout)
    assert data["device"] in ("cpu", "mps")


@torch_needed
def test_missing_device_is_a_clear_error(cli, capfd):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = cli("show", "sigmoid-derivative", "--device", "cuda")
    assert result.exit_code == 2
    err = capfd.readouterr().err + result.stderr  # the child writes to the real stderr
    assert "error: device cuda was asked for, but torch sees no CUDA GPU here" in err
    assert "Traceback" not in err
    bad = cli("show", "sigmoid-derivative", "--device", "tpu")
    assert bad.exit_code == 2 and "unknown device 'tpu'" in bad.stderr


@torch_needed
def test_bank_demo_needs_confirmation_or_trust(cli, user_bank):
    listed = {d["id"]: d for d in cli.json("--bank", str(user_bank), "show", "--list")}
    assert listed["my-demo"]["bundled"] is False
    refused = cli("--bank", str(user_bank), "show", "my-demo", input="n\n")
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())  # messages wrap between words at the terminal's width
    assert f"my-demo is code from your bank, not from dlprep: {user_bank / 'demos' / 'my_demo.py'}" in said
    assert "not run (use --trust to run bank demos without asking)" in refused.stderr
    ok = cli("--bank", str(user_bank), "show", "my-demo", "--json", input="y\n")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["conclusion"] == "user demo ran on cpu"
    trusted = cli("--bank", str(user_bank), "show", "my-demo", "--trust", "--json")
    assert json.loads(trusted.stdout)["conclusion"] == "user demo ran on cpu"


@torch_needed
def test_hung_demo_is_stopped_by_the_time_limit(cli, user_bank):
    result = cli("--bank", str(user_bank), "show", "slow-demo", "--trust", "--timeout", "3")
    assert result.exit_code == 1
    assert result.stderr == "error: demo slow-demo did not finish within 3s and was stopped\n"


@torch_needed
def test_quiz_runs_the_demo_with_s_and_continues(cli, small_bank, clock, capfd):
    result = cli("quiz", "--limit", "1", input="\na\n\ny\ns\n\n")
    assert result.exit_code == 0
    out = capfd.readouterr().out  # the demo's child process writes to the real stdout
    assert "Sigmoid's derivative is at most 0.25" in out
    assert "saved: grade 5" in result.stdout


def test_wide_demo_tables_are_transposed_to_fit_the_terminal():
    from rich.console import Console

    from dlprep.demos.runner import demo_table

    columns = ["d_k"] + [f"a long metric name {i}" for i in range(7)]
    rows = [[str(d)] + [f"{d * i}.5" for i in range(7)] for d in (16, 64, 256)]
    narrow = demo_table(columns, rows, 80)
    assert [str(c.header) for c in narrow.columns] == ["d_k", "16", "64", "256"]  # transposed
    console = Console(width=80, record=True)
    console.print(narrow)
    assert "a long metric name 6" in console.export_text()  # not folded mid-name
    wide = demo_table(columns, rows, 400)
    assert [str(c.header) for c in wide.columns] == columns  # fits: left as it is


def cached_demo(demo_id: str):
    """The demo's result from the session-wide cache the demo tests use (each demo runs once)."""
    import sys
    from pathlib import Path

    folder = str(Path(__file__).parent / "demos")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from demo_cache import result

    return result(demo_id)


@torch_needed
@pytest.mark.parametrize("demo_id", ["kv-cache", "causal-mask"])
def test_demo_tables_fit_60_80_and_120_columns_without_splitting_a_word(demo_id):
    import io

    from conftest import assert_fits
    from rich.console import Console

    from dlprep.demos.runner import demo_table

    r = cached_demo(demo_id)

    def shown(width: int) -> str:
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(demo_table(r.columns, r.rows, width))
        return console.export_text()

    reference = shown(1000)
    for width in (60, 80, 120):
        assert_fits(shown(width), reference, width, demo_id)
    if demo_id == "causal-mask":  # each row of the triangle stays on one line
        for row in r.rows:
            assert row[1] in shown(80)
