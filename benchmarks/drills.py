"""Every bundled drill checked end to end, as a user runs it: `dlprep practice
ID --check FILE` on the drill's reference solution, in a fresh process with
a throwaway DLPREP_HOME. Wall time (dlprep's start, the child process and
torch's import included) against the budget of 5 s on a 2-core CPU.

    python benchmarks/drills.py [--json] [ID ...]

Exits 1 if a drill goes over budget or its solution does not pass.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_BUDGET_S = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("ids", nargs="*", help="only these drills")
    args = parser.parse_args()
    from dlprep.core.bank import load_bank
    from dlprep.drills.load import load_drills

    drills = load_drills(load_bank())
    results = []
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLPREP_HOME": home}
        subprocess.run([sys.executable, "-m", "dlprep", "practice", "--list", "--json"], env=env, capture_output=True)
        for drill_id in args.ids or sorted(drills):
            path = Path(home) / f"{drill_id}.py"
            path.write_text(drills[drill_id].solution, encoding="utf-8")
            cmd = [sys.executable, "-m", "dlprep", "practice", drill_id, "--check", str(path), "--json"]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            passed = proc.returncode == 0
            ok = passed and seconds <= TIME_BUDGET_S
            results.append({"drill": drill_id, "seconds": round(seconds, 2), "passed": passed, "ok": ok})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'drill':<34} {'time':>7}   (budget {TIME_BUDGET_S:.0f} s)")
        for r in results:
            flag = "" if r["ok"] else ("  OVER BUDGET" if r["passed"] else "  SOLUTION FAILS")
            print(f"{r['drill']:<34} {r['seconds']:>6.2f}s{flag}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
