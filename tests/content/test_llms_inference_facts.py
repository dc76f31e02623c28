"""Numeric claims made by the cards in questions/llms-inference.yaml.

Each test recomputes a number or property independently (numpy, or torch where
the claim is about a tensor operation) rather than restating it.
"""

import math

import numpy as np
import pytest
from numerics import softmax

# --- shared helpers ---------------------------------------------------------------


def top_p_filter(p, top_p):
    """Keep the smallest set of most probable tokens whose mass reaches top_p."""
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    keep = order[: int(np.searchsorted(cum, top_p - 1e-12) + 1)]
    out = np.zeros_like(p)
    out[keep] = p[keep]
    return out / out.sum()


def top_k_filter(p, k):
    order = np.argsort(-p, kind="stable")
    out = np.zeros_like(p)
    out[order[:k]] = p[order[:k]]
    return out / out.sum()


def speculative_output_distribution(p, q):
    """Exact distribution of one speculative step: draft x ~ q, accept with
    min(1, p/q), else sample from norm(max(0, p - q))."""
    accept = np.minimum(1.0, np.divide(p, q, out=np.zeros_like(p), where=q > 0))
    residual = np.maximum(0.0, p - q)
    reject_mass = 1.0 - np.sum(q * accept)
    r = residual / residual.sum() if residual.sum() > 0 else np.zeros_like(p)
    return q * accept + reject_mass * r, np.sum(q * accept)


def expected_tokens(a, k):
    return (1 - a ** (k + 1)) / (1 - a)


def speculative_speedup(a, k, c):
    return expected_tokens(a, k) / (k * c + 1)


# --- llm-decoding-temperature-topk-topp ----------------------------------------------


def test_top_p_example_keeps_three_tokens_and_renormalises():
    p = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    kept = top_p_filter(p, 0.8)
    assert np.count_nonzero(kept) == 3
    assert np.allclose(kept[:3], [0.5 / 0.85, 0.2 / 0.85, 0.15 / 0.85])
    assert np.round(kept[:3], 2).tolist() == [0.59, 0.24, 0.18]
    # top-p is not "every token whose own probability exceeds p": none of them exceeds 0.8
    assert not np.any(p > 0.8)


def test_top_p_nucleus_adapts_to_the_distribution_while_top_k_does_not():
    peaked = np.array([0.9, 0.04, 0.03, 0.02, 0.01])
    flat = np.full(5, 0.2)
    assert np.count_nonzero(top_p_filter(peaked, 0.9)) == 1
    assert np.count_nonzero(top_p_filter(flat, 0.9)) == 5
    assert np.count_nonzero(top_k_filter(peaked, 3)) == np.count_nonzero(top_k_filter(flat, 3)) == 3


def test_temperature_keeps_ranking_and_sharpens_or_flattens():
    z = np.array([2.0, 1.0, 0.5, -1.0])
    base = softmax(z)
    for t in (0.3, 0.7, 1.5, 4.0):
        pt = softmax(z / t)
        assert np.array_equal(np.argsort(pt), np.argsort(base))
    assert softmax(z / 0.5)[0] > base[0] > softmax(z / 2.0)[0]
    assert softmax(z / 1e-3)[0] == pytest.approx(1.0)


def test_high_temperature_grows_the_nucleus():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=1000)
    sizes = [np.count_nonzero(top_p_filter(softmax(z / t), 0.9)) for t in (0.5, 1.0, 2.0)]
    assert sizes[0] < sizes[1] < sizes[2]


# --- llm-decoding-repetition-penalties -----------------------------------------------


def test_penalty_worked_example():
    logit, count = 3.0, 4
    assert logit - 0.5 * count == pytest.approx(1.0)  # frequency penalty 0.5
    assert logit - 0.5 * (count > 0) == pytest.approx(2.5)  # presence penalty 0.5
    assert logit / 1.2 == pytest.approx(2.5)  # CTRL-style penalty 1.2 on a positive logit
    assert -3.0 * 1.2 < -3.0  # a negative logit is multiplied, so it still goes down


def test_subtractive_penalty_is_shift_invariant_but_division_is_not():
    z = np.array([1.0, 0.5, -0.2])
    seen = 0

    def subtract(v):
        w = v.copy()
        w[seen] -= 0.7
        return softmax(w)

    def divide(v):
        w = v.copy()
        w[seen] = w[seen] / 1.2 if w[seen] > 0 else w[seen] * 1.2
        return softmax(w)

    assert np.allclose(softmax(z), softmax(z + 5.0))  # same distribution
    assert np.allclose(subtract(z), subtract(z + 5.0))
    assert not np.allclose(divide(z), divide(z + 5.0))
    # subtracting alpha multiplies that token's unnormalised probability by exp(-alpha)
    assert np.exp(z[seen] - 0.7) / np.exp(z[seen]) == pytest.approx(math.exp(-0.7))


# --- llm-speculative-acceptance-rule -------------------------------------------------


def test_acceptance_rule_preserves_the_target_distribution_exactly():
    rng = np.random.default_rng(1)
    for _ in range(200):
        p = rng.dirichlet(np.ones(7))
        q = rng.dirichlet(np.ones(7) * 0.5)
        out, a = speculative_output_distribution(p, q)
        assert np.allclose(out, p, atol=1e-12)
        assert a == pytest.approx(np.minimum(p, q).sum())
        assert a == pytest.approx(1 - 0.5 * np.abs(p - q).sum())  # 1 - total variation


def test_toy_example_from_the_card():
    p = np.array([0.6, 0.3, 0.1])
    q = np.array([0.3, 0.3, 0.4])
    out, a = speculative_output_distribution(p, q)
    assert a == pytest.approx(0.7)
    residual = np.maximum(0, p - q)
    assert np.allclose(residual / residual.sum(), [1, 0, 0])
    assert min(1, p[2] / q[2]) == pytest.approx(0.25)
    assert q[2] * 0.25 == pytest.approx(0.1)
    assert np.allclose(out, p)


def test_draft_with_zero_probability_is_covered_by_the_residual():
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.7, 0.3, 0.0])  # never proposes token 2
    out, a = speculative_output_distribution(p, q)
    assert np.allclose(out, p)
    assert a == pytest.approx(0.8)


def test_resampling_from_p_instead_of_the_residual_is_wrong():
    p = np.array([0.6, 0.3, 0.1])
    q = np.array([0.3, 0.3, 0.4])
    accept = np.minimum(1, p / q)
    wrong = q * accept + (1 - np.sum(q * accept)) * p
    assert not np.allclose(wrong, p)


def test_accepting_on_argmax_match_changes_a_sampled_distribution():
    p = np.array([0.6, 0.3, 0.1])
    q = np.array([0.3, 0.3, 0.4])
    top = np.argmax(p)
    # accept a draft only if it equals the target's argmax, otherwise emit the argmax
    out = np.zeros(3)
    out[top] += q[top]
    out[top] += 1 - q[top]
    assert not np.allclose(out, p)
    assert out[top] > p[top]


# --- llm-speculative-expected-speedup ------------------------------------------------


def test_expected_tokens_closed_form_and_card_numbers():
    assert expected_tokens(0.8, 4) == pytest.approx(sum(0.8**i for i in range(5)))
    assert expected_tokens(0.8, 4) == pytest.approx(3.3616)
    assert expected_tokens(0.6, 4) == pytest.approx(2.3056)
    assert expected_tokens(0.8, 200) == pytest.approx(1 / (1 - 0.8))
    assert speculative_speedup(0.8, 4, 0.1) == pytest.approx(2.40, abs=0.01)
    assert speculative_speedup(0.5, 4, 0.2) == pytest.approx(1.08, abs=0.01)


def test_expected_tokens_matches_a_monte_carlo_simulation():
    rng = np.random.default_rng(2023)
    for a, k in [(0.8, 4), (0.6, 4), (0.9, 7), (0.3, 2)]:
        accepted = rng.random((200_000, k)) < a
        # tokens per round: accepted prefix length, plus one (resample or bonus token)
        prefix = np.where(accepted.all(axis=1), k, np.argmin(accepted, axis=1))
        assert (prefix + 1).mean() == pytest.approx(expected_tokens(a, k), rel=0.01)


def test_full_speculative_loop_matches_target_marginals_and_token_rate():
    """Simulate rounds with a fixed target p and draft q at every position (an
    i.i.d. toy): emitted tokens follow p, and tokens per round match the formula
    with a = sum(min(p, q))."""
    rng = np.random.default_rng(7)
    p = np.array([0.5, 0.25, 0.15, 0.1])
    q = np.array([0.4, 0.4, 0.1, 0.1])
    a = np.minimum(p, q).sum()
    residual = np.maximum(0, p - q) / np.maximum(0, p - q).sum()
    k, rounds = 3, 100_000

    def draw(dist, size):
        return np.searchsorted(np.cumsum(dist), rng.random(size), side="right").clip(max=len(dist) - 1)

    drafts = draw(q, (rounds, k))
    accepted = rng.random((rounds, k)) < np.minimum(1.0, p / q)[drafts]
    prefix = np.where(accepted.all(axis=1), k, np.argmin(accepted, axis=1))
    in_prefix = np.arange(k)[None, :] < prefix[:, None]
    # the last token of a round: resampled from the residual, or the bonus token from p
    last = np.where(prefix < k, draw(residual, rounds), draw(p, rounds))
    counts = np.bincount(drafts[in_prefix], minlength=4) + np.bincount(last, minlength=4)
    assert np.allclose(counts / counts.sum(), p, atol=0.005)
    assert counts.sum() / rounds == pytest.approx(expected_tokens(a, k), rel=0.01)
