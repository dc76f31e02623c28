"""What every command gets in ``ctx.obj``: options, and lazily the config,
bank, store and clock. Nothing heavy is loaded until a command asks for it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dlprep.errors import DlprepError

if TYPE_CHECKING:
    from dlprep.config import Config
    from dlprep.core.bank import Bank
    from dlprep.core.bankcache import CachedBank
    from dlprep.core.store import Store

NOW_ENV = "DLPREP_NOW"


EARLIEST_YEAR, LATEST_YEAR = 1970, 9000
DATE_ONLY_HOUR = 12  # a date without a time means that study day: noon, well clear of any rollover hour


def parse_datetime(text: str, what: str = "time") -> datetime:
    """ISO 8601 date or date-time, with or without offset; local time if none.

    A bare date (``2026-12-01``) means noon local time on that day, so it
    lands on that study day whatever the rollover hour. Years outside
    1970-9000 are refused (they are typos, and some overflow date arithmetic).
    """
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DlprepError(f"bad {what} {text!r}: use ISO 8601, e.g. 2026-11-21 or 2026-11-21T09:30+01:00") from None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise DlprepError(f"bad {what} {text!r}: the year must be from {EARLIEST_YEAR} to {LATEST_YEAR}")
    if len(text) == 10:  # YYYY-MM-DD
        value = value.replace(hour=DATE_ONLY_HOUR)
    if value.tzinfo is None:
        value = value.astimezone()  # interpret as local time
    return value


def now() -> datetime:
    """The current local time, aware. ``DLPREP_NOW`` fixes it (tests, scripts)."""
    fixed = os.environ.get(NOW_ENV)
    if fixed:
        return parse_datetime(fixed, NOW_ENV)
    return datetime.now().astimezone()


@dataclass
class AppContext:
    bank_dirs: list[Path] = field(default_factory=list)
    debug: bool = False

    @cached_property
    def config(self) -> Config:
        from dlprep.config import load_config

        return load_config()

    @cached_property
    def extra_bank_dirs(self) -> list[Path]:
        from dlprep.config import bank_dirs

        dirs = bank_dirs(self.config) + self.bank_dirs
        for d in dirs:
            if not d.is_dir():
                raise DlprepError(f"{d}: bank folder does not exist")
        return dirs

    @cached_property
    def _cached_bank(self) -> CachedBank:
        from dlprep.core.bankcache import load_cached

        return load_cached(self.extra_bank_dirs)

    @cached_property
    def bank(self) -> Bank:
        return self._cached_bank.bank

    @cached_property
    def errata(self) -> dict:
        """Errata by card id, from the bundled bank's and extra banks' errata/ folders
        (kept in the bank cache: an unchanged bank costs no YAML)."""
        return self._cached_bank.errata

    @cached_property
    def store(self) -> Store:
        from dlprep.core.store import Store
        from dlprep.paths import db_path

        store = Store.open(db_path())
        from dlprep.features.scheduling import attach

        attach(store, self.config)  # SM-2 or FSRS; replays the log after a switch
        if store.read_only:
            import sys

            sys.stderr.write(
                f"note: {db_path().parent} is read-only: your data is shown, but reviews cannot be saved\n"
            )
        return store

    def now(self) -> datetime:
        return now()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
