"""The closed-form KL(N(mu, sigma^2) || N(0, 1)) matches Monte Carlo and torch.distributions.kl_divergence."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "generative"
TITLE = "KL(N(mu, sigma^2) || N(0, 1)): the VAE's closed form vs Monte Carlo"

SAMPLES = 200_000
CASES = ((0.0, 1.0), (1.0, 1.0), (0.0, 0.5), (0.0, 2.0), (2.0, 0.3), (-1.0, 1.5))


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch.distributions import Normal, kl_divergence

    torch.manual_seed(0)
    prior = Normal(torch.tensor(0.0, device=device), torch.tensor(1.0, device=device))
    rows = []
    metrics: dict[str, float] = {}
    worst_z = worst_torch = 0.0
    for i, (mu, sigma) in enumerate(CASES):
        # the VAE term: KL = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2)
        closed = 0.5 * (sigma**2 + mu**2 - 1 - math.log(sigma**2))
        q = Normal(torch.tensor(mu, device=device), torch.tensor(sigma, device=device))
        z = q.sample((SAMPLES,))
        log_ratio = q.log_prob(z) - prior.log_prob(z)  # KL = E_q[log q(z) - log p(z)]
        mc = log_ratio.mean().item()
        se = log_ratio.std().item() / math.sqrt(SAMPLES)  # standard error of the estimate
        library = kl_divergence(q, prior).item()
        # how many standard errors the estimate is from the closed form (0 when there is no noise)
        z_score = abs(mc - closed) / se if se > 0 else 0.0
        worst_z = max(worst_z, z_score)
        worst_torch = max(worst_torch, abs(library - closed))
        metrics[f"closed_{i}"] = closed
        metrics[f"mc_{i}"] = mc
        metrics[f"mc_se_{i}"] = se
        metrics[f"torch_{i}"] = library
        rows.append([f"{mu:g}", f"{sigma:g}", fmt(closed, 5), fmt(library, 5), f"{fmt(mc, 5)} +- {fmt(se, 2)}"])
    smallest = min(range(len(CASES)), key=lambda i: metrics[f"closed_{i}"])
    metrics["worst_z"] = worst_z
    metrics["worst_torch_diff"] = worst_torch
    return DemoResult(
        columns=["mu", "sigma", "closed form", "torch kl_divergence", f"Monte Carlo ({SAMPLES:,} samples)"],
        rows=rows,
        conclusion=(
            f"for {len(CASES)} (mu, sigma) pairs the closed form 1/2(sigma^2 + mu^2 - 1 - log sigma^2) "
            f"agrees with torch's kl_divergence to {worst_torch:.0e} and with Monte Carlo to within "
            f"{worst_z:.1f} standard errors; the smallest, {metrics[f'closed_{smallest}']:g}, is at "
            f"mu = {CASES[smallest][0]:g}, sigma = {CASES[smallest][1]:g}"
        ),
        metrics=metrics,
        notes=[
            "a VAE sums this over the latent dimensions; +- is one standard error of the Monte "
            "Carlo mean (0 at sigma = 1, mu = 0, where log q - log p is exactly 0)",
        ],
    )
