"""Every bundled demo in a fresh process: wall time (torch's import included)
and peak memory, against the budget of 5 s and 1 GB on a 2-core CPU.

    python benchmarks/demos.py [--json]

Exits 1 if any demo goes over budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

TIME_BUDGET_S = 5.0
MEMORY_BUDGET_MB = 1024

CHILD = """
import resource, sys
from dlprep.demos.registry import discover
from dlprep.demos.runner import load
load(discover()[sys.argv[1]].path).run("cpu")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from dlprep.demos.registry import discover

    results = []
    for demo_id in sorted(discover()):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, demo_id], capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{demo_id} failed:\n{proc.stderr}")
        peak_mb = int(proc.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss is in KiB on Linux
        ok = seconds <= TIME_BUDGET_S and peak_mb <= MEMORY_BUDGET_MB
        results.append({"demo": demo_id, "seconds": round(seconds, 2), "peak_mb": round(peak_mb), "ok": ok})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'demo':<26} {'time':>7} {'peak':>8}   (budget {TIME_BUDGET_S:.0f} s, {MEMORY_BUDGET_MB} MB)")
        for r in results:
            flag = "" if r["ok"] else "  OVER BUDGET"
            print(f"{r['demo']:<26} {r['seconds']:>6.2f}s {r['peak_mb']:>6} MB{flag}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
