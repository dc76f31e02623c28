"""Which scheduler sets due dates: SM-2 (the default) or FSRS (``config set scheduler fsrs``).

The review log is the source of truth either way, so switching loses
nothing: the scheduler's settings (name, desired retention, FSRS parameters)
are remembered with the stored states, and when they differ from the
configured ones, every card's state is replayed from the log under the
configured scheduler (``Store.rebuild``). Switching back replays SM-2 and
gives exactly the states SM-2 had.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlprep.config import Config
    from dlprep.core.store import Store

STATE_KEY = "state_scheduler"  # the settings the stored card states were computed with


def signature(store: Store, config: Config) -> dict[str, Any] | None:
    """The configured scheduler's settings; None for SM-2 (which needs no more)."""
    if config.scheduler != "fsrs":
        return None
    from dlprep.features.forecast import parameters

    params = parameters(store)
    return {
        "scheduler": "fsrs",
        "desired_retention": config.desired_retention,
        "parameters": list(params.values),
    }


def attach(store: Store, config: Config, force: bool = False) -> bool:
    """Point ``store`` at the configured scheduler; replay the log if the stored
    states came from another one (or ``force``). Returns whether it replayed."""
    want = signature(store, config)
    if want is not None:
        from dlprep.core.memory import fsrs_state

        store.replay_log = partial(
            fsrs_state, params=tuple(want["parameters"]), desired_retention=want["desired_retention"]
        )
    else:
        store.replay_log = None
    if store.read_only or (not force and store.get_setting(STATE_KEY) == want):
        return False
    store.rebuild()
    store.set_setting(STATE_KEY, want)
    return True


def replay_file(path: Path, config: Config, force: bool = False) -> int | None:
    """Open the database at ``path`` (if it exists) and attach the configured
    scheduler. Returns how many cards were replayed, or None if nothing was."""
    if not path.exists():
        return None
    from dlprep.core.store import Store

    store = Store.open(path)
    try:
        return len(store.states()) if attach(store, config, force) else None
    finally:
        store.close()
