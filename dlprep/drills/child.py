"""Child-process entry point: ``python -P -m dlprep.drills.child`` with a JSON job on stdin.

The job is ``{"drill": <Drill.spec()>, "source": ..., "filename": ...,
"cpu_seconds": N, "memory_mb": M, "needs": "torch", "mode": "check"|"verify"}``.
The child limits itself (CPU seconds, address space) before importing
anything heavy, then writes one JSON line per event on its original stdout:

- ``{"event": "ready"}`` once torch and the runner are imported (the
  parent's timeout for the checks starts here);
- ``{"event": "start", "id", "name"}`` before each check runs (so a parent
  that stops a check which never ends can name it);
- ``{"event": "result", ...CheckResult}`` after it;
- ``{"event": "no_torch"}`` if the drill needs torch and it is not installed;
- ``{"event": "no_start", "message"}`` if torch is there but fails to import
  (most often: its libraries do not fit the memory limit);
- ``{"event": "problems", "problems": [...]}`` in verify mode;
- ``{"event": "done"}`` at the end.

Whatever the user's code prints goes to stderr, never into that stream.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from typing import Any, TextIO


def set_limits(cpu_seconds: int, memory_mb: int) -> None:
    """CPU time (SIGXCPU past it) and address space (allocations fail past it)."""
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _emitter(stream: TextIO):
    def emit(event: str, **data: Any) -> None:
        stream.write(json.dumps({"event": event, **data}) + "\n")
        stream.flush()

    return emit


def main() -> int:
    job = json.loads(sys.stdin.read())
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the user's prints land on stderr
    emit = _emitter(protocol)
    set_limits(int(job.get("cpu_seconds", 0)), int(job.get("memory_mb", 0)))
    if job.get("needs", "torch") == "torch":
        try:
            import torch  # noqa: F401  (imported once here, so the first check is not charged for it)
        except ModuleNotFoundError as exc:
            if exc.name not in (None, "torch") and not str(exc.name).startswith("torch."):
                raise
            emit("no_torch")
            return 3
        except (ImportError, OSError, MemoryError) as exc:  # e.g. torch's libraries do not fit the memory limit
            emit("no_start", message=f"{type(exc).__name__}: {exc}"[:300])
            return 4
    from dlprep.drills.runner import iter_checks, verify_drill

    emit("ready")
    drill = job["drill"]
    if job.get("mode") == "verify":
        emit("problems", problems=verify_drill(drill))
    else:
        for result in iter_checks(
            drill, job["source"], job["filename"], on_start=lambda cid, name: emit("start", id=cid, name=name)
        ):
            emit("result", **result.to_dict())
    emit("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
