"""Drill files in, validated :class:`Drill` objects and ``path:line`` problems out.

One YAML file per drill, in a bank folder's ``drills/`` folder
(``questions/drills/`` for the bundled ones). The rules, each reported with
its file and line rather than stopping at the first:

- the keys of docs/drills.md, nothing else; ``id`` is kebab-case and is the
  file's name; ids are unique across every folder;
- ``topic`` is a topic of the bank, ``cards`` are card ids, ``references``
  are keys of the reference registry;
- ``difficulty`` 1-3, ``minutes`` 5-60, 2-4 ``hints``;
- ``starter``, ``solution``, ``checks`` and each mistake's ``code`` parse as
  Python (the line of a syntax error is the line in the YAML file); the
  starter defines at least one function or class and the solution defines
  them all; ``checks`` defines at least one ``check_<name>(user, h)``;
- every mistake's ``fails`` names a real check (a ``check_*`` function, or
  ``loads``/``defines``, or ``no_shortcut`` when the drill forbids something).

Whether the checks *work* (the solution passes, each mistake fails as it
says) needs torch and runs code: that is ``verify_drill`` in the runner,
run for every bundled drill by the test suite.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlprep.core.bank.model import ID_RE, Problem, suggest
from dlprep.core.bank.validate import Checker, unique_files
from dlprep.core.yamlfile import Located, LocatedList, YamlError, load_yaml
from dlprep.drills.model import (
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
    DRILLS_FOLDER,
    HINTS_MAX,
    HINTS_MIN,
    MINUTES_MAX,
    MINUTES_MIN,
    MISTAKE_KEYS,
    NEEDS,
    OPTIONAL,
    REQUIRED,
    Drill,
    Mistake,
)
from dlprep.drills.runner import DEFINES, LOADS, NO_SHORTCUT
from dlprep.errors import DlprepError

if TYPE_CHECKING:
    from dlprep.core.bank import Bank

DOTTED_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def drill_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _code(checker: Checker, m: Located, key: str, where: tuple[str, str | None]) -> ast.Module | None:
    """Parse ``m[key]`` as Python; a syntax error is reported at its line in the YAML file."""
    text = checker.text(m, key, where)
    if text is None:
        return None
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        # A block scalar (`key: |`) starts on the line after its key.
        line = m.line_of(key) + (exc.lineno or 1)
        checker.add(where[0], line, f"{key!r} is not valid Python: {exc.msg}", where[1])
        return None


def _top_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def check_drill(checker: Checker, data: Any, path: Path, bundled: bool = True, parse: bool = True) -> Drill | None:
    """One drill file's parsed YAML -> a Drill, or None with its problems recorded.
    Without ``parse`` the Python in it is not parsed (listing drills stays fast)."""
    p = str(path)
    if not isinstance(data, Located):
        checker.add(p, 1, "a drill file must be a mapping with id, title, topic, task, starter, solution, checks...")
        return None
    raw_id = data.get("id")
    did = raw_id if isinstance(raw_id, str) else None
    where = (p, did)
    checker.keys(data, REQUIRED + OPTIONAL, where, "drill")
    for key in REQUIRED:
        if key not in data:
            checker.add(p, data.line, f"missing required key {key!r}", did)
    before = len(checker.problems)
    if did is not None and not ID_RE.match(did):
        checker.add(p, data.line_of("id"), f"id {did!r} must be kebab-case (lower-case words joined by '-')", did)
    elif did is not None and did != path.stem:
        checker.add(p, data.line_of("id"), f"id {did!r} must match the file name ({path.stem}.yaml)", did)
    elif "id" in data and did is None:
        checker.add(p, data.line_of("id"), "'id' must be a string")
    title = checker.text(data, "title", where, required=False) if "title" in data else None
    topic = checker.text(data, "topic", where, required=False) if "topic" in data else None
    task = checker.text(data, "task", where, required=False) if "task" in data else None
    difficulty = (
        checker.integer(data, "difficulty", DIFFICULTY_MIN, DIFFICULTY_MAX, where) if "difficulty" in data else None
    )
    minutes = checker.integer(data, "minutes", MINUTES_MIN, MINUTES_MAX, where) if "minutes" in data else None
    hints = checker.str_list(data, "hints", where) if "hints" in data else None
    if hints is not None and not HINTS_MIN <= len(hints) <= HINTS_MAX:
        checker.add(
            p, data.line_of("hints"), f"'hints' must have {HINTS_MIN} to {HINTS_MAX} entries, not {len(hints)}", did
        )
    needs = data.get("needs", "torch")
    if needs not in NEEDS:
        checker.add(p, data.line_of("needs"), f"'needs' must be one of {', '.join(NEEDS)}, got {needs!r}", did)
    optional: dict[str, tuple[str, ...]] = {}
    for key in ("forbidden", "cards", "references"):
        optional[key] = (checker.str_list(data, key, where) or ()) if key in data else ()
    for name in optional["forbidden"]:
        if not DOTTED_RE.match(name):
            checker.add(
                p,
                data.line_of("forbidden"),
                f"forbidden name {name!r} must be a module or a dotted name (torch, torch.softmax)",
                did,
            )

    if not parse:
        return _unparsed(
            checker, data, path, bundled, before, (title, topic, task, difficulty, minutes, hints), optional
        )
    starter = _code(checker, data, "starter", where) if "starter" in data else None
    solution = _code(checker, data, "solution", where) if "solution" in data else None
    checks = _code(checker, data, "checks", where) if "checks" in data else None
    required: list[str] = []
    if starter is not None:
        required = [n.name for n in starter.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        if not required:
            checker.add(p, data.line_of("starter"), "'starter' must define at least one function or class", did)
    if solution is not None and required:
        missing = [n for n in required if n not in _top_names(solution)]
        if missing:
            checker.add(p, data.line_of("solution"), f"'solution' does not define {', '.join(missing)}", did)
    check_ids: set[str] = set()
    if checks is not None:
        for node in checks.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                check_ids.add(node.name)
                if len(node.args.args) != 2 or node.args.vararg or node.args.kwonlyargs:
                    checker.add(
                        p,
                        data.line_of("checks") + node.lineno,
                        f"{node.name} must take exactly (user, h)",
                        did,
                    )
        if not check_ids:
            checker.add(p, data.line_of("checks"), "'checks' must define at least one check_<name>(user, h)", did)
    known = check_ids | {LOADS, DEFINES} | ({NO_SHORTCUT} if optional["forbidden"] else set())
    mistakes = _mistakes(checker, data, where, known, checks is not None)
    if len(checker.problems) > before or None in (title, topic, task, difficulty, minutes, hints, mistakes):
        return None
    if starter is None or solution is None or checks is None or did is None:
        return None
    fields = (title, topic, task, difficulty, minutes, hints)
    return _drill(data, did, fields, mistakes, optional, needs, p, bundled)


def _unparsed(
    checker: Checker,
    data: Located,
    path: Path,
    bundled: bool,
    before: int,
    fields: tuple[Any, ...],
    optional: dict[str, tuple[str, ...]],
) -> Drill | None:
    """A drill read without parsing its Python: the code fields only need to be text."""
    did = data.get("id")
    where = (str(path), did if isinstance(did, str) else None)
    code = [checker.text(data, k, where, required=False) for k in ("starter", "solution", "checks") if k in data]
    raw = data.get("mistakes")
    mistakes = tuple(
        Mistake(*(str(m.get(k, "")) for k in MISTAKE_KEYS))
        for m in (raw if isinstance(raw, list) else ())
        if isinstance(m, dict)
    )
    if len(checker.problems) > before or None in fields or len(code) < 3 or not mistakes or not isinstance(did, str):
        return None
    return _drill(data, did, fields, mistakes, optional, data.get("needs", "torch"), str(path), bundled)


def _drill(
    data: Located,
    did: str,
    fields: tuple[Any, ...],
    mistakes: tuple[Mistake, ...],
    optional: dict[str, tuple[str, ...]],
    needs: str,
    path: str,
    bundled: bool,
) -> Drill:
    """The Drill read from ``data``, once its fields have been checked."""
    title, topic, task, difficulty, minutes, hints = fields
    return Drill(
        id=did,
        title=title,
        topic=topic,
        difficulty=difficulty,
        minutes=minutes,
        task=task,
        hints=hints,
        starter=data["starter"],
        solution=data["solution"],
        checks=data["checks"],
        mistakes=mistakes,
        forbidden=optional["forbidden"],
        cards=optional["cards"],
        references=optional["references"],
        needs=needs,
        path=path,
        bundled=bundled,
    )


def _mistakes(
    checker: Checker, data: Located, where: tuple[str, str | None], known: set[str], checks_ok: bool
) -> tuple[Mistake, ...] | None:
    p, did = where
    raw = data.get("mistakes")
    if "mistakes" not in data:
        return None
    if not isinstance(raw, list) or not raw:
        checker.add(p, data.line_of("mistakes"), "'mistakes' must be a non-empty list", did)
        return None
    out = []
    for i, m in enumerate(raw):
        line = raw.line_of_item(i) if isinstance(raw, LocatedList) else data.line_of("mistakes")
        if not isinstance(m, Located):
            checker.add(p, line, f"mistake {i + 1} must be a mapping with {', '.join(MISTAKE_KEYS)}", did)
            continue
        checker.keys(m, MISTAKE_KEYS, where, f"mistake {i + 1}")
        values = [checker.text(m, k, where) for k in MISTAKE_KEYS]
        if None in values:
            continue
        name, fails, message, code = values
        if checks_ok and fails not in known:
            checker.add(
                p,
                m.line_of("fails"),
                f"mistake {name!r} fails {fails!r}, which is not a check{suggest(fails, known)}",
                did,
            )
            continue
        if fails != LOADS:
            try:
                ast.parse(code)
            except SyntaxError as exc:
                checker.add(
                    p,
                    m.line_of("code") + (exc.lineno or 1),
                    f"mistake {name!r}: code is not valid Python: {exc.msg}",
                    did,
                )
                continue
        out.append(Mistake(name, fails, message, code))
    return tuple(out) if len(out) == len(raw) else None


def check_drills(
    folders: Iterable[tuple[Path, bool]] = (),
    files: Iterable[Path] = (),
    bank: Bank | None = None,
    parse: bool = True,
) -> tuple[list[Drill], list[Problem]]:
    """Validate drill folders (each with whether it is bundled) and single
    drill files; with ``bank``, also that topics, cards and references resolve.
    Returns the valid drills (first of each id) and every problem. Without
    ``parse``, the Python in them is taken as text (for listing drills)."""
    checker = Checker(strict=False)
    for f in files:
        if not f.is_file():
            checker.add(str(f), 0, "no such file")
    wanted = unique_files(
        chain(
            ((f, bundled) for folder, bundled in folders for f in drill_files(folder)),
            ((f, True) for f in files if f.is_file()),
        )
    )
    drills: dict[str, Drill] = {}
    first_site: dict[str, str] = {}
    for f, bundled in wanted:
        try:
            data, dups = load_yaml(f)
        except YamlError as exc:
            checker.problems.append(Problem(str(f), exc.line, exc.message, column=exc.column))
            continue
        for line, key in dups:
            checker.add(str(f), line, f"duplicate key {key!r}")
        drill = check_drill(checker, data, f, bundled, parse)
        raw_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(raw_id, str):
            if raw_id in first_site:
                checker.add(
                    str(f), data.line_of("id"), f"duplicate drill id (first defined in {first_site[raw_id]})", raw_id
                )
                continue
            first_site[raw_id] = str(f)
        if drill is None:
            continue
        if bank is not None and not _resolves(checker, drill, data, bank):
            continue
        drills[drill.id] = drill
    return list(drills.values()), checker.problems


def _resolves(checker: Checker, drill: Drill, data: Located, bank: Bank) -> bool:
    before = len(checker.problems)
    p, did = drill.path, drill.id
    if drill.topic not in bank.topics:
        checker.add(p, data.line_of("topic"), f"unknown topic {drill.topic!r}{suggest(drill.topic, bank.topics)}", did)
    for cid in drill.cards:
        if cid not in bank.by_id:
            checker.add(p, data.line_of("cards"), f"card {cid!r} is not a card id{suggest(cid, bank.by_id)}", did)
    for key in drill.references:
        if key not in bank.references:
            checker.add(
                p,
                data.line_of("references"),
                f"reference {key!r} is not in the registry{suggest(key, bank.references)}",
                did,
            )
    return len(checker.problems) == before


def drill_folders(bundled_dir: Path, extra_dirs: Iterable[Path] = ()) -> list[tuple[Path, bool]]:
    """The drill folders of the bundled bank and of each extra bank folder."""
    return [(bundled_dir / DRILLS_FOLDER, True), *((Path(d) / DRILLS_FOLDER, False) for d in extra_dirs)]


def load_drills(bank: Bank, extra_dirs: Iterable[Path] = ()) -> dict[str, Drill]:
    """Every drill (bundled, then the extra banks'), by id, read without
    parsing its Python (``dlprep validate`` does that; :func:`checked` does it
    for the one drill about to run). Raises :class:`BankError` naming the
    first problem if any file is invalid."""
    from dlprep.core.bank import BankError
    from dlprep.paths import bundled_bank_dir

    drills, problems = check_drills(drill_folders(bundled_bank_dir(), extra_dirs), bank=bank, parse=False)
    if problems:
        raise BankError(problems)
    return {d.id: d for d in drills}


def checked(drill: Drill, bank: Bank) -> Drill:
    """``drill`` after every rule, its Python parsed too; raises :class:`BankError` if it breaks one."""
    from dlprep.core.bank import BankError

    drills, problems = check_drills(files=[Path(drill.path)], bank=bank)
    if problems:
        raise BankError(problems)
    return replace(drills[0], bundled=drill.bundled)


def find_drill(drills: dict[str, Drill], drill_id: str) -> Drill:
    if drill_id not in drills:
        raise DlprepError(f"unknown drill {drill_id!r}{suggest(drill_id, drills)}; `dlprep practice --list` lists them")
    return drills[drill_id]


def split_paths(
    folders: list[Path], files: list[Path]
) -> tuple[list[Path], list[Path], list[tuple[Path, bool]], list[Path]]:
    """For ``dlprep validate PATH...``: (bank folders, card files, drill folders,
    drill files). A bank folder's ``drills/`` is checked with it; a folder
    named ``drills`` or a file in one is a drill folder or file."""
    drill_dirs = [(f, True) for f in folders if f.name == DRILLS_FOLDER]
    bank_dirs = [f for f in folders if f.name != DRILLS_FOLDER]
    drill_dirs += [(f / DRILLS_FOLDER, True) for f in bank_dirs if (f / DRILLS_FOLDER).is_dir()]
    drill_only = [f for f in files if f.parent.name == DRILLS_FOLDER]
    return bank_dirs, [f for f in files if f not in drill_only], drill_dirs, drill_only


def drills_by_topic(drills: dict[str, Drill]) -> dict[str, list[str]]:
    """Drill ids per topic, easiest first (for the study plan)."""
    out: dict[str, list[str]] = {}
    for d in sorted(drills.values(), key=lambda d: (d.difficulty, d.id)):
        out.setdefault(d.topic, []).append(d.id)
    return out
