"""Numeric checks for the claims made in questions/generative.yaml.

Every test recomputes a number or identity independently (numpy, or torch when
available) instead of restating the card's text.
"""

import math

import numpy as np
import pytest

# ---------------------------------------------------------------- helpers


def linear_alpha_bar(T=1000, beta_start=1e-4, beta_end=0.02):
    betas = np.linspace(beta_start, beta_end, T)
    return betas, np.cumprod(1.0 - betas)


def cosine_alpha_bar(T=1000, s=0.008, max_beta=0.999):
    steps = np.arange(T + 1)
    f = np.cos(((steps / T) + s) / (1 + s) * np.pi / 2) ** 2
    ab = f / f[0]
    betas = np.clip(1.0 - ab[1:] / ab[:-1], 0.0, max_beta)
    return betas, np.cumprod(1.0 - betas)


def gauss_logpdf(x, mu, var):
    return -0.5 * np.log(2 * np.pi * var) - (x - mu) ** 2 / (2 * var)


# ---------------------------------------------------------------- VAE


def test_gaussian_kl_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(0)
    for mu, sigma in [(1.0, 1.0), (0.5, 0.3), (-2.0, 1.7)]:
        closed = 0.5 * (mu**2 + sigma**2 - 1 - np.log(sigma**2))
        z = mu + sigma * rng.standard_normal(2_000_000)
        mc = np.mean(gauss_logpdf(z, mu, sigma**2) - gauss_logpdf(z, 0.0, 1.0))
        assert abs(mc - closed) < 5e-3
    # the card's example: mu = 1, sigma = 1 costs 0.5 nats
    z = 1.0 + rng.standard_normal(2_000_000)
    assert abs(np.mean(gauss_logpdf(z, 1, 1) - gauss_logpdf(z, 0, 1)) - 0.5) < 5e-3


def test_elbo_gap_equals_kl_to_true_posterior():
    # Conjugate model: z ~ N(0,1), x | z ~ N(z, s2). Then p(x) = N(0, 1 + s2)
    # and p(z|x) = N(x / (1 + s2), s2 / (1 + s2)).
    s2, x = 0.5, 1.3
    log_px = gauss_logpdf(x, 0.0, 1.0 + s2)
    post_mu, post_var = x / (1 + s2), s2 / (1 + s2)
    for m, v in [(0.2, 0.4), (post_mu, post_var), (-1.0, 2.0)]:
        # ELBO = E_q[log p(x|z)] - KL(q || p(z)), both in closed form
        recon = -0.5 * np.log(2 * np.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
        kl_prior = 0.5 * (m**2 + v - 1 - np.log(v))
        elbo = recon - kl_prior
        kl_post = 0.5 * (np.log(post_var / v) + (v + (m - post_mu) ** 2) / post_var - 1)
        assert elbo <= log_px + 1e-12
        assert abs((log_px - elbo) - kl_post) < 1e-10
    # beta-VAE objective recon - beta * KL: beta > 1 stays below log p(x) for every q,
    # beta < 1 can exceed it (here at q = true posterior, where the ELBO is tight)
    for m, v in [(0.2, 0.4), (post_mu, post_var), (-1.0, 2.0)]:
        recon = -0.5 * np.log(2 * np.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
        kl_prior = 0.5 * (m**2 + v - 1 - np.log(v))
        assert recon - 4.0 * kl_prior <= log_px + 1e-12
    recon = -0.5 * np.log(2 * np.pi * s2) - ((x - post_mu) ** 2 + post_var) / (2 * s2)
    kl_prior = 0.5 * (post_mu**2 + post_var - 1 - np.log(post_var))
    assert recon - 0.5 * kl_prior > log_px + 1e-3


def test_reparameterized_gradient_matches_analytic():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mu = torch.tensor(0.7, requires_grad=True)
    sigma = torch.tensor(1.3, requires_grad=True)
    eps = torch.randn(1_000_000)
    z = mu + sigma * eps
    (z**2).mean().backward()
    # E[z^2] = mu^2 + sigma^2  ->  gradients 2 mu and 2 sigma
    assert abs(mu.grad.item() - 2 * 0.7) < 1e-2
    assert abs(sigma.grad.item() - 2 * 1.3) < 1e-2
    # a plain sample() has no gradient path, rsample() does
    dist = torch.distributions.Normal(mu, sigma)
    assert dist.sample().grad_fn is None
    assert dist.rsample().grad_fn is not None


def test_score_function_estimator_is_unbiased_but_noisier_than_reparameterization():
    # vae-elbo-derivation / vae-reparameterization-trick: both estimators are unbiased
    # for d/dmu E[z^2] = 2 mu; reparameterization is the low-variance one, not the only one.
    rng = np.random.default_rng(3)
    mu, sigma, n = 0.7, 1.3, 2_000_000
    eps = rng.standard_normal(n)
    z = mu + sigma * eps
    f = z**2
    reparam = 2 * z  # d f(mu + sigma eps) / d mu
    score = f * (z - mu) / sigma**2  # f(z) d/dmu log N(z; mu, sigma^2)
    for est in (reparam, score):
        assert est.mean() == pytest.approx(2 * mu, abs=0.02)
    assert score.var() > 3 * reparam.var()  # about 4.8x here
    # a constant baseline (here E[f]) lowers the score-function variance without bias
    baselined = (f - (mu**2 + sigma**2)) * (z - mu) / sigma**2
    assert baselined.mean() == pytest.approx(2 * mu, abs=0.02)
    assert reparam.var() < baselined.var() < score.var()


# ---------------------------------------------------------------- GANs


def test_gan_optimal_discriminator_value_is_minus_log4_plus_2jsd():
    rng = np.random.default_rng(1)
    p = rng.random(10)
    p /= p.sum()
    q = rng.random(10)
    q /= q.sum()

    def value(d):
        return np.sum(p * np.log(d)) + np.sum(q * np.log(1 - d))

    d_star = p / (p + q)
    m = 0.5 * (p + q)
    jsd = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
    assert abs(value(d_star) - (-np.log(4) + 2 * jsd)) < 1e-12
    # D* is the maximizer: random perturbations never do better
    for _ in range(200):
        d = np.clip(d_star + 0.05 * rng.standard_normal(10), 1e-6, 1 - 1e-6)
        assert value(d) <= value(d_star) + 1e-12
    # at p_g = p_data: D* = 1/2 everywhere and the value is exactly -log 4
    d_eq = p / (p + p)
    assert np.allclose(d_eq, 0.5)
    v_eq = np.sum(p * np.log(d_eq)) + np.sum(p * np.log(1 - d_eq))
    assert abs(v_eq + np.log(4)) < 1e-12
    # and -log 4 is the minimum over generators: any q != p gives a larger value
    assert value(d_star) > -np.log(4)


def test_saturating_generator_gradient_vanishes_when_discriminator_confident():
    torch = pytest.importorskip("torch")
    d_fake = 0.01
    a = torch.tensor(math.log(d_fake / (1 - d_fake)), requires_grad=True)
    torch.log(1 - torch.sigmoid(a)).backward()
    g_sat = a.grad.item()
    a.grad = None
    (-torch.log(torch.sigmoid(a))).backward()
    g_nonsat = a.grad.item()
    assert abs(abs(g_sat) - 0.01) < 1e-6
    assert abs(abs(g_nonsat) - 0.99) < 1e-6
    assert 98 < abs(g_nonsat) / abs(g_sat) < 100


def test_simultaneous_gradient_steps_spiral_out_on_bilinear_game():
    # min_x max_y x*y: equilibrium at (0, 0)
    lr = 0.1
    x, y = 1.0, 0.0
    for _ in range(100):
        x, y = x - lr * y, y + lr * x
    assert abs(math.hypot(x, y) - (1 + lr**2) ** 50) < 1e-9
    assert math.hypot(x, y) > 1.6
    # alternating updates stay bounded but do not converge
    x, y = 1.0, 0.0
    radii = []
    for _ in range(1000):
        x = x - lr * y
        y = y + lr * x
        radii.append(math.hypot(x, y))
    assert max(radii) < 1.1 and min(radii[500:]) > 0.9


def test_jsd_saturates_at_log2_while_w1_tracks_distance():
    grid = np.arange(-50, 51) / 10.0  # support points

    def point_mass(loc):
        v = np.zeros_like(grid)
        v[np.argmin(abs(grid - loc))] = 1.0
        return v

    def jsd(p, q):
        m = 0.5 * (p + q)

        def kl(a, b):
            mask = a > 0
            return np.sum(a[mask] * np.log(a[mask] / b[mask]))

        return 0.5 * kl(p, m) + 0.5 * kl(q, m)

    def w1(p, q):  # 1-D: integral of |CDF_p - CDF_q|
        return np.sum(np.abs(np.cumsum(p) - np.cumsum(q))[:-1] * np.diff(grid))

    p = point_mass(0.0)
    for theta in [0.5, 1.0, 3.0]:
        q = point_mass(theta)
        assert abs(jsd(p, q) - np.log(2)) < 1e-12
        assert abs(w1(p, q) - theta) < 1e-9


def test_gan_step_without_detach_breaks_generator_backward():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    bce = nn.BCEWithLogitsLoss()
    z = torch.randn(16, 4)
    ones, zeros = torch.ones(16, 1), torch.zeros(16, 1)

    # correct: detach in the D step, G gets gradient only from its own step
    fake = G(z)
    bce(D(fake.detach()), zeros).backward()
    assert all(p.grad is None for p in G.parameters())
    bce(D(fake), ones).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())

    # bug: no detach in the D step frees G's graph, the G step then fails
    fake = G(z)
    bce(D(fake), zeros).backward()
    with pytest.raises(RuntimeError):
        bce(D(fake), ones).backward()


# ---------------------------------------------------------------- diffusion


def test_diffusion_closed_form_matches_iterated_noising():
    betas, ab = linear_alpha_bar()
    mean_coef, var = 1.0, 0.0
    for t, b in enumerate(betas):
        mean_coef *= math.sqrt(1 - b)
        var = (1 - b) * var + b
        if t in (0, 9, 499, 999):
            assert abs(mean_coef - math.sqrt(ab[t])) < 1e-12
            assert abs(var - (1 - ab[t])) < 1e-12
    # Monte Carlo: iterate 200 noising steps on a fixed x0 and compare moments
    rng = np.random.default_rng(2)
    x0, t = 1.5, 200
    x = np.full(400_000, x0)
    for b in betas[:t]:
        x = math.sqrt(1 - b) * x + math.sqrt(b) * rng.standard_normal(x.shape)
    assert abs(x.mean() - math.sqrt(ab[t - 1]) * x0) < 5e-3
    assert abs(x.var() - (1 - ab[t - 1])) < 5e-3


def test_linear_schedule_terminal_alpha_bar_and_snr_range():
    _, ab = linear_alpha_bar()
    snr = ab / (1 - ab)
    assert 3e-5 < ab[-1] < 5e-5
    assert 9e3 < snr[0] < 1.1e4
    assert 3e-5 < snr[-1] < 5e-5
    assert np.all(np.diff(snr) < 0)


def test_cosine_schedule_keeps_more_signal_than_linear_at_midpoint():
    _, ab_lin = linear_alpha_bar()
    _, ab_cos = cosine_alpha_bar()
    mid = 500 - 1  # alpha_bar after 500 of 1000 steps
    assert 0.07 < ab_lin[mid] < 0.09
    assert 0.47 < ab_cos[mid] < 0.51
    # the linear schedule is already near pure noise over its last few hundred steps
    assert ab_lin[700 - 1] < 0.01


def test_ddpm_posterior_mean_and_variance_match_gaussian_conditioning():
    _, ab = linear_alpha_bar()
    betas = 1 - np.concatenate([[ab[0]], ab[1:] / ab[:-1]])
    t = 300  # 0-based index of step t; previous step t-1
    a_t, ab_t, ab_prev, b_t = 1 - betas[t], ab[t], ab[t - 1], betas[t]
    x0, xt = 0.8, -0.4
    # joint of (x_{t-1}, x_t) given x0: x_{t-1} ~ N(sqrt(ab_prev) x0, 1 - ab_prev),
    # x_t = sqrt(a_t) x_{t-1} + sqrt(b_t) n
    m1, v1 = math.sqrt(ab_prev) * x0, 1 - ab_prev
    m2, v2 = math.sqrt(a_t) * m1, a_t * v1 + b_t
    cov = math.sqrt(a_t) * v1
    cond_mean = m1 + cov / v2 * (xt - m2)
    cond_var = v1 - cov**2 / v2
    mu_tilde = (math.sqrt(ab_prev) * b_t / (1 - ab_t)) * x0 + (math.sqrt(a_t) * (1 - ab_prev) / (1 - ab_t)) * xt
    beta_tilde = (1 - ab_prev) / (1 - ab_t) * b_t
    assert abs(cond_mean - mu_tilde) < 1e-12
    assert abs(cond_var - beta_tilde) < 1e-12
    # the DDPM sampling update's mean equals mu_tilde evaluated at x0_hat
    eps = (xt - math.sqrt(ab_t) * x0) / math.sqrt(1 - ab_t)
    ddpm_mean = (xt - b_t / math.sqrt(1 - ab_t) * eps) / math.sqrt(a_t)
    assert abs(ddpm_mean - mu_tilde) < 1e-12


def test_eps_x0_and_v_parameterizations_are_interchangeable():
    rng = np.random.default_rng(3)
    _, ab = linear_alpha_bar()
    x0 = rng.standard_normal(1000)
    eps = rng.standard_normal(1000)
    for t in (10, 400, 900):
        a, s = math.sqrt(ab[t]), math.sqrt(1 - ab[t])
        xt = a * x0 + s * eps
        assert np.allclose((xt - s * eps) / a, x0)
        v = a * eps - s * x0
        assert np.allclose(a * xt - s * v, x0)
        # an error in eps maps to an x0 error scaled by 1/sqrt(SNR)
        eps_hat = eps + 0.1 * rng.standard_normal(1000)
        x0_hat = (xt - s * eps_hat) / a
        snr = ab[t] / (1 - ab[t])
        assert np.isclose(np.mean((x0_hat - x0) ** 2), np.mean((eps_hat - eps) ** 2) / snr)


def test_ddim_eta0_with_exact_noise_lands_on_x0_with_skipped_steps():
    rng = np.random.default_rng(4)
    _, ab = linear_alpha_bar()
    x0 = rng.standard_normal(64)
    eps = rng.standard_normal(64)
    steps = list(range(999, -1, -20))  # 50 of the 1000 timesteps
    x = math.sqrt(ab[999]) * x0 + math.sqrt(1 - ab[999]) * eps
    for i, t in enumerate(steps):
        ab_s = ab[steps[i + 1]] if i + 1 < len(steps) else 1.0
        eps_hat = (x - math.sqrt(ab[t]) * x0) / math.sqrt(1 - ab[t])  # oracle predictor
        x0_hat = (x - math.sqrt(1 - ab[t]) * eps_hat) / math.sqrt(ab[t])
        x = math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s) * eps_hat
    assert np.allclose(x, x0, atol=1e-8)
    assert len(steps) == 50


def test_score_of_noising_kernel_equals_minus_eps_over_sigma():
    rng = np.random.default_rng(5)
    _, ab = linear_alpha_bar()
    t = 250
    x0, eps = 0.9, rng.standard_normal()
    xt = math.sqrt(ab[t]) * x0 + math.sqrt(1 - ab[t]) * eps
    h = 1e-5
    fd = (
        gauss_logpdf(xt + h, math.sqrt(ab[t]) * x0, 1 - ab[t]) - gauss_logpdf(xt - h, math.sqrt(ab[t]) * x0, 1 - ab[t])
    ) / (2 * h)
    assert abs(fd - (-eps / math.sqrt(1 - ab[t]))) < 1e-5


def test_tweedie_formula_gives_posterior_mean_for_gaussian_data():
    # data x0 ~ N(m, v); marginal of x_t is N(a m, a^2 v + s^2)
    m, v = 2.0, 0.5
    _, ab = linear_alpha_bar()
    a, s2 = math.sqrt(ab[400]), 1 - ab[400]
    xt = 0.3
    marg_mean, marg_var = a * m, a**2 * v + s2
    score = -(xt - marg_mean) / marg_var
    tweedie = (xt + s2 * score) / a
    exact = m + (a * v) / marg_var * (xt - marg_mean)  # Gaussian conditioning
    assert abs(tweedie - exact) < 1e-12


def test_cfg_on_gaussians_moves_mean_beyond_conditional_mean():
    # p(x) = N(0, 1), p(x | c) = N(mu_c, 1): guided score s_u + w (s_c - s_u)
    mu_c = 1.0
    xs = np.linspace(-10, 15, 200_001)
    dx = xs[1] - xs[0]
    for w in (1.0, 3.0, 7.5):
        log_tilted = gauss_logpdf(xs, 0, 1) + w * (gauss_logpdf(xs, mu_c, 1) - gauss_logpdf(xs, 0, 1))
        dens = np.exp(log_tilted - log_tilted.max())
        dens /= dens.sum() * dx
        mean = np.sum(xs * dens) * dx
        assert abs(mean - w * mu_c) < 1e-6  # w = 1 recovers the conditional mean
        # the guided score equals the gradient of the tilted log-density
        x = 0.37
        s_u, s_c = -x, -(x - mu_c)
        assert abs((s_u + w * (s_c - s_u)) - (-(x - w * mu_c))) < 1e-12


def test_latent_diffusion_compression_factor_is_48():
    pixels = 512 * 512 * 3
    f = 8
    latent = (512 // f) * (512 // f) * 4
    assert (pixels, latent) == (786_432, 16_384)
    assert pixels / latent == 48


# ---------------------------------------------------------------- flows


def test_change_of_variables_matches_gaussian_density_for_linear_flow():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    x = rng.standard_normal(3)
    # flow z = f(x) = A^{-1}(x - b), base N(0, I)
    z = np.linalg.solve(A, x - b)
    log_base = -0.5 * z @ z - 1.5 * np.log(2 * np.pi)
    log_det = np.log(abs(np.linalg.det(np.linalg.inv(A))))
    via_flow = log_base + log_det
    cov = A @ A.T
    d = x - b
    direct = -0.5 * d @ np.linalg.solve(cov, d) - 0.5 * np.log(np.linalg.det(2 * np.pi * cov))
    assert abs(via_flow - direct) < 1e-10


def test_affine_coupling_logdet_equals_sum_of_scales_and_inverts():
    rng = np.random.default_rng(7)
    W1, W2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def s_net(xa):
        return np.tanh(W1 @ xa)

    def t_net(xa):
        return np.sin(W2 @ xa)

    def forward(x):
        xa, xb = x[:3], x[3:]
        return np.concatenate([xa, xb * np.exp(s_net(xa)) + t_net(xa)])

    def inverse(y):
        ya, yb = y[:3], y[3:]
        return np.concatenate([ya, (yb - t_net(ya)) * np.exp(-s_net(ya))])

    x = rng.standard_normal(6)
    h = 1e-6
    J = np.stack([(forward(x + h * e) - forward(x - h * e)) / (2 * h) for e in np.eye(6)], axis=1)
    assert np.allclose(J[:3, 3:], 0.0)  # block triangular
    assert abs(np.log(abs(np.linalg.det(J))) - s_net(x[:3]).sum()) < 1e-6
    assert np.allclose(inverse(forward(x)), x)


# ---------------------------------------------------------------- LM objectives


def test_chain_rule_recovers_joint_while_pseudo_likelihood_does_not():
    rng = np.random.default_rng(8)
    joint = rng.random((3, 3, 3))
    joint /= joint.sum()
    seq = (2, 0, 1)
    # autoregressive factorization p(x1) p(x2|x1) p(x3|x1,x2)
    p1 = joint.sum(axis=(1, 2))[seq[0]]
    p2 = joint[seq[0]].sum(axis=1)[seq[1]] / joint[seq[0]].sum()
    p3 = joint[seq[0], seq[1], seq[2]] / joint[seq[0], seq[1]].sum()
    assert abs(math.log(p1 * p2 * p3) - math.log(joint[seq])) < 1e-12
    # pseudo-likelihood: product of p(x_i | all other tokens)
    c1 = joint[seq] / joint[:, seq[1], seq[2]].sum()
    c2 = joint[seq] / joint[seq[0], :, seq[2]].sum()
    c3 = joint[seq] / joint[seq[0], seq[1], :].sum()
    pseudo = math.log(c1 * c2 * c3)
    assert abs(pseudo - math.log(joint[seq])) > 1e-3
    # and the pseudo-likelihood does not sum to one over sequences
    total = 0.0
    for i in range(3):
        for j in range(3):
            for k in range(3):
                total += (
                    (joint[i, j, k] / joint[:, j, k].sum())
                    * (joint[i, j, k] / joint[i, :, k].sum())
                    * (joint[i, j, k] / joint[i, j, :].sum())
                )
    assert abs(total - 1.0) > 1e-3


# ---------------------------------------------------------------- evaluation


def test_fid_formula_and_finite_sample_bias():
    def sqrtm_psd(M):
        w, V = np.linalg.eigh((M + M.T) / 2)
        return (V * np.sqrt(np.clip(w, 0, None))) @ V.T

    def fid(mu1, S1, mu2, S2):
        r = sqrtm_psd(S1)
        cross = sqrtm_psd(r @ S2 @ r)  # Tr((S1 S2)^1/2) == Tr((r S2 r)^1/2)
        return float(np.sum((mu1 - mu2) ** 2) + np.trace(S1 + S2 - 2 * cross))

    # diagonal covariances: FID = ||dmu||^2 + sum (sd1 - sd2)^2
    mu1, mu2 = np.array([0.0, 1.0]), np.array([0.5, -1.0])
    v1, v2 = np.array([1.0, 4.0]), np.array([0.25, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert abs(fid(mu1, np.diag(v1), mu2, np.diag(v2)) - expected) < 1e-10
    # two samples from the SAME distribution still give FID > 0, shrinking with N
    rng = np.random.default_rng(9)

    def sample_fid(n, d=16):
        a, b = rng.standard_normal((n, d)), rng.standard_normal((n, d))
        return fid(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))

    small, large = sample_fid(200), sample_fid(20_000)
    assert small > 0 and large > 0 and small > 10 * large


def test_bits_per_dim_of_uniform_8bit_model_is_8():
    D = 32 * 32 * 3
    nll_nats = D * math.log(256)  # uniform over 256 values per subpixel
    assert D == 3072
    assert abs(nll_nats / (D * math.log(2)) - 8.0) < 1e-12


# ---------------------------------------------------------------- KL direction


def test_forward_kl_moment_matches_reverse_kl_seeks_one_mode():
    xs = np.linspace(-12, 12, 4801)
    dx = xs[1] - xs[0]
    p = 0.5 * np.exp(gauss_logpdf(xs, -3, 1)) + 0.5 * np.exp(gauss_logpdf(xs, 3, 1))
    logp = np.log(p)

    def forward_kl(m, s):
        return np.sum(p * (logp - gauss_logpdf(xs, m, s**2))) * dx

    def reverse_kl(m, s):
        q = np.exp(gauss_logpdf(xs, m, s**2))
        return np.sum(q * (gauss_logpdf(xs, m, s**2) - logp)) * dx

    ms = np.linspace(-4, 4, 161)
    ss = np.linspace(0.5, 4.5, 161)
    fwd = np.array([[forward_kl(m, s) for s in ss] for m in ms])
    rev = np.array([[reverse_kl(m, s) for s in ss] for m in ms])
    i, j = np.unravel_index(fwd.argmin(), fwd.shape)
    assert abs(ms[i]) < 0.06 and abs(ss[j] ** 2 - 10.0) < 0.3  # mean 0, variance 10
    i, j = np.unravel_index(rev.argmin(), rev.shape)
    assert abs(abs(ms[i]) - 3.0) < 0.1 and abs(ss[j] - 1.0) < 0.1


def test_cfg_scale_conventions_differ_by_one():
    # diffusion-classifier-free-guidance: eps_u + w (eps_c - eps_u) with w = 1 + w'
    # is Ho & Salimans' (1 + w') eps_c - w' eps_u; w = 1 (or w' = 0) is plain conditional.
    rng = np.random.default_rng(0)
    eps_c, eps_u = rng.standard_normal(16), rng.standard_normal(16)
    for w_prime in (0.0, 0.5, 6.5):
        w = 1 + w_prime
        np.testing.assert_allclose(eps_u + w * (eps_c - eps_u), (1 + w_prime) * eps_c - w_prime * eps_u)
    np.testing.assert_allclose(eps_u + 1.0 * (eps_c - eps_u), eps_c)
    np.testing.assert_allclose(eps_u + 0.0 * (eps_c - eps_u), eps_u)


# ---------------------------------------------------------------- flow matching


def _two_point_velocity(x, t, p_plus=0.7):
    """Marginal flow-matching velocity E[x1 - x0 | x_t = x] for x0 ~ N(0, 1), x1 = +1 w.p. p_plus else -1."""
    # given x1 = m, x_t ~ N(t m, (1 - t)^2); posterior over m, then v = (E[x1 | x_t] - x) / (1 - t)
    s2 = (1 - t) ** 2
    lp = np.log(p_plus) - (x - t) ** 2 / (2 * s2)
    lm = np.log(1 - p_plus) - (x + t) ** 2 / (2 * s2)
    e_x1 = np.tanh((lp - lm) / 2)  # P(+1) - P(-1)
    return (e_x1 - x) / (1 - t)


def test_flow_matching_target_is_the_constant_velocity_x1_minus_x0():
    rng = np.random.default_rng(20)
    x0, x1 = rng.standard_normal(5), rng.standard_normal(5) + 3
    path = lambda t: (1 - t) * x0 + t * x1
    for t in (0.1, 0.5, 0.9):
        h = 1e-6
        velocity = (path(t + h) - path(t - h)) / (2 * h)
        assert np.allclose(velocity, x1 - x0, atol=1e-6)
        # x1 - x_t is not the target: it is (1 - t) times the velocity
        assert np.allclose(x1 - path(t), (1 - t) * (x1 - x0))
    # along one straight path a single Euler step of size 1 is exact
    assert np.allclose(x0 + 1.0 * (x1 - x0), x1)


def test_velocity_prediction_converts_to_data_and_noise_predictions():
    rng = np.random.default_rng(21)
    x0, x1, t = rng.standard_normal(4), rng.standard_normal(4), 0.3
    xt, v = (1 - t) * x0 + t * x1, x1 - x0
    assert np.allclose(xt + (1 - t) * v, x1)  # x1_hat
    assert np.allclose(xt - t * v, x0)  # eps_hat (x0 is the noise)


def test_per_pair_regression_targets_average_to_the_marginal_velocity():
    rng = np.random.default_rng(22)
    n, t, p_plus = 2_000_000, 0.5, 0.7
    x0 = rng.standard_normal(n)
    x1 = np.where(rng.random(n) < p_plus, 1.0, -1.0)
    xt = (1 - t) * x0 + t * x1
    for centre in (-0.4, 0.0, 0.3):
        in_bin = np.abs(xt - centre) < 0.01
        assert (x1 - x0)[in_bin].mean() == pytest.approx(_two_point_velocity(centre, t, p_plus), abs=0.03)


def test_one_euler_step_from_noise_returns_the_data_mean_and_many_steps_recover_the_data():
    rng = np.random.default_rng(23)
    p_plus = 0.7
    x0 = rng.standard_normal(20_000)
    one_step = x0 + 1.0 * _two_point_velocity(x0, 0.0, p_plus)
    assert np.allclose(one_step, 2 * p_plus - 1)  # E[x1] = 0.4 for every noise sample

    x, N = x0.copy(), 400
    for k in range(N):
        x = x + _two_point_velocity(x, k / N, p_plus) / N
    assert np.mean(np.abs(np.abs(x) - 1) < 0.05) > 0.99  # samples land on the two data points
    assert np.mean(x > 0) == pytest.approx(p_plus, abs=0.01)  # with the right proportions


# ---------------------------------------------------------------- testing a flow layer


def _coupling(x, W1, W2, sign=1.0, batch_sum_bug=False):
    torch = pytest.importorskip("torch")
    xa, xb = x[..., :2], x[..., 2:]
    s = torch.tanh(xa @ W1)
    t = torch.sin(xa @ W2)
    y = torch.cat([xa, xb * torch.exp(s) + t], dim=-1)
    logdet = sign * s.sum(dim=-1)
    if batch_sum_bug:
        logdet = s.sum() * torch.ones(x.shape[0], dtype=x.dtype)
    return y, logdet


def test_coupling_logdet_matches_the_autograd_jacobian_sample_by_sample():
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import jacobian

    torch.manual_seed(0)
    W1, W2 = torch.randn(2, 2, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    x = torch.randn(3, 4, dtype=torch.float64)
    J = jacobian(lambda z: _coupling(z, W1, W2)[0], x)
    assert J.shape == (3, 4, 3, 4)  # every output of every sample w.r.t. every input of every sample
    _, logdet = _coupling(x, W1, W2)
    for b in range(3):
        others = [c for c in range(3) if c != b]
        assert torch.count_nonzero(J[b, :, others, :]) == 0  # samples do not interact
        brute = torch.linalg.slogdet(J[b, :, b, :]).logabsdet
        assert torch.allclose(brute, logdet[b], atol=1e-12)
    # the same check catches a log-det summed over the batch instead of over features
    _, wrong = _coupling(x, W1, W2, batch_sum_bug=True)
    assert not torch.allclose(torch.linalg.slogdet(J[0, :, 0, :]).logabsdet, wrong[0])


def test_coupling_inverts_and_its_inverse_has_the_negated_logdet():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    W1, W2 = torch.randn(2, 2, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    x = torch.randn(5, 4, dtype=torch.float64)
    y, logdet = _coupling(x, W1, W2)
    ya, yb = y[:, :2], y[:, 2:]
    s, t = torch.tanh(ya @ W1), torch.sin(ya @ W2)
    x_back = torch.cat([ya, (yb - t) * torch.exp(-s)], dim=-1)
    assert torch.allclose(x_back, x, atol=1e-12)
    assert torch.allclose(logdet + (-s.sum(-1)), torch.zeros(5, dtype=torch.float64))


def test_two_dimensional_flow_density_integrates_to_one_and_a_sign_bug_does_not():
    h = 0.02
    g = np.arange(-12, 12, h) + h / 2
    a, b = np.meshgrid(g, g, indexing="ij")
    s = 0.8 * np.tanh(a)  # log-scale for b, computed from a
    z_a, z_b = a, b * np.exp(s) + np.sin(2 * a)
    log_base = -0.5 * (z_a**2 + z_b**2) - np.log(2 * np.pi)
    total = np.exp(log_base + s).sum() * h * h
    assert total == pytest.approx(1.0, abs=1e-4)
    wrong_sign = np.exp(log_base - s).sum() * h * h
    assert abs(wrong_sign - 1.0) > 0.1


def test_rescaling_8bit_pixels_to_unit_interval_shifts_bits_per_dim_by_8():
    D = 3072
    # y = x / 256 maps [0, 256)^D to [0, 1)^D, so log p_x(x) = log p_y(y) - D log 256
    shift_bits_per_dim = D * math.log(256) / (D * math.log(2))
    assert shift_bits_per_dim == pytest.approx(8.0)
    reported = -5.0  # bits/dim computed on the [0, 1] scale
    assert reported + shift_bits_per_dim == pytest.approx(3.0)


# ---------------------------------------------------------------- MC dropout


def test_eval_mode_gives_identical_passes_and_dropout_on_gives_spread():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 1))
    x = torch.randn(1, 4)
    model.eval()
    with torch.no_grad():
        passes = [model(x) for _ in range(30)]
    assert all(torch.equal(p, passes[0]) for p in passes)  # zero variance: no MC sampling happened
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        mc = torch.stack([model(x) for _ in range(30)])
    assert mc.var() > 1e-4


def test_switching_dropout_modules_misses_the_attention_dropout_inside_multiheadattention():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    assert not any(isinstance(m, nn.Dropout) for m in mha.modules())  # applied functionally
    mha.eval()
    q = torch.randn(1, 5, 8)
    with torch.no_grad():
        assert torch.equal(mha(q, q, q)[0], mha(q, q, q)[0])
        mha.train()  # the module's own flag is what turns it on
        assert not torch.equal(mha(q, q, q)[0], mha(q, q, q)[0])


def test_sdpa_dropout_has_no_mode_so_attention_code_gates_dropout_p_on_its_own_training_flag():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    torch.manual_seed(0)
    q = torch.randn(1, 2, 5, 8)
    with torch.no_grad():
        # a plain function: dropout_p > 0 drops whatever module mode is set elsewhere
        assert not torch.equal(
            F.scaled_dot_product_attention(q, q, q, dropout_p=0.5),
            F.scaled_dot_product_attention(q, q, q, dropout_p=0.5),
        )
        assert torch.equal(
            F.scaled_dot_product_attention(q, q, q, dropout_p=0.0), F.scaled_dot_product_attention(q, q, q)
        )


def test_predictive_entropy_splits_into_expected_entropy_plus_mutual_information():
    rng = np.random.default_rng(24)

    def entropy(p):
        return -(p * np.log(p)).sum(-1)

    logits = rng.standard_normal((50, 10)) * 2.0  # T = 50 stochastic passes, 10 classes
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    mean = probs.mean(0)
    total, aleatoric = entropy(mean), entropy(probs).mean()
    mutual_information = total - aleatoric
    assert mutual_information > 0
    kl = (probs * np.log(probs / mean)).sum(-1).mean()  # the same quantity as a mean KL to the average
    assert mutual_information == pytest.approx(kl, abs=1e-12)
    same = np.repeat(probs[:1], 50, axis=0)  # identical passes (eval mode): no epistemic part
    assert entropy(same.mean(0)) - entropy(same).mean() == pytest.approx(0.0, abs=1e-12)
