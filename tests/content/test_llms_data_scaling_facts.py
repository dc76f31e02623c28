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


# --- llm-long-context-evaluation -------------------------------------------------


def kv_bytes_per_token(layers, kv_heads, head_dim, bytes_per_value=2):
    return 2 * layers * kv_heads * head_dim * bytes_per_value


def test_kv_cache_llama2_7b_versus_llama3_8b():
    llama2 = kv_bytes_per_token(32, 32, 128)  # plain multi-head attention, KV width 4096
    llama3 = kv_bytes_per_token(32, 8, 128)  # grouped-query attention, 8 KV heads
    assert llama2 == 2 * 32 * 4096 * 2 == 512 * 1024  # 0.5 MiB
    assert llama3 == 128 * 1024
    gib = 1024**3
    assert llama2 * 32 * 1024 == 16 * gib  # 16 GiB at 32K tokens
    assert llama3 * 128 * 1024 == 16 * gib  # 16 GiB at 128K tokens


# --- llm-fp8-training ------------------------------------------------------------


def test_fp8_and_16_bit_format_limits():
    e4m3, e5m2 = torch.float8_e4m3fn, torch.float8_e5m2
    assert torch.finfo(e4m3).max == 448.0
    assert torch.finfo(e5m2).max == 57344.0
    assert torch.finfo(torch.float16).max == 65504.0
    assert torch.finfo(torch.bfloat16).max == pytest.approx(3.39e38, rel=1e-2)
    assert torch.finfo(torch.bfloat16).eps == 2**-7
    # E5M2 keeps IEEE-style infinities; E4M3 ("fn": finite) has none
    assert torch.isinf(torch.tensor(1e5).to(e5m2).float())
    assert not torch.isinf(torch.tensor(1e5).to(e4m3).float())
    # E4M3's smallest nonzero (subnormal) value is 2^-9; smaller values round away
    assert torch.tensor(2.0**-9).to(e4m3).float().item() == 2**-9
    assert torch.tensor(2.0**-11).to(e4m3).float().item() == 0.0


def test_per_tensor_scaling_rescues_small_values():
    x = torch.tensor([1e-4, 3e-4, 5e-3])  # would mostly underflow in E4M3 without a scale
    assert (x.to(torch.float8_e4m3fn).float() == 0).sum() == 2
    scale = 448.0 / x.abs().max()  # map the tensor's amax onto the format's max
    restored = (x * scale).to(torch.float8_e4m3fn).float() / scale
    assert torch.allclose(restored, x, rtol=0.07)  # 3 mantissa bits: relative error <= 2^-4


# --- llm-model-merging-task-arithmetic -------------------------------------------


def test_permuted_networks_compute_the_same_function_but_do_not_average():
    g = torch.Generator().manual_seed(0)
    w1, b1 = torch.randn(64, 8, generator=g), torch.randn(64, generator=g)
    w2 = torch.randn(1, 64, generator=g)

    def mlp(x, w1, b1, w2):
        return torch.relu(x @ w1.T + b1) @ w2.T

    perm = torch.randperm(64, generator=g)
    pw1, pb1, pw2 = w1[perm], b1[perm], w2[:, perm]  # reorder the hidden units
    x = torch.randn(256, 8, generator=g)
    y = mlp(x, w1, b1, w2)
    assert torch.allclose(mlp(x, pw1, pb1, pw2), y, atol=1e-5)  # same function
    midpoint = mlp(x, (w1 + pw1) / 2, (b1 + pb1) / 2, (w2 + pw2) / 2)
    assert ((midpoint - y) ** 2).mean() > 0.1 * (y**2).mean()  # the average is a different function


def test_task_arithmetic_and_sign_conflicts():
    base = torch.zeros(4)
    tau_a = torch.tensor([0.5, 0.4, 0.0, 0.01])
    tau_b = torch.tensor([-0.5, 0.4, 0.3, 0.0])
    averaged = base + 0.5 * tau_a + 0.5 * tau_b
    assert averaged[0] == 0  # opposite signs cancel: both tasks lose that change
    assert torch.allclose(base + 0.5 * tau_a + 0.5 * tau_a, base + tau_a)  # lambda = 1/2 each is the plain average
    # TIES-style: elect the sign with the larger total mass, average only agreeing entries
    stacked = torch.stack([tau_a, tau_b])
    sign = torch.sign(stacked.sum(0))
    sign[sign == 0] = 1
    agree = (torch.sign(stacked) == sign) & (stacked != 0)
    ties = (stacked * agree).sum(0) / agree.sum(0).clamp(min=1)
    assert ties[0] == 0.5 and ties[2] == 0.3  # kept at full size instead of halved or cancelled


# --- llm-induction-heads-icl -------------------------------------------------------


def test_induction_offset_on_a_repeated_random_sequence():
    rng = np.random.default_rng(0)
    length = 50
    first = rng.permutation(1000)[:length]  # distinct tokens
    seq = np.concatenate([first, first])
    correct = 0
    for i in range(length, 2 * length - 1):
        earlier = int(np.where(seq[:length] == seq[i])[0][0])
        attended = earlier + 1  # the token after the earlier occurrence
        assert attended - i == -(length - 1)
        correct += seq[attended] == seq[i + 1]
    assert correct == length - 1  # the induction rule predicts every next token of the repeat


# --- llm-pretraining-lr-schedule-wsd ---------------------------------------------


def gpt3_lr(tokens, peak=1.0, warmup=375e6, decay=260e9, floor=0.1):
    if tokens < warmup:
        return peak * tokens / warmup
    t = min((tokens - warmup) / (decay - warmup), 1.0)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def wsd_lr(step, total, warmup, decay_frac=0.1, peak=1.0):
    decay_start = total * (1 - decay_frac)
    if step < warmup:
        return peak * step / warmup
    if step < decay_start:
        return peak
    return peak * (1 - (step - decay_start) / (total - decay_start))


def test_warmup_cosine_to_ten_percent_and_wsd_shapes():
    assert gpt3_lr(375e6 / 2) == pytest.approx(0.5)
    assert gpt3_lr(375e6) == pytest.approx(1.0)
    assert gpt3_lr(260e9) == pytest.approx(0.1)
    assert gpt3_lr(300e9) == pytest.approx(0.1)  # stays at 10% after the decay
    # WSD: constant for the stable phase, decays over the last 10%, whatever the total
    assert wsd_lr(500, 10_000, 100) == wsd_lr(8_999, 10_000, 100) == 1.0
    assert wsd_lr(9_500, 10_000, 100) == pytest.approx(0.5)
    # a cosine's value at a given step depends on the planned total: stopping early leaves it high
    planned_long = 0.5 * (1 + math.cos(math.pi * 0.5))  # halfway through a long cosine
    assert planned_long == pytest.approx(0.5)


# --- llm-full-finetune-memory-7b ----------------------------------------------------


def test_llama2_7b_parameter_count():
    d, layers, d_ff, vocab = 4096, 32, 11008, 32000
    per_layer = 4 * d * d + 3 * d * d_ff + 2 * d  # attention, SwiGLU MLP, two RMSNorms
    total = layers * per_layer + 2 * vocab * d + d  # untied embeddings, final norm
    assert total == pytest.approx(6.74e9, rel=1e-3)


def test_finetune_memory_arithmetic():
    n, s, h, layers = 6.74e9, 4096, 4096, 32
    assert n * (2 + 2 + 4 + 4 + 4) == pytest.approx(108e9, rel=0.01)  # full fine-tune model states
    assert 7e9 * 16 == 112e9
    assert 34 * s * h * layers == pytest.approx(18e9, rel=0.02)  # activations, no recomputation
    assert 2 * s * h * layers == pytest.approx(1.1e9, rel=0.03)  # full checkpointing
    assert 108e9 / 4 == 27e9
    assert n * 2 == pytest.approx(13.5e9, rel=0.01)  # frozen bf16 base for LoRA
    lora = 4 * 16 * (h + h) * layers  # rank 16 on q, k, v, o: A is r x h, B is h x r
    assert lora == pytest.approx(16.8e6, rel=0.01)
    assert lora * 16 == pytest.approx(0.27e9, rel=0.01)
    assert n * (4 + 0.127) / 8 == pytest.approx(3.5e9, rel=0.01)  # NF4 + double quantization
    assert s * 32000 * 4 == pytest.approx(0.5e9, rel=0.05)  # fp32 logits for 4K tokens


def test_frozen_linear_does_not_save_its_input():
    saved = []

    def pack(t):
        saved.append(tuple(t.shape))
        return t

    lin = torch.nn.Linear(8, 16, bias=False)
    x = torch.randn(4, 8, requires_grad=True)
    lin.weight.requires_grad_(False)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        lin(x)
    assert (4, 8) not in saved  # only the weight is kept, for dL/dx
    saved.clear()
    lin.weight.requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        lin(x)
    assert (4, 8) in saved  # a trainable weight needs the input for dL/dW


# --- llm-emergent-abilities-metric-choice -------------------------------------------


def test_exact_match_is_per_token_accuracy_to_the_power_l():
    assert 0.5**10 == pytest.approx(0.001, abs=0.0001)
    assert 0.9**10 == pytest.approx(0.35, abs=0.005)
    assert 0.95**10 == pytest.approx(0.60, abs=0.005)
    rng = np.random.default_rng(0)
    p, length = 0.9, 10
    tokens_right = rng.random((200_000, length)) < p
    assert tokens_right.all(axis=1).mean() == pytest.approx(p**length, abs=0.005)


def test_small_test_set_reads_zero():
    assert 0.997**100 == pytest.approx(0.74, abs=0.005)


# --- llm-hyperparameter-transfer-mup ---------------------------------------------------


def first_adam_step_output_change(width, lr):
    """One Adam step on a hidden linear layer; return the mean |change| of its outputs."""
    g = torch.Generator().manual_seed(width)
    layer = torch.nn.Linear(width, 64, bias=False)
    x = torch.randn(32, width, generator=g)
    opt = torch.optim.Adam(layer.parameters(), lr=lr)
    before = layer(x).detach()
    loss = (layer(x) * torch.randn(32, 64, generator=g)).sum()
    loss.backward()
    opt.step()
    return (layer(x).detach() - before).abs().mean().item()


def test_adam_update_grows_with_fan_in_and_mup_scaling_removes_it():
    small, wide = 256, 4096
    sp_ratio = first_adam_step_output_change(wide, 1e-3) / first_adam_step_output_change(small, 1e-3)
    assert sp_ratio == pytest.approx(16, rel=0.25)  # same lr, 16x wider: ~16x larger output change
    mup_ratio = first_adam_step_output_change(wide, 1e-3 * small / wide) / first_adam_step_output_change(small, 1e-3)
    assert mup_ratio == pytest.approx(1, rel=0.25)  # lr scaled by 1/fan-in: width-independent
