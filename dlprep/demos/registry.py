"""Find demos without importing them (and so without importing torch).

A demo is a module in ``dlprep/demos/`` or in a bank's ``demos/`` folder that
sets ``TOPIC`` and ``TITLE`` to string literals and defines ``run``. Its id is
the file name with ``_`` turned into ``-``.

Reading a file means parsing it (``ast``), about 2 ms a demo; what was read
is kept in ``demos.cache`` in the cache folder, keyed on each file's path,
size and modification time (as Python keeps bytecode), so an unchanged demo
is not parsed again, and a changed one always is. ``discover`` only reads
that file; ``save_scans`` writes it (the bank cache does, when it writes
itself), so loading or validating a bank writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlprep import __version__, paths

_NOT_DEMOS = {"__init__", "__main__", "base", "registry", "runner"}
SCAN_CACHE = "demos.cache"
_SCAN_KEY = f"{__version__}-1"  # dlprep's version, and this cache's format
# by cache file: (the scans read from it, once per process; the scans used since, for save_scans)
_scans: dict[Path, tuple[dict[str, tuple], dict[str, tuple]]] = {}


@dataclass(frozen=True)
class DemoInfo:
    id: str
    topic: str
    title: str
    path: Path
    bundled: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "topic": self.topic,
            "title": self.title,
            "path": str(self.path),
            "bundled": self.bundled,
        }


def read_info(path: Path, bundled: bool) -> DemoInfo | None:
    import ast  # only when a demo file is new or changed (see ``discover``)

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    literals: dict[str, str] = {}
    has_run = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            has_run = True
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if (
                isinstance(target, ast.Name)
                and target.id in ("TOPIC", "TITLE")
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                literals[target.id] = node.value.value
    if not has_run or set(literals) != {"TOPIC", "TITLE"}:
        return None
    return DemoInfo(
        id=path.stem.replace("_", "-"),
        topic=literals["TOPIC"],
        title=literals["TITLE"],
        path=path,
        bundled=bundled,
    )


def discover(extra_dirs: list[Path] | tuple[Path, ...] = ()) -> dict[str, DemoInfo]:
    """All demos: the bundled ones, then those in ``extra_dirs``.

    A bundled demo's id cannot be taken over by a user's file.
    """
    known, seen = _scans_for(paths.cache_dir() / SCAN_CACHE)
    found: dict[str, DemoInfo] = {}
    sources = [(paths.bundled_demos_dir(), True)] + [(Path(d), False) for d in extra_dirs]
    for folder, bundled in sources:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.stem in _NOT_DEMOS or path.stem.startswith("_"):
                continue
            info = _read_info_cached(path, bundled, known, seen)
            if info is not None and info.id not in found:
                found[info.id] = info
    return found


def _scans_for(cache: Path) -> tuple[dict[str, tuple], dict[str, tuple]]:
    if cache not in _scans:
        from dlprep.core import cachefile

        read = cachefile.read(cache, "demos", _SCAN_KEY)
        _scans[cache] = (read if isinstance(read, dict) else {}, {})
    return _scans[cache]


def save_scans() -> None:
    """Keep what ``discover`` read in this process for the next one (if anything changed)."""
    import os

    from dlprep.core import cachefile

    cache = paths.cache_dir() / SCAN_CACHE
    known, seen = _scans_for(cache)
    if seen and any(known.get(k) != v for k, v in seen.items()):
        kept = {k: v for k, v in {**known, **seen}.items() if os.path.exists(k)}
        cachefile.write(cache, "demos", _SCAN_KEY, kept)
        known.update(seen)


def _read_info_cached(path: Path, bundled: bool, known: dict, seen: dict) -> DemoInfo | None:
    """``read_info``, or what it gave when the file last had this size and mtime."""
    try:
        st = path.stat()
    except OSError:
        return None
    name = str(path)
    entry = known.get(name)
    if not (isinstance(entry, tuple) and entry[:3] == (st.st_size, st.st_mtime_ns, bundled)):
        info = read_info(path, bundled)
        entry = (st.st_size, st.st_mtime_ns, bundled, *((info.id, info.topic, info.title) if info else ()))
    seen[name] = entry
    if len(entry) != 6:
        return None
    return DemoInfo(id=entry[3], topic=entry[4], title=entry[5], path=path, bundled=bundled)
