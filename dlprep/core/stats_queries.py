"""The review log summed up by SQLite: every number `dlprep stats` and
`dlprep report` show comes from one of these queries, never from a Python
loop over the log. Most read the summaries the store keeps with every review
(``card_summary``, ``day_summary``, ``point_summary``: see
:mod:`dlprep.core.summaries`); with ``--topic`` the per-day numbers come from
that topic's reviews, read through the ``card_id`` index.

Definitions (the README states them too):

- A review's *study day* is its local date (the UTC offset logged with it)
  rolled over at the rollover hour recorded with it (``summaries.DAY_SQL``),
  as :func:`dlprep.core.scheduler.study_day` computes it.
- A *scheduled review* is one that moves the schedule (``counts = 1``):
  same-day repeats, cram and rapid-fire reviews are left out.
- A *retention review* is a scheduled review of a card that already had one:
  the first time a card is seen tests nothing. Retention is the share of
  retention reviews graded 3 or more.
- A review's *card age* is the card's SM-2 interval just before it, i.e. the
  interval its previous scheduled review set: *young* below 21 days,
  *mature* from 21 days on. The store records it with each review
  (``reviews.interval_before``, migration m005) and the summaries count
  retention reviews by it.

Cards are passed in as JSON (``[[card_id, topic, rubric_points], ...]``) so
SQLite can join the log with the bank; ``topic_only`` restricts the log to
those cards (``--topic``); otherwise the whole log counts, including cards no
longer in the bank.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dlprep.core.scheduler import PASS
from dlprep.core.summaries import AGE_COLUMNS, AGE_SUMS, DAY_SQL, MATURE_DAYS

if TYPE_CHECKING:
    from dlprep.core.store import Store

AGE = AGE_COLUMNS.split(", ")
WEEKS_BACK = 26  # retention over time: weeks 0-25 back


@dataclass(frozen=True)
class Scope:
    """What the log is read for: today, and the bank's cards (all, or one topic's)."""

    today: date
    cards: list[tuple[str, str, int]]  # (card id, topic, number of rubric points)
    topic_only: bool = False

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "cards": json.dumps(self.cards), **extra}

    def in_scope(self, column: str = "card_id") -> str:
        """A condition on a card id column: true for every card, or the topic's only."""
        return f"{column} IN (SELECT card_id FROM cards)" if self.topic_only else "1"


CARDS_CTE = (
    "cards(card_id, topic, points) AS MATERIALIZED (SELECT json_extract(value, '$[0]'),"
    " json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(:cards))"
)


# The --topic cards' reviews, read card by card through the (card_id, at_utc) index: CROSS JOIN keeps
# ``cards`` the outer loop (without it SQLite may walk the whole day index to save sorting by day).
TOPIC_REVIEWS = "cards CROSS JOIN reviews WHERE reviews.card_id = cards.card_id"


def _rows(store: Store, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return store._rows(sql, params)


# ---------------------------------------------------------------- totals and days


def totals(store: Store, scope: Scope) -> dict[str, Any]:
    """Reviews, scheduled reviews, their grade sum and the time spent (ms)."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}
        SELECT COALESCE(SUM(reviews), 0) AS reviews, COALESCE(SUM(scheduling), 0) AS scheduling_reviews,
               COALESCE(SUM(grade_sum), 0) AS grade_sum, COALESCE(SUM(seconds_ms), 0) AS seconds_ms
        FROM card_summary WHERE {scope.in_scope()}""",
        scope.params(),
    )[0]


def _days_cte(scope: Scope) -> str:
    """CTEs ending in ``d``: per study day with reviews, ``reviews``, ``seconds_ms``,
    ``seen_before`` (retention reviews) and ``recalled`` (those graded 3+)."""
    if not scope.topic_only:
        return f"{CARDS_CTE}, d AS (SELECT day, reviews, seconds_ms, seen_before, recalled FROM day_summary)"
    # A topic's days from its reviews; a card's first scheduled review (card_summary.first_day) is no retention review.
    return f"""{CARDS_CTE},
        topic_reviews AS (SELECT {DAY_SQL} AS day, seconds, counts, grade FROM {TOPIC_REVIEWS}),
        by_day AS (
            SELECT day, COUNT(*) AS reviews, COALESCE(SUM(CAST(ROUND(seconds * 1000) AS INTEGER)), 0)
                   AS seconds_ms, SUM(counts) AS scheduling, SUM(counts = 1 AND grade >= {PASS}) AS passes
            FROM topic_reviews GROUP BY day
        ),
        f AS (
            SELECT first_day AS day, COUNT(*) AS firsts, SUM(first_grade >= {PASS}) AS first_passes
            FROM card_summary WHERE first_day IS NOT NULL AND {scope.in_scope()} GROUP BY first_day
        ),
        d AS (
            SELECT by_day.day, reviews, seconds_ms, scheduling - COALESCE(firsts, 0) AS seen_before,
                   passes - COALESCE(first_passes, 0) AS recalled
            FROM by_day LEFT JOIN f ON f.day = by_day.day
        )"""


def days(store: Store, scope: Scope, since: date) -> list[dict[str, Any]]:
    """Per study day from ``since`` to today that has reviews: reviews and time (ms)."""
    return _rows(
        store,
        f"WITH {_days_cte(scope)} SELECT day, reviews, seconds_ms FROM d"
        " WHERE day BETWEEN :since AND :today ORDER BY day",
        scope.params(since=since.isoformat()),
    )


def streaks(store: Store, scope: Scope) -> dict[str, int]:
    """Study days in all, the longest run of consecutive study days, and the
    current one: the run ending today, or yesterday while today is not done."""
    return _rows(
        store,
        f"""
        WITH {_days_cte(scope)},
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


def retention(store: Store, scope: Scope) -> dict[str, Any]:
    """Retention reviews and recalls in the last 7 and 30 study days (today
    included: a review 7 days back is outside the last 7) and in all."""
    return _rows(
        store,
        f"""
        WITH {_days_cte(scope)}
        SELECT COALESCE(SUM(seen_before), 0) AS n, COALESCE(SUM(recalled), 0) AS passed,
               COALESCE(SUM(CASE WHEN day > date(:today, '-7 days') THEN seen_before END), 0) AS n7,
               COALESCE(SUM(CASE WHEN day > date(:today, '-7 days') THEN recalled END), 0) AS passed7,
               COALESCE(SUM(CASE WHEN day > date(:today, '-30 days') THEN seen_before END), 0) AS n30,
               COALESCE(SUM(CASE WHEN day > date(:today, '-30 days') THEN recalled END), 0) AS passed30
        FROM d WHERE day <= :today""",
        scope.params(),
    )[0]


def weekly_retention(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Retention reviews and recalls per week back (0 = the last 7 study days), WEEKS_BACK weeks."""
    return _rows(
        store,
        f"""
        WITH {_days_cte(scope)}
        SELECT CAST(julianday(:today) - julianday(day) AS INTEGER) / 7 AS week,
               SUM(seen_before) AS n, SUM(recalled) AS passed
        FROM d WHERE day <= :today AND day > date(:today, '-{7 * WEEKS_BACK} days') GROUP BY week""",
        scope.params(),
    )


# ---------------------------------------------------------------- card age


def _recent_since(scope: Scope) -> str:
    """A UTC time before every review of the last 30 study days: a study day starts
    at its local midnight plus the rollover hour (0-23), and local time is at most
    14 hours ahead of UTC, so a day more than covers it."""
    return (scope.today - timedelta(days=31)).isoformat()


def retention_by_age(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Retention reviews and recalls by card age (``mature`` 0 or 1): in all,
    and in the last 7 and 30 study days. Card age is stored with each review
    (``reviews.interval_before``); the counts come from the summaries, with
    ``--topic`` from the topic's cards' summaries and their recent reviews
    (through the ``(card_id, at_utc)`` index)."""
    if scope.topic_only:
        # The topic's all-time counts from card_summary, its recent days from its recent reviews.
        total = f"SELECT {', '.join(f'SUM({c}) AS {c}' for c in AGE)} FROM card_summary WHERE {scope.in_scope()}"
        recent = (
            f"topic_reviews AS (SELECT {DAY_SQL} AS day, counts, interval_before, grade FROM {TOPIC_REVIEWS}"
            " AND at_utc >= :since),"
            f" recent AS (SELECT day, {AGE_SUMS} FROM topic_reviews GROUP BY day)"
        )
    else:
        total = f"SELECT {', '.join(f'SUM({c}) AS {c}' for c in AGE)} FROM day_summary"
        recent = f"recent AS (SELECT day, {AGE_COLUMNS} FROM day_summary WHERE day > date(:today, '-30 days'))"
    # Reviews after today (a clock set back) count nowhere, as in every other stats number.
    ages = []
    for mature, (seen, recalled) in enumerate((("young_seen", "young_recalled"), ("mature_seen", "mature_recalled"))):
        window = "SUM(CASE WHEN day > date(:today, '-{d} days') AND day <= :today THEN {c} ELSE 0 END)"
        ages.append(
            f"""SELECT {mature} AS mature,
                   COALESCE((SELECT {seen} FROM total), 0) - SUM(CASE WHEN day > :today THEN {seen} ELSE 0 END) AS n,
                   COALESCE((SELECT {recalled} FROM total), 0) - SUM(CASE WHEN day > :today THEN {recalled} ELSE 0 END)
                       AS passed,
                   {window.format(d=7, c=seen)} AS n7, {window.format(d=7, c=recalled)} AS passed7,
                   {window.format(d=30, c=seen)} AS n30, {window.format(d=30, c=recalled)} AS passed30
            FROM (SELECT * FROM recent UNION ALL SELECT NULL, 0, 0, 0, 0)"""
        )
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}, total AS ({total}), {recent}
        SELECT * FROM ({" UNION ALL ".join(ages)}) WHERE n > 0 ORDER BY mature""",
        scope.params(since=_recent_since(scope)),
    )


def review_ages(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Each scheduled review's card, place and whether its card was mature then (for tests)."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}
        SELECT card_id, grade, {DAY_SQL} AS day, ROW_NUMBER() OVER (PARTITION BY card_id ORDER BY at_utc, id) AS n,
               COALESCE(interval_before >= {MATURE_DAYS}, 0) AS mature
        FROM reviews WHERE counts = 1 AND {scope.in_scope()} ORDER BY card_id, n""",
        scope.params(),
    )


# ---------------------------------------------------------------- cards and topics


def topics(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per topic of the given cards: cards, seen, due today, mature now
    (interval >= 21 days), mean EF (hundredths, seen cards), the summed card
    mastery (mean of each card's last three scheduled grades, over 5), and
    retention reviews and recalls."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE}
        SELECT cards.topic AS topic, COUNT(*) AS cards, COUNT(st.card_id) AS seen,
               COALESCE(SUM(st.due <= :today), 0) AS due,
               COALESCE(SUM(st.interval_days >= {MATURE_DAYS}), 0) AS mature,
               AVG(st.easiness_hundredths) AS mean_ef,
               COALESCE(SUM((COALESCE(cs.grade_1, 0) + COALESCE(cs.grade_2, 0) + COALESCE(cs.grade_3, 0)) / 5.0
                            / ((cs.grade_1 IS NOT NULL) + (cs.grade_2 IS NOT NULL) + (cs.grade_3 IS NOT NULL))), 0)
                   AS mastery_sum,
               COALESCE(SUM(MAX(cs.scheduling - 1, 0)), 0) AS retention_reviews,
               COALESCE(SUM(cs.passes - (cs.first_grade >= {PASS})), 0) AS recalled
        FROM cards LEFT JOIN card_state st ON st.card_id = cards.card_id
                   LEFT JOIN card_summary cs ON cs.card_id = cards.card_id AND cs.scheduling > 0
        GROUP BY cards.topic""",
        scope.params(),
    )


def follow_ups(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per topic: follow-up questions asked and missed."""
    return _rows(
        store,
        f"""
        WITH {CARDS_CTE},
        per_card AS (
            SELECT card_id, follow_up_got + follow_up_missed AS asked, follow_up_missed AS missed
            FROM card_summary WHERE follow_up_got + follow_up_missed > 0
        )
        SELECT cards.topic AS topic, SUM(asked) AS asked, SUM(missed) AS missed
        FROM per_card JOIN cards ON cards.card_id = per_card.card_id GROUP BY cards.topic""",
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
        idx(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM idx WHERE i < (SELECT MAX(points) FROM cards) - 1),
        missed AS (
            SELECT cards.card_id, idx.i AS point, cs.pointed - COALESCE(ps.hits, 0) AS missed, cs.pointed AS asked
            FROM cards JOIN card_summary cs ON cs.card_id = cards.card_id AND cs.pointed > 0
                 JOIN idx ON idx.i < cards.points
                 LEFT JOIN point_summary ps ON ps.card_id = cards.card_id AND ps.point = idx.i
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
        SELECT MAX(st.due, :today) AS day, COUNT(*) AS due, SUM(st.due < :today) AS overdue
        FROM cards JOIN card_state st ON st.card_id = cards.card_id WHERE st.due <= :end
        GROUP BY MAX(st.due, :today) ORDER BY day""",
        scope.params(end=end.isoformat()),
    )
