"""Numeric checks for the claims made in questions/backprop.yaml.

Every test recomputes a gradient, shape, cost or behaviour quoted in a card.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- by hand


def _two_layer_loss_and_grads(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2 + b2
    Z2s = Z2 - Z2.max(1, keepdims=True)
    P = np.exp(Z2s) / np.exp(Z2s).sum(1, keepdims=True)
    loss = -np.log(P[np.arange(N), y]).mean()
    Y = np.zeros_like(P)
    Y[np.arange(N), y] = 1
    dZ2 = (P - Y) / N
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(0)
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * (Z1 > 0)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def _two_layer_problem():
    """A fixed small two-layer classification problem: inputs, labels, parameters."""
    rng = np.random.default_rng(0)
    N, D, H, C = 8, 5, 7, 3
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, N)
    params = {
        "W1": rng.normal(size=(D, H)),
        "b1": rng.normal(size=H) * 0.1,
        "W2": rng.normal(size=(H, C)),
        "b2": rng.normal(size=C) * 0.1,
    }
    return X, y, params


def _numeric_grad(X, y, params, name, h=1e-6):
    """Central finite differences of the two-layer loss with respect to one parameter."""
    p = params[name]
    num = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + h
        lp, _ = _two_layer_loss_and_grads(X, y, **params)
        p[i] = old - h
        lm, _ = _two_layer_loss_and_grads(X, y, **params)
        p[i] = old
        num[i] = (lp - lm) / (2 * h)
    return num


def test_two_layer_manual_backprop_matches_finite_differences_and_autograd():
    X, y, params = _two_layer_problem()
    _, grads = _two_layer_loss_and_grads(X, y, **params)
    for name, p in params.items():
        assert grads[name].shape == p.shape  # gradient has the parameter's shape
        assert np.allclose(grads[name], _numeric_grad(X, y, params, name), atol=1e-7, rtol=1e-5)
    # float32 autograd agrees with the float64 hand derivation to ~1e-6
    tp = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in params.items()}
    Xt = torch.tensor(X, dtype=torch.float32)
    z2 = torch.relu(Xt @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"]
    torch.nn.functional.cross_entropy(z2, torch.tensor(y)).backward()
    for k in params:
        assert np.allclose(tp[k].grad.numpy(), grads[k], atol=1e-5)


def test_fan_out_gradients_sum_over_uses():
    x = torch.tensor(3.0, requires_grad=True)
    y = torch.tensor(2.0, requires_grad=True)
    ((x + y) * x).backward()
    assert x.grad.item() == pytest.approx(8.0)  # (x + y) + x
    assert y.grad.item() == pytest.approx(3.0)
    x = torch.tensor(1.7, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == pytest.approx(2 * 1.7)


# ------------------------------------------------------------- AD modes


def test_forward_mode_needs_one_jvp_per_input_reverse_one_vjp_and_forward_gradient_is_unbiased():
    from torch.func import jvp, vjp

    torch.manual_seed(0)
    n = 12
    A = torch.randn(n, n, dtype=torch.float64)

    def f(w):
        return torch.tanh(A @ w).pow(2).sum()  # R^n -> R

    w = torch.randn(n, dtype=torch.float64)
    _, pullback = vjp(f, w)
    (g_rev,) = pullback(torch.tensor(1.0, dtype=torch.float64))  # one reverse pass
    g_fwd = torch.stack([jvp(f, (w,), (e,))[1] for e in torch.eye(n, dtype=torch.float64)])
    assert torch.allclose(g_rev, g_fwd)  # n forward passes to rebuild it
    # "forward gradient": (g . v) v with v ~ N(0, I) is unbiased for g
    V = torch.randn(200_000, n, dtype=torch.float64)
    est = ((V @ g_rev)[:, None] * V).mean(0)
    assert torch.allclose(est, g_rev, atol=0.05 * g_rev.norm().item())


def test_hessian_vector_product_without_forming_the_hessian():
    from torch.func import grad, jvp

    torch.manual_seed(1)
    n = 6
    A = torch.randn(n, n, dtype=torch.float64)

    def f(w):
        return torch.log1p(torch.exp(A @ w)).sum() + (w**4).sum()

    w = torch.randn(n, dtype=torch.float64)
    v = torch.randn(n, dtype=torch.float64)
    H = torch.autograd.functional.hessian(f, w)
    # reverse-over-reverse
    wr = w.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(wr), wr, create_graph=True)
    (hv_rr,) = torch.autograd.grad(g @ v, wr)
    # forward-over-reverse
    _, hv_fr = jvp(grad(f), (w,), (v,))
    assert torch.allclose(hv_rr, H @ v)
    assert torch.allclose(hv_fr, H @ v)


# ------------------------------------------------------------- memory


def _peak_stored_activations(n_layers, segment):
    # keep one checkpoint per segment; during backward recompute one segment
    checkpoints = math.ceil(n_layers / segment)
    return checkpoints + segment


def test_checkpointing_sqrt_n_memory_and_identical_gradients():
    n = 100
    best = min(range(1, n + 1), key=lambda s: _peak_stored_activations(n, s))
    assert best == 10
    assert _peak_stored_activations(n, best) == 20  # vs 100 without checkpointing
    from torch.utils.checkpoint import checkpoint
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(2)
    net = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh()) for _ in range(6)])
    x = torch.randn(4, 16)
    net(x).sum().backward()
    ref = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    h = x
    for block in net:
        h = checkpoint(block, h, use_reentrant=False)
    h.sum().backward()
    for r, p in zip(ref, net.parameters(), strict=True):
        assert torch.allclose(r, p.grad, atol=1e-6)

    # compute overhead: counted FLOPs of a training step, plain vs checkpointed
    xg = torch.randn(64, 16, requires_grad=True)
    with FlopCounterMode(display=False) as plain:
        net(xg).sum().backward()
    with FlopCounterMode(display=False) as ckpt:
        h = xg
        for block in net:
            h = checkpoint(block, h, use_reentrant=False)
        h.sum().backward()
    # forward F + backward 2F, plus one recomputed forward: 4F / 3F
    assert ckpt.get_total_flops() / plain.get_total_flops() == pytest.approx(4 / 3)


# ------------------------------------------------------ PyTorch mechanics


def test_backward_accumulates_into_grad_and_zero_grad_sets_none():
    lin = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    loss = lin(x).pow(2).mean()
    loss.backward(retain_graph=True)
    g1 = lin.weight.grad.clone()
    loss.backward()
    assert torch.allclose(lin.weight.grad, 2 * g1)  # doubled, not replaced
    opt.zero_grad()
    assert lin.weight.grad is None  # set_to_none=True is the default
    # optimizers skip parameters whose grad is None, while a zero gradient
    # still lets momentum (and weight decay) move them
    moved = {}
    for grad in (None, "zero"):
        w = torch.nn.Parameter(torch.ones(2))
        sgd = torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
        w.grad = torch.ones(2)
        sgd.step()
        w.grad = None if grad is None else torch.zeros(2)
        before = w.detach().clone()
        sgd.step()
        moved[grad] = not torch.equal(w.detach(), before)
    assert moved == {None: False, "zero": True}


def test_gradient_accumulation_matches_full_batch_and_adam_ignores_the_scale():
    torch.manual_seed(3)
    lin = torch.nn.Linear(4, 2)
    x, y = torch.randn(64, 4), torch.randn(64, 2)
    loss_fn = torch.nn.MSELoss()
    loss_fn(lin(x), y).backward()
    full = lin.weight.grad.clone()
    for divide in (True, False):
        lin.zero_grad()
        k = 8
        for xb, yb in zip(x.chunk(k), y.chunk(k), strict=True):
            loss = loss_fn(lin(xb), yb)
            (loss / k if divide else loss).backward()
        expected = full if divide else k * full
        assert torch.allclose(lin.weight.grad, expected, atol=1e-6)

    # Adam's first step is (nearly) unchanged when the gradient is 8x larger
    def adam_step(scale):
        w = torch.zeros(3, requires_grad=True)
        opt = torch.optim.Adam([w], lr=0.1)
        w.grad = scale * torch.tensor([0.3, -1.0, 2.0])
        opt.step()
        return w.detach()

    assert torch.allclose(adam_step(1.0), adam_step(8.0), atol=1e-6)


def test_detach_shares_storage_and_inplace_is_caught_but_data_is_silent():
    x = torch.randn(4, requires_grad=True)
    y = torch.sigmoid(x)
    d = y.detach()
    assert d.data_ptr() == y.data_ptr() and not d.requires_grad and d.grad_fn is None
    d.mul_(2)
    with pytest.raises(RuntimeError, match="inplace operation"):
        y.sum().backward()
    # the same change through .data goes unnoticed and the gradient is wrong
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    y = torch.sigmoid(x)
    true_grad = (y * (1 - y)).detach().clone()
    y.data.mul_(2)
    y.sum().backward()
    assert not torch.allclose(x.grad, true_grad)
    # stopping the gradient: the detached branch contributes nothing
    x = torch.tensor(2.0, requires_grad=True)
    (x * x.detach()).backward()
    assert x.grad.item() == pytest.approx(2.0)  # not 2x = 4


def test_inplace_on_saved_output_raises_but_unsaved_is_fine():
    x = torch.randn(3, requires_grad=True)
    y = torch.sigmoid(x)  # sigmoid saves its output for backward
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = torch.randn(3, requires_grad=True)
    y = x * 3  # multiplying by a constant saves nothing that add_ changes
    y.add_(1)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), 3.0))


def test_backward_twice_raises_and_summed_losses_equal_separate_backwards():
    x = torch.randn(3, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    torch.manual_seed(4)
    w = torch.randn(3, requires_grad=True)
    h = torch.tanh(w * 2)
    (h.sum() + (h**2).sum()).backward()
    g_sum = w.grad.clone()
    w.grad = None
    h = torch.tanh(w * 2)
    h.sum().backward(retain_graph=True)
    (h**2).sum().backward()
    assert torch.allclose(w.grad, g_sum)


def test_non_leaf_grad_is_none_and_argmax_or_numpy_break_the_graph():
    x = torch.randn(3, requires_grad=True)
    h = x * 2
    h.retain_grad()
    k = x * 3
    (h.sum() + k.sum()).backward()
    assert h.grad is not None
    with pytest.warns(UserWarning):
        assert k.grad is None
    assert torch.argmax(x).requires_grad is False
    via_numpy = torch.from_numpy(x.detach().numpy() * 2)
    assert via_numpy.grad_fn is None and not via_numpy.requires_grad


def test_round_has_zero_gradient_and_straight_through_estimator_passes_one():
    x = torch.tensor([0.3, 1.7], requires_grad=True)
    torch.round(x).sum().backward()
    assert torch.equal(x.grad, torch.zeros(2))
    x = torch.tensor([0.3, 1.7], requires_grad=True)
    y = x + (torch.round(x) - x).detach()
    assert torch.equal(y, torch.tensor([0.0, 2.0]))
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones(2))


def test_relu_maxpool_conventions_and_kink_artifact():
    x = torch.zeros(1, requires_grad=True)
    torch.relu(x).backward()
    assert x.grad.item() == 0.0  # PyTorch picks 0 at the kink
    x = torch.tensor([[[[1.0, 3.0], [2.0, 0.0]]]], requires_grad=True)
    torch.nn.functional.max_pool2d(x, 2).backward()
    assert torch.equal(x.grad, torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]]))
    # relu(x) - relu(-x) == x everywhere, true derivative 1, autodiff says 0 at 0
    x = torch.zeros(1, requires_grad=True)
    (torch.relu(x) - torch.relu(-x)).backward()
    assert x.grad.item() == 0.0


# ------------------------------------------------ vanishing / exploding


def test_sigmoid_derivative_bound_and_depth_products():
    z = np.linspace(-10, 10, 200001)
    s = 1 / (1 + np.exp(-z))
    d = s * (1 - s)
    assert d.max() == pytest.approx(0.25)
    assert z[d.argmax()] == pytest.approx(0.0, abs=1e-9)
    assert d.max() ** 10 == pytest.approx(9.54e-7, rel=1e-3)
    assert pytest.approx(1.92e5, rel=1e-2) == 1.5**30


def _first_last_grad_norms(act, init, depth=20, width=64, seed=0):
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        lin = torch.nn.Linear(width, width)
        init(lin)
        layers += [lin, act()]
    net = torch.nn.Sequential(*layers)
    x = torch.randn(256, width)
    net(x).pow(2).mean().backward()
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    return lins[0].weight.grad.norm().item(), lins[-1].weight.grad.norm().item()


def test_per_layer_grad_norms_vanish_for_deep_sigmoid_not_relu_he():
    def he(lin):
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)

    first_s, last_s = _first_last_grad_norms(torch.nn.Sigmoid, lambda lin: None)
    first_r, last_r = _first_last_grad_norms(torch.nn.ReLU, he)
    assert first_s / last_s < 1e-12  # geometric decay towards the input
    assert 0.1 < first_r / last_r < 10  # roughly preserved


def test_clip_grad_norm_keeps_direction_value_clipping_does_not():
    g = torch.tensor([3.0, 4.0, 0.1])
    p = torch.zeros(3, requires_grad=True)
    p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(g.norm().item())
    assert p.grad.norm().item() == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(p.grad / p.grad.norm(), g / g.norm())
    clipped = g.clamp(-1.0, 1.0)
    cos = torch.dot(clipped, g) / (clipped.norm() * g.norm())
    assert cos.item() < 0.99


# ------------------------------------------------------ softmax + CE


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    z = torch.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.tensor([0])).backward()
    p = torch.softmax(z.detach(), dim=1)
    assert torch.allclose(p, torch.tensor([[0.659, 0.242, 0.099]]), atol=1e-3)
    assert torch.allclose(z.grad, p - torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.allclose(z.grad, torch.tensor([[-0.341, 0.242, 0.099]]), atol=1e-3)
    assert z.grad.sum().abs().item() < 1e-6
    # mean over a batch divides each row by N; label smoothing keeps p - y
    torch.manual_seed(5)
    Z = torch.randn(4, 5, requires_grad=True)
    t = torch.tensor([0, 3, 1, 4])
    torch.nn.functional.cross_entropy(Z, t, label_smoothing=0.1).backward()
    Y = torch.full((4, 5), 0.1 / 5)
    Y[torch.arange(4), t] += 0.9
    assert torch.allclose(Z.grad, (torch.softmax(Z.detach(), 1) - Y) / 4, atol=1e-6)


def test_max_subtraction_prevents_overflow_without_changing_values_or_gradients():
    z = torch.tensor([1000.0, 1001.0])
    naive = z.exp() / z.exp().sum()
    assert torch.isnan(naive).all()
    m = z.max()
    stable = (z - m).exp() / (z - m).exp().sum()
    assert torch.allclose(stable, torch.tensor([0.2689, 0.7311]), atol=1e-4)
    assert torch.allclose(stable, torch.softmax(z, 0))
    # subtracting the mean is not enough: z = [0, 2000] leaves exp(1000),
    # which overflows in float32 and float64 alike (exp(500) would fit in float64)
    for dtype in (torch.float32, torch.float64):
        z2 = torch.tensor([0.0, 2000.0], dtype=dtype)
        assert torch.isinf((z2 - z2.mean()).exp()).any()
        assert not torch.isinf((z2 - z2.max()).exp()).any()
    assert math.isfinite(math.exp(500.0))
    assert math.log(torch.finfo(torch.float64).max) == pytest.approx(709.78, abs=0.01)
    # float32 exp overflows just above ln(3.4e38) ~ 88.72; fp16 above ln(65504) ~ 11.09
    assert math.log(torch.finfo(torch.float32).max) == pytest.approx(88.72, abs=0.01)
    assert math.log(torch.finfo(torch.float16).max) == pytest.approx(11.09, abs=0.01)
    # a fully masked row gives NaN
    row = torch.full((3,), float("-inf"))
    assert torch.isnan(torch.softmax(row, 0)).all()
    # gradients are the same whether or not the max is detached
    zz = torch.randn(6, dtype=torch.float64)
    w = torch.randn(6, dtype=torch.float64)
    grads = []
    for detach in (False, True):
        a = zz.clone().requires_grad_(True)
        mm = a.max().detach() if detach else a.max()
        ls = a - mm - (a - mm).exp().sum().log()
        (ls * w).sum().backward()
        grads.append(a.grad)
    assert torch.allclose(grads[0], grads[1])


# ------------------------------------------------------ gradient check


def test_central_difference_beats_forward_difference_and_tiny_h_fails():
    def f(x):
        return x**3

    x, h = 1.0, 1e-3
    fwd_err = abs((f(x + h) - f(x)) / h - 3.0)
    ctr_err = abs((f(x + h) - f(x - h)) / (2 * h) - 3.0)
    assert fwd_err == pytest.approx(3e-3, rel=0.01)
    assert ctr_err == pytest.approx(1e-6, rel=0.01)
    err_tiny = abs((f(x + 1e-12) - f(x - 1e-12)) / 2e-12 - 3.0)
    err_good = abs((f(x + 1e-6) - f(x - 1e-6)) / 2e-6 - 3.0)
    assert err_tiny > 100 * err_good
    assert np.finfo(np.float64).eps ** (1 / 3) == pytest.approx(6.06e-6, rel=1e-2)


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


class _Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.nn.functional.softplus(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(x)


class _BadSoftplus(_Softplus):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(2 * x)


def test_custom_function_gradcheck_and_gradient_reversal():
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_Softplus.apply, (x,))
    assert not torch.autograd.gradcheck(_BadSoftplus.apply, (x,), raise_exception=False)
    y = torch.randn(4, requires_grad=True)
    out = _GradReverse.apply(y, 0.5)
    assert torch.equal(out, y)
    out.sum().backward()
    assert torch.allclose(y.grad, torch.full((4,), -0.5))


# ------------------------------------------------------ linear layer


def test_linear_layer_gradient_formulas_and_backward_costs_twice_forward():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(6)
    lin = torch.nn.Linear(512, 256)
    x = torch.randn(64, 512, requires_grad=True)
    with FlopCounterMode(display=False) as fc:
        y = lin(x)
    fwd = fc.get_total_flops()
    G = torch.randn_like(y)
    with FlopCounterMode(display=False) as fc2:
        y.backward(G)
    bwd = fc2.get_total_flops()
    assert fwd == 2 * 64 * 512 * 256 == 16_777_216
    assert bwd == 2 * fwd
    assert torch.allclose(x.grad, G @ lin.weight, atol=1e-5)
    assert torch.allclose(lin.weight.grad, G.T @ x, atol=1e-4)
    assert torch.allclose(lin.bias.grad, G.sum(0), atol=1e-5)
    assert lin.weight.grad.shape == (256, 512) and x.grad.shape == (64, 512)


def test_shared_weight_gradient_is_sum_over_uses():
    torch.manual_seed(7)
    # a conv kernel's gradient sums input-patch x output-gradient over positions
    x = torch.randn(1, 1, 10)
    w = torch.randn(1, 1, 3, requires_grad=True)
    y = torch.nn.functional.conv1d(x, w)
    G = torch.randn_like(y)
    y.backward(G)
    manual = torch.zeros(3)
    for t in range(y.shape[-1]):
        manual += G[0, 0, t] * x[0, 0, t : t + 3]
    assert torch.allclose(w.grad[0, 0], manual, atol=1e-6)
    # scalar shared weight used twice
    w = torch.tensor(0.5, requires_grad=True)
    x1, x2 = torch.tensor(2.0), torch.tensor(-3.0)
    y1, y2 = w * x1, w * x2
    g1, g2 = 0.7, 1.1
    (g1 * y1 + g2 * y2).backward()
    assert w.grad.item() == pytest.approx(g1 * 2.0 + g2 * -3.0)


# ------------------------------------------------------ audit additions


def test_two_layer_relative_error_is_tiny_and_a_missing_one_over_n_is_order_one():
    X, y, params = _two_layer_problem()
    _, grads = _two_layer_loss_and_grads(X, y, **params)
    num = _numeric_grad(X, y, params, "W2")

    def rel(a, n):
        return np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max())

    assert rel(grads["W2"], num) < 1e-7
    assert rel(grads["W2"] * X.shape[0], num) > 0.5  # forgetting the 1/N


def test_retain_graph_on_carried_state_trips_the_inplace_error_after_step():
    torch.manual_seed(0)
    W = torch.nn.Parameter(torch.randn(4, 4) * 0.3)
    opt = torch.optim.SGD([W], lr=0.1)
    h = torch.zeros(1, 4)
    errors = []
    for _ in range(3):
        h = torch.tanh(h @ W + torch.randn(1, 4))  # hidden state carried without detach
        opt.zero_grad()
        try:
            h.pow(2).sum().backward(retain_graph=True)
        except RuntimeError as e:
            errors.append(str(e))
            break
        opt.step()  # modifies W in place, which the old graph saved
    assert errors and "modified by an inplace operation" in errors[0]
    # detaching the carried state is the fix
    h = torch.zeros(1, 4)
    for _ in range(3):
        h = torch.tanh(h.detach() @ W + torch.randn(1, 4))
        opt.zero_grad()
        h.pow(2).sum().backward()
        opt.step()


def test_rounding_gives_zero_grad_not_none_and_a_detached_loss_raises():
    w = torch.tensor([0.3, 1.7], requires_grad=True)
    torch.round(w * 2).sum().backward()
    assert w.grad is not None and torch.equal(w.grad, torch.zeros(2))
    lin = torch.nn.Linear(3, 1)
    loss = lin(torch.randn(4, 3)).sum().detach()
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        loss.backward()
    loss.requires_grad_()
    loss.backward()  # the "fix" runs and trains nothing
    assert lin.weight.grad is None


def test_first_layer_gradient_about_17_orders_below_last_for_deep_sigmoid():
    def he(lin):
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)

    for seed in range(3):
        first_s, last_s = _first_last_grad_norms(torch.nn.Sigmoid, lambda lin: None, seed=seed)
        assert 1e-18 < first_s / last_s < 1e-16
        first_r, last_r = _first_last_grad_norms(torch.nn.ReLU, he, seed=seed)
        assert 0.1 < first_r / last_r < 10


def test_adam_step_is_negligible_for_gradients_far_below_epsilon():
    steps = {}
    for g in (1e-3, 1e-12):
        w = torch.zeros(1, requires_grad=True)
        opt = torch.optim.Adam([w], lr=1.0)  # default eps = 1e-8
        w.grad = torch.tensor([g])
        opt.step()
        steps[g] = abs(w.item())
    assert steps[1e-3] == pytest.approx(1.0, rel=1e-4)  # scale removed
    assert steps[1e-12] < 1e-3  # g / (|g| + eps) ~ 1e-4


def test_in_batch_negatives_break_gradient_accumulation():
    torch.manual_seed(8)
    enc = torch.nn.Linear(6, 4)
    a, b = torch.randn(64, 6), torch.randn(64, 6)

    def info_nce(x, y):
        za, zb = enc(x), enc(y)
        logits = za @ zb.T  # each anchor's negatives are the other rows of its batch
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(x)))

    info_nce(a, b).backward()
    full = enc.weight.grad.clone()
    enc.zero_grad()
    for xa, xb in zip(a.chunk(8), b.chunk(8), strict=True):
        (info_nce(xa, xb) / 8).backward()  # 7 negatives per anchor instead of 63
    assert not torch.allclose(enc.weight.grad, full, atol=1e-4)
