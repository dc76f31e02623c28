"""Mutation testing for the modules whose rules users rely on.

Run from the repository root (slow: minutes per module; not part of CI)::

    .venv/bin/python tests/mutation/run.py                  # every target
    .venv/bin/python tests/mutation/run.py scheduler store  # some targets
    .venv/bin/python tests/mutation/run.py quiz --list      # the mutants, without running them
    .venv/bin/python tests/mutation/run.py quiz --show 1a2b3c4d   # one mutant as a diff
    .venv/bin/python tests/mutation/run.py -j 2 store       # two mutants at a time
    .venv/bin/python tests/mutation/run.py store --id 1a2b3c4d    # only this mutant

Each target module is parsed; every site of a small set of mutations
(comparisons flipped at their boundary or negated, arithmetic swapped,
integer constants +-1, ``continue``/``break`` swapped, ``and``/``or``
swapped, ``not`` removed, return values replaced by None/True/False, boolean
defaults flipped, regex anchors dropped) becomes one mutant: the module
unparsed with that one change. The worktree is never written: each worker
has a temporary copy of the ``dlprep`` package, first on ``sys.path``.

A baseline run of the target's test files records which tests execute each
line; a mutant runs only those tests (``-x``), in a forked child of a process
that has already imported pytest and the heavy libraries. A mutant no test
executes survives without running. Survivors listed in ``survivors.md`` (by
id, with the reason they cannot change behaviour) are counted as equivalent.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import difflib
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SURVIVORS = Path(__file__).with_name("survivors.md")
PYTEST_ARGS = ["-x", "-q", "--no-header", "-p", "no:cacheprovider", "-o", "addopts="]


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # the module, relative to the repository root
    tests: tuple[str, ...]  # test files whose tests may kill its mutants
    only: tuple[str, ...] = ()  # qualified names to mutate ("Class", "func", "<module>"); empty: all


TARGETS = (
    Target("scheduler", "dlprep/core/scheduler.py", ("tests/test_scheduler.py", "tests/test_timezones.py")),
    Target(
        "store",
        "dlprep/core/store.py",
        ("tests/test_store.py", "tests/test_reliability.py", "tests/test_timezones.py"),
    ),
    Target("quiz", "dlprep/features/quiz.py", ("tests/test_quiz.py",)),
    Target("schedule", "dlprep/features/schedule.py", ("tests/test_schedule.py", "tests/test_cli.py")),
    Target(
        "plan",
        "dlprep/features/plan.py",
        ("tests/test_study.py", "tests/test_quiz.py", "tests/test_review.py", "tests/test_reliability.py"),
        only=("Plan", "check_interview", "current_plan", "save_plan", "cap_for", "due_cap"),
    ),
    Target("review", "dlprep/features/review.py", ("tests/test_review.py", "tests/test_reliability.py")),
    Target("errata", "dlprep/core/errata.py", ("tests/test_errata.py",)),
    Target("errata-notice", "dlprep/features/errata.py", ("tests/test_errata.py",)),
    Target(
        "bank-model",
        "dlprep/core/bank/model.py",
        ("tests/test_validator.py",),
        only=("<module>", "suggest", "Problem", "BankError"),
    ),
    Target("bank-validate", "dlprep/core/bank/validate.py", ("tests/test_validator.py",)),
    Target("bank-load", "dlprep/core/bank/load.py", ("tests/test_validator.py",)),
)


# ---------------------------------------------------------------- mutants

COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult}
ARITH[ast.Mod] = ast.FloorDiv
BOOL_CALLS = {"isinstance", "bool", "any", "all", "callable", "hasattr"}


@dataclass
class Mutant:
    target: Target
    index: int  # the n-th mutation site of the module, in a fixed walk order
    line: int
    lines: tuple[int, int] | None  # lines whose tests are run; None: every test of the target
    scope: str
    kind: str
    before: str
    after: str
    id: str = ""
    status: str = ""  # killed, timeout, survived, uncovered, equivalent
    seconds: float = 0.0

    def describe(self) -> str:
        return f"{self.target.path}:{self.line} {self.scope}: `{_short(self.before)}` -> `{_short(self.after)}`"


def _short(code: str, width: int = 90) -> str:
    code = " ".join(code.split())
    return code if len(code) <= width else code[: width - 1] + "…"


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _bool_like(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare | ast.BoolOp) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BOOL_CALLS


class Mutator(ast.NodeTransformer):
    """Walks a module in a fixed order, numbering mutation sites. With
    ``apply=k`` it performs the k-th mutation; otherwise it lists them all."""

    def __init__(self, target: Target, apply: int = -1):
        self.target, self.apply = target, apply
        self.count = 0
        self.found: list[Mutant] = []
        self.scope: list[str] = []
        self.func_lines: list[tuple[int, int]] = []
        self.in_defaults = False  # a default's tests are those that run the function's body

    def active(self) -> bool:
        if not self.target.only:
            return True
        head = self.scope[0] if self.scope else "<module>"
        return head in self.target.only

    def offer(self, node: ast.AST, kind: str, make: Callable[[ast.AST], ast.AST], lines=None) -> ast.AST | None:
        if not self.active():
            return None
        index = self.count
        self.count += 1
        if self.apply >= 0:
            return make(node) if index == self.apply else None
        if lines is None and self.func_lines:
            lines = self.func_lines[-1] if self.in_defaults else (node.lineno, node.end_lineno)
        before = ast.unparse(node)
        after = ast.unparse(make(copy.deepcopy(node)))
        scope = ".".join(self.scope) or "<module>"
        self.found.append(Mutant(self.target, index, node.lineno, lines, scope, kind, before, after))
        return None

    # -- scopes; annotations are never visited

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        self.scope.append(node.name)
        self.func_lines.append((node.body[0].lineno, node.end_lineno))
        args = node.args
        self.in_defaults = True
        for defaults in (args.defaults, args.kw_defaults):
            for i, d in enumerate(defaults):
                if isinstance(d, ast.Constant) and isinstance(d.value, bool):
                    new = self.offer(d, "default", _flip)
                    if new is not None:
                        defaults[i] = new
                elif d is not None:
                    defaults[i] = self.visit(d)
        self.in_defaults = False
        node.body = [self.visit(s) for s in node.body]
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        self.func_lines.pop()
        self.scope.pop()
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.scope.append(node.name)
        node.body = [self.visit(s) for s in node.body]
        self.scope.pop()
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return node
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
            new = self.offer(node.value, "default", _flip)
            if new is not None:
                node.value = new
            return node
        node.value = self.visit(node.value)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return node
        return self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        return node if _is_text(node.value) else self.generic_visit(node)  # docstrings

    # -- the mutations

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            if type(op) in COMPARE:
                new = self.offer(node, "compare", lambda n, i=i: _set_op(n, i))
                if new is not None:
                    return new
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if type(node.op) in ARITH and not _is_text(node.left) and not _is_text(node.right):
            new = self.offer(node, "arithmetic", _swap_arith)
            if new is not None:
                return new
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if type(node.op) in ARITH and not _is_text(node.value):
            new = self.offer(node, "arithmetic", _swap_arith)
            if new is not None:
                return new
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            for delta in (1, -1):
                new = self.offer(node, "constant", lambda n, d=delta: ast.Constant(n.value + d))
                if new is not None:
                    return new
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        # row[0] -> row[-1] is the same on a one-column row: only try row[1].
        node.value = self.visit(node.value)
        s = node.slice
        if isinstance(s, ast.Constant) and s.value == 0 and not isinstance(s.value, bool):
            new = self.offer(s, "constant", lambda n: ast.Constant(1))
            if new is not None:
                node.slice = new
        else:
            node.slice = self.visit(s)
        return node

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        return self.offer(node, "loop", lambda n: ast.Break()) or node

    def visit_Break(self, node: ast.Break) -> ast.AST:
        return self.offer(node, "loop", lambda n: ast.Continue()) or node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        return self.offer(node, "and/or", lambda n: ast.BoolOp(swap(), n.values)) or node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return self.offer(node, "not", lambda n: n.operand) or node
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        v = node.value
        if v is None or (isinstance(v, ast.Constant) and v.value is None):
            return node
        if isinstance(v, ast.Constant) and isinstance(v.value, bool):
            replacements = [not v.value]
        elif _bool_like(v):
            replacements = [True, False]
        else:
            replacements = [None]
        for value in replacements:
            new = self.offer(node, "return", lambda n, x=value: ast.Return(ast.Constant(x)))
            if new is not None:
                return new
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        is_compile = isinstance(f, ast.Attribute) and f.attr == "compile" and getattr(f.value, "id", "") == "re"
        if is_compile and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            pattern = node.args[0].value
            for old, new_text in (("^", ""), ("$", ""), ("+", "*")):
                if old in pattern:
                    new = self.offer(node, "regex", lambda n, o=old, t=new_text: _regex(n, o, t))
                    if new is not None:
                        return new
        return node


def _flip(node: ast.AST) -> ast.AST:
    return ast.Constant(not node.value)


def _set_op(node: ast.Compare, i: int) -> ast.AST:
    node.ops = [COMPARE[type(op)]() if j == i else op for j, op in enumerate(node.ops)]
    return node


def _swap_arith(node: ast.BinOp | ast.AugAssign) -> ast.AST:
    node.op = ARITH[type(node.op)]()
    return node


def _regex(node: ast.Call, old: str, new: str) -> ast.AST:
    node.args = [ast.Constant(node.args[0].value.replace(old, new)), *node.args[1:]]
    return node


def mutants(target: Target) -> tuple[str, list[Mutant]]:
    """The module's source and its mutants, each with a stable id."""
    source = (ROOT / target.path).read_text()
    tree = ast.parse(source)
    if ast.dump(ast.parse(ast.unparse(tree))) != ast.dump(tree):
        raise SystemExit(f"{target.path}: ast.unparse does not round-trip; mutants would differ in more than one place")
    walker = Mutator(target)
    walker.visit(tree)
    seen: dict[str, int] = defaultdict(int)
    for m in walker.found:
        key = f"{m.target.path}|{m.scope}|{m.kind}|{m.before}|{m.after}"
        seen[key] += 1
        m.id = hashlib.sha1(f"{key}|{seen[key]}".encode()).hexdigest()[:8]
    return source, walker.found


def mutated_source(source: str, m: Mutant) -> str:
    tree = ast.parse(source)
    Mutator(m.target, apply=m.index).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# ---------------------------------------------------------------- running tests in forked children


def _prepare_copy(where: Path) -> Path:
    shutil.copytree(ROOT / "dlprep", where / "dlprep", ignore=shutil.ignore_patterns("__pycache__"))
    (where / "questions").symlink_to(ROOT / "questions")
    return where


def _preload() -> None:
    """Import what every test run needs, once, before forking (never dlprep)."""
    sys.dont_write_bytecode = True
    import hypothesis
    import pytest  # noqa: F401
    import rich.console  # noqa: F401
    import sqlite_utils  # noqa: F401
    import typer.testing  # noqa: F401
    import yaml  # noqa: F401

    # Same examples every run, and no example database written into the worktree.
    hypothesis.settings.register_profile("mutation", database=None, derandomize=True, deadline=None)
    hypothesis.settings.load_profile("mutation")


def _child(copy_root: Path, args: list[str], trace: Path | None) -> None:
    """In the forked child: run pytest against the copy; never returns."""
    code = 3
    try:
        sys.path.insert(0, str(copy_root))
        os.environ["PYTHONPATH"] = str(copy_root)  # for tests that start python themselves
        os.chdir(ROOT)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        import pytest

        plugins = []
        if trace is not None:
            plugins.append(_LineRecorder(copy_root, trace))
        code = pytest.main([*PYTEST_ARGS, *args], plugins=plugins)
        if trace is not None:
            plugins[0].save(int(code))
    finally:
        os._exit(int(code))


class _LineRecorder:
    """A pytest plugin recording, per test, the lines it executes in the targets."""

    def __init__(self, copy_root: Path, out: Path):
        self.files = {str(copy_root / t.path): t.path for t in TARGETS}
        self.out = out
        self.current: str | None = None
        self.order: list[str] = []
        self.seconds: dict[str, float] = {}
        self.hits: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        sys.settrace(self._global)
        threading.settrace(self._global)

    def _global(self, frame, event, arg):
        path = self.files.get(frame.f_code.co_filename)
        if path is None:
            return None
        hits = self.hits[path]

        def local(frame, event, arg):
            if event == "line" and self.current is not None:
                hits[frame.f_lineno].add(self.current)
            return local

        return local

    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item.nodeid
        self.order.append(item.nodeid)
        self._t0 = time.monotonic()

    def pytest_runtest_logfinish(self, nodeid, location):
        self.seconds[nodeid] = time.monotonic() - self._t0
        self.current = None

    def save(self, code: int) -> None:
        sys.settrace(None)
        data = {
            "exit": code,
            "order": self.order,
            "seconds": self.seconds,
            "hits": {p: {str(n): sorted(ids) for n, ids in lines.items()} for p, lines in self.hits.items()},
        }
        self.out.write_text(json.dumps(data))


def _fork(copy_root: Path, args: list[str], trace: Path | None = None) -> int:
    """Start one pytest run in a forked child, in its own process group (so a
    timeout also ends any process a test started)."""
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        _child(copy_root, args, trace)
    with contextlib.suppress(OSError):  # the child got there first
        os.setpgid(pid, pid)
    return pid


def _wait(pid: int, timeout: float | None) -> int | None:
    """The child's exit code, or None if it ran out of time (then it is killed)."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


@dataclass
class Baseline:
    order: list[str]
    seconds: dict[str, float]
    hits: dict[int, set[str]]
    all_seconds: float = field(init=False)

    def __post_init__(self) -> None:
        self.all_seconds = sum(self.seconds.values())

    def tests_for(self, m: Mutant) -> list[str]:
        if m.lines is None:
            return list(self.order)
        wanted: set[str] = set()
        for n in range(m.lines[0], m.lines[1] + 1):
            wanted |= self.hits.get(n, set())
        return [t for t in self.order if t in wanted]


def baseline(target: Target, copy_root: Path) -> Baseline:
    out = copy_root / "baseline.json"
    code = _wait(_fork(copy_root, [t for t in target.tests if (ROOT / t).exists()], trace=out), None)
    data = json.loads(out.read_text()) if out.exists() else {"exit": code}
    if code != 0 or data.get("exit") != 0:
        raise SystemExit(f"{target.name}: the tests fail before any mutation (pytest exit {code}); fix them first")
    hits = {int(n): set(ids) for n, ids in data["hits"].get(target.path, {}).items()}
    return Baseline(data["order"], data["seconds"], hits)


def run_target(target: Target, jobs: int, equivalent: dict[str, str], log, ids: set[str]) -> list[Mutant]:
    source, found = mutants(target)
    if ids:
        found = [m for m in found if m.id in ids]
        if not found:
            return []
    with tempfile.TemporaryDirectory(prefix="dlprep-mutation-") as tmp:
        copies = [_prepare_copy(Path(tmp) / f"w{i}") for i in range(jobs)]
        t0 = time.monotonic()
        base = baseline(target, copies[0])
        log(f"{target.name}: {len(found)} mutants; baseline {len(base.order)} tests, {time.monotonic() - t0:.0f} s")
        queue = list(found)
        running: dict[int, tuple[Mutant, Path, float, float]] = {}  # pid -> mutant, copy, start, timeout
        free = list(copies)
        while queue or running:
            while queue and free:
                m = queue.pop(0)
                tests = base.tests_for(m)
                if not tests:
                    m.status = "uncovered"
                    continue
                where = free.pop()
                (where / target.path).write_text(mutated_source(source, m))
                limit = 3 * sum(base.seconds[t] for t in tests) + 20
                running[_fork(where, tests)] = (m, where, time.monotonic(), limit)
            for pid, (m, where, start, limit) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                timed_out = not done and time.monotonic() - start > limit
                if not done and not timed_out:
                    continue
                if timed_out:
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    m.status = "timeout"
                else:
                    m.status = "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
                m.seconds = time.monotonic() - start
                (where / target.path).write_text(source)  # restore before the copy is reused
                free.append(where)
                del running[pid]
                if m.status in ("survived", "uncovered") and m.id in equivalent:
                    m.status = "equivalent"
                if m.status == "survived":
                    log(f"  survived {m.id} {m.describe()}")
            time.sleep(0.02)
    for m in found:
        if m.status == "uncovered":
            if m.id in equivalent:
                m.status = "equivalent"
            else:
                log(f"  uncovered {m.id} {m.describe()}")
    return found


def known_equivalent() -> dict[str, str]:
    """survivors.md: ``- `id` file:line scope: mutation -- reason`` lines."""
    found = {}
    if SURVIVORS.exists():
        for line in SURVIVORS.read_text().splitlines():
            match = re.match(r"^- `([0-9a-f]{8})` (.+)$", line)
            if match:
                found[match.group(1)] = match.group(2)
    return found


def summary(results: dict[str, list[Mutant]]) -> str:
    rows = [f"{'target':<15}{'mutants':>8}{'killed':>8}{'equiv':>7}{'left':>6}{'score':>8}"]
    total = defaultdict(int)
    for name, found in results.items():
        n = len(found)
        killed = sum(m.status in ("killed", "timeout") for m in found)
        equiv = sum(m.status == "equivalent" for m in found)
        left = n - killed - equiv
        score = killed / (n - equiv) if n - equiv else 1.0
        rows.append(f"{name:<15}{n:>8}{killed:>8}{equiv:>7}{left:>6}{score:>8.1%}")
        for key, value in (("n", n), ("killed", killed), ("equiv", equiv), ("left", left)):
            total[key] += value
    if len(results) > 1:
        score = total["killed"] / (total["n"] - total["equiv"]) if total["n"] - total["equiv"] else 1.0
        rows.append(
            f"{'total':<15}{total['n']:>8}{total['killed']:>8}{total['equiv']:>7}{total['left']:>6}{score:>8.1%}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"any of: {', '.join(t.name for t in TARGETS)} (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--list", action="store_true", help="list the mutants without running them")
    parser.add_argument("--show", metavar="ID", help="print one mutant as a diff")
    parser.add_argument("--id", action="append", default=[], help="run only this mutant (repeatable)")
    args = parser.parse_args(argv)
    by_name = {t.name: t for t in TARGETS}
    unknown = [n for n in args.targets if n not in by_name]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}")
    targets = [by_name[n] for n in args.targets] if args.targets else list(TARGETS)
    equivalent = known_equivalent()

    if args.list or args.show:
        for t in targets:
            source, found = mutants(t)
            for m in found:
                if args.show == m.id:
                    diff = difflib.unified_diff(
                        ast.unparse(ast.parse(source)).splitlines(),
                        mutated_source(source, m).splitlines(),
                        t.path,
                        f"{t.path} ({m.id})",
                        lineterm="",
                        n=2,
                    )
                    print("\n".join(diff))
                    return 0
                if args.list:
                    mark = " (known equivalent)" if m.id in equivalent else ""
                    print(f"{m.id} {m.kind:<10} {m.describe()}{mark}")
        return 1 if args.show else 0

    _preload()
    results = {}
    started = time.monotonic()
    for t in targets:
        found = run_target(t, max(args.jobs, 1), equivalent, lambda s: print(s, flush=True), set(args.id))
        if found or not args.id:
            results[t.name] = found
    print(f"\n{summary(results)}\n({time.monotonic() - started:.0f} s)")
    if not args.targets and not args.id:
        stale = sorted(set(equivalent) - {m.id for found in results.values() for m in found})
        for mutant_id in stale:
            print(f"survivors.md lists {mutant_id}, which is no longer a mutant: remove it")
    left = [m for found in results.values() for m in found if m.status in ("survived", "uncovered")]
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
