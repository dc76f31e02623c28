"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""

from __future__ import annotations


class DlprepError(Exception):
    """A problem caused by input, files or environment, not by a bug in dlprep."""

    exit_code = 1


class UsageError(DlprepError):
    """A bad argument or option value."""

    exit_code = 2


class DatabaseDamaged(DlprepError):
    """The database file is damaged; ``dlprep db check`` tells what can be recovered."""


class DatabaseBusy(DlprepError):
    """Another process holds the database's write lock for longer than the busy timeout."""
