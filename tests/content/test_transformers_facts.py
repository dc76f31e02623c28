"""Numeric checks for the claims made in questions/transformers.yaml.

Each test recomputes a number or property independently (numpy, or torch
where the claim is about a PyTorch module) rather than restating it.
"""

import math

import numpy as np
import pytest


def sinusoidal(positions, d):
    pe = np.zeros((len(positions), d))
    i = np.arange(d // 2)
    angle = np.asarray(positions)[:, None] / 10000 ** (2 * i / d)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe


def param_count(module):
    return sum(p.numel() for p in module.parameters())


# --- transformer-block-param-count ----------------------------------------------


def test_encoder_layer_params_are_12d2_plus_13d():
    torch = pytest.importorskip("torch")
    for d in (64, 512):
        layer = torch.nn.TransformerEncoderLayer(d, 8, dim_feedforward=4 * d)
        assert param_count(layer) == 12 * d * d + 13 * d
    assert param_count(torch.nn.TransformerEncoderLayer(512, 8, 2048)) == 3_152_384


def test_gpt3_blocks_12_L_d2_within_one_percent_of_175b():
    L, d, V = 96, 12288, 50257
    blocks = 12 * L * d * d
    assert abs(blocks - 175e9) / 175e9 < 0.01
    assert blocks / 1e9 == pytest.approx(174, abs=0.5)
    assert (blocks + V * d) / 1e9 == pytest.approx(174.6, abs=0.1)


# --- transformer-gpt2-param-count -----------------------------------------------


def test_gpt2_small_param_count_with_tied_head():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    V, n_ctx, d, L = 50257, 1024, 768, 12

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.up, self.down = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(n_ctx, d)
            self.layers = nn.ModuleList(Layer() for _ in range(L))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, V, bias=False)
            self.head.weight = self.wte.weight  # tied

    model = GPT2()
    assert param_count(Layer()) == 7_087_872
    assert param_count(model) == 124_439_808  # parameters() deduplicates the tied matrix
    untied = param_count(model) + V * d
    assert untied / 1e6 == pytest.approx(163.0, abs=0.1)
    assert V * d / param_count(model) == pytest.approx(0.31, abs=0.01)
    exact_blocks = L * param_count(Layer())
    assert abs(12 * L * d * d - exact_blocks) / exact_blocks < 0.002


# --- transformer-sinusoidal-encoding ---------------------------------------------


def test_sinusoidal_shift_is_a_rotation_independent_of_position():
    d, k = 16, 7
    w = 1 / 10000 ** (2 * np.arange(d // 2) / d)
    M = np.zeros((d, d))
    for i, wi in enumerate(w):
        c, s = math.cos(k * wi), math.sin(k * wi)
        # [sin(a + b), cos(a + b)] = [[cos b, sin b], [-sin b, cos b]] @ [sin a, cos a]
        M[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, s], [-s, c]]
    positions = np.array([0, 3, 50, 999])
    np.testing.assert_allclose(sinusoidal(positions + k, d), sinusoidal(positions, d) @ M.T, atol=1e-12)


def test_sinusoidal_frequencies_for_d_512():
    d = 512
    w = 1 / 10000 ** (2 * np.arange(d // 2) / d)
    assert w[0] == 1.0
    assert w[-1] == pytest.approx(1.04e-4, rel=0.01)
    # longest wavelength approaches 10000 * 2 * pi
    assert 2 * math.pi / w[-1] == pytest.approx(10000 * 2 * math.pi, rel=0.05)


# --- transformer-rope -------------------------------------------------------------


def rope(x, m, base=10000.0):
    d = x.shape[-1]
    theta = base ** (-2 * np.arange(d // 2) / d)
    c, s = np.cos(m * theta), np.sin(m * theta)
    out = np.empty_like(x)
    out[0::2] = x[0::2] * c - x[1::2] * s
    out[1::2] = x[0::2] * s + x[1::2] * c
    return out


def test_rope_score_depends_only_on_offset_and_preserves_norm():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(64), rng.standard_normal(64)
    scores = [rope(q, m) @ rope(k, m + 5) for m in (0, 1, 17, 400, 3000)]
    np.testing.assert_allclose(scores, scores[0], rtol=1e-9)
    assert rope(q, 0) @ rope(k, 5) != pytest.approx(rope(q, 0) @ rope(k, 6))
    assert np.linalg.norm(rope(q, 123)) == pytest.approx(np.linalg.norm(q))


# --- transformer-why-positional-information --------------------------------------


def test_encoder_layer_is_permutation_equivariant_without_positions():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    d, n = 16, 7
    layer = torch.nn.TransformerEncoderLayer(d, 2, 32, batch_first=True).eval()
    x = torch.randn(1, n, d)
    perm = torch.randperm(n)
    with torch.no_grad():
        out, out_perm = layer(x), layer(x[:, perm])
        torch.testing.assert_close(out_perm, out[:, perm], atol=1e-5, rtol=1e-5)
        # mean pooling cannot tell the two orders apart
        torch.testing.assert_close(out_perm.mean(1), out.mean(1), atol=1e-5, rtol=1e-5)

        pe = torch.tensor(sinusoidal(range(n), d), dtype=torch.float32)[None]
        with_pe, with_pe_perm = layer(x + pe), layer(x[:, perm] + pe)
        assert not torch.allclose(with_pe_perm, with_pe[:, perm], atol=1e-3)

        mask = torch.nn.Transformer.generate_square_subsequent_mask(n)
        causal, causal_perm = layer(x, src_mask=mask), layer(x[:, perm], src_mask=mask)
        assert not torch.allclose(causal_perm, causal[:, perm], atol=1e-3)


# --- transformer-ffn-role-and-swiglu ----------------------------------------------


def test_swiglu_with_8d_over_3_hidden_matches_standard_ffn_params():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    d = 768
    standard = nn.Sequential(nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False))
    h = 8 * d // 3
    swiglu = nn.ModuleList([nn.Linear(d, h, bias=False), nn.Linear(d, h, bias=False), nn.Linear(h, d, bias=False)])
    assert param_count(standard) == param_count(swiglu) == 8 * d * d
    # LLaMA-7B: 8d/3 for d = 4096 rounded up to a multiple of 256
    assert 256 * math.ceil((8 * 4096 / 3) / 256) == 11008


def test_ffn_holds_two_thirds_of_a_block():
    torch = pytest.importorskip("torch")
    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024)
    ffn = param_count(layer.linear1) + param_count(layer.linear2)
    attn = param_count(layer.self_attn)
    assert ffn / (ffn + attn) == pytest.approx(2 / 3, abs=0.01)


# --- transformer-residual-stream ----------------------------------------------------


def test_residual_stream_variance_grows_with_depth_unless_branches_are_scaled():
    rng = np.random.default_rng(1)
    samples, updates = 20_000, 96
    x0 = rng.standard_normal(samples)
    adds = rng.standard_normal((updates, samples))
    plain = x0 + adds.sum(axis=0)
    scaled = x0 + adds.sum(axis=0) / math.sqrt(updates)
    assert plain.var() == pytest.approx(1 + updates, rel=0.05)
    assert plain.std() == pytest.approx(9.8, abs=0.3)
    assert scaled.var() == pytest.approx(2.0, rel=0.05)


# --- transformer-kv-cache-mechanism -------------------------------------------------


def test_incremental_decoding_with_kv_cache_matches_full_recompute():
    rng = np.random.default_rng(2)
    n, d = 10, 8
    Wq, Wk, Wv = (rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(3))
    x = rng.standard_normal((n, d))

    def softmax(s):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    q, k, v = x @ Wq, x @ Wk, x @ Wv
    s = q @ k.T / math.sqrt(d)
    s[np.triu(np.ones((n, n), dtype=bool), 1)] = -np.inf
    full = softmax(s) @ v

    K_cache, V_cache, steps, proj_macs_cached = [], [], [], 0
    for t in range(n):
        xt = x[t]
        K_cache.append(xt @ Wk)
        V_cache.append(xt @ Wv)
        qt = xt @ Wq
        proj_macs_cached += 3 * d * d
        w = softmax(np.array(K_cache) @ qt / math.sqrt(d))
        steps.append(w @ np.array(V_cache))
    np.testing.assert_allclose(np.array(steps), full, atol=1e-12)
    # without a cache, step t re-projects all t + 1 tokens
    proj_macs_uncached = sum(3 * d * d * (t + 1) for t in range(n))
    assert proj_macs_uncached / proj_macs_cached == (n + 1) / 2


# --- transformer-kv-cache-memory-sizing ---------------------------------------------


def test_llama2_7b_kv_cache_is_512_kib_per_token_and_2_gib_at_4k():
    layers, kv_heads, d_head = 32, 32, 128
    per_token = np.zeros((2, layers, kv_heads, d_head), dtype=np.float16).nbytes
    assert per_token == 512 * 2**10
    assert per_token * 4096 == 2 * 2**30
    assert per_token * 4096 * 16 == 32 * 2**30
    # weights: 32 blocks of (4 d^2 attention + 3 d * 11008 SwiGLU + 2 d norms) + 2 V d + d
    d, ff, V = 4096, 11008, 32000
    n_params = 32 * (4 * d * d + 3 * d * ff + 2 * d) + 2 * V * d + d
    assert n_params / 1e9 == pytest.approx(6.74, abs=0.01)
    assert n_params * 2 / 1e9 == pytest.approx(13.5, abs=0.1)


def test_seven_b_weights_and_adam_training_memory():
    n = 7e9
    assert n * 2 / 1e9 == 14  # bf16 weights, GB
    assert n * 2 / 2**30 == pytest.approx(13.0, abs=0.1)
    bytes_per_param = 2 + 2 + 4 + 4 + 4  # bf16 weight + grad, fp32 master + Adam m, v
    assert n * bytes_per_param / 1e9 == 112


# --- transformer-flops-per-token -----------------------------------------------------


def test_linear_layer_costs_2_flops_per_param_forward_and_4_backward():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    tokens, d_in, d_out = 32, 64, 128
    lin = torch.nn.Linear(d_in, d_out, bias=False)
    x = torch.randn(tokens, d_in, requires_grad=True)
    with FlopCounterMode(display=False) as fwd:
        y = lin(x)
    with FlopCounterMode(display=False) as bwd:
        y.sum().backward()
    n_params = d_in * d_out
    assert fwd.get_total_flops() == 2 * n_params * tokens
    assert bwd.get_total_flops() == 4 * n_params * tokens


def test_gpt3_training_compute_and_wall_clock():
    C = 6 * 175e9 * 300e9
    assert C == pytest.approx(3.15e23)
    seconds = C / (1000 * 312e12 * 0.4)
    assert seconds == pytest.approx(2.5e6, rel=0.02)
    assert seconds / 86400 == pytest.approx(29, abs=0.5)


def test_llama_7b_tokens_per_parameter():
    assert 1e12 / 6.7e9 == pytest.approx(150, abs=10)


# --- transformer-vit-patch-embedding ------------------------------------------------


def test_vit_b16_tokens_and_patch_embedding_params():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(3, 768, kernel_size=16, stride=16)
    tokens = conv(torch.zeros(1, 3, 224, 224)).flatten(2).transpose(1, 2)
    assert tokens.shape == (1, 196, 768)
    assert param_count(conv) == 590_592
    p8 = torch.nn.Conv2d(3, 768, kernel_size=8, stride=8)(torch.zeros(1, 3, 224, 224))
    n8 = p8.shape[-1] * p8.shape[-2]
    assert n8 == 4 * 196 and n8**2 == 16 * 196**2
    p384 = conv(torch.zeros(1, 3, 384, 384))
    assert p384.shape[-2:] == (24, 24)


def test_patch_conv_equals_linear_projection_of_flattened_patches():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, kernel_size=4, stride=4)
    img = torch.randn(1, 3, 8, 8)
    patches = img.unfold(2, 4, 4).unfold(3, 4, 4)  # (1, 3, 2, 2, 4, 4)
    flat = patches.permute(0, 2, 3, 1, 4, 5).reshape(1, 4, 3 * 16)
    linear = flat @ conv.weight.reshape(8, -1).T + conv.bias
    torch.testing.assert_close(conv(img).flatten(2).transpose(1, 2), linear)


# --- transformer-implement-prenorm-block --------------------------------------------


def test_prenorm_block_from_card_is_causal_and_has_12d2_plus_13d_params():
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, d, h, p=0.1):
            super().__init__()
            self.h, self.p = h, p
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
            self.drop = nn.Dropout(p)

        def attn(self, x):
            B, n, d = x.shape
            q, k, v = self.qkv(x).view(B, n, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.p if self.training else 0.0)
            return self.proj(y.transpose(1, 2).reshape(B, n, d))

        def forward(self, x):
            x = x + self.drop(self.attn(self.ln1(x)))
            x = x + self.drop(self.ffn(self.ln2(x)))
            return x

    torch.manual_seed(0)
    d = 32
    block = Block(d, 4).eval()
    assert param_count(block) == 12 * d * d + 13 * d
    x = torch.randn(2, 6, d)
    x2 = x.clone()
    x2[:, 4:] = torch.randn(2, 2, d)
    with torch.no_grad():
        y, y2 = block(x), block(x2)
    assert y.shape == x.shape
    torch.testing.assert_close(y[:, :4], y2[:, :4])
    assert not torch.allclose(y[:, 4:], y2[:, 4:])
    # eval mode is deterministic (dropout off, including inside SDPA)
    with torch.no_grad():
        torch.testing.assert_close(block(x), y)


# --- transformer-block-walkthrough -------------------------------------------------


def test_original_base_transformer_is_about_65m_parameters():
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nested-tensor notice, irrelevant here
        model = torch.nn.Transformer(
            d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048
        )
    shared_vocab = 37_000  # shared source/target BPE vocabulary for WMT En-De
    total = param_count(model) + shared_vocab * 512  # one table tied to both embeddings and the output
    assert total == pytest.approx(65e6, rel=0.05)


# --- transformer-layernorm-not-batchnorm -------------------------------------------


def test_batchnorm1d_on_b_t_d_treats_t_as_channels():
    torch = pytest.importorskip("torch")
    B, T, d = 2, 5, 16
    bn = torch.nn.BatchNorm1d(d)
    with pytest.raises(RuntimeError):
        bn(torch.randn(B, T, d))  # T != d: shape error
    # T == d: runs silently, normalising each *position* over batch and features
    x = torch.randn(4, d, d) * torch.arange(1, d + 1).view(1, d, 1)
    y = bn(x)
    per_position = y.transpose(0, 1).reshape(d, -1)
    torch.testing.assert_close(per_position.mean(dim=1), torch.zeros(d), atol=1e-5, rtol=0)


def test_batchnorm_cannot_normalise_one_token_in_train_mode():
    torch = pytest.importorskip("torch")
    bn = torch.nn.BatchNorm1d(16)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(torch.randn(1, 16))  # one sequence decoding one token, flattened to (B*T, d)
    bn.eval()
    assert bn(torch.randn(1, 16)).shape == (1, 16)  # eval mode runs, on running statistics


def test_batchnorm_statistics_leak_later_positions_into_earlier_ones():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    B, T, d = 3, 6, 8
    bn = torch.nn.BatchNorm1d(d)
    x = torch.randn(B, T, d)
    y1 = bn(x.reshape(B * T, d)).reshape(B, T, d)
    x2 = x.clone()
    x2[:, -1] += 5.0  # change only the last token of every sequence
    y2 = bn(x2.reshape(B * T, d)).reshape(B, T, d)
    assert not torch.allclose(y1[:, :-1], y2[:, :-1])  # earlier positions moved
    ln = torch.nn.LayerNorm(d)
    torch.testing.assert_close(ln(x)[:, :-1], ln(x2)[:, :-1])  # LayerNorm: no leak


# --- transformer-pre-norm-vs-post-norm / transformer-loss-spike-debug ---------------


def test_depth_scaled_init_factor_for_48_layers():
    assert 1 / math.sqrt(2 * 48) == pytest.approx(0.102, abs=1e-3)


def test_adam_second_moment_memory_is_about_one_over_one_minus_beta2():
    for beta2, horizon in [(0.999, 1000), (0.95, 20)]:
        weights = (1 - beta2) * beta2 ** np.arange(100_000)
        # the EMA's weights sum to 1 and their mean age is beta2 / (1 - beta2)
        assert weights.sum() == pytest.approx(1.0, abs=1e-6)
        mean_age = (weights * np.arange(100_000)).sum()
        assert mean_age == pytest.approx(horizon, rel=0.06)


# --- transformer-context-length-extension -------------------------------------------


def test_eight_times_the_context_is_64x_score_flops_and_8x_kv_cache():
    n0, n1, d, layers = 4096, 32768, 4096, 32
    assert (n1**2 * d) / (n0**2 * d) == 64

    def kv_bytes(n):  # fp16 cache, full MHA
        return 2 * layers * d * 2 * n

    assert kv_bytes(n1) / kv_bytes(n0) == 8
