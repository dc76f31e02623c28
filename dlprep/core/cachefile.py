"""One disposable cache file: ``marshal`` of plain data behind a header line.

The header holds a name, a key (whatever must match for the data to be
used: the caller's format and inputs, plus the Python that wrote it, since
marshal's format is Python's) and a CRC-32 of the payload. A file for
another key, truncated or damaged is a miss (``None``), never a half-read
value. marshal of tuples, strings and numbers cannot run code when loaded,
unlike pickle. A file that cannot be written is skipped: a cache only ever
saves time.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any

PYTHON = f"{sys.implementation.cache_tag}-m{marshal.version}"


def _header(name: str, key: str) -> bytes:
    return f"dlprep-{name} {PYTHON} {key} ".encode()


def read(path: Path, name: str, key: str) -> Any | None:
    """The cached value, or None when missing, for another key or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = _header(name, key)
    end = len(header) + 9
    if not data.startswith(header) or data[end - 1 : end] != b"\n":
        return None
    payload = memoryview(data)[end:]
    if b"%08x" % zlib.crc32(payload) != data[len(header) : end - 1]:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


def write(path: Path, name: str, key: str, value: Any) -> None:
    """Replace the file atomically (no half-written file is ever read); errors are ignored."""
    payload = marshal.dumps(value)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(_header(name, key) + b"%08x\n" % zlib.crc32(payload) + payload)
        os.replace(tmp, path)
    except OSError:  # read-only or full disk: no cache, and no half-written file left behind
        with contextlib.suppress(OSError):
            tmp.unlink()
