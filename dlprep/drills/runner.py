"""Run a drill's checks on a user's source file, in this process.

``run_checks`` never raises for anything the user's code does: a syntax
error, an exception, a wrong answer or a forbidden call each become a failed
:class:`CheckResult` whose message is what the user sees. (Time and memory
limits are the caller's job: run this in a child process.)

``verify_drill`` is the drill author's test: the reference solution passes
every check and each listed mistake fails the check it names, with the
message it names.
"""

from __future__ import annotations

import ast
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LOADS = "loads"
DEFINES = "defines"
NO_SHORTCUT = "no_shortcut"


@dataclass
class CheckResult:
    """One row of the check table. ``id`` is the check function's name (or
    loads/defines/no_shortcut); ``name`` is what the table shows."""

    id: str
    name: str
    passed: bool
    message: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            id=data["id"],
            name=data["name"],
            passed=bool(data["passed"]),
            message=data.get("message", ""),
            seconds=float(data.get("seconds", 0.0)),
        )


def required_names(starter: str) -> list[str]:
    """The functions and classes the starter file defines at top level: the
    user's file must define them too."""
    tree = ast.parse(starter)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def forbidden_uses(source: str, forbidden: list[str] | tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, dotted name) for each reference in ``source`` to a forbidden
    module-level name, seeing through imports and aliases (``import
    torch.nn.functional as F`` then ``F.softmax``; ``from torch import
    softmax``). Methods (``x.softmax()``) cannot be resolved statically; the
    runtime guard catches those."""
    wanted = set(forbidden)
    if not wanted:
        return []
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def dotted(node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in aliases:
            return ".".join([aliases[node.id], *reversed(parts)])
        return None

    hits: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            name = dotted(node)
            if name in wanted:
                hits.add((node.lineno, name))
    return sorted(hits)


def user_traceback(exc: BaseException, filename: str) -> str:
    """The traceback of ``exc`` cut to the frames in the user's file, or ""
    when none of it ran there."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return ("Traceback (your file only):\n" + "".join(lines)).rstrip()


def _syntax_message(exc: SyntaxError) -> str:
    text = (exc.text or "").rstrip("\n")
    where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
    return f"{type(exc).__name__} at {where}: {exc.msg}" + (f"\n    {text.strip()}" if text.strip() else "")


def load_checks(drill: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(id, shown name, function) for each ``check_*`` function in the drill's
    checks code, in the order written."""
    code = compile(drill["checks"], f"<checks of {drill['id']}>", "exec")
    namespace: dict[str, Any] = {"__name__": f"dlprep_drill_checks_{drill['id'].replace('-', '_')}"}
    exec(code, namespace)
    checks = []
    for name, fn in namespace.items():
        ours = isinstance(fn, types.FunctionType) and fn.__code__.co_filename == code.co_filename
        if name.startswith("check_") and ours:
            doc = (fn.__doc__ or "").strip()
            checks.append((name, doc.splitlines()[0] if doc else name.removeprefix("check_").replace("_", " "), fn))
    return checks


def run_checks(drill: Mapping[str, Any], source: str, filename: str) -> list[CheckResult]:
    """Every check of ``drill`` on ``source`` (the text of the user's file,
    shown in tracebacks as ``filename``). Stops after the first row only when
    the file does not load or lacks a required name."""
    return list(iter_checks(drill, source, filename))


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or torch's allocator refusing (a RuntimeError)."""
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


OUT_OF_MEMORY = "ran out of memory (it asked for more than the check's memory limit)"


def iter_checks(
    drill: Mapping[str, Any], source: str, filename: str, on_start: Callable[[str, str], None] | None = None
) -> Iterator[CheckResult]:
    """:func:`run_checks` one row at a time; ``on_start(id, name)`` is called
    before each check runs (the child process reports it, so a check that
    never ends can be named)."""
    from dlprep.drills import harness

    forbidden = list(drill.get("forbidden") or [])
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as exc:
        message = _syntax_message(exc) if isinstance(exc, SyntaxError) else f"cannot compile: {exc}"
        yield CheckResult(LOADS, "your file loads", False, message)
        return
    module = types.ModuleType("solution")
    module.__file__ = filename
    if on_start:
        on_start(LOADS, "your file loads")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, module.__dict__)
    except Exception as exc:
        if _out_of_memory(exc):
            message = OUT_OF_MEMORY
        else:
            message = user_traceback(exc, filename) or f"{type(exc).__name__}: {exc}"
        yield CheckResult(LOADS, "your file loads", False, message)
        return
    yield CheckResult(LOADS, "your file loads", True)

    names = required_names(drill["starter"])
    missing = [n for n in names if not callable(getattr(module, n, None))]
    lacking = f"your file does not define {', '.join(missing)}" if missing else ""
    yield CheckResult(DEFINES, f"defines {', '.join(names)}", not missing, lacking)
    if missing:
        return

    if forbidden:
        uses = forbidden_uses(source, forbidden)
        message = "; ".join(f"line {line} uses {name}" for line, name in uses)
        message = f"{message}, which this drill forbids" if uses else ""
        yield CheckResult(NO_SHORTCUT, "no forbidden shortcut", not uses, message)

    import numpy as np

    for check_id, name, fn in load_checks(drill):
        if on_start:
            on_start(check_id, name)
        start = time.perf_counter()
        passed, message = True, ""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), harness.forbid(forbidden, filename):
                warnings.simplefilter("ignore")
                fn(module, harness)
        except harness.CheckFailed as exc:
            passed, message = False, str(exc)
        except Exception as exc:
            passed = False
            if _out_of_memory(exc):
                message = OUT_OF_MEMORY
            else:
                message = user_traceback(exc, filename) or f"could not use your result: {type(exc).__name__}: {exc}"
        yield CheckResult(check_id, name, passed, message, time.perf_counter() - start)


def verify_drill(drill: Mapping[str, Any]) -> list[str]:
    """Problems with a drill's own checks: the solution must pass them all,
    each mistake must fail the check it names with the message it names."""
    problems = []
    for r in run_checks(drill, drill["solution"], "solution.py"):
        if not r.passed:
            problems.append(f"solution fails {r.id}: {r.message}")
    known = {c[0] for c in load_checks(drill)} | {LOADS, DEFINES, NO_SHORTCUT}
    for i, mistake in enumerate(drill.get("mistakes") or []):
        label = f"mistake {i + 1} ({mistake.get('name', '?')})"
        if mistake["fails"] not in known:
            problems.append(f"{label}: names unknown check {mistake['fails']}")
            continue
        results = {r.id: r for r in run_checks(drill, mistake["code"], "solution.py")}
        hit = results.get(mistake["fails"])
        if hit is None:
            failed = [r.message for r in results.values() if not r.passed]
            problems.append(f"{label}: check {mistake['fails']} did not run: {failed}")
        elif hit.passed:
            problems.append(f"{label}: passes {mistake['fails']}, which it should fail")
        elif mistake["message"].lower() not in hit.message.lower():
            problems.append(f"{label}: {mistake['fails']} fails with {hit.message!r}, not {mistake['message']!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Drill authors: ``python -m dlprep.drills.runner DRILL.yaml [FILE.py]``.
    With a file, prints each check; without, verifies the drill itself."""
    import sys

    import yaml

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(main.__doc__)
        return 2
    drill = yaml.safe_load(Path(args[0]).read_text(encoding="utf-8"))
    if len(args) > 1:
        path = Path(args[1])
        results = run_checks(drill, path.read_text(encoding="utf-8"), str(path))
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.name}" + (f"\n      {r.message}" if r.message else ""))
        return 0 if all(r.passed for r in results) else 1
    problems = verify_drill(drill)
    for p in problems:
        print(p)
    print(f"{drill['id']}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
