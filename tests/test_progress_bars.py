"""Progress bars: shown on a terminal, silent otherwise; and `show --all`,
which runs every demo in turn behind one."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from dlprep.cli.progress import progress_bar

torch_needed = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("torch") is None, reason="torch not installed"
)


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=80), buffer


def test_a_bar_is_drawn_on_a_terminal_and_counts_every_tick():
    con, buffer = console(True)
    with progress_bar("importing", 10, console=con) as tick:
        for _ in range(10):
            tick(1)
    assert "importing" in buffer.getvalue() and "100%" in buffer.getvalue()


@pytest.mark.parametrize(
    ("terminal", "total", "enabled"),
    [(False, 10, True), (True, 0, True), (True, 10, False)],
    ids=["pipe", "empty", "off"],
)
def test_no_bar_off_a_terminal_for_no_work_or_when_disabled(terminal, total, enabled):
    con, buffer = console(terminal)
    with progress_bar("importing", total, console=con, enabled=enabled) as tick:
        tick(5)
    assert buffer.getvalue() == ""


def test_commands_in_a_pipe_print_no_bar(cli, small_bank, tmp_path):
    result = cli("export", "md", "-o", str(tmp_path / "md"))
    assert result.exit_code == 0
    assert "━" not in result.stderr and "%" not in result.stderr


@pytest.mark.pty
def test_importing_on_a_terminal_shows_a_bar(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    from conftest import FIXTURE_BANK

    lines = [json.dumps({"format": "dlprep-progress", "version": 1})]
    lines += [
        json.dumps(
            {
                "type": "review",
                "card_id": "alpha",
                "at": f"2026-01-01T{h:02d}:{m:02d}:00+00:00",
                "grade": 4,
                "mode": "quiz",
                "counts": True,
                "rollover_hour": 4,
            }
        )
        for h in range(24)
        for m in range(60)
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "DLPREP_HOME": str(tmp_path / "home"), "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK)}
    env.update(TERM="xterm", COLUMNS="80", LINES="24")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "dlprep", "import", "progress", str(path)],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 80),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "checking progress file" in child.before  # the bar, drawn then cleared
    assert "imported 1440 new review(s)" in " ".join(child.before.split())


# ---------------------------------------------------------------- show --all

DEMO = '''"""A demo from a user's bank."""

TOPIC = "basics"
TITLE = "{title}"


def run(device="cpu"):
    import time

    from dlprep.demos.base import DemoResult

    time.sleep({sleep})
    if "{title}" == "Broken demo":
        raise ValueError("broken on purpose")
    return DemoResult(columns=["x"], rows=[[1]], conclusion="{title} ran", metrics={{"x": 1.0}})
'''


@pytest.fixture
def demo_bank(tmp_path) -> Path:
    bank = tmp_path / "mybank"
    (bank / "demos").mkdir(parents=True)
    (bank / "demos" / "quick_demo.py").write_text(DEMO.format(title="Quick demo", sleep=0))
    (bank / "demos" / "broken_demo.py").write_text(DEMO.format(title="Broken demo", sleep=0))
    return bank


def test_show_all_refuses_a_demo_id_and_topic_needs_all(cli):
    both = cli("show", "kv-cache", "--all")
    assert both.exit_code == 2 and "--all runs every demo" in both.stderr
    topic = cli("show", "kv-cache", "--topic", "transformers")
    assert topic.exit_code == 2 and "--topic goes with --all" in topic.stderr
    none = cli("show", "--all", "--topic", "no-such-topic")
    assert none.exit_code == 1 and none.stderr == "error: no demos for topic(s) no-such-topic\n"


def test_show_all_skips_bank_demos_unless_trusted(cli, demo_bank):
    result = cli("--bank", str(demo_bank), "show", "--all", "--topic", "basics")
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "skipped 2 demo(s) from your bank: broken-demo, quick-demo (--trust runs them)" in said
    assert said.endswith("error: nothing to run")


@torch_needed
@pytest.mark.slow
def test_show_all_runs_each_demo_reports_a_failed_one_and_exits_1(cli, demo_bank):
    result = cli("--bank", str(demo_bank), "show", "--all", "--topic", "basics", "--trust", "--json")
    assert result.exit_code == 1
    runs = json.loads(result.stdout)
    assert [(r["id"], r["ok"]) for r in runs] == [("broken-demo", False), ("quick-demo", True)]
    assert runs[1]["conclusion"] == "Quick demo ran" and runs[0]["status"] not in (0, None)
    assert " ".join(result.stderr.split()).endswith("ran 2 demo(s): 1 ok, failed: broken-demo")


def test_run_each_reports_a_demo_stopped_by_the_time_limit_and_goes_on(demo_bank, monkeypatch):
    import subprocess

    from dlprep.demos.registry import discover
    from dlprep.features import demos

    def fake_run(cmd, timeout, **kwargs):
        if "broken_demo.py" in cmd[3]:
            raise subprocess.TimeoutExpired(cmd, timeout)
        return subprocess.CompletedProcess(cmd, 0, "table\n", "")

    monkeypatch.setattr(demos.subprocess, "run", fake_run)
    monkeypatch.setattr(demos, "torch_available", lambda: True)
    found = discover([demo_bank / "demos"])
    done = []
    runs = demos.run_each([found["broken-demo"], found["quick-demo"]], "cpu", timeout_s=3, on_done=done.append)
    assert done == runs and [(r.id, r.status, r.ok) for r in runs] == [
        ("broken-demo", None, False),
        ("quick-demo", 0, True),
    ]
    assert runs[0].stderr == "error: demo broken-demo did not finish within 3s and was stopped\n"
    assert runs[1].stdout == "table\n"
