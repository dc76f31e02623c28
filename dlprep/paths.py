"""Every path dlprep reads or writes is decided here, and only here."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "dlprep"
HOME_ENV = "DLPREP_HOME"
BANK_ENV = "DLPREP_BUNDLED_BANK"


def user_dir() -> Path:
    """The folder for the database, config and exports.

    ``DLPREP_HOME`` wins; otherwise the platform's per-user data folder
    (``~/.local/share/dlprep`` on Linux). Created on first use by the callers
    that write, never by merely asking.
    """
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def db_path() -> Path:
    return user_dir() / "dlprep.db"


def config_path() -> Path:
    return user_dir() / "config.yaml"


def scorecards_dir() -> Path:
    return user_dir() / "scorecards"


def backups_dir() -> Path:
    """Where `dlprep backup` writes when no file is given."""
    return user_dir() / "backups"


def practice_dir() -> Path:
    """Where `dlprep practice` writes starter files (``--dir`` overrides)."""
    return user_dir() / "practice"


def cache_dir() -> Path:
    """Disposable caches (the parsed bank). Under DLPREP_HOME when it is set."""
    if os.environ.get(HOME_ENV):
        return user_dir() / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def bundled_bank_dir() -> Path:
    """The question bank shipped with dlprep.

    In a wheel it is copied into the package (``dlprep/questions``); in a
    source checkout or editable install it is ``questions/`` beside the package.
    ``DLPREP_BUNDLED_BANK`` points it at another folder (a fork of the bank, or
    a small bank for tests).
    """
    override = os.environ.get(BANK_ENV)
    if override:
        return Path(override).expanduser()
    here = Path(__file__).resolve().parent
    installed = here / "questions"
    if installed.is_dir():
        return installed
    return here.parent / "questions"


def bundled_demos_dir() -> Path:
    return Path(__file__).resolve().parent / "demos"
