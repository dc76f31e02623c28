"""The review log summed up by SQLite: every number `dlprep stats` and
`dlprep report` show comes from one of these queries, never from a Python
loop over the log.

Definitions (the README states them too):

- A review's *study day* is the day of its own local time (the offset stored
  with it in ``reviews.at``) minus the rollover hour, exactly as
  :func:`dlprep.core.scheduler.study_day` computes it.
- A *scheduled review* is one that moves the schedule (``counts = 1``):
  same-day repeats, cram and rapid-fire reviews are left out.
- A *retention review* is a scheduled review of a card that already had one:
  the first time a card is seen tests nothing. Retention is the share of
  retention reviews graded 3 or more.
- A review's *card age* is the card's SM-2 interval just before it, i.e. the
  interval its previous scheduled review set: *young* below 21 days,
  *mature* from 21 days on. It is recomputed from the grades with window
  functions (see :func:`_mature_after_sql`), exactly as the scheduler sets it.

Cards are passed in as JSON (``[[card_id, topic, rubric_points], ...]``) so
SQLite can join the log with the bank; ``topic_only`` restricts the review
log to those cards (``--topic``); otherwise the whole log counts, including
cards no longer in the bank.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import EF_FLOOR, EF_START, PASS

if TYPE_CHECKING:
    from dlprep.core.store import Store

MATURE_DAYS = 21
# Within a run of passes, the k-th pass sets interval 1, 6, then ceil(I * EF). With EF >= 1.30 the
# seventh pass sets at least ceil(ceil(ceil(ceil(8 * 1.3) * 1.3) * 1.3) * 1.3) = 26 days: mature for
# sure. So the exact interval only needs computing up to the sixth pass.
SURELY_MATURE_PASS = 7
WEEKS_BACK = 26  # retention over time: weeks 0-25 back; bucket 26 holds everything older


@dataclass(frozen=True)
class Scope:
    """What the log is read for: the rollover hour, today, and the bank's cards."""

    rollover_hour: int
    today: date
    cards: list[tuple[str, str, int]]  # (card id, topic, number of rubric points)
    topic_only: bool = False

    @property
    def cards_json(self) -> str:
        return json.dumps(self.cards)

    def params(self, **extra: Any) -> dict[str, Any]:
        return {
            "shift": f"-{self.rollover_hour} hours",
            "today": self.today.isoformat(),
            "cards": self.cards_json,
            **extra,
        }

    def review_filter(self, alias: str = "reviews") -> str:
        if not self.topic_only:
            return "1"
        return f"{alias}.card_id IN (SELECT json_extract(value, '$[0]') FROM json_each(:cards))"


def study_day_sql(column: str = "at") -> str:
    """The study day of an ISO time with offset, in its own local time.
    (SQLite's date() would convert a time with an offset to UTC: the offset is
    cut off first, leaving the local wall-clock time.)"""
    return f"date(substr({column}, 1, 19), :shift)"


CARDS_CTE = (
    "cards(card_id, topic, points) AS MATERIALIZED (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]') FROM json_each(:cards))"
)


def _rows(store: Store, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    from dlprep.core.store import _error

    try:
        cur = store.conn.execute(sql, params)
    except sqlite3.DatabaseError as exc:
        raise _error(store.path, exc) from None
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


# ---------------------------------------------------------------- totals and days


def totals(store: Store, scope: Scope) -> dict[str, Any]:
    """Counts over the whole log (or the topic's cards)."""
    row = _rows(
        store,
        f"""
        SELECT COUNT(*) AS reviews,
               COALESCE(SUM(counts), 0) AS scheduling_reviews,
               AVG(CASE WHEN counts = 1 THEN grade END) AS average_grade,
               COALESCE(SUM(seconds), 0) AS seconds
        FROM reviews WHERE {scope.review_filter()}""",
        scope.params(),
    )[0]
    return row


def days(store: Store, scope: Scope, since: date) -> list[dict[str, Any]]:
    """Reviews and seconds per study day from ``since`` to today (days with reviews only)."""
    return _rows(
        store,
        f"""
        SELECT day, COUNT(*) AS reviews, COALESCE(SUM(seconds), 0) AS seconds
        FROM (SELECT {study_day_sql()} AS day, seconds FROM reviews WHERE {scope.review_filter()})
        WHERE day BETWEEN :since AND :today
        GROUP BY day ORDER BY day""",
        scope.params(since=since.isoformat()),
    )


def streaks(store: Store, scope: Scope) -> dict[str, int]:
    """Study days in all, the longest run of consecutive study days, and the
    current one: the run ending today, or yesterday while today is not done."""
    row = _rows(
        store,
        f"""
        WITH d AS (
            SELECT DISTINCT {study_day_sql()} AS day FROM reviews WHERE {scope.review_filter()}
        ),
        islands AS (
            SELECT day, julianday(day) - ROW_NUMBER() OVER (ORDER BY day) AS grp FROM d WHERE day <= :today
        ),
        runs AS (SELECT MAX(day) AS last, COUNT(*) AS n FROM islands GROUP BY grp)
        SELECT (SELECT COUNT(*) FROM islands) AS study_days,
               COALESCE((SELECT MAX(n) FROM runs), 0) AS longest,
               COALESCE((SELECT n FROM runs WHERE last = :today),
                        (SELECT n FROM runs WHERE last = date(:today, '-1 day')), 0) AS current""",
        scope.params(),
    )[0]
    return row


# ---------------------------------------------------------------- retention and card age


def _ceil_times(x: str, ef: str) -> str:
    """ceil(x * ef / 100) in integers, as the scheduler computes it (both positive)."""
    return f"(({x}) * ({ef}) + 99) / 100"


def _mature_after_sql() -> str:
    """1 when the interval a scheduled review sets is >= MATURE_DAYS, else 0.

    A miss sets 1 day. The k-th pass since the last miss sets 1, 6, then
    ceil(previous * EF before that review); ``e0``..``e3`` are the EFs before
    this review and the three before it, ``k`` the pass's place in its run.
    """
    chain = {}
    for k in range(3, SURELY_MATURE_PASS):
        x = "6"
        for j in range(k - 3, -1, -1):  # oldest EF first
            x = _ceil_times(x, f"e{j}")
        chain[k] = x
    cases = " ".join(f"WHEN k = {k} THEN ({expr}) >= {MATURE_DAYS}" for k, expr in chain.items())
    return f"CASE WHEN grade < {PASS} OR k < 3 THEN 0 WHEN k >= {SURELY_MATURE_PASS} THEN 1 {cases} END"


def _scheduled_cte(scope: Scope) -> str:
    """CTEs ending in ``aged``: every retention review with its study day, how
    many days back that is, whether the card was mature, and its topic."""
    delta = "10 - (5 - grade) * (8 + (5 - grade) * 2)"  # scheduler.next_easiness, before the floor
    win = "PARTITION BY card_id ORDER BY at_utc, id"
    return f"""
        {CARDS_CTE},
        s AS (
            SELECT id, card_id, grade, at_utc, {study_day_sql()} AS day,
                   SUM({delta}) OVER (w) AS cum,
                   ROW_NUMBER() OVER (w) AS n
            FROM reviews WHERE counts = 1 AND {scope.review_filter()}
            WINDOW w AS ({win})
        ),
        ef AS (
            -- EF after each review: a running sum of the changes, floored at {EF_FLOOR}
            -- (x_n = max(floor, x_(n-1) + d_n) is S_n + max(x_0, max over k <= n of floor - S_k)).
            SELECT *, cum + MAX({EF_START}, MAX({EF_FLOOR} - cum) OVER (w)) AS ef_after,
                   n - MAX(CASE WHEN grade < {PASS} THEN n ELSE 0 END) OVER (w) AS k
            FROM s WINDOW w AS ({win})
        ),
        lagged AS (
            SELECT *, LAG(ef_after, 1, {EF_START}) OVER (w) AS e0, LAG(ef_after, 2, {EF_START}) OVER (w) AS e1,
                   LAG(ef_after, 3, {EF_START}) OVER (w) AS e2, LAG(ef_after, 4, {EF_START}) OVER (w) AS e3
            FROM ef WINDOW w AS ({win})
        ),
        sets AS (SELECT *, {_mature_after_sql()} AS mature_after FROM lagged),
        aged AS (
            SELECT sets.card_id, grade, day, CAST(julianday(:today) - julianday(day) AS INTEGER) AS back,
                   LAG(mature_after) OVER (PARTITION BY sets.card_id ORDER BY at_utc, id) AS mature,
                   n, cards.topic AS topic
            FROM sets LEFT JOIN cards ON cards.card_id = sets.card_id
        )"""


def retention(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Retention reviews summed per (topic, card age, week back): ``n`` and
    ``passed`` in all, in the last 7 and the last 30 study days (today
    included). ``week`` is whole weeks back (0 = the last 7 days), WEEKS_BACK for anything older."""
    return _rows(
        store,
        f"""
        WITH {_scheduled_cte(scope)}
        SELECT topic, mature, MIN(back / 7, {WEEKS_BACK}) AS week,
               COUNT(*) AS n, SUM(grade >= {PASS}) AS passed,
               SUM(back < 7) AS n7, SUM(back < 7 AND grade >= {PASS}) AS passed7,
               SUM(back < 30) AS n30, SUM(back < 30 AND grade >= {PASS}) AS passed30
        FROM aged WHERE n > 1 AND back >= 0
        GROUP BY topic, mature, week""",
        scope.params(),
    )


def review_ages(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Each scheduled review's card and whether its card was mature then (for tests)."""
    return _rows(
        store,
        f"WITH {_scheduled_cte(scope)} SELECT card_id, grade, day, n, mature FROM aged ORDER BY card_id, n",
        scope.params(),
    )


# ---------------------------------------------------------------- cards and topics


def topics(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per topic of the given cards: cards, seen, due today, mature, mean EF
    (hundredths, over seen cards) and the summed card mastery (the mean of
    each card's last three scheduled grades, over 5)."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE},
        ranked AS (
            SELECT card_id, grade, ROW_NUMBER() OVER (PARTITION BY card_id ORDER BY at_utc DESC, id DESC) AS rn
            FROM reviews WHERE counts = 1 AND card_id IN (SELECT card_id FROM cards)
        ),
        recent AS (SELECT card_id, AVG(grade) / 5.0 AS mastery FROM ranked WHERE rn <= 3 GROUP BY card_id)
        SELECT cards.topic AS topic, COUNT(*) AS cards, COUNT(st.card_id) AS seen,
               COALESCE(SUM(st.due <= :today), 0) AS due,
               COALESCE(SUM(st.interval_days >= {MATURE_DAYS}), 0) AS mature,
               AVG(st.easiness_hundredths) AS mean_ef, COALESCE(SUM(recent.mastery), 0) AS mastery_sum
        FROM cards LEFT JOIN card_state st ON st.card_id = cards.card_id
                   LEFT JOIN recent ON recent.card_id = cards.card_id
        GROUP BY cards.topic""",
        scope.params(),
    )


def follow_ups(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per topic: follow-up questions asked and missed."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}
        SELECT cards.topic AS topic, COUNT(*) AS asked, SUM(follow_up = 'missed') AS missed
        FROM reviews JOIN cards ON cards.card_id = reviews.card_id
        WHERE follow_up IS NOT NULL GROUP BY cards.topic""",
        scope.params(),
    )


def missed_points(store: Store, scope: Scope, limit: int = 10) -> list[dict[str, Any]]:
    """The rubric points missed most often: (card, point index, missed, asked),
    most missed first, then the highest miss rate, then card id and point.
    Every review that marked rubric points counts (repeats and cram too)."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE},
        marked AS (
            SELECT reviews.id, reviews.card_id, points_hit FROM reviews JOIN cards ON cards.card_id = reviews.card_id
            WHERE points_hit IS NOT NULL
        ),
        asked AS (SELECT card_id, COUNT(*) AS asked FROM marked GROUP BY card_id),
        hits AS (
            SELECT card_id, CAST(j.value AS INTEGER) AS i, COUNT(DISTINCT marked.id) AS hit
            FROM marked, json_each(marked.points_hit) AS j GROUP BY card_id, i
        ),
        idx(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM idx WHERE i < (SELECT MAX(points) FROM cards) - 1),
        missed AS (
            SELECT cards.card_id, idx.i AS point, asked.asked - COALESCE(hits.hit, 0) AS missed, asked.asked
            FROM cards JOIN asked ON asked.card_id = cards.card_id JOIN idx ON idx.i < cards.points
                 LEFT JOIN hits ON hits.card_id = cards.card_id AND hits.i = idx.i
        )
        SELECT card_id, point, missed, asked FROM missed WHERE missed > 0
        ORDER BY missed DESC, CAST(missed AS REAL) / asked DESC, card_id, point LIMIT :limit""",
        scope.params(limit=limit),
    )


def forecast(store: Store, scope: Scope, days_ahead: int) -> list[dict[str, Any]]:
    """Cards due per day from today on (overdue ones counted today), the given cards only."""
    end = scope.today + timedelta(days=days_ahead - 1)
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}
        SELECT MAX(due, :today) AS day, COUNT(*) AS due, SUM(due < :today) AS overdue
        FROM card_state WHERE due <= :end AND card_id IN (SELECT card_id FROM cards)
        GROUP BY MAX(due, :today) ORDER BY day""",
        scope.params(end=end.isoformat()),
    )


def rapid_fire(store: Store, targets: dict[str, int]) -> dict[str, int]:
    """Rapid-fire reviews of bank cards, and how many were graded 4+ within the card's time target."""
    row = _rows(
        store,
        """
        WITH t(card_id, target) AS (SELECT key, value FROM json_each(:targets))
        SELECT COUNT(*) AS n, COALESCE(SUM(grade >= 4 AND COALESCE(seconds, 0) <= t.target), 0) AS good
        FROM reviews JOIN t ON t.card_id = reviews.card_id WHERE mode = 'rapid'""",
        {"targets": json.dumps(targets)},
    )[0]
    return row
