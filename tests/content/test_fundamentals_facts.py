"""Numeric checks for the claims made in questions/fundamentals.yaml.

Every test recomputes a number or formula quoted in a card from scratch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_bias_variance_terms_sum_to_expected_squared_error():
    # y = sin(x) + noise; fit polynomials on many independent training sets,
    # evaluate at a fixed x0 against fresh, independent noisy targets.
    rng = np.random.default_rng(0)
    sigma, n, trials, x0 = 0.3, 20, 4000, 0.9
    f0 = math.sin(x0)
    results = {}
    for degree in (1, 9):
        preds = np.empty(trials)
        for t in range(trials):
            x = rng.uniform(-math.pi, math.pi, n)
            y = np.sin(x) + rng.normal(0, sigma, n)
            coef = np.polynomial.polynomial.polyfit(x / math.pi, y, degree)
            preds[t] = np.polynomial.polynomial.polyval(x0 / math.pi, coef)
        y_new = f0 + rng.normal(0, sigma, trials)  # independent test targets
        expected_err = np.mean((y_new - preds) ** 2)
        bias2 = (preds.mean() - f0) ** 2
        var = preds.var()
        decomposed = bias2 + var + sigma**2
        assert expected_err == pytest.approx(decomposed, rel=0.06)
        results[degree] = (bias2, var)
    # the rigid model has more bias and less variance than the flexible one
    assert results[1][0] > results[9][0]
    assert results[1][1] < results[9][1]


def test_gd_from_zero_converges_to_min_norm_interpolant():
    # Over-parameterized least squares (p > n): GD from w = 0 stays in the row
    # space of X and ends at the pseudo-inverse (minimum L2 norm) solution.
    rng = np.random.default_rng(1)
    n, p = 10, 40
    X = rng.normal(size=(n, p))
    y = rng.normal(size=n)
    w = np.zeros(p)
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X).max()
    for _ in range(20000):
        w -= lr * X.T @ (X @ w - y)
    w_pinv = np.linalg.pinv(X) @ y
    assert np.allclose(X @ w, y, atol=1e-8)  # interpolates
    assert np.allclose(w, w_pinv, atol=1e-8)
    # another interpolant (pinv + null-space component) has a larger norm
    null = rng.normal(size=p)
    null -= np.linalg.pinv(X) @ (X @ null)
    assert np.allclose(X @ (w_pinv + null), y, atol=1e-8)
    assert np.linalg.norm(w_pinv + null) > np.linalg.norm(w_pinv)


def test_l1_soft_threshold_gives_exact_zero_l2_only_shrinks():
    grid = np.linspace(-2, 2, 400001)  # step 1e-5, contains 0 exactly
    lam = 0.5
    for a in (0.3, -0.45, 0.9, -1.2):
        l1 = grid[np.argmin(0.5 * (grid - a) ** 2 + lam * np.abs(grid))]
        l2 = grid[np.argmin(0.5 * (grid - a) ** 2 + 0.5 * lam * grid**2)]
        soft = np.sign(a) * max(abs(a) - lam, 0.0)
        assert l1 == pytest.approx(soft, abs=1e-5)
        assert l2 == pytest.approx(a / (1 + lam), abs=1e-5)
        assert l2 != 0.0
    # the card's example: a = 0.3, lam = 0.5 -> L1 gives 0, L2 gives 0.2
    a = 0.3
    assert grid[np.argmin(0.5 * (grid - a) ** 2 + lam * np.abs(grid))] == 0.0
    assert grid[np.argmin(0.5 * (grid - a) ** 2 + 0.5 * lam * grid**2)] == pytest.approx(0.2, abs=1e-5)


def test_ridge_equals_map_with_gaussian_prior_lambda_sigma2_over_tau2():
    rng = np.random.default_rng(2)
    n, d, sigma, tau = 50, 5, 1.0, 0.5
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + rng.normal(0, sigma, n)
    lam = sigma**2 / tau**2
    assert lam == pytest.approx(4.0)
    ridge = np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)
    # minimize the negative log posterior directly by gradient descent
    w = np.zeros(d)
    for _ in range(20000):
        grad = X.T @ (X @ w - y) / sigma**2 + w / tau**2
        w -= 0.005 * grad
    assert np.allclose(w, ridge, atol=1e-8)


def test_imbalanced_metrics_accuracy_paradox_f1_and_precision_cap():
    # 100,000 transactions, 500 fraud; "never fraud" scores 99.5% accuracy.
    y = np.zeros(100_000, dtype=int)
    y[:500] = 1
    always_neg = np.zeros_like(y)
    assert np.mean(always_neg == y) == pytest.approx(0.995)
    assert np.sum((always_neg == 1) & (y == 1)) == 0  # recall 0
    # model flags 1,000 and catches 400 of the 500
    pred = np.zeros_like(y)
    pred[:400] = 1
    pred[500:1100] = 1
    tp = np.sum((pred == 1) & (y == 1))
    fp = np.sum((pred == 1) & (y == 0))
    fn = np.sum((pred == 0) & (y == 1))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    assert (precision, recall) == (pytest.approx(0.4), pytest.approx(0.8))
    assert f1 == pytest.approx(0.5333, abs=1e-4)
    assert fp / np.sum(y == 0) == pytest.approx(0.006, abs=1e-4)
    # an FPR of 1% on 99,500 negatives is 995 false alarms, so even with all
    # 500 positives caught precision is at most ~0.33
    best_precision = 500 / (500 + 0.01 * 99_500)
    assert best_precision == pytest.approx(0.334, abs=1e-3)


def test_screening_example_precision_recall_f1_specificity():
    # 10,000 patients, 150 sick; the model flags 200, of whom 120 are sick.
    y = np.zeros(10_000, dtype=int)
    y[:150] = 1
    pred = np.zeros_like(y)
    pred[:120] = 1
    pred[150:230] = 1
    tp = np.sum((pred == 1) & (y == 1))
    fp = np.sum((pred == 1) & (y == 0))
    fn = np.sum((pred == 0) & (y == 1))
    tn = np.sum((pred == 0) & (y == 0))
    assert (tp, fp, fn, tn) == (120, 80, 30, 9770)
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert (p, r) == (pytest.approx(0.6), pytest.approx(0.8))
    assert 2 * p * r / (p + r) == pytest.approx(0.6857, abs=1e-4)
    assert tn / (tn + fp) == pytest.approx(0.9919, abs=1e-4)
    assert np.mean(pred == y) == pytest.approx(0.989)
    f2 = 5 * p * r / (4 * p + r)
    assert f2 == pytest.approx(0.75)
    # harmonic vs arithmetic mean for P = 1, R = 0.1
    assert pytest.approx(0.1818, abs=1e-4) == 2 * 1 * 0.1 / 1.1


def _roc_auc_trapezoid(scores, labels):
    order = np.argsort(-scores, kind="mergesort")
    s, lab = scores[order], labels[order]
    tps = np.cumsum(lab)
    fps = np.cumsum(1 - lab)
    keep = np.r_[np.diff(s) != 0, True]  # thresholds between distinct scores
    tpr = np.r_[0, tps[keep] / lab.sum()]
    fpr = np.r_[0, fps[keep] / (1 - lab).sum()]
    return np.trapezoid(tpr, fpr)


def test_roc_auc_is_pairwise_ranking_probability_and_pr_baseline_is_prevalence():
    rng = np.random.default_rng(3)
    labels = (rng.random(3000) < 0.3).astype(int)
    scores = np.round(rng.normal(size=3000) + labels, 1)  # rounding creates ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    pairwise = np.mean(diff > 0) + 0.5 * np.mean(diff == 0)
    assert _roc_auc_trapezoid(scores, labels) == pytest.approx(pairwise, abs=1e-9)

    # random scores at 1% prevalence: ROC-AUC ~ 0.5, average precision ~ 0.01
    labels = (rng.random(200_000) < 0.01).astype(int)
    scores = rng.random(200_000)
    order = np.argsort(-scores)
    lab = labels[order]
    precision_at_k = np.cumsum(lab) / np.arange(1, lab.size + 1)
    ap = np.sum(precision_at_k * lab) / lab.sum()
    assert ap == pytest.approx(labels.mean(), abs=0.003)
    assert _roc_auc_trapezoid(scores, labels) == pytest.approx(0.5, abs=0.02)


def test_cost_threshold_and_prior_shift_correction():
    # Two Gaussian classes; compare exact posteriors under a balanced training
    # prior and the real 1% prior with the odds-correction formula.
    x = np.linspace(-4, 6, 101)
    like_pos = np.exp(-0.5 * (x - 2) ** 2)
    like_neg = np.exp(-0.5 * x**2)
    q = like_pos * 0.5 / (like_pos * 0.5 + like_neg * 0.5)  # model trained at 50/50
    pi = 0.01
    true_post = like_pos * pi / (like_pos * pi + like_neg * (1 - pi))
    corrected = q * pi / (q * pi + (1 - q) * (1 - pi))
    assert np.allclose(corrected, true_post)
    # cost-optimal threshold c_FP / (c_FP + c_FN): predicting positive exactly
    # when its expected cost is lower
    c_fp, c_fn = 1.0, 9.0
    p = np.linspace(0, 1, 1001)
    positive_cheaper = (1 - p) * c_fp < p * c_fn
    first = p[np.argmax(positive_cheaper)]
    assert first == pytest.approx(c_fp / (c_fp + c_fn), abs=2e-3)
    # focal loss weight (1 - p_t)^gamma at p_t = 0.9, gamma = 2 vs plain CE
    pt = 0.9
    focal = -((1 - pt) ** 2) * math.log(pt)
    assert focal / -math.log(pt) == pytest.approx(0.01)


def test_mse_on_sigmoid_gradient_vanishes_when_confidently_wrong():
    z, y, h = -10.0, 1.0, 1e-5

    def bce(z):
        p = _sigmoid(z)
        return -(y * math.log(p) + (1 - y) * math.log(1 - p))

    def mse(z):
        return (_sigmoid(z) - y) ** 2

    g_bce = (bce(z + h) - bce(z - h)) / (2 * h)
    g_mse = (mse(z + h) - mse(z - h)) / (2 * h)
    p = _sigmoid(z)
    assert p == pytest.approx(4.54e-5, rel=1e-3)
    assert g_bce == pytest.approx(p - y, rel=1e-6)  # ~ -1
    assert g_mse == pytest.approx(2 * (p - y) * p * (1 - p), rel=1e-4)
    assert g_mse == pytest.approx(-9.08e-5, rel=1e-2)
    assert abs(g_bce) / abs(g_mse) > 1e4


def test_losses_from_likelihood_and_initial_loss_ln_k():
    # uniform logits give CE = ln K (ln 10 = 2.303)
    K = 10
    z = np.zeros(K)
    logp = z - np.log(np.exp(z).sum())
    assert -logp[3] == pytest.approx(math.log(K))
    assert math.log(10) == pytest.approx(2.303, abs=1e-3)
    # Gaussian NLL with fixed sigma = squared error / (2 sigma^2) + constant
    rng = np.random.default_rng(4)
    y, sigma = rng.normal(size=50), 0.7
    consts = []
    for f in rng.normal(size=(5, 50)):
        nll = -np.log(np.exp(-((y - f) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi)))
        consts.append(nll - (y - f) ** 2 / (2 * sigma**2))
    assert np.allclose(consts, math.log(sigma * math.sqrt(2 * math.pi)))


def test_hinge_logistic_values_and_surrogate_upper_bounds():
    def hinge(m):
        return np.maximum(0.0, 1.0 - m)

    def logistic(m):
        return np.log1p(np.exp(-m))

    # hinge is flat beyond the margin: zero gradient
    for m in (1.5, 2.0, 5.0):
        assert (hinge(m + 1e-6) - hinge(m - 1e-6)) / 2e-6 == 0.0
    assert hinge(2.0) == 0.0 and hinge(-1.0) == 2.0
    assert logistic(2.0) == pytest.approx(0.127, abs=1e-3)
    assert logistic(-1.0) == pytest.approx(1.313, abs=1e-3)
    # 0-1 loss treats m = -0.1 and m = -5 alike; logistic does not
    assert logistic(-0.1) == pytest.approx(0.744, abs=1e-3)
    assert logistic(-5.0) == pytest.approx(5.007, abs=1e-3)
    # both are upper bounds of the 0-1 loss (logistic measured in bits)
    m = np.linspace(-5, 5, 10001)
    zero_one = (m <= 0).astype(float)
    assert np.all(hinge(m) >= zero_one)
    assert np.all(logistic(m) / math.log(2) >= zero_one - 1e-12)
    # 0-1 loss has zero derivative away from m = 0
    mm = m[np.abs(m) > 1e-3]
    assert np.all(((mm + 1e-4 <= 0).astype(float) - (mm - 1e-4 <= 0).astype(float)) == 0)


def test_gd_quadratic_stability_threshold_and_condition_number_rate():
    # 1-D: w <- (1 - lr h) w diverges iff lr > 2/h
    h = 10.0
    for lr, converges in ((0.05, True), (0.19, True), (0.21, False), (0.25, False)):
        w = 1.0
        for _ in range(200):
            w -= lr * h * w
        assert (abs(w) < 1e-3) == converges
    w = 1.0
    w -= 0.25 * h * w
    assert w == pytest.approx(-1.5)  # oscillates and grows
    for _ in range(19):
        w -= 0.25 * h * w
    assert abs(w) == pytest.approx(3325, rel=1e-3)  # ~3,300x after 20 steps
    # 2-D ill-conditioned quadratic with lr = 2/(L + mu)
    L, mu = 100.0, 1.0
    kappa = L / mu
    lr = 2 / (L + mu)
    w = np.array([1.0, 1.0])
    for _ in range(50):
        w_prev = w.copy()
        w = w - lr * np.array([L, mu]) * w
    assert np.abs(w).max() / np.abs(w_prev).max() == pytest.approx((kappa - 1) / (kappa + 1))
    assert (kappa - 1) / (kappa + 1) == pytest.approx(0.9802, abs=1e-4)
    steps = math.log(1e-6) / math.log((kappa - 1) / (kappa + 1))
    assert round(steps) == 691
    rate_momentum = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    assert rate_momentum == pytest.approx(0.818, abs=1e-3)
    assert round(math.log(1e-6) / math.log(rate_momentum)) == 69


def test_minibatch_gradient_unbiased_and_std_scales_inverse_sqrt_batch():
    rng = np.random.default_rng(5)
    per_example = rng.normal(loc=0.3, scale=2.0, size=10_000)  # per-example grads
    full = per_example.mean()
    stds = {}
    for B in (16, 64, 256):
        idx = rng.integers(0, per_example.size, size=(20_000, B))
        est = per_example[idx].mean(axis=1)
        assert est.mean() == pytest.approx(full, abs=0.01)
        stds[B] = est.std()
    assert stds[16] / stds[64] == pytest.approx(2.0, rel=0.05)
    assert stds[64] / stds[256] == pytest.approx(2.0, rel=0.05)


def test_standardizing_features_shrinks_condition_number():
    rng = np.random.default_rng(6)
    n = 5000
    age = rng.uniform(18, 80, n)
    income = rng.lognormal(mean=10.5, sigma=0.5, size=n)
    X = np.c_[age, income]
    cond_raw = np.linalg.cond(X.T @ X / n)
    Xs = (X - X.mean(0)) / X.std(0)
    cond_std = np.linalg.cond(Xs.T @ Xs / n)
    assert cond_raw > 1e6
    assert cond_std < 1.2
    # diagonal scales of 1 and 1000 give a ratio of 1e6
    D = np.diag([1.0**2, 1000.0**2])
    assert np.linalg.cond(D) == pytest.approx(1e6)


def test_mse_mean_mae_median_pinball_quantile_minimizers():
    y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    c = np.linspace(0, 110, 1_100_001)
    sq = ((y[None, :] - c[:, None]) ** 2).sum(1)
    ab = np.abs(y[None, :] - c[:, None]).sum(1)
    assert c[np.argmin(sq)] == pytest.approx(22.0, abs=1e-4)
    assert c[np.argmin(ab)] == pytest.approx(3.0, abs=1e-4)
    rng = np.random.default_rng(7)
    t = rng.exponential(30.0, 2001)
    grid = np.linspace(0, 300, 30001)
    r = t[None, :] - grid[:, None]
    q = 0.9
    pinball = np.maximum(q * r, (q - 1) * r).sum(1)
    assert grid[np.argmin(pinball)] == pytest.approx(np.quantile(t, q), abs=0.02)
    # Huber: quadratic inside delta, linear outside, continuous at |r| = delta
    delta = 1.0

    def huber(r):
        return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))

    assert huber(np.array(delta)) == pytest.approx(0.5)
    assert huber(np.array(3.0)) == pytest.approx(2.5)


def test_temperature_scaling_keeps_argmax_and_lowers_nll_of_overconfident_logits():
    rng = np.random.default_rng(8)
    n, k = 2000, 5
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    logits *= 4.0  # overconfident

    def nll(T):
        z = logits / T
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return -logp[np.arange(n), y].mean()

    Ts = np.linspace(0.5, 10, 951)
    best = Ts[np.argmin([nll(T) for T in Ts])]
    assert best > 1.0
    assert nll(best) < nll(1.0)
    assert np.array_equal((logits / best).argmax(1), logits.argmax(1))
    # cost of confident mistakes vs mild ones
    assert -math.log(0.01) == pytest.approx(4.61, abs=0.01)
    assert -math.log(0.4) == pytest.approx(0.92, abs=0.01)


def test_power_law_learning_curve_extrapolation_example():
    # error shrinks by 0.8 per doubling; 10x data is log2(10) doublings
    per_doubling = 0.8
    factor = per_doubling ** math.log2(10)
    assert factor == pytest.approx(0.477, abs=1e-3)
    assert 13.0 * factor == pytest.approx(6.2, abs=0.05)


def test_descent_lemma_step_one_over_L_and_monotone_below_two_over_L():
    # L-smooth convex quadratic: loss never rises for eta < 2/L; eta = 1/L
    # decreases it by at least ||g||^2 / (2L) each step
    rng = np.random.default_rng(9)
    A = rng.normal(size=(8, 8))
    H = A @ A.T + 0.1 * np.eye(8)
    L = np.linalg.eigvalsh(H).max()

    def loss(w):
        return 0.5 * w @ H @ w

    for eta in (1.0 / L, 1.9 / L):
        w = rng.normal(size=8)
        for _ in range(50):
            g = H @ w
            new = w - eta * g
            assert loss(new) <= loss(w) + 1e-12
            if eta == 1.0 / L:
                assert loss(new) <= loss(w) - g @ g / (2 * L) + 1e-12
            w = new
    # just above 2/L the sharpest direction grows
    v = np.linalg.eigh(H)[1][:, -1]
    w = v.copy()
    for _ in range(20):
        w = w - 2.1 / L * (H @ w)
    assert loss(w) > loss(v)


# ----------------------------------------------------------- audit additions


def test_heavy_ball_rate_predicts_69_steps_but_simulation_takes_93():
    # gd-condition-number-rate: (sqrt(k) - 1) / (sqrt(k) + 1) is an asymptotic
    # rate; at the tuned parameters the extreme eigen-directions get a repeated
    # root, so the error decays like t * r^t and needs more steps than log/log r.
    L, mu = 100.0, 1.0
    kappa = L / mu
    rate = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    assert round(math.log(1e-6) / math.log(rate)) == 69
    lr = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    beta = rate**2
    lam = np.array([L, mu])
    w = np.array([1.0, 1.0])
    w_prev = w.copy()
    start = np.linalg.norm(w)
    steps = 0
    while np.linalg.norm(w) > 1e-6 * start:
        w, w_prev = w - lr * lam * w + beta * (w - w_prev), w
        steps += 1
    assert steps == 93
    # the repeated root: the characteristic polynomial z^2 - (1 + beta - lr*lambda) z + beta
    # has zero discriminant at both extreme eigenvalues
    for lam_i in (L, mu):
        assert (1 + beta - lr * lam_i) ** 2 - 4 * beta == pytest.approx(0.0, abs=1e-12)
    # plain GD with eta = 2 / (L + mu) needs 691 steps from the same start
    w = np.array([1.0, 1.0])
    gd_steps = 0
    while np.linalg.norm(w) > 1e-6 * start:
        w = w - 2 / (L + mu) * lam * w
        gd_steps += 1
    assert gd_steps == 691
    assert gd_steps / steps == pytest.approx(7.4, abs=0.1)  # "about 7x fewer steps"


def test_feature_scaling_numbers_quoted_in_the_card():
    rng = np.random.default_rng(6)
    n = 5000
    age = rng.uniform(18, 80, n)
    income = rng.lognormal(mean=10.5, sigma=0.5, size=n)
    assert math.exp(10.5) == pytest.approx(36_316, abs=1)  # median about 36,000
    X = np.c_[age, income]
    cond_raw = np.linalg.cond(X.T @ X / n)
    assert 2.0e6 < cond_raw < 3.0e6  # "about 2.5 million"
    Xs = (X - X.mean(0)) / X.std(0)
    assert np.linalg.cond(Xs.T @ Xs / n) == pytest.approx(1.01, abs=0.02)
    cos = age @ income / (np.linalg.norm(age) * np.linalg.norm(income))
    assert 0.75 < cos < 0.9  # uncentered positive columns point in similar directions
    # scaling alone leaves that alignment: the condition number stays well above 1
    Xd = X / X.std(0)
    assert np.linalg.cond(Xd.T @ Xd / n) > 5
    # kappa is at least the ratio of the extreme diagonal entries of a PSD matrix
    for _ in range(20):
        A = rng.normal(size=(4, 4)) * np.array([1.0, 10.0, 100.0, 1000.0])
        H = A.T @ A
        d = np.diag(H)
        assert np.linalg.cond(H) >= d.max() / d.min() - 1e-6


def test_smooth_l1_is_huber_divided_by_beta():
    torch = pytest.importorskip("torch")
    r = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    zero = torch.zeros_like(r)
    for d in (0.5, 1.0, 2.0):
        huber = torch.nn.functional.huber_loss(r, zero, reduction="none", delta=d)
        smooth = torch.nn.functional.smooth_l1_loss(r, zero, reduction="none", beta=d)
        assert torch.allclose(smooth * d, huber)
    assert not torch.allclose(
        torch.nn.functional.smooth_l1_loss(r, zero, reduction="none", beta=2.0),
        torch.nn.functional.huber_loss(r, zero, reduction="none", delta=2.0),
    )


def test_cross_entropy_minus_kl_is_the_target_entropy_for_any_target():
    rng = np.random.default_rng(10)
    y = rng.dirichlet(np.ones(5))  # a soft target, not one-hot
    entropy = -np.sum(y * np.log(y))
    for _ in range(5):
        p = rng.dirichlet(np.ones(5))
        ce = -np.sum(y * np.log(p))
        kl = np.sum(y * np.log(y / p))
        assert ce - kl == pytest.approx(entropy)  # constant in p: same minimizer


def test_adam_removes_a_uniform_scale_but_not_the_weighting_inside_a_batch():
    torch = pytest.importorskip("torch")

    def first_step(loss_name, xs, w0=-10.0):
        w = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([w], lr=0.1)
        x = torch.tensor(xs, dtype=torch.float64)
        p = torch.sigmoid(w * x)
        y = torch.ones_like(p)
        if loss_name == "mse":
            loss = ((p - y) ** 2).sum()
        else:
            loss = torch.nn.functional.binary_cross_entropy(p, y, reduction="sum")
        loss.backward()
        opt.step()
        return w.item() - w0

    # one confidently wrong example (z = -10): Adam moves it by lr under both losses
    assert first_step("mse", [1.0]) == pytest.approx(0.1, rel=1e-3)  # eps = 1e-8 vs |g| ~ 9e-5
    assert first_step("ce", [1.0]) == pytest.approx(0.1, rel=1e-6)
    # add a borderline example that pulls w the other way (x = -0.1, z = 1):
    # squared error lets the borderline one win, cross-entropy the wrong one
    assert first_step("mse", [1.0, -0.1]) < 0
    assert first_step("ce", [1.0, -0.1]) > 0


# --- train-val-test-split-purposes / kfold-stratified-cross-validation ------------------------


def _expected_max_of_normals(k, lo=-8.0, hi=8.0, steps=160_001):
    """E[max of k iid N(0, 1)] = integral of x * k * phi(x) * Phi(x)^(k - 1) dx."""
    x = np.linspace(lo, hi, steps)
    phi = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    return float(np.sum(x * k * phi * cdf ** (k - 1)) * (x[1] - x[0]))


def test_winners_curse_best_of_50_and_standard_errors():
    se_1000 = math.sqrt(0.9 * 0.1 / 1000)
    assert se_1000 == pytest.approx(0.0095, abs=0.0001)  # about 0.95 points
    best_of_50 = _expected_max_of_normals(50)
    assert best_of_50 == pytest.approx(2.25, abs=0.01)  # "about 2.2 standard errors"
    assert 100 * best_of_50 * se_1000 == pytest.approx(2.1, abs=0.1)  # "roughly two points"
    # a Monte Carlo check of the same number
    rng = np.random.default_rng(0)
    assert rng.standard_normal((100_000, 50)).max(axis=1).mean() == pytest.approx(best_of_50, abs=0.01)
    # kfold card: 90% accuracy on 50,000 validation images
    assert 100 * math.sqrt(0.9 * 0.1 / 50_000) == pytest.approx(0.13, abs=0.005)


def test_random_folds_often_miss_a_rare_class_stratified_folds_do_not():
    n, positives, k = 500, 5, 5
    fold = n // k
    # with 5 positives and 5 folds, "no fold is empty" means exactly one positive per fold
    p_all_folds_hit = fold**positives / math.comb(n, positives)
    assert 1 - p_all_folds_hit == pytest.approx(0.96, abs=0.005)  # "about 96% of random splits"
    rng = np.random.default_rng(1)
    labels = np.zeros(n, dtype=bool)
    labels[:positives] = True
    trials = 20_000
    misses = sum((labels[rng.permutation(n)].reshape(k, fold).sum(axis=1) == 0).any() for _ in range(trials))
    assert misses / trials == pytest.approx(1 - p_all_folds_hit, abs=0.01)
    # stratified assignment: deal each class's shuffled indices round-robin over the folds
    assignment = np.empty(n, dtype=int)
    for cls in (True, False):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        assignment[idx] = np.arange(idx.size) % k
    per_fold = [int(labels[assignment == f].sum()) for f in range(k)]
    assert per_fold == [1] * k
    assert np.bincount(assignment).tolist() == [fold] * k


def test_naive_kfold_standard_error_understates_the_spread_of_the_cv_estimate():
    """Red flag: fold scores are correlated (shared training data), so std / sqrt(k) is too small.

    Draw many datasets, run 5-fold CV of a 1-nearest-neighbour classifier on each, and compare the
    real spread of the CV estimate across datasets with the naive standard error computed inside one."""
    rng = np.random.default_rng(3)
    n, d, k = 40, 5, 5
    estimates, naive = [], []
    for _ in range(3000):
        y = rng.integers(0, 2, n)
        x = rng.normal(size=(n, d)) + 0.6 * y[:, None]
        folds = rng.permutation(np.arange(n) % k)
        errs = []
        for f in range(k):
            train, test = folds != f, folds == f
            dist = ((x[test][:, None] - x[train][None]) ** 2).sum(-1)
            errs.append(np.mean(y[train][dist.argmin(1)] != y[test]))
        estimates.append(np.mean(errs))
        naive.append(np.std(errs, ddof=1) / math.sqrt(k))
    true_spread = np.std(estimates)
    assert math.sqrt(np.mean(np.square(naive))) < 0.85 * true_spread


# --- generative-vs-discriminative-classifiers ---------------------------------------------------


def _bernoulli_nb(x, y, alpha=1.0):
    prior = (y.sum() + alpha) / (len(y) + 2 * alpha)
    t1 = (x[y == 1].sum(0) + alpha) / ((y == 1).sum() + 2 * alpha)
    t0 = (x[y == 0].sum(0) + alpha) / ((y == 0).sum() + 2 * alpha)
    w = np.log(t1 / t0) - np.log((1 - t1) / (1 - t0))
    b = math.log(prior / (1 - prior)) + np.log((1 - t1) / (1 - t0)).sum()
    return w, b, prior, t0, t1


def test_naive_bayes_posterior_is_a_sigmoid_of_a_linear_function():
    rng = np.random.default_rng(2)
    x = (rng.random((200, 6)) < 0.5).astype(float)
    y = (rng.random(200) < 0.4).astype(int)
    w, b, prior, t0, t1 = _bernoulli_nb(x, y)
    for row in x[:20]:
        joint1 = prior * np.prod(t1**row * (1 - t1) ** (1 - row))
        joint0 = (1 - prior) * np.prod(t0**row * (1 - t0) ** (1 - row))
        bayes = joint1 / (joint1 + joint0)
        assert bayes == pytest.approx(_sigmoid(row @ w + b))
    # Gaussian class-conditionals with a variance shared by the two classes: the log-odds is linear in x
    mu0, mu1, var, pi1 = -1.0, 2.0, 1.5, 0.3
    xs = np.linspace(-5, 5, 11)

    def log_gauss(v, mu):
        return -0.5 * (v - mu) ** 2 / var

    log_odds = math.log(pi1 / (1 - pi1)) + log_gauss(xs, mu1) - log_gauss(xs, mu0)
    assert np.allclose(np.diff(log_odds, 2), 0)  # second differences vanish: affine in x


def test_naive_bayes_wins_small_n_logistic_regression_wins_large_n():
    """Ng & Jordan's two regimes on a toy problem where one feature is copied 6 times (NB double-counts it)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ps = np.array([0.6] + [0.65] * 10 + [0.5] * 60)

    def sample(n):
        y = rng.integers(0, 2, n)
        p = np.where(y[:, None] == 1, ps, 1 - ps)
        base = (rng.random((n, ps.size)) < p).astype(float)
        return np.concatenate([np.repeat(base[:, :1], 6, axis=1), base[:, 1:]], axis=1), y

    def logistic(x, y, l2=1e-3):
        xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.float64)
        w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + l2 * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach().numpy(), b.item()

    x_test, y_test = sample(20_000)

    def error(w, b):
        return float(np.mean(((x_test @ w + b) > 0) != y_test))

    def mean_errors(n, repeats=10):
        nb, lr = [], []
        for _ in range(repeats):
            x, y = sample(n)
            nb.append(error(*_bernoulli_nb(x, y)[:2]))
            lr.append(error(*logistic(x, y)))
        return np.mean(nb), np.mean(lr)

    nb_small, lr_small = mean_errors(20)
    nb_large, lr_large = mean_errors(2000)
    assert nb_small < lr_small  # few examples: naive Bayes ahead
    assert lr_large < nb_large - 0.03  # many examples: logistic regression's lower asymptote
    assert nb_large < nb_small  # both improve with data
