"""A cache of the validated bank and its errata, so everyday commands parse no YAML.

The cache is keyed on the dlprep version, the cache format, the Python that
wrote it (marshal's format is Python's) and the path, size and modification
time of every file the bank is built from: card, topics and reference files,
demo modules (whose ids ``show_me`` is checked against) and errata files. Any
change means a miss, a full load and validation, and a new cache. A cache that
cannot be read, is damaged or cannot be written is ignored: it only ever saves
time.

The file is ``core/cachefile.py``'s: marshal of plain tuples, strings and
numbers (loading it cannot run code, unlike pickle) behind a header with the
key and a CRC-32, so a truncated or damaged file is a miss, never a half-read
bank. Each card's long fields (answer, rubric, follow-ups, red
flags, references) stay one packed blob until read (``Card.__getattr__``),
and its ``content_hash`` is stored, so list screens and ``today`` decode
only what they show.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dlprep import __version__, paths
from dlprep.core import cachefile
from dlprep.core.bank.model import PACKED, Bank, Card, Reference, StudyPath, Topic

if TYPE_CHECKING:
    from dlprep.core.errata import Erratum

CACHE_FILE = "bank.marshal"
OLD_CACHE_FILES = ("bank.json",)  # earlier formats: removed when a new cache is written
FORMAT = 1
NAME = "bank"
# A card's record: its light fields in the dataclass's order (``source`` as an index into
# the file list), then its content hash and the blob of its packed fields.
LIGHT = (*(f.name for f in fields(Card) if f.name not in PACKED), "content_hash", "_packed")
_SOURCE = LIGHT.index("source")


class CachedBank(NamedTuple):
    bank: Bank
    errata: dict[str, list[Erratum]]  # by card id, oldest first


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[tuple[str, int, int]]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:  # missing or unreadable: the loader decides what that means
        return []
    found = []
    base = str(folder.resolve())
    for e in entries:
        if e.name.endswith(suffixes):
            st = e.stat()
            found.append((os.path.join(base, e.name), st.st_size, st.st_mtime_ns))
    return found


def signature(folders: Iterable[Path]) -> str:
    """The cache key: everything a change to which must invalidate the cache."""
    entries: list[Any] = [("dlprep", __version__, FORMAT)]
    for folder in folders:
        entries.append(str(folder))
        entries += _files(folder, (".yaml", ".yml", ".py"))
        entries += _files(folder / "demos", (".yaml", ".yml", ".py"))
        entries += _files(folder / "errata", (".yaml", ".yml"))
    entries += _files(paths.bundled_demos_dir(), (".py",))
    return hashlib.sha256(repr(entries).encode()).hexdigest()


def _card_record(card: Card, source: int) -> tuple[Any, ...]:
    record = [getattr(card, name) for name in LIGHT[:-2]]
    record[_SOURCE] = source
    return (*record, card.content_hash, card.pack())


def to_plain(cached: CachedBank) -> tuple[Any, ...]:
    """The cache's form: tuples of strings and numbers."""
    bank = cached.bank
    sources: dict[str, int] = {}
    cards = tuple(_card_record(c, sources.setdefault(c.source, len(sources))) for c in bank.cards)
    return (
        tuple(sources),
        cards,
        tuple(t.to_dict() for t in bank.topics.values()),
        tuple(p.to_dict() for p in bank.paths.values()),
        tuple(sorted(bank.demo_ids)),
        tuple(bank.files),
        tuple(r.to_dict() for r in bank.references.values()),
        tuple(
            (e.card, e.date.isoformat(), e.field, e.was, e.now, e.source)
            for entries in cached.errata.values()
            for e in entries
        ),
    )


def from_plain(data: tuple[Any, ...]) -> CachedBank:
    sources, cards, topics, study_paths, demo_ids, files, references, errata = data
    new = object.__new__
    built = []
    for record in cards:
        card = new(Card)
        values = card.__dict__
        values.update(zip(LIGHT, record, strict=True))
        values["source"] = sources[values["source"]]
        built.append(card)
    from dlprep.core.errata import Erratum

    by_card: dict[str, list[Erratum]] = {}
    for entry in errata:
        e = Erratum.from_dict(dict(zip(("card", "date", "field", "was", "now", "source"), entry, strict=True)))
        by_card.setdefault(e.card, []).append(e)
    bank = Bank(
        topics={t.id: t for t in map(Topic.from_dict, topics)},
        cards=built,
        paths={p.role: p for p in map(StudyPath.from_dict, study_paths)},
        demo_ids=frozenset(demo_ids),
        files=list(files),
        references={r.key: r for r in map(Reference.from_dict, references)},
    )
    return CachedBank(bank, by_card)


def load_cached(extra_folders: Iterable[Path] = ()) -> CachedBank:
    """The bundled bank merged with ``extra_folders``, and their errata; from the
    cache when nothing changed. Raises ``BankError`` if the bank is invalid."""
    extra_folders = list(extra_folders)
    folders = [paths.bundled_bank_dir(), *extra_folders]
    key = signature(folders)
    cache = paths.cache_dir() / CACHE_FILE
    with contextlib.suppress(Exception):  # damaged in a way the checksum cannot see: a miss too
        found = cachefile.read(cache, NAME, key)
        if found is not None:
            return from_plain(found)
    from dlprep.core.bank.load import load_bank
    from dlprep.core.errata import load_errata

    bank = load_bank(extra_folders)  # raises BankError on any problem: nothing is cached then
    errata, _problems = load_errata(folders)  # problems are reported by `dlprep validate`
    cached = CachedBank(bank, errata)
    cachefile.write(cache, NAME, key, to_plain(cached))
    from dlprep.demos.registry import save_scans

    save_scans()  # the demo modules read to check show_me: not parsed again until they change
    for name in OLD_CACHE_FILES:
        with contextlib.suppress(OSError):
            (cache.parent / name).unlink()
    return cached


def load_bank_cached(extra_folders: Iterable[Path] = ()) -> Bank:
    return load_cached(extra_folders).bank
