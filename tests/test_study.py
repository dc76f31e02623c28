"""Cheat sheets, self-assessment, the diagnostic, the study plan and stats,
from a fresh DLPREP_HOME with a fixed clock."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta

import pytest
from conftest import HtmlPage

from dlprep.core.bank import load_bank
from dlprep.features.assess import AREAS, band, parse_ratings
from dlprep.features.plan import cap_for, lay_out
from dlprep.features.stats import streak

pytestmark = pytest.mark.usefixtures("small_bank")
ALL_THREES = ",".join(f"{a}=3" for a in AREAS)


# ---------------------------------------------------------------- cheat sheets


def test_cheatsheet_terminal_shows_formulas_traps_and_top_points(cli):
    out = cli("cheatsheet", "basics").stdout
    assert "s'(x) = s(x)(1 - s(x)) <= 0.25" in out
    assert "Forgetting zero_grad() accumulates gradients [across steps]." in out  # brackets kept literally
    # Each question with its heaviest rubric point.
    assert "What is alpha? Shape [batch, seq, dim]. Names alpha" in out
    assert "What is beta? Names beta" in out


def test_cheatsheet_needs_one_topic_or_all(cli):
    assert cli("cheatsheet").exit_code == 2
    assert cli("cheatsheet", "basics", "--all").exit_code == 2
    result = cli("cheatsheet", "nope")
    assert result.exit_code == 1 and result.stderr.startswith("error: unknown topic 'nope'")


def test_cheatsheet_all_is_in_dependency_order(cli):
    sheets = cli.json("cheatsheet", "--all")
    assert [s["topic"] for s in sheets] == ["basics", "advanced"]
    assert sheets[0]["questions"][0] == {
        "id": "alpha",
        "question": "What is alpha? Shape [batch, seq, dim].",
        "top_point": "Names alpha",
    }


def test_cheatsheet_markdown_file(cli, tmp_path):
    target = tmp_path / "sheet.md"
    result = cli("cheatsheet", "--all", "--format", "md", "-o", str(target))
    assert result.exit_code == 0 and f"wrote {target}" in result.stderr
    md = target.read_text()
    assert md.startswith("# Basics\n")
    assert "| Sigmoid derivative | `s'(x) = s(x)(1 - s(x)) <= 0.25` |" in md
    assert "- **What is beta?** Names beta (`beta`)" in md
    assert "# Advanced" in md


def test_cheatsheet_html_is_one_self_contained_printable_page(cli, tmp_path):
    target = tmp_path / "sheet.html"
    assert cli("cheatsheet", "basics", "-o", str(target)).exit_code == 0  # format from the suffix
    page = target.read_text()
    parser = HtmlPage(page)
    tags = [t for t, _ in parser.tags]
    assert tags.count("html") == 1 and "style" in tags
    # Self-contained: no scripts, no external stylesheets, images or fonts.
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not re.search(r"url\(|@import|https?://", page)
    assert "@page { size: A4" in page and "@media print" in page
    text = "".join(parser.text)
    assert "What is alpha? Shape [batch, seq, dim]." in text  # escaped, then read back intact
    assert "s'(x) = s(x)(1 - s(x)) <= 0.25" in text


def test_cheatsheet_weak_adds_most_missed_points(cli, clock):
    cli("quiz", "--limit", "1", input="\n1\n\ny\n\nq\n")  # alpha: covered only point 1
    sheet = cli.json("cheatsheet", "basics", "--weak")[0]
    assert [(w["card"], w["point"], w["missed"]) for w in sheet["weak_points"]] == [
        ("alpha", "Says it is first", 1),
        ("alpha", "Mentions [brackets]", 1),
    ]
    assert cli.json("cheatsheet", "basics")[0]["weak_points"] == []


# ---------------------------------------------------------------- assessment


def test_band_edges():
    assert band(11).startswith("11-22") and band(22).startswith("11-22")
    assert band(23).startswith("23-33") and band(33).startswith("23-33")
    assert band(34).startswith("34-44") and band(44).startswith("34-44")
    assert band(45).startswith("45-55") and band(55).startswith("45-55")
    with pytest.raises(ValueError):
        band(10)


def test_parse_ratings_rejects_bad_input():
    assert parse_ratings("backprop=3, cnns=5") == {"backprop": 3, "cnns": 5}
    for bad in ("backprop=6", "backprop=x", "chess=3", "backprop"):
        with pytest.raises(ValueError):
            parse_ratings(bad)


def test_assess_stores_ratings_and_shows_band(cli, clock):
    data = cli.json("assess", "--ratings", ALL_THREES)
    assert data["total"] == 33 and data["band"].startswith("23-33: Fill the weak spots")
    assert len(data["areas"]) == 11
    assert cli.json("assess", "--show")["total"] == 33


def test_assess_interactive(cli, clock):
    # 11 areas (one bad answer re-asked), then the bank's other topics: one rated, one skipped.
    result = cli("assess", input="".join(f"{r}\n" for r in ["5", "9", "5"] + ["4"] * 9 + ["2", ""]))
    assert result.exit_code == 0, result.stderr
    assert "a whole number from 1 to 5" in result.stderr
    assert "Other topics (not counted in the 11-55 total; Enter to skip)" in result.stderr
    assert "total 46 of 55" in result.stdout and "45-55: Ready" in result.stdout
    assert "Other topics (not in the 11-55 total)" in result.stdout


def test_other_topics_are_rated_separately_and_never_change_the_total(cli, clock):
    data = cli.json("assess", "--ratings", ALL_THREES + ",basics=5")
    assert data["total"] == 33 and data["band"].startswith("23-33")
    assert [a["area"] for a in data["areas"]] == list(AREAS)
    assert data["other_areas"] == [{"area": "basics", "self": 5, "measured": None, "overconfident": False}]
    assert cli.json("assess", "--show")["other_areas"][0]["self"] == 5
    # A topic outside the bank is still refused.
    assert cli("assess", "--ratings", ALL_THREES + ",chess=5").exit_code == 2


def test_assess_compares_self_rating_with_measured_and_flags_overconfidence(cli, clock, monkeypatch):
    # The fixture bank's topics are basics/advanced; rate and review one of the real areas via a bank
    # that names a topic "backprop" would be heavier than needed, so check the measurement directly.
    from dlprep.core.store import Review, Store
    from dlprep.features.assess import Comparison, compare, measured

    assert Comparison("backprop", 5, 2.0).overconfident
    assert not Comparison("backprop", 3, 2.0).overconfident
    assert not Comparison("backprop", 5, None).overconfident
    bank = load_bank()
    store = Store.open(cli_home(monkeypatch) / "x.db")
    from datetime import datetime

    at = datetime(2026, 11, 21, 10, tzinfo=UTC)
    store.record(Review("alpha", 5, at, mode="rapid", seconds=10.0))  # within 30 s, grade 5
    store.record(Review("beta", 4, at, mode="rapid", seconds=50.0))  # over its 20 s target
    m = measured(bank, store)
    assert m["rapid-fire"] == 3.0  # 1 + 4 * (1 good of 2)
    assert m["backprop"] is None  # not in this bank: not measured
    rows = compare({"rapid-fire": 5}, m)
    assert [r.area for r in rows] == list(AREAS)
    assert next(r for r in rows if r.area == "rapid-fire").overconfident is True


def cli_home(monkeypatch):
    import os
    from pathlib import Path

    return Path(os.environ["DLPREP_HOME"]).parent


def test_assess_bad_ratings_are_one_line(cli):
    result = cli("assess", "--ratings", "backprop=3")
    assert result.exit_code == 2 and result.stderr.startswith("error: --ratings is missing activations, cnns")
    result = cli("assess", "--show")
    assert result.exit_code == 1 and result.stderr == "error: no self-assessment yet: run `dlprep assess`\n"


def test_diagnostic_needs_core_topics(cli, clock):
    result = cli("assess", "--diagnostic")
    assert result.exit_code == 1
    assert result.stderr == "error: the bank has no cards in the core topics (backprop ... generative)\n"


# ---------------------------------------------------------------- plan


def test_plan_lays_path_over_days_with_checkpoints():
    bank = load_bank()
    start = date(2026, 11, 21)
    view = lay_out(bank, "mle", start, start + timedelta(days=30))
    assert [b.topic for b in view.blocks] == ["advanced", "basics"]  # the role's path order
    assert view.blocks[0].first_day == start
    assert view.blocks[-1].last_day == start + timedelta(days=27)  # 28 study days, 2 kept for the end
    texts = {(m.day - start).days: m.text for m in view.milestones}
    assert texts[3].startswith("Checkpoint") and texts[7].startswith("Connections")
    assert texts[14].startswith("Timed simulation") and texts[21].startswith("45-min mock")
    assert texts[28].startswith("Mock interview") and texts[29].startswith("Cheat sheets") and texts[30] == "Interview"
    assert [label for label, _, _ in view.periods()][:2] == ["Week 1", "Week 2"]


def test_plan_gives_weak_topics_more_days():
    bank = load_bank()
    start = date(2026, 11, 21)
    view = lay_out(bank, "mle", start, start + timedelta(days=22), ratings={"advanced": 1, "basics": 5})
    days = {b.topic: (b.last_day - b.first_day).days + 1 for b in view.blocks}
    assert days == {"advanced": 13, "basics": 7}  # weights 2 and 1 over 20 study days


def test_short_plan_is_day_by_day_and_drops_late_checkpoints():
    bank = load_bank()
    start = date(2026, 11, 21)
    view = lay_out(bank, "mle", start, start + timedelta(days=5))
    assert [label for label, _, _ in view.periods()] == ["Day 1", "Day 2", "Day 3", "Day 4", "Day 5"]
    assert not any(m.text.startswith("Connections") for m in view.milestones)


def test_plan_command_sets_order_of_new_cards(cli, clock):
    assert [c["id"] for c in cli.json("today")["new"]] == ["alpha", "beta", "gamma"]
    data = cli.json("plan", "--role", "mle", "--interview", "2026-12-20")
    assert data["role"] == "mle" and data["interview"] == "2026-12-20" and data["days"] == 29
    # The mle path of the fixture bank puts "advanced" first.
    assert [c["id"] for c in cli.json("today")["new"]] == ["gamma", "alpha", "beta"]
    assert cli.json("today")["plan"]["role"] == "mle"
    assert cli.json("plan")["interview"] == "2026-12-20"  # shown again without options
    cli("plan", "--clear")
    assert cli.json("today")["plan"] is None


def test_plan_errors(cli, clock):
    assert cli("plan").stderr.startswith("error: no plan yet")
    result = cli("plan", "--role", "mle", "--interview", "2026-11-20")
    assert result.exit_code == 1 and "must be after today" in result.stderr
    result = cli("plan", "--role", "nlp")
    assert result.exit_code == 1 and result.stderr.startswith("error: no study path for role 'nlp'")
    assert cli("plan", "--role", "mle", "--interview", "soon").exit_code == 2


def test_interview_date_caps_due_dates(cli, clock):
    cli("plan", "--role", "mle", "--interview", "2026-11-30")
    # Perfect reviews would push alpha out to day 1, 6, 17...; the cap keeps it before the interview.
    for at in ("2026-11-21T10:00+01:00", "2026-11-22T10:00+01:00"):
        clock(at)
        out = cli.json("review", "alpha", "--grade", "5", "--at", at)
    assert out["interval_days"] == 6
    assert date.fromisoformat(out["due"]) < date(2026, 11, 30)
    assert date.fromisoformat(out["due"]) >= date(2026, 11, 27)  # within the last three days


def test_cap_spreads_cards_over_the_last_three_days():
    interview = date(2026, 12, 20)
    caps = {cap_for(f"card-{i}", date(2026, 12, 1), interview) for i in range(50)}
    assert caps == {date(2026, 12, 17), date(2026, 12, 18), date(2026, 12, 19)}
    assert cap_for("x", date(2026, 12, 19), interview) is None  # no cap once the window is here
    assert cap_for("x", date(2026, 12, 1), None) is None


def test_a_card_whose_own_day_in_the_window_has_come_is_capped_at_the_eve():
    interview = date(2026, 12, 20)
    early = next(c for c in (f"card-{i}" for i in range(50)) if cap_for(c, date(2026, 12, 1), interview).day == 17)
    assert cap_for(early, date(2026, 12, 16), interview) == date(2026, 12, 17)
    assert cap_for(early, date(2026, 12, 17), interview) == date(2026, 12, 19)  # its day is today: the eve
    assert cap_for(early, date(2026, 12, 18), interview) == date(2026, 12, 19)
    assert cap_for(early, date(2026, 12, 19), interview) is None


# ---------------------------------------------------------------- stats and tree


def test_streak():
    today = date(2026, 11, 21)
    days = {today, today - timedelta(days=1), today - timedelta(days=2), today - timedelta(days=4)}
    assert streak(days, today) == 3
    assert streak(days - {today}, today) == 2  # today not done yet: the streak still counts
    assert streak(set(), today) == 0


def test_stats_after_reviews(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    cli("review", "alpha", "--grade", "2", "--at", "2026-11-20T10:00+01:00")
    cli("review", "beta", "--grade", "4", "--at", "2026-11-21T09:00+01:00")
    s = cli.json("stats")
    assert (s["reviews"], s["cards_seen"], s["cards_total"], s["streak_days"]) == (3, 2, 3, 3)
    assert s["retention"] == 0.0  # the one re-review (alpha, grade 2) was a lapse
    assert s["average_grade"] == pytest.approx(11 / 3, abs=0.01)
    assert s["last_days"][-1] == {"day": "2026-11-21", "reviews": 1}
    basics = next(t for t in s["topics"] if t["topic"] == "basics")
    # alpha: last grades 5, 2 -> 0.7; beta: 4 -> 0.8; mean 0.75
    assert (basics["seen"], basics["due"], basics["mastery"]) == (2, 1, 0.75)
    assert "streak 3 days" in cli("stats").stdout


def test_topics_tree_shows_mastery(cli, clock):
    cli("review", "gamma", "--grade", "5")
    out = cli("topics", "--tree").stdout
    assert re.search(r"basics\s+░+\s+0%", out)
    assert re.search(r"advanced\s+█+░*\s+100%", out)
    assert cli.json("topics")[1]["mastery"] == 1.0


def test_a_topic_listed_in_two_stages_gets_a_block_in_each(monkeypatch):
    """The NLP path weaves llms through both weeks: two blocks sharing its weight."""
    from datetime import date

    monkeypatch.delenv("DLPREP_BUNDLED_BANK")
    bank = load_bank()
    start = date(2026, 11, 21)
    view = lay_out(bank, "nlp", start, start + timedelta(days=14))
    llm_blocks = [b for b in view.blocks if b.topic == "llms"]
    assert len(llm_blocks) == 2
    assert llm_blocks[0].last_day < llm_blocks[1].first_day
    others = [b.weight for b in view.blocks if b.topic == "attention"]
    assert llm_blocks[0].weight == llm_blocks[1].weight == others[0] / 2


def test_plan_json_has_every_key_and_value(cli, clock):
    cli("review", "beta", "--grade", "4", "--at", "2026-11-20T10:00+01:00")
    data = cli.json("plan", "--role", "mle", "--interview", "2026-12-01")
    # 10 days: 8 to study, the last 2 for a mock and cheat sheets. Weights are 1 + weakness: advanced
    # unknown (0.5) -> 1.5; basics measured, mastery 0.4 (beta 0.8, alpha unseen 0) -> 1.6.
    # advanced gets days 0 to int(8 * 1.5 / 3.1) - 1 = 2, basics days 3 to 7.
    days = [f"2026-11-{d}" for d in range(21, 31)]
    assert data == {
        "role": "mle",
        "title": "ML engineer",
        "start": "2026-11-21",
        "end": "2026-12-01",
        "interview": "2026-12-01",
        "days": 10,
        "blocks": [
            {"topic": "advanced", "first_day": "2026-11-21", "last_day": "2026-11-23", "weight": 1.5, "drills": []},
            {"topic": "basics", "first_day": "2026-11-24", "last_day": "2026-11-28", "weight": 1.6, "drills": []},
        ],
        "periods": [
            {
                "label": f"Day {i + 1}",
                "from": d,
                "to": d,
                "topics": ["advanced"] if i < 3 else ["basics"] if i < 8 else [],
                "drills": [],
            }
            for i, d in enumerate(days)
        ],
        "milestones": [
            {"day": "2026-11-24", "text": "Checkpoint: recall everything so far"},
            {
                "day": "2026-11-28",
                "text": "Connections: link topics (e.g. BatchNorm -> LayerNorm as CNNs -> transformers)",
            },
            {"day": "2026-11-29", "text": "Mock interview (dlprep mock)"},
            {"day": "2026-11-30", "text": "Cheat sheets (dlprep cheatsheet --all), light review, no new topics"},
            {"day": "2026-12-01", "text": "Interview"},
        ],
        # FSRS-6 forgetting curve, default parameters: beta Good once (S = w2 = 2.3065 days), 11 days before the
        # interview: (1 + F * 11 / S) ^ -w20 with F = 0.9 ^ (-1 / w20) - 1 = 0.9805 -> 0.7651
        "expected_recall": {"day": "2026-12-01", "overall": 0.7651, "studied_cards": 1, "parameters": "default"},
    }


def test_stats_json_has_every_key_and_value(cli, clock):
    cli("review", "alpha", "--grade", "5", "--at", "2026-11-19T10:00+01:00")
    cli("review", "alpha", "--grade", "2", "--at", "2026-11-20T10:00+01:00")
    cli("review", "alpha", "--grade", "1", "--at", "2026-11-20T10:05+01:00")  # a same-day repeat
    cli("review", "beta", "--grade", "4", "--at", "2026-11-21T09:00+01:00")
    last_days = [{"day": f"2026-11-{d:02d}", "reviews": 0} for d in range(8, 22)]
    last_days[-3:] = [
        {"day": "2026-11-19", "reviews": 1},
        {"day": "2026-11-20", "reviews": 2},
        {"day": "2026-11-21", "reviews": 1},
    ]
    # 16 weeks from Monday 3 August to Saturday 21 November; the busiest day (2 reviews) is level 4.
    first = date(2026, 8, 3)
    heat_days = [
        {"day": (first + timedelta(days=i)).isoformat(), "reviews": 0, "minutes": 0.0, "level": 0} for i in range(111)
    ]
    heat_days[-3:] = [
        {"day": "2026-11-19", "reviews": 1, "minutes": 0.0, "level": 2},
        {"day": "2026-11-20", "reviews": 2, "minutes": 0.0, "level": 4},
        {"day": "2026-11-21", "reviews": 1, "minutes": 0.0, "level": 2},
    ]
    weeks = [
        {
            "from": (date(2026, 11, 15) - timedelta(days=7 * w)).isoformat(),
            "to": (date(2026, 11, 21) - timedelta(days=7 * w)).isoformat(),
            "reviews": 0,
            "passed": 0,
            "rate": None,
        }
        for w in range(25, -1, -1)
    ]
    weeks[-1].update(reviews=1, rate=0.0)  # alpha's lapse on the 20th
    forecast = [{"day": (date(2026, 11, 21) + timedelta(days=i)).isoformat(), "due": 0} for i in range(30)]
    forecast[0]["due"] = forecast[1]["due"] = 1  # alpha today (after its lapse), beta tomorrow
    one_lapse = {
        "all": {"reviews": 1, "passed": 0, "rate": 0.0},
        "young": {"reviews": 1, "passed": 0, "rate": 0.0},  # alpha's interval was 1 day
        "mature": {"reviews": 0, "passed": 0, "rate": None},
    }
    assert cli.json("stats") == {
        "today": "2026-11-21",
        "topic": None,
        "reviews": 4,
        "scheduling_reviews": 3,
        "cards_seen": 2,
        "cards_total": 3,
        "study_days": 3,
        "streak_days": 3,
        "longest_streak_days": 3,
        "average_grade": 3.67,  # (5 + 2 + 4) / 3: the repeat does not count
        "retention": 0.0,
        "retention_by": {"last_7_days": one_lapse, "last_30_days": one_lapse, "all_time": one_lapse},
        "minutes": 0.0,
        "minutes_last_7_days": 0.0,
        "minutes_last_30_days": 0.0,
        "last_days": last_days,
        "heatmap": {"first_day": "2026-08-03", "levels": [1, 1, 2, 2], "days": heat_days},
        "weekly_retention": weeks,
        "forecast": forecast,
        "overdue": 0,
        "topics": [
            {
                "topic": "basics",
                "cards": 2,
                "seen": 2,
                "due": 1,
                "mastery": 0.75,
                "mature": 0,
                "mature_share": 0.0,
                "mean_easiness": 2.39,  # alpha 2.50 + 0.10 - 0.32 = 2.28, beta 2.50
                "retention": 0.0,
                "retention_reviews": 1,
                "follow_ups_asked": 0,
                "follow_ups_missed": 0,
                "follow_up_miss_rate": None,
            },
            {
                "topic": "advanced",
                "cards": 1,
                "seen": 0,
                "due": 0,
                "mastery": 0.0,
                "mature": 0,
                "mature_share": 0.0,
                "mean_easiness": None,
                "retention": None,
                "retention_reviews": 0,
                "follow_ups_asked": 0,
                "follow_ups_missed": 0,
                "follow_up_miss_rate": None,
            },
        ],
        "most_missed": [],
        "drills": {"tried": 0, "settled": 0, "average_grade": None, "due": 0, "runs": 0},
    }


def test_assess_measures_the_history_once_for_both_lists(cli, clock, monkeypatch, dlprep_home):
    """The 11 areas and the other rated topics come from one measurement (it reads every card's
    summary), and the other topics' numbers are what measuring them alone gives."""
    from dlprep.core.store import Store
    from dlprep.features import assess

    cli("review", "alpha", "--grade", "4", "--at", "2026-11-20")  # a basics card: basics gets a measurement
    calls = []
    real = assess.measured
    monkeypatch.setattr(assess, "measured", lambda *args: calls.append(args) or real(*args))
    data = cli.json("assess", "--ratings", ALL_THREES + ",basics=5")
    assert len(calls) == 1
    store = Store.open(dlprep_home / "dlprep.db")
    alone = real(load_bank(), store, ["basics"])["basics"]
    store.close()
    assert alone is not None and data["other_areas"] == [
        {"area": "basics", "self": 5, "measured": alone, "overconfident": 5 - alone >= assess.OVERCONFIDENT_GAP}
    ]
