"""The sigmoid's derivative peaks at 0.25, so a stack of sigmoids shrinks the gradient."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "activations"
TITLE = "Sigmoid's derivative is at most 0.25: what that does over depth"


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    x = torch.linspace(-8, 8, 16001, device=device, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    grad = x.grad
    peak = grad.max().item()
    at = x[grad.argmax()].item()

    rows = []
    for depth in (1, 5, 10, 20):
        rows.append([depth, fmt(peak**depth)])
    return DemoResult(
        columns=["layers", "best-case product of sigmoid derivatives"],
        rows=rows,
        conclusion=(
            f"max sigmoid'(x) = {peak:.4f} at x = {at:.2f}; even in the best case "
            f"20 layers multiply the gradient by {peak**20:.1e}"
        ),
        metrics={"max_derivative": peak, "argmax": at, "product_20": peak**20},
    )
