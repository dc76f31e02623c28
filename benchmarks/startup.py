"""How fast dlprep starts: wall time of everyday commands, each in a fresh process.

    python benchmarks/startup.py [--runs 10] [--json]

Each command runs against a temporary DLPREP_HOME holding a realistic review
history (every card of the bundled bank reviewed a few times), so `today`
and `card` do real work. The budget column is what "feels instant" means for
this tool; the script exits 1 if a median goes over its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# command -> budget for the median, in seconds (on a 2-core CI machine)
COMMANDS: dict[str, tuple[list[str], float]] = {
    "--help": (["--help"], 0.25),
    "--version": (["--version"], 0.25),
    "topics": (["topics"], 0.6),
    "card": (["card", "{card}"], 0.8),
    "today": (["today"], 0.8),
    "due --json": (["due", "--json"], 0.8),
    "show --list": (["show", "--list"], 0.5),
}


def seed_history(home: Path) -> str:
    """Review every card three times; returns one card id."""
    from dlprep.core.bank import load_bank
    from dlprep.core.store import Review, Store

    bank = load_bank()
    store = Store.open(home / "dlprep.db")
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    for i, card in enumerate(bank.cards):
        at = start + timedelta(minutes=i)
        for grade in (4, 3, 5):
            state = store.record(Review(card.id, grade, at, mode="quiz", seconds=60.0))
            at = datetime.combine(state.due, at.timetz())
    store.close()
    return bank.cards[0].id


def time_command(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "dlprep", *args], env=env, capture_output=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"dlprep {' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "DLPREP_HOME": str(home), "DLPREP_NOW": "2026-11-21T10:00:00+00:00"}
        os.environ["DLPREP_HOME"] = str(home)
        card = seed_history(home)
        baseline = statistics.median(time_command_raw([sys.executable, "-c", "pass"], env, args.runs))
        results = []
        for name, (cmd, budget) in COMMANDS.items():
            times = time_command([c.format(card=card) for c in cmd], env, args.runs)
            med = statistics.median(times)
            results.append(
                {
                    "command": name,
                    "median_s": round(med, 4),
                    "min_s": round(min(times), 4),
                    "budget_s": budget,
                    "ok": med <= budget,
                }
            )
    if args.json:
        print(json.dumps({"python_startup_s": round(baseline, 4), "results": results}, indent=2))
    else:
        print(f"python -c pass: {baseline * 1000:.0f} ms (the floor)")
        print(f"{'command':<14} {'median':>8} {'min':>8} {'budget':>8}")
        for r in results:
            flag = "" if r["ok"] else "  OVER BUDGET"
            print(
                f"{r['command']:<14} {r['median_s'] * 1000:>6.0f}ms {r['min_s'] * 1000:>6.0f}ms "
                f"{r['budget_s'] * 1000:>6.0f}ms{flag}"
            )
    return 0 if all(r["ok"] for r in results) else 1


def time_command_raw(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return times


if __name__ == "__main__":
    sys.exit(main())
