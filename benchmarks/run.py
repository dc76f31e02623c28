"""Every daily command at scale, against its budget (issue #16).

    python benchmarks/run.py [--runs 7] [--json] [--keep DIR] [--only NAME ...] [--cpu]

Builds, in a temporary DLPREP_HOME: the bundled bank plus an extra card
folder to reach 1,000 cards, a plan, a self-assessment, and a 100,000-review
log over three years written straight into SQLite, then runs `dlprep db
rebuild`. Then times, as whole processes (median of --runs), B = `--help` of
a minimal two-command Typer app, and every row of the table below; prints
median, ratio to B and budget, and exits 1 when a budget is missed.

The bank-load step times, in fresh processes after the imports: `warm`, the
unchanged bank from its cache; `cold`, loading and validating the YAML (the
bank changed; demo scans still cached); `first_run`, the same with an empty
cache folder. `--only bank` runs just that step; `--cpu` times it in CPU
time, which another process's load disturbs less than wall time.

Timings are noisy on a shared 2-core machine: run it when the machine is
idle, and re-run before believing a miss.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's dlprep, here and in the timed processes (cwd=ROOT)
TARGET_CARDS = 1_000
REVIEWS = 100_000
YEARS = 3
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BREAK_DAYS = 12  # the log ends this many days before NOW: a long due list

# name -> (arguments, budget as a multiple of B). "{card}" and "{topic}" are filled in.
TABLE: dict[str, tuple[list[str], float]] = {
    "dlprep --help": (["--help"], 1.2),
    "dlprep review CARD --grade 4": (["review", "{card}", "--grade", "4"], 1.5),
    "dlprep quiz (first card on screen)": (["quiz"], 1.5),
    "dlprep today": (["today"], 1.5),
    "dlprep due": (["due"], 1.5),
    "dlprep cards": (["cards"], 1.5),
    "dlprep topics --tree": (["topics", "--tree"], 2.0),
    "dlprep cheatsheet TOPIC --weak": (["cheatsheet", "{topic}", "--weak"], 2.0),
    "dlprep plan": (["plan"], 2.0),
    "dlprep assess --show": (["assess", "--show"], 2.0),
    "dlprep stats": (["stats"], 2.0),
}

MINIMAL_APP = """
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    print(name)


@app.command()
def bye() -> None:
    print("bye")


app()
"""


# ------------------------------------------------------------------ data


def write_extra_cards(folder: Path, need: int) -> None:
    """``need`` cards copied from the bundled bank under new ids, one file per topic."""
    import yaml

    from dlprep import paths

    sources = []
    for f in sorted(paths.bundled_bank_dir().glob("*.yaml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "cards" in data and "topic" in data:
            sources += [(data["topic"], c) for c in data["cards"]]
    by_topic: dict[str, list[dict]] = {}
    for i in range(need):
        topic, card = sources[i % len(sources)]
        copy = dict(card)
        copy["id"] = f"{card['id']}-x{i // len(sources) + 1}"
        copy["question"] = f"{card['question']} (variant {i // len(sources) + 1})"
        by_topic.setdefault(topic, []).append(copy)
    folder.mkdir(parents=True, exist_ok=True)
    for topic, cards in by_topic.items():
        (folder / f"{topic}-extra.yaml").write_text(
            yaml.safe_dump({"topic": topic, "cards": cards}, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )


def write_log(db: Path, cards: list[tuple[str, int]], rng: random.Random) -> None:
    """REVIEWS reviews over YEARS years, ending BREAK_DAYS before NOW, straight into SQLite."""
    days = 365 * YEARS
    start = NOW - timedelta(days=days + BREAK_DAYS)
    per_day = REVIEWS // days
    rows = []
    at_id = 0
    for d in range(days):
        n = per_day + (1 if d < REVIEWS - per_day * days else 0)
        t = start + timedelta(days=d, hours=8)
        for _ in range(n):
            at_id += 1
            t += timedelta(seconds=rng.randint(20, 240))
            card_id, rubric = cards[rng.randrange(len(cards))]
            repeat = rng.random() < 0.08
            grade = rng.choices(range(6), weights=(3, 4, 8, 25, 35, 25))[0]
            points = sorted(rng.sample(range(rubric), rng.randint(0, rubric))) if rng.random() < 0.6 else None
            rows.append(
                (
                    card_id,
                    t.isoformat(),
                    t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    grade,
                    "repeat" if repeat else rng.choice(("quiz", "quiz", "rapid", "review")),
                    0 if repeat else 1,
                    json.dumps(points) if points is not None else None,
                    round(rng.uniform(15, 300), 1),
                    4,
                )
            )
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, points_hit, seconds, rollover_hour)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


def dlprep(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dlprep", *args], env=env, capture_output=True, cwd=ROOT)
    if check and proc.returncode != 0:
        raise SystemExit(f"dlprep {' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return proc


def build_home(home: Path, env: dict[str, str]) -> dict[str, str]:
    """The data set; returns the values for the table's placeholders and setup timings."""
    from dlprep.core.bank import load_bank

    bundled = load_bank()
    extra = home / "extra-cards"
    write_extra_cards(extra, TARGET_CARDS - len(bundled.cards))
    (home / "config.yaml").write_text(f"banks: [{extra}]\n", encoding="utf-8")
    t0 = time.perf_counter()
    dlprep(["cards", "--json"], env)  # validates the bank and writes its cache
    bank = load_bank([extra])
    from dlprep.core.store import Store

    Store.open(home / "dlprep.db").close()
    rng = random.Random(16)
    write_log(home / "dlprep.db", [(c.id, len(c.rubric)) for c in bank.cards], rng)
    t1 = time.perf_counter()
    dlprep(["db", "rebuild"], env)
    rebuild_s = time.perf_counter() - t1
    dlprep(["plan", "--role", "mle", "--interview", (NOW + timedelta(days=40)).date().isoformat()], env)
    from dlprep.features.assess import AREAS

    dlprep(["assess", "--ratings", ",".join(f"{a}=3" for a in AREAS)], env)
    return {
        "card": bank.cards[0].id,
        "topic": bank.topic_order()[0],
        "cards": str(len(bank.cards)),
        "setup_s": f"{t1 - t0:.1f}",
        "rebuild_s": f"{rebuild_s:.2f}",
    }


# ------------------------------------------------------------------ timing


def time_process(cmd: list[str], env: dict[str, str], until: str | None = None) -> float:
    """Wall time of one process in a pseudo-terminal (what a person sees: Rich
    renders for a terminal, long lists are capped), until it exits or prints ``until``."""
    import pexpect

    t0 = time.perf_counter()
    child = pexpect.spawn(cmd[0], cmd[1:], env=env, cwd=str(ROOT), dimensions=(40, 100), timeout=60)
    try:
        if until:
            child.expect(until)
            return time.perf_counter() - t0
        output = child.read()
        child.close()
        elapsed = time.perf_counter() - t0
    finally:
        child.terminate(force=True)
    if child.exitstatus != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {output.decode(errors='replace').strip()[-500:]}")
    return elapsed


def measure(name: str, args: list[str], env: dict[str, str], runs: int) -> list[float]:
    until = "Enter reveal" if name.startswith("dlprep quiz") else None  # the first card's prompt
    return [time_process([sys.executable, "-m", "dlprep", *args], env, until) for _ in range(runs)]


BANK_PRIME_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from dlprep.core import bankcache
from dlprep.core.bank.load import load_bank
from dlprep.config import load_config
extra = [Path(b) for b in load_config().banks]
bankcache.load_bank_cached(extra)  # the bank cache, if this checkout's format or the bank changed
load_bank(extra)
try:
    from dlprep.demos.registry import save_scans
    save_scans()  # the demo scans' cache (the bank cache writes it only on a miss)
except ImportError:  # an older checkout
    pass
"""
BANK_LOAD_SCRIPT = """
import json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from dlprep.core import bankcache
from dlprep.core.bank.load import load_bank
from dlprep.config import load_config
extra = [Path(b) for b in load_config().banks]
try:
    from dlprep.core.yamlfile import _yaml_rs
    _yaml_rs()  # the fast parser's import, before the clock like every other import
except ImportError:  # an older checkout
    pass
t0 = time.process_time() if CPU else time.perf_counter()
cached = bankcache.load_bank_cached(extra)
warm = (time.process_time() if CPU else time.perf_counter()) - t0
t0 = time.process_time() if CPU else time.perf_counter()
bank = load_bank(extra)
cold = (time.process_time() if CPU else time.perf_counter()) - t0
os.environ["DLPREP_HOME"] = tempfile.mkdtemp()  # an empty cache folder: nothing cached at all
t0 = time.process_time() if CPU else time.perf_counter()
first = load_bank(extra)
first_run = (time.process_time() if CPU else time.perf_counter()) - t0
assert len(cached.cards) == len(bank.cards) == len(first.cards)
print(json.dumps({"cold": cold, "warm": warm, "first_run": first_run}))
"""
# seconds: load and validate the YAML (the bank changed; demo scans cached) / unchanged bank from the cache.
# "first_run" (nothing cached, not even the demo scans) is reported without a budget.
BANK_BUDGETS = {"cold": 0.300, "warm": 0.050}


def bank_load_times(env: dict[str, str], runs: int, cpu: bool = False) -> dict[str, float]:
    """Medians, each from a fresh process (imports done before the clock starts), after
    one process that brings the caches up to date. ``cpu``: CPU time of the process
    instead of wall time (steadier on a busy machine)."""
    subprocess.run([sys.executable, "-c", BANK_PRIME_SCRIPT, str(ROOT)], env=env, capture_output=True, check=True)
    script = f"CPU = {cpu!r}\n" + BANK_LOAD_SCRIPT
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env, capture_output=True, check=True)
        for k, v in json.loads(proc.stdout).items():
            samples.setdefault(k, []).append(v)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="Build the data here and keep it (reused if it exists).")
    parser.add_argument(
        "--only",
        nargs="*",
        help="Only rows whose name contains one of these words; 'bank' is the bank-load step (else skipped).",
    )
    parser.add_argument("--cpu", action="store_true", help="Bank load: CPU time of the process, not wall time.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp)
        env = {**os.environ, "DLPREP_HOME": str(home), "DLPREP_NOW": NOW.isoformat(), "TERM": "xterm-256color"}
        env.pop("COLUMNS", None)
        env.pop("NO_COLOR", None)
        os.environ["DLPREP_HOME"] = str(home)
        marker = home / "benchmark.json"
        if args.keep and marker.exists():
            values = json.loads(marker.read_text())
        else:
            home.mkdir(parents=True, exist_ok=True)
            values = build_home(home, env)
            marker.write_text(json.dumps(values))
        app = Path(tmp) / "minimal_app.py"
        app.write_text(MINIMAL_APP)
        rows = {name: row for name, row in TABLE.items() if not args.only or any(w in name for w in args.only)}
        base_times = [time_process([sys.executable, str(app), "--help"], env) for _ in range(args.runs if rows else 0)]
        base = statistics.median(base_times) if base_times else float("nan")
        results = []
        for name, (cmd, budget) in rows.items():
            times = measure(name, [c.format(**values) for c in cmd], env, args.runs)
            med = statistics.median(times)
            results.append(
                {
                    "command": name,
                    "median_s": round(med, 4),
                    "min_s": round(min(times), 4),
                    "ratio": round(med / base, 2),
                    "budget_ratio": budget,
                    "ok": med <= budget * base,
                }
            )
        bank_load = bank_load_times(env, args.runs, args.cpu) if not args.only or "bank" in args.only else {}
    bank_ok = all(bank_load[k] <= BANK_BUDGETS[k] for k in BANK_BUDGETS if k in bank_load)
    data = {
        "bank_load_s": {k: round(v, 4) for k, v in bank_load.items()},
        "bank_load_clock": "cpu" if args.cpu else "wall",
        "bank_load_budget_s": BANK_BUDGETS,
        "cards": int(values["cards"]),
        "reviews": REVIEWS,
        "db_rebuild_s": float(values["rebuild_s"]),
        "baseline_s": round(base, 4) if base_times else None,
        "results": results,
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(
            f"{data['cards']} cards, {REVIEWS:,} reviews; db rebuild took {values['rebuild_s']} s; "
            f"B (minimal Typer app --help) = {f'{base * 1000:.0f} ms' if base_times else 'not run'}; "
            f"median of {args.runs} runs"
        )
        print(f"{'command':<36} {'median':>8} {'min':>8} {'x B':>6} {'budget':>7}")
        for r in results:
            flag = "" if r["ok"] else "  OVER BUDGET"
            print(
                f"{r['command']:<36} {r['median_s'] * 1000:>6.0f}ms {r['min_s'] * 1000:>6.0f}ms "
                f"{r['ratio']:>6.2f} {r['budget_ratio']:>6.1f}x{flag}"
            )
        clock = "CPU" if args.cpu else "wall"
        for k, v in bank_load.items():
            budget = BANK_BUDGETS.get(k)
            flag = "" if budget is None or v <= budget else "  OVER BUDGET"
            limit = f"budget {budget * 1000:.0f}ms" if budget is not None else "no budget"
            print(f"bank load, {k:<9} (in-process, {clock}) {v * 1000:>6.0f}ms  {limit}{flag}")
    return 0 if bank_ok and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
