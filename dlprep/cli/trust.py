"""The trust rule for code from a user's bank folder (demos, drill checks):
it runs only with ``--trust`` or after a yes at the prompt."""

from __future__ import annotations

import sys
from pathlib import Path

from dlprep.cli.output import Output
from dlprep.errors import DlprepError


def confirm_bank_code(out: Output, what: str, path: Path | str, trust: bool, kind: str) -> None:
    """Ask before running ``what`` (code from the user's bank, not dlprep's); raise if not confirmed."""
    if trust:
        return
    out.message(f"{what} is code from your bank, not from dlprep: {path}")
    sys.stderr.write("Run it? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise DlprepError(f"not run (use --trust to run {kind} without asking)")
