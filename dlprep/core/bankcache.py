"""A cache of the validated bank, so everyday commands skip parsing ~1 MB of YAML.

The cache is keyed on the dlprep version and the path, size and modification
time of every file the bank is built from (card files, topics files and demo
modules, whose ids ``show_me`` is checked against). Any change means a miss,
a full load and validation, and a new cache. A cache that cannot be read or
written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from dlprep import __version__, paths
from dlprep.core.bank.model import Bank

CACHE_FILE = "bank.json"


def _signature(folders: Iterable[Path]) -> str:
    entries: list[tuple[str, int, int]] = [("dlprep", 0, 0), (__version__, 0, 0)]
    dirs = []
    for folder in folders:
        dirs += [folder, folder / "demos"]
    dirs.append(paths.bundled_demos_dir())
    for d in dirs:
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.suffix in (".yaml", ".yml", ".py"):
                st = f.stat()
                entries.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def load_bank_cached(extra_folders: Iterable[Path] = ()) -> Bank:
    extra_folders = list(extra_folders)
    key = _signature([paths.bundled_bank_dir(), *extra_folders])
    cache = paths.cache_dir() / CACHE_FILE
    with contextlib.suppress(Exception):
        data = json.loads(cache.read_bytes())
        if isinstance(data, dict) and data.get("key") == key:
            return Bank.from_dict(data["bank"])
    from dlprep.core.bank.load import load_bank

    bank = load_bank(extra_folders)  # raises BankError on any problem: nothing is cached then
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"key": key, "bank": bank.to_dict()}, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:  # read-only or full disk: no cache, and no half-written file left behind
        with contextlib.suppress(OSError):
            tmp.unlink()
    return bank
