"""Numeric checks for the claims made in questions/rnns.yaml.

Every test recomputes a number or a formula from the cards independently
(numpy, or torch where the claim is about PyTorch's behaviour).
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


def _jacobian(f, x):
    return torch.autograd.functional.jacobian(f, x)


# rnn-bptt-jacobian-product: one-step Jacobian is diag(1 - h_t^2) W_hh.
def test_tanh_rnn_one_step_jacobian_is_diag_tanh_derivative_times_w():
    torch.manual_seed(0)
    H, I = 6, 4
    W_hh = torch.randn(H, H, dtype=torch.float64) * 0.5
    W_xh = torch.randn(H, I, dtype=torch.float64)
    x = torch.randn(I, dtype=torch.float64)
    h_prev = torch.randn(H, dtype=torch.float64)

    def step(h):
        return torch.tanh(W_hh @ h + W_xh @ x)

    J = _jacobian(step, h_prev)
    h_t = step(h_prev)
    expected = torch.diag(1 - h_t**2) @ W_hh
    assert torch.allclose(J, expected, atol=1e-12)


# rnn-bptt-jacobian-product / rnn-jacobian-product demo: 0.9^50 ~ 0.005, 1.1^50 ~ 117.
@pytest.mark.parametrize("radius, expected", [(0.9, 0.005), (1.0, 1.0), (1.1, 117.0)])
def test_linear_rnn_gradient_over_50_steps_scales_as_radius_power(radius, expected):
    torch.manual_seed(1)
    H = 16
    Q, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))
    W = radius * Q  # all singular values equal to `radius`
    h0 = torch.randn(H, dtype=torch.float64, requires_grad=True)
    h = h0
    for _ in range(50):
        h = W @ h
    v = torch.randn(H, dtype=torch.float64)
    (g,) = torch.autograd.grad(h @ v, h0)
    ratio = g.norm().item() / v.norm().item()
    assert ratio == pytest.approx(radius**50, rel=1e-9)
    assert ratio == pytest.approx(expected, rel=0.05)


# rnn-bptt-memory-cost: the shared-weight gradient is the sum of per-step terms.
def test_bptt_weight_gradient_is_sum_of_per_step_contributions():
    rng = np.random.default_rng(2)
    H, I, T = 5, 3, 7
    W_hh = rng.standard_normal((H, H)) * 0.4
    W_xh = rng.standard_normal((H, I))
    xs = rng.standard_normal((T, I))
    target = rng.standard_normal(H)

    # manual forward + BPTT in numpy, loss = 0.5 * ||h_T - target||^2
    hs = [np.zeros(H)]
    for t in range(T):
        hs.append(np.tanh(W_hh @ hs[-1] + W_xh @ xs[t]))
    dh = hs[-1] - target
    grad = np.zeros_like(W_hh)
    for t in range(T, 0, -1):
        da = dh * (1 - hs[t] ** 2)
        grad += np.outer(da, hs[t - 1])  # contribution of step t
        dh = W_hh.T @ da

    Wt = torch.tensor(W_hh, requires_grad=True)
    h = torch.zeros(H, dtype=torch.float64)
    for t in range(T):
        h = torch.tanh(Wt @ h + torch.tensor(W_xh) @ torch.tensor(xs[t]))
    loss = 0.5 * ((h - torch.tensor(target)) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(Wt.grad.numpy(), grad, rtol=1e-10, atol=1e-12)


# lstm-additive-cell-gradient: dc_T/dc_0 = prod f_t along the cell path;
# 0.99^100 ~ 0.37, 0.5^100 ~ 8e-31; lstm-forget-gate-bias-init: 0.5^20 ~ 1e-6.
def test_lstm_cell_path_gradient_is_product_of_forget_gates():
    torch.manual_seed(3)
    H, T = 4, 30
    cell = nn.LSTMCell(3, H).double()
    with torch.no_grad():
        cell.weight_hh.zero_()  # gates no longer depend on h, isolating the cell path
        cell.weight_ih.zero_()
        cell.bias_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_ih[H : 2 * H] = torch.tensor([0.0, 1.0, 2.0, 4.6], dtype=torch.float64)
    f = torch.sigmoid(cell.bias_ih[H : 2 * H]).detach()
    c0 = torch.randn(1, H, dtype=torch.float64)
    x = torch.randn(T, 1, 3, dtype=torch.float64)
    J = _jacobian(lambda c_init: _run_cell(cell, x, c_init), c0).reshape(H, H)
    assert torch.allclose(torch.diag(J), f**T, rtol=1e-10)
    assert torch.allclose(J - torch.diag(torch.diag(J)), torch.zeros(H, H, dtype=torch.float64))
    assert pytest.approx(0.366, abs=1e-3) == 0.99**100
    assert pytest.approx(7.9e-31, rel=0.01) == 0.5**100
    assert pytest.approx(9.5e-7, rel=0.01) == 0.5**20


def _run_cell(cell, x, c_init):
    h = torch.zeros_like(c_init)
    c = c_init
    for t in range(x.shape[0]):
        h, c = cell(x[t], (h, c))
    return c


# lstm-forget-gate-bias-init: default init puts f near sigmoid(0) = 0.5; bias 1 -> 0.73.
def test_pytorch_lstm_default_forget_gate_starts_near_half_and_fix_gives_sigmoid_one():
    torch.manual_seed(4)
    H = 256
    lstm = nn.LSTM(32, H)
    bound = 1 / math.sqrt(H)
    for name, p in lstm.named_parameters():
        assert p.abs().max().item() <= bound + 1e-7, name
    f_pre = lstm.bias_ih_l0[H : 2 * H] + lstm.bias_hh_l0[H : 2 * H]
    f_zero_input = torch.sigmoid(f_pre)  # zero input and zero state
    assert abs(f_zero_input.mean().item() - 0.5) < 0.01
    for name, p in lstm.named_parameters():
        if "bias" in name:
            with torch.no_grad():
                p[H : 2 * H].fill_(0.5)
    f_fixed = torch.sigmoid(lstm.bias_ih_l0[H : 2 * H] + lstm.bias_hh_l0[H : 2 * H])
    assert torch.allclose(f_fixed, torch.full((H,), 1 / (1 + math.exp(-1))))
    assert f_fixed[0].item() == pytest.approx(0.731, abs=1e-3)


# lstm-gru-parameter-count: 395,264 / 296,448 / 98,816; stacked bidirectional 2,367,488.
def test_lstm_gru_rnn_parameter_counts():
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(nn.LSTM(128, 256)) == 395_264
    assert count(nn.GRU(128, 256)) == 296_448
    assert count(nn.RNN(128, 256)) == 98_816
    assert count(nn.GRU(128, 256)) * 4 == count(nn.LSTM(128, 256)) * 3
    assert count(nn.LSTM(128, 256, num_layers=2, bidirectional=True)) == 2_367_488


# gru-cell-implementation: the manual step matches nn.GRUCell.
def test_manual_gru_step_matches_pytorch_gru_cell():
    torch.manual_seed(5)
    cell = nn.GRUCell(7, 5).double()
    x = torch.randn(3, 7, dtype=torch.float64)
    h = torch.randn(3, 5, dtype=torch.float64)

    def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
        gi = x @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h

    ours = gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    assert torch.allclose(ours, cell(x, h), atol=1e-12)

    # the reset-before-matmul variant (Cho et al. 2014 form) gives different outputs
    w_ih, w_hh, b_ih, b_hh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    gi = x @ w_ih.T + b_ih
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    W_hr, W_hz, W_hn = w_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(i_r + h @ W_hr.T + b_hr)
    z = torch.sigmoid(i_z + h @ W_hz.T + b_hz)
    n = torch.tanh(i_n + (r * h) @ W_hn.T + b_hn)
    variant = (1 - z) * n + z * h
    assert not torch.allclose(variant, ours, atol=1e-6)


# lstm-pytorch-output-shapes: output (8, 50, 128), h_n/c_n (4, 8, 64); where each final state lives.
def test_bidirectional_lstm_shapes_and_final_state_positions():
    torch.manual_seed(6)
    lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True, bidirectional=True)
    x = torch.randn(8, 50, 32)
    out, (h_n, c_n) = lstm(x)
    assert out.shape == (8, 50, 128)
    assert h_n.shape == (4, 8, 64) and c_n.shape == (4, 8, 64)
    top_fwd, top_bwd = h_n.view(2, 2, 8, 64)[-1]
    assert torch.allclose(top_fwd, h_n[-2]) and torch.allclose(top_bwd, h_n[-1])
    assert torch.allclose(out[:, -1, :64], top_fwd, atol=1e-6)
    assert torch.allclose(out[:, 0, 64:], top_bwd, atol=1e-6)
    assert not torch.allclose(out[:, -1, 64:], top_bwd, atol=1e-3)
    assert torch.cat([h_n[-2], h_n[-1]], dim=-1).shape == (8, 128)


# rnn-packed-padded-sequences: packing makes h_n the state at each sequence's own last step.
def test_packed_sequence_final_state_ignores_padding():
    torch.manual_seed(7)
    lstm = nn.LSTM(4, 6, batch_first=True)
    long_seq = torch.randn(10, 4)
    short_seq = torch.randn(3, 4)
    batch = torch.zeros(2, 10, 4)
    batch[0] = long_seq
    batch[1, :3] = short_seq
    lengths = torch.tensor([10, 3])

    _, (h_alone, _) = lstm(short_seq.unsqueeze(0))
    packed = nn.utils.rnn.pack_padded_sequence(batch, lengths, batch_first=True, enforce_sorted=False)
    _, (h_packed, _) = lstm(packed)
    _, (h_padded, _) = lstm(batch)

    assert torch.allclose(h_packed[0, 1], h_alone[0, 0], atol=1e-6)
    assert not torch.allclose(h_padded[0, 1], h_alone[0, 0], atol=1e-3)


# rnn-truncated-bptt / rnn-hidden-state-detach-bug: detach stops the gradient at the boundary,
# but the carried state still changes the forward output.
def test_detached_state_blocks_gradient_but_keeps_information():
    torch.manual_seed(8)
    lstm = nn.LSTM(3, 5)
    chunk1 = torch.randn(4, 1, 3, requires_grad=True)
    chunk2 = torch.randn(4, 1, 3)

    _, state = lstm(chunk1)
    out_attached, _ = lstm(chunk2, state)
    (g,) = torch.autograd.grad(out_attached.sum(), chunk1)
    assert g.abs().sum() > 0

    detached = tuple(s.detach() for s in state)
    out_detached, _ = lstm(chunk2, detached)
    assert out_detached.sum().grad_fn is not None
    assert all(s.grad_fn is None for s in detached)
    out_reset, _ = lstm(chunk2)  # zero initial state
    assert torch.allclose(out_detached, out_attached)
    assert not torch.allclose(out_detached, out_reset, atol=1e-4)


# lstm-vs-transformer-streaming-latency: a 2-layer H=512 fp16 LSTM state is 4 KiB,
# independent of stream length; a 12-layer d=768 fp16 KV cache is 36 KiB per token.
def test_lstm_state_size_is_constant_and_kv_cache_grows_per_token():
    lstm = nn.LSTM(16, 512, num_layers=2)
    sizes = []
    for T in (5, 200):
        with torch.no_grad():
            _, (h, c) = lstm(torch.randn(T, 1, 16))
        sizes.append(h.half().nbytes + c.half().nbytes)
    assert sizes[0] == sizes[1] == 4096

    n_layers, d = 12, 768
    k_cache = torch.zeros(n_layers, 1, d, dtype=torch.float16)  # one token, all layers
    v_cache = torch.zeros_like(k_cache)
    per_token = k_cache.nbytes + v_cache.nbytes
    assert per_token == 36 * 1024
    assert per_token * 4096 == pytest.approx(151e6, rel=0.01)


# rnn-clipping-fixes-exploding-not-vanishing: norm clipping keeps the direction and
# rescaling cannot change the ratio between gradient components.
def test_clip_grad_norm_preserves_direction_and_component_ratios():
    p = nn.Parameter(torch.zeros(3, dtype=torch.float64))
    g = torch.tensor([1e4, 1e-2, 3.0], dtype=torch.float64)
    p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(g.norm().item())
    assert p.grad.norm().item() == pytest.approx(1.0, rel=1e-6)
    cos = torch.dot(p.grad, g) / (p.grad.norm() * g.norm())
    assert cos.item() == pytest.approx(1.0, abs=1e-12)
    assert (p.grad[1] / p.grad[0]).item() == pytest.approx((g[1] / g[0]).item())

    value_clipped = g.clamp(-1.0, 1.0)
    cos_value = torch.dot(value_clipped, g) / (value_clipped.norm() * g.norm())
    assert cos_value.item() < 0.9  # value clipping changes the direction


# rnn-orthogonal-identity-init: orthogonal W keeps all singular values of W^50 at 1,
# a Gaussian W with variance 1/H spreads them over many orders of magnitude.
def test_orthogonal_vs_gaussian_recurrent_matrix_over_50_steps():
    H = 128
    largest = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        G = rng.standard_normal((H, H)) / np.sqrt(H)
        s_G = np.linalg.svd(G, compute_uv=False)
        assert s_G.max() == pytest.approx(2.0, abs=0.15)
        assert s_G.min() < 0.1
        s_G50 = np.linalg.svd(np.linalg.matrix_power(G, 50), compute_uv=False)
        assert s_G50.max() > 1 and s_G50.min() < 1e-15
        assert s_G50.max() / s_G50.min() > 1e15
        largest.append(s_G50.max())
        Q, _ = np.linalg.qr(rng.standard_normal((H, H)))
        s_Q50 = np.linalg.svd(np.linalg.matrix_power(Q, 50), compute_uv=False)
        np.testing.assert_allclose(s_Q50, 1.0, atol=1e-9)
    assert max(largest) > 10  # in some draws whole directions blow up

    lstm = nn.LSTM(4, 8)
    for block in lstm.weight_hh_l0.data.chunk(4, 0):
        nn.init.orthogonal_(block)
    for block in lstm.weight_hh_l0.detach().chunk(4, 0):
        assert torch.allclose(block @ block.T, torch.eye(8), atol=1e-5)


# rnn-bptt-jacobian-product: ||dL_T/dh_k|| <= ||dL_T/dh_T|| * sigma_max(W_hh)^(T-k) for a tanh RNN.
def test_tanh_rnn_gradient_norm_is_bounded_by_sigma_max_power():
    torch.manual_seed(12)
    H, T = 16, 30
    W = torch.randn(H, H, dtype=torch.float64) / H**0.5 * 1.3
    sigma_max = torch.linalg.matrix_norm(W, ord=2).item()
    xs = torch.randn(T, H, dtype=torch.float64)
    hs = [torch.zeros(H, dtype=torch.float64, requires_grad=True)]
    for t in range(T):
        h = torch.tanh(W @ hs[-1] + xs[t])
        h.retain_grad()
        hs.append(h)
    readout = torch.randn(H, dtype=torch.float64)
    (hs[-1] @ readout).backward()
    g_T = hs[-1].grad.norm().item()
    for k in range(1, T):
        assert hs[k].grad.norm().item() <= g_T * sigma_max ** (T - k) * (1 + 1e-9)


# rnn-hidden-state-detach-bug: without detach the second backward fails; retain_graph=True
# swaps that for the in-place version-counter error once optimizer.step() has run; detach fixes it.
def _lm_steps(mode, steps=3):
    torch.manual_seed(13)
    lstm, head = nn.LSTM(8, 16), nn.Linear(16, 8)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.1)
    state = None
    for _ in range(steps):
        out, state = lstm(torch.randn(5, 3, 8), state)
        loss = head(out).pow(2).mean()
        opt.zero_grad()
        loss.backward(retain_graph=(mode == "retain"))
        opt.step()
        if mode == "detach":
            state = tuple(s.detach() for s in state)
    return state


def test_carried_state_errors_without_detach_and_retain_graph_does_not_help():
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _lm_steps("plain")
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _lm_steps("retain")
    state = _lm_steps("detach")
    assert all(s.grad_fn is None for s in state)


# rnn-bptt-memory-cost: 64 x 1024 fp32 is 256 KiB per tensor per step; ~6 tensors x 1,000 steps ~ 1.5 GiB.
def test_bptt_activation_memory_order_of_magnitude():
    per_tensor = torch.empty(64, 1024, dtype=torch.float32).nbytes
    assert per_tensor == 256 * 1024
    total_gib = 6 * per_tensor * 1000 / 2**30
    assert total_gib == pytest.approx(1.5, rel=0.03)


# lstm-gate-equations: PyTorch packs the LSTM gates as (i, f, g, o) in weight_ih / weight_hh,
# and the cell equations written on the card reproduce nn.LSTMCell.
def test_lstm_gate_order_and_equations_match_lstm_cell():
    torch.manual_seed(20)
    cell = nn.LSTMCell(5, 4).double()
    assert cell.weight_ih.shape == (16, 5) and cell.weight_hh.shape == (16, 4)
    x = torch.randn(3, 5, dtype=torch.float64)
    h = torch.randn(3, 4, dtype=torch.float64)
    c = torch.randn(3, 4, dtype=torch.float64)
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = pre.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    h_ref, c_ref = cell(x, (h, c))
    assert torch.allclose(c_new, c_ref, atol=1e-12) and torch.allclose(h_new, h_ref, atol=1e-12)
    # reading the blocks as (i, g, f, o) instead gives a different cell
    i2, g2, f2, _o2 = pre.chunk(4, dim=1)
    wrong = torch.sigmoid(f2) * c + torch.sigmoid(i2) * torch.tanh(g2)
    assert not torch.allclose(wrong, c_ref, atol=1e-6)


# lstm-gru-parameter-count: the LSTM's two bias vectors act as one; in the GRU b_hn is not
# redundant because it sits inside r * (W_hn h + b_hn).
def test_lstm_double_bias_is_redundant_but_gru_b_hn_is_not():
    torch.manual_seed(21)
    x = torch.randn(6, 2, 3, dtype=torch.float64)

    lstm = nn.LSTM(3, 4).double()
    out_ref, _ = lstm(x)
    with torch.no_grad():
        shift = torch.randn(16, dtype=torch.float64)
        lstm.bias_ih_l0 += shift
        lstm.bias_hh_l0 -= shift
    assert torch.allclose(lstm(x)[0], out_ref, atol=1e-12)

    gru = nn.GRU(3, 4).double()
    out_ref, _ = gru(x)
    H = 4
    with torch.no_grad():
        shift = torch.randn(3 * H, dtype=torch.float64)
        rz = slice(0, 2 * H)
        gru.bias_ih_l0[rz] += shift[rz]
        gru.bias_hh_l0[rz] -= shift[rz]
    assert torch.allclose(gru(x)[0], out_ref, atol=1e-12)  # r and z halves: redundant
    with torch.no_grad():
        n = slice(2 * H, 3 * H)
        gru.bias_ih_l0[n] += shift[n]
        gru.bias_hh_l0[n] -= shift[n]
    assert not torch.allclose(gru(x)[0], out_ref, atol=1e-4)  # n half: not redundant


# lstm-pytorch-output-shapes: with proj_size > 0, output and h_n use proj_size, c_n keeps H.
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_lstm_proj_size_shapes():
    lstm = nn.LSTM(10, 20, num_layers=2, proj_size=5, batch_first=True)
    out, (h_n, c_n) = lstm(torch.randn(3, 7, 10))
    assert out.shape == (3, 7, 5)
    assert h_n.shape == (2, 3, 5) and c_n.shape == (2, 3, 20)


# rnn-dropout-placement: nn.LSTM(dropout=p) acts between layers only; with one layer it warns
# and does nothing, so train-mode output equals eval-mode output.
def test_lstm_dropout_argument_is_between_layers_only():
    torch.manual_seed(22)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        single = nn.LSTM(4, 8, num_layers=1, dropout=0.5)
    x = torch.randn(5, 2, 4)
    single.train()
    out_train, _ = single(x)
    single.eval()
    out_eval, _ = single(x)
    assert torch.allclose(out_train, out_eval)
    stacked = nn.LSTM(4, 8, num_layers=2, dropout=0.5).train()
    a, _ = stacked(x)
    b, _ = stacked(x)
    assert not torch.allclose(a, b)  # dropout between the two layers is active


# rnn-packed-padded-sequences: pad_packed_sequence returns zeros at padded positions.
def test_pad_packed_sequence_zeros_padded_positions():
    torch.manual_seed(23)
    lstm = nn.LSTM(4, 6, batch_first=True)
    batch = torch.randn(2, 5, 4)
    packed = nn.utils.rnn.pack_padded_sequence(batch, torch.tensor([5, 2]), batch_first=True, enforce_sorted=False)
    out, lengths = nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=True)
    assert lengths.tolist() == [5, 2]
    assert torch.equal(out[1, 2:], torch.zeros(3, 6))
    assert out[1, :2].abs().sum() > 0


# rnn-loss-nan-exploding-debug: Adam keeps a gradient spike's step to a few learning rates
# (healthy norms ~0.5, one spike of 1e4), where plain SGD would step thousands of times further.
def test_adam_step_on_gradient_spike_is_a_few_learning_rates():
    p = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    lr = 1e-3
    opt = torch.optim.Adam([p], lr=lr)
    for _ in range(1999):
        p.grad = torch.full_like(p, 0.5)
        opt.step()
    before = p.detach().clone()
    p.grad = torch.full_like(p, 1e4)
    opt.step()
    step = (before - p.detach()).abs().item()
    assert 2 * lr < step < 4 * lr
    assert 1e4 * lr / step > 1000  # SGD with the same lr would move thousands of times further
