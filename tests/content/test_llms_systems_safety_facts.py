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


# --- llm-agent-loop-evaluation ------------------------------------------------------------


def test_independent_step_errors_compound():
    assert round(0.95**20, 2) == 0.36
    assert round(0.99**20, 2) == 0.82


def test_pass_hat_k_estimator_is_unbiased():
    """C(c, k) / C(n, k) from n trials with c successes estimates p^k (all k trials succeed)."""
    n, k = 8, 4
    for p in (0.3, 0.6, 0.9):
        expected = sum(comb(n, c) * p**c * (1 - p) ** (n - c) * comb(c, k) / comb(n, k) for c in range(n + 1))
        assert expected == pytest.approx(p**k)
    # pass^k falls with k while pass@k rises: the two answer different questions
    p = 0.6
    assert p**8 < p < 1 - (1 - p) ** 8


# --- llm-code-eval-pass-at-k ----------------------------------------------------------------


def pass_at_k(n, c, k):
    """The numerically stable form used in OpenAI's human-eval repository."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def test_worked_example_n10_c3_k5():
    assert comb(7, 5) == 21 and comb(10, 5) == 252
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert round(pass_at_k(10, 3, 5), 3) == 0.917
    assert round(1 - 0.7**5, 3) == 0.832  # the plug-in estimate is lower


def test_stable_product_matches_binomial_form_and_edge_cases():
    for n, c, k in [(200, 10, 1), (200, 10, 10), (200, 10, 100), (50, 0, 5), (20, 17, 5), (20, 15, 5)]:
        exact = 1.0 if n - c < k else 1 - comb(n - c, k) / comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
    assert pass_at_k(200, 37, 1) == pytest.approx(37 / 200)  # pass@1 reduces to c / n


def test_estimator_is_unbiased_and_plug_in_is_biased_low():
    n, k = 20, 5
    for p in (0.05, 0.2, 0.5):
        weights = [comb(n, c) * p**c * (1 - p) ** (n - c) for c in range(n + 1)]
        unbiased = sum(w * pass_at_k(n, c, k) for c, w in enumerate(weights))
        plug_in = sum(w * (1 - (1 - c / n) ** k) for c, w in enumerate(weights))
        truth = 1 - (1 - p) ** k
        assert unbiased == pytest.approx(truth, abs=1e-12)
        assert plug_in < truth


def test_estimator_matches_monte_carlo_sampling():
    rng = np.random.default_rng(0)
    n, k, p = 30, 10, 0.1
    estimates = [pass_at_k(n, int(rng.binomial(n, p)), k) for _ in range(40_000)]
    assert np.mean(estimates) == pytest.approx(1 - (1 - p) ** k, abs=0.005)


# --- llm-serving-70b-tensor-parallel -----------------------------------------------------------

L3_70B = {"vocab": 128_256, "d": 8192, "layers": 80, "heads": 64, "kv_heads": 8, "head_dim": 128, "ffn": 28_672}
A100_BW = 2.039e12  # bytes/s, A100 80 GB SXM
USABLE = 72e9  # 80 GB minus about 10% for activations and runtime


def llama_params(c):
    attn = 2 * c["d"] * c["heads"] * c["head_dim"] + 2 * c["d"] * c["kv_heads"] * c["head_dim"]
    mlp = 3 * c["d"] * c["ffn"]
    per_layer = attn + mlp + 2 * c["d"]  # two RMSNorm weight vectors
    return c["layers"] * per_layer + 2 * c["vocab"] * c["d"] + c["d"]  # untied embeddings, final norm


def test_llama3_70b_weights_and_kv_per_token():
    params = llama_params(L3_70B)
    assert params / 1e9 == pytest.approx(70.55, abs=0.01)
    assert 2 * params / 1e9 == pytest.approx(141.1, abs=0.1)
    kv = 2 * L3_70B["layers"] * L3_70B["kv_heads"] * L3_70B["head_dim"] * 2
    assert kv == 320 * 1024


def test_tensor_parallel_memory_per_gpu():
    weights = 2 * llama_params(L3_70B)
    kv = 2 * L3_70B["layers"] * L3_70B["kv_heads"] * L3_70B["head_dim"] * 2
    rows = {}
    for t in (2, 4, 8):
        free = USABLE - weights / t
        tokens = free / (kv / t)  # each GPU stores 8 / t of the KV heads
        rows[t] = (weights / t / 1e9, free / 1e9, tokens)
    assert rows[2][0] == pytest.approx(70.6, abs=0.05) and rows[2][1] == pytest.approx(1.4, abs=0.1)
    assert round(rows[2][2] / 4096) == 2  # two 4K-token sequences
    assert rows[4][0] == pytest.approx(35.3, abs=0.05) and rows[4][1] == pytest.approx(36.7, abs=0.1)
    assert rows[4][2] == pytest.approx(450e3, rel=0.01) and round(rows[4][2] / 4096) == 109
    assert rows[8][0] == pytest.approx(17.6, abs=0.05) and rows[8][2] == pytest.approx(1.33e6, rel=0.01)
    # follow-up: one TP = 8 replica stores the weights once, two TP = 4 replicas store them twice
    assert 8 * rows[8][1] == pytest.approx(435, abs=1)
    assert 2 * 4 * rows[4][1] == pytest.approx(294, abs=1)


def test_decode_floors_allreduce_count_and_pipeline_latency():
    weights = 2 * llama_params(L3_70B)
    assert weights / 4 / A100_BW * 1e3 == pytest.approx(17.3, abs=0.05)
    assert weights / 8 / A100_BW * 1e3 == pytest.approx(8.7, abs=0.05)
    assert weights / A100_BW * 1e3 == pytest.approx(69, abs=0.5)  # a pipeline still reads every stage in turn
    assert 2 * L3_70B["layers"] == 160  # all-reduces per generated token
    assert L3_70B["d"] * 2 == 16 * 1024  # bytes per sequence per all-reduce in bf16


def test_int4_on_one_gpu():
    params = llama_params(L3_70B)
    kv = 2 * L3_70B["layers"] * L3_70B["kv_heads"] * L3_70B["head_dim"] * 2
    int4 = params * 4.125 / 8  # group size 128 with a 16-bit scale
    assert int4 / 1e9 == pytest.approx(36.4, abs=0.05)
    assert int4 / A100_BW * 1e3 == pytest.approx(17.8, abs=0.05)
    assert math.floor((USABLE - int4) / kv / 4096) == 26  # whole 4K-token sequences that fit
    # roughly the per-GPU capacity of TP = 4 (about 109 sequences over 4 GPUs)
    assert (USABLE - int4) / kv / 4096 == pytest.approx(109.4 / 4, rel=0.05)


# --- llm-kv-cache-quant-prefix-caching ----------------------------------------------------------


def test_eight_bit_cache_halves_llama3_8b_per_token_bytes():
    kv_bf16 = 2 * 32 * 8 * 128 * 2
    assert kv_bf16 == 128 * 1024 and kv_bf16 // 2 == 64 * 1024
    budget = 0.9 * 80 * 2**30 - 8.03e9 * 2  # the kv-capacity card's budget, in bytes
    seqs_bf16 = budget / (kv_bf16 * 4096)
    assert round(seqs_bf16) == 114 and round(2 * seqs_bf16) == 228


def test_fp8_formats_range():
    torch = pytest.importorskip("torch")
    assert torch.finfo(torch.float8_e4m3fn).max == 448.0
    assert torch.finfo(torch.float8_e5m2).max == 57344.0
    # with a scale of 1.0, an outlier beyond the range is clipped (PyTorch's cast saturates at 448)
    x = torch.tensor([500.0, 1.0])
    assert x.to(torch.float8_e4m3fn).float().tolist() == [448.0, 1.0]
    scale = x.abs().max() / 448.0
    back = (x / scale).to(torch.float8_e4m3fn).float() * scale
    assert back[0].item() == pytest.approx(500.0, rel=0.07)


def asym_quant(x, bits, axis):
    lo, hi = x.min(axis=axis, keepdims=True), x.max(axis=axis, keepdims=True)
    step = (hi - lo) / (2**bits - 1)
    return np.round((x - lo) / step) * step + lo


def test_keys_with_outlier_channels_quantise_better_per_channel():
    rng = np.random.default_rng(0)
    keys = rng.normal(size=(256, 64))  # tokens x channels
    keys[:, [5, 40]] *= 20.0  # a few channels with large values in every token
    ordinary = [i for i in range(64) if i not in (5, 40)]
    err_token = asym_quant(keys, 2, axis=1) - keys  # one scale per token, set by the outliers
    err_channel = asym_quant(keys, 2, axis=0) - keys  # one scale per channel
    assert np.mean(err_channel**2) < np.mean(err_token**2)
    # the ordinary channels are the ones a per-token scale crushes
    assert np.mean(err_channel[:, ordinary] ** 2) < np.mean(err_token[:, ordinary] ** 2) / 10


def test_prefix_caching_savings_for_a_2000_token_system_prompt():
    flops = 2 * 8.03e9 * 2000
    assert flops == pytest.approx(3.2e13, rel=0.01)
    assert 2000 * 128 * 1024 / 2**20 == 250.0  # MiB of Llama-3-8B cache shared instead of copied


# --- llm-serving-slo-capacity-planning -----------------------------------------------------------

STEP0, PER_SEQ, PREFILL, N_OUT = 0.010, 0.0002, 0.040, 300


def tpot(lam, prefill=PREFILL):
    """Fixed point of TPOT = (STEP0 + PER_SEQ * B) / (1 - prefill * lam) with B = lam * N_OUT * TPOT."""
    denom = 1 - prefill * lam - PER_SEQ * N_OUT * lam
    return STEP0 / denom if denom > 0 else math.inf


def test_closed_form_matches_iterating_the_model():
    for lam in (2.0, 5.0, 8.0, 9.0):
        t = 0.02
        for _ in range(10_000):
            batch = lam * N_OUT * t
            t = (STEP0 + PER_SEQ * batch) / (1 - PREFILL * lam)
        assert t == pytest.approx(tpot(lam), rel=1e-6)
    assert tpot(10.0) == math.inf  # saturated: no latency is reachable


def test_capacity_numbers():
    lam_max = max(x / 1000 for x in range(1, 20_000) if tpot(x / 1000) <= 0.050 + 1e-12)
    assert lam_max == pytest.approx(8.0)
    assert lam_max * N_OUT * tpot(lam_max) == pytest.approx(120)
    no_prefill = max(x / 1000 for x in range(1, 20_000) if tpot(x / 1000, prefill=0.0) <= 0.050 + 1e-12)
    assert no_prefill == pytest.approx(13.33, abs=0.01)
    assert tpot(9.0) == pytest.approx(0.100)  # one more request per second doubles TPOT
    assert 9 * N_OUT / (8 * N_OUT) - 1 == pytest.approx(0.125)  # while token throughput gains 12.5%
    assert 200 / 8 == 25 and round(200 / (8 * 0.7)) == 36
    # end-to-end latency decomposition
    assert 0.3 + (N_OUT - 1) * 0.050 == pytest.approx(15.25)


# --- llm-finetune-eval-good-prod-garbage ------------------------------------------------------


def test_fp16_limit_and_bf16_values_that_overflow_it():
    torch = pytest.importorskip("torch")
    assert torch.finfo(torch.float16).max == 65504.0
    activation = torch.tensor([70_000.0, 1.0], dtype=torch.bfloat16)  # fine in bf16 (range about 3.4e38)
    assert torch.isfinite(activation).all()
    assert torch.isinf(activation.to(torch.float16)[0])  # served in fp16 it becomes inf, then NaN downstream
    assert torch.isnan(activation.to(torch.float16)[0] - activation.to(torch.float16)[0])


# --- llm-sft-loss-down-task-worse-debug -----------------------------------------------------------


def test_pad_equals_eos_label_masking_deletes_every_eos():
    torch = pytest.importorskip("torch")
    eos = pad = 2
    input_ids = torch.tensor([[5, 6, 7, eos, pad, pad], [8, 9, 10, 11, 12, eos]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    by_id = input_ids.clone()
    by_id[by_id == pad] = -100  # the id-matching collator pattern
    assert not (by_id == eos).any()  # no example keeps its end-of-sequence target
    by_mask = input_ids.masked_fill(attention_mask == 0, -100)
    assert by_mask[0, 3].item() == eos and by_mask[1, 5].item() == eos
    # CrossEntropyLoss skips -100 by default, so the EOS positions simply never train
    assert torch.nn.CrossEntropyLoss().ignore_index == -100


def test_unmasked_prompt_dominates_the_loss_average():
    prompt, answer = 300, 60
    share = prompt / (prompt + answer)
    assert round(share, 2) == 0.83
    # prompt-token loss falling to 0.5 while answer loss only falls to 1.2 still averages about 0.6
    assert share * 0.5 + (1 - share) * 1.2 == pytest.approx(0.62, abs=0.01)


# --- llm-multilingual-fertility-transfer ----------------------------------------------------------


def test_costs_that_scale_with_token_count():
    ratio = 3.0
    prompt_tokens_en = 1000
    tokens = prompt_tokens_en * ratio
    assert tokens / prompt_tokens_en == 3.0  # price, decoding steps
    assert 8192 / tokens == pytest.approx((8192 / prompt_tokens_en) / 3)  # a third of the content fits
    assert (tokens**2) / (prompt_tokens_en**2) == 9.0  # the quadratic attention term of prefill


# --- llm-embedding-ann-index-tradeoffs -------------------------------------------------------------


def test_index_memory_arithmetic():
    n, d = 100_000_000, 768
    flat = n * d * 4
    hnsw = n * (d * 4 + 32 * 2 * 4)  # the Faiss guideline's bytes per vector at M = 32
    ivfpq = n * (64 + 8)  # 64 one-byte PQ codes plus an 8-byte id
    assert d * 4 == 3072 and d * 4 + 256 == 3328
    assert flat / 1e9 == pytest.approx(307.2) and hnsw / 1e9 == pytest.approx(332.8)
    assert ivfpq / 1e9 == pytest.approx(7.2)
    assert flat / ivfpq > 40 and hnsw / ivfpq > 40
    assert 64 / 65536 == pytest.approx(0.001, rel=0.03)
    assert n * 64 / 65536 == pytest.approx(100_000, rel=0.03)  # codes scanned per query if cells are balanced
    assert round(n / 65536) == 1526  # vectors per cell in the follow-up


def kmeans(x, k, rng, iters=15):
    c = x[rng.choice(len(x), k, replace=False)]
    for _ in range(iters):
        assign = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            if np.any(assign == j):
                c[j] = x[assign == j].mean(0)
    return c


def test_product_quantisation_codes_fit_a_byte_and_rank_neighbours_well():
    rng = np.random.default_rng(0)
    n, d, m, k = 3000, 32, 8, 256
    base = rng.normal(size=(n, d)).astype(np.float32)
    sub = d // m
    books = [kmeans(base[:, i * sub : (i + 1) * sub], k, rng) for i in range(m)]
    codes = np.stack(
        [np.argmin(((base[:, None, i * sub : (i + 1) * sub] - books[i][None]) ** 2).sum(-1), axis=1) for i in range(m)],
        axis=1,
    ).astype(np.uint8)  # 256 centroids per sub-vector: one byte each
    assert codes.dtype == np.uint8 and codes.shape == (n, m)
    hits = 0
    queries = rng.normal(size=(50, d)).astype(np.float32)
    for q in queries:
        # asymmetric distance: a table of query-to-centroid distances per sub-vector, then m lookups per code
        tables = [((books[i] - q[i * sub : (i + 1) * sub]) ** 2).sum(-1) for i in range(m)]
        adc = sum(tables[i][codes[:, i]] for i in range(m))
        exact_nn = np.argmin(((base - q) ** 2).sum(-1))
        hits += exact_nn in np.argsort(adc)[:100]
    assert hits / len(queries) >= 0.8  # approximate: rerank a candidate list with full vectors


# --- llm-watermark-green-list --------------------------------------------------------------------


def z_score(green, t, gamma):
    return (green - gamma * t) / math.sqrt(t * gamma * (1 - gamma))


def test_watermark_z_score_examples_and_threshold():
    assert math.sqrt(200 * 0.25 * 0.75) == pytest.approx(6.12, abs=0.01)
    assert z_score(100, 200, 0.25) == pytest.approx(8.16, abs=0.01)
    one_sided = 0.5 * math.erfc(4 / math.sqrt(2))
    assert one_sided == pytest.approx(3.2e-5, rel=0.02)
    assert 0.5 * math.erfc(1.5 / math.sqrt(2)) == pytest.approx(0.067, abs=0.001)  # about 7%
    # with half the tokens green, about 50 tokens reach z = 4
    t_needed = (4 * math.sqrt(0.25 * 0.75) / (0.5 - 0.25)) ** 2
    assert t_needed == pytest.approx(48, abs=0.1)


def test_unwatermarked_text_gives_z_near_standard_normal():
    rng = np.random.default_rng(0)
    t, gamma = 200, 0.25
    zs = np.array([z_score(rng.binomial(t, gamma), t, gamma) for _ in range(20_000)])
    assert abs(zs.mean()) < 0.02 and zs.std() == pytest.approx(1.0, abs=0.02)
    assert np.mean(zs > 4) < 5e-4


def test_bias_moves_mass_to_green_only_where_entropy_allows():
    delta, gamma, vocab = 2.0, 0.25, 1000
    green = np.zeros(vocab, dtype=bool)
    green[: int(gamma * vocab)] = True
    flat = np.zeros(vocab)  # maximum entropy: every token equally likely
    p = softmax(flat + delta * green)
    expected = gamma * math.exp(delta) / (gamma * math.exp(delta) + 1 - gamma)
    assert p[green].sum() == pytest.approx(expected) and expected == pytest.approx(0.71, abs=0.01)
    probs = np.full(vocab, 0.001 / (vocab - 1))
    probs[-1] = 0.999  # one red token holds 0.999 of the mass (the follow-up's case)
    q = softmax(np.log(probs) + delta * green)
    assert q[green].sum() < 0.01 and np.argmax(q) == vocab - 1
    # the card's bound: even if all 0.001 of the rest were green, e^2 lifts it to at most 0.73%
    worst = math.exp(delta) * 0.001 / (0.999 + math.exp(delta) * 0.001)
    assert q[green].sum() <= worst and round(100 * worst, 2) == 0.73
