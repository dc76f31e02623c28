"""A hand-written backward pass of a 2-layer MLP matches autograd."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "backprop"
TITLE = "Manual backprop through a 2-layer MLP vs autograd"


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    n, d_in, d_hidden, d_out = 16, 10, 32, 3
    x = torch.randn(n, d_in, device=device)
    t = torch.randn(n, d_out, device=device)
    W1 = (torch.randn(d_in, d_hidden, device=device) / d_in**0.5).requires_grad_()
    b1 = torch.zeros(d_hidden, device=device, requires_grad=True)
    W2 = (torch.randn(d_hidden, d_out, device=device) / d_hidden**0.5).requires_grad_()
    b2 = torch.zeros(d_out, device=device, requires_grad=True)

    # forward: x -> Linear -> ReLU -> Linear -> mean squared error
    a1 = x @ W1 + b1
    h1 = torch.relu(a1)
    out = h1 @ W2 + b2
    loss = ((out - t) ** 2).mean()
    loss.backward()

    with torch.no_grad():
        # backward by hand, one chain-rule step at a time
        d_out_ = 2 * (out - t) / out.numel()  # dL/d out for the mean over n * d_out entries
        dW2 = h1.T @ d_out_  # out = h1 W2 + b2
        db2 = d_out_.sum(0)  # the bias is broadcast over the batch, so sum
        d_h1 = d_out_ @ W2.T
        # ReLU passes the gradient where its input was positive and blocks it elsewhere
        d_a1 = d_h1 * (a1 > 0).to(d_h1.dtype)
        dW1 = x.T @ d_a1
        db1 = d_a1.sum(0)

    rows = []
    diffs = {}
    for name, manual, param in (("W1", dW1, W1), ("b1", db1, b1), ("W2", dW2, W2), ("b2", db2, b2)):
        diff = (manual - param.grad).abs().max().item()
        diffs[name] = diff
        rows.append([name, "x".join(map(str, param.shape)), fmt(param.grad.norm().item()), fmt(diff)])
    worst = max(diffs.values())
    smallest = min(p.grad.norm().item() for p in (W1, b1, W2, b2))
    verdict = "match" if worst < 1e-5 * smallest else "do NOT match"
    return DemoResult(
        columns=["parameter", "shape", "||autograd grad||", "max |manual - autograd|"],
        rows=rows,
        conclusion=(
            f"hand-derived gradients {verdict} autograd: largest abs difference {worst:.1e} over "
            f"all 4 parameters, whose gradient norms are >= {smallest:.2g}"
        ),
        metrics={"max_abs_diff": worst, **{f"diff_{k}": v for k, v in diffs.items()}},
    )
