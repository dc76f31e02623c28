"""A deep linear net whose first gradients are huge diverges with plain SGD and trains with clip_grad_norm_."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "training"
TITLE = "Gradient clipping: the same run diverges without clip_grad_norm_ and trains with it"

DEPTH, WIDTH, BATCH = 4, 8, 64
INIT_SCALE = 1.5  # weights ~ N(0, (1.5 / sqrt(WIDTH))^2): each layer amplifies, so gradients start large
LR, STEPS, MAX_NORM = 0.05, 300, 5.0
SHOWN = (0, 1, 2, 3, 4, 5, 10, 50, 100, 200, STEPS - 1)


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    def train(max_norm):
        torch.manual_seed(0)  # same data, same initial weights for both runs
        layers = [nn.Linear(WIDTH, WIDTH, bias=False) for _ in range(DEPTH)]
        for layer in layers:
            nn.init.normal_(layer.weight, 0.0, INIT_SCALE / math.sqrt(WIDTH))
        model = nn.Sequential(*layers).to(device)
        x = torch.randn(BATCH, WIDTH).to(device)
        target = x @ (torch.randn(WIDTH, WIDTH) / math.sqrt(WIDTH)).to(device)  # a linear map to fit
        history = []
        for _ in range(STEPS):
            loss = ((model(x) - target) ** 2).mean()
            model.zero_grad()
            loss.backward()
            # returns the total gradient norm BEFORE clipping; rescales the gradients in place
            # (all together, keeping their direction) when that norm exceeds max_norm
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            history.append((loss.item(), norm.item()))
            if not (math.isfinite(loss.item()) and math.isfinite(norm.item())):
                break  # diverged: nothing left to learn from
            # plain SGD by hand, what torch.optim.SGD(lr=LR) does (torch.optim is avoided only
            # because its first use imports torch._dynamo, about a second)
            with torch.no_grad():
                for p in model.parameters():
                    p -= LR * p.grad
        return history

    plain = train(float("inf"))  # max_norm = inf: never clips, only measures
    clipped = train(MAX_NORM)

    def cell(history, step, index):
        return fmt(history[step][index]) if step < len(history) else "-"

    rows = [
        [step, cell(plain, step, 0), cell(plain, step, 1), cell(clipped, step, 0), cell(clipped, step, 1)]
        for step in SHOWN
    ]
    diverged_at = next(
        (i for i, (loss, norm) in enumerate(plain) if not (math.isfinite(loss) and math.isfinite(norm))),
        -1,
    )
    finite_plain = [loss for loss, _ in plain if math.isfinite(loss)]
    metrics = {
        "initial_loss": clipped[0][0],
        "initial_grad_norm": clipped[0][1],
        "plain_diverged_at_step": float(diverged_at),
        "plain_steps_run": float(len(plain)),
        "plain_max_finite_loss": max(finite_plain),
        "clipped_final_loss": clipped[-1][0],
        "clipped_max_loss": max(loss for loss, _ in clipped),
        "clipped_steps_run": float(len(clipped)),
    }
    m = metrics
    return DemoResult(
        columns=[
            "step",
            "loss, plain SGD",
            "grad norm, plain SGD",
            f"loss, clip to {MAX_NORM:g}",
            "grad norm before clipping",
        ],
        rows=rows,
        conclusion=(
            f"starting from loss {m['initial_loss']:.1f} and gradient norm {m['initial_grad_norm']:.0f}, "
            f"plain SGD (lr {LR}) reaches loss {m['plain_max_finite_loss']:.1e} and a non-finite "
            f"gradient at step {diverged_at}; with clip_grad_norm_({MAX_NORM:g}) the same run trains "
            f"to {m['clipped_final_loss']:.3f} in {STEPS} steps"
        ),
        metrics=metrics,
        notes=[
            f"{DEPTH} bias-free linear layers of width {WIDTH} fitting a linear map: the loss is a "
            "high-degree polynomial in the weights, so its gradient grows much faster than the "
            "distance to the minimum, the kind of cliff clipping guards against",
        ],
    )
