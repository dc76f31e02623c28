"""Each card's FSRS memory state, kept in the database so that the forecast reads one
row per studied card instead of replaying the whole review log.

Two derived tables (schema in migration m006):

- ``card_memory``: per card with reviews, the ``memory.MemoryState`` that
  ``memory.memory_states`` computes from its whole log (every review, scheduling
  or not, in log order ``(at_utc, id)``, each on the study day of the rollover
  hour recorded with it), and ``usable``: how many of those reviews a fit could
  learn from (``memory.usable_reviews`` counts their sum);
- ``memory_parameters``: one row, the FSRS parameters those states were computed with.

They are kept the way the summaries are (dlprep/core/summaries.py): ``Store.record``
advances the card's row by one ``Replayer.step`` in the review's transaction
(:func:`record`; if the log already holds a later review of the card, which a
non-scheduling review can precede, the card is replayed instead); ``delete_review``
replays the card (:func:`refresh_card`); :func:`refresh_all` (``db rebuild``, every
migration, a change of parameters) recomputes every row; :func:`differences` is
``db check``'s comparison with a replay of the log.

Which parameters are in use is decided here, so that the migration and the
rebuild can use them (:func:`parameters_in_use`: the fitted ones that
``forecast --fit`` stores, if valid, else FSRS-6's defaults). When they are not
the recorded ones (a fit, a damaged setting), the forecast recomputes every row
before reading (``dlprep.features.forecast.memory_states``).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby
from typing import Any

from dlprep.core import memory
from dlprep.core.memory import MemoryState, Replayer
from dlprep.core.scheduler import study_day

PARAMS_KEY = "fsrs_parameters"  # the setting `forecast --fit` stores the fitted parameters under
REL_TOL = 1e-9  # db check: stored and replayed floats agree to this relative difference
COLUMNS = "card_id, stability, difficulty, last_day, reviews, usable"
_PROBLEM = "(run `dlprep db rebuild`)"


def parameters_in_use(conn: sqlite3.Connection) -> tuple[tuple[float, ...], dict[str, Any] | None]:
    """(The FSRS parameters in use, the fitted setting they come from or None for FSRS-6's defaults).

    A fitted setting that is damaged (not 21 numbers within the fsrs package's
    bounds) falls back to the defaults rather than stopping every forecast. The
    check imports the fsrs package, so it is skipped when the values are the
    recorded ones: those were checked when ``card_memory`` was computed with them.
    """
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (PARAMS_KEY,)).fetchone()
    if row is not None:
        try:
            data = json.loads(row[0])
            if isinstance(data, dict):
                values = tuple(float(v) for v in data["parameters"])
                if values != recorded_parameters(conn):
                    memory.check_parameters(values)
                return values, data
        except (KeyError, TypeError, ValueError):
            pass
    return memory.DEFAULT_PARAMETERS, None


def recorded_parameters(conn: sqlite3.Connection) -> tuple[float, ...] | None:
    """The parameters ``card_memory`` was computed with (None if never computed)."""
    row = conn.execute("SELECT parameters FROM memory_parameters WHERE id = 1").fetchone()
    return tuple(json.loads(row[0])) if row else None


def advance(
    replayer: Replayer, state: MemoryState | None, usable: int, grade: int, day: date
) -> tuple[MemoryState, int]:
    """The card's (state, usable count) after one more review, graded ``grade`` on study day ``day``.
    Usable as ``memory.usable_reviews`` counts: among the card's first OPTIMIZER_SEQ_LEN
    reviews, one made a study day or more after the previous one."""
    if state is not None and state.reviews < memory.OPTIMIZER_SEQ_LEN and day > state.last_day:
        usable += 1
    return replayer.step(state, grade, day), usable


def _replay(replayer: Replayer, rows: Iterator[tuple[Any, ...]]) -> tuple[MemoryState | None, int]:
    """(State, usable count) after one card's (grade, local ISO time, rollover hour) rows, oldest first."""
    state, usable = None, 0
    for grade, at, rollover_hour in rows:
        state, usable = advance(replayer, state, usable, grade, study_day(datetime.fromisoformat(at), rollover_hour))
    return state, usable


def derived(conn: sqlite3.Connection, params: tuple[float, ...]) -> Iterator[tuple[str, MemoryState, int]]:
    """Every card's (id, memory state, usable count) replayed from the log with ``params``."""
    replayer = Replayer(params)
    rows = conn.execute("SELECT card_id, grade, at, rollover_hour FROM reviews ORDER BY card_id, at_utc, id")
    for card_id, group in groupby(rows, key=lambda r: r[0]):
        state, usable = _replay(replayer, (r[1:] for r in group))
        if state is not None:
            yield card_id, state, usable


def _values(card_id: str, state: MemoryState, usable: int) -> tuple[Any, ...]:
    return (card_id, state.stability, state.difficulty, state.last_day.isoformat(), state.reviews, usable)


_UPSERT = (
    f"INSERT INTO card_memory ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(card_id) DO UPDATE SET"
    " stability = excluded.stability, difficulty = excluded.difficulty, last_day = excluded.last_day,"
    " reviews = excluded.reviews, usable = excluded.usable"
)


def refresh_all(
    conn: sqlite3.Connection, params: tuple[float, ...], replayed: Iterable[tuple[str, MemoryState, int]] | None = None
) -> None:
    """Recompute every card's row with ``params`` and record them; ``replayed``: the rows
    :func:`derived` gives, if the caller has them already. Runs inside the caller's transaction."""
    rows = derived(conn, params) if replayed is None else replayed
    conn.execute("DELETE FROM card_memory")
    conn.executemany(_UPSERT, (_values(*row) for row in rows))
    conn.execute(
        "INSERT INTO memory_parameters (id, parameters) VALUES (1, ?)"
        " ON CONFLICT(id) DO UPDATE SET parameters = excluded.parameters",
        (json.dumps(list(params)),),
    )


def _recorded_or_refresh(conn: sqlite3.Connection) -> tuple[float, ...] | None:
    """The recorded parameters; if there are none (the row was removed), every row is
    recomputed with those in use instead, and None is returned."""
    params = recorded_parameters(conn)
    if params is None:
        refresh_all(conn, parameters_in_use(conn)[0])
    return params


def refresh_card(conn: sqlite3.Connection, card_id: str) -> None:
    """Replay one card's row from its log (through the ``(card_id, at_utc)`` index). In the caller's transaction."""
    params = _recorded_or_refresh(conn)
    if params is None:
        return
    rows = conn.execute(
        "SELECT grade, at, rollover_hour FROM reviews WHERE card_id = ? ORDER BY at_utc, id", (card_id,)
    ).fetchall()
    state, usable = _replay(Replayer(params), iter(rows))
    if state is None:
        conn.execute("DELETE FROM card_memory WHERE card_id = ?", (card_id,))
    else:
        conn.execute(_UPSERT, _values(card_id, state, usable))


def record(conn: sqlite3.Connection, card_id: str, grade: int, day: date, at_utc: str) -> None:
    """Advance the card's row by the review just logged (graded ``grade`` on study day
    ``day``, at ``at_utc`` as stored). In the review's transaction."""
    later = conn.execute("SELECT 1 FROM reviews WHERE card_id = ? AND at_utc > ? LIMIT 1", (card_id, at_utc)).fetchone()
    if later is not None:  # logged before reviews already there: the card's whole log decides
        refresh_card(conn, card_id)
        return
    params = _recorded_or_refresh(conn)
    if params is None:
        return
    row = conn.execute(
        "SELECT stability, difficulty, last_day, reviews, usable FROM card_memory WHERE card_id = ?", (card_id,)
    ).fetchone()
    state, usable = None, 0
    if row is not None:
        state, usable = MemoryState(row[0], row[1], date.fromisoformat(row[2]), row[3]), row[4]
    conn.execute(_UPSERT, _values(card_id, *advance(Replayer(params), state, usable, grade, day)))


def differences(conn: sqlite3.Connection, replayed: Iterable[tuple[str, MemoryState, int]] | None = None) -> list[str]:
    """Rows that differ from a replay of the log with the recorded parameters (floats to
    ``REL_TOL``; ``replayed``: that replay, if the caller has it), and recorded parameters
    other than those in use (``db check``); [] when they agree."""
    params = recorded_parameters(conn)
    if params is None:
        return [f"memory_parameters: missing, so card_memory cannot be checked {_PROBLEM}"]
    stored = {
        r[0]: (MemoryState(r[1], r[2], date.fromisoformat(r[3]), r[4]), r[5])
        for r in conn.execute(f"SELECT {COLUMNS} FROM card_memory")
    }
    want = {cid: (state, usable) for cid, state, usable in (derived(conn, params) if replayed is None else replayed)}
    problems = [
        f"card_memory for card {cid} differs from the review log {_PROBLEM}"
        for cid in sorted(set(stored) | set(want))
        if not _agree(stored.get(cid), want.get(cid))
    ]
    if params != parameters_in_use(conn)[0]:
        problems.append(f"card_memory: computed with other FSRS parameters than those in use {_PROBLEM}")
    return problems


def _agree(a: tuple[MemoryState, int] | None, b: tuple[MemoryState, int] | None) -> bool:
    if a is None or b is None:
        return a is b
    (sa, ua), (sb, ub) = a, b
    return (
        (sa.last_day, sa.reviews, ua) == (sb.last_day, sb.reviews, ub)
        and math.isclose(sa.stability, sb.stability, rel_tol=REL_TOL, abs_tol=0)
        and math.isclose(sa.difficulty, sb.difficulty, rel_tol=REL_TOL, abs_tol=0)
    )
