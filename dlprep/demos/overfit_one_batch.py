"""A correct model memorizes one small batch; one with labels reshuffled every step cannot."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "production"
TITLE = "Overfit one batch: a correct pipeline reaches ~0 loss, a buggy one cannot"

STEPS, BATCH, D, CLASSES = 100, 16, 20, 10
SHOW = (0, 5, 10, 25, 50, 100)


def _train(shuffle_labels: bool, device: str) -> tuple[list[float], float, float]:
    import torch
    from torch import nn

    torch.manual_seed(0)  # same data and same initial weights for both runs
    x = torch.randn(BATCH, D, device=device)
    y = torch.randint(0, CLASSES, (BATCH,), device=device)
    model = nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, CLASSES)).to(device)
    # SGD with momentum 0.9 by hand, as torch.optim.SGD(lr=0.1, momentum=0.9) would do it
    # (torch.optim is avoided only because its first use imports torch._dynamo, ~1 s)
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    gen = torch.Generator().manual_seed(1)

    losses = []
    for step in range(STEPS + 1):
        # the planted bug: labels get out of sync with their inputs, differently every step
        target = y[torch.randperm(BATCH, generator=gen).to(device)] if shuffle_labels else y
        loss = nn.functional.cross_entropy(model(x), target)
        losses.append(loss.item())
        if step == STEPS:
            break
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity, strict=True):
                v.mul_(0.9).add_(p.grad)
                p -= 0.1 * v
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    # with shuffled labels the best any model can do is predict the batch's label frequencies;
    # the loss is then the entropy of that histogram
    freq = torch.bincount(y.cpu(), minlength=CLASSES).float() / BATCH
    floor = -(freq[freq > 0] * freq[freq > 0].log()).sum().item()
    return losses, acc, floor


def run(device: str = "cpu") -> DemoResult:
    good, good_acc, _ = _train(False, device)  # accuracy on the batch's true labels
    bad, bad_acc, floor = _train(True, device)

    rows = [[s, fmt(good[s]), fmt(bad[s])] for s in SHOW]
    bad_tail = sum(bad[-20:]) / 20  # one step's loss is noisy under shuffling; average the last 20
    chance = math.log(CLASSES)
    return DemoResult(
        columns=["step", "loss, correct pipeline", "loss, labels shuffled each step"],
        rows=rows,
        conclusion=(
            f"after {STEPS} momentum-SGD steps on one batch of {BATCH}: correct pipeline loss "
            f"{good[-1]:.1e} (batch accuracy {good_acc:.0%}); buggy pipeline averages "
            f"{bad_tail:.2f} over its last 20 steps, near the {floor:.2f} floor (entropy of the "
            "batch's labels) that no model can beat on average"
        ),
        metrics={
            "good_final_loss": good[-1],
            "bad_final_loss": bad[-1],
            "bad_last20_mean_loss": bad_tail,
            "good_acc": good_acc,
            "bad_acc": bad_acc,
            "initial_loss": good[0],
            "chance_loss": chance,
            "shuffled_floor": floor,
        },
        notes=[
            f"ln({CLASSES}) = {chance:.2f} is the loss of a uniform guess",
            "random labels on purpose: a model with enough capacity can memorize anything, so "
            "failing to fit one batch points to a bug in the data, loss or update, not to the "
            "model",
        ],
    )
