"""Every test gets its own empty DLPREP_HOME and no fixed clock unless it asks,
and runs with the machine in a zone other than UTC (see ``machine_zone``)."""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"


@pytest.fixture(autouse=True)
def dlprep_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DLPREP_HOME", str(home))
    for var in ("DLPREP_NOW", "DLPREP_BUNDLED_BANK", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    return home


# Behind UTC (with DST) and ahead of it by a half hour: a test that only passes
# when local time is UTC, or code that mixes local time with UTC, fails here.
ZONES = ("America/Los_Angeles", "Asia/Kolkata")
# Modules where local time meets the schedule: every test runs in both zones.
BOTH_ZONES = {"test_scheduler", "test_store", "test_timezones"}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_ZONES:
        metafunc.parametrize("machine_zone", ZONES, indirect=True)


@pytest.fixture(autouse=True)
def machine_zone(request):
    """Set the machine's zone (TZ) for one test: both zones in BOTH_ZONES
    modules, otherwise one of them chosen by the test's name."""
    zone = getattr(request, "param", None) or ZONES[zlib.crc32(request.node.nodeid.encode()) % len(ZONES)]
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    assert datetime(2026, 11, 21, 12).astimezone().utcoffset().total_seconds() != 0, f"no zone data for {zone}"
    yield zone
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture
def small_bank(monkeypatch):
    """Swap the bundled bank for the three-card fixture bank."""
    monkeypatch.setenv("DLPREP_BUNDLED_BANK", str(FIXTURE_BANK))
    return FIXTURE_BANK


@pytest.fixture
def clock(monkeypatch):
    """Set the time dlprep sees: clock('2026-11-21T10:00+01:00')."""

    def set_now(iso: str) -> None:
        monkeypatch.setenv("DLPREP_NOW", iso)

    set_now("2026-11-21T10:00:00+01:00")
    return set_now


class Runner:
    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        from dlprep.cli import app

        return self.runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    def json(self, *args: str, input: str | None = None):
        result = self(*args, "--json", input=input)
        assert result.exit_code == 0, result.output + str(result.stderr)
        return json.loads(result.stdout)


@pytest.fixture
def cli():
    return Runner()


SEPARATORS = re.compile(r"[\s·│┃┏┓┗┛━─┡┩╇┳┻╋├┤┬┴╭╮╰╯└┌┐┘]+")


def tokens(text: str) -> set[str]:
    return {t for t in SEPARATORS.split(text) if t}


def assert_fits(output: str, reference: str, width: int, what: object = "") -> None:
    """No line wider than ``width``, and no word of ``reference`` (the same
    output at a width where nothing wraps) split or cut: every word shown is a
    whole word. Only a word too long for any line (a URL, a long line of code
    in an answer) may be folded."""
    from rich.cells import cell_len

    wide = tokens(reference)
    assert [line for line in output.splitlines() if cell_len(line) > width] == [], (what, width)
    too_long = [w for w in wide if cell_len(w) > width - 12]
    split = sorted(t for t in tokens(output) - wide if not any(t in w for w in too_long))
    assert split == [], (what, width, split)


class HtmlPage(HTMLParser):
    """An HTML page's start tags (name, attributes) and text pieces, in order."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def pytest_report_header(config):
    try:
        import torch

        return f"torch {torch.__version__} (demo tests run)"
    except ImportError:
        return "torch not installed: demo tests are skipped"


os.environ.setdefault("PYTHONHASHSEED", "0")
