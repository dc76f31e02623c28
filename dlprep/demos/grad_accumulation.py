"""backward() adds into .grad, so two calls without zeroing double it; detach() cuts the graph."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "backprop"
TITLE = "Gradients accumulate in .grad until you zero them; detach() cuts the graph"


def _vec(t) -> str:
    return "[" + ", ".join(fmt(v) for v in t.tolist()) + "]"


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    w = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    x = torch.tensor([0.5, -1.0, 2.0], device=device)

    # loss = sum(w * x), so dL/dw = x
    (w * x).sum().backward()
    first = w.grad.clone()
    (w * x).sum().backward()  # a second backward without zeroing: .grad += x
    second = w.grad.clone()
    w.grad = None  # what optimizer.zero_grad() does by default (set_to_none=True)
    (w * x).sum().backward()
    after_reset = w.grad.clone()

    # detach(): y = w^2 is treated as a constant in z = y * w, so dz/dw = w^2 instead of 3 w^2
    w.grad = None
    (w.pow(2) * w).sum().backward()
    full = w.grad.clone()
    w.grad = None
    (w.pow(2).detach() * w).sum().backward()
    detached = w.grad.clone()

    # accumulation on purpose: 4 micro-batches of 8, each loss divided by 4,
    # give the same gradient as one batch of 32 (mean reduction)
    model = nn.Linear(6, 1).to(device)
    data = torch.randn(32, 6, device=device)
    target = torch.randn(32, 1, device=device)
    nn.functional.mse_loss(model(data), target).backward()
    full_batch = model.weight.grad.clone()
    model.zero_grad()
    for xb, tb in zip(data.chunk(4), target.chunk(4), strict=True):
        (nn.functional.mse_loss(model(xb), tb) / 4).backward()
    accum_diff = (model.weight.grad - full_batch).abs().max().item()

    ratio = (second / first).mean().item()
    rows = [
        ["backward() once", _vec(first), "x = " + _vec(x)],
        ["backward() again, no zero_grad", _vec(second), "2x"],
        ["grad = None, then backward()", _vec(after_reset), "x"],
        ["d/dw sum(w^2 * w)", _vec(full), "3w^2"],
        ["d/dw sum((w^2).detach() * w)", _vec(detached), "w^2 = " + _vec(w.detach() ** 2)],
        [
            "4 micro-batches of 8 vs batch of 32",
            f"max diff {fmt(accum_diff)}",
            "0 (up to rounding)",
        ],
    ]
    return DemoResult(
        columns=["what was done", "w.grad", "expected"],
        rows=rows,
        conclusion=(
            f"a second backward() without zeroing multiplies .grad by {ratio:g}; detach() turns "
            f"the gradient 3w^2 = {_vec(full)} into w^2 = {_vec(detached)}; 4 accumulated "
            f"micro-batches differ from the full batch by {accum_diff:.1e}"
        ),
        metrics={
            "second_over_first": ratio,
            "after_reset_diff": (after_reset - first).abs().max().item(),
            "full_grad_diff_3w2": (full - 3 * w.detach() ** 2).abs().max().item(),
            "detached_grad_diff_w2": (detached - w.detach() ** 2).abs().max().item(),
            "accum_vs_full_batch_diff": accum_diff,
        },
        notes=["with BatchNorm, micro-batches see different batch statistics: accumulation is inexact"],
    )
