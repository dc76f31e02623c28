"""A large, plausible review history, written straight into SQLite, and the
time `dlprep stats` and `dlprep report` take on it in a fresh process.

    python benchmarks/big_history.py [--reviews 100000] [--runs 5] [--keep DIR] [--cpu]

``--cpu`` times CPU (user + sys) of each process instead of wall time: on a
machine busy with other work, CPU time is the fairer comparison.

About 120 reviews a study day, ending on the fixed "now" below, across two
UTC offsets (a move from +01:00 to -08:00 half way), some before the rollover
hour; mostly scheduled quiz reviews, with same-day repeats, cram and rapid
reviews, rubric marks, follow-ups and timings. `Store.rebuild()` then derives
every card's state from the log. Also used by tests/test_stats_big.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

NOW = "2026-11-21T10:00:00+01:00"
PER_DAY = 120


def write_history(db: Path, cards: list[tuple[str, int]], reviews: int, end: datetime, seed: int = 0) -> None:
    """``reviews`` rows over ``cards`` ((id, rubric points)), the last on ``end``'s day."""
    from dlprep.core.store import Store

    rng = random.Random(seed)
    store = Store.open(db)
    days = -(-reviews // PER_DAY)
    first = (end - timedelta(days=days - 1)).astimezone(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    zones = (timezone(timedelta(hours=1)), timezone(timedelta(hours=-8)))
    rows = []
    for i in range(reviews):
        day, k = divmod(i, PER_DAY)
        at_utc = first + timedelta(days=day, seconds=k * 150)  # 120 reviews over 5 hours
        local = at_utc.astimezone(zones[0] if day < days // 2 else zones[1])
        card, points = cards[rng.randrange(len(cards))]
        mode = rng.choices(("quiz", "repeat", "cram", "rapid"), (90, 5, 3, 2))[0]
        hit = sorted(rng.sample(range(points), rng.randint(0, points)))
        follow = rng.choice((None, None, "got", "missed"))
        rows.append(
            (
                card,
                local.isoformat(),
                at_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                rng.choices(range(6), (3, 5, 7, 25, 35, 25))[0],
                mode,
                int(mode == "quiz"),
                json.dumps(hit),
                len(hit) / points,
                follow,
                0 if follow else None,
                round(rng.uniform(10, 240), 1),
                4,
            )
        )
    store.conn.execute("PRAGMA synchronous = OFF")  # a throwaway database: no need to wait for the disk
    store.conn.execute("BEGIN")  # one transaction: the store's connection is in autocommit mode
    store.conn.executemany(
        "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, points_hit, coverage, follow_up,"
        " follow_up_index, seconds, rollover_hour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    store.conn.execute("COMMIT")
    store.rebuild()
    store.close()


def bank_cards() -> list[tuple[str, int]]:
    from dlprep.core.bank import load_bank

    return [(c.id, len(c.rubric)) for c in load_bank().cards]


def timed(args: list[str], env: dict[str, str], runs: int, cpu: bool = False) -> list[float]:
    """Wall times of ``runs`` runs, or with ``cpu`` their CPU (user + sys) times."""
    import resource

    times = []
    for _ in range(runs):
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(args, env=env, capture_output=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        times.append(used if cpu else time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return times


MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x"):
    print(name)
@app.command()
def bye():
    pass
app()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the history here and keep it")
    parser.add_argument("--cpu", action="store_true", help="time CPU (user + sys) rather than wall time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DLPREP_HOME": str(home), "DLPREP_NOW": NOW}
        if not (home / "dlprep.db").exists():
            t0 = time.perf_counter()
            write_history(home / "dlprep.db", bank_cards(), args.reviews, datetime.fromisoformat(NOW))
            print(f"wrote {args.reviews} reviews in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        typer_app = Path(tmp) / "minimal_typer.py"
        typer_app.write_text(MINIMAL_TYPER)
        what = "CPU" if args.cpu else "wall"
        base = statistics.median(timed([sys.executable, str(typer_app), "--help"], env, args.runs, args.cpu))
        print(f"minimal Typer app --help: median {what} {base:.3f} s (budget for stats: 2x = {2 * base:.3f} s)")
        dlprep = [sys.executable, "-m", "dlprep"]
        commands = (
            ["stats"],
            ["stats", "--json"],
            ["stats", "--topic", "fundamentals"],
            ["report", "-o", str(Path(tmp) / "r.html")],
        )
        for cmd in commands:
            med = statistics.median(timed([*dlprep, *cmd], env, args.runs, args.cpu))
            print(f"dlprep {' '.join(cmd[:3])}: median {what} {med:.3f} s ({med / base:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
