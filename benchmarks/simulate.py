"""Compare schedulers on simulated learners: reviews, minutes, recall on interview day.

    python -m benchmarks.simulate [--learners 200] [--seed 18] [--json]   (from the repository root)

A 4-week plan to an interview with dlprep's defaults (10 new cards a day, at
most 100 reviews a day, the plan's due-date cap), the mle path's cards in
the order dlprep introduces them, each review costing its card's time
target. Learners' memories follow FSRS-6 with parameters drawn around the
defaults; see dlprep/features/simulate.py for every assumption. The seed
fixes the whole run: the same command prints the same table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from dlprep.config import Config
    from dlprep.core.bank import load_bank
    from dlprep.features.schedule import new_cards
    from dlprep.features.simulate import Fsrs, Sm2, simulate, summary

    cfg = Config()
    targets = [c.time_target_s for c in new_cards(load_bank(), {}, role="mle")]
    policies = [Sm2(), Fsrs(0.8), Fsrs(0.9), Fsrs(0.95)]
    t0 = time.perf_counter()
    if sys.stderr.isatty() and not args.json:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("learners", total=args.learners)
            rows = simulate(
                policies,
                args.learners,
                args.seed,
                targets,
                args.days,
                cfg.new_per_day,
                cfg.review_cap,
                lambda n: bar.update(task, completed=n),
            )
    else:
        rows = simulate(policies, args.learners, args.seed, targets, args.days, cfg.new_per_day, cfg.review_cap)
    result = summary(rows)
    if args.json:
        print(json.dumps({"seed": args.seed, "days": args.days, "rows": result}, indent=2))
        return 0
    cards = rows[0].outcomes[0].cards
    print(
        f"{args.learners} learners, seed {args.seed}, {args.days}-day plan, {cfg.new_per_day} new/day "
        f"({cards} cards), cap {cfg.review_cap}/day; mean (sd across learners) [difference from SM-2 +- 95%]"
    )
    print(f"| {'scheduler':<12} | {'reviews':<28} | {'minutes':<30} | {'recall on interview day':<28} |")
    print(f"|{'-' * 14}|{'-' * 30}|{'-' * 32}|{'-' * 30}|")
    for e in result:
        cells = []
        for key, fmt, scale in (("reviews", "{:.0f}", 1), ("minutes", "{:.0f}", 1), ("recall", "{:.1f}%", 100)):
            v = e[key]
            diff = "" if e is result[0] else f" [{v['vs_first'] * scale:+.1f} +- {v['vs_first_95'] * scale:.1f}]"
            cells.append(f"{fmt.format(v['mean'] * scale)} ({v['sd'] * scale:.1f}){diff}")
        print(f"| {e['scheduler']:<12} | {cells[0]:<28} | {cells[1]:<30} | {cells[2]:<28} |")
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
