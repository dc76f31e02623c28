"""The HTML cheat sheet as a person sees it: rendered by headless Chromium to
PNG and to an A4 PDF (skipped where Chromium is not installed)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import screenshot_cheatsheet as shot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium():
    path = shot.find_chromium()
    if path is None:
        pytest.skip("Chromium not installed (apt-get install chromium)")
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_one_topic_renders_to_a_screenshot_and_fits_a4(chromium, tmp_path):
    result = shot.render("attention", tmp_path, chromium)
    assert png_size(result["png"]) == (900, 1270)
    assert result["png"].stat().st_size > 20_000  # a page with text on it, not a blank one
    assert 1 <= result["pages"] <= 4  # one topic prints on a few A4 pages


def test_all_topics_start_each_on_a_new_page(chromium, tmp_path):
    from dlprep.core.bank import load_bank

    result = shot.render(None, tmp_path, chromium)
    assert result["pages"] >= len(load_bank().topics)


def test_sheets_list_the_topics_references_with_links(tmp_path):
    from dlprep.core.bank import load_bank
    from dlprep.features.cheatsheet import build_sheet, to_html, to_markdown

    bank = load_bank()
    sheet = build_sheet(bank, "attention")
    cited = {c.key for card in bank.cards_in("attention") for c in card.references}
    assert {k for k, _, _ in sheet.references} == cited
    vaswani = next(r for r in sheet.references if r[0] == "vaswani2017attention")
    assert vaswani[1].startswith("Vaswani et al. 2017. Attention Is All You Need.")
    assert vaswani[2] == "https://arxiv.org/abs/1706.03762"
    md = to_markdown([sheet])
    assert "## References" in md and f"]({vaswani[2]})" in md
    page = to_html([sheet])
    assert f'<a href="{vaswani[2]}">' in page
    # Papers and books come before documentation pages.
    kinds = [bank.references[k].type == "docs" for k, _, _ in sheet.references]
    assert kinds == sorted(kinds)
    assert sheet.to_dict()["references"][0]["text"]
