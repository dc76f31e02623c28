"""Write `dlprep report` for the current DLPREP_HOME and look at it the way a
person would: a headless-Chromium screenshot (PNG) and a print to PDF (A4).

    python scripts/screenshot_report.py [--out DIR] [--height 2600]

Needs Chromium (`apt-get install chromium` on Debian); exits 2 without it.
tests/test_report_render.py runs it when Chromium is installed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_cheatsheet import find_chromium, shoot


def render(out: Path, chromium: str, height: int = 2600) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    html = out / "report.html"
    subprocess.run([sys.executable, "-m", "dlprep", "report", "-o", str(html)], check=True, capture_output=True)
    return shoot(html, out / "report", chromium, height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "dlprep-report")
    parser.add_argument("--height", type=int, default=2600)
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 2
    for key, value in render(args.out, chromium, args.height).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
