"""Numeric checks for the claims made in questions/llms-training.yaml (and the
llms cheat sheet in questions/topics.yaml).

Each test recomputes the number independently (plain Python, numpy, or torch
where the claim is about PyTorch behaviour) instead of restating it.
"""

import math
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# --- llm-bpe-merge-procedure ---------------------------------------------------


def bpe_learn(word_counts, n_merges):
    words = {tuple(w): c for w, c in word_counts.items()}
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, c in words.items():
            for a, b in pairwise(w):
                pairs[(a, b)] += c
        (best, count), *_ = pairs.most_common()
        assert list(pairs.values()).count(count) == 1, "the example must have no ties"
        merges.append((best, count))
        words = {tuple(bpe_apply_one(list(w), best)): c for w, c in words.items()}
    return merges


def bpe_apply_one(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def bpe_encode(word, merges):
    symbols = list(word)
    for pair, _ in merges:  # replay in learned order
        symbols = bpe_apply_one(symbols, pair)
    return symbols


def test_bpe_worked_example_merges_and_encodings():
    merges = bpe_learn({"tea": 8, "team": 5, "steam": 3, "seam": 2}, 3)
    assert merges == [(("e", "a"), 18), (("t", "ea"), 16), (("tea", "m"), 8)]
    assert bpe_encode("teams", merges) == ["team", "s"]
    assert bpe_encode("seat", merges) == ["s", "ea", "t"]


def test_gpt2_vocabulary_and_tied_embedding_size():
    assert 256 + 50_000 + 1 == 50_257
    # GPT-2 small, counted from its config: the tied token table is ~38.6M of ~124M
    vocab, d, layers, positions = 50_257, 768, 12, 1024
    block = (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 2 * 2 * d
    total = vocab * d + positions * d + layers * block + 2 * d
    assert total == 124_439_808
    assert vocab * d == 38_597_376
    assert vocab * d / total == pytest.approx(0.31, abs=0.005)


# --- llm-vocab-size-tradeoff ---------------------------------------------------


def llama_params(vocab, d, layers, d_ff, kv_dim, tied=False):
    attn = 2 * d * d + 2 * d * kv_dim  # W_q, W_o and the (possibly grouped) W_k, W_v
    mlp = 3 * d * d_ff  # SwiGLU: gate, up, down
    norms = 2 * d
    embed = vocab * d * (1 if tied else 2)
    return embed + layers * (attn + mlp + norms) + d  # + final norm


def test_llama2_7b_and_llama3_8b_parameter_counts():
    llama2 = llama_params(32_000, 4096, 32, 11_008, 4096)
    llama3 = llama_params(128_256, 4096, 32, 14_336, 1024)
    assert llama2 == 6_738_415_616
    assert llama3 == 8_030_261_248
    assert 32_000 * 4096 == 131_072_000
    assert 128_256 * 4096 == 525_336_576
    assert 2 * 32_000 * 4096 / llama2 == pytest.approx(0.039, abs=0.001)  # "about 4%"
    assert 2 * 128_256 * 4096 / llama3 == pytest.approx(0.131, abs=0.001)  # "about 13%"


def test_output_layer_flops_and_logits_memory():
    V, d = 128_256, 4096
    assert 2 * V * d / 1e9 == pytest.approx(1.05, abs=0.01)  # ~1 GFLOP per token
    assert 2 * 8.03e9 / 1e9 == pytest.approx(16, abs=0.1)  # whole forward ~16 GFLOPs
    assert 8 * 4096 * V * 4 / 1e9 == pytest.approx(16.8, abs=0.05)  # fp32 logits, GB


def test_llama3_compression_gain_is_about_20_percent_fewer_tokens():
    assert 1 - 3.17 / 3.94 == pytest.approx(0.195, abs=0.005)


# --- llm-next-token-objective --------------------------------------------------


def test_shifted_cross_entropy_equals_mean_nll_of_next_tokens():
    torch.manual_seed(0)
    B, T, V = 2, 6, 11
    ids = torch.randint(0, V, (B, T))
    logits = torch.randn(B, T, V)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    logp = torch.log_softmax(logits, -1)
    manual = -torch.stack([logp[b, t, ids[b, t + 1]] for b in range(B) for t in range(T - 1)]).mean()
    assert loss.item() == pytest.approx(manual.item(), rel=1e-6)


def test_initial_loss_with_zero_logits_is_ln_vocab():
    V = 32_000
    loss = F.cross_entropy(torch.zeros(4, V), torch.tensor([0, 5, 17, 31_999]))
    assert loss.item() == pytest.approx(math.log(V), rel=1e-6)
    assert math.log(V) == pytest.approx(10.37, abs=0.01)
    assert math.exp(2.0) == pytest.approx(7.39, abs=0.01)


# --- llm-perplexity-definition -------------------------------------------------


def test_uniform_model_has_perplexity_equal_to_number_of_choices():
    for k in (20, 32_000):
        assert math.exp(F.cross_entropy(torch.zeros(3, k), torch.tensor([0, 1, 2])).item()) == pytest.approx(k)
    assert math.exp(3.0) == pytest.approx(20.1, abs=0.05)


def test_perplexity_is_inverse_geometric_mean_and_bits_base_agrees():
    p = np.array([0.5, 0.1, 0.02, 0.3])
    ppl = math.exp(-np.log(p).mean())
    assert ppl == pytest.approx(1 / np.prod(p) ** (1 / len(p)))
    assert ppl == pytest.approx(2 ** (-np.log2(p).mean()))


def test_mean_of_per_sequence_perplexities_is_not_smaller_for_equal_lengths():
    rng = np.random.default_rng(0)
    nll = rng.uniform(1.0, 4.0, size=(50, 128))  # 50 sequences of equal length
    corpus = math.exp(nll.mean())
    averaged = np.exp(nll.mean(axis=1)).mean()
    assert averaged >= corpus
    assert averaged != pytest.approx(corpus, rel=1e-3)


# --- llm-perplexity-across-tokenizers ------------------------------------------


def test_higher_perplexity_can_be_the_better_model_in_bits_per_byte():
    n_bytes = 1000
    bits_a = 250 * math.log2(8)
    bits_b = 200 * math.log2(12)
    assert bits_a == pytest.approx(750)
    assert bits_b == pytest.approx(717, abs=0.5)
    assert bits_b < bits_a  # B gives the string higher probability
    nats_a = 250 * math.log(8)
    assert nats_a / (math.log(2) * n_bytes) == pytest.approx(0.750)
    assert (200 / n_bytes) * math.log2(12) == pytest.approx(0.717, abs=0.001)


# --- llm-sft-loss-masking ------------------------------------------------------


def test_cross_entropy_ignores_minus_100_by_default_and_averages_over_the_rest():
    import inspect

    assert inspect.signature(torch.nn.CrossEntropyLoss).parameters["ignore_index"].default == -100
    torch.manual_seed(0)
    logits = torch.randn(6, 9)
    labels = torch.tensor([-100, -100, 3, 4, -100, 8])
    kept = labels != -100
    masked = torch.nn.CrossEntropyLoss()(logits, labels)
    assert masked.item() == pytest.approx(F.cross_entropy(logits[kept], labels[kept]).item())


def test_all_ignored_batch_gives_nan_with_mean_reduction():
    loss = F.cross_entropy(torch.randn(4, 9), torch.full((4,), -100))
    assert torch.isnan(loss)
    assert F.cross_entropy(torch.randn(4, 9), torch.full((4,), -100), reduction="sum").item() == 0.0


def test_share_of_unmasked_terms_on_the_prompt():
    assert 300 / (300 + 60) == pytest.approx(0.83, abs=0.005)


def test_per_microbatch_means_differ_from_the_per_token_mean():
    losses = [torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), torch.tensor([4.0, 4.0])]
    mean_of_means = torch.stack([x.mean() for x in losses]).mean()
    per_token = torch.cat(losses).mean()
    assert mean_of_means.item() == pytest.approx(2.5)
    assert per_token.item() == pytest.approx(1.75)


# --- llm-sft-sequence-packing --------------------------------------------------


def test_padding_waste_for_lengths_uniform_between_50_and_2000():
    mean_len = (50 + 2000) / 2
    assert mean_len == 1025
    assert 1 - mean_len / 2048 == pytest.approx(0.50, abs=0.005)


def test_block_diagonal_mask_makes_a_packed_example_match_it_run_alone():
    torch.manual_seed(0)
    d, n1, n2 = 8, 5, 4
    q, k, v = (torch.randn(1, 1, n1 + n2, d) for _ in range(3))
    causal = torch.tril(torch.ones(n1 + n2, n1 + n2, dtype=torch.bool))
    block = causal.clone()
    block[n1:, :n1] = False  # the second example may not see the first
    plain = F.scaled_dot_product_attention(q, k, v, attn_mask=causal)
    packed = F.scaled_dot_product_attention(q, k, v, attn_mask=block)
    alone = F.scaled_dot_product_attention(q[..., n1:, :], k[..., n1:, :], v[..., n1:, :], is_causal=True)
    assert torch.allclose(packed[..., n1:, :], alone, atol=1e-6)
    assert not torch.allclose(plain[..., n1:, :], alone, atol=1e-3)  # cross-contamination


def rope(x, positions, base=10_000.0):
    """Rotary embedding of x (..., n, d) at integer positions (n,), pairs (2i, 2i+1)."""
    d = x.shape[-1]
    freqs = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = positions[:, None].double() * freqs[None, :]
    cos, sin = torch.cos(angles), torch.sin(angles)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out


def test_rope_offset_of_a_packed_example_is_harmless_under_the_block_mask():
    torch.manual_seed(0)
    n, d = 6, 8
    q, k, v = (torch.randn(1, 1, n, d, dtype=torch.float64) for _ in range(3))
    reset = torch.arange(n)  # positions restarted at 0
    shifted = torch.arange(900, 900 + n)  # positions continued from the previous example
    a = F.scaled_dot_product_attention(rope(q, reset), rope(k, reset), v, is_causal=True)
    b = F.scaled_dot_product_attention(rope(q, shifted), rope(k, shifted), v, is_causal=True)
    assert torch.allclose(a, b, atol=1e-10)  # only relative offsets enter q.k
    learned = torch.randn(1000, d, dtype=torch.float64)  # learned absolute positions do change
    c = F.scaled_dot_product_attention(q + learned[reset], k + learned[reset], v, is_causal=True)
    e = F.scaled_dot_product_attention(q + learned[shifted], k + learned[shifted], v, is_causal=True)
    assert not torch.allclose(c, e, atol=1e-3)


# --- llm-reward-model-bradley-terry --------------------------------------------


def test_bradley_terry_probabilities_and_losses():
    for margin, p, loss in ((0, 0.5, 0.693), (1, 0.731, 0.313), (2, 0.881, 0.127)):
        assert sigmoid(margin) == pytest.approx(p, abs=1e-3)
        assert -F.logsigmoid(torch.tensor(float(margin))).item() == pytest.approx(loss, abs=1e-3)
    # two-way softmax over the rewards is the same model
    r = torch.tensor([1.7, 0.4])
    assert torch.softmax(r, 0)[0].item() == pytest.approx(sigmoid(1.3))


def test_reward_model_loss_is_invariant_to_a_per_prompt_shift():
    r_w, r_l = torch.tensor([0.3, 2.0]), torch.tensor([-0.5, 1.0])
    shift = torch.tensor([10.0, -4.0])
    a = -F.logsigmoid(r_w - r_l).mean()
    b = -F.logsigmoid((r_w + shift) - (r_l + shift)).mean()
    assert a.item() == pytest.approx(b.item())


def test_reward_model_loss_gradient_is_minus_sigmoid_of_minus_margin():
    m = torch.tensor([4.0, -4.0], requires_grad=True)
    (-F.logsigmoid(m)).sum().backward()
    assert m.grad.tolist() == pytest.approx([-sigmoid(-4.0), -sigmoid(4.0)], abs=1e-6)
    assert sigmoid(-4.0) == pytest.approx(0.018, abs=5e-4)
    assert sigmoid(4.0) == pytest.approx(0.982, abs=5e-4)


def test_k_way_ranking_gives_k_choose_2_pairs():
    assert [math.comb(k, 2) for k in (4, 9)] == [6, 36]


# --- llm-rlhf-ppo-kl-penalty ---------------------------------------------------


def test_expected_sequence_log_ratio_is_the_kl_and_per_token_terms_sum_to_it():
    rng = np.random.default_rng(1)
    # two-token responses over a 3-token vocabulary: pi(y1) pi(y2 | y1)
    pi1, ref1 = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    pi2, ref2 = rng.dirichlet(np.ones(3), size=3), rng.dirichlet(np.ones(3), size=3)
    kl_seq, expected_token_terms = 0.0, 0.0
    for a in range(3):
        for b in range(3):
            p, q = pi1[a] * pi2[a, b], ref1[a] * ref2[a, b]
            kl_seq += p * math.log(p / q)
            expected_token_terms += p * (math.log(pi1[a] / ref1[a]) + math.log(pi2[a, b] / ref2[a, b]))
    assert kl_seq > 0
    assert expected_token_terms == pytest.approx(kl_seq)


# --- llm-policy-gradient-vocabulary --------------------------------------------


def test_reinforce_estimator_matches_the_exact_gradient_and_baseline_cuts_variance():
    torch.manual_seed(0)
    theta = torch.tensor([0.2, -0.4, 0.9], requires_grad=True)
    reward = torch.tensor([1.0, 3.0, 2.0])
    (torch.softmax(theta, 0) * reward).sum().backward()
    exact = theta.grad.clone()

    probs = torch.softmax(theta.detach(), 0)
    score = torch.eye(3) - probs  # row a: grad of log pi(a) w.r.t. theta
    assert torch.allclose((probs[:, None] * score).sum(0), torch.zeros(3), atol=1e-7)  # E[grad log pi] = 0

    n = 200_000
    actions = torch.multinomial(probs, n, replacement=True)
    baseline = (probs * reward).sum()
    g_plain = reward[actions, None] * score[actions]
    g_base = (reward[actions] - baseline)[:, None] * score[actions]
    assert torch.allclose(g_plain.mean(0), exact, atol=0.02)
    assert torch.allclose(g_base.mean(0), exact, atol=0.02)
    assert (g_base.var(0).sum() < 0.5 * g_plain.var(0).sum()).item()


def test_group_mean_baseline_including_own_reward_scales_the_gradient_by_g_minus_1_over_g():
    G = 4
    r = np.array([3.0, 1.0, 0.0, 2.0])
    own_included = r - r.mean()
    leave_one_out = np.array([r[i] - np.delete(r, i).mean() for i in range(G)])
    assert np.allclose(own_included, (G - 1) / G * leave_one_out)


# --- llm-dpo-derivation --------------------------------------------------------


def kl_regularised_objective(pi, pi_ref, r, beta):
    return float((pi * r).sum() - beta * (pi * np.log(pi / pi_ref)).sum())


def test_tilted_reference_is_the_optimum_of_the_kl_regularised_objective():
    rng = np.random.default_rng(0)
    beta = 0.5
    pi_ref = rng.dirichlet(np.ones(6))
    r = rng.normal(size=6)
    z = (pi_ref * np.exp(r / beta)).sum()
    pi_star = pi_ref * np.exp(r / beta) / z
    best = kl_regularised_objective(pi_star, pi_ref, r, beta)
    assert best == pytest.approx(beta * math.log(z))  # the optimum value is beta log Z
    for _ in range(200):
        other = rng.dirichlet(np.ones(6))
        assert kl_regularised_objective(other, pi_ref, r, beta) < best
    # inversion: r = beta log(pi*/pi_ref) + beta log Z
    assert np.allclose(beta * np.log(pi_star / pi_ref) + beta * math.log(z), r)
    # Z cancels: the Bradley-Terry probability from implicit rewards equals the true one
    implicit = beta * np.log(pi_star / pi_ref)
    assert sigmoid(implicit[0] - implicit[3]) == pytest.approx(sigmoid(r[0] - r[3]))


def dpo_loss(logp_w, logp_l, ref_w, ref_l, beta):
    return -F.logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))


def test_dpo_toy_loss_and_starting_loss():
    loss = dpo_loss(torch.tensor(-10.0), torch.tensor(-12.0), torch.tensor(-11.0), torch.tensor(-11.0), 0.1)
    assert loss.item() == pytest.approx(-math.log(sigmoid(0.2)))
    assert loss.item() == pytest.approx(0.598, abs=1e-3)
    at_start = dpo_loss(torch.tensor(-7.0), torch.tensor(-9.0), torch.tensor(-7.0), torch.tensor(-9.0), 0.1)
    assert at_start.item() == pytest.approx(math.log(2))


def test_dpo_gradient_is_weighted_by_sigmoid_of_reversed_implicit_margin():
    beta = 0.1
    logp = torch.tensor([-10.0, -12.0], requires_grad=True)  # chosen, rejected
    ref = torch.tensor([-11.0, -11.0])
    dpo_loss(logp[0], logp[1], ref[0], ref[1], beta).backward()
    r_hat = beta * (logp.detach() - ref)
    weight = sigmoid((r_hat[1] - r_hat[0]).item())
    assert logp.grad.tolist() == pytest.approx([-beta * weight, beta * weight])


# --- llm-grpo-vs-ppo -----------------------------------------------------------


def test_grpo_group_advantages_for_three_right_one_wrong():
    r = np.array([1.0, 1.0, 1.0, 0.0])
    mean, std = r.mean(), r.std()  # population std
    adv = (r - mean) / std
    assert (mean, round(std, 2)) == (0.75, 0.43)
    assert adv[:3] == pytest.approx([0.577] * 3, abs=1e-3)
    assert adv[3] == pytest.approx(-1.732, abs=1e-3)
    same = np.ones(16)
    assert np.allclose((same - same.mean()) / (same.std() + 1e-4), 0.0)  # no signal


def test_grpo_kl_estimator_is_nonnegative_and_unbiased():
    rng = np.random.default_rng(2)
    pi, ref = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    ratio = ref / pi
    k3 = ratio - np.log(ratio) - 1
    assert (k3 >= 0).all()
    assert (pi * k3).sum() == pytest.approx((pi * np.log(pi / ref)).sum())  # E_pi[k3] = KL(pi || ref)


# --- llm-lora-mechanics and llm-lora-param-count -------------------------------


class LoRALinear(torch.nn.Module):
    def __init__(self, d_in, d_out, r, alpha):
        super().__init__()
        self.base = torch.nn.Linear(d_in, d_out, bias=False)
        self.base.weight.requires_grad_(False)
        self.A = torch.nn.Parameter(torch.randn(r, d_in) / math.sqrt(d_in))
        self.B = torch.nn.Parameter(torch.zeros(d_out, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.scale * (x @ self.A.T) @ self.B.T


def test_lora_starts_as_the_base_model_and_only_b_gets_gradient_first():
    torch.manual_seed(0)
    layer = LoRALinear(16, 12, r=4, alpha=8)
    x = torch.randn(5, 16)
    assert torch.equal(layer(x), layer.base(x))
    layer(x).pow(2).sum().backward()
    assert layer.B.grad.abs().sum() > 0
    assert layer.A.grad.abs().sum() == 0
    assert layer.base.weight.grad is None


def test_lora_with_both_factors_zero_never_moves():
    layer = LoRALinear(16, 12, r=4, alpha=8)
    with torch.no_grad():
        layer.A.zero_()
    layer(torch.randn(5, 16)).pow(2).sum().backward()
    assert layer.A.grad.abs().sum() == 0 and layer.B.grad.abs().sum() == 0


def test_merged_lora_weight_gives_the_same_output():
    torch.manual_seed(1)
    layer = LoRALinear(16, 12, r=4, alpha=8)
    with torch.no_grad():
        layer.B.normal_()
    merged = layer.base.weight + layer.scale * layer.B @ layer.A
    x = torch.randn(5, 16)
    assert torch.allclose(layer(x), x @ merged.T, atol=1e-5)


def lora_params(shapes, r):
    return sum(r * (d_in + d_out) for d_in, d_out in shapes)


def test_lora_counts_for_llama2_7b():
    d, ff, layers = 4096, 11_008, 32
    attn = [(d, d)] * 4
    mlp = [(d, ff), (d, ff), (ff, d)]
    per_layer = lora_params(attn + mlp, 16)
    assert lora_params(attn, 16) == 524_288
    assert lora_params(mlp[:2], 16) == 483_328
    assert lora_params(mlp[2:], 16) == 241_664
    assert per_layer == 1_249_280
    total = per_layer * layers
    assert total == 39_976_960
    assert total / 6_738_415_616 == pytest.approx(0.0059, abs=0.0001)
    qv = lora_params([(d, d)] * 2, 8) * layers
    assert qv == 4_194_304
    assert qv / 6_738_415_616 == pytest.approx(0.0006, abs=0.0001)
    assert total * 2 / 1e6 == pytest.approx(80, abs=0.1)  # bf16 MB
    assert total * 16 / 1e9 == pytest.approx(0.64, abs=0.005)  # training state GB
    assert 6_738_415_616 * 2 / 1e9 == pytest.approx(13.5, abs=0.05)
    assert lora_params([(d, d)], 8) == 65_536 and 65_536 / d**2 == pytest.approx(0.0039, abs=1e-4)


def test_lora_count_matches_an_instantiated_adapter():
    layer = LoRALinear(4096, 11_008, r=16, alpha=32)
    trainable = sum(p.numel() for p in layer.parameters() if p.requires_grad)
    assert trainable == lora_params([(4096, 11_008)], 16)


def test_lora_paper_gpt3_budget_is_about_18m():
    d, layers = 12_288, 96
    qv_r4 = lora_params([(d, d)] * 2, 4) * layers
    one_type_r8 = lora_params([(d, d)], 8) * layers
    assert qv_r4 == one_type_r8 == 18_874_368
    assert qv_r4 * 2 / 1e6 == pytest.approx(38, abs=0.5)  # MB in 16-bit
    assert 175e9 / qv_r4 == pytest.approx(9_272, abs=1)  # "10,000x fewer"


# --- llm-qlora-memory ----------------------------------------------------------


def test_qlora_storage_arithmetic_for_65b():
    n = 65e9
    assert n * 2 / 1e9 == 130  # bf16 base
    assert n * 16 / 1e12 == pytest.approx(1.04)  # full fine-tuning, 16 B/param
    assert n * 0.5 / 1e9 == 32.5  # NF4 weights
    single = 32 / 64
    double = 8 / 64 + 32 / (64 * 256)
    assert single == 0.5
    assert double == pytest.approx(0.127, abs=5e-4)
    assert single - double == pytest.approx(0.373, abs=5e-4)
    assert (single - double) * n / 8 / 1e9 == pytest.approx(3.0, abs=0.05)  # GB saved
    assert (n * 0.5 + double * n / 8) / 1e9 == pytest.approx(33.5, abs=0.05)


# --- llm-peft-adapters-prefix-prompt -------------------------------------------


def test_prompt_tuning_parameter_count():
    soft_prompt = torch.nn.Parameter(torch.zeros(20, 4096))  # 20 trained input embeddings, T5-XXL width
    assert soft_prompt.numel() == 81_920


def test_per_customer_adapter_sizes_for_a_7b_model():
    d, ff, layers = 4096, 11_008, 32
    qv_r8 = lora_params([(d, d)] * 2, 8) * layers
    all_linear_r16 = lora_params([(d, d)] * 4 + [(d, ff), (d, ff), (ff, d)], 16) * layers
    assert qv_r8 * 2 / 1e6 == pytest.approx(8.4, abs=0.05)  # MB in 16-bit
    assert all_linear_r16 * 2 / 1e6 == pytest.approx(80, abs=0.1)


# --- llm-moe-routing-load-balancing --------------------------------------------


def switch_aux_loss(router_probs, alpha=0.01):
    """router_probs: (T, N) softmax outputs; top-1 dispatch."""
    T, N = router_probs.shape
    f = torch.bincount(router_probs.argmax(1), minlength=N).float() / T
    P = router_probs.mean(0)
    return alpha * N * (f * P).sum()


def test_switch_aux_loss_is_alpha_when_balanced_and_alpha_n_when_collapsed():
    N = 4
    balanced = torch.full((8, N), 1 / N)
    balanced[torch.arange(8), torch.arange(8) % N] += 1e-6  # break ties evenly
    balanced /= balanced.sum(1, keepdim=True)
    assert switch_aux_loss(balanced).item() == pytest.approx(0.01, rel=1e-4)
    collapsed = torch.zeros(8, N)
    collapsed[:, 0] = 1.0
    assert switch_aux_loss(collapsed).item() == pytest.approx(0.01 * N)


def test_switch_aux_loss_worked_example():
    f = np.array([0.7, 0.1, 0.1, 0.1])
    P = np.array([0.6, 0.4 / 3, 0.4 / 3, 0.4 / 3])
    assert (f * P).sum() == pytest.approx(0.46)
    assert 0.01 * 4 * (f * P).sum() == pytest.approx(0.0184)


def test_switch_aux_loss_gradient_flows_through_router_probabilities_only():
    torch.manual_seed(0)
    logits = torch.randn(16, 4, requires_grad=True)
    switch_aux_loss(torch.softmax(logits, 1)).backward()
    assert logits.grad.abs().sum() > 0  # via P_i; f_i is an argmax count


def test_mixtral_style_gate_is_softmax_over_the_top_two_logits():
    logits = torch.tensor([2.0, 0.5, 1.0, -1.0])
    top = logits.topk(2)
    masked = torch.full_like(logits, float("-inf"))
    masked[top.indices] = top.values
    gate = torch.softmax(masked, 0)
    assert gate[[1, 3]].sum().item() == 0.0
    assert gate[0].item() == pytest.approx(sigmoid(1.0))


# --- llm-moe-capacity-factor ---------------------------------------------------


def test_expert_capacity_example():
    capacity = int(4096 / 8 * 1.25)
    assert capacity == 640
    assert 900 - capacity == 260


def test_overflow_tokens_skip_the_expert_and_keep_their_residual_stream():
    torch.manual_seed(0)
    T, d, n_experts, capacity = 12, 8, 2, 3
    x = torch.randn(T, d)
    experts = [torch.nn.Linear(d, d) for _ in range(n_experts)]
    choice = torch.zeros(T, dtype=torch.long)  # the router sends every token to expert 0
    gate = torch.full((T,), 0.9)
    out = x.clone()  # residual stream: y = x + gate * expert(x) for the tokens that fit
    for e in range(n_experts):
        idx = (choice == e).nonzero().flatten()[:capacity]  # first `capacity` tokens are kept
        out[idx] = x[idx] + gate[idx, None] * experts[e](x[idx])
    kept, dropped = slice(0, capacity), slice(capacity, T)
    assert not torch.allclose(out[kept], x[kept])
    assert torch.equal(out[dropped], x[dropped])  # the layer did nothing for the overflow


# --- llm-moe-mixtral-params-inference ------------------------------------------


def test_mixtral_total_and_active_parameters_from_its_config():
    d, layers, experts, top_k, ff, vocab, kv_heads, head_dim = 4096, 32, 8, 2, 14_336, 32_000, 8, 128
    attn = 2 * d * d + 2 * d * kv_heads * head_dim
    expert = 3 * d * ff
    router, norms = d * experts, 2 * d
    embed = 2 * vocab * d
    assert attn == 41_943_040
    assert expert == 176_160_768
    total = layers * (attn + experts * expert + router + norms) + embed + d
    active = layers * (attn + top_k * expert + router + norms) + embed + d
    assert total == 46_702_792_704
    assert total / 1e9 == pytest.approx(46.7, abs=0.05)
    assert active / 1e9 == pytest.approx(12.9, abs=0.05)
    assert 8 * 7e9 / 1e9 == 56  # the naive reading of "8x7B"
    assert total * 2 / 1e9 == pytest.approx(93.4, abs=0.1)  # bf16 GB
    assert total * 0.5 / 1e9 == pytest.approx(23.4, abs=0.1)  # 4-bit GB
    assert 2 * active / 1e9 == pytest.approx(26, abs=0.5)  # GFLOPs per token
    assert expert * 2 / 1e6 == pytest.approx(352, abs=1)  # MB per expert in bf16
    assert expert * 2 / 30e9 * 1e3 == pytest.approx(12, abs=0.5)  # ms over ~30 GB/s


def test_mixtral_quantized_weight_sizes_against_a_24_gb_card():
    total = 46_702_792_704  # from test_mixtral_total_and_active_parameters_from_its_config
    assert total * 4 / 8 / 1e9 == pytest.approx(23.4, abs=0.05)  # plain 4-bit
    assert total * (4 + 16 / 128) / 8 / 1e9 == pytest.approx(24.1, abs=0.05)  # with a 16-bit scale per 128
    assert total * 3 / 8 / 1e9 == pytest.approx(17.5, abs=0.05)  # 3-bit


def test_a_small_batch_already_touches_nearly_every_expert():
    # top-2 of 8 with roughly uniform routing: chance an expert is unused by B tokens is (6/8)^B
    expected_share = {b: 1 - (6 / 8) ** b for b in (1, 8, 16)}
    assert expected_share[1] == pytest.approx(0.25)
    assert expected_share[8] == pytest.approx(0.90, abs=0.005)
    assert expected_share[16] == pytest.approx(0.99, abs=0.005)
    rng = np.random.default_rng(0)
    picks = np.argsort(rng.random((5_000, 16, 8)), axis=-1)[..., :2]  # 16 tokens, 2 distinct experts each
    used = np.zeros((5_000, 8), dtype=bool)
    np.put_along_axis(used, picks.reshape(5_000, -1), True, axis=1)
    assert used.mean() == pytest.approx(expected_share[16], abs=0.005)


def test_mixtral_kv_cache_per_token():
    layers, kv_heads, head_dim, bytes_per = 32, 8, 128, 2
    assert 2 * layers * kv_heads * head_dim * bytes_per == 128 * 1024


# --- llms cheat sheet (questions/topics.yaml) ----------------------------------


def test_speculative_decoding_expected_tokens_formula():
    a, k = 0.8, 4
    closed = (1 - a ** (k + 1)) / (1 - a)
    assert closed == pytest.approx(sum(a**i for i in range(k + 1)))
    assert closed == pytest.approx(3.36, abs=0.005)
    rng = np.random.default_rng(0)
    accepted = rng.random((200_000, k)) < a
    # tokens per target step: accepted draft prefix + 1 token from the target model
    prefix = np.where(accepted.all(1), k, accepted.argmin(1))
    assert (prefix + 1).mean() == pytest.approx(closed, abs=0.01)


def test_kv_cache_formula_for_llama2_7b():
    layers, kv_heads, head_dim, seq, batch, bytes_per = 32, 32, 128, 4096, 1, 2
    per_seq = 2 * layers * kv_heads * head_dim * seq * batch * bytes_per
    assert per_seq == 2 * 1024**3  # 2 GiB, as in transformer-kv-cache-memory-sizing
