"""Numeric claims made by the cards in questions/production.yaml, recomputed independently."""

import math
import unicodedata

import numpy as np
import pytest
from numerics import ring_all_reduce

# --- debugging a training run -------------------------------------------------


def test_chance_level_cross_entropy_is_ln_c():
    torch = pytest.importorskip("torch")
    logits = torch.zeros(64, 10)  # a uniform prediction over 10 classes
    targets = torch.randint(0, 10, (64,))
    loss = torch.nn.functional.cross_entropy(logits, targets).item()
    assert loss == pytest.approx(math.log(10), rel=1e-6)
    assert loss == pytest.approx(2.303, abs=1e-3)


def test_handwritten_log_softmax_gives_nan_where_fused_loss_is_finite():
    torch = pytest.importorskip("torch")
    z = torch.tensor([[0.0, -200.0]])  # second probability underflows to 0 in fp32
    y_onehot = torch.tensor([[1.0, 0.0]])
    p = torch.softmax(z, dim=1)
    assert p[0, 1].item() == 0.0
    handwritten = -(y_onehot * torch.log(p)).sum()  # 0 * log(0) = 0 * -inf = nan
    assert torch.isnan(handwritten)
    fused = torch.nn.functional.cross_entropy(z, torch.tensor([0]))
    assert torch.isfinite(fused)


def test_fp16_overflows_above_65504():
    torch = pytest.importorskip("torch")
    assert torch.finfo(torch.float16).max == 65504.0
    assert torch.isinf(torch.tensor(70000.0).half())


def test_adam_first_step_after_state_reset_moves_each_param_by_lr():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(1000))
    lr = 1e-3
    opt = torch.optim.Adam([w], lr=lr)
    before = w.detach().clone()
    w.grad = torch.randn(1000) * torch.rand(1000)  # gradients of very different sizes
    opt.step()
    moved = (w.detach() - before).abs()
    # m_hat / sqrt(v_hat) = g / |g| on the first step: every coordinate moves by ~lr
    assert torch.allclose(moved, torch.full_like(moved, lr), rtol=1e-3)


def test_bias_of_minus_five_kills_almost_all_relu_units():
    rng = np.random.default_rng(0)
    n_inputs, n_units = 5000, 256
    pre = rng.standard_normal((n_inputs, n_units))  # unit-variance pre-activations
    dead_shifted = np.all(pre - 5.0 <= 0, axis=0).mean()
    dead_centred = np.all(pre <= 0, axis=0).mean()
    assert dead_shifted > 0.99
    assert dead_centred == 0.0
    # leaky ReLU still passes a gradient (0.01) to every unit on every input
    leaky_grad = np.where(pre - 5.0 > 0, 1.0, 0.01)
    assert np.all(leaky_grad > 0)


def test_accuracy_standard_error_at_90_percent_on_1000_examples():
    se = math.sqrt(0.9 * 0.1 / 1000)
    assert se == pytest.approx(0.0095, abs=5e-5)
    rng = np.random.default_rng(1)
    correct = rng.random(1000) < 0.9
    boot = [rng.choice(correct, size=correct.size).mean() for _ in range(3000)]
    assert np.std(boot) == pytest.approx(se, rel=0.1)


@pytest.mark.parametrize("n_workers", [4, 8])
def test_ring_allreduce_sends_2_n_minus_1_over_n_of_the_gradient(n_workers):
    rng = np.random.default_rng(n_workers)
    size = 80 * n_workers
    grads = [rng.standard_normal(size) for _ in range(n_workers)]
    results, sent = ring_all_reduce([g.astype(float) for g in grads])
    total = np.sum(grads, axis=0)
    for res in results:
        np.testing.assert_allclose(res, total)
    for s in sent:
        assert s / size == pytest.approx(2 * (n_workers - 1) / n_workers)
    assert 2 * (4 - 1) / 4 == 1.5 and 2 * (8 - 1) / 8 == 1.75


def test_dataloader_worker_arithmetic():
    assert math.ceil(2000 / 150) == 14


def test_epoch_length_matches_spike_period():
    assert 80_000 // 64 == 1250


def test_nfc_nfd_forms_and_accent_stripping():
    word = "schön"
    nfc = unicodedata.normalize("NFC", word)
    nfd = unicodedata.normalize("NFD", word)
    assert len(nfc) == 5 and len(nfd) == 6
    assert nfc != nfd  # same word, different code points
    stripped = "".join(ch for ch in nfd if unicodedata.category(ch) != "Mn")
    assert stripped == "schon"


def test_label_smoothing_loss_floor_is_target_entropy():
    torch = pytest.importorskip("torch")
    c, eps = 10, 0.1
    target = torch.full((c,), eps / c)
    target[3] += 1 - eps  # PyTorch mixes one-hot with a uniform distribution
    entropy = -(target * target.log()).sum().item()
    logits = target.log().unsqueeze(0)  # the best possible prediction q = target
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([3]), label_smoothing=eps).item()
    assert loss == pytest.approx(entropy, rel=1e-5)
    assert loss == pytest.approx(0.50, abs=0.005)
    # any other prediction does worse
    worse = torch.nn.functional.cross_entropy(logits * 3, torch.tensor([3]), label_smoothing=eps).item()
    assert worse > loss


def test_fully_cut_graph_raises_and_only_a_rewrapped_loss_leaves_grad_none():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        lin(x).detach().pow(2).mean().backward()
    with torch.no_grad():
        cut = lin(x).pow(2).mean()
    with pytest.raises(RuntimeError, match="does not require grad"):
        cut.backward()
    # the silent version: the loss value rewrapped as a fresh leaf tensor
    rewrapped = torch.tensor(lin(x).pow(2).mean().item(), requires_grad=True)
    rewrapped.backward()
    assert lin.weight.grad is None and lin.bias.grad is None


class _NumpyNoise:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.random.randint(0, 2**31 - 1)


def test_dataloader_workers_seed_numpy_from_the_loader_seed():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    def draw(seed):
        g = torch.Generator()
        g.manual_seed(seed)
        loader = DataLoader(_NumpyNoise(), batch_size=2, num_workers=2, generator=g)
        return torch.cat(list(loader)).tolist()

    first = draw(5)
    assert first == draw(5)  # no worker_init_fn, yet NumPy inside workers repeats
    assert first != draw(6)
    assert len(set(first)) == len(first)  # the two workers do not share a NumPy stream


def test_train_mode_bn_running_stats_decay_towards_eval_data():
    torch = pytest.importorskip("torch")
    bn = torch.nn.BatchNorm1d(1)  # momentum 0.1
    bn.running_mean.fill_(10.0)  # "training" statistic
    bn.train()
    with torch.no_grad():
        for _ in range(22):
            bn(torch.zeros(16, 1))  # evaluation batches with mean 0
    assert bn.running_mean.item() == pytest.approx(10.0 * 0.9**22, rel=1e-5)
    assert 0.9**22 == pytest.approx(0.1, abs=0.005)


# --- implementation mistakes --------------------------------------------------


def test_train_mode_is_random_and_updates_bn_stats_even_under_no_grad():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3)
    )
    x = torch.randn(32, 8)
    bn = model[1]
    stats_before = bn.running_mean.clone()
    model.train()
    with torch.no_grad():
        a, b = model(x), model(x)
    assert not torch.allclose(a, b)  # dropout draws new masks
    assert not torch.allclose(bn.running_mean, stats_before)  # stats overwritten despite no_grad
    model.eval()
    stats_eval = bn.running_mean.clone()
    with torch.no_grad():
        c, d = model(x), model(x)
    assert torch.equal(c, d)
    assert torch.equal(bn.running_mean, stats_eval)
    # eval() leaves autograd on
    assert model(x).requires_grad
    # a batch of one fails in train mode for BatchNorm1d
    model.train()
    with pytest.raises(ValueError):
        model(torch.randn(1, 8))
    assert torch.nn.BatchNorm1d(4).momentum == 0.1


def test_register_buffer_moves_with_module_plain_attribute_does_not():
    torch = pytest.importorskip("torch")

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("buf", torch.ones(3))
            self.plain = torch.ones(3)

    m = M().to(torch.float64)
    assert m.buf.dtype == torch.float64
    assert m.plain.dtype == torch.float32
    assert "buf" in m.state_dict() and "plain" not in m.state_dict()


def test_mse_gradient_vanishes_when_confidently_wrong_but_ce_does_not():
    torch = pytest.importorskip("torch")
    z = torch.tensor(-10.0, requires_grad=True)
    p = torch.sigmoid(z)
    ((p - 1.0) ** 2).backward()
    mse_grad = z.grad.item()
    z2 = torch.tensor(-10.0, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(z2, torch.tensor(1.0)).backward()
    ce_grad = z2.grad.item()
    pv = 1 / (1 + math.exp(10))
    assert mse_grad == pytest.approx(2 * (pv - 1) * pv * (1 - pv), rel=1e-4)
    assert mse_grad == pytest.approx(-9.08e-5, rel=1e-2)
    assert ce_grad == pytest.approx(pv - 1, rel=1e-5)
    assert abs(ce_grad) / abs(mse_grad) > 1e4


def test_seeded_dataloader_generator_repeats_shuffle_order():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(torch.arange(100))

    def order(seed):
        g = torch.Generator()
        g.manual_seed(seed)
        return torch.cat([b[0] for b in DataLoader(ds, batch_size=10, shuffle=True, generator=g)]).tolist()

    assert order(7) == order(7)
    assert order(7) != order(8)
    torch.manual_seed(3)
    a = torch.randn(5)
    torch.manual_seed(3)
    assert torch.equal(a, torch.randn(5))


def test_backward_twice_doubles_grad_and_zero_grad_before_step_blocks_update():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 1)
    x = torch.randn(8, 4)
    lin(x).pow(2).mean().backward()
    g1 = lin.weight.grad.clone()
    lin(x).pow(2).mean().backward()
    assert torch.allclose(lin.weight.grad, 2 * g1)

    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    opt.zero_grad()
    before = lin.weight.detach().clone()
    lin(x).pow(2).mean().backward()
    opt.zero_grad()  # misplaced: wipes the gradients (set_to_none=True by default)
    assert lin.weight.grad is None
    opt.step()
    assert torch.equal(lin.weight.detach(), before)


def test_double_softmax_loss_floor_for_ten_classes():
    torch = pytest.importorskip("torch")
    c = 10
    floor = math.log(math.e + c - 1) - 1
    assert floor == pytest.approx(1.46, abs=0.005)
    assert math.e / (math.e + 9) == pytest.approx(0.23, abs=0.005)
    # even a perfectly confident model cannot go below the floor
    logits = torch.full((1, c), -1e4)
    logits[0, 2] = 1e4
    probs = torch.softmax(logits, dim=1)
    loss = torch.nn.functional.cross_entropy(probs, torch.tensor([2])).item()
    assert loss == pytest.approx(floor, rel=1e-5)
    # argmax survives the second softmax
    z = torch.randn(50, c)
    assert torch.equal(torch.softmax(torch.softmax(z, 1), 1).argmax(1), z.argmax(1))


def test_target_encoding_fitted_on_all_rows_leaks_random_labels():
    rng = np.random.default_rng(0)
    n, n_cat = 4000, 2000  # about two rows per category
    cat = rng.integers(0, n_cat, n)
    y = rng.integers(0, 2, n)  # labels are pure noise
    test = rng.random(n) < 0.3
    train = ~test

    def encode(rows):
        sums = np.bincount(cat[rows], weights=y[rows], minlength=n_cat)
        counts = np.bincount(cat[rows], minlength=n_cat)
        prior = y[rows].mean()
        return np.where(counts > 0, sums / np.maximum(counts, 1), prior)

    leaky = encode(np.ones(n, bool))[cat[test]]
    honest = encode(train)[cat[test]]
    acc_leaky = ((leaky > 0.5) == y[test]).mean()
    acc_honest = ((honest > 0.5) == y[test]).mean()
    assert acc_leaky > 0.7
    assert abs(acc_honest - 0.5) < 0.05


# --- production ---------------------------------------------------------------


def test_batching_throughput_and_littles_law():
    assert 1 / 0.005 == pytest.approx(200)
    assert 32 / 0.020 == pytest.approx(1600)
    assert 1000 * 0.050 == pytest.approx(50)


def test_mm1_queue_time_in_system_matches_one_over_mu_minus_lambda():
    rng = np.random.default_rng(0)
    mu = 1.0
    for lam, expected_factor in [(0.5, 2.0), (0.9, 10.0)]:
        n = 400_000
        inter = rng.exponential(1 / lam, n)
        service = rng.exponential(1 / mu, n)
        arrivals = np.cumsum(inter)
        finish = np.empty(n)
        t_free = 0.0
        for i in range(n):  # single FIFO server
            start = max(arrivals[i], t_free)
            t_free = start + service[i]
            finish[i] = t_free
        w = (finish - arrivals)[n // 10 :].mean()
        assert 1 / (mu - lam) == pytest.approx(expected_factor / mu)
        assert w == pytest.approx(1 / (mu - lam), rel=0.1)
        # Little's law: mean number in system = throughput x time in system
        horizon = np.linspace(arrivals[n // 10], arrivals[-n // 10], 2000)
        in_system = np.searchsorted(arrivals, horizon) - np.searchsorted(np.sort(finish), horizon)
        assert in_system.mean() == pytest.approx(lam * w, rel=0.15)


def test_fake_quant_straight_through_gradient_is_one_inside_range_zero_outside():
    torch = pytest.importorskip("torch")
    scale, zero_point, qmin, qmax = 0.1, 0, -127, 127
    x = torch.tensor([-20.0, -3.04, 0.0, 1.234, 12.69, 20.0], requires_grad=True)
    y = torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1, 1, 1, 1, 0])
    # forward really rounds and clamps
    np.testing.assert_allclose(y.detach().numpy(), [-12.7, -3.0, 0.0, 1.2, 12.7, 12.7], atol=1e-5)


def _quant_sym(w, s):
    return np.clip(np.round(w / s), -127, 127) * s


def test_int8_symmetric_error_at_most_half_a_step_and_per_channel_helps():
    rng = np.random.default_rng(0)
    w = np.stack([rng.uniform(-10, 10, 512), rng.uniform(-0.1, 0.1, 512)])  # two output channels
    w[0, 0] = 10.0
    s_tensor = np.abs(w).max() / 127
    err_tensor = np.abs(w - _quant_sym(w, s_tensor))
    assert err_tensor.max() <= s_tensor / 2 + 1e-12
    assert s_tensor == pytest.approx(0.0787, abs=1e-4)
    # the small channel keeps only three levels under the shared scale
    assert set(np.unique(np.round(w[1] / s_tensor)).tolist()) <= {-1.0, 0.0, 1.0}
    s_chan = np.abs(w).max(axis=1, keepdims=True) / 127
    err_chan = np.abs(w - _quant_sym(w, s_chan))
    assert np.all(err_chan <= s_chan / 2 + 1e-12)
    assert err_chan[1].mean() < err_tensor[1].mean() / 10


def test_affine_uint8_represents_zero_exactly():
    lo, hi = 0.0, 6.0
    s = (hi - lo) / 255
    z = round(-lo / s)
    q0 = np.clip(np.round(0.0 / s) + z, 0, 255)
    assert s * (q0 - z) == 0.0
    x = np.linspace(lo, hi, 1001)
    xq = s * (np.clip(np.round(x / s) + z, 0, 255) - z)
    assert np.abs(x - xq).max() <= s / 2 + 1e-12


def test_weight_memory_for_7b_parameters():
    n = 7e9
    gb = {name: n * b / 1e9 for name, b in [("fp32", 4), ("fp16", 2), ("int8", 1), ("int4", 0.5)]}
    assert gb == {"fp32": 28.0, "fp16": 14.0, "int8": 7.0, "int4": 3.5}


def test_csr_with_int32_indices_beats_dense_fp32_only_below_half_density():
    n = 1000
    dense_bytes = 4 * n * n

    def csr_bytes(density):
        nnz = int(density * n * n)
        return 4 * nnz + 4 * nnz + 4 * (n + 1)  # values + column indices + row pointers

    assert csr_bytes(0.6) > dense_bytes
    assert csr_bytes(0.49) < dense_bytes
    assert csr_bytes(0.5) == pytest.approx(dense_bytes, rel=1e-2)


def test_removing_half_the_filters_halves_this_and_next_conv_params():
    torch = pytest.importorskip("torch")

    def count(m):
        return sum(p.numel() for p in m.parameters())

    conv1, conv2 = torch.nn.Conv2d(64, 128, 3), torch.nn.Conv2d(128, 128, 3)
    p1, p2 = torch.nn.Conv2d(64, 64, 3), torch.nn.Conv2d(64, 128, 3)
    assert count(p1) / count(conv1) == pytest.approx(0.5)
    assert count(p2) / count(conv2) == pytest.approx(0.5, abs=0.001)  # bias unchanged


def test_distillation_soft_targets_and_gradient_scaling():
    torch = pytest.importorskip("torch")
    v = torch.tensor([5.0, 2.0, 0.0])
    np.testing.assert_allclose(torch.softmax(v, 0).numpy(), [0.95, 0.05, 0.01], atol=0.005)
    np.testing.assert_allclose(torch.softmax(v / 4, 0).numpy(), [0.57, 0.27, 0.16], atol=0.005)

    torch.manual_seed(0)
    n = 10
    teacher = torch.randn(n)
    teacher -= teacher.mean()
    student0 = torch.randn(n)
    student0 -= student0.mean()
    scaled_norms = []
    for t in [1.0, 5.0, 20.0, 50.0]:
        z = student0.clone().requires_grad_(True)
        p = torch.softmax(teacher / t, 0)
        loss = torch.nn.functional.kl_div(torch.log_softmax(z / t, 0), p, reduction="sum")
        loss.backward()
        q = torch.softmax(z.detach() / t, 0)
        assert torch.allclose(z.grad, (q - p) / t, atol=1e-6)  # dKL/dz = (q - p) / T
        scaled_norms.append((z.grad * t * t).norm().item())
        if t == 50.0:  # high-T limit approaches logit matching
            approx = (student0 - teacher) / (n * t * t)
            assert (z.grad - approx).norm() / approx.norm() < 0.05
    # with the T^2 factor the gradient size settles to a constant at high T
    assert scaled_norms[-1] == pytest.approx(scaled_norms[-2], rel=0.02)


def test_tracing_freezes_data_dependent_control_flow():
    torch = pytest.importorskip("torch")
    import warnings

    def f(x):
        if x.sum() > 0:
            return x * 2
        return -x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(f, torch.ones(3))
    neg = -torch.ones(3)
    assert torch.equal(f(neg), torch.ones(3))
    assert torch.equal(traced(neg), -2 * torch.ones(3))  # still takes the branch seen at trace time


def test_padding_waste_for_lengths_10_20_200():
    lengths = np.array([10, 20, 200])
    useful = lengths.sum() / (lengths.max() * lengths.size)
    assert useful == pytest.approx(230 / 600)
    assert round(useful * 100) == 38


def test_psi_equals_symmetric_kl_and_is_zero_without_shift():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(200_000)
    live = rng.standard_normal(200_000) + 0.3
    edges = np.quantile(ref, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(ref, edges)[0] / ref.size
    a = np.histogram(live, edges)[0] / live.size
    psi = np.sum((a - e) * np.log(a / e))
    kl_ae = np.sum(a * np.log(a / e))
    kl_ea = np.sum(e * np.log(e / a))
    assert psi == pytest.approx(kl_ae + kl_ea, rel=1e-12)
    assert 0.05 < psi < 0.2
    same = np.histogram(rng.standard_normal(200_000), edges)[0] / 200_000
    assert np.sum((same - e) * np.log(same / e)) < 0.001


def test_ks_test_flags_a_tiny_shift_at_a_million_rows():
    rng = np.random.default_rng(0)
    n = 1_000_000
    a = np.sort(rng.standard_normal(n))
    b = np.sort(rng.standard_normal(n) + 0.01)  # a 0.01-standard-deviation shift
    grid = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, grid, side="right") / n - np.searchsorted(b, grid, side="right") / n))
    critical_05 = 1.358 * math.sqrt(2 / n)  # asymptotic two-sample KS critical value at alpha = 0.05
    assert d > critical_05
    assert d < 0.01  # the effect itself is tiny


# --- audit additions (2026-12-03) ---------------------------------------------


def test_anomaly_mode_names_the_backward_op_that_produced_nan():
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, requires_grad=True)
    loss = (torch.sqrt(x) * 0.0).sum()  # d sqrt/dx at 0 is inf, times 0 gives nan
    with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward0"):
        loss.backward()


def test_missing_zero_grad_diverges_under_sgd_but_adam_keeps_steps_near_lr():
    torch = pytest.importorskip("torch")

    def run(make_opt, zero):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.full((100,), 2.0))
        opt = make_opt([w])
        losses, steps = [], []
        for _ in range(2000):
            if zero:
                opt.zero_grad()
            loss = 0.5 * (w**2).sum()
            (loss + (0.5 * torch.randn(100) * w).sum()).backward()  # noisy quadratic
            before = w.detach().clone()
            opt.step()
            steps.append((w.detach() - before).abs().max().item())
            losses.append(loss.item())
        return np.array(losses), max(steps)

    def sgd(p):
        return torch.optim.SGD(p, lr=0.05)

    def adam(p):
        return torch.optim.Adam(p, lr=0.01)

    sgd_ok, _ = run(sgd, True)
    sgd_bad, sgd_step = run(sgd, False)
    adam_ok, _ = run(adam, True)
    adam_bad, adam_step = run(adam, False)
    assert sgd_ok[-500:].max() < 1.0 and adam_ok[-500:].max() < 1.0
    # SGD: the summed stale gradients make the loss grow and the steps large
    assert sgd_bad[-1] > 100 * sgd_ok[-1] and sgd_step > 1.0
    # Adam: every step stays near lr = 0.01, yet the loss keeps swinging instead of settling
    assert adam_step < 0.03
    tail = adam_bad[-500:]
    assert tail.max() > 50 * adam_ok[-1] and tail.max() / tail.min() > 3


def test_mse_through_softmax_gradient_at_uniform_outputs_for_1000_classes():
    torch = pytest.importorskip("torch")
    k = 1000
    z = torch.zeros(1, k, requires_grad=True)  # uniform softmax outputs
    target = torch.nn.functional.one_hot(torch.tensor([7]), k).float()
    ((z.softmax(-1) - target) ** 2).sum().backward()  # summed over classes
    g_sum = z.grad[0, 7].item()
    z.grad = None
    torch.nn.MSELoss()(z.softmax(-1), target).backward()  # default mean over B x K
    g_mean = z.grad[0, 7].item()
    z.grad = None
    torch.nn.functional.cross_entropy(z, torch.tensor([7])).backward()
    g_ce = z.grad[0, 7].item()
    assert g_sum == pytest.approx(-2 / k * (1 - 1 / k), rel=1e-4)
    assert g_sum == pytest.approx(-0.002, rel=0.01)
    assert g_ce == pytest.approx(-0.999, rel=1e-4)
    assert g_ce / g_sum == pytest.approx(500, rel=0.01)
    assert g_mean == pytest.approx(g_sum / k, rel=1e-4)  # about -2e-6
    assert g_ce / g_mean == pytest.approx(500_000, rel=0.01)
    # the loss value at uniform outputs is about 1/K per element
    assert torch.nn.MSELoss()(z.softmax(-1), target).item() == pytest.approx(1 / k, rel=0.01)
    # K = 10 with mean reduction: -0.018
    z10 = torch.zeros(1, 10, requires_grad=True)
    torch.nn.MSELoss()(z10.softmax(-1), torch.nn.functional.one_hot(torch.tensor([0]), 10).float()).backward()
    assert z10.grad[0, 0].item() == pytest.approx(-0.018, rel=1e-3)


def test_mse_through_softmax_gives_a_confidently_wrong_example_no_gradient():
    torch = pytest.importorskip("torch")
    k = 10
    z = torch.zeros(1, k)
    z[0, 3] = 20.0  # nearly all probability on wrong class 3; true class is 0
    z.requires_grad_(True)
    target = torch.nn.functional.one_hot(torch.tensor([0]), k).float()
    ((z.softmax(-1) - target) ** 2).sum().backward()
    mse_norm = z.grad.norm().item()
    z.grad = None
    torch.nn.functional.cross_entropy(z, torch.tensor([0])).backward()
    assert z.grad[0, 0].item() == pytest.approx(-1.0, abs=1e-6)  # p - y stays near -1
    assert mse_norm < 1e-6


def test_adam_update_ignores_a_uniform_gradient_scale_sgd_does_not():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    grads = [torch.randn(50) for _ in range(5)]

    def updates(opt_cls, scale, **kw):
        w = torch.nn.Parameter(torch.zeros(50))
        opt = opt_cls([w], **kw)
        for g in grads:
            w.grad = g * scale
            opt.step()
        return w.detach().clone()

    adam_full = updates(torch.optim.Adam, 1.0, lr=1e-3)
    adam_tiny = updates(torch.optim.Adam, 2e-6, lr=1e-3)  # the MSE shrink factor at K = 1000
    assert (adam_tiny - adam_full).norm() / adam_full.norm() < 0.02  # only epsilon keeps them apart
    sgd_full = updates(torch.optim.SGD, 1.0, lr=0.1)
    sgd_tiny = updates(torch.optim.SGD, 2e-6, lr=0.1)
    assert torch.allclose(sgd_tiny, sgd_full * 2e-6, rtol=1e-4)
    # near Adam's epsilon (1e-8) the cancellation breaks down
    adam_eps = updates(torch.optim.Adam, 1e-8, lr=1e-3)
    assert adam_eps.abs().mean() < 0.7 * adam_full.abs().mean()


def test_mse_on_softmax_stalls_under_sgd_but_trains_worse_under_adam():
    torch = pytest.importorskip("torch")
    from torch import nn

    k, d, n = 1000, 32, 3000
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(k, d, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    x = centers[y] + 0.3 * torch.randn(n, d, generator=g)

    def accuracy(opt_name, loss_name):
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(d, 128), nn.ReLU(), nn.Linear(128, k))
        if opt_name == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(4):
            for i in range(0, n, 100):
                out = model(x[i : i + 100])
                if loss_name == "ce":
                    loss = nn.functional.cross_entropy(out, y[i : i + 100])
                else:
                    loss = nn.MSELoss()(out.softmax(-1), nn.functional.one_hot(y[i : i + 100], k).float())
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            return (model(x).argmax(1) == y).float().mean().item()

    chance = 1 / k
    sgd_mse = accuracy("sgd", "mse")
    adam_mse = accuracy("adam", "mse")
    adam_ce = accuracy("adam", "ce")
    assert sgd_mse < 5 * chance  # the symptom in the card's question
    assert adam_mse > 20 * chance  # Adam normalises the uniform shrink away and learns...
    assert adam_mse < adam_ce - 0.3  # ...but clearly worse than cross-entropy


def test_overfit_one_batch_memorises_fixed_random_labels_but_not_uninformative_inputs():
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    c, b = 10, 20
    x = torch.randn(b, 20)
    y = torch.arange(c).repeat(2)[torch.randperm(b)]  # random labels, balanced, pairing fixed

    def final_loss(inputs):
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, c))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(500):
            loss = nn.functional.cross_entropy(model(inputs), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    assert final_loss(x) < 0.01  # a fixed wrong pairing is still memorised
    freq = torch.bincount(y, minlength=c).float() / b
    label_entropy = -(freq[freq > 0] * freq[freq > 0].log()).sum().item()
    stalled = final_loss(torch.zeros(b, 20))  # inputs carry no information
    assert stalled == pytest.approx(label_entropy, abs=0.01)
    assert label_entropy == pytest.approx(math.log(c))  # ln(C) for a balanced batch
    # an unbalanced batch settles lower: 16 random labels over 10 classes
    y16 = torch.randint(0, c, (16,), generator=torch.Generator().manual_seed(0))
    f16 = torch.bincount(y16, minlength=c).float() / 16
    assert -(f16[f16 > 0] * f16[f16 > 0].log()).sum().item() < math.log(c) - 0.2


def test_dead_relu_hook_snippet_and_reused_relu_module_pools_call_sites():
    torch = pytest.importorskip("torch")
    import itertools

    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 16), nn.ReLU())
    with torch.no_grad():
        model[3].bias[:4] = -100.0  # plant four dead units
    alive = {}

    def make_hook(name):  # the card's snippet
        def hook(mod, inp, out):
            fired = (out > 0).flatten(2).any(-1) if out.dim() > 2 else out > 0
            alive[name] = alive.get(name, 0) | fired.any(0)

        return hook

    for n, m in model.named_modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(make_hook(n))
    train_loader = [(torch.randn(4, 3, 8, 8), None)] * 60
    with torch.no_grad():
        for x, _ in itertools.islice(train_loader, 50):
            model(x)
    dead = {n: 1 - a.float().mean().item() for n, a in alive.items()}
    assert dead["4"] >= 4 / 16 and dead["1"] < 0.5

    class Block(nn.Module):  # one ReLU module called at two sites, as in torchvision's BasicBlock
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.relu = nn.Linear(4, 4), nn.Linear(4, 4), nn.ReLU()
            with torch.no_grad():
                self.fc1.bias.fill_(-100.0)  # every unit at the first site is dead

        def forward(self, x):
            return self.relu(self.fc2(x)) + self.relu(self.fc1(x))

    block, seen = Block(), []
    block.relu.register_forward_hook(lambda m, i, o: seen.append((o > 0).any(0)))
    with torch.no_grad():
        block(torch.randn(256, 4))
    assert len(seen) == 2  # the hook fires once per call site
    assert not seen[1].any() and seen[0].any()
    assert (seen[0] | seen[1]).any()  # pooled, the dead site looks alive


def test_batchnorm_keeps_a_unit_alive_layernorm_does_not():
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    x = torch.randn(512, 16)
    lin = nn.Linear(16, 8)
    with torch.no_grad():
        lin.bias[0] = -30.0  # unit 0 always sits far below the others
    z = lin(x).detach()
    assert (z[:, 0] < 0).all()
    bn, ln = nn.BatchNorm1d(8), nn.LayerNorm(8)
    bn.train()
    with torch.no_grad():
        fired_bn = (torch.relu(bn(z))[:, 0] > 0).float().mean().item()
        after_ln = ln(z)
    assert 0.3 < fired_bn < 0.7  # standardised over the batch: fires on about half the inputs
    assert (after_ln[:, 0] < 0).all()  # below the example's mean on every input: still dead
    assert ((after_ln > 0).any(1)).all()  # yet every example has some positive units


def test_inference_mode_outputs_cannot_be_saved_for_backward():
    torch = pytest.importorskip("torch")
    with torch.inference_mode():
        t = torch.randn(3)
    w = torch.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        (w * t).sum().backward()
    with torch.no_grad():
        t2 = torch.randn(3)
    (w * t2).sum().backward()  # a no_grad tensor is an ordinary tensor
    assert w.grad is not None


def test_deterministic_algorithms_switch_errors_and_is_separate_from_cudnn_flag():
    torch = pytest.importorskip("torch")
    assert torch.backends.cudnn.benchmark is False  # default
    before = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)
        with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
            torch.zeros(5).put_(torch.tensor([0, 0]), torch.tensor([1.0, 2.0]), accumulate=False)
        assert torch.backends.cudnn.deterministic is False  # the narrower flag is a separate switch
    finally:
        torch.use_deterministic_algorithms(before)


def test_rng_states_in_a_checkpoint_give_an_identical_resume(tmp_path):
    torch = pytest.importorskip("torch")
    import random

    def draw(gen):
        return (
            torch.rand(3).tolist(),
            np.random.rand(3).tolist(),
            random.random(),
            torch.rand(2, generator=gen).tolist(),
        )

    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    gen = torch.Generator().manual_seed(0)
    draw(gen)
    ckpt = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "loader_gen": gen.get_state(),
    }
    path = tmp_path / "ckpt.pt"
    torch.save(ckpt, path)
    expected = draw(gen)  # the uninterrupted run's next draws

    # torch.load defaults to weights_only=True since 2.6: NumPy's legacy state (an ndarray) is rejected
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(path)
    loaded = torch.load(path, weights_only=False)  # a trusted, self-written file
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    gen2 = torch.Generator()
    torch.set_rng_state(loaded["torch"])
    np.random.set_state(loaded["numpy"])
    random.setstate(loaded["python"])
    gen2.set_state(loaded["loader_gen"])
    assert draw(gen2) == expected

    # the alternative: store the key array as a list, which the default loader accepts
    name, key, pos, has_gauss, cached = np.random.get_state()
    torch.save({"numpy": (name, key.tolist(), pos, has_gauss, cached)}, path)
    name, key, pos, has_gauss, cached = torch.load(path)["numpy"]
    np.random.set_state((name, np.array(key, dtype=np.uint32), pos, has_gauss, cached))


def _shuffle_epochs(persistent, resume):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(torch.arange(20))

    def loader(gen):
        return DataLoader(ds, batch_size=5, shuffle=True, generator=gen, num_workers=1, persistent_workers=persistent)

    gen = torch.Generator().manual_seed(0)
    dl = loader(gen)
    torch.cat([b[0] for b in dl])  # epoch 1
    if resume:  # a new process would rebuild the loader from the saved generator state
        gen2 = torch.Generator()
        gen2.set_state(gen.get_state())
        dl = loader(gen2)
    return torch.cat([b[0] for b in dl]).tolist()  # epoch 2


def test_resume_reproduces_the_shuffle_only_without_persistent_workers():
    assert _shuffle_epochs(False, resume=True) == _shuffle_epochs(False, resume=False)
    # a persistent loader draws its worker base seed once; a rebuilt one draws it again,
    # which shifts the generator and changes the next permutation
    assert _shuffle_epochs(True, resume=True) != _shuffle_epochs(True, resume=False)


def test_torch_export_refuses_data_dependent_branch_and_torch_cond_handles_it():
    torch = pytest.importorskip("torch")

    class Branchy(torch.nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return -x

    class WithCond(torch.nn.Module):
        def forward(self, x):
            return torch.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, (x,))

    with pytest.raises(Exception, match="data-dependent"):
        torch.export.export(Branchy(), (torch.ones(3),))
    exported = torch.export.export(WithCond(), (torch.ones(3),)).module()
    assert torch.equal(exported(-torch.ones(3)), torch.ones(3))
    assert torch.equal(exported(torch.ones(3)), 2 * torch.ones(3))


def test_torchscript_is_deprecated_and_onnx_export_defaults_to_the_torch_export_path():
    torch = pytest.importorskip("torch")
    import inspect
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.jit.trace(lambda x: x * 2, torch.ones(2))
    assert any(issubclass(w.category, DeprecationWarning) and "torch.export" in str(w.message) for w in caught)
    assert inspect.signature(torch.onnx.export).parameters["dynamo"].default is True


def test_torch_ao_quantization_is_deprecated_in_favour_of_torchao_but_still_runs():
    torch = pytest.importorskip("torch")
    import warnings

    from torch.ao.quantization import quantize_dynamic

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64))
    x = torch.randn(8, 64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        qmodel = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    assert any("torchao" in str(w.message) for w in caught)
    rel = (qmodel(x) - model(x)).norm() / model(x).norm()
    assert rel < 0.02  # dynamic INT8 stays close to fp32 on this layer


def test_eight_gpu_all_reduce_arithmetic():
    grad_gb = 350e6 * 4 / 1e9
    assert grad_gb == pytest.approx(1.4)
    traffic = {n: 2 * (n - 1) / n * grad_gb for n in (4, 8)}
    assert traffic[4] == pytest.approx(2.1) and traffic[8] == pytest.approx(2.45)
    assert traffic[8] / traffic[4] - 1 == pytest.approx(0.17, abs=0.005)
    bw4, bw8 = traffic[4] / 0.020, traffic[8] / 0.800
    assert bw4 == pytest.approx(105, rel=0.01)
    assert bw8 == pytest.approx(3.06, rel=0.01)
    assert bw8 * 8 == pytest.approx(25, rel=0.05)  # Gb/s: a 25 Gb/s link
    assert 850 / 310 == pytest.approx(2.7, abs=0.05)
    backward_s = 0.160 * 2 / 3
    assert backward_s * bw8 == pytest.approx(0.33, abs=0.02)  # GB hidden behind backward
    assert traffic[8] / 25 * 1000 == pytest.approx(100, rel=0.03)  # ms at 200 Gb/s
    assert traffic[8] / 2 / bw8 * 1000 == pytest.approx(400, rel=0.01)  # bf16 halves the bytes
    # the question's step times: 310 = 300 + 10 exposed of 20 ms; 850 = 160 + 800 - ~110 hidden
    assert 310 - 300 == 20 / 2
    assert 160 + 800 - 850 == pytest.approx(backward_s * 1000, abs=5)


# --- training-data-extraction-privacy ------------------------------------------


def test_per_example_clipping_bounds_each_examples_influence_at_c_and_batch_clipping_only_at_2c():
    torch = pytest.importorskip("torch")
    from torch.func import functional_call, grad, vmap

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 1)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = torch.randn(32, 5), torch.randn(32, 1)
    y[0] = 1000.0  # one outlier record with a huge gradient

    def loss(p, xi, yi):
        return ((functional_call(model, p, (xi[None],)) - yi[None]) ** 2).mean()

    per_ex = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    flat = torch.cat([per_ex[k].reshape(32, -1) for k in params], dim=1)  # (32, 6)
    # matches a plain loop over examples
    for i in (0, 7):
        model.zero_grad()
        ((model(x[i : i + 1]) - y[i : i + 1]) ** 2).mean().backward()
        looped = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        assert torch.allclose(flat[i], looped, atol=1e-4)

    C = 1.0
    norms = flat.norm(dim=1, keepdim=True)
    clipped = flat * torch.clamp(C / norms, max=1.0)
    assert torch.all(clipped.norm(dim=1) <= C + 1e-6)
    # removing one record moves the clipped sum by at most C (the sensitivity the noise is scaled to);
    # without clipping, removing the outlier moves the sum by its full gradient norm
    assert (clipped.sum(0) - clipped[1:].sum(0)).norm() <= C + 1e-6
    assert (flat.sum(0) - flat[1:].sum(0)).norm() > 100 * C

    # clipping the summed gradient instead bounds the norm, not one record's share: the outlier dominates
    def clip(v):
        return v * min(1.0, C / v.norm().item())

    batch_clipped = clip(flat.sum(0))
    cosine = torch.nn.functional.cosine_similarity(batch_clipped, flat[0], dim=0)
    assert cosine > 0.99
    # removing that one record moves the clipped update by more than C (up to 2C, the update's whole size)
    moved = (batch_clipped - clip(flat[1:].sum(0))).norm()
    assert C < moved <= 2 * C + 1e-6
    # with per-example clipping the signal grows with the batch while the noise scale sigma * C does not
    assert clipped[1:].sum(0).norm() > 5 * C
    assert batch_clipped.norm() <= C + 1e-6
