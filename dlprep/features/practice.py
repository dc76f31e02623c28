"""Implementation drills: starting one, hints, the solution, and turning check runs into reviews.

A drill's reviews go in the same log as cards, under card id ``drill:<id>``,
so they share SM-2, ``today``, ``stats``, ``undo`` and ``db rebuild``.

How check runs become reviews (docs/drills.md says the same for users):

- A run where some check fails is logged as an *attempt* (mode ``drill``,
  ``counts`` false): it leaves the schedule alone, so a drill is not marked
  failed for a day just because the first run found a bug.
- The run where every check passes *settles* the drill: one scheduling
  review (mode ``drill``, ``counts`` true) graded by :func:`grade_run` from
  how many runs it took since the drill was last settled and how many hints
  were shown. ``--give-up`` settles it with the latest failing run's grade
  instead.
- Once settled, further runs on the same study day are logged as repeats
  (mode ``repeat``): the day's result stands (SM-2's same-day rule).
- Hints shown and whether the solution was seen are kept per drill in the
  settings table until the drill is settled (``undo`` does not bring them back).

Every row stores ``coverage`` = checks passed / checks run, and
``answer_text`` = a JSON summary (passed, total, failed check ids, attempt, hints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import CardState, study_day
from dlprep.core.store import Review, Store
from dlprep.drills.model import DIFFICULTY_NAMES, Drill
from dlprep.errors import DlprepError, UsageError

if TYPE_CHECKING:
    from dlprep.drills.runner import CheckResult

PROGRESS_KEY = "drill_progress"  # settings: {drill id: {"hints": n, "solution": bool}}
MODE = "drill"
GAVE_UP = "gave-up"

# ---------------------------------------------------------------- grading


def grade_run(passed: int, total: int, loaded: bool, attempt: int, hints: int, solution_seen: bool) -> int:
    """The SM-2 grade of a check run. ``attempt`` is this run's number since
    the drill was last settled (1 = the first run); ``loaded`` is whether the
    file loaded and defined every required name.

    - the file does not load (syntax error, exception at import, a name missing): 0
    - some checks fail: 2 if more than half of all rows pass, else 1
    - all pass after seeing the solution: 2 (a copy is not recall: back tomorrow)
    - all pass on the first run with no hint: 5
    - all pass within three runs, or with hints: 4
    - all pass after more than three runs: 3
    """
    if not loaded:
        return 0
    if passed < total:
        return 2 if 2 * passed > total else 1
    if solution_seen:
        return 2
    if attempt == 1 and hints == 0:
        return 5
    if attempt <= 3:
        return 4
    return 3


# ---------------------------------------------------------------- progress kept between runs


@dataclass
class Progress:
    hints: int = 0
    solution_seen: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"hints": self.hints, "solution": self.solution_seen}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        return cls(hints=int(data.get("hints", 0)), solution_seen=bool(data.get("solution", False)))


def load_progress(store: Store, drill_id: str) -> Progress:
    data = store.get_setting(PROGRESS_KEY) or {}
    return Progress.from_dict(data.get(drill_id, {}))


def save_progress(store: Store, drill_id: str, progress: Progress | None) -> None:
    data = store.get_setting(PROGRESS_KEY) or {}
    if progress is None:
        data.pop(drill_id, None)
    else:
        data[drill_id] = progress.to_dict()
    store.set_setting(PROGRESS_KEY, data)


def pending_attempts(store: Store, drill: Drill) -> list[dict[str, Any]]:
    """The failing runs logged since the drill was last settled, oldest first."""
    pending: list[dict[str, Any]] = []
    for row in store.reviews(drill.review_id):
        if row["counts"]:
            pending = []
        elif row["mode"] == MODE:
            pending.append(row)
    return pending


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON summary stored with a drill review (empty if none)."""
    try:
        data = json.loads(row.get("answer_text") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- recording a run


@dataclass
class RunOutcome:
    drill_id: str
    passed: int
    total: int
    grade: int
    attempt: int
    hints: int
    kind: str  # "settled", "attempt", "repeat" or "gave-up"
    state: CardState
    at: datetime
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        st = self.state
        return {
            "drill": self.drill_id,
            "passed": self.passed,
            "total": self.total,
            "grade": self.grade,
            "attempt": self.attempt,
            "hints": self.hints,
            "recorded_as": self.kind,
            "moves_schedule": self.kind in ("settled", GAVE_UP),
            "at": self.at.isoformat(),
            "due": st.due.isoformat() if st.due else None,
            "interval_days": st.interval_days,
            "failed": self.failed,
        }


def _loaded(results: list[CheckResult]) -> bool:
    from dlprep.drills.runner import DEFINES, LOADS

    ids = {r.id: r.passed for r in results}
    return ids.get(LOADS, False) and ids.get(DEFINES, False)


def record_run(store: Store, drill: Drill, results: list[CheckResult], now: datetime, rollover_hour: int) -> RunOutcome:
    """Log one check run as a review of ``drill:<id>`` (see the module docstring for the rules)."""
    from dlprep.features.plan import due_cap

    passed = sum(r.passed for r in results)
    total = len(results)
    failed = [r.id for r in results if not r.passed]
    old = store.state(drill.review_id)
    progress = load_progress(store, drill.id)
    attempt = len(pending_attempts(store, drill)) + 1
    grade = grade_run(passed, total, _loaded(results), attempt, progress.hints, progress.solution_seen)
    settled_today = old.last_review is not None and study_day(old.last_review, rollover_hour) == study_day(
        now, rollover_hour
    )
    if settled_today:
        kind, mode, counts = "repeat", "repeat", False
    elif passed == total:
        kind, mode, counts = "settled", MODE, True
    else:
        kind, mode, counts = "attempt", MODE, False
    text = json.dumps({"passed": passed, "total": total, "failed": failed, "attempt": attempt, "hints": progress.hints})
    review = Review(
        drill.review_id,
        grade,
        now,
        mode=mode,
        counts=counts,
        coverage=round(passed / total, 4) if total else 0.0,
        answer_text=text,
    )
    cap = due_cap(store, drill.review_id, now, rollover_hour) if counts else None
    state = store.record(review, rollover_hour, cap)
    if counts:
        save_progress(store, drill.id, None)
    return RunOutcome(drill.id, passed, total, grade, attempt, progress.hints, kind, state, now, failed)


def give_up(store: Store, drill: Drill, now: datetime, rollover_hour: int) -> RunOutcome:
    """Settle a drill whose runs keep failing: one scheduling review with the
    grade of the latest failing run (so SM-2 brings it back tomorrow)."""
    from dlprep.features.plan import due_cap

    pending = pending_attempts(store, drill)
    if not pending:
        raise UsageError(f"no failing run of {drill.id} to give up on (run `dlprep practice {drill.id} --check` first)")
    last = pending[-1]
    info = summary(last)
    review = Review(
        drill.review_id,
        int(last["grade"]),
        now,
        mode=MODE,
        counts=True,
        coverage=last["coverage"],
        answer_text=json.dumps({**info, GAVE_UP: True}),
    )
    state = store.record(review, rollover_hour, due_cap(store, drill.review_id, now, rollover_hour))
    save_progress(store, drill.id, None)
    return RunOutcome(
        drill.id,
        int(info.get("passed", 0)),
        int(info.get("total", 0)),
        int(last["grade"]),
        len(pending),
        int(info.get("hints", 0)),
        GAVE_UP,
        state,
        now,
        list(info.get("failed", [])),
    )


# ---------------------------------------------------------------- hints and the solution


def next_hint(store: Store, drill: Drill) -> tuple[list[str], bool]:
    """Show one more hint: returns the hints shown so far (the new one last)
    and whether a new one was revealed (False once all are out)."""
    progress = load_progress(store, drill.id)
    if progress.hints >= len(drill.hints):
        return list(drill.hints), False
    progress.hints += 1
    save_progress(store, drill.id, progress)
    return list(drill.hints[: progress.hints]), True


def reveal_solution(store: Store, drill: Drill, force: bool, now: datetime, rollover_hour: int) -> str:
    """The reference solution, after at least one check run of this drill
    (or with ``force``). Seen on any day but the one the drill was settled
    on, it caps the next passing run's grade at 2: a copy is not recall."""
    if not force and not store.reviews(drill.review_id):
        raise UsageError(
            f"try the drill first: `dlprep practice {drill.id} --check` once, "
            f"or `dlprep practice {drill.id} --solution --force` to see it anyway"
        )
    last = store.state(drill.review_id).last_review
    settled_today = last is not None and study_day(last, rollover_hour) == study_day(now, rollover_hour)
    progress = load_progress(store, drill.id)
    if not settled_today and not progress.solution_seen:
        progress.solution_seen = True
        save_progress(store, drill.id, progress)
    return drill.solution


# ---------------------------------------------------------------- the starter file


def starter_name(drill: Drill) -> str:
    return drill.id.replace("-", "_") + ".py"


def starter_text(drill: Drill) -> str:
    """The file the user starts from: the task as comments, then the starter code."""
    level = DIFFICULTY_NAMES.get(drill.difficulty, str(drill.difficulty))
    lines = [
        f"# dlprep drill {drill.id}: {drill.title}",
        f"# topic {drill.topic} · difficulty {drill.difficulty} ({level}) · about {drill.minutes} min",
        "#",
        *(f"# {line}".rstrip() for line in drill.task.strip().splitlines()),
        "#",
    ]
    if drill.forbidden:
        lines.append("# Not allowed (the checks catch it): " + ", ".join(drill.forbidden))
    lines += [
        f"# Check it:   dlprep practice {drill.id} --check",
        f"# A hint:     dlprep practice {drill.id} --hint",
        "",
    ]
    return "\n".join(lines) + "\n" + drill.starter.rstrip() + "\n"


@dataclass
class Started:
    path: Path
    created: bool  # False: the file was already there and is left as it is
    backup: Path | None = None


def write_starter(drill: Drill, folder: Path, fresh: bool = False) -> Started:
    """Write the starter file into ``folder`` unless it exists; ``fresh``
    starts over, keeping the old file as ``<name>.bak``."""
    path = folder / starter_name(drill)
    backup = None
    if path.exists() and not fresh:
        return Started(path, False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup = path.with_suffix(".py.bak")
            path.replace(backup)
        path.write_text(starter_text(drill), encoding="utf-8")
    except OSError as exc:
        raise DlprepError(f"{path}: cannot write the starter file ({exc.strerror or exc})") from None
    return Started(path, True, backup)


def read_attempt(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DlprepError(f"{path}: no such file (start the drill first, or give the file to check)") from None
    except UnicodeDecodeError:
        raise DlprepError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise DlprepError(f"{path}: cannot read ({exc.strerror or exc})") from None


# ---------------------------------------------------------------- listing and due drills


@dataclass
class DrillStatus:
    drill: Drill
    state: CardState
    last: dict[str, Any] | None  # the latest review row, with its summary

    def to_dict(self, day: Any = None) -> dict[str, Any]:
        d = self.drill
        last = None
        if self.last is not None:
            info = summary(self.last)
            last = {
                "at": self.last["at"],
                "grade": self.last["grade"],
                "mode": self.last["mode"],
                "passed": info.get("passed"),
                "total": info.get("total"),
            }
        return {
            "id": d.id,
            "title": d.title,
            "topic": d.topic,
            "difficulty": d.difficulty,
            "minutes": d.minutes,
            "bundled": d.bundled,
            "due": self.state.due.isoformat() if self.state.due else None,
            "last": last,
        }


def statuses(store: Store, drills: dict[str, Drill], topic_order: list[str]) -> list[DrillStatus]:
    """Every drill with its schedule and last result, by topic then difficulty."""
    rank = {t: i for i, t in enumerate(topic_order)}
    out = []
    for d in sorted(drills.values(), key=lambda d: (rank.get(d.topic, len(rank)), d.difficulty, d.id)):
        out.append(DrillStatus(d, store.state(d.review_id), store.last_review(d.review_id)))
    return out


def due_drills(states: dict[str, CardState], drills: dict[str, Drill], day: Any) -> list[tuple[Drill, CardState]]:
    """Drills due on or before ``day``, most overdue first."""
    due = [
        (d, states[d.review_id])
        for d in drills.values()
        if d.review_id in states and states[d.review_id].due is not None and states[d.review_id].due <= day
    ]
    return sorted(due, key=lambda pair: (pair[1].due, pair[0].id))


def due_list(states: dict[str, CardState], drills: dict[str, Drill], day: Any) -> list[dict[str, Any]]:
    """Due drills for `today` and its --json: never part of the quiz's flow, each with its command."""
    return [
        {
            "id": d.id,
            "review_id": d.review_id,
            "title": d.title,
            "topic": d.topic,
            "minutes": d.minutes,
            "due": st.due.isoformat() if st.due else None,
            "overdue_days": (day - st.due).days if st.due else 0,
            "action": f"dlprep practice {d.id} --check",
        }
        for d, st in due_drills(states, drills, day)
    ]


# Drill ids sort between these two keys ("drill:" then any suffix; ";" follows ":"),
# so the primary-key indexes answer these counts without reading card rows.
_DRILL_RANGE = "card_id >= 'drill:' AND card_id < 'drill;'"


def drill_totals(store: Store, day: Any) -> dict[str, Any]:
    """What `stats` says about drills: how many were tried, how many settled
    (a counted result: passed, or given up), the mean settled grade, how many
    are due on ``day`` and how many check runs there were in all."""
    tried, settled, grade_sum, graded, runs = store.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(scheduling > 0), 0), COALESCE(SUM(grade_sum), 0),"
        f" COALESCE(SUM(scheduling), 0), COALESCE(SUM(reviews), 0) FROM card_summary WHERE {_DRILL_RANGE}"
    ).fetchone()
    due = store.conn.execute(
        f"SELECT COUNT(*) FROM card_state WHERE {_DRILL_RANGE} AND due IS NOT NULL AND due <= ?", (day.isoformat(),)
    ).fetchone()[0]
    return {
        "tried": tried,
        "settled": settled,
        "average_grade": round(grade_sum / graded, 2) if graded else None,
        "due": due,
        "runs": runs,
    }
