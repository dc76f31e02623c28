"""Numeric checks for the claims made in questions/attention.yaml.

Each test recomputes a number or property independently (numpy, or torch
where the claim is about PyTorch behaviour) rather than restating it.
"""

import math

import numpy as np
import pytest
from numerics import numeric_jacobian, softmax


def naive_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v for 2-D arrays; mask True = hidden."""
    s = q @ k.T / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, -np.inf, s)
    return softmax(s) @ v


def causal_future_mask(n):
    return np.triu(np.ones((n, n), dtype=bool), k=1)


# --- attention-sqrt-dk-scaling -------------------------------------------------


def test_qk_dot_variance_grows_like_dk_and_scaling_restores_unit_variance():
    rng = np.random.default_rng(0)
    for d_k in (16, 64, 512):
        q = rng.standard_normal((50_000, d_k))
        k = rng.standard_normal((50_000, d_k))
        dots = (q * k).sum(axis=1)
        assert dots.var() == pytest.approx(d_k, rel=0.05)
        assert (dots / math.sqrt(d_k)).var() == pytest.approx(1.0, rel=0.05)
        # dividing by d_k instead over-shrinks: variance 1 / d_k (follow-up)
        assert (dots / d_k).var() == pytest.approx(1 / d_k, rel=0.05)


def test_unscaled_scores_saturate_softmax_at_dk_512():
    rng = np.random.default_rng(1)
    d_k, n = 512, 64
    q = rng.standard_normal((n, d_k))
    k = rng.standard_normal((n, d_k))
    raw = q @ k.T
    assert raw.std() == pytest.approx(math.sqrt(d_k), rel=0.1)  # about 22.6
    max_w_unscaled = softmax(raw).max(axis=1).mean()
    max_w_scaled = softmax(raw / math.sqrt(d_k)).max(axis=1).mean()
    assert max_w_unscaled > 0.8  # nearly one-hot rows
    assert max_w_scaled < 0.3


def test_one_std_logit_gap_at_dk_64_is_weight_ratio_about_3000():
    std = math.sqrt(64)
    p = softmax(np.array([std, 0.0]))
    assert p[0] / p[1] == pytest.approx(2981, rel=0.01)


# --- attention-softmax-jacobian-saturation ------------------------------------


def softmax_jacobian(s):
    p = softmax(s)
    return np.diag(p) - np.outer(p, p)


def test_softmax_jacobian_matches_finite_differences():
    rng = np.random.default_rng(2)
    s = rng.standard_normal(5)
    numeric = numeric_jacobian(softmax, s)
    np.testing.assert_allclose(softmax_jacobian(s), numeric, atol=1e-8)
    # rows sum to zero: softmax ignores a constant shift
    np.testing.assert_allclose(softmax_jacobian(s).sum(axis=1), 0.0, atol=1e-12)


def test_softmax_jacobian_vanishes_for_saturated_row():
    sat = softmax_jacobian(np.array([10.0, 0, 0, 0]))
    soft = softmax_jacobian(np.array([1.0, 0, 0, 0]))
    assert softmax(np.array([10.0, 0, 0, 0]))[0] == pytest.approx(0.99986, abs=1e-5)
    assert softmax(np.array([1.0, 0, 0, 0]))[0] == pytest.approx(0.475, abs=1e-3)
    assert np.abs(sat).max() == pytest.approx(1.36e-4, rel=0.02)
    assert np.abs(soft).max() == pytest.approx(0.249, abs=1e-3)
    # diagonal entries p(1 - p) never exceed 1/4
    p = np.linspace(0, 1, 10_001)
    assert (p * (1 - p)).max() == pytest.approx(0.25)


# --- attention-mha-param-count / attention-multihead-vs-single-head -----------


def test_mha_param_count_is_4d2_plus_4d_for_any_head_count():
    torch = pytest.importorskip("torch")
    d = 768
    counts = {h: sum(p.numel() for p in torch.nn.MultiheadAttention(d, h).parameters()) for h in (1, 12)}
    assert counts[1] == counts[12] == 4 * d * d + 4 * d
    assert counts[12] == 2_362_368


# --- attention-causal-mask-implementation --------------------------------------


def test_causal_mask_output_t_ignores_later_tokens():
    rng = np.random.default_rng(3)
    n, d = 6, 4
    x = rng.standard_normal((n, d))
    out = naive_attention(x, x, x, causal_future_mask(n))
    x2 = x.copy()
    x2[4:] = rng.standard_normal((2, d))  # change tokens 4 and 5
    out2 = naive_attention(x2, x2, x2, causal_future_mask(n))
    np.testing.assert_allclose(out[:4], out2[:4], atol=1e-12)
    assert not np.allclose(out[4:], out2[4:])


def test_zeroing_weights_after_softmax_leaks_future_tokens():
    rng = np.random.default_rng(4)
    n, d = 5, 4
    x = rng.standard_normal((n, d))

    def zero_after(x):
        w = softmax(x @ x.T / math.sqrt(d))
        w = np.where(causal_future_mask(n), 0.0, w)
        return w @ x, w

    out, w = zero_after(x)
    assert not np.allclose(w.sum(axis=1), 1.0)  # rows no longer sum to 1
    x2 = x.copy()
    x2[-1] = 3 * rng.standard_normal(d)  # change only the last token
    out2, _ = zero_after(x2)
    assert not np.allclose(out[0], out2[0])  # position 0 "saw" the future


def test_triu_diagonal_zero_masks_first_row_entirely_giving_nan():
    s = np.zeros((3, 3))
    bad = np.triu(np.ones((3, 3), dtype=bool), k=0)
    with np.errstate(invalid="ignore"):
        e = np.exp(np.where(bad, -np.inf, s) - 0.0)
        w = e / e.sum(axis=1, keepdims=True)
    assert np.isnan(w[0]).all()


# --- attention-padding-mask-nan-debug ------------------------------------------


def test_unmasked_padding_changes_real_token_outputs():
    rng = np.random.default_rng(5)
    d = 4
    real = rng.standard_normal((3, d))
    padded = np.vstack([real, np.zeros((3, d))])  # right padding with zero vectors
    alone = naive_attention(real, real, real)
    key_is_pad = np.array([False] * 3 + [True] * 3)
    masked = naive_attention(padded, padded, padded, np.broadcast_to(key_is_pad, (6, 6)))
    unmasked = naive_attention(padded, padded, padded)
    np.testing.assert_allclose(masked[:3], alone, atol=1e-12)
    assert not np.allclose(unmasked[:3], alone)


def test_left_padding_with_causal_mask_gives_fully_masked_nan_row():
    n = 4
    key_is_pad = np.array([True, True, False, False])  # two left pads
    hidden = causal_future_mask(n) | key_is_pad[None, :]
    assert hidden[0].all() and hidden[1].all()  # pad queries see nothing
    s = np.where(hidden, -np.inf, 0.0)
    with np.errstate(invalid="ignore"):
        e = np.exp(s)
        w = e / e.sum(axis=1, keepdims=True)
    assert np.isnan(w[:2]).all() and not np.isnan(w[2:]).any()


def test_nan_value_row_poisons_outputs_even_with_zero_weight():
    v = np.array([[1.0, 2.0], [np.nan, np.nan]])
    w = np.array([[1.0, 0.0]])
    assert np.isnan(w @ v).all()


def test_torch_bool_attn_mask_true_means_attend():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 1, 3, 4, generator=g) for _ in range(3))
    allowed = torch.tensor([True, True, False]).expand(3, 3)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    ref = torch.softmax(q[0, 0] @ k[0, 0, :2].T / 2.0, dim=-1) @ v[0, 0, :2]
    torch.testing.assert_close(out[0, 0], ref)


def test_torch_key_padding_mask_true_means_ignore():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    _out_masked, w = mha(x, x, x, key_padding_mask=torch.tensor([[False, False, True]]))
    assert torch.all(w[0, :, 2] == 0)  # the True key got no weight


def test_fully_masked_row_is_zero_in_sdpa_but_nan_when_weights_are_materialised():
    torch = pytest.importorskip("torch")
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    if (major, minor) < (2, 5):
        pytest.skip("SDPA returned NaN for fully masked rows before PyTorch 2.5")
    F = torch.nn.functional
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(1, 1, 3, 4, generator=g) for _ in range(3))
    allowed = torch.tensor([[False, False, False], [True, True, False], [True, True, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert torch.all(out[0, 0, 0] == 0) and torch.isfinite(out).all()
    # a hand-written softmax over the same scores gives NaN for that row
    s = (q @ k.transpose(-2, -1)).masked_fill(~allowed, float("-inf"))
    assert torch.isnan(torch.softmax(s, dim=-1)[0, 0, 0]).all()
    # nn.MultiheadAttention: NaN when it materialises the weights, zeros via SDPA otherwise
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    all_pad = torch.tensor([[True, True, True]])
    with torch.no_grad():
        with_weights, _ = mha(x, x, x, key_padding_mask=all_pad, need_weights=True)
        without, _ = mha(x, x, x, key_padding_mask=all_pad, need_weights=False)
    assert torch.isnan(with_weights).all()
    assert torch.isfinite(without).all()


# --- attention-quadratic-cost --------------------------------------------------


def test_attention_core_flops_equal_dense_layers_at_n_equal_6d():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    d = 16
    n = 6 * d
    lin = {name: torch.nn.Linear(d, d, bias=False) for name in "qkvo"}
    up, down = torch.nn.Linear(d, 4 * d, bias=False), torch.nn.Linear(4 * d, d, bias=False)
    x = torch.randn(n, d)
    with torch.no_grad(), FlopCounterMode(display=False) as dense:
        q, k, v = lin["q"](x), lin["k"](x), lin["v"](x)
        a = torch.softmax(q @ k.T / 4.0, dim=-1)
        lin["o"](a @ v)
        down(torch.relu(up(x)))
    counts = dense.get_flop_counts()["Global"]
    linear_flops = counts[torch.ops.aten.mm]  # all matmuls are 2-D here
    total = dense.get_total_flops()
    assert total == linear_flops  # only mm ops were counted
    attn_core = 2 * (2 * n * n * d)  # QK^T and AV, 2 FLOPs per multiply-add
    dense_part = 2 * (12 * n * d * d)
    assert attn_core + dense_part == total
    assert attn_core == dense_part  # crossover at n = 6d


def test_score_matrix_memory_8192_fp16_is_128_mib_and_quadruples_when_n_doubles():
    def nbytes(n):
        return np.empty((n, n), dtype=np.float16).nbytes

    assert nbytes(8192) == 128 * 2**20
    assert nbytes(8192) * 32 == 4 * 2**30  # 32 heads
    assert nbytes(2048) == 4 * nbytes(1024)


# --- attention-online-softmax-derivation / attention-flashattention-io --------


def blockwise_attention(q, k, v, block):
    out = np.zeros((q.shape[0], v.shape[1]))
    for i, qi in enumerate(q / math.sqrt(q.shape[1])):
        m, l, o = -np.inf, 0.0, np.zeros(v.shape[1])
        for start in range(0, k.shape[0], block):
            s = k[start : start + block] @ qi
            m_new = max(m, s.max())
            c = math.exp(m - m_new)
            p = np.exp(s - m_new)
            l = c * l + p.sum()
            o = c * o + p @ v[start : start + block]
            m = m_new
        out[i] = o / l
    return out


def test_online_softmax_blockwise_attention_matches_full_softmax():
    rng = np.random.default_rng(6)
    q, k, v = rng.standard_normal((7, 8)), 3 * rng.standard_normal((50, 8)), rng.standard_normal((50, 5))
    ref = naive_attention(q, k, v)
    for block in (1, 7, 16, 50):
        np.testing.assert_allclose(blockwise_attention(q, k, v, block), ref, rtol=1e-10, atol=1e-12)


def test_exp_overflow_thresholds_fp16_and_fp32():
    fp16_max = float(np.finfo(np.float16).max)
    assert fp16_max == 65504.0
    assert math.log(fp16_max) == pytest.approx(11.09, abs=0.01)
    assert math.log(float(np.finfo(np.float32).max)) == pytest.approx(88.72, abs=0.01)
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(np.float16(11.0)))
        assert np.isinf(np.exp(np.float16(11.2)))


def test_minus_1e9_is_out_of_fp16_range():
    with np.errstate(over="ignore"):
        assert np.isneginf(np.float16(-1e9))
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, dtype=torch.float16)
    with pytest.raises(RuntimeError):
        x.masked_fill(torch.tensor([True, False, False]), -1e9)
    assert x.masked_fill(torch.tensor([True, False, False]), torch.finfo(x.dtype).min)[0] == -65504


# --- attention-mqa-gqa ----------------------------------------------------------


def test_llama2_70b_gqa_kv_cache_per_token_and_per_sequence():
    layers, q_heads, kv_heads, d_head = 80, 64, 8, 128
    gqa_token = np.zeros((2, layers, kv_heads, d_head), dtype=np.float16).nbytes
    mha_token = np.zeros((2, layers, q_heads, d_head), dtype=np.float16).nbytes
    assert gqa_token == 327_680 == 320 * 2**10
    assert mha_token == 2.5 * 2**20
    assert mha_token // gqa_token == q_heads // kv_heads
    assert gqa_token * 4096 == 1.25 * 2**30
    assert mha_token * 4096 == 10 * 2**30


def test_gqa_with_one_group_per_head_equals_mha_and_mqa_shares_kv():
    rng = np.random.default_rng(7)
    h, n, dh = 4, 5, 3
    q = rng.standard_normal((h, n, dh))
    k = rng.standard_normal((h, n, dh))
    v = rng.standard_normal((h, n, dh))

    def gqa(q, k, v, g):
        rep = h // g
        kk, vv = np.repeat(k[:g], rep, axis=0), np.repeat(v[:g], rep, axis=0)
        return np.stack([naive_attention(q[i], kk[i], vv[i]) for i in range(h)])

    mha = np.stack([naive_attention(q[i], k[i], v[i]) for i in range(h)])
    np.testing.assert_allclose(gqa(q, k, v, g=h), mha)
    mqa = gqa(q, k, v, g=1)
    np.testing.assert_allclose(mqa[3], naive_attention(q[3], k[0], v[0]))


# --- attention-sparse-patterns --------------------------------------------------


def test_sliding_window_reach_grows_linearly_with_layers():
    n, w = 64, 4  # each token sees itself and the previous w tokens

    def reach(layers):
        idx = np.arange(n)
        one = ((idx[:, None] - idx[None, :]) >= 0) & ((idx[:, None] - idx[None, :]) <= w)
        r = np.eye(n, dtype=bool)
        for _ in range(layers):
            r = (one.astype(int) @ r.astype(int)) > 0
        return (n - 1) - np.argmax(r[n - 1])  # how far back the last token reaches

    assert [reach(L) for L in (1, 2, 3, 5)] == [w * L for L in (1, 2, 3, 5)]
    assert 4096 * 32 == 131_072  # Mistral 7B: about 131K tokens


# --- attention-linear-kernel-trick ----------------------------------------------


def test_linear_attention_associativity_and_causal_recurrence():
    rng = np.random.default_rng(8)
    n, d, dv = 9, 4, 3

    def phi(x):
        return np.where(x > 0, x + 1.0, np.exp(x))  # elu(x) + 1

    fq, fk = phi(rng.standard_normal((n, d))), phi(rng.standard_normal((n, d)))
    v = rng.standard_normal((n, dv))
    quadratic = (fq @ fk.T) @ v / (fq @ fk.T).sum(axis=1, keepdims=True)
    linear = fq @ (fk.T @ v) / (fq @ fk.sum(axis=0))[:, None]
    np.testing.assert_allclose(linear, quadratic)

    causal_w = np.tril(fq @ fk.T)
    causal_quadratic = causal_w @ v / causal_w.sum(axis=1, keepdims=True)
    S, z, rec = np.zeros((d, dv)), np.zeros(d), []
    for t in range(n):
        S += np.outer(fk[t], v[t])
        z += fk[t]
        rec.append(fq[t] @ S / (fq[t] @ z))
    np.testing.assert_allclose(np.array(rec), causal_quadratic)


# --- attention-mha-implementation-shapes ----------------------------------------


def test_hand_written_mha_matches_torch_and_view_without_transpose_does_not():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    B, n, d, h = 2, 5, 8, 2
    dk = d // h
    ref = torch.nn.MultiheadAttention(d, h, batch_first=True)
    x = torch.randn(B, n, d)
    W, b = ref.in_proj_weight, ref.in_proj_bias

    def mine(x, correct=True):
        q, k, v = torch.nn.functional.linear(x, W, b).chunk(3, dim=-1)
        if correct:
            split = lambda t: t.view(B, n, h, dk).transpose(1, 2)
        else:
            split = lambda t: t.reshape(B, h, n, dk)  # runs, shapes look right
        q, k, v = split(q), split(k), split(v)
        y = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dk), dim=-1) @ v
        y = y.transpose(1, 2).reshape(B, n, d)
        return ref.out_proj(y)

    with torch.no_grad():
        expected, _ = ref(x, x, x, need_weights=False)
        torch.testing.assert_close(mine(x), expected, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(mine(x, correct=False), expected, atol=1e-3)


def test_sdpa_equals_naive_formula():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 8, generator=g) for _ in range(3))
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = q @ k.transpose(-2, -1) / math.sqrt(8)
    s = s.masked_fill(torch.ones(6, 6, dtype=torch.bool).triu(1), float("-inf"))
    torch.testing.assert_close(out, torch.softmax(s, dim=-1) @ v)


# --- attention-sdpa-backends: PyTorch semantics the card states ------------------


def test_sdpa_dropout_applies_whatever_the_training_flag():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, 2, 8, 16, generator=g) for _ in range(3))
    with torch.no_grad():  # no module, no .eval(): SDPA cannot know the mode
        a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
        b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
        c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        d = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert not torch.allclose(a, b)  # dropout is live
    torch.testing.assert_close(c, d)  # and 0.0 switches it off


def test_multihead_attention_module_turns_its_dropout_off_in_eval():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(16, 2, dropout=0.5, batch_first=True).eval()
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        a, _ = mha(x, x, x, need_weights=False)
        b, _ = mha(x, x, x, need_weights=False)
    torch.testing.assert_close(a, b)


def test_sdpa_is_causal_with_fewer_queries_than_keys_is_top_left_aligned():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    g = torch.Generator().manual_seed(4)
    q = torch.randn(1, 1, 1, 8, generator=g)  # one new token
    k, v = (torch.randn(1, 1, 4, 8, generator=g) for _ in range(2))  # four cached keys
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    # top-left alignment: the single query may only see key 0, not the whole cache
    torch.testing.assert_close(out[0, 0, 0], v[0, 0, 0])
    bottom_right = F.scaled_dot_product_attention(q, k, v)  # what decoding needs here
    assert not torch.allclose(out, bottom_right)


def test_sdpa_forcing_an_unavailable_backend_raises_instead_of_falling_back():
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q = k = v = torch.randn(1, 2, 4, 8)  # CPU tensors: no memory-efficient CUDA kernel
    with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION), pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(q, k, v)


def test_sdpa_cpu_flash_kernel_accepts_fp32_and_a_boolean_mask():
    # The card's "fp32 / arbitrary mask keeps you off flash" is a CUDA statement:
    # on CPU, recent PyTorch has its own flash-style kernel that takes both.
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(1, 2, 6, 8, generator=g) for _ in range(3))
    allowed = torch.ones(6, 6, dtype=torch.bool).tril()
    with sdpa_kernel(SDPBackend.MATH):
        ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_multihead_attention_defaults_batch_first_false_and_head_averaged_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2)
    assert mha.batch_first is False
    x = torch.randn(5, 3, 8)  # (n, B, d) with the default layout
    out, w = mha(x, x, x)
    assert out.shape == (5, 3, 8)
    assert w.shape == (3, 5, 5)  # (B, n, n): one map, averaged over the 2 heads
    _, per_head = mha(x, x, x, average_attn_weights=False)
    assert per_head.shape == (3, 2, 5, 5)
    torch.testing.assert_close(per_head.mean(dim=1), w)


def test_multihead_attention_bool_attn_mask_true_means_masked_out():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    future = torch.ones(3, 3, dtype=torch.bool).triu(1)  # True above the diagonal
    _, w = mha(x, x, x, attn_mask=future)
    assert torch.all(w[0][future] == 0)


def test_multihead_attention_need_weights_true_bypasses_sdpa():
    torch = pytest.importorskip("torch")
    from torch.profiler import profile

    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2)  # train mode, default layout: no fast path
    x = torch.randn(5, 3, 8)

    def ops(**kwargs):
        with profile() as prof:
            mha(x, x, x, **kwargs)
        return {e.key for e in prof.key_averages()}

    assert "aten::scaled_dot_product_attention" not in ops(need_weights=True)
    assert "aten::scaled_dot_product_attention" in ops(need_weights=False)


# --- attention-fp16-overflow-debug: autocast op lists are per device ---------------


def test_cpu_autocast_leaves_softmax_in_low_precision():
    # The card limits "softmax runs in fp32 under autocast" to CUDA autocast;
    # CPU autocast keeps softmax in the low-precision dtype.
    torch = pytest.importorskip("torch")
    x, w = torch.randn(4, 4), torch.randn(4, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        s = x @ w
        assert s.dtype == torch.bfloat16
        assert torch.softmax(s, dim=-1).dtype == torch.bfloat16


# --- attention-flashattention-io: why the baseline is memory bound -----------------


def test_a100_needs_over_100_flops_per_byte_to_be_compute_bound():
    peak_fp16 = 312e12  # dense tensor-core FLOP/s
    for hbm in (1.555e12, 2.039e12):  # A100 40 GB and 80 GB bandwidths, bytes/s
        assert 100 < peak_fp16 / hbm < 210
    # a softmax pass over fp16 scores: a handful of FLOPs per 2-byte read and write
    flops_per_element, bytes_per_element = 5, 4
    assert flops_per_element / bytes_per_element < 2
