"""The review history and scheduling state, in SQLite.

The review log is the source of truth; ``card_state`` is derived from it and
``rebuild()`` recomputes it, together with the summaries
(``card_summary``, ``day_summary``, ``point_summary``: dlprep/core/summaries.py)
that let screens read aggregates instead of the whole log, and each card's FSRS
memory state (``card_memory``: dlprep/core/memory_state.py). Recording a review is one transaction: the log
row and the new state together, or neither. Writes take the lock up front
(``BEGIN IMMEDIATE``) so two dlprep processes never interleave a
read-then-write; a busy database is waited on for a few seconds, then
reported as one clear error.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from dlprep.core import memory_state, scheduler, summaries
from dlprep.core.memory import MemoryState, Replayer
from dlprep.core.migrations import SCHEMA_VERSION, migrate
from dlprep.core.scheduler import CardState, study_day
from dlprep.core.summaries import CardSummary, DaySummary
from dlprep.errors import DatabaseBusy, DatabaseDamaged, DlprepError

BUSY_TIMEOUT_S = 5.0
LogEntry = tuple[int, datetime, date | None, int, bool]  # grade, time, due cap, rollover hour, counts
MODES = ("quiz", "rapid", "cram", "mock", "review", "repeat", "diagnostic", "drill")


@dataclass(frozen=True)
class Review:
    """One review, as entered. ``counts`` says whether it moves the schedule."""

    card_id: str
    grade: int
    at: datetime
    mode: str = "review"
    counts: bool = True
    points_hit: tuple[int, ...] | None = None  # indices of rubric points covered
    coverage: float | None = None
    follow_up: str | None = None  # None, "got" or "missed"
    follow_up_index: int | None = None
    answer_text: str | None = None
    seconds: float | None = None
    session_id: int | None = None
    card_hash: str | None = None  # the card's content hash when it was reviewed

    def to_dict(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "grade": self.grade,
            "at": self.at.isoformat(),
            "mode": self.mode,
            "counts": self.counts,
            "points_hit": list(self.points_hit) if self.points_hit is not None else None,
            "coverage": self.coverage,
            "follow_up": self.follow_up,
            "follow_up_index": self.follow_up_index,
            "answer_text": self.answer_text,
            "seconds": self.seconds,
            "session_id": self.session_id,
            "card_hash": self.card_hash,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        points = data.get("points_hit")
        return cls(
            card_id=data["card_id"],
            grade=int(data["grade"]),
            at=datetime.fromisoformat(data["at"]),
            mode=data.get("mode", "review"),
            counts=bool(data.get("counts", True)),
            points_hit=tuple(points) if points is not None else None,
            coverage=data.get("coverage"),
            follow_up=data.get("follow_up"),
            follow_up_index=data.get("follow_up_index"),
            answer_text=data.get("answer_text"),
            seconds=data.get("seconds"),
            session_id=data.get("session_id"),
            card_hash=data.get("card_hash"),
        )


@dataclass
class Replayed:
    """One replay of the whole log (``Store.replay_all``): what every value derived by replaying it should be."""

    states: dict[str, CardState]  # each card's scheduling state (SM-2's, or the scheduler hook's)
    stale_ages: list[tuple[int | None, int, str]]  # as summaries.stale_intervals: (card age, review id, study day)
    memory: list[tuple[str, MemoryState, int]]  # as memory_state.derived: (card id, FSRS memory state, usable)


@dataclass
class Store:
    path: Path
    conn: sqlite3.Connection
    _db: Any = field(default=None, repr=False)
    read_only: bool = False  # opened from a folder that cannot be written: reads work, writes are refused
    # The scheduler hook. None: SM-2 over the scheduling reviews (scheduler.review / replay). Otherwise a
    # function from a card's whole log, oldest first, as (grade, time, due cap, rollover hour, counts), to
    # its state, or None if no review counts (FSRS: dlprep.core.memory.fsrs_state, set by
    # dlprep.features.scheduling). It is used by record, undo, rebuild and check alike.
    replay_log: Callable[[list[LogEntry]], CardState | None] | None = field(default=None, repr=False)

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path, timeout: float = BUSY_TIMEOUT_S) -> Store:
        """Open (creating and migrating as needed) the database at ``path``.
        ``timeout`` is how long to wait for another writer before giving up."""
        path = Path(path)
        if path.exists() and path.is_dir():
            raise DlprepError(f"{path}: is a folder, not a database")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DlprepError(f"{path.parent}: cannot create data folder ({exc.strerror})") from None
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise DlprepError(f"{path}: cannot open database ({exc})") from None
        store = cls(path, conn)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise DlprepError(
                    f"{path}: written by a newer dlprep (schema {version}, this version knows {SCHEMA_VERSION}); "
                    "upgrade dlprep instead of using this database"
                )
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            migrate(conn, lambda: store.db)
            # Reads the schema: "not a database" shows here. No quick_check: it reads every page
            # (~0.1 s at 100,000 reviews) on every command; damage a read meets is reported then,
            # and `dlprep db check` runs the full integrity check.
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except DlprepError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            if path.exists() and _unwritable(exc):
                return cls._open_read_only(path)
            raise _error(path, exc) from None
        return store

    @classmethod
    def _open_read_only(cls, path: Path) -> Store:
        """The database in a folder we cannot write: readable, never written.
        (A WAL database needs its -shm file; ``immutable`` reads without it.)"""
        last: sqlite3.Error | None = None
        for query in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, isolation_level=None)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                conn.execute("SELECT COUNT(*) FROM reviews").fetchone()
            except sqlite3.Error as exc:
                last = exc
                continue
            if version != SCHEMA_VERSION:
                conn.close()
                raise DlprepError(
                    f"{path}: this database needs upgrading (schema {version} -> {SCHEMA_VERSION}) "
                    "but its folder is read-only"
                )
            store = cls(path, conn)
            store.read_only = True
            return store
        raise _error(path, last) if last else DlprepError(f"{path}: cannot open database")

    @property
    def db(self) -> Any:
        """A sqlite-utils view of the same connection (for migrations and reads)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False, recursive_triggers=False)
        return self._db

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from the start."""
        if self.read_only:
            raise DlprepError(f"{self.path}: the data folder is read-only, so nothing can be saved")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _error(self.path, exc) from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self.conn.execute("ROLLBACK")
            raise _error(self.path, exc) from None

    def _rows(self, sql: str, params: tuple | list | dict[str, Any] = ()) -> list[dict[str, Any]]:
        try:
            cur = self.conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # ------------------------------------------------------------ state

    def state(self, card_id: str) -> CardState:
        rows = self._rows("SELECT * FROM card_state WHERE card_id = ?", (card_id,))
        return _state_from_row(rows[0]) if rows else CardState()

    def states(self) -> dict[str, CardState]:
        return {r["card_id"]: _state_from_row(r) for r in self._rows("SELECT * FROM card_state")}

    def reviews(self, card_id: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Review rows, oldest first, with ``points_hit`` decoded."""
        where, params = [], []
        if card_id is not None:
            where.append("card_id = ?")
            params.append(card_id)
        if since is not None:
            where.append("at_utc >= ?")
            params.append(_utc(since))
        sql = "SELECT * FROM reviews"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._rows(sql + " ORDER BY at_utc, id", params)
        for r in rows:
            r["points_hit"] = json.loads(r["points_hit"]) if r["points_hit"] is not None else None
            r["counts"] = bool(r["counts"])
        return rows

    def timing(self) -> tuple[int, float | None]:
        """(number of timed reviews, their mean seconds), same-session repeats excluded."""
        count, ms = self.conn.execute("SELECT TOTAL(timed), TOTAL(timed_ms) FROM card_summary").fetchone()
        return int(count), (ms / 1000 / count if count else None)

    # ------------------------------------------------------------ summaries (dlprep/core/summaries.py)

    def card_summary(self, card_id: str) -> CardSummary | None:
        rows = self._rows("SELECT * FROM card_summary WHERE card_id = ?", (card_id,))
        return CardSummary.from_dict(rows[0]) if rows else None

    def card_summaries(self) -> dict[str, CardSummary]:
        """Every reviewed card's summary (one row per card, not per review)."""
        return {r["card_id"]: CardSummary.from_dict(r) for r in self._rows("SELECT * FROM card_summary")}

    def day_summaries(self, start: date | None = None, end: date | None = None) -> list[DaySummary]:
        """Study days with reviews, oldest first, within ``start``..``end`` (inclusive) if given."""
        where, params = [], []
        if start is not None:
            where.append("day >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("day <= ?")
            params.append(end.isoformat())
        sql = "SELECT * FROM day_summary" + (" WHERE " + " AND ".join(where) if where else "")
        return [DaySummary.from_dict(r) for r in self._rows(sql + " ORDER BY day", params)]

    def point_hits(self, card_ids: Iterable[str] | None = None) -> dict[str, dict[int, int]]:
        """Per card, how many reviews marked each rubric point (by index) covered."""
        if card_ids is None:
            rows = self.conn.execute("SELECT card_id, point, hits FROM point_summary").fetchall()
        else:
            ids = list(card_ids)
            rows = []
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows += self.conn.execute(
                    f"SELECT card_id, point, hits FROM point_summary WHERE card_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
        result: dict[str, dict[int, int]] = {}
        for card_id, point, hits in rows:
            result.setdefault(card_id, {})[point] = hits
        return result

    def rapid_scores(self, time_targets: dict[str, int]) -> tuple[int, int]:
        """(rapid-fire reviews of these cards, those graded >= 4 within the card's
        time target in seconds), counted in SQL."""
        # One pass over three columns of the log (assess, not an everyday screen): faster here
        # than looking each card up through the (card_id, at_utc) index and its table rows.
        n = good = 0
        rows = self.conn.execute("SELECT card_id, grade, seconds FROM reviews WHERE mode = 'rapid'")
        for card_id, grade, seconds in rows:
            target = time_targets.get(card_id)
            if target is not None:
                n += 1
                good += grade >= 4 and (seconds or 0) <= target
        return n, good

    # ------------------------------------------------------------ FSRS memory (dlprep/core/memory_state.py)

    def memory_parameters(self) -> tuple[float, ...] | None:
        """The FSRS parameters the stored memory states were computed with."""
        return memory_state.recorded_parameters(self.conn)

    def memory_states(self) -> dict[str, MemoryState]:
        """Every reviewed card's stored FSRS memory state (one row per card, not per review)."""
        return {r["card_id"]: MemoryState.from_dict(r) for r in self._rows("SELECT * FROM card_memory")}

    def memory_state(self, card_id: str) -> MemoryState | None:
        rows = self._rows("SELECT * FROM card_memory WHERE card_id = ?", (card_id,))
        return MemoryState.from_dict(rows[0]) if rows else None

    def usable_reviews(self) -> int:
        """Reviews a fit could learn from (``memory.usable_reviews`` over the whole log)."""
        return int(self.conn.execute("SELECT TOTAL(usable) FROM card_memory").fetchone()[0])

    def refresh_memory(self, params: tuple[float, ...]) -> None:
        """Recompute every card's memory state from the log with ``params`` (new parameters)."""
        with self._write() as conn:
            memory_state.refresh_all(conn, params)

    def due_states(self, on: date) -> dict[str, CardState]:
        """The states of cards due on or before ``on`` (read through the ``due`` index)."""
        rows = self._rows("SELECT * FROM card_state WHERE due <= ?", (on.isoformat(),))
        return {r["card_id"]: _state_from_row(r) for r in rows}

    def due_days(self, start: date, end: date) -> dict[str, date]:
        """Cards due between ``start`` and ``end`` (inclusive), with their due day."""
        rows = self.conn.execute(
            "SELECT card_id, due FROM card_state WHERE due BETWEEN ? AND ?", (start.isoformat(), end.isoformat())
        ).fetchall()
        return {cid: date.fromisoformat(due) for cid, due in rows}

    # ------------------------------------------------------------ writes

    def record(self, review: Review, rollover_hour: int = 4, due_cap: date | None = None) -> CardState:
        """Log one review and update the card's state, atomically.

        Raises DlprepError for a grade outside 0-5, a naive time, an unknown
        mode, or a scheduling review earlier than the card's last one.
        """
        if isinstance(review.grade, bool) or not isinstance(review.grade, int) or not 0 <= review.grade <= 5:
            raise DlprepError(f"grade must be a whole number from 0 to 5, got {review.grade!r}")
        if review.at.tzinfo is None:
            raise DlprepError("review time needs a UTC offset")
        if review.mode not in MODES:
            raise DlprepError(f"unknown review mode {review.mode!r}")
        with self._write() as conn:
            old = self.state(review.card_id)
            if review.counts:
                if old.last_review is not None and review.at < old.last_review:
                    raise DlprepError(
                        f"{review.card_id}: review at {review.at.isoformat()} is earlier than its last review "
                        f"({old.last_review.isoformat()}); reviews must be recorded in order"
                    )
                if self.replay_log is None:
                    new = scheduler.review(old, review.grade, review.at, rollover_hour, due_cap)
                    interval_before = summaries.interval_before(old)
                else:
                    log = self.review_log(review.card_id).get(review.card_id, [])
                    new = self.replay_log([*log, (review.grade, review.at, due_cap, rollover_hour, True)]) or old
                    # Card age is the SM-2 interval (README), whichever scheduler sets the due dates.
                    sm2 = scheduler.replay([(g, at, cap, rh) for g, at, cap, rh, counts in log if counts])
                    interval_before = summaries.interval_before(sm2)
            else:
                new, interval_before = old, None
            conn.execute(
                "INSERT INTO reviews (card_id, at, at_utc, grade, mode, counts, points_hit, coverage,"
                " follow_up, follow_up_index, answer_text, seconds, session_id, rollover_hour, due_cap, card_hash,"
                " interval_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    review.card_id,
                    review.at.isoformat(),
                    _utc(review.at),
                    review.grade,
                    review.mode,
                    int(review.counts),
                    json.dumps(list(review.points_hit)) if review.points_hit is not None else None,
                    review.coverage,
                    review.follow_up,
                    review.follow_up_index,
                    review.answer_text,
                    review.seconds,
                    review.session_id,
                    rollover_hour,
                    due_cap.isoformat() if due_cap else None,
                    review.card_hash,
                    interval_before,
                ),
            )
            if review.counts:
                _put_state(conn, review.card_id, new)
            day = study_day(review.at, rollover_hour)
            summaries.refresh(conn, [review.card_id], [day.isoformat()])
            memory_state.record(conn, review.card_id, review.grade, day, _utc(review.at))
        return new

    def start_session(self, mode: str, at: datetime, meta: dict[str, Any] | None = None) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (mode, started_at, meta) VALUES (?, ?, ?)",
                (mode, at.isoformat(), json.dumps(meta or {})),
            )
            return int(cur.lastrowid)

    def end_session(self, session_id: int, at: datetime) -> None:
        with self._write() as conn:
            conn.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (at.isoformat(), session_id))

    def derive_states(self) -> dict[str, CardState]:
        """Every card's state replayed from the log (scheduling reviews only)."""
        return self.replay_all().states

    def replay_all(self, memory_params: tuple[float, ...] | None = None) -> Replayed:
        """Replay the whole log once, card by card: each card's state, its reviews' card
        ages (``summaries.interval_before`` of the SM-2 state before each scheduling
        review; the due cap moves only the due date, so the capped replay that gives the
        state gives the ages too) and, given ``memory_params``, its FSRS memory row
        (``memory_state.advance``). ``rebuild`` and ``check`` need all three."""
        try:
            rows = self.conn.execute(
                "SELECT id, card_id, grade, at, due_cap, rollover_hour, counts, interval_before FROM reviews"
                " ORDER BY card_id, at_utc, id"
            )
            out = Replayed({}, [], [])
            replayer = Replayer(memory_params) if memory_params is not None else None
            parse, cap_of = datetime.fromisoformat, date.fromisoformat
            for card_id, group in groupby(rows, key=lambda r: r[1]):
                sm2, counted, log = CardState(), False, []
                mem, usable = None, 0
                for review_id, _, grade, at, cap, rollover_hour, counts, stored_age in group:
                    when, cap_day = parse(at), (cap_of(cap) if cap else None)
                    age = None
                    if counts:
                        age = summaries.interval_before(sm2)
                        sm2, counted = scheduler.review(sm2, grade, when, rollover_hour, cap_day), True
                    day = study_day(when, rollover_hour)
                    if age != stored_age:
                        out.stale_ages.append((age, review_id, day.isoformat()))
                    if replayer is not None:
                        mem, usable = memory_state.advance(replayer, mem, usable, grade, day)
                    if self.replay_log is not None:
                        log.append((grade, when, cap_day, rollover_hour, bool(counts)))
                state = (sm2 if counted else None) if self.replay_log is None else self.replay_log(log)
                if state is not None:
                    out.states[card_id] = state
                if mem is not None:
                    out.memory.append((card_id, mem, usable))
        except sqlite3.DatabaseError as exc:
            raise _error(self.path, exc) from None
        return out

    def last_seen(self) -> dict[str, tuple[str, str | None]]:
        """Per card: (time of its latest review, the card hash stored with it)."""
        rows = self.conn.execute("SELECT card_id, last_at, last_hash FROM card_summary").fetchall()
        return {cid: (at, h) for cid, at, h in rows}

    def last_review(self, card_id: str | None = None) -> dict[str, Any] | None:
        """The latest review row (of one card, or of any card), or None."""
        sql = "SELECT * FROM reviews" + (" WHERE card_id = ?" if card_id is not None else "")
        rows = self._rows(sql + " ORDER BY at_utc DESC, id DESC LIMIT 1", (card_id,) if card_id is not None else ())
        return rows[0] if rows else None

    def delete_review(self, review_id: int) -> CardState:
        """Remove one review from the log and replay its card's state from the
        rest of the log, in one transaction. Returns the card's new state."""
        with self._write() as conn:
            row = conn.execute(
                f"SELECT card_id, {summaries.DAY_SQL} FROM reviews WHERE id = ?", (review_id,)
            ).fetchone()
            if row is None:
                raise DlprepError(f"no review with id {review_id}")
            card_id, day = row
            conn.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
            state = self._replay_card(card_id)
            if state.reviews:
                _put_state(conn, card_id, state)
            else:
                conn.execute("DELETE FROM card_state WHERE card_id = ?", (card_id,))
            # The card's first scheduling review may now be another one, on another day; and the
            # card's later reviews may now come at another interval (card age), on their days.
            first = conn.execute(
                f"SELECT {summaries.DAY_SQL} FROM reviews WHERE card_id = ? AND counts = 1 ORDER BY at_utc, id LIMIT 1",
                (card_id,),
            ).fetchone()
            aged = summaries.fix_intervals(conn, card_id)
            summaries.refresh(conn, [card_id], [day, *aged] + ([first[0]] if first else []))
            memory_state.refresh_card(conn, card_id)
        return state

    def _replay_card(self, card_id: str) -> CardState:
        if self.replay_log is not None:
            return self.replay_log(self.review_log(card_id).get(card_id, [])) or CardState()
        rows = self.conn.execute(
            "SELECT grade, at, due_cap, rollover_hour FROM reviews WHERE card_id = ? AND counts = 1"
            " ORDER BY at_utc, id",
            (card_id,),
        ).fetchall()
        return scheduler.replay(
            [(g, datetime.fromisoformat(at), date.fromisoformat(cap) if cap else None, rh) for g, at, cap, rh in rows]
        )

    def review_log(self, card_id: str | None = None) -> dict[str, list[LogEntry]]:
        """Every review, scheduling or not, by card, oldest first (for the scheduler hook)."""
        sql = "SELECT card_id, grade, at, due_cap, rollover_hour, counts FROM reviews"
        rows = self.conn.execute(
            sql + (" WHERE card_id = ?" if card_id is not None else "") + " ORDER BY at_utc, id",
            (card_id,) if card_id is not None else (),
        ).fetchall()
        out: dict[str, list[LogEntry]] = {}
        for cid, grade, at, cap, rh, counts in rows:
            entry = (grade, datetime.fromisoformat(at), date.fromisoformat(cap) if cap else None, rh, bool(counts))
            out.setdefault(cid, []).append(entry)
        return out

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> dict[str, CardState]:
        """Recompute every card's state and every summary from the log; returns
        the new states. ``progress(done, total)`` is told how far it got."""
        report = progress or (lambda done, total: None)
        with self._write() as conn:
            params = memory_state.parameters_in_use(conn)[0]
            replayed = self.replay_all(params)
            states = replayed.states
            total = len(states) + 1
            conn.execute("DELETE FROM card_state")
            for done, (card_id, st) in enumerate(states.items()):
                _put_state(conn, card_id, st)
                if done % 50 == 0:
                    report(done, total)
            report(len(states), total)
            summaries.set_intervals(conn, replayed.stale_ages)
            summaries.refresh_all(conn)
            memory_state.refresh_all(conn, params, replayed.memory)
            report(total, total)
        return states

    # ------------------------------------------------------------ settings and assessments

    def get_setting(self, key: str) -> Any:
        rows = self._rows("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else None

    def set_setting(self, key: str, value: Any) -> None:
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value)),
                )

    def add_assessment(self, at: datetime, ratings: dict[str, int], kind: str = "self") -> None:
        with self._write() as conn:
            for topic, rating in ratings.items():
                conn.execute(
                    "INSERT INTO assessments (taken_at, topic, rating, kind) VALUES (?, ?, ?, ?)",
                    (at.isoformat(), topic, rating, kind),
                )

    def latest_assessment(self, kind: str = "self") -> tuple[str | None, dict[str, int]]:
        # The latest instant, not the largest text: taken_at keeps the offset it was taken in.
        rows = self._rows(
            "SELECT taken_at, topic, rating FROM assessments WHERE kind = ? AND taken_at ="
            " (SELECT taken_at FROM assessments WHERE kind = ? ORDER BY julianday(taken_at) DESC, taken_at DESC"
            " LIMIT 1)",
            (kind, kind),
        )
        if not rows:
            return None, {}
        return rows[0]["taken_at"], {r["topic"]: r["rating"] for r in rows}

    def integrity_problems(self) -> list[str]:
        """SQLite's own integrity check; [] when healthy."""
        try:
            return [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]

    def review_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])

    def check(self) -> list[str]:
        """SQLite's integrity check plus a rebuild comparison; [] when healthy."""
        problems = self.integrity_problems()
        if problems:
            return problems
        stored = self.states()
        params = memory_state.recorded_parameters(self.conn)
        replayed = self.replay_all(params)
        derived = replayed.states
        for cid in sorted(set(stored) | set(derived)):
            if stored.get(cid) != derived.get(cid):
                problems.append(f"{cid}: stored state differs from the review log (run `dlprep db rebuild`)")
        stale = replayed.stale_ages
        if stale:
            problems.append(
                f"reviews: {len(stale)} card ages (interval_before) differ from the review log"
                " (run `dlprep db rebuild`)"
            )
        return problems + summaries.differences(self.conn) + memory_state.differences(self.conn, replayed.memory)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _state_from_row(row: dict[str, Any]) -> CardState:
    return CardState.from_dict(row)


def _put_state(conn: sqlite3.Connection, card_id: str, st: CardState) -> None:
    d = st.to_dict()
    conn.execute(
        "INSERT INTO card_state (card_id, repetitions, easiness_hundredths, interval_days, due, last_review,"
        " reviews, lapses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(card_id) DO UPDATE SET repetitions = excluded.repetitions,"
        " easiness_hundredths = excluded.easiness_hundredths, interval_days = excluded.interval_days,"
        " due = excluded.due, last_review = excluded.last_review, reviews = excluded.reviews,"
        " lapses = excluded.lapses",
        (
            card_id,
            d["repetitions"],
            d["easiness_hundredths"],
            d["interval_days"],
            d["due"],
            d["last_review"],
            d["reviews"],
            d["lapses"],
        ),
    )


def _unwritable(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return "unable to open database file" in text or "readonly" in text or "read-only" in text


def _error(path: Path, exc: sqlite3.Error) -> DlprepError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return DatabaseBusy(_describe(path, exc))
    if "malformed" in text or "not a database" in text or "encrypted" in text:
        return DatabaseDamaged(
            f"{path}: database is damaged ({text}); run `dlprep db check` to see what can be recovered"
        )
    return DlprepError(_describe(path, exc))


def _describe(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{path}: database is busy (another dlprep is writing); try again in a moment"
    if "readonly" in text or "read-only" in text:
        return f"{path}: database is read-only ({text})"
    if "full" in text or "disk I/O" in text:
        return f"{path}: cannot write ({text}; is the disk full?): this change was not saved, earlier reviews are safe"
    return f"{path}: database error ({text})"
