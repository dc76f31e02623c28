"""Shift ReLU biases far negative and most units die: zero output, zero gradient, no recovery."""

from __future__ import annotations

from dlprep.demos.base import DemoResult

TOPIC = "activations"
TITLE = "Dying ReLU: a negative bias shift kills units; leaky ReLU keeps a gradient"

D_IN, HIDDEN, N = 20, 100, 512


def _net(shift: float, leaky: bool, device: str):
    import torch
    from torch import nn

    torch.manual_seed(0)  # same weights for every variant
    hidden = nn.Linear(D_IN, HIDDEN)
    with torch.no_grad():
        hidden.bias -= shift  # e.g. what one too-large update can do to the biases
    act = nn.LeakyReLU(0.01) if leaky else nn.ReLU()
    return nn.Sequential(hidden, act, nn.Linear(HIDDEN, 1)).to(device)


def _dead_units(model, x, y) -> tuple[int, int]:
    """(units with zero output on every input, units whose incoming weights get zero gradient)."""
    from torch import nn

    model.zero_grad()
    pre = model[0](x)
    nn.functional.mse_loss(model[2](model[1](pre)), y).backward()
    never_fires = int((pre <= 0).all(dim=0).sum())
    zero_grad = int((model[0].weight.grad.abs().sum(dim=1) == 0).sum())
    return never_fires, zero_grad


def run(device: str = "cpu") -> DemoResult:
    import torch

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, D_IN, generator=gen).to(device)
    y = torch.randn(N, 1, generator=gen).to(device)

    rows = []
    metrics: dict[str, float] = {}
    for shift in (0.0, 1.0, 2.0, 3.0):  # subtracted from every bias
        relu_dead, relu_zero_grad = _dead_units(_net(shift, False, device), x, y)
        _, leaky_zero_grad = _dead_units(_net(shift, True, device), x, y)
        rows.append(
            [
                f"-{shift:g}" if shift else "0",
                f"{relu_dead}/{HIDDEN}",
                f"{relu_zero_grad}/{HIDDEN}",
                f"{leaky_zero_grad}/{HIDDEN}",
            ]
        )
        metrics[f"relu_dead_shift{shift:g}"] = relu_dead / HIDDEN
        metrics[f"relu_zero_grad_shift{shift:g}"] = relu_zero_grad / HIDDEN
        metrics[f"leaky_zero_grad_shift{shift:g}"] = leaky_zero_grad / HIDDEN

    # train the shift -2 ReLU net: dead units get no gradient, so SGD cannot bring them back
    model = _net(2.0, False, device)
    before, _ = _dead_units(model, x, y)
    for _ in range(200):
        model.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        # plain SGD by hand: what torch.optim.SGD(lr=0.1) does (torch.optim is avoided only
        # because its first use imports torch._dynamo, about a second of start-up)
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    after, _ = _dead_units(model, x, y)
    metrics.update(dead_before_training=before / HIDDEN, dead_after_training=after / HIDDEN)
    # the pre-activation's spread at init, for scale
    with torch.no_grad():
        pre_std = _net(0.0, False, device)[0](x).std().item()

    return DemoResult(
        columns=[
            "bias shift",
            "ReLU units silent on all inputs",
            "ReLU units with zero weight grad",
            "leaky ReLU units with zero weight grad",
        ],
        rows=rows,
        conclusion=(
            f"shifting biases by -2 (pre-activation std {pre_std:.2f}) kills {before}/{HIDDEN} "
            f"ReLU units and {after} are still dead after 200 SGD steps; leaky ReLU leaves "
            f"{int(metrics['leaky_zero_grad_shift2'] * HIDDEN)} units without gradient"
        ),
        metrics=metrics,
        notes=[
            f"'dead' means on these {N} inputs; a unit could fire again if the inputs shift",
            "leaky ReLU's gradient for negative inputs is 0.01 x the ReLU one: small but not zero",
        ],
    )
