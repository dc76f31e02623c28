"""Numerical checks of the claims made in questions/activations.yaml.

Each test recomputes a number or identity quoted in a card from first
principles (numpy), or checks PyTorch's behaviour directly (torch is optional).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numerics import numeric_jacobian, softmax

GRID = np.linspace(-10.0, 10.0, 2_000_001)  # step 1e-5


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))  # overflow-free form


def normal_cdf(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gaussian_expectation(f, sigma=1.0):
    """E[f(z)] for z ~ N(0, sigma^2) by a fine Riemann sum."""
    z = np.linspace(-12.0 * sigma, 12.0 * sigma, 400_001)
    pdf = np.exp(-0.5 * (z / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    return float(np.sum(f(z) * pdf) * (z[1] - z[0]))


# --- sigmoid, tanh ---------------------------------------------------------------------------


def test_sigmoid_derivative_peaks_at_quarter():
    s = sigmoid(GRID)
    analytic = s * (1.0 - s)
    numeric = np.gradient(s, GRID)
    assert np.max(np.abs(analytic - numeric)) < 1e-8  # s' = s(1 - s)
    i = np.argmax(analytic)
    assert abs(GRID[i]) < 1e-9
    assert analytic[i] == pytest.approx(0.25, abs=1e-12)
    # tail values quoted in the card and its follow-up
    assert sigmoid(4.0) * (1 - sigmoid(4.0)) == pytest.approx(0.018, abs=5e-4)
    assert sigmoid(6.0) * (1 - sigmoid(6.0)) == pytest.approx(0.0025, abs=5e-5)


def test_sigmoid_best_case_depth_product_and_average_factor():
    peak = float(np.max(sigmoid(GRID) * (1 - sigmoid(GRID))))
    assert peak**10 == pytest.approx(9.5e-7, rel=0.01)
    assert peak**20 == pytest.approx(9.1e-13, rel=0.01)
    # average derivative for z ~ N(0, 1) is about 0.21
    mean_factor = gaussian_expectation(lambda z: sigmoid(z) * (1 - sigmoid(z)))
    assert mean_factor == pytest.approx(0.21, abs=0.005)


def test_tanh_is_rescaled_sigmoid_with_unit_peak_slope():
    assert np.allclose(np.tanh(GRID), 2 * sigmoid(2 * GRID) - 1, atol=1e-12)
    d = 1 - np.tanh(GRID) ** 2
    assert np.max(np.abs(d - np.gradient(np.tanh(GRID), GRID))) < 1e-8
    assert d.max() == pytest.approx(1.0, abs=1e-12)
    assert d.max() / 0.25 == pytest.approx(4.0)
    assert 1 - np.tanh(3.0) ** 2 == pytest.approx(0.0099, abs=1e-4)
    # saturation threshold used in the diagnosis card: |tanh| > 0.97 <=> |z| > ~2.1, slope < 0.06
    assert np.arctanh(0.97) == pytest.approx(2.09, abs=0.01)
    assert 1 - np.tanh(2.1) ** 2 < 0.06


def test_positive_inputs_couple_gradient_signs_per_example_not_per_batch():
    """tanh card: all-positive inputs give same-sign weight gradients for one example only."""
    rng = np.random.default_rng(5)
    x = sigmoid(rng.standard_normal((64, 10)))  # all-positive inputs, as from a sigmoid layer
    delta = rng.standard_normal(64)  # upstream gradients of one unit, mixed signs across examples
    per_example = delta[:, None] * x
    assert all(len(set(np.sign(row))) == 1 for row in per_example)  # one sign per example
    batch = per_example.sum(axis=0)
    signs = [set(np.sign(g)) for g in (batch, *(per_example[i : i + 8].sum(axis=0) for i in range(0, 64, 8)))]
    assert any(len(sg) == 2 for sg in signs)  # a summed gradient can have components of both signs


def test_gate_and_elu_constants():
    # LSTM forget-gate bias 1 gives f = s(1) ~ 0.73 at the start
    assert sigmoid(1.0) == pytest.approx(0.73, abs=0.005)
    torch = pytest.importorskip("torch")
    # ELU's slope is continuous at 0 only for alpha = 1 (left slope alpha, right slope 1)
    for alpha in (1.0, 0.5):
        x = torch.tensor([-1e-6, 1e-6], dtype=torch.float64, requires_grad=True)
        torch.nn.functional.elu(x, alpha=alpha).sum().backward()
        left, right = x.grad.tolist()
        assert right == pytest.approx(1.0)
        assert left == pytest.approx(alpha, rel=1e-5)
    # alpha dropout sets dropped SELU units to -lambda * alpha ~ -1.758
    sat = torch.nn.functional.selu(torch.tensor(-1e3, dtype=torch.float64)).item()
    assert sat == pytest.approx(-1.0507009873554805 * 1.6732632423543772)
    assert sat == pytest.approx(-1.758, abs=1e-3)


# --- ReLU family and initialization ----------------------------------------------------------


def test_relu_halves_second_moment_and_he_gain():
    for sigma in (0.5, 1.0, 3.0):
        m2 = gaussian_expectation(lambda z: np.maximum(z, 0.0) ** 2, sigma)
        assert m2 == pytest.approx(sigma**2 / 2, rel=1e-6)
    a = 0.01
    m2_leaky = gaussian_expectation(lambda z: np.where(z > 0, z, a * z) ** 2)
    assert m2_leaky == pytest.approx((1 + a**2) / 2, rel=1e-6)
    # variance-preserving weight variance is 1 / (fan_in * E[x^2]/Var(z)): 2/fan_in for ReLU,
    # 2 / ((1 + a^2) fan_in) for leaky ReLU, i.e. gains sqrt(2) and sqrt(2 / (1 + a^2))
    m2_relu = gaussian_expectation(lambda z: np.maximum(z, 0.0) ** 2)
    assert math.sqrt(1 / m2_relu) == pytest.approx(math.sqrt(2), rel=1e-6)
    assert math.sqrt(1 / m2_leaky) == pytest.approx(math.sqrt(2 / (1 + a**2)), rel=1e-6)


def test_xavier_init_shrinks_relu_signal_by_half_per_layer_he_does_not():
    rng = np.random.default_rng(0)
    n, depth = 512, 30
    x0 = rng.standard_normal((2000, n))
    results = {}
    for name, var in (("xavier", 2.0 / (n + n)), ("he", 2.0 / n)):
        x = x0
        for _ in range(depth):
            w = rng.standard_normal((n, n)) * math.sqrt(var)
            x = np.maximum(x @ w, 0.0)
        results[name] = float(np.mean(x**2)) / float(np.mean(x0**2))
    # Xavier: second moment ~ 2^-30 ~ 1e-9 (times the 1/2 of the last ReLU); He: order 1
    assert 1e-11 < results["xavier"] < 1e-8
    assert 0.1 < results["he"] < 3.0


def test_linear_layers_collapse_to_one_affine_map():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 8))
    layers = [(rng.standard_normal((8, 8)), rng.standard_normal(8)) for _ in range(10)]
    h = x
    for w, b in layers:
        h = h @ w.T + b
    w_tot, b_tot = np.eye(8), np.zeros(8)
    for w, b in layers:
        w_tot, b_tot = w @ w_tot, w @ b_tot + b
    assert np.allclose(h, x @ w_tot.T + b_tot, rtol=1e-9, atol=1e-6 * np.abs(h).max())


def test_selu_constants_give_zero_mean_unit_variance_fixed_point():
    lam, alpha = 1.0507009873554805, 1.6732632423543772

    def selu(z):
        return lam * np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1))

    mean = gaussian_expectation(selu)
    second = gaussian_expectation(lambda z: selu(z) ** 2)
    assert mean == pytest.approx(0.0, abs=1e-6)
    assert second - mean**2 == pytest.approx(1.0, abs=1e-6)


# --- GELU, SiLU, hard-swish -------------------------------------------------------------------


def test_gelu_minimum_slope_and_approximation_errors():
    x = np.linspace(-6, 6, 1_200_001)
    phi = normal_cdf(x)
    gelu = x * phi
    i = np.argmin(gelu)
    assert gelu[i] == pytest.approx(-0.170, abs=1e-3)
    assert x[i] == pytest.approx(-0.75, abs=0.01)
    slope = np.gradient(gelu, x)
    assert slope[np.argmin(np.abs(x))] == pytest.approx(0.5, abs=1e-4)
    assert slope.max() == pytest.approx(1.13, abs=0.005)
    assert slope.min() == pytest.approx(-0.13, abs=0.005)
    tanh_form = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    sig_form = x * sigmoid(1.702 * x)
    assert np.max(np.abs(tanh_form - gelu)) == pytest.approx(5e-4, abs=1e-4)
    assert np.max(np.abs(sig_form - gelu)) == pytest.approx(0.02, abs=2e-3)


def test_silu_minimum_slope_and_limits():
    x = np.linspace(-8, 8, 1_600_001)
    silu = x * sigmoid(x)
    i = np.argmin(silu)
    assert silu[i] == pytest.approx(-0.278, abs=1e-3)
    assert x[i] == pytest.approx(-1.28, abs=0.01)
    s = sigmoid(x)
    slope = s * (1 + x * (1 - s))
    assert np.max(np.abs(slope - np.gradient(silu, x))) < 1e-6
    assert slope[np.argmin(np.abs(x))] == pytest.approx(0.5)
    assert slope.max() == pytest.approx(1.10, abs=0.005)
    # beta -> infinity approaches ReLU, beta = 0 gives x / 2
    assert np.max(np.abs(x * sigmoid(200 * x) - np.maximum(x, 0))) < 2e-3
    assert np.allclose(x * sigmoid(0 * x), x / 2)


def test_hardswish_definition_and_gap_to_silu():
    x = np.linspace(-10, 10, 2_000_001)
    hswish = x * np.clip(x + 3, 0, 6) / 6
    silu = x * sigmoid(x)
    gap = np.abs(hswish - silu)
    assert gap.max() == pytest.approx(0.14, abs=0.005)
    assert abs(x[np.argmax(gap)]) == pytest.approx(3.0, abs=1e-3)  # reached at x = +-3
    assert np.allclose(hswish[x >= 3], x[x >= 3], rtol=1e-15, atol=0)
    assert np.all(hswish[x <= -3] == 0)
    torch = pytest.importorskip("torch")
    t = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    ours = t * torch.clamp(t + 3, 0, 6) / 6
    assert torch.allclose(ours, torch.nn.functional.hardswish(t))


def test_swiglu_hidden_size_matches_ffn_parameters():
    d = 4096
    ffn = 2 * d * (4 * d)
    h = 8 * d / 3
    assert 3 * d * h == pytest.approx(ffn)
    assert ffn == 8 * d * d
    assert h / d == pytest.approx(2.67, abs=0.005)
    assert h == pytest.approx(10923, abs=1)
    # LLaMA-7B's 11008 is 8d/3 rounded up to a multiple of 256
    assert math.ceil(h / 256) * 256 == 11008


# --- softmax ----------------------------------------------------------------------------------


def test_softmax_jacobian_and_cross_entropy_gradient():
    rng = np.random.default_rng(2)
    z = rng.standard_normal(6)
    p = softmax(z)
    numeric = numeric_jacobian(softmax, z)
    jac = np.diag(p) - np.outer(p, p)
    assert np.allclose(jac, numeric, atol=1e-9)
    assert np.allclose(jac.sum(axis=1), 0.0)
    assert np.allclose(jac, jac.T)
    assert np.linalg.matrix_rank(jac) == 5
    # cross-entropy gradient p - y
    y = np.zeros(6)
    y[3] = 1.0
    loss = lambda v: -np.log(softmax(v)[3])
    g_num = numeric_jacobian(loss, z)  # a scalar function: its Jacobian is the gradient
    assert np.allclose(g_num, p - y, atol=1e-8)
    # vector-Jacobian product without forming J
    g = rng.standard_normal(6)
    assert np.allclose(jac.T @ g, p * (g - np.sum(p * g)))
    # saturation: Jacobian -> 0 when one probability approaches 1
    big = softmax(np.array([20.0, 0.0, 0.0]))
    assert np.abs(np.diag(big) - np.outer(big, big)).max() < 1e-8


def test_softmax_overflow_and_max_subtraction():
    assert math.log(np.finfo(np.float32).max) == pytest.approx(88.7, abs=0.05)
    assert math.log(np.finfo(np.float64).max) == pytest.approx(709.8, abs=0.05)
    z = np.array([1000.0, 1001.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    assert np.all(np.isnan(naive))
    stable = softmax(z)
    assert np.all(np.isfinite(stable))
    assert stable[1] == pytest.approx(sigmoid(1.0))
    # all logits very negative: every exponential underflows to 0, naive softmax is 0/0
    low = np.array([-1000.0, -1001.0])
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(np.exp(low) / np.exp(low).sum()))
    assert np.allclose(softmax(low), softmax(low + 2000.0))
    # shift invariance
    w = np.array([0.3, -1.2, 2.0])
    assert np.allclose(softmax(w), softmax(w + 123.4))
    # subtracting the mean does not prevent overflow
    spread = np.array([0.0, 2000.0])
    with np.errstate(over="ignore", invalid="ignore"):
        centred = np.exp(spread - spread.mean())
    assert np.isinf(centred).any()
    # an all -inf row still gives NaN after max subtraction
    masked = np.array([-np.inf, -np.inf])
    with np.errstate(invalid="ignore"):
        assert np.isnan(softmax(masked)).all()


def test_two_class_softmax_is_sigmoid_of_logit_difference():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((100, 2)) * 4
    assert np.allclose(softmax(z)[:, 0], sigmoid(z[:, 0] - z[:, 1]))


def test_temperature_keeps_ranking_and_distillation_gradient_scales_as_inverse_t_squared():
    rng = np.random.default_rng(4)
    k = 10
    z = rng.standard_normal(k)
    z -= z.mean()
    v = rng.standard_normal(k)
    v -= v.mean()
    for t in (0.1, 0.5, 1.0, 3.0, 20.0):
        assert np.array_equal(np.argsort(softmax(z / t)), np.argsort(z))
    assert softmax(z / 1e-3).max() == pytest.approx(1.0)
    assert np.allclose(softmax(z / 1e4), 1.0 / k, atol=1e-4)
    # soft-target CE gradient wrt student logits is (p_T - q_T) / T; times T^2 it tends to (z - v) / K
    for t in (50.0, 200.0, 1000.0):
        grad = (softmax(z / t) - softmax(v / t)) / t
        assert np.allclose(grad * t**2, (z - v) / k, rtol=0.1, atol=0.01)


# --- PyTorch behaviour ------------------------------------------------------------------------


def test_torch_relu_subgradient_at_zero_and_variants():
    torch = pytest.importorskip("torch")

    def grad_at_zero(fn):
        x = torch.zeros(1, requires_grad=True)
        fn(x).sum().backward()
        return x.grad.item()

    assert grad_at_zero(torch.relu) == 0.0
    assert grad_at_zero(lambda x: x * (x > 0)) == 0.0
    assert grad_at_zero(lambda x: x.clamp(min=0)) == 1.0
    assert grad_at_zero(lambda x: torch.maximum(x, torch.zeros_like(x))) == 0.5
    assert grad_at_zero(torch.nn.functional.gelu) == pytest.approx(0.5)
    assert grad_at_zero(torch.nn.functional.silu) == pytest.approx(0.5)
    assert grad_at_zero(torch.nn.functional.leaky_relu) == pytest.approx(0.01)
    assert torch.nn.LeakyReLU().negative_slope == 0.01
    assert torch.nn.PReLU().weight.item() == pytest.approx(0.25)
    assert torch.nn.ELU().alpha == 1.0
    assert torch.nn.GELU().approximate == "none"


def test_bce_on_sigmoid_outputs_loses_gradient_while_bce_with_logits_does_not():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    # float32 sigmoid rounds to exactly 1.0 for z above about 17
    zs = torch.linspace(10, 20, 10001, dtype=torch.float32)
    first_one = zs[torch.sigmoid(zs) == 1.0][0].item()
    assert 16.0 < first_one < 17.5

    z = torch.tensor([30.0], requires_grad=True)
    target = torch.tensor([0.0])
    loss = f.binary_cross_entropy(torch.sigmoid(z), target)
    loss.backward()
    assert loss.item() == pytest.approx(100.0)  # log clamped at -100
    assert z.grad.item() == 0.0

    z2 = torch.tensor([30.0], requires_grad=True)
    loss2 = f.binary_cross_entropy_with_logits(z2, target)
    loss2.backward()
    assert loss2.item() == pytest.approx(30.0)
    assert z2.grad.item() == pytest.approx(torch.sigmoid(torch.tensor(30.0)).item() - 0.0)

    # stable closed form: max(z, 0) - z*y + log(1 + exp(-|z|))
    zz = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    for yv in (0.0, 1.0, 0.3):
        y = torch.full_like(zz, yv)
        closed = zz.clamp(min=0) - zz * y + torch.log1p(torch.exp(-zz.abs()))
        ref = f.binary_cross_entropy_with_logits(zz, y, reduction="none")
        assert torch.allclose(closed, ref)

    # MSE on a sigmoid: gradient (s - y) s (1 - s) vanishes when saturated and wrong
    s = torch.sigmoid(torch.tensor(12.0, dtype=torch.float64))
    assert ((s - 0) * s * (1 - s)).item() < 1e-5


def test_pytorch_default_linear_init_is_not_he_and_gains():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    fan_in = 1000
    w = torch.nn.Linear(fan_in, 1000).weight
    assert w.std().item() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.01)
    assert w.abs().max().item() <= 1 / math.sqrt(fan_in)
    he_std = math.sqrt(2 / fan_in)
    assert he_std / w.std().item() == pytest.approx(math.sqrt(6), rel=0.01)
    gain = torch.nn.init.calculate_gain
    assert gain("tanh") == pytest.approx(5 / 3)
    assert gain("relu") == pytest.approx(math.sqrt(2))
    assert gain("sigmoid") == 1
    assert gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / (1 + 0.2**2)))


# --- audit additions ----------------------------------------------------------------------------


def test_relu_halves_the_second_moment_not_the_variance():
    m2 = gaussian_expectation(lambda z: np.maximum(z, 0.0) ** 2)
    mean = gaussian_expectation(lambda z: np.maximum(z, 0.0))
    assert m2 == pytest.approx(0.5, rel=1e-6)
    assert mean == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-6)
    # the variance of relu(z) is (1/2 - 1/(2 pi)) ~ 0.34 of Var(z), not 1/2
    assert m2 - mean**2 == pytest.approx(0.5 - 1 / (2 * math.pi), rel=1e-6)
    assert m2 - mean**2 == pytest.approx(0.341, abs=1e-3)


def test_gelu_and_elu_slopes_fade_for_very_negative_inputs_leaky_does_not():
    x = np.array([-8.0, -5.0, -3.0])
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    gelu_slope = normal_cdf(x) + x * pdf
    elu_slope = np.exp(x)  # alpha = 1
    assert np.all(np.abs(gelu_slope) < 0.02)
    assert abs(gelu_slope[0]) < 1e-12
    assert elu_slope[0] < 1e-3
    # GELU's slope is exactly zero at its minimum (x ~ -0.75)
    grid = np.linspace(-2, 0, 200001)
    s = normal_cdf(grid) + grid * np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)
    assert grid[np.argmin(np.abs(s))] == pytest.approx(-0.75, abs=0.01)
    # leaky ReLU keeps slope a everywhere on the negative side
    torch = pytest.importorskip("torch")
    t = torch.tensor([-50.0, -3.0, -0.1], requires_grad=True)
    torch.nn.functional.leaky_relu(t, 0.01).sum().backward()
    assert torch.allclose(t.grad, torch.full((3,), 0.01))


def test_relu6_and_hard_sigmoid_are_bounded_hard_swish_is_not():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x = torch.linspace(-100, 1000, 110001, dtype=torch.float64)
    assert f.relu6(x).min() == 0 and f.relu6(x).max() == 6
    hsig = f.hardsigmoid(x)
    assert hsig.min() == 0 and hsig.max() == 1
    assert torch.allclose(hsig, f.relu6(x + 3) / 6)
    hsw = f.hardswish(x)
    assert torch.allclose(hsw, x * hsig)
    assert torch.allclose(hsw[x >= 3], x[x >= 3], rtol=1e-15, atol=0)  # identity above 3: unbounded
    assert hsw.max().item() == pytest.approx(1000.0)
    assert hsw.min().item() == pytest.approx(-0.375)  # minimum at x = -1.5


# --- xor-smallest-network ----------------------------------------------------------------------

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0], dtype=float)


def step(z):
    return (np.asarray(z) > 0).astype(float)


def test_xor_weights_quoted_in_the_card():
    x1, x2 = XOR_X[:, 0], XOR_X[:, 1]
    # step units: OR, AND, then OR-and-not-AND
    h1, h2 = step(x1 + x2 - 0.5), step(x1 + x2 - 1.5)
    assert np.stack([h1, h2], 1).tolist() == [[0, 0], [1, 0], [1, 0], [1, 1]]
    assert step(h1 - h2 - 0.5).tolist() == XOR_Y.tolist()
    assert (2 * 2 + 2) + (2 + 1) == 9  # parameters of the 2-2-1 network
    # Goodfellow et al. section 6.1: W = [[1, 1], [1, 1]], c = [0, -1], w = [1, -2], b = 0
    w_hidden, c, w_out = np.ones((2, 2)), np.array([0.0, -1.0]), np.array([1.0, -2.0])
    h = np.maximum(0, XOR_X @ w_hidden + c)
    assert (h @ w_out).tolist() == XOR_Y.tolist()  # exactly 0, 1, 1, 0
    assert h[1].tolist() == h[2].tolist() == [1.0, 0.0]  # (0,1) and (1,0) land on one point
    # one hidden unit plus direct input-to-output connections
    and_unit = step(x1 + x2 - 1.5)
    assert step(x1 + x2 - 2 * and_unit - 0.5).tolist() == XOR_Y.tolist()
    # one unit with a non-monotone activation
    assert np.allclose((1 - np.cos(np.pi * (x1 + x2))) / 2, XOR_Y)


def test_no_single_threshold_unit_or_single_monotone_hidden_unit_computes_xor():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(200_000, 2)) * 3
    b = rng.normal(size=(200_000, 1)) * 3
    pre = w @ XOR_X.T + b  # (candidates, 4 inputs)
    assert not (step(pre) == XOR_Y).all(axis=1).any()
    assert not (step(-pre) == XOR_Y).all(axis=1).any()
    # the algebraic reason: the pre-activations always satisfy t01 + t10 = t00 + t11,
    # so a monotone function cannot put both middle points strictly above both corners
    assert np.allclose(pre[:, 1] + pre[:, 2], pre[:, 0] + pre[:, 3])
    # one hidden unit, monotone activation, affine output, no skip connections: never XOR
    for act in (lambda z: np.maximum(0, z), np.tanh):
        hidden = act(pre)
        v = rng.normal(size=(200_000, 1)) * 3
        c = rng.normal(size=(200_000, 1)) * 3
        assert not (step(v * hidden + c) == XOR_Y).all(axis=1).any()


def test_parity_with_n_threshold_units():
    """Follow-up: n units "at least k inputs on", alternating output weights, compute n-bit parity."""
    import itertools

    for n in range(2, 7):
        bits = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)
        s = bits.sum(1, keepdims=True)
        hidden = step(s - np.arange(1, n + 1) + 0.5)
        out = step(hidden @ np.array([(-1.0) ** k for k in range(n)]) - 0.5)
        assert out.tolist() == (s[:, 0] % 2).tolist()


def test_minimal_xor_net_often_fails_to_train_wider_net_rarely():
    """Batched training of 200 independently initialized nets (PyTorch's default Linear init, Adam)."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(XOR_X, dtype=torch.float64)
    y = torch.tensor(XOR_Y, dtype=torch.float64)

    def solved(hidden, nets=200, steps=500, lr=0.1):
        gen = torch.Generator().manual_seed(0)

        def uniform(shape, fan_in):
            bound = 1 / math.sqrt(fan_in)  # nn.Linear's default for weight and bias
            return ((torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound).requires_grad_()

        w1, b1 = uniform((nets, 2, hidden), 2), uniform((nets, 1, hidden), 2)
        w2, b2 = uniform((nets, hidden, 1), hidden), uniform((nets, 1, 1), hidden)
        opt = torch.optim.Adam([w1, b1, w2, b2], lr=lr)

        def logits():
            return (torch.relu(x @ w1 + b1) @ w2 + b2).squeeze(-1)

        for _ in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits(), y.expand(nets, 4), reduction="none")
            loss.mean(1).sum().backward()  # each net gets its own mean-loss gradient
            opt.step()
        with torch.no_grad():
            return float(((logits() > 0).double() == y).all(1).double().mean())

    assert 0.15 < solved(2) < 0.3  # "about one seed in five (20-25%)"
    assert solved(2, steps=5000) < 0.3  # "stuck runs stayed stuck with ten times more steps"
    assert solved(8) > 0.9  # "about 95%"
