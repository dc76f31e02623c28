"""Numeric checks for the claims made in questions/llms-data-and-scaling.yaml.

Each test recomputes the number independently (plain Python, numpy, or torch
where the claim is about PyTorch behaviour) instead of restating it.
"""

import math
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

A100_BF16_PEAK = 312e12  # dense bf16 FLOP/s, as in the distributed cards


def chinchilla_n_d(compute, tokens_per_param=20):
    """C = 6 N D with D = k N  ->  N = sqrt(C / (6 k))."""
    n = math.sqrt(compute / (6 * tokens_per_param))
    return n, tokens_per_param * n


# --- llm-scaling-kaplan-vs-chinchilla ------------------------------------------


def test_kaplan_exponents_split_a_tenfold_budget():
    assert 10**0.73 == pytest.approx(5.4, abs=0.05)  # parameters
    assert 10**0.27 == pytest.approx(1.9, abs=0.05)  # tokens
    assert 0.73 + 0.27 == pytest.approx(1.0)  # N * D ~ C, since C = 6ND


def test_chinchilla_and_gpt3_token_ratios():
    assert 1.4e12 / 70e9 == pytest.approx(20)
    assert 300e9 / 175e9 < 2  # GPT-3: under 2 tokens per parameter
    assert 2e12 / 7e9 == pytest.approx(286, abs=1)  # Llama 2 7B, "~290"
    assert 15e12 / 8e9 == pytest.approx(1875)  # Llama 3 8B, "~1,900"


def test_rounded_parametric_fit_implies_about_90_tokens_per_parameter():
    # L(N, D) = E + A / N^alpha + B / D^beta with the constants printed in the paper
    e, a, b, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
    c = 5.76e23  # Gopher's and Chinchilla's budget
    n = np.logspace(9, 12, 300_001)
    d = c / (6 * n)
    loss = e + a / n**alpha + b / d**beta
    i = loss.argmin()
    assert d[i] / n[i] == pytest.approx(90, rel=0.1)
    # closed form: N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta))
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    assert g * (c / 6) ** (beta / (alpha + beta)) == pytest.approx(n[i], rel=1e-3)
    assert beta / (alpha + beta) == pytest.approx(0.45, abs=0.01)  # the fit's N exponent


# --- llm-compute-budget-choose-n-d ---------------------------------------------


def test_512_a100s_for_30_days():
    seconds = 30 * 86_400
    assert seconds == pytest.approx(2.59e6, rel=1e-3)
    c = 512 * A100_BF16_PEAK * 0.4 * seconds
    assert c == pytest.approx(1.7e23, rel=0.03)
    n, d = chinchilla_n_d(c)
    assert n == pytest.approx(37e9, rel=0.02)
    assert d == pytest.approx(740e9, rel=0.02)
    assert math.sqrt(2) == pytest.approx(1.4, abs=0.02)  # doubling C multiplies N and D by ~1.4


def test_llama2_7b_compute_and_its_chinchilla_optimal_model():
    c = 6 * 7e9 * 2e12
    assert c == pytest.approx(8.4e22)
    n, d = chinchilla_n_d(c)
    assert n == pytest.approx(26e9, rel=0.03)
    assert d == pytest.approx(530e9, rel=0.01)
    assert n / 7e9 == pytest.approx(4, rel=0.06) and 2e12 / d == pytest.approx(4, rel=0.06)
    # 184,320 reported A100-hours -> achieved FLOP/s per GPU and MFU
    per_gpu = c / (184_320 * 3600)
    assert per_gpu == pytest.approx(1.3e14, rel=0.03)
    assert per_gpu / A100_BF16_PEAK == pytest.approx(0.40, abs=0.01)


def test_budget_followups_throughput_and_oversized_model():
    n = 37e9
    mfu = 500 * 6 * n / A100_BF16_PEAK
    assert mfu == pytest.approx(0.36, abs=0.005)
    days = 740e9 / (512 * 500) / 86_400
    assert 33 < days < 34
    tokens_in_30_days = 512 * 500 * 30 * 86_400
    assert tokens_in_30_days == pytest.approx(660e9, rel=0.01)
    assert tokens_in_30_days / n == pytest.approx(18, abs=0.1)
    d_175 = 1.7e23 / (6 * 175e9)
    assert d_175 == pytest.approx(160e9, rel=0.03)
    assert d_175 / 175e9 < 1
    assert 175e9 / n == pytest.approx(4.7, abs=0.05)  # "almost 5x" the serving FLOPs


# --- llm-data-dedup-minhash ----------------------------------------------------


def shingles(words, n=5):
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def minhash_signature(items, seeds, prime=(1 << 61) - 1):
    # h(x) = (a * x + b) mod p, one (a, b) per hash function
    xs = [zlib.crc32(" ".join(s).encode()) for s in items]  # deterministic base hash
    return [min((a * x + b) % prime for x in xs) for a, b in seeds]


def test_minhash_match_rate_estimates_jaccard():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(5000)]
    doc_a = list(rng.choice(vocab, 400))
    doc_b = doc_a.copy()
    for i in rng.choice(len(doc_b), 12, replace=False):  # a few edits
        doc_b[i] = "edited"
    a, b = shingles(doc_a), shingles(doc_b)
    jaccard = len(a & b) / len(a | b)
    k = 512
    seeds = [(int(rng.integers(1, 2**61 - 1)), int(rng.integers(0, 2**61 - 1))) for _ in range(k)]
    sig_a, sig_b = minhash_signature(a, seeds), minhash_signature(b, seeds)
    estimate = np.mean([x == y for x, y in zip(sig_a, sig_b, strict=True)])
    stderr = math.sqrt(jaccard * (1 - jaccard) / k)
    assert abs(estimate - jaccard) < 4 * stderr


def test_minhash_standard_error_at_k_128():
    assert math.sqrt(0.8 * 0.2 / 128) == pytest.approx(0.035, abs=0.001)


def candidate_probability(j, rows, bands):
    return 1 - (1 - j**rows) ** bands


def test_lsh_banding_probabilities():
    # Lee et al.: 9,000 hashes as 450 bands of 20 rows
    assert 450 * 20 == 9000
    assert candidate_probability(0.8, 20, 450) == pytest.approx(0.995, abs=0.001)
    assert candidate_probability(0.5, 20, 450) == pytest.approx(0.0004, abs=0.00005)
    assert (1 / 450) ** (1 / 20) == pytest.approx(0.74, abs=0.005)  # steep part of the S-curve
    # FineWeb: 14 bands of 8 rows (112 hashes)
    assert candidate_probability(0.75, 8, 14) == pytest.approx(0.77, abs=0.01)
    assert candidate_probability(0.8, 8, 14) == pytest.approx(0.92, abs=0.01)


# --- llm-data-quality-filtering-mixture ----------------------------------------


def test_llama1_mixture_sums_to_one():
    weights = {"cc": 67.0, "c4": 15.0, "github": 4.5, "wikipedia": 4.5, "books": 4.5, "arxiv": 2.5, "se": 2.0}
    assert sum(weights.values()) == pytest.approx(100.0)


# --- llm-data-constrained-repetition -------------------------------------------


def test_repetition_arithmetic():
    assert 2e12 / 500e9 == pytest.approx(4)  # epochs needed
    assert 1000 * 4 == 4000  # a page with 1,000 copies, repeated 4 times


# --- llm-sft-data-quantity-vs-quality -------------------------------------------


def test_lima_versus_alpaca_data_sizes():
    assert 52_000 / 1_000 == 52  # "52x more data"


# --- llm-distillation-logit-sequence-onpolicy -----------------------------------


def gaussian_pdf(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def test_forward_kl_covers_both_modes_reverse_kl_picks_one():
    x = np.linspace(-12, 12, 4001)
    dx = x[1] - x[0]
    teacher = 0.5 * gaussian_pdf(x, -3, 1) + 0.5 * gaussian_pdf(x, 3, 1)
    best_fwd, best_rev = None, None
    for mu in np.linspace(-4, 4, 81):
        for sigma in np.linspace(0.5, 4.5, 81):
            student = gaussian_pdf(x, mu, sigma) + 1e-300
            fwd = np.sum(teacher * (np.log(teacher + 1e-300) - np.log(student))) * dx
            rev = np.sum(student * (np.log(student) - np.log(teacher + 1e-300))) * dx
            if best_fwd is None or fwd < best_fwd[0]:
                best_fwd = (fwd, mu, sigma)
            if best_rev is None or rev < best_rev[0]:
                best_rev = (rev, mu, sigma)
    _, mu_f, sigma_f = best_fwd
    _, mu_r, sigma_r = best_rev
    assert abs(mu_f) < 0.05 and sigma_f == pytest.approx(math.sqrt(10), abs=0.06)  # wide, between the peaks
    assert abs(mu_r) == pytest.approx(3, abs=0.1) and sigma_r == pytest.approx(1, abs=0.06)  # one peak
