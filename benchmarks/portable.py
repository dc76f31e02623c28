"""How fast a long history moves: import, re-import, export and backup of a
100,000-review log, each a fresh `dlprep` process on a temporary DLPREP_HOME.

    python benchmarks/portable.py [--reviews 100000] [--json]

The log spreads the reviews over every card of the bundled bank, 30 minutes
apart. Exits 1 if a step goes over its budget (seconds, on a 2-core CI
machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BUDGETS = {"import": 30.0, "import again": 15.0, "export": 10.0, "backup": 5.0}


def write_log(path: Path, n: int) -> None:
    from dlprep.core.bank import load_bank

    cards = [c.id for c in load_bank().cards]
    rng = random.Random(1)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    line = (
        '{{"type": "review", "card_id": "{}", "at": "{}", "grade": {}, "mode": "quiz", "counts": true, '
        '"rollover_hour": 4, "seconds": 40.0}}\n'
    )
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "dlprep-progress", "version": 1, "counts": {"review": n}}) + "\n")
        f.writelines(
            line.format(cards[i % len(cards)], (start + timedelta(minutes=30 * i)).isoformat(), rng.randrange(6))
            for i in range(n)
        )


def run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dlprep", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"dlprep {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        log = tmp_path / "long.jsonl"
        write_log(log, args.reviews)
        env = {**os.environ, "DLPREP_HOME": str(tmp_path / "home")}
        env.pop("DLPREP_NOW", None)
        times = {
            "import": run(["import", "progress", str(log)], env),
            "import again": run(["import", "progress", str(log)], env),
            "export": run(["export", "progress", "-o", str(tmp_path / "out.jsonl")], env),
            "backup": run(["backup", "-o", str(tmp_path / "b.db")], env),
        }
    over = {k: t for k, t in times.items() if t > BUDGETS[k]}
    if args.json:
        print(json.dumps({"reviews": args.reviews, "seconds": times, "budgets": BUDGETS, "over": sorted(over)}))
    else:
        print(f"{args.reviews} reviews")
        for k, t in times.items():
            print(f"{k:<14}{t:7.2f}s  budget {BUDGETS[k]:.0f}s{'  OVER' if k in over else ''}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
