"""`dlprep stats` and `dlprep report` on a 100,000-review log (benchmarks/big_history.py),
checked against an independent pass over the log in Python. Speed is measured by
the benchmark, not here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import big_history

from dlprep.core.scheduler import CardState, review, study_day
from dlprep.core.store import Store

pytestmark = pytest.mark.slow
REVIEWS = 100_000


@pytest.fixture(scope="module")
def big_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("big")
    big_history.write_history(
        home / "dlprep.db", big_history.bank_cards(), REVIEWS, datetime.fromisoformat(big_history.NOW)
    )
    return home


def test_stats_on_100k_reviews_agree_with_a_replay_of_the_log(big_home, monkeypatch):
    from dlprep.core.bank import load_bank
    from dlprep.features.stats import build_stats

    monkeypatch.setenv("DLPREP_HOME", str(big_home))
    bank = load_bank()
    store = Store.open(big_home / "dlprep.db")
    now = datetime.fromisoformat(big_history.NOW)
    s = build_stats(bank, store, now, 4)
    today = study_day(now, 4)
    # The same numbers from one pass over the log in Python, replaying SM-2 for card age.
    states: dict[str, CardState] = {}
    days: Counter[str] = Counter()
    ages: Counter[tuple[str, bool]] = Counter()
    for r in store.reviews():
        at = datetime.fromisoformat(r["at"])
        days[study_day(at, r["rollover_hour"]).isoformat()] += 1
        if not r["counts"]:
            continue
        old = states.get(r["card_id"])
        if old is not None:
            age = "mature" if old.interval_days >= 21 else "young"
            ages[(age, r["grade"] >= 3)] += 1
        states[r["card_id"]] = review(old or CardState(), r["grade"], at, r["rollover_hour"])
    store.close()
    assert s["reviews"] == REVIEWS and s["study_days"] == len(days)
    assert s["streak_days"] == s["longest_streak_days"] == len(days)  # a review every day up to today
    assert s["heatmap"]["days"][-1] == {
        "day": today.isoformat(),
        "reviews": days[today.isoformat()],
        "minutes": s["heatmap"]["days"][-1]["minutes"],
        "level": s["heatmap"]["days"][-1]["level"],
    }
    for age in ("young", "mature"):
        cell = s["retention_by"]["all_time"][age]
        assert (cell["reviews"], cell["passed"]) == (ages[(age, True)] + ages[(age, False)], ages[(age, True)])
    everything = s["retention_by"]["all_time"]["all"]
    assert (
        everything["reviews"] == sum(ages.values())
        and everything["passed"] == ages[("young", True)] + ages[("mature", True)]
    )
    assert len(s["most_missed"]) == 10 and len(s["forecast"]) == 30


def test_stats_and_report_commands_run_on_100k_reviews(big_home, tmp_path):
    env = {**os.environ, "DLPREP_HOME": str(big_home), "DLPREP_NOW": big_history.NOW, "COLUMNS": "80"}
    env.pop("DLPREP_BUNDLED_BANK", None)
    stats = subprocess.run([sys.executable, "-m", "dlprep", "stats"], env=env, capture_output=True, text=True)
    assert stats.returncode == 0, stats.stderr
    assert f"{REVIEWS} reviews" in stats.stdout
    target = tmp_path / "r.html"
    report = subprocess.run(
        [sys.executable, "-m", "dlprep", "report", "-o", str(target)], env=env, capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    assert target.stat().st_size > 20_000
