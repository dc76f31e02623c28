"""Autograd's gradient of cross-entropy w.r.t. the logits is (softmax(z) - onehot(y)) / batch."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "backprop"
TITLE = "Cross-entropy's gradient w.r.t. logits is softmax(z) - onehot(y)"


def run(device: str = "cpu") -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    batch, classes = 8, 5
    z = (2 * torch.randn(batch, classes, device=device)).requires_grad_()
    y = torch.randint(0, classes, (batch,), device=device)

    # default reduction="mean": the loss is averaged over the batch
    F.cross_entropy(z, y).backward()
    autograd_mean = z.grad.clone()

    # the formula: p - y, where p = softmax(z) and y is the one-hot label
    p = torch.softmax(z.detach(), dim=1)
    onehot = F.one_hot(y, classes).to(p.dtype)
    analytic = p - onehot
    diff_mean = (autograd_mean - analytic / batch).abs().max().item()

    # with reduction="sum" there is no 1/batch factor
    z.grad = None
    F.cross_entropy(z, y, reduction="sum").backward()
    diff_sum = (z.grad - analytic).abs().max().item()
    # forgetting the 1/batch factor for the mean loss is off by a lot
    diff_no_scale = (autograd_mean - analytic).abs().max().item()

    i = 0  # show the first example class by class
    rows = [
        [
            c,
            fmt(z[i, c].item()),
            fmt(p[i, c].item()),
            int(onehot[i, c].item()),
            fmt(batch * autograd_mean[i, c].item()),
            fmt(analytic[i, c].item()),
        ]
        for c in range(classes)
    ]
    return DemoResult(
        columns=["class", "logit z", "softmax p", "onehot y", f"autograd grad x {batch}", "p - y"],
        rows=rows,
        conclusion=(
            f"max |autograd - (p - y)/{batch}| = {diff_mean:.1e} (mean reduction), max |autograd - "
            f"(p - y)| = {diff_sum:.1e} (sum reduction); dropping the 1/{batch} for the mean loss "
            f"would be off by {diff_no_scale:.2f}"
        ),
        metrics={
            "max_diff_mean": diff_mean,
            "max_diff_sum": diff_sum,
            "max_diff_mean_without_batch_factor": diff_no_scale,
            "batch": float(batch),
        },
        notes=[
            "F.cross_entropy takes raw logits (it applies log_softmax itself); passing softmax "
            "outputs would give a different, wrong gradient"
        ],
    )
