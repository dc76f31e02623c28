"""Numeric claims made by the cards in questions/design.yaml, recomputed independently."""

import math
from statistics import NormalDist

import numpy as np
import pytest


def test_brute_force_scoring_of_10m_items_costs_1_28_billion_macs():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    n_items, dim = 10_000_000, 128
    # meta tensors: torch counts the matmul's FLOPs without allocating 5 GB
    items = torch.empty(n_items, dim, device="meta")
    user = torch.empty(dim, 1, device="meta")
    with FlopCounterMode(display=False) as counter:
        items @ user
    macs = counter.get_total_flops() / 2  # one multiply-add = 2 FLOPs
    assert macs == pytest.approx(1.28e9)
    fp32_bytes = items.numel() * torch.empty((), dtype=torch.float32).element_size()
    assert fp32_bytes / 1e9 == pytest.approx(5.12)  # "about 5 GB read per request"


def test_thompson_sampling_concentrates_on_the_best_arm():
    rng = np.random.default_rng(0)
    true_ctr = np.array([0.02, 0.03, 0.05])
    clicks = np.zeros(3)
    shows = np.zeros(3)
    for _ in range(20_000):
        draws = rng.beta(1 + clicks, 1 + shows - clicks)
        arm = int(np.argmax(draws))
        shows[arm] += 1
        clicks[arm] += rng.random() < true_ctr[arm]
    assert shows[2] / shows.sum() > 0.8  # mostly shows the best item
    assert shows[0] > 0 and shows[1] > 0  # but explored the others


def test_replica_count_and_concurrency_for_10k_rps():
    replicas = 10_000 / (1_600 * 0.65)
    assert replicas == pytest.approx(9.6, abs=0.05)
    assert math.ceil(replicas) == 10
    # Little's law checked by simulation: Poisson arrivals at 10,000/s, each request
    # in the system for 0.1 s on average (exponential), count requests in flight
    rng = np.random.default_rng(0)
    rate, horizon = 10_000, 5.0
    arrivals = np.cumsum(rng.exponential(1 / rate, int(rate * horizon * 1.1)))
    arrivals = arrivals[arrivals < horizon]
    departures = arrivals + rng.exponential(0.1, arrivals.size)
    probes = np.linspace(1.0, horizon, 400)  # skip the warm-up second
    in_flight = np.searchsorted(arrivals, probes) - np.array([(departures[arrivals < t] < t).sum() for t in probes])
    assert in_flight.mean() == pytest.approx(rate * 0.1, rel=0.03)  # about 1,000
    assert in_flight.max() > rate * 0.1  # bursts go higher than the average


def test_latency_budget_example_split_adds_to_50_ms():
    split = {"network": 8, "features": 10, "model": 22, "postprocessing": 5, "slack": 5}
    assert sum(split.values()) == 50


def test_cascade_improves_mean_latency_but_not_p99():
    rng = np.random.default_rng(0)
    n = 200_000
    escalate = rng.random(n) < 0.2
    latency = np.where(escalate, 5.0 + 40.0, 5.0)  # hard cases run both models
    assert latency.mean() == pytest.approx(5 + 0.2 * 40, rel=0.01)
    assert latency.mean() == pytest.approx(13.0, rel=0.01)
    assert np.percentile(latency, 99) == pytest.approx(45.0)


def test_cost_per_query_examples():
    gpu = 2.50 / (400 * 3600) * 1e6  # dollars per million queries
    cpu = 0.40 / (40 * 3600) * 1e6
    assert gpu == pytest.approx(1.74, abs=0.01)
    assert gpu / 0.5 == pytest.approx(3.47, abs=0.01)  # at 50% average utilisation
    assert cpu == pytest.approx(2.78, abs=0.01)
    assert cpu > gpu


def test_llm_vs_small_model_cost_arithmetic():
    price_per_token = 1.0 / 1e6  # illustrative $1 per million tokens
    tokens_per_ticket = 800

    def llm_cost_per_day(tickets):
        return tickets * tokens_per_ticket * price_per_token

    gpu_cost_per_day = 1.0 * 24  # one ~$1/hour GPU running all day
    assert llm_cost_per_day(200_000) == pytest.approx(160.0)
    assert gpu_cost_per_day == pytest.approx(24.0)
    assert llm_cost_per_day(2_000) == pytest.approx(1.60)
    break_even = gpu_cost_per_day / (tokens_per_ticket * price_per_token)
    assert break_even == pytest.approx(30_000)
    assert llm_cost_per_day(break_even) == pytest.approx(gpu_cost_per_day)
    # "handles that volume easily": 200,000 tickets/day is only a few per second
    assert 200_000 / 86_400 < 3


def test_prior_shift_logit_correction_matches_bayes_posterior():
    # class-conditional densities N(+1, 1) for fraud and N(-1, 1) for legitimate
    x = np.linspace(-4, 4, 81)

    def posterior(prior):
        like1 = np.exp(-0.5 * (x - 1) ** 2)
        like0 = np.exp(-0.5 * (x + 1) ** 2)
        return prior * like1 / (prior * like1 + (1 - prior) * like0)

    p_train, p_live = posterior(0.5), posterior(0.01)
    logit = np.log(p_train / (1 - p_train))
    shifted = logit + np.log(0.01 / 0.99) - np.log(0.5 / 0.5)
    corrected = 1 / (1 + np.exp(-shifted))
    np.testing.assert_allclose(corrected, p_live, rtol=1e-10)
    # the worked example: 0.9 at a balanced prior becomes about 0.083 at 1%
    odds = 9 * (0.01 / 0.99)
    assert odds == pytest.approx(0.091, abs=5e-4)
    assert odds / (1 + odds) == pytest.approx(0.083, abs=5e-4)
    # ranking is unchanged
    assert np.all(np.diff(corrected) > 0) and np.all(np.diff(p_train) > 0)


def test_precision_collapses_at_low_prevalence():
    def precision(tpr, fpr, pi):
        return tpr * pi / (tpr * pi + fpr * (1 - pi))

    assert precision(0.95, 0.05, 0.5) == pytest.approx(0.95)
    assert precision(0.95, 0.05, 0.01) == pytest.approx(0.16, abs=0.005)
    rng = np.random.default_rng(0)
    n = 2_000_000
    y = rng.random(n) < 0.01
    flagged = np.where(y, rng.random(n) < 0.95, rng.random(n) < 0.05)
    simulated = (flagged & y).sum() / flagged.sum()
    assert simulated == pytest.approx(precision(0.95, 0.05, 0.01), rel=0.03)


def test_accuracy_standard_error_and_interval_on_1000_examples():
    se = math.sqrt(0.9 * 0.1 / 1000)
    assert se * 100 == pytest.approx(0.95, abs=0.01)
    assert 1.96 * se * 100 == pytest.approx(1.9, abs=0.05)
    rng = np.random.default_rng(0)
    correct = rng.random(1000) < 0.9
    boot = np.array([rng.choice(correct, 1000).mean() for _ in range(4000)])
    assert boot.std() == pytest.approx(se, rel=0.1)


def test_paired_test_can_resolve_a_gain_that_the_unpaired_interval_cannot():
    # 1,000 shared test examples; the models disagree on 20, the new one wins 15 of them:
    # a 1-point accuracy gain, inside the +-1.9 point interval of either accuracy alone
    n, disagree, new_wins = 1000, 20, 15
    gain = (new_wins - (disagree - new_wins)) / n
    assert gain == pytest.approx(0.01)
    assert gain < 1.96 * math.sqrt(0.9 * 0.1 / n)
    # exact McNemar test: under no difference, wins among disagreements ~ Binomial(20, 0.5)
    tail = sum(math.comb(disagree, k) for k in range(disagree - new_wins + 1)) / 2**disagree
    p_value = 2 * tail
    assert p_value < 0.05


def test_ab_test_sample_size_constant_is_about_16():
    z = NormalDist().inv_cdf
    constant = 2 * (z(0.975) + z(0.80)) ** 2
    assert constant == pytest.approx(15.7, abs=0.05)
    sigma2 = 0.05 * 0.95
    n = 16 * sigma2 / 0.0025**2
    assert n == pytest.approx(121_600)
    # simulate: with about that many users per arm, a 0.25-point lift is detected ~80% of the time
    rng = np.random.default_rng(0)
    n_arm = int(constant * sigma2 / 0.0025**2)
    trials = 2000
    a = rng.binomial(n_arm, 0.05, trials) / n_arm
    b = rng.binomial(n_arm, 0.0525, trials) / n_arm
    se = np.sqrt(2 * sigma2 / n_arm)
    power = np.mean((b - a) / se > z(0.975))
    assert power == pytest.approx(0.8, abs=0.04)


def test_ips_estimate_is_unbiased_for_a_new_policy():
    rng = np.random.default_rng(0)
    n_actions = 4
    reward_prob = np.array([0.1, 0.3, 0.2, 0.6])
    logging = np.array([0.4, 0.3, 0.2, 0.1])  # stochastic logging policy, all actions possible
    target = np.array([0.0, 0.1, 0.1, 0.8])
    true_value = float(target @ reward_prob)
    estimates = []
    for _ in range(200):
        a = rng.choice(n_actions, size=5000, p=logging)
        r = rng.random(5000) < reward_prob[a]
        estimates.append(np.mean(r * target[a] / logging[a]))
    assert np.mean(estimates) == pytest.approx(true_value, rel=0.01)
    # naive average of logged rewards measures the logging policy instead
    assert float(logging @ reward_prob) < true_value - 0.2


def test_cost_based_threshold_minimises_expected_cost():
    c_fp, c_fn = 5.0, 200.0
    t_star = c_fp / (c_fp + c_fn)
    assert t_star == pytest.approx(0.024, abs=5e-4)
    rng = np.random.default_rng(0)
    p = rng.beta(0.3, 20, 500_000)  # calibrated fraud probabilities, mostly tiny
    y = rng.random(p.size) < p
    grid = np.linspace(0.001, 0.2, 400)
    costs = [(c_fp * ((p >= t) & ~y).sum() + c_fn * ((p < t) & y).sum()) for t in grid]
    best = grid[int(np.argmin(costs))]
    assert best == pytest.approx(t_star, abs=0.006)


def test_tree_split_is_invariant_to_monotone_feature_transform():
    rng = np.random.default_rng(0)
    amount = rng.lognormal(3, 1.5, 2000)
    y = (amount > 150).astype(float)  # a sharp threshold target
    y = np.where(rng.random(2000) < 0.05, 1 - y, y)

    def best_split_partition(feature):
        order = np.argsort(feature)
        ys = y[order]
        best, best_k = np.inf, None
        for k in range(1, len(ys)):
            left, right = ys[:k], ys[k:]
            sse = ((left - left.mean()) ** 2).sum() + ((right - right.mean()) ** 2).sum()
            if sse < best - 1e-12:
                best, best_k = sse, k
        return best, frozenset(order[:best_k].tolist())

    sse_raw, part_raw = best_split_partition(amount)
    sse_log, part_log = best_split_partition(np.log(amount))
    assert sse_raw == pytest.approx(sse_log)
    assert part_raw == part_log  # same rows go left: scaling does not matter to a tree


def test_mobilenet_v2_parameters_macs_and_weight_memory():
    torch = pytest.importorskip("torch")
    from torch import nn

    def conv_bn(c_in, c_out, k, stride, groups=1):
        return [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out), nn.ReLU6()]

    class InvertedResidual(nn.Module):
        def __init__(self, c_in, c_out, stride, expand):
            super().__init__()
            hidden = c_in * expand
            layers = conv_bn(c_in, hidden, 1, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden)
            layers += [nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and c_in == c_out

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    # Sandler et al. 2018, Table 2: (expansion t, channels c, repeats n, stride s)
    layers, c = conv_bn(3, 32, 3, 2), 32
    for t, c_out, n, s in [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]:
        for i in range(n):
            layers.append(InvertedResidual(c, c_out, s if i == 0 else 1, t))
            c = c_out
    layers += conv_bn(c, 1280, 1, 1)
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000))

    params = sum(p.numel() for p in model.parameters())
    assert params == pytest.approx(3.5e6, rel=0.01)  # torchvision's count: 3,504,872

    macs = [0]

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs[0] += output.numel() * module.in_channels // module.groups * k
        elif isinstance(module, nn.Linear):
            macs[0] += module.in_features * module.out_features

    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    assert macs[0] == pytest.approx(300e6, rel=0.01)

    assert params * 4 / 1e6 == pytest.approx(14.0, abs=0.1)  # fp32 MB
    assert params * 1 / 1e6 == pytest.approx(3.5, abs=0.05)  # INT8 MB


# --- audit additions (2026-12-03) ---------------------------------------------


def test_replica_redundancy_for_a_node_versus_a_zone():
    per_replica, peak = 1_600, 10_000
    base = math.ceil(peak / (per_replica * 0.65))
    assert base == 10
    # 12 replicas split 6 + 6 across two zones: losing a zone leaves less than the peak
    assert 6 * per_replica < peak
    # losing one or two nodes of 12 still leaves 10, the planned count
    assert 12 - 2 == base
    # each zone must carry the whole peak; even at 90% utilisation that is 7 per zone
    per_zone = peak / (per_replica * 0.9)
    assert per_zone == pytest.approx(6.9, abs=0.05)
    assert math.ceil(per_zone) == 7 and 2 * 7 == 14
    assert peak / (7 * per_replica) == pytest.approx(0.89, abs=0.005)  # utilisation during the outage


def test_exploration_budget_cost_in_clicks():
    share, relative_yield = 0.05, 0.6
    cost = share * (1 - relative_yield)
    assert cost == pytest.approx(0.02)
    # the same number from a simulated holdout comparison
    rng = np.random.default_rng(0)
    n, ctr = 4_000_000, 0.2
    explored = rng.random(n) < share
    clicks = rng.random(n) < np.where(explored, ctr * relative_yield, ctr)
    holdout = rng.random(n) < ctr  # traffic with no exploration
    assert 1 - clicks.mean() / holdout.mean() == pytest.approx(cost, abs=0.005)


def test_domain_classifier_odds_times_sample_ratio_estimate_the_density_ratio():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    n_train, n_prod = 40_000, 10_000  # unequal sample sizes on purpose
    x_train = rng.normal(0.0, 1.0, n_train)
    x_prod = rng.normal(0.5, 1.0, n_prod)  # production shifted by half a standard deviation
    x = torch.tensor(np.concatenate([x_train, x_prod]), dtype=torch.float64).unsqueeze(1)
    y = torch.tensor(np.r_[np.zeros(n_train), np.ones(n_prod)], dtype=torch.float64)
    clf = torch.nn.Linear(1, 1).double()
    opt = torch.optim.LBFGS(clf.parameters(), max_iter=200)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(clf(x).squeeze(1), y)
        loss.backward()
        return loss

    opt.step(closure)
    grid = torch.linspace(-2, 2, 9, dtype=torch.float64).unsqueeze(1)
    with torch.no_grad():
        odds = torch.exp(clf(grid).squeeze(1)).numpy()  # p / (1 - p)
    estimate = odds * n_train / n_prod
    g = grid.squeeze(1).numpy()
    true_ratio = np.exp(-0.5 * (g - 0.5) ** 2) / np.exp(-0.5 * g**2)
    np.testing.assert_allclose(estimate, true_ratio, rtol=0.1)
    # without the sample-size correction the weights are off by a factor of 4
    assert np.median(odds / true_ratio) == pytest.approx(n_prod / n_train, rel=0.1)


def test_resize_with_and_without_antialiasing_gives_different_inputs():
    torch = pytest.importorskip("torch")
    # one bright column in every four, downsampled 4x: antialiasing averages it to 0.25,
    # plain bilinear samples between two dark columns and never sees it
    img = torch.zeros(1, 1, 64, 64)
    img[..., ::4] = 1.0
    aa = torch.nn.functional.interpolate(img, size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
    plain = torch.nn.functional.interpolate(img, size=(16, 16), mode="bilinear", antialias=False, align_corners=False)
    assert aa.mean().item() == pytest.approx(0.25, abs=0.02)
    assert plain.abs().max().item() < 1e-6
    assert (aa - plain).abs().mean().item() > 0.2  # same image, visibly different model input


def test_threshold_when_a_flagged_fraud_also_pays_the_review():
    review, loss = 5.0, 200.0
    # flag: pay the review whatever the truth; pass: lose 200 if fraud
    t = review / loss
    assert t == pytest.approx(0.025)
    p = np.linspace(0.0, 0.1, 100_001)
    cost_flag = np.full_like(p, review)
    cost_pass = p * loss
    crossing = p[np.argmax(cost_flag < cost_pass)]
    assert crossing == pytest.approx(t, abs=1e-5)
    assert abs(t - review / (review + loss)) < 0.001  # the card's 0.024 and this 0.025 agree
