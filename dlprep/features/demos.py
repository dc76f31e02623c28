"""Running show-me demos: in a child process, with a time limit, so a slow or
hung demo never takes the quiz down with it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dlprep.demos.registry import DemoInfo, discover
from dlprep.errors import DlprepError

DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_TIMEOUT_S = 120
INSTALL_HINT = "demos need torch: pip install 'dlprep[demos]' (on a CPU-only machine: pip install torch==2.13.0)"


def torch_available() -> bool:
    """Whether torch can be imported, without importing it."""
    return importlib.util.find_spec("torch") is not None


def find_demo(demo_id: str, extra_dirs: list[Path] | tuple[Path, ...] = ()) -> DemoInfo:
    demos = discover(extra_dirs)
    if demo_id not in demos:
        import difflib

        hint = difflib.get_close_matches(demo_id, demos, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise DlprepError(f"unknown demo {demo_id!r}{suggestion}; `dlprep show --list` lists them")
    return demos[demo_id]


def run_demo(
    demo_id: str,
    device: str = "auto",
    extra_dirs: list[Path] | tuple[Path, ...] = (),
    json_out: bool = False,
    stream: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> int:
    """Run one demo in a child process; returns its exit status.

    With ``stream`` the child writes straight to this terminal; otherwise its
    output is captured and re-emitted (used for --json).
    """
    if device not in DEVICES:
        raise DlprepError(f"unknown device {device!r} (choose from {', '.join(DEVICES)})")
    info = find_demo(demo_id, extra_dirs)
    if not torch_available():
        raise DlprepError(INSTALL_HINT)
    cmd = _command(info, device, json_out)
    try:
        if stream:
            proc = subprocess.run(cmd, timeout=timeout_s, check=False)
        else:
            proc = subprocess.run(cmd, timeout=timeout_s, check=False, capture_output=True, text=True)
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
    except subprocess.TimeoutExpired:
        raise DlprepError(f"demo {demo_id} did not finish within {timeout_s:.0f}s and was stopped") from None
    return proc.returncode


def _command(info: DemoInfo, device: str, json_out: bool) -> list[str]:
    cmd = [sys.executable, "-m", "dlprep.demos.runner", str(info.path), "--device", device]
    return [*cmd, "--json"] if json_out else cmd


@dataclass(frozen=True)
class DemoRun:
    """One demo run by :func:`run_each`: its exit status (None when stopped
    by the time limit) and what it printed."""

    id: str
    status: int | None
    seconds: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def run_each(
    demos: Iterable[DemoInfo],
    device: str = "auto",
    json_out: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_done: Callable[[DemoRun], None] = lambda run: None,
) -> list[DemoRun]:
    """Run demos one after another, each in a child process with its own time
    limit, capturing its output; ``on_done`` gets each run as it finishes."""
    if device not in DEVICES:
        raise DlprepError(f"unknown device {device!r} (choose from {', '.join(DEVICES)})")
    if not torch_available():
        raise DlprepError(INSTALL_HINT)
    runs = []
    for info in demos:
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                _command(info, device, json_out), timeout=timeout_s, check=False, capture_output=True, text=True
            )
            run = DemoRun(info.id, proc.returncode, time.perf_counter() - start, proc.stdout, proc.stderr)
        except subprocess.TimeoutExpired:
            message = f"error: demo {info.id} did not finish within {timeout_s:.0f}s and was stopped\n"
            run = DemoRun(info.id, None, time.perf_counter() - start, "", message)
        runs.append(run)
        on_done(run)
    return runs
