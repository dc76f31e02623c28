"""50 recurrent Jacobians multiply to about rho^50: vanishing for rho < 1, exploding for rho > 1."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "rnns"
TITLE = "Product of 50 recurrent Jacobians for spectral radius 0.9, 1.0, 1.1"

HIDDEN, STEPS = 32, 50


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    dtype = torch.float64  # 1.1^50 and 0.9^50 are far apart; keep rounding out of the picture
    if device == "mps":
        device = "cpu"  # MPS has no float64 (and no eigvals); 32x32 matrices are cheap on a CPU
    gaussian = torch.randn(HIDDEN, HIDDEN, dtype=dtype, device=device)
    radius = torch.linalg.eigvals(gaussian).abs().max()
    orthogonal, _ = torch.linalg.qr(torch.randn(HIDDEN, HIDDEN, dtype=dtype, device=device))

    rows = []
    metrics: dict[str, float] = {}
    for rho in (0.9, 1.0, 1.1):
        for name, base in (("orthogonal", orthogonal), ("random Gaussian", gaussian / radius)):
            # linear RNN h_t = W h_{t-1} + U x_t: dh_t/dh_{t-1} = W, so dh_50/dh_0 = W^50
            W = rho * base
            norms = [torch.linalg.matrix_norm(torch.linalg.matrix_power(W, k), ord=2).item() for k in (10, 25, STEPS)]
            rows.append([f"{rho:g}", name, fmt(norms[0]), fmt(norms[1]), fmt(norms[2]), fmt(rho**STEPS)])
            metrics[f"norm{STEPS}_{name.split()[-1].lower()}_rho{rho:g}"] = norms[2]

    # check with autograd that the Jacobian of the unrolled recurrence really is W^50
    W = 1.1 * gaussian / radius
    h0 = torch.randn(HIDDEN, dtype=dtype, device=device)

    def unroll(h):
        for _ in range(STEPS):
            h = W @ h
        return h

    jac = torch.autograd.functional.jacobian(unroll, h0)
    jac_diff = ((jac - torch.linalg.matrix_power(W, STEPS)).abs().max() / jac.abs().max()).item()

    # with tanh each step's Jacobian is diag(1 - h_t^2) W: the extra factors are <= 1,
    # and small wherever a unit saturates
    def unroll_tanh(h):
        for _ in range(STEPS):
            h = torch.tanh(W @ h)
        return h

    tanh_norm = torch.linalg.matrix_norm(torch.autograd.functional.jacobian(unroll_tanh, h0), ord=2).item()
    rows.append(["1.1", "random Gaussian + tanh", "", "", fmt(tanh_norm), fmt(1.1**STEPS)])
    metrics["autograd_vs_matrix_power_rel_diff"] = jac_diff
    metrics["norm50_tanh_rho1.1"] = tanh_norm

    g09, g11 = metrics["norm50_gaussian_rho0.9"], metrics["norm50_gaussian_rho1.1"]
    return DemoResult(
        columns=["spectral radius", "W", "||W^10||", "||W^25||", f"||W^{STEPS}||", f"rho^{STEPS}"],
        rows=rows,
        conclusion=(
            f"after {STEPS} steps the Jacobian product's norm (random Gaussian W) is {g09:.1e} for "
            f"radius 0.9, {metrics['norm50_gaussian_rho1']:.2g} for 1.0 and {g11:.1e} for 1.1 "
            f"(rho^{STEPS} = {0.9**STEPS:.1e}, 1, {1.1**STEPS:.1e})"
        ),
        metrics=metrics,
        notes=[
            "spectral norm ||.||_2; for a non-normal (random Gaussian) W it can exceed rho^k by a "
            "constant factor, for an orthogonal one it equals rho^k exactly",
            f"with tanh, the factors 1 - h_t^2 <= 1 tame the radius-1.1 product to {tanh_norm:.3g} "
            "(from h_0 ~ N(0, I); it depends on the trajectory)",
            f"autograd's Jacobian of the unrolled linear recurrence equals W^{STEPS} to {jac_diff:.0e} (relative)",
        ],
    )
