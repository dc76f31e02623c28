"""Numeric checks for the claims made in questions/training.yaml.

Each test recomputes the number independently (numpy, or torch where the claim
is about PyTorch behaviour) instead of restating it.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


# --- sgd-momentum-effective-step ----------------------------------------------


def test_momentum_steady_state_step_is_lr_over_one_minus_mu():
    lr, c = 0.01, 2.0
    for mu in (0.9, 0.99):
        w = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([w], lr=lr, momentum=mu)
        prev = 0.0
        for _ in range(3000):
            opt.zero_grad()
            (c * w).sum().backward()  # constant gradient c
            opt.step()
            step = prev - w.item()
            prev = w.item()
        assert step == pytest.approx(lr * c / (1 - mu), rel=1e-3)


def test_heavy_ball_beats_gd_on_ill_conditioned_quadratic():
    # f(x) = 0.5 * (x0^2 + kappa * x1^2); tuned rates from Polyak's analysis.
    kappa = 100.0
    h = np.array([1.0, kappa])
    x_gd = np.array([1.0, 1.0])
    lr_gd = 2.0 / (1.0 + kappa)
    x_hb, v = np.array([1.0, 1.0]), np.zeros(2)
    lr_hb = 4.0 / (1.0 + math.sqrt(kappa)) ** 2
    mu = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    for _ in range(200):
        x_gd = x_gd - lr_gd * h * x_gd
        v = mu * v + h * x_hb
        x_hb = x_hb - lr_hb * v
    assert np.linalg.norm(x_hb) < 1e-6 * np.linalg.norm(x_gd)


def test_pytorch_sgd_defaults_first_step_and_nesterov_form():
    import inspect

    sig = inspect.signature(torch.optim.SGD).parameters
    assert sig["momentum"].default == 0 and sig["dampening"].default == 0
    assert sig["nesterov"].default is False
    lr, mu = 0.1, 0.9
    g1, g2 = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0])

    def two_steps(**kw):
        w = torch.nn.Parameter(torch.zeros(2))
        opt = torch.optim.SGD([w], lr=lr, momentum=mu, **kw)
        steps = []
        for g in (g1, g2):
            before = w.detach().clone()
            w.grad = g.clone()
            opt.step()
            steps.append(before - w.detach())
        return steps

    plain = two_steps()
    assert torch.allclose(plain[0], lr * g1)  # v starts at g: no (1 - mu) shrink on step 1
    v2 = mu * g1 + g2
    assert torch.allclose(plain[1], lr * v2)
    nesterov = two_steps(nesterov=True)
    assert torch.allclose(nesterov[1], lr * (g2 + mu * v2))  # steps along g + mu * v
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=mu, nesterov=True, dampening=0.1)


def test_lr_change_rescales_pytorch_velocity_but_not_sutskevers():
    mu, g = 0.9, 1.0
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=0.1, momentum=mu)
    v_sutskever = 0.0
    for _ in range(50):
        w.grad = torch.full((1,), g)
        opt.step()
        v_sutskever = mu * v_sutskever + 0.1 * g
    opt.param_groups[0]["lr"] = 0.01  # schedule drops lr by 10x
    before = w.item()
    w.grad = torch.full((1,), g)
    opt.step()
    pytorch_step = before - w.item()
    sutskever_step = mu * v_sutskever + 0.01 * g
    assert pytorch_step == pytest.approx(0.01 * (mu * 1 / (1 - mu) * (1 - mu**50) + g), rel=1e-4)
    assert sutskever_step > 5 * pytorch_step  # old velocity keeps the old lr


# --- rmsprop-adaptive-scaling ---------------------------------------------------


def test_rmsprop_first_step_is_ten_times_lr_with_default_alpha():
    lr = 1e-3
    w = torch.nn.Parameter(torch.zeros(3))
    g = torch.tensor([1e-4, 1.0, -50.0])
    opt = torch.optim.RMSprop([w], lr=lr)  # alpha = 0.99 by default
    w.grad = g.clone()
    opt.step()
    expected = -lr * torch.sign(g) / math.sqrt(1 - 0.99)
    assert torch.allclose(w.detach(), expected, rtol=1e-3)


def test_rmsprop_step_after_a_quiet_history_approaches_ten_times_lr():
    lr = 1e-3
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.RMSprop([w], lr=lr)
    for _ in range(2000):  # tiny gradients: s decays towards 1e-12
        w.grad = torch.full((1,), 1e-6)
        opt.step()
    before = w.item()
    w.grad = torch.full((1,), 5.0)  # then a big one
    opt.step()
    step = before - w.item()
    assert 9.5 * lr < step <= 10 * lr * (1 + 1e-4)  # bound lr / sqrt(1 - alpha)


# --- adam-update-bias-correction -------------------------------------------------


def test_adam_uncorrected_first_step_is_3_16_times_lr():
    b1, b2, g = 0.9, 0.999, 0.37
    m = (1 - b1) * g
    v = (1 - b2) * g * g
    assert m / math.sqrt(v) == pytest.approx(3.162, abs=1e-3)


def test_adam_bias_correction_recovers_constant_gradient():
    b1, g = 0.9, 1.7
    m = 0.0
    for t in range(1, 8):
        m = b1 * m + (1 - b1) * g
        assert m == pytest.approx((1 - b1**t) * g)
        assert m / (1 - b1**t) == pytest.approx(g)


def test_adam_step_after_quiet_history_jumps_to_about_three_times_lr():
    # follow-up: near-zero v, then a large gradient; ceiling (1 - b1) / sqrt(1 - b2) = 3.16
    lr = 1e-3
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([w], lr=lr)
    rng = np.random.default_rng(0)
    noisy_steps = []
    for _ in range(5000):  # small zero-mean noise: m averages out, v stays tiny
        before = w.item()
        w.grad = torch.tensor([1e-4 * rng.standard_normal()], dtype=torch.float32)
        opt.step()
        noisy_steps.append(abs(before - w.item()))
    before = w.item()
    w.grad = torch.tensor([10.0])
    opt.step()
    jump = abs(before - w.item())
    assert 2.9 * lr < jump < 0.1 / math.sqrt(0.001) * lr
    assert jump > 5 * np.mean(noisy_steps[-1000:])  # several times the usual step


def test_adam_corrected_first_step_is_lr_times_sign_for_any_gradient_scale():
    lr = 1e-3
    w = torch.nn.Parameter(torch.zeros(4))
    g = torch.tensor([1e-3, 5.0, -2e2, -0.3])
    opt = torch.optim.Adam([w], lr=lr)
    w.grad = g.clone()
    opt.step()
    assert torch.allclose(w.detach(), -lr * torch.sign(g), rtol=1e-4)


def test_clipping_a_spike_after_a_quiet_history_barely_changes_the_adam_step():
    def spike_step(spike):
        w = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.Adam([w], lr=1e-3)
        for _ in range(3000):  # quiet stretch: v decays to about 1e-12
            w.grad = torch.full((1,), 1e-6)
            opt.step()
        before = w.item()
        w.grad = torch.full((1,), spike)
        opt.step()
        return before - w.item()

    raw, clipped = spike_step(10.0), spike_step(1.0)  # clipped from 10 to 1
    assert clipped == pytest.approx(raw, rel=0.01)
    assert raw == pytest.approx(1e-3 * 0.1 / math.sqrt(0.001), rel=0.05)  # about 3 lr


def test_adam_and_adamw_defaults_and_the_decoupled_flag():
    import inspect

    adam = inspect.signature(torch.optim.Adam).parameters
    adamw = inspect.signature(torch.optim.AdamW).parameters
    assert adam["lr"].default == 1e-3 and adam["betas"].default == (0.9, 0.999)
    assert adam["eps"].default == 1e-8 and adam["weight_decay"].default == 0
    assert adamw["weight_decay"].default == 0.01
    assert adam["decoupled_weight_decay"].default is False
    rms = inspect.signature(torch.optim.RMSprop).parameters
    assert (rms["lr"].default, rms["alpha"].default, rms["eps"].default) == (0.01, 0.99, 1e-8)
    torch.manual_seed(0)
    w0, grads = torch.randn(5), [torch.randn(5) for _ in range(4)]
    out = []
    for make in (
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ):
        w = torch.nn.Parameter(w0.clone())
        opt = make([w])
        for g in grads:
            w.grad = g.clone()
            opt.step()
        out.append(w.detach())
    assert torch.equal(out[0], out[1])


# --- adamw-decoupled-weight-decay ----------------------------------------------


def test_adamw_shrinks_by_lr_times_lambda_while_adam_l2_moves_about_lr():
    lr, wd = 1e-3, 0.01
    w0 = torch.tensor([2.0, -3.0])

    w = torch.nn.Parameter(w0.clone())
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=wd)
    w.grad = torch.zeros(2)  # no data gradient at all
    opt.step()
    assert torch.allclose(w.detach(), w0 * (1 - lr * wd))

    for lam in (1e-4, 1.0):  # L2 inside Adam: step is ~lr whatever lambda is
        w = torch.nn.Parameter(w0.clone())
        opt = torch.optim.Adam([w], lr=lr, weight_decay=lam)
        w.grad = torch.zeros(2)
        opt.step()
        assert torch.allclose(w0 - w.detach(), lr * torch.sign(w0), rtol=1e-3)


def test_sgd_l2_equals_multiplicative_decay():
    lr, wd = 0.1, 0.05
    w0, g = torch.tensor([1.5, -0.5]), torch.tensor([0.2, 0.4])
    w = torch.nn.Parameter(w0.clone())
    opt = torch.optim.SGD([w], lr=lr, weight_decay=wd)
    w.grad = g.clone()
    opt.step()
    assert torch.allclose(w.detach(), (1 - lr * wd) * w0 - lr * g)


# --- linear-scaling-rule-limits ------------------------------------------------


def test_k_small_steps_match_one_scaled_step_only_when_lr_is_small():
    # quadratic loss 0.5 * w^T H w: gradients change as w moves
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    hess = a @ a.T / 5 + np.eye(5)
    w0 = rng.standard_normal(5)
    k = 8

    def gap(lr):
        w = w0.copy()
        for _ in range(k):
            w = w - lr * hess @ w
        big = w0 - k * lr * hess @ w0
        return np.linalg.norm(w - big) / np.linalg.norm(w0 - big)

    assert gap(1e-4) < 0.01
    assert gap(0.05) > 0.1


# --- xavier-he-init-derivation --------------------------------------------------


def test_relu_halves_the_second_moment_of_a_symmetric_input():
    y = np.random.default_rng(1).standard_normal(1_000_000) * 3.0
    assert np.mean(np.maximum(y, 0) ** 2) == pytest.approx(y.var() / 2, rel=0.01)
    # the ReLU output's variance is lower still: (1/2 - 1/(2 pi)) Var(y), about 0.34 Var(y)
    assert np.maximum(y, 0).var() == pytest.approx((0.5 - 1 / (2 * math.pi)) * y.var(), rel=0.01)
    assert 0.5 - 1 / (2 * math.pi) == pytest.approx(0.34, abs=0.005)


def _relu_stack_second_moment(std, n=512, layers=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, n))
    start = np.mean(x**2)
    for _ in range(layers):
        x = np.maximum(x @ (rng.standard_normal((n, n)) * std), 0)
    return np.mean(x**2) / start


def test_he_keeps_relu_activations_while_xavier_halves_them_per_layer():
    n, layers = 512, 30
    he = _relu_stack_second_moment(math.sqrt(2 / n), n, layers)
    xavier = _relu_stack_second_moment(math.sqrt(2 / (n + n)), n, layers)
    assert 0.2 < he < 5
    assert xavier == pytest.approx(2.0**-layers, rel=0.6)
    assert 2.0**-layers == pytest.approx(1e-9, rel=0.1)


def test_per_layer_gain_of_n01_and_small_std_weights():
    n = 512
    assert _relu_stack_second_moment(1.0, n, 1) == pytest.approx(256, rel=0.05)
    assert _relu_stack_second_moment(0.01, n, 1) == pytest.approx(0.0256, rel=0.05)


def test_nn_linear_default_weight_variance_is_one_third_of_inverse_fan_in():
    fan_in = 1000
    layer = torch.nn.Linear(fan_in, 2000)
    w = layer.weight.detach()
    assert w.abs().max().item() <= 1 / math.sqrt(fan_in) + 1e-7
    assert w.var().item() == pytest.approx(1 / (3 * fan_in), rel=0.02)
    he = torch.empty(2000, fan_in)
    torch.nn.init.kaiming_normal_(he)
    assert he.var().item() == pytest.approx(2 / fan_in, rel=0.02)
    assert torch.nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)


# --- zero-init-symmetry ---------------------------------------------------------


def test_constant_init_keeps_hidden_units_identical():
    torch.manual_seed(0)
    x, y = torch.randn(64, 5), torch.randn(64, 1)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    for p in net.parameters():
        torch.nn.init.constant_(p, 0.3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(50):
        opt.zero_grad()
        F.mse_loss(net(x), y).backward()
        opt.step()
    w1 = net[0].weight.detach()
    assert torch.allclose(w1, w1[0].expand_as(w1))
    assert not torch.allclose(w1, torch.full_like(w1, 0.3))  # it did train


def test_zero_init_with_relu_gives_zero_hidden_gradients():
    x, y = torch.randn(16, 5), torch.randn(16, 1)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    for p in net.parameters():
        torch.nn.init.zeros_(p)
    F.mse_loss(net(x), y).backward()
    assert net[0].weight.grad.abs().sum() == 0
    assert net[2].weight.grad.abs().sum() == 0
    assert net[2].bias.grad.abs().sum() > 0  # only the output bias learns


# --- inverted-dropout-scaling ----------------------------------------------------


def test_inverted_dropout_keeps_the_mean_and_adds_variance_p_over_1_minus_p():
    torch.manual_seed(0)
    x = torch.full((2_000_000,), 3.0)
    for p in (0.1, 0.5):
        out = F.dropout(x, p=p, training=True)
        assert out.mean().item() == pytest.approx(3.0, rel=0.01)
        assert out.var().item() == pytest.approx(9.0 * p / (1 - p), rel=0.02)
        kept = out[out != 0]
        assert torch.allclose(kept, torch.full_like(kept, 3.0 / (1 - p)))
    layer = torch.nn.Dropout(0.5).eval()
    assert torch.equal(layer(x[:100]), x[:100])
    assert torch.nn.Dropout().p == 0.5


# --- data-augmentation-label-preserving -----------------------------------------


def test_mixup_loss_is_the_mixture_of_the_two_losses():
    torch.manual_seed(0)
    logits = torch.randn(8, 5)
    y1, y2 = torch.randint(0, 5, (8,)), torch.randint(0, 5, (8,))
    lam = 0.3
    soft = lam * F.one_hot(y1, 5).float() + (1 - lam) * F.one_hot(y2, 5).float()
    mixed = F.cross_entropy(logits, soft)
    split = lam * F.cross_entropy(logits, y1) + (1 - lam) * F.cross_entropy(logits, y2)
    assert mixed.item() == pytest.approx(split.item(), rel=1e-6)


# --- early-stopping-noisy-validation --------------------------------------------


def test_accuracy_standard_error_is_about_one_point_at_n_1000():
    p, n = 0.9, 1000
    rng = np.random.default_rng(0)
    sims = rng.binomial(n, p, size=200_000) / n
    assert sims.std() == pytest.approx(math.sqrt(p * (1 - p) / n), rel=0.01)
    assert math.sqrt(p * (1 - p) / n) == pytest.approx(0.0095, abs=5e-5)


def test_best_of_50_equal_checkpoints_is_biased_by_about_two_standard_errors():
    p, n, k = 0.9, 1000, 50
    se = math.sqrt(p * (1 - p) / n)
    rng = np.random.default_rng(1)
    best = (rng.binomial(n, p, size=(20_000, k)) / n).max(axis=1)
    bias_in_se = (best.mean() - p) / se
    assert 1.8 < bias_in_se < 2.6


# --- label-smoothing-effects -----------------------------------------------------


def test_torch_label_smoothing_matches_the_mixture_target():
    torch.manual_seed(0)
    k, eps = 10, 0.1
    logits, y = torch.randn(32, k), torch.randint(0, k, (32,))
    target = (1 - eps) * F.one_hot(y, k).float() + eps / k
    manual = -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    builtin = F.cross_entropy(logits, y, label_smoothing=eps)
    assert builtin.item() == pytest.approx(manual.item(), rel=1e-6)


def test_label_smoothing_optimum_has_finite_logit_gap_log_91_and_loss_floor_0_50():
    k, eps = 10, 0.1
    z = torch.zeros(1, k, requires_grad=True)
    opt = torch.optim.SGD([z], lr=1.0)
    for _ in range(3000):
        opt.zero_grad()
        loss = F.cross_entropy(z, torch.tensor([0]), label_smoothing=eps)
        loss.backward()
        opt.step()
    gap = (z[0, 0] - z[0, 1:].mean()).item()
    assert gap == pytest.approx(math.log(91), abs=1e-3)
    assert math.log(91) == pytest.approx(4.5, abs=0.02)
    target = np.full(k, eps / k)
    target[0] += 1 - eps
    entropy = -(target * np.log(target)).sum()
    assert loss.item() == pytest.approx(entropy, abs=1e-5)
    assert entropy == pytest.approx(0.50, abs=0.005)


# --- gradient-clipping-norm-vs-value --------------------------------------------


def test_norm_clipping_keeps_direction_and_value_clipping_does_not():
    g0 = [torch.tensor([3.0, 0.1]), torch.tensor([[4.0, -0.2]])]
    total = math.sqrt(sum(float((g**2).sum()) for g in g0))

    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in g0]
    for p, g in zip(params, g0, strict=True):
        p.grad = g.clone()
    returned = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert returned.item() == pytest.approx(total, rel=1e-6)  # pre-clip norm
    flat = torch.cat([p.grad.flatten() for p in params])
    orig = torch.cat([g.flatten() for g in g0])
    assert flat.norm().item() == pytest.approx(1.0, rel=1e-4)
    assert F.cosine_similarity(flat, orig, dim=0).item() == pytest.approx(1.0, abs=1e-6)

    for p, g in zip(params, g0, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, clip_value=0.5)
    flat = torch.cat([p.grad.flatten() for p in params])
    assert torch.equal(flat, torch.tensor([0.5, 0.1, 0.5, -0.2]))
    assert F.cosine_similarity(flat, orig, dim=0).item() < 0.99  # direction changed


def test_clip_grad_norm_leaves_small_gradients_alone_and_uses_c_over_norm_plus_1e_6():
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([0.3, 0.4])  # norm 0.5, below the threshold
    assert torch.nn.utils.clip_grad_norm_([p], max_norm=1.0).item() == pytest.approx(0.5)
    assert torch.equal(p.grad, torch.tensor([0.3, 0.4]))  # coefficient clamped at 1
    p.grad = torch.tensor([3.0, 4.0])  # norm 5
    torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert torch.allclose(p.grad, torch.tensor([3.0, 4.0]) / (5.0 + 1e-6))


# --- mixed-precision-fp16-vs-bf16 / loss-scaling-master-weights ------------------


def test_fp16_and_bf16_ranges_and_spacing():
    assert float(np.finfo(np.float16).max) == 65504.0
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(70000.0))
    assert float(np.finfo(np.float16).tiny) == pytest.approx(6.1e-5, rel=0.01)
    assert float(np.float16(2.0**-24)) > 0 and float(np.float16(2.0**-26)) == 0.0
    assert float(np.finfo(np.float16).eps) == 2.0**-10
    bf = torch.finfo(torch.bfloat16)
    assert bf.max == pytest.approx(torch.finfo(torch.float32).max, rel=0.01)
    assert bf.max == pytest.approx(3.39e38, rel=0.01)
    assert bf.eps == 2.0**-7
    assert torch.isfinite(torch.tensor(1e30, dtype=torch.bfloat16))


def test_small_additions_round_away_in_16_bit():
    one_bf = torch.tensor(1.0, dtype=torch.bfloat16)
    assert (one_bf + torch.tensor(0.001, dtype=torch.bfloat16)).item() == 1.0
    assert float(np.float16(1.0) + np.float16(0.001)) == pytest.approx(1.00098, abs=1e-5)
    # a 1e-4 update on a weight of 1.0 vanishes in fp16 but survives in fp32
    assert float(np.float16(1.0) + np.float16(1e-4)) == 1.0
    assert float(np.float32(1.0) + np.float32(1e-4)) != 1.0


def test_loss_scaling_rescues_a_gradient_below_fp16_subnormals():
    g = 1e-8
    assert float(np.float16(g)) == 0.0
    scale = 65536.0
    scaled = np.float16(g * scale)
    assert float(scaled) == pytest.approx(6.55e-4, rel=0.01)
    assert float(np.float32(scaled) / np.float32(scale)) == pytest.approx(g, rel=0.01)


def test_gradscaler_defaults_and_backoff_on_inf():
    scaler = torch.amp.GradScaler("cpu")
    assert scaler.get_scale() == 65536.0
    assert scaler.get_growth_interval() == 2000
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler.scale((w * float("inf")).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 32768.0
    assert torch.equal(w.detach(), torch.ones(2))  # the step was skipped


def test_gradscaler_growth_and_backoff_factors():
    import inspect

    sig = inspect.signature(torch.amp.GradScaler).parameters
    assert sig["init_scale"].default == 2.0**16 == 65536
    assert sig["growth_factor"].default == 2.0 and sig["backoff_factor"].default == 0.5
    assert sig["growth_interval"].default == 2000
    scaler = torch.amp.GradScaler("cpu", growth_interval=3)  # short interval, same rule
    w = torch.nn.Parameter(torch.ones(1))
    opt = torch.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        scaler.scale(w.sum()).backward()
        scaler.step(opt)
        scaler.update()
    assert scaler.get_scale() == 2 * 65536.0  # doubled after growth_interval clean steps


# CUDA autocast policy, from the "CUDA Ops that can autocast to float32" list of the
# torch.amp docs (docs/source/amp.md, PyTorch 2.x). Only the ops the cards name.
CUDA_FP32_OPS_NAMED_IN_CARDS = {
    "softmax",
    "log_softmax",
    "exp",
    "log",
    "pow",
    "sum",
    "prod",
    "cumsum",
    "norm",
    "layer_norm",
    "group_norm",
    "mse_loss",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
}
CUDA_AUTOCAST_FP32_DOC_LIST = {
    "__pow__", "__rdiv__", "__rpow__", "__rtruediv__", "acos", "asin", "binary_cross_entropy_with_logits",
    "cosh", "cosine_embedding_loss", "cdist", "cosine_similarity", "cross_entropy", "cumprod", "cumsum",
    "dist", "erfinv", "exp", "expm1", "group_norm", "hinge_embedding_loss", "kl_div", "l1_loss",
    "layer_norm", "log", "log_softmax", "log10", "log1p", "log2", "margin_ranking_loss", "mse_loss",
    "multilabel_margin_loss", "multi_margin_loss", "nll_loss", "norm", "normalize", "pdist",
    "poisson_nll_loss", "pow", "prod", "reciprocal", "rsqrt", "sinh", "smooth_l1_loss",
    "soft_margin_loss", "softmax", "softmin", "softplus", "sum", "renorm", "tan", "triplet_margin_loss",
}  # fmt: skip


def test_cuda_autocast_fp32_list_has_sum_and_layer_norm_but_not_mean_or_batch_norm():
    assert CUDA_FP32_OPS_NAMED_IN_CARDS <= CUDA_AUTOCAST_FP32_DOC_LIST
    assert not {"mean", "batch_norm", "max"} & CUDA_AUTOCAST_FP32_DOC_LIST
    # The installed torch registers CUDA autocast kernels even in a CPU build: an op
    # with no AutocastCUDA kernel is never cast by autocast and runs in its inputs' dtype.
    has = torch._C._dispatch_has_kernel_for_dispatch_key
    for op in ("aten::sum", "aten::prod", "aten::exp", "aten::log", "aten::softmax.int",
               "aten::log_softmax.int", "aten::layer_norm", "aten::group_norm", "aten::nll_loss",
               "aten::mse_loss", "aten::mm", "aten::conv2d"):  # fmt: skip
        assert has(op, "AutocastCUDA"), op
    for op in ("aten::mean", "aten::batch_norm", "aten::native_batch_norm", "aten::cudnn_batch_norm"):
        assert not has(op, "AutocastCUDA"), op
    # plain binary_cross_entropy has a CUDA autocast kernel: the one that raises
    assert has("aten::binary_cross_entropy", "AutocastCUDA")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_cpu_autocast_lists_differ_from_cuda():
    x, w = torch.randn(4, 8), torch.randn(8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = x @ w
        assert h.dtype == torch.bfloat16  # matmul in low precision
        assert torch.softmax(h, -1).dtype == torch.bfloat16  # not on CPU's fp32 list
        assert h.sum().dtype == torch.bfloat16
        assert torch.nn.LayerNorm(8)(h).dtype == torch.bfloat16
        assert h.mean().dtype == torch.bfloat16
        assert h.prod().dtype == torch.float32  # on CPU's fp32 list
        assert F.mse_loss(h, torch.zeros_like(h)).dtype == torch.float32
        assert F.cross_entropy(h, torch.zeros(4, dtype=torch.long)).dtype == torch.float32


def test_mixed_precision_adam_is_16_bytes_per_parameter():
    # measure the tensors a mixed-precision Adam step really keeps
    torch.manual_seed(0)
    master = torch.nn.Linear(32, 16)  # fp32 master weights
    n = sum(p.numel() for p in master.parameters())
    half = [p.detach().to(torch.bfloat16) for p in master.parameters()]  # compute copy
    grads = [torch.randn_like(h) for h in half]  # 16-bit gradients
    opt = torch.optim.Adam(master.parameters())
    for p, g in zip(master.parameters(), grads, strict=True):
        p.grad = g.float()
    opt.step()
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values() if t.dim() > 0)
    total = (
        sum(h.numel() * h.element_size() for h in half)
        + sum(g.numel() * g.element_size() for g in grads)
        + sum(p.numel() * p.element_size() for p in master.parameters())
        + state
    )
    assert state / n == 8  # m and v in fp32
    assert total / n == 16  # 2 + 2 + 4 + 8
    assert (total - state - 4 * n) / n == 4  # mixed precision shrinks only weights and grads


# --- grad-accumulation-effective-batch ---------------------------------------------


def test_accumulated_scaled_micro_batch_gradients_equal_the_full_batch_gradient():
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    F.cross_entropy(model(x), y).backward()
    full = model.weight.grad.clone()
    model.zero_grad()
    accum = 8
    for xb, yb in zip(x.chunk(accum), y.chunk(accum), strict=True):
        (F.cross_entropy(model(xb), yb) / accum).backward()
    assert torch.allclose(model.weight.grad, full, atol=1e-6)


def test_averaging_per_micro_batch_token_means_misweights_unequal_batches():
    rng = np.random.default_rng(0)
    a = 2.0 + rng.random(10)  # short micro-batch, harder tokens
    b = rng.random(90)  # long micro-batch
    per_batch = (a.mean() + b.mean()) / 2
    per_token = np.concatenate([a, b]).mean()
    assert abs(per_batch - per_token) > 0.5
    assert (a.sum() + b.sum()) / (a.size + b.size) == pytest.approx(per_token)


# --- activation-checkpointing-tradeoff -----------------------------------------


def test_sqrt_n_segments_minimize_checkpoint_memory():
    for n in (16, 100, 400):
        best_k = min(range(1, n + 1), key=lambda k: n / k + k)
        assert best_k == math.isqrt(n)


def test_checkpointed_block_with_dropout_gives_identical_gradients():
    from torch.utils.checkpoint import checkpoint

    block = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.GELU(), torch.nn.Dropout(0.3), torch.nn.Linear(32, 8))
    x = torch.randn(4, 8)

    def grads(use_ckpt):
        block.zero_grad()
        torch.manual_seed(123)
        out = checkpoint(block, x, use_reentrant=False) if use_ckpt else block(x)
        out.pow(2).sum().backward()
        return [p.grad.clone() for p in block.parameters()]

    for g1, g2 in zip(grads(False), grads(True), strict=True):
        assert torch.allclose(g1, g2)


def test_checkpoint_recompute_runs_batchnorm_forward_twice():
    from torch.utils.checkpoint import checkpoint

    bn = torch.nn.BatchNorm1d(4)
    x = torch.randn(8, 4, requires_grad=True)
    out = checkpoint(bn, x, use_reentrant=False)
    assert bn.num_batches_tracked.item() == 1
    out.sum().backward()  # the recomputed forward updates the running statistics again
    assert bn.num_batches_tracked.item() == 2


def test_activation_checkpointing_numbers():
    s, b, h, a = 2048, 1, 2048, 16
    assert 2 * s * b * h / 1e6 == pytest.approx(8.4, abs=0.05)  # block input only, MB
    assert 5 * a * s * s * b / 1e6 == pytest.approx(336, abs=1)  # attention core, MB
    assert (6 + 2) / 6 == pytest.approx(1.33, abs=0.01)  # one extra forward


# --- lr-schedules-step-cosine-onecycle -------------------------------------------


def _lrs(opt, sched, steps):
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_cosine_formula_matches_cosine_annealing_lr():
    lr_max, lr_min, t_max = 0.1, 0.001, 50
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr_max)
    got = _lrs(opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=lr_min), t_max + 1)
    expected = [lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t / t_max)) for t in range(t_max + 1)]
    assert np.allclose(got, expected, rtol=1e-6)


def test_one_cycle_defaults_start_peak_and_end():
    max_lr, total = 0.4, 1000
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    lrs = _lrs(opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total), total)
    assert lrs[0] == pytest.approx(max_lr / 25)
    assert int(np.argmax(lrs)) == pytest.approx(0.3 * total, abs=2)
    assert lrs[-1] == pytest.approx(max_lr / 25 / 1e4, rel=1e-3)


def test_one_cycle_moves_momentum_inversely_between_0_95_and_0_85():
    max_lr, total = 0.4, 1000
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total)
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    peak = int(np.argmax(lrs))
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85, abs=1e-4)
    assert moms[-1] == pytest.approx(0.95, abs=1e-4)


def test_transformer_schedule_peaks_at_warmup_near_7e_4():
    d, warm = 512, 4000
    steps = np.arange(1, 20_000)
    lr = d**-0.5 * np.minimum(steps**-0.5, steps * warm**-1.5)
    assert steps[np.argmax(lr)] == warm
    assert lr.max() == pytest.approx(7.0e-4, rel=0.01)


# --- weight-decay-scale-invariance ------------------------------------------------


def test_weights_before_batchnorm_get_orthogonal_gradient_scaling_as_inverse_norm():
    torch.manual_seed(0)
    x, y = torch.randn(32, 10), torch.randn(32, 4)
    bn = torch.nn.BatchNorm1d(4, affine=False)
    w0 = torch.randn(4, 10)

    def grad_at(w):
        w = w.clone().requires_grad_(True)
        F.mse_loss(bn(x @ w.T), y).backward()
        return w.grad

    g1, g2 = grad_at(w0), grad_at(2 * w0)
    assert (g1 * w0).sum().abs().item() < 1e-5 * g1.norm().item() * w0.norm().item()
    assert torch.allclose(g2, g1 / 2, atol=1e-6)
    stepped = w0 - 0.1 * g1
    assert stepped.norm().item() ** 2 == pytest.approx(w0.norm().item() ** 2 + 0.01 * g1.norm().item() ** 2, rel=1e-4)


def _angular_step_at_equilibrium(mu, lr=0.1, wd=5e-4, steps=30_000, d=32, runs=8, seed=0):
    """SGD (PyTorch semantics: decay folded into the gradient before momentum) on a
    scale-invariant loss <w / ||w||, z> with fresh noise z each step."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((runs, d))
    w *= 3.0 / np.linalg.norm(w, axis=1, keepdims=True)
    v = np.zeros_like(w)
    angles = []
    for t in range(steps):
        norm = np.linalg.norm(w, axis=1, keepdims=True)
        u = w / norm
        z = rng.standard_normal((runs, d))
        g = (z - (z * u).sum(axis=1, keepdims=True) * u) / norm  # orthogonal to w, ~1/||w||
        v = mu * v + g + wd * w
        new = w - lr * v
        if t >= steps - 3000:
            cos = (w * new).sum(axis=1) / (np.linalg.norm(w, axis=1) * np.linalg.norm(new, axis=1))
            angles.append(np.arccos(np.clip(cos, -1.0, 1.0)).mean())
        w = new
    return float(np.mean(angles))


def test_equilibrium_angular_step_is_sqrt_2_lr_wd_and_shrinks_with_momentum():
    lr, wd = 0.1, 5e-4
    assert math.sqrt(2 * lr * wd) == pytest.approx(0.01)
    assert math.degrees(0.01) == pytest.approx(0.57, abs=0.01)
    assert _angular_step_at_equilibrium(0.0) == pytest.approx(math.sqrt(2 * lr * wd), rel=0.01)
    assert _angular_step_at_equilibrium(0.9) == pytest.approx(math.sqrt(2 * lr * wd / 1.9), rel=0.02)


# --- loss-nan-debug-order --------------------------------------------------------


def test_numerical_nan_sources_and_their_stable_replacements():
    x = torch.tensor([-200.0])
    assert torch.isinf(torch.log(torch.sigmoid(x))).all()
    assert F.logsigmoid(x).item() == pytest.approx(-200.0)
    z = torch.zeros(1, requires_grad=True)
    torch.sqrt(z).sum().backward()
    assert torch.isinf(z.grad).all()
    assert torch.isnan(torch.tensor([]).mean())  # masked mean over zero tokens


def test_log_of_sigmoid_gives_a_nan_gradient_and_logsigmoid_does_not():
    z = torch.tensor([-200.0], requires_grad=True)
    torch.log(torch.sigmoid(z)).backward()
    assert torch.isnan(z.grad).all()
    z.grad = None
    F.logsigmoid(z).backward()
    assert z.grad.item() == pytest.approx(1.0)


def test_adam_spike_bound_with_beta2_0_95():
    assert 0.1 / math.sqrt(0.001) == pytest.approx(3.16, abs=0.005)
    assert 0.1 / math.sqrt(0.05) == pytest.approx(0.45, abs=0.005)
    assert 1 / (1 - 0.999) == pytest.approx(1000)


# --- training-recipe-1b-llm ---------------------------------------------------------


def test_1b_recipe_arithmetic():
    layers, d, vocab = 16, 2048, 50_304  # Pythia-1B's shape, untied embeddings
    block_params = layers * 12 * d * d
    assert block_params == pytest.approx(0.8e9, rel=0.01)
    embeddings = 2 * vocab * d
    assert embeddings == pytest.approx(0.2e9, rel=0.05)
    assert block_params + embeddings == pytest.approx(1.0e9, rel=0.02)
    assert 16 * (block_params + embeddings) / 1e9 == pytest.approx(16, rel=0.02)  # GB of model states
    n, tokens = 1e9, 20 * 1e9
    flops = 6 * n * tokens
    assert flops == pytest.approx(1.2e20)
    seconds = flops / (8 * 312e12 * 0.4)
    assert seconds / 3600 == pytest.approx(33, rel=0.03)


# --- finetune-pretrained-lr-freezing ----------------------------------------------


def test_model_train_undoes_a_batchnorm_eval_freeze():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    model[1].eval()
    for p in model[1].parameters():
        p.requires_grad_(False)
    before = model[1].running_mean.clone()
    model(torch.randn(2, 3, 8, 8))
    assert torch.equal(model[1].running_mean, before)  # frozen statistics
    model.train()
    assert model[1].training
    model(torch.randn(2, 3, 8, 8))
    assert not torch.equal(model[1].running_mean, before)  # requires_grad=False did not stop this


# --- hyperparam-search-grid-random-bayes-hyperband -------------------------------


def test_nine_grid_trials_try_three_values_per_axis_and_nine_random_trials_try_nine():
    grid = [(lr, wd) for lr in (1e-4, 1e-3, 1e-2) for wd in (0.0, 0.01, 0.1)]
    assert len(grid) == 9 and len({lr for lr, _ in grid}) == 3
    rng = np.random.default_rng(0)
    trials = rng.random((9, 2))
    assert len(set(trials[:, 0])) == 9 and len(set(trials[:, 1])) == 9


def test_sixty_random_trials_hit_the_best_five_percent_with_probability_095():
    p = 1 - 0.95**60
    assert p == pytest.approx(0.954, abs=5e-4)
    rng = np.random.default_rng(1)
    simulated = (rng.random((20_000, 60)) < 0.05).any(axis=1).mean()
    assert simulated == pytest.approx(p, abs=0.01)


def _successive_halving(n, r, eta):
    rounds = [(n, r)]
    while n > 1:
        n, r = n // eta, r * eta
        rounds.append((n, r))
    return rounds


def test_successive_halving_81_configs_costs_405_epochs_instead_of_6561():
    rounds = _successive_halving(81, 1, 3)
    assert rounds == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    assert all(n * r == 81 for n, r in rounds)  # every rung costs the same
    assert sum(n * r for n, r in rounds) == 405
    assert 81 * 81 == 6561
    # if survivors resume from their checkpoints, a rung only pays for the epochs it adds
    resumed = rounds[0][0] * rounds[0][1] + sum(
        n * (r - r_prev) for (n, r), (_, r_prev) in zip(rounds[1:], rounds[:-1], strict=True)
    )
    assert resumed == 297


# --- hyperparams-that-matter-log-scale --------------------------------------------


def test_uniform_lr_sampling_wastes_samples_and_log_uniform_spreads_them():
    lo, hi = 1e-5, 1e-1
    top_decade = (hi - 1e-2) / (hi - lo)
    assert top_decade == pytest.approx(0.90, abs=1e-3)
    assert (1e-3 - lo) / (hi - lo) == pytest.approx(0.0099, abs=1e-4)  # about 1% below 1e-3
    rng = np.random.default_rng(2)
    lrs = 10 ** rng.uniform(-5, -1, 100_000)
    per_decade = np.histogram(np.log10(lrs), bins=[-5, -4, -3, -2, -1])[0] / lrs.size
    assert np.allclose(per_decade, 0.25, atol=0.01)


# --- adagrad-sparse-features -----------------------------------------------------


def test_adagrad_defaults_and_first_step_is_lr_times_sign_of_the_gradient():
    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adagrad([w])
    d = opt.defaults
    assert (d["lr"], d["eps"], d["initial_accumulator_value"], d["lr_decay"]) == (0.01, 1e-10, 0, 0)
    w.grad = torch.tensor([1e-4, -5.0, 300.0])
    opt.step()
    assert torch.allclose(w.detach(), torch.tensor([-0.01, 0.01, -0.01]))


def test_adagrad_rare_feature_gets_a_10x_larger_step_but_moves_10x_less_in_total():
    lr, steps = 0.1, 10_000
    w = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adagrad([w], lr=lr)
    for t in range(1, steps + 1):
        w.grad = torch.tensor([1.0, 1.0 if t % 100 == 0 else 0.0])  # frequent, rare (1% of steps)
        opt.step()
    G = opt.state[w]["sum"]
    assert torch.equal(G, torch.tensor([10_000.0, 100.0]))
    step_now = lr / G.sqrt()  # size of the latest update for each feature
    assert step_now.tolist() == pytest.approx([lr / 100, lr / 10])
    moved = -w.detach()  # lr * sum_k k^-1/2 over each feature's own updates, about 2 * lr * sqrt(n)
    exact = [lr * sum(k**-0.5 for k in range(1, n + 1)) for n in (10_000, 100)]
    assert moved.tolist() == pytest.approx(exact, rel=1e-4)
    assert (moved[0] / moved[1]).item() == pytest.approx(10.7, abs=0.05)  # about ten times further


def test_rmsprop_step_stays_near_lr_while_adagrad_decays_as_one_over_sqrt_t():
    lr, steps = 0.01, 10_000
    a = torch.nn.Parameter(torch.zeros(1))
    r = torch.nn.Parameter(torch.zeros(1))
    opt_a = torch.optim.Adagrad([a], lr=lr)
    opt_r = torch.optim.RMSprop([r], lr=lr)
    for _ in range(steps):
        before = (a.item(), r.item())
        a.grad, r.grad = torch.ones(1), torch.ones(1)
        opt_a.step()
        opt_r.step()
    step_a, step_r = before[0] - a.item(), before[1] - r.item()
    assert step_a == pytest.approx(lr / math.sqrt(steps), rel=1e-3)
    assert step_r == pytest.approx(lr, rel=1e-3)


# --- weight-averaging-ema-swa ----------------------------------------------------


def test_ema_window_numbers_for_decay_0999_and_09999():
    d = 0.999
    assert math.log(0.5) / math.log(d) == pytest.approx(693, abs=0.5)  # half-life in steps
    assert 1 - d**1000 == pytest.approx(0.632, abs=1e-3)  # share of the weight on the last 1000 steps
    assert 1 / (1 - 0.9999) == pytest.approx(10_000)


def test_averaged_model_ema_copies_on_first_update_then_lerps():
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    m = torch.nn.Linear(2, 1, bias=False)
    ema = AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    with torch.no_grad():
        m.weight.fill_(1.0)
    ema.update_parameters(m)
    assert torch.equal(ema.module.weight, m.weight)  # no zero-initialised bias to correct
    with torch.no_grad():
        m.weight.fill_(2.0)
    ema.update_parameters(m)
    assert torch.allclose(ema.module.weight, torch.full((1, 2), 0.9 * 1.0 + 0.1 * 2.0))


def test_averaged_model_default_is_the_equal_weight_mean_of_the_snapshots():
    from torch.optim.swa_utils import AveragedModel

    m = torch.nn.Linear(3, 1)
    swa = AveragedModel(m)
    snapshots = []
    for k in range(5):
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(torch.randn_like(p) * (k + 1))
        snapshots.append([p.detach().clone() for p in m.parameters()])
        swa.update_parameters(m)
    assert swa.n_averaged.item() == 5
    for p_avg, *ps in zip(swa.module.parameters(), *snapshots, strict=True):
        assert torch.allclose(p_avg, torch.stack(ps).mean(0), atol=1e-6)


def test_swa_keeps_the_live_models_bn_buffers_until_update_bn_recomputes_them():
    from torch.optim.swa_utils import AveragedModel, update_bn

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    swa = AveragedModel(net)
    swa.update_parameters(net)
    with torch.no_grad():
        net[0].weight.mul_(3.0)
    for _ in range(5):
        net(torch.randn(64, 3))
    swa.update_parameters(net)
    # buffers are copied from the live model, so they describe the last weights, not the average
    assert torch.equal(swa.module[1].running_mean, net[1].running_mean)

    loader = [torch.randn(16, 3) + 2.0 for _ in range(4)]
    swa.eval()
    update_bn(loader, swa)
    with torch.no_grad():
        feats = torch.cat([swa.module[0](b) for b in loader])
    assert torch.allclose(swa.module[1].running_mean, feats.mean(0), atol=1e-5)  # cumulative average
    assert swa.module[1].num_batches_tracked.item() == 4
    assert swa.module[1].momentum == 0.1  # restored after the pass with momentum=None
    assert not swa.training  # the previous mode is restored too


# --- epochs-vs-sampling-with-replacement -----------------------------------------


def test_n_draws_with_replacement_see_about_63_percent_of_the_examples():
    n = 10_000
    expected = 1 - (1 - 1 / n) ** n
    assert expected == pytest.approx(1 - math.exp(-1), abs=1e-4)
    assert expected == pytest.approx(0.632, abs=1e-3)
    rng = np.random.default_rng(3)
    seen = np.unique(rng.integers(0, n, n)).size / n
    assert seen == pytest.approx(expected, abs=0.01)


def test_shuffle_true_visits_each_index_once_and_weighted_sampler_draws_with_replacement():
    from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler

    data = list(range(100))
    loader = DataLoader(data, batch_size=10, shuffle=True)
    assert isinstance(loader.sampler, RandomSampler) and loader.sampler.replacement is False
    order = torch.cat(list(loader)).tolist()
    assert sorted(order) == data and order != data
    weighted = WeightedRandomSampler([1.0] * 100, num_samples=100)
    assert weighted.replacement is True
    assert len(set(weighted)) < 100  # some indices repeat, others are skipped


def test_reshuffling_ends_closer_to_the_optimum_than_sampling_with_replacement():
    rng = np.random.default_rng(0)
    n, d = 64, 5
    A, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    w_star = np.linalg.lstsq(A, b, rcond=None)[0]

    def final_error(replace, seed, epochs=30, lr=0.02):
        r = np.random.default_rng(seed)
        w = np.zeros(d)
        for _ in range(epochs):
            for i in r.integers(0, n, n) if replace else r.permutation(n):
                w -= lr * (A[i] @ w - b[i]) * A[i]
        return np.sum((w - w_star) ** 2)

    with_replacement = np.mean([final_error(True, s) for s in range(100)])
    reshuffled = np.mean([final_error(False, s) for s in range(100)])
    assert reshuffled < with_replacement / 3


# --- randomness-in-training ------------------------------------------------------


def test_minibatch_gradient_noise_shrinks_as_one_over_sqrt_batch():
    rng = np.random.default_rng(4)
    per_example = rng.standard_normal(200_000) * 3.0 + 1.0  # per-example gradients, std 3
    stds = {}
    for B in (32, 256):
        batches = rng.choice(per_example, size=(4000, B))
        stds[B] = batches.mean(axis=1).std()
    assert stds[32] / stds[256] == pytest.approx(math.sqrt(8), rel=0.05)
    assert math.sqrt(8) == pytest.approx(2.83, abs=0.005)


def test_seeded_dropout_masks_repeat_and_different_seeds_differ():
    x = torch.ones(1000)
    masks = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        masks.append(F.dropout(x, p=0.5, training=True) != 0)
    assert torch.equal(masks[0], masks[1])
    assert not torch.equal(masks[0], masks[2])
