"""Render a cheat sheet to HTML and look at it the way a person would:
a headless-Chromium screenshot (PNG) and a print to PDF (A4).

    python scripts/screenshot_cheatsheet.py [TOPIC | --all] [--out DIR]

Needs Chromium (`apt-get install chromium` on Debian). Prints the paths of
the HTML, PNG and PDF files and the PDF's page count; exits 2 when no
Chromium is found. tests/test_cheatsheet_render.py runs it when Chromium is
installed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def render(topic: str | None, out: Path, chromium: str) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    html = out / "cheatsheet.html"
    args = [
        sys.executable,
        "-m",
        "dlprep",
        "cheatsheet",
        *(["--all"] if topic is None else [topic]),
        "--format",
        "html",
        "-o",
        str(html),
    ]
    subprocess.run(args, check=True, capture_output=True)
    return shoot(html, out / "cheatsheet", chromium)


def shoot(html: Path, stem: Path, chromium: str, height: int = 1270) -> dict[str, object]:
    """A 900 x ``height`` screenshot (``stem``.png) and an A4 print (``stem``.pdf) of a page."""
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as profile:
        common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        subprocess.run(
            [*common, f"--window-size=900,{height}", f"--screenshot={png}", html.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [*common, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return {"html": html, "png": png, "pdf": pdf, "pages": pdf_pages(pdf)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topic", nargs="?")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "dlprep-cheatsheet")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 2
    if not args.all and not args.topic:
        parser.error("name a topic or use --all")
    result = render(None if args.all else args.topic, args.out, chromium)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
