"""Each demo's claim, asserted on the numbers it computes (topic llms)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from demo_cache import module, result  # noqa: E402


def test_sampling_top_k_top_p():
    demo = module("sampling-top-k-top-p")
    m = result("sampling-top-k-top-p").metrics

    def kept_by_nucleus(t, p):
        """An independent count: sort the softmax, take tokens until their mass reaches p."""
        z = [x / t for x in demo.LOGITS]
        e = [math.exp(x - max(z)) for x in z]
        probs = sorted((x / sum(e) for x in e), reverse=True)
        mass, n = 0.0, 0
        while mass < p:
            mass += probs[n]
            n += 1
        return n

    assert m["kept_T1_kall_pall"] == 12
    assert m["kept_T1_k1_pall"] == 1
    assert m["kept_T1_k3_pall"] == 3
    assert m["kept_T1_kall_p0.5"] == kept_by_nucleus(1.0, 0.5) == 2
    assert m["kept_T1_kall_p0.9"] == kept_by_nucleus(1.0, 0.9) == 6
    assert m["kept_T2_kall_p0.9"] == kept_by_nucleus(2.0, 0.9) == 9  # hotter: a wider nucleus
    # top-k 5 first renormalises, so top-p 0.9 then keeps fewer than it would alone
    assert m["kept_T0.7_p0.9_without_k"] == kept_by_nucleus(0.7, 0.9) == 4
    assert m["kept_T0.7_k5_p0.9"] == 3
    for t, k, p in demo.SETTINGS:
        name = demo.key(t, k, p)
        assert m[f"sum_{name}"] == pytest.approx(1.0, abs=1e-12)  # renormalised
        assert m[f"outside_{name}"] == 0  # a removed token is never drawn
        assert m[f"tv_{name}"] < 0.015  # samples follow the truncated distribution
        if t == 1.0:
            assert m[f"renorm_err_{name}"] < 1e-12  # kept tokens keep their ratios
    # top-3 at T = 1: p(mat) / (p(mat) + p(sofa) + p(floor))
    e = [math.exp(x) for x in demo.LOGITS[:3]]
    assert m["top_prob_T1_k3_pall"] == pytest.approx(e[0] / sum(e))
    # temperature: hotter is flatter, colder is sharper, T -> 0 is greedy
    assert m["max_entropy"] > m["entropy_T2_kall_pall"] > m["entropy_T1_kall_pall"] > m["entropy_T0.5_kall_pall"]
    assert m["entropy_T0.5_kall_pall"] > m["entropy_T0.05_kall_pall"]
    assert m["top_prob_T0.05_kall_pall"] > 0.9999
    assert m["top_freq_T0.05_kall_pall"] > 0.999
    assert m["entropy_T1_k1_pall"] == 0 and m["top_prob_T1_k1_pall"] == 1  # top-1 is greedy exactly


def test_lora_merge():
    demo = module("lora-merge")
    m = result("lora-merge").metrics
    d_in, d_out, true_rank = demo.D_IN, demo.D_OUT, demo.TRUE_RANK
    assert m["full_weight_params"] == d_in * d_out
    for r in demo.RANKS:
        assert m[f"trainable_r{r}"] == r * (d_in + d_out)  # A: r x d_in, B: d_out x r
        assert m[f"merged_params_r{r}"] == d_in * d_out + d_out  # a plain Linear again
        assert m[f"init_diff_r{r}"] == 0  # B = 0: the adapted layer starts as the base layer, exactly
        assert m[f"merge_diff_r{r}"] < 1e-5  # W + (alpha/r) B A gives the same outputs (fp32)
        assert m[f"loss_end_r{r}"] < m[f"loss_start_r{r}"]
        # no rank-r adapter beats the Eckart-Young floor (up to the held-out sample's noise)
        assert m[f"loss_end_r{r}"] > 0.8 * m[f"loss_floor_r{r}"]
    assert m["trainable_r8"] / m["full_weight_params"] == pytest.approx(0.09375)
    # a rank-8 change is learnt by rank >= 8, not by rank 1 or 4
    for r in (r for r in demo.RANKS if r >= true_rank):
        assert m[f"loss_floor_r{r}"] < 1e-9
        assert m[f"loss_end_r{r}"] < 0.01 * m[f"loss_start_r{r}"]
    assert m["loss_floor_r1"] > 0.5 * m["loss_start_r1"]
    assert m["loss_end_r1"] > 0.5 * m["loss_start_r1"]
    assert m["loss_end_r4"] > 100 * m["loss_end_r8"]


def test_speculative_decoding():
    demo = module("speculative-decoding")
    m = result("speculative-decoding").metrics
    p, q = demo.P, demo.Q
    a = sum(min(x, y) for x, y in zip(p, q, strict=True))
    tv_pq = 0.5 * sum(abs(x - y) for x, y in zip(p, q, strict=True))
    assert a == pytest.approx(0.80) and tv_pq == pytest.approx(0.20)
    assert m["overlap"] == pytest.approx(a) == pytest.approx(1 - m["tv_pq"])
    # closed form: min(p, q) + (1 - a) * normalise(max(0, p - q)) is p itself
    assert m["exact_err"] < 1e-12
    # measured acceptance rate = sum min(p, q) = 1 - TV(p, q)
    assert m["accept_rate_all"] == pytest.approx(a, abs=0.002)
    for k in demo.DRAFTS:
        assert m[f"accept_rate_k{k}"] == pytest.approx(a, abs=0.005)
        # the emitted tokens follow p (not q) whatever k is
        assert m[f"tv_output_k{k}"] < 0.01
        # expected tokens per target call: 1 + a + ... + a^k
        expected = sum(a**i for i in range(k + 1))
        assert m[f"tokens_per_call_formula_k{k}"] == pytest.approx(expected)
        assert m[f"tokens_per_call_k{k}"] == pytest.approx(expected, rel=0.01)
        assert m[f"emitted_k{k}"] == pytest.approx(demo.ROUNDS * m[f"tokens_per_call_k{k}"])
    # without the accept/resample step the tokens follow q: TV(q, p) = 0.2
    assert m["tv_no_check"] == pytest.approx(tv_pq, abs=0.01)
    # more drafts help less and less: the limit is 1 / (1 - a) = 5
    assert m["tokens_per_call_k8"] < 1 / (1 - a)
    assert m["tokens_per_call_k2"] - m["tokens_per_call_k1"] > m["tokens_per_call_k8"] - m["tokens_per_call_k6"]


def test_moe_balance_loss():
    demo = module("moe-balance-loss")
    m = result("moe-balance-loss").metrics
    n = demo.EXPERTS
    # the balance loss spreads the load: lower max load, higher min load, fewer dropped tokens
    assert m["max_load_with"] < 0.2 < 0.3 < m["max_load_without"]
    assert m["min_load_with"] > 0.05 > m["min_load_without"]
    assert m["max_over_mean_with"] < 1.5 and m["max_over_mean_without"] > 2.5
    assert m["dropped_with"] < 0.1 < 0.4 < m["dropped_without"]
    # the trained loss sits at its uniform value, alpha x 1; the unbalanced router's is far above
    assert m["aux_ratio_with"] == pytest.approx(1.0, abs=0.05)
    assert m["aux_ratio_without"] > 2
    # reference routings: exactly 1 when uniform, N when collapsed
    assert m["aux_ratio_ref_uniform"] == pytest.approx(1.0)
    assert m["dropped_ref_uniform"] == 0
    assert m["aux_ratio_ref_collapsed"] == pytest.approx(n)
    assert m["dropped_ref_collapsed"] == pytest.approx(1 - 1 / n)  # all but one expert's capacity
    # 1 is not a floor: half the experts get every token, the probability sits on the other half
    # f_i = 1/4 and P_i = 0.24/4 on experts 0-3, so N sum f_i P_i = 8 * 4 * (1/4) * 0.06 = 0.48
    assert m["aux_ratio_ref_off_expert"] == pytest.approx(0.48)
    assert m["dropped_ref_off_expert"] == pytest.approx(0.5)
    # the bound that does hold: P_i >= f_i / N, so N sum f_i P_i >= sum f_i^2 >= 1 / N
    for case in ("with", "without", "ref_uniform", "ref_collapsed", "ref_off_expert"):
        assert m[f"aux_ratio_{case}"] >= m[f"sum_f_sq_{case}"] - 1e-12
        assert m[f"sum_f_sq_{case}"] >= 1 / n - 1e-12
        assert m[f"aux_ratio_{case}"] <= n + 1e-12


def test_kv_cache_bytes():
    demo = module("kv-cache-bytes")
    m = result("kv-cache-bytes").metrics
    assert m["mismatches"] == 0
    tokens, batch = demo.TINY_TOKENS, demo.TINY_BATCH
    for name, layers, _q_heads, kv_heads, head_dim, dtype in demo.TINY:
        key = f"{name.split()[1]}_{dtype}"
        nbytes = {"float32": 4, "float16": 2, "bfloat16": 2}[dtype]
        expected = 2 * layers * kv_heads * head_dim * tokens * batch * nbytes
        # the formula, the bytes of the tensors torch built, and their storages agree exactly
        assert m[f"formula_{key}"] == m[f"allocated_{key}"] == m[f"storage_{key}"] == expected
    assert m["allocated_MHA_float32"] == 2 * m["allocated_MHA_float16"]  # 4 vs 2 bytes per value
    assert m["allocated_MHA_float16"] == 4 * m["allocated_GQA_float16"]  # 8 vs 2 KV heads
    assert m["allocated_GQA_float16"] == 2 * m["allocated_MQA_bfloat16"]  # 2 vs 1 KV head
    # published configs at 16 bits: Llama-2-7B 32 layers x 32 KV heads x 128
    assert m["per_token_Llama-2-7B"] == 2 * 32 * 32 * 128 * 2 == 512 * 1024
    assert m["total_Llama-2-7B"] == 512 * 1024 * 4096 == 2 * 1024**3
    # Llama-3-8B: the same 32 layers, GQA with 8 KV heads of 128
    assert m["per_token_Llama-3-8B"] == 2 * 32 * 8 * 128 * 2 == 128 * 1024
    assert m["total_Llama-3-8B"] == 512 * 1024**2
    assert m["mha_total_Llama-3-8B"] == 4 * m["total_Llama-3-8B"]
    # Llama-2-70B: 80 layers, 8 KV heads of 128 (64 query heads)
    assert m["per_token_Llama-2-70B"] == 320 * 1024
    assert m["mha_total_Llama-2-70B"] == 8 * m["total_Llama-2-70B"] == 10 * 1024**3
    # attention over the shared KV heads equals attention over explicitly repeated ones
    assert m["gqa_attention_diff"] < 1e-6
