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
    assert 50_257 * 768 == 38_597_376  # GPT-2 small token embedding, ~38.6M of 124M


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
