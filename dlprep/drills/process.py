"""Running a drill's checks on a user's file in a child process, with limits.

The child (:mod:`dlprep.drills.child`) limits its own CPU time and address
space; this side adds a wall-clock timeout and turns every way the child can
end into rows of the check table: a check still running at the timeout, the
CPU limit, memory exhaustion, a crash. Ctrl-C stops the child and is
re-raised. The child runs in its own session (so the terminal's Ctrl-C
reaches only dlprep, which then stops it) with one thread for torch, and
with ``-P`` so files beside the user's code cannot shadow torch or numpy.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlprep.drills.model import Drill
from dlprep.drills.runner import LOADS, CheckResult
from dlprep.errors import DlprepError

DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MEMORY_MB = 2048  # address space; importing torch takes about 0.7 GB of it
STARTUP_S = 60.0  # for starting Python and importing torch, before the checks' timeout starts
CPU_SLACK_S = 30  # the CPU limit is a backstop behind the wall clock: timeout + startup's CPU
NO_TORCH = "drills need torch: pip install 'dlprep[demos]' (on a CPU-only machine: pip install torch==2.13.0)"


@dataclass(frozen=True)
class Limits:
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB


def cpu_seconds(limits: Limits) -> int:
    return int(limits.timeout_s) + CPU_SLACK_S


def child_command() -> list[str]:
    return [sys.executable, "-P", "-m", "dlprep.drills.child"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


@dataclass
class _Run:
    events: list[dict[str, Any]]
    returncode: int | None
    timed_out: bool
    stderr: str


def _run_child(job: dict[str, Any], limits: Limits) -> _Run:
    events: list[dict[str, Any]] = []
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            child_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=child_env(),
            start_new_session=True,
        )
        timed_out = False
        try:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(job).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            deadline = time.monotonic() + STARTUP_S
            fd = proc.stdout.fileno()
            buf = b""
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        timed_out = True
                        break
                    if not sel.select(left):
                        continue
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    for line in lines:
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        if event.get("event") == "ready":
                            deadline = time.monotonic() + limits.timeout_s
                        events.append(event)
            if timed_out:
                _kill(proc)
            proc.wait()
        except BaseException:  # Ctrl-C or anything else: never leave the child running
            _kill(proc)
            proc.wait()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return _Run(events, proc.returncode, timed_out, stderr)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_drill_checks(drill: Drill, source: str, filename: str, limits: Limits = Limits()) -> list[CheckResult]:
    """The check table for ``source``, computed in a child process under ``limits``.

    Raises :class:`DlprepError` (one line saying how to get torch) when the
    drill needs torch and it is not installed.
    """
    if drill.needs == "torch" and not torch_installed():
        raise DlprepError(NO_TORCH)
    job = {
        "drill": drill.spec(),
        "source": source,
        "filename": filename,
        "needs": drill.needs,
        "cpu_seconds": cpu_seconds(limits),
        "memory_mb": limits.memory_mb,
    }
    run = _run_child(job, limits)
    return results_of(run, limits)


def results_of(run: _Run, limits: Limits) -> list[CheckResult]:
    """Rows from the child's events, plus one row saying how it ended if it did not finish."""
    results: list[CheckResult] = []
    running: tuple[str, str] | None = None
    done = False
    for ev in run.events:
        kind = ev.get("event")
        if kind == "no_torch":
            raise DlprepError(NO_TORCH)
        if kind == "no_start":
            raise DlprepError(
                f"torch could not be imported within the {limits.memory_mb} MB memory limit "
                f"(raise it with --memory): {ev.get('message', '')}"
            )
        if kind == "start":
            running = (ev["id"], ev["name"])
        elif kind == "result":
            results.append(CheckResult.from_dict(ev))
            running = None
        elif kind == "done":
            done = True
    if done:
        return results
    cid, name = running or (LOADS, "your file loads")
    results.append(CheckResult(cid, name, False, _ending(run, limits)))
    return results


def _ending(run: _Run, limits: Limits) -> str:
    rc = run.returncode
    if run.timed_out and not any(ev.get("event") == "ready" for ev in run.events):
        return f"timed out: Python and torch did not start within {STARTUP_S:g} s (is the machine very busy?)"
    if run.timed_out:
        return (
            f"timed out: still running after {limits.timeout_s:g} s and stopped "
            "(an endless loop? a slow Python loop over elements? `--timeout` allows longer)"
        )
    if rc == -signal.SIGXCPU:
        return f"stopped: used more than {cpu_seconds(limits)} s of CPU time"
    if rc in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        return (
            f"the check process was killed ({signal.Signals(-rc).name}); most often it ran out of memory "
            f"(limit {limits.memory_mb} MB of address space, `--memory` changes it)"
        )
    tail = [ln for ln in run.stderr.strip().splitlines() if ln.strip()][-1:]
    if any("MemoryError" in ln for ln in tail):
        return f"ran out of memory (limit {limits.memory_mb} MB of address space, `--memory` changes it)"
    why = f": {tail[0].strip()}" if tail else ""
    return f"the check process stopped unexpectedly (exit status {rc}){why}"


def verify_in_child(drill: Drill, limits: Limits = Limits(timeout_s=120)) -> list[str]:
    """``verify_drill`` for a drill, in a child process (for authors of bank drills)."""
    if drill.needs == "torch" and not torch_installed():
        raise DlprepError(NO_TORCH)
    job = {"drill": drill.spec(), "mode": "verify", "needs": drill.needs, "cpu_seconds": cpu_seconds(limits)}
    job["memory_mb"] = limits.memory_mb
    run = _run_child(job, limits)
    for ev in run.events:
        if ev.get("event") == "no_torch":
            raise DlprepError(NO_TORCH)
        if ev.get("event") == "problems":
            return list(ev["problems"])
    return [_ending(run, limits)]
