"""`dlprep report`: one self-contained HTML page (inline CSS and SVG, no
script, no network) with every figure, quiet when not on a terminal; and the
page as a person sees it, through headless Chromium (skipped without it)."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import screenshot_report as shot
from conftest import HtmlPage

pytestmark = pytest.mark.usefixtures("small_bank")
ALL_FOURS = "backprop=4,activations=4,cnns=4,rnns=4,attention=4,transformers=4,normalization=4,training=4,distributed=4,generative=4,rapid-fire=4"


def _history(cli):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    cli("review", "alpha", "--grade", "2", "--at", "2026-11-20T10:00+01:00")
    cli("review", "beta", "--grade", "4", "--at", "2026-11-21T09:00+01:00")


def test_report_is_one_self_contained_page_with_every_figure(cli, clock, tmp_path):
    _history(cli)
    target = tmp_path / "progress.html"
    result = cli("report", "-o", str(target))
    assert result.exit_code == 0, result.output
    message = " ".join(result.stderr.split())  # one message, wrapped to the terminal; no progress bar off a terminal
    assert message == f"wrote {target} ({len(target.read_text()) // 1024} KB): open it in a browser, or print it"
    page = target.read_text()
    parser = HtmlPage(page)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from the network
    labels = [a.get("aria-label") for t, a in parser.tags if t == "svg"]
    assert labels == [
        "reviews per study day, last 16 weeks",
        "retention per week, last 26 weeks",
        "cards due per day, next 30 days",
        "mastery per topic",
        "self-rating vs measured rating",
    ]
    text = " ".join(parser.text)
    assert "No study plan yet" in text and "No self-assessment yet" in text
    assert "2026-11-20: 2 reviews" not in page and "2026-11-20: 1 reviews, 0 min" in page  # a heatmap tooltip
    assert "@page { size: A4" in page and "break-inside: avoid" in page


def test_report_draws_the_assessment_and_the_plan_checkpoints(cli, clock, tmp_path):
    _history(cli)
    cli("assess", "--ratings", ALL_FOURS + ",basics=2")
    cli("plan", "--role", "mle", "--interview", "2026-12-01")
    data = cli.json("report", "-o", str(tmp_path / "r.html"))
    assert data["output"] == str(tmp_path / "r.html")
    from dlprep.features.assess import AREAS

    areas = data["assessment"]["areas"]
    assert [a["area"] for a in areas] == [*AREAS, "basics"]  # the 11 areas, then other topics rated
    assert {(a["self"], a["measured"]) for a in areas[:-1]} == {(4, None)}  # none of them in the fixture bank
    # basics measured: 1 + 4 x mastery 0.75 (alpha's grades 5, 2 -> 0.7; beta's 4 -> 0.8)
    assert areas[-1] == {"area": "basics", "self": 2, "measured": 4.0}
    plan = data["plan"]
    # 10 days, 8 to study. Weights 1 + weakness: advanced unseen 1.5, basics (mastery 0.75) 1.25, so
    # advanced gets days 0 to int(8 x 1.5 / 2.75) - 1 = 3 and basics 4 to 7. Today is day 0 of 4 in advanced.
    blocks = {b["topic"]: b for b in plan["blocks"]}
    assert (blocks["advanced"]["expected_share"], blocks["advanced"]["seen_share"]) == (0.25, 0.0)
    assert (blocks["basics"]["expected_share"], blocks["basics"]["seen_share"]) == (0.0, 1.0)
    assert plan["milestones"][0] == {
        "day": "2026-11-24",
        "text": "Checkpoint: recall everything so far",
        "passed": False,
        "in_days": 3,
    }
    page = (tmp_path / "r.html").read_text()
    assert 'aria-label="study plan progress"' in page and "in 3 d" in page
    assert "Open circle: your rating" in page and "Self-rating from `dlprep assess` on 2026-11-21" in page


def test_report_to_an_unwritable_place_is_one_line(cli, clock, tmp_path):
    result = cli("report", "-o", str(tmp_path / "missing" / "r.html"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'missing' / 'r.html'}: cannot write")


@pytest.mark.slow
def test_report_renders_in_chromium_and_prints_on_a4(clock, tmp_path, cli):
    chromium = shot.find_chromium()
    if chromium is None:
        pytest.skip("Chromium not installed (apt-get install chromium)")
    _history(cli)
    cli("plan", "--role", "mle", "--interview", "2026-12-01")
    result = shot.render(tmp_path, chromium, height=2600)
    data = result["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (900, 2600)
    assert result["png"].stat().st_size > 40_000  # charts and text, not a blank page
    assert 1 <= result["pages"] <= 5


@pytest.mark.pty
def test_report_shows_a_progress_bar_on_a_terminal(tmp_path):
    import os

    pexpect = pytest.importorskip("pexpect")
    from conftest import FIXTURE_BANK

    env = {
        **os.environ,
        "DLPREP_HOME": str(tmp_path / "home"),
        "DLPREP_BUNDLED_BANK": str(FIXTURE_BANK),
        "DLPREP_NOW": "2026-11-21T10:00:00+01:00",
        "TERM": "xterm",
        "COLUMNS": "80",
    }
    target = tmp_path / "r.html"
    child = pexpect.spawn(
        sys.executable, ["-m", "dlprep", "report", "-o", str(target)], env=env, encoding="utf-8", timeout=60
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert re.search(r"report: (drawing the charts|reading your history)", child.before)
    assert "wrote" in child.before and target.exists()
