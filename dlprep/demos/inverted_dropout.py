"""Inverted dropout scales survivors by 1/(1-p) in training, keeping the expected activation; eval is the identity."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "training"
TITLE = "Inverted dropout: survivors scaled by 1/(1-p), identity at eval time"

N = 1_000_000  # activations per test
MASKS = 20_000  # dropout masks averaged for one small vector


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    x = torch.rand(N, device=device) + 0.5  # positive activations in [0.5, 1.5)
    rows = []
    metrics: dict[str, float] = {}
    for p in (0.1, 0.3, 0.5, 0.8):
        drop = nn.Dropout(p)
        y = drop.train()(x)
        kept = y != 0
        zero_frac = 1 - kept.float().mean().item()
        scale = y[kept] / x[kept]  # every survivor is multiplied by the same factor ...
        scale_err = (scale - 1 / (1 - p)).abs().max().item()  # ... namely 1 / (1 - p)
        mean_ratio = (y.mean() / x.mean()).item()  # expectation preserved: E[y] = x
        no_rescale_ratio = ((x * kept).mean() / x.mean()).item()  # plain dropout: E[y] = (1 - p) x
        eval_diff = (drop.eval()(x) - x).abs().max().item()
        rows.append(
            [
                p,
                fmt(zero_frac),
                fmt(scale.mean().item()),
                fmt(mean_ratio),
                fmt(no_rescale_ratio),
                fmt(eval_diff),
            ]
        )
        metrics[f"zero_frac_p{p}"] = zero_frac
        metrics[f"survivor_scale_p{p}"] = scale.mean().item()
        metrics[f"scale_err_p{p}"] = scale_err
        metrics[f"mean_ratio_p{p}"] = mean_ratio
        metrics[f"no_rescale_ratio_p{p}"] = no_rescale_ratio
        metrics[f"eval_diff_p{p}"] = eval_diff

    # per unit, not just on average: E[dropout(v)] = v for each coordinate of a fixed vector
    v = torch.linspace(-2, 2, 8, device=device)
    drop = nn.Dropout(0.5).train()
    avg = drop(v.expand(MASKS, -1)).mean(0)  # MASKS independent masks
    metrics["per_unit_max_err"] = (avg - v).abs().max().item()

    m = metrics
    return DemoResult(
        columns=[
            "p",
            "fraction zeroed",
            "survivor / input",
            "mean(train out) / mean(in)",
            "same without 1/(1-p)",
            "max |eval out - in|",
        ],
        rows=rows,
        conclusion=(
            f"at p = 0.5, {m['zero_frac_p0.5']:.3f} of activations are zeroed, survivors are scaled by "
            f"{m['survivor_scale_p0.5']:.4g} and the mean stays at {m['mean_ratio_p0.5']:.3f}x the input "
            f"(plain dropout would give "
            f"{m['no_rescale_ratio_p0.5']:.3f}x); in eval mode the output equals the input "
            f"(max difference {max(m[k] for k in m if k.startswith('eval_diff')):g})"
        ),
        metrics=metrics,
        notes=[
            f"{N:,} activations per p; averaged over {MASKS:,} masks, each unit of an 8-vector "
            f"comes within {m['per_unit_max_err']:.3f} of its input",
        ],
    )
