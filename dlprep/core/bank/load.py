"""Loading: bank folders and files in, a validated :class:`Bank` out.

Reads every YAML file (``topics.yaml`` first, then ``references.yaml``, then
topic files), hands each to the :class:`Checker`, then applies the rules that
need the whole bank: unique ids, known topics and demos, ``see_also`` and
``references`` that resolve, a registry without unused or duplicated works.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable
from itertools import chain
from pathlib import Path

from dlprep.core.bank.model import (
    KEY_RE,
    REFERENCES_FILE,
    TOPICS_FILE,
    Bank,
    BankError,
    Card,
    Problem,
    Reference,
    StudyPath,
    Topic,
    suggest,
)
from dlprep.core.bank.validate import Checker, unique_files
from dlprep.core.yamlfile import (
    LocatedList,
    YamlError,
    doubtful_strings,
    key_line,
    load_yaml,
    node_line,
    parse_fast,
    parse_located,
    read_text,
    written_quoted,
)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _find_cycle(prereqs: dict[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in prereqs.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in prereqs and state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in prereqs:
        if state.get(node) is None:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


class _FastReader:
    """Reads bank files through ``yamlfile.parse_fast`` where it can (no per-node
    lines), PyYAML otherwise and for the files in ``located``. Topics and
    reference files (small, with many short values) have their strings checked
    here; ``unchecked`` lists the fast-read card files, whose strings the
    checker records as it accepts them (``Checker.ambiguous``)."""

    def __init__(self, located: frozenset[str] = frozenset()):
        self.located = located
        self.unchecked: set[str] = set()

    def __call__(self, f: Path) -> tuple[object, list]:
        text = read_text(f)
        data = None if str(f) in self.located else parse_fast(text)
        if data is None:
            return parse_located(text)
        if f.name in (TOPICS_FILE, REFERENCES_FILE):
            if not all(written_quoted(text, v) for v in doubtful_strings(data)):
                return parse_located(text)
        else:
            self.unchecked.add(str(f))
        return data, []


def _quoted(path: str, values: set[str]) -> bool:
    text = read_text(Path(path))
    return all(written_quoted(text, v) for v in values)


def check_bank(
    folders: Iterable[Path] = (),
    files: Iterable[Path] = (),
    strict: bool = False,
    reference_folders: Iterable[Path] = (),
) -> tuple[Bank, list[Problem]]:
    """Load and check banks. Returns the bank built from the valid parts and
    every problem found.

    ``folders`` are bank folders (a ``topics.yaml`` and topic files, maybe a
    ``demos/`` folder); ``files`` are single files checked against them.
    ``reference_folders`` are loaded only so that references from ``files``
    resolve (their own problems are not reported).
    """
    bank, checker = _check(folders, files, strict, reference_folders, load_yaml)
    return bank, checker.problems


def _check(
    folders: Iterable[Path],
    files: Iterable[Path],
    strict: bool,
    reference_folders: Iterable[Path],
    read: Callable[[Path], tuple[object, list]],
) -> tuple[Bank, Checker]:
    from dlprep.demos.registry import discover

    checker = Checker(strict)
    folders = [Path(f) for f in folders]
    files = [Path(f) for f in files]
    reference_folders = [Path(f) for f in reference_folders]

    for folder in folders:
        if not folder.is_dir():
            checker.add(str(folder), 0, "not a folder")
    for f in files:
        if not f.is_file():
            checker.add(str(f), 0, "no such file")
    wanted = unique_files(  # (file, report problems?)
        chain(
            ((f, True) for folder in folders if folder.is_dir() for f in _yaml_files(folder)),
            ((f, True) for f in files if f.is_file()),
            ((f, False) for folder in reference_folders if folder.is_dir() for f in _yaml_files(folder)),
        )
    )

    reported = checker.problems
    topics: dict[str, Topic] = {}
    study_paths: dict[str, StudyPath] = {}
    card_entries: list[tuple[Card, bool]] = []
    card_sites: list[tuple[str, str, int, bool, dict]] = []  # id, path, line, report, raw
    file_topics: list[tuple[str, str, int, bool]] = []
    registry: dict[str, tuple[Reference, str, int, bool]] = {}  # key -> entry, path, line, report

    # topics.yaml files first (cards name their topics), then registries, then in the order given.
    first = {TOPICS_FILE: 0, REFERENCES_FILE: 1}
    ordered = sorted(enumerate(wanted), key=lambda iw: (first.get(iw[1][0].name, 2), iw[0]))
    for _, (f, report) in ordered:
        path = str(f)
        checker.problems = reported if report else []
        checker.report = report
        try:
            data, dups = read(f)
        except YamlError as exc:
            checker.problems.append(Problem(path, exc.line, exc.message, column=exc.column))
            continue
        for line, key in dups:
            checker.add(path, line, f"duplicate key {key!r}")
        if f.name == TOPICS_FILE:
            new_topics, new_paths = checker.topics_file(data, path)
            for t in new_topics:
                if t.id in topics:
                    checker.add(path, 0, f"topic {t.id!r} is defined twice (also in {topics[t.id].source})")
                else:
                    topics[t.id] = t
            for sp in new_paths:
                study_paths.setdefault(sp.role, sp)
            continue
        if f.name == REFERENCES_FILE:
            for ref, line in checker.registry(data, path):
                if ref.key in registry:
                    other = registry[ref.key]
                    checker.add(path, line, f"reference {ref.key!r} is defined twice (also at {other[1]}:{other[2]})")
                else:
                    registry[ref.key] = (ref, path, line, report)
            continue
        if data is None:
            checker.add(path, 1, "empty file: expected 'topic' and 'cards'")
            continue
        if not isinstance(data, dict):
            checker.add(path, 1, "a topic file must be a mapping with 'topic' and 'cards'")
            continue
        checker.keys(data, ("topic", "cards"), (path, None), "topic file")
        topic_id = checker.text(data, "topic", (path, None))
        if topic_id is not None:
            file_topics.append((topic_id, path, key_line(data, "topic"), report))
        cards = data.get("cards")
        if "cards" not in data:
            checker.add(path, node_line(data), "missing required key 'cards'")
            cards = []
        elif not isinstance(cards, list):
            checker.add(path, key_line(data, "cards"), "'cards' must be a list")
            cards = []
        for i, raw in enumerate(cards):
            line = cards.line_of_item(i) if isinstance(cards, LocatedList) else 0
            card = checker.card(raw, topic_id or "?", path, i, line)
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                card_sites.append((raw["id"], path, key_line(raw, "id"), report, raw))
            if card is not None:
                card_entries.append((card, report))

    checker.problems = reported

    # Demos: bundled, plus a demos/ folder in any bank folder.
    demo_dirs = [f / "demos" for f in [*folders, *reference_folders] if (f / "demos").is_dir()]
    demo_dirs += [f.parent / "demos" for f in files if (f.parent / "demos").is_dir()]
    demo_ids = frozenset(discover(demo_dirs))

    # Cross-file checks.
    for topic_id, path, line, report in file_topics:
        if report and topic_id not in topics:
            checker.add(path, line, f"unknown topic {topic_id!r}{suggest(topic_id, topics)}: add it to a topics.yaml")
    for t in topics.values():
        for p in t.prerequisites:
            if p not in topics:
                checker.add(t.source, 0, f"topic {t.id!r}: prerequisite {p!r} is not a topic")
    cycle = _find_cycle({t.id: t.prerequisites for t in topics.values()})
    if cycle:
        first = topics[cycle[0]]
        checker.add(first.source, 0, f"prerequisite cycle: {' -> '.join(cycle)}")
    for sp in study_paths.values():
        for st in sp.stages:
            for tid in st.topics:
                if tid not in topics:
                    checker.add(
                        next(iter(topics.values())).source if topics else "topics.yaml",
                        0,
                        f"path {sp.role!r}: stage {st.label!r} names unknown topic {tid!r}",
                    )

    first_site: dict[str, tuple[str, int]] = {}
    for cid, path, line, report, _raw in card_sites:
        if cid in first_site:
            fpath, fline = first_site[cid]
            if report:
                checker.add(path, line, f"duplicate id (first defined at {fpath}:{fline})", cid)
        else:
            first_site[cid] = (path, line)
    all_ids = set(first_site)
    for cid, path, _line, report, raw in card_sites:
        if not report:
            continue
        see_also = raw.get("see_also")
        if isinstance(see_also, list):
            for ref in see_also:
                if isinstance(ref, str) and ref not in all_ids:
                    checker.add(
                        path,
                        key_line(raw, "see_also"),
                        f"see_also {ref!r} is not a card id{suggest(ref, all_ids)}",
                        cid,
                    )
        demo = raw.get("show_me")
        if isinstance(demo, str) and demo.strip() and demo not in demo_ids:
            checker.add(
                path, key_line(raw, "show_me"), f"show_me {demo!r} is not a demo id{suggest(demo, demo_ids)}", cid
            )

    _check_citations(checker, registry, strict)

    unique: dict[str, Card] = {}
    for card, _report in card_entries:
        unique.setdefault(card.id, card)
    bank = Bank(
        topics=topics,
        cards=list(unique.values()),
        paths=study_paths,
        demo_ids=demo_ids,
        files=[str(f) for f, _ in wanted],
        references={key: entry[0] for key, entry in sorted(registry.items())},
    )
    return bank, checker


def _norm_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def _check_citations(checker: Checker, registry: dict[str, tuple[Reference, str, int, bool]], strict: bool) -> None:
    """References resolve; under --strict every citation is a key, books
    carry a locator, no registry entry is unused and no work is listed twice.

    A key-shaped citation must resolve whenever a registry is loaded; free
    text (banks without a registry) passes outside --strict."""
    used: set[str] = set()
    for c, path, line, cid, report in checker.cited:
        entry = registry.get(c.key)
        if entry is None:
            key_shaped = bool(KEY_RE.match(c.key))
            if report and (strict or c.at or (key_shaped and registry)):
                checker.add(
                    path, line, f"reference {c.key!r} is not in any references.yaml{suggest(c.key, registry)}", cid
                )
            continue
        used.add(c.key)
        if report and strict and entry[0].type == "book" and not c.at:
            checker.add(path, line, f"cites the book {c.key!r} without a chapter or section ('at')", cid)
    if not strict:
        return
    seen_title: dict[str, str] = {}
    seen_arxiv: dict[str, str] = {}
    for key, (ref, path, line, report) in registry.items():
        if not report:
            continue
        if key not in used:
            checker.add(path, line, f"reference {key!r} is not cited by any card")
        title = _norm_title(ref.title) + ("|" + ref.venue if ref.type == "docs" else "")
        for index, value in ((seen_title, title), (seen_arxiv, ref.arxiv)):
            if not value:
                continue
            if value in index:
                checker.add(path, line, f"reference {key!r} is the same work as {index[value]!r}")
            else:
                index[value] = key


def load_bank(extra_folders: Iterable[Path] = ()) -> Bank:
    """The bundled bank merged with the user's extra folders; raises
    :class:`BankError` if anything in them is invalid."""
    from dlprep.paths import bundled_bank_dir

    folders = [bundled_bank_dir(), *extra_folders]
    # Fast: files parsed without per-node lines where that reads them exactly as PyYAML would.
    # The ~100,000 dicts, lists and objects made here are all kept: collecting cycles
    # among them while they are made is wasted work (about 5% of the load).
    collecting = gc.isenabled()
    gc.disable()
    try:
        read = _FastReader()
        bank, checker = _check(folders, (), False, (), read)
    finally:
        if collecting:
            gc.enable()
    doubtful = {
        path for path, values in checker.ambiguous.items() if path in read.unchecked and not _quoted(path, values)
    }
    if doubtful and not checker.problems:  # a string PyYAML might read otherwise: those files by PyYAML
        read = _FastReader(frozenset(doubtful))
        bank, checker = _check(folders, (), False, (), read)
    if checker.problems:  # every problem again, each with its line: the slow, exact reading
        bank, problems = check_bank(folders=folders)
        if problems:
            raise BankError(problems)
    return bank
