"""Numeric claims made by the cards in questions/llms-systems-and-safety.yaml.

Each test recomputes a number or property independently (numpy, or torch where
the claim is about a tensor operation) rather than restating it.
"""

import math
from math import comb

import numpy as np
import pytest
from numerics import softmax

# --- llm-reward-overoptimization-scaling-laws ----------------------------------------


def bon_kl_bound(n):
    """The analytical best-of-n KL used by Gao et al.: log n - (n - 1)/n (an upper bound)."""
    return math.log(n) - (n - 1) / n


def bon_kl_exact_uniform(n, size):
    """Exact KL(best-of-n || base) for a uniform base over `size` outputs with distinct rewards."""
    i = np.arange(1, size + 1)
    p = (i / size) ** n - ((i - 1) / size) ** n  # probability that the best of n has rank i
    return float(np.sum(p[p > 0] * np.log(p[p > 0] * size)))


def test_best_of_16_is_at_most_1_84_nats():
    assert bon_kl_bound(16) == pytest.approx(1.8351, abs=1e-4)
    assert round(bon_kl_bound(16), 2) == 1.84


def test_the_best_of_n_formula_is_an_upper_bound_reached_for_many_distinct_outputs():
    for n in (2, 4, 16, 64):
        exact_small = bon_kl_exact_uniform(n, 10)
        exact_large = bon_kl_exact_uniform(n, 100_000)
        assert exact_small < exact_large <= bon_kl_bound(n) + 1e-9
        assert exact_large == pytest.approx(bon_kl_bound(n), rel=1e-3)


def test_gold_reward_peaks_where_the_card_says():
    alpha, beta = 1.0, 0.25
    d = np.linspace(1e-4, 60, 600_001)
    r_bon = d * (alpha - beta * d)
    r_rl = d * (alpha - beta * np.log(d))
    assert d[np.argmax(r_bon)] == pytest.approx(alpha / (2 * beta), abs=1e-3)
    assert d[np.argmax(r_rl)] == pytest.approx(math.exp(alpha / beta - 1), abs=1e-3)
    # past the peak the gold score falls even though optimisation (d) keeps growing
    assert r_bon[-1] < r_bon.max() and r_rl[-1] < r_rl.max()


def test_follow_up_best_of_n_at_the_peak_is_about_150():
    kl_at_peak = (1.0 / (2 * 0.25)) ** 2
    assert kl_at_peak == 4.0
    n = np.arange(2, 10_000)
    n_star = n[np.argmin(np.abs(np.log(n) - (n - 1) / n - kl_at_peak))]
    assert 140 <= n_star <= 160
    assert math.log(n_star) == pytest.approx(5.0, abs=0.05)


# --- llm-constrained-decoding-json ------------------------------------------------------


def test_logit_masking_renormalises_and_keeps_relative_probabilities():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    z = torch.randn(50, generator=g)
    allowed = torch.zeros(50, dtype=torch.bool)
    allowed[[3, 7, 11, 20]] = True
    masked = torch.softmax(z.masked_fill(~allowed, float("-inf")), dim=-1)
    assert masked.sum().item() == pytest.approx(1.0)
    assert torch.all(masked[~allowed] == 0)
    full = torch.softmax(z, dim=-1)
    # ratios between allowed tokens are unchanged: the mask only renormalises
    assert (masked[3] / masked[7]).item() == pytest.approx((full[3] / full[7]).item(), rel=1e-5)
    assert torch.allclose(masked[allowed], full[allowed] / full[allowed].sum())


def test_token_level_masking_distorts_the_sequence_distribution():
    """The card's follow-up: p(a) = 0.9, p(b|a) = 0.01, p(a|b) = p(b|b) = 0.5, "aa" invalid."""
    p_first = {"a": 0.9, "b": 0.1}
    p_second = {"a": {"a": 0.99, "b": 0.01}, "b": {"a": 0.5, "b": 0.5}}
    valid = {"ab", "ba", "bb"}
    joint = {x + y: p_first[x] * p_second[x][y] for x in "ab" for y in "ab"}
    z = sum(joint[s] for s in valid)
    assert z == pytest.approx(0.109)
    conditioned = {s: joint[s] / z for s in valid}
    assert conditioned["ab"] == pytest.approx(0.0826, abs=1e-4)  # about 8%

    # greedy masking: step 1 allows both tokens (each has a valid continuation) ...
    masked = {}
    for x in "ab":
        allowed = [y for y in "ab" if x + y in valid]
        norm = sum(p_second[x][y] for y in allowed)
        for y in allowed:
            masked[x + y] = p_first[x] * p_second[x][y] / norm
    assert sum(masked.values()) == pytest.approx(1.0)
    assert masked["ab"] == pytest.approx(0.9)  # ... then forces b after a
