"""BatchNorm normalizes each feature over the batch; LayerNorm each sample over its features."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "normalization"
TITLE = "BatchNorm vs LayerNorm: which axis gets mean 0 and std 1"


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    n, d = 8, 6
    # features on very different scales and offsets, as raw inputs often are
    scale = torch.tensor([1.0, 10.0, 0.1, 5.0, 2.0, 50.0], device=device)
    offset = torch.tensor([0.0, 100.0, -3.0, 7.0, 1.0, -20.0], device=device)
    x = torch.randn(n, d, device=device) * scale + offset

    bn = nn.BatchNorm1d(d).to(device).train()  # train mode: uses this batch's statistics
    ln = nn.LayerNorm(d).to(device)
    with torch.no_grad():
        y_bn, y_ln = bn(x), ln(x)

    def stats(y, dim):
        # both layers normalize with the biased variance (divide by the count, not count - 1)
        return y.mean(dim=dim).abs().max().item(), y.std(dim=dim, unbiased=False)

    bn_feat_mean, bn_feat_std = stats(y_bn, 0)
    bn_samp_mean, bn_samp_std = stats(y_bn, 1)
    ln_feat_mean, ln_feat_std = stats(y_ln, 0)
    ln_samp_mean, ln_samp_std = stats(y_ln, 1)

    def span(t):
        return f"{fmt(t.min().item())} .. {fmt(t.max().item())}"

    rows = [
        ["max |mean| per feature (over the batch)", fmt(bn_feat_mean), fmt(ln_feat_mean)],
        ["std per feature (over the batch)", span(bn_feat_std), span(ln_feat_std)],
        ["max |mean| per sample (over features)", fmt(bn_samp_mean), fmt(ln_samp_mean)],
        ["std per sample (over features)", span(bn_samp_std), span(ln_samp_std)],
    ]
    metrics = {
        "bn_feature_mean_max_abs": bn_feat_mean,
        "bn_feature_std_max_dev": (bn_feat_std - 1).abs().max().item(),
        "bn_sample_mean_max_abs": bn_samp_mean,
        "ln_sample_mean_max_abs": ln_samp_mean,
        "ln_sample_std_max_dev": (ln_samp_std - 1).abs().max().item(),
        "ln_feature_mean_max_abs": ln_feat_mean,
    }
    return DemoResult(
        columns=[f"statistic of the output (batch {n} x {d} features)", "BatchNorm1d", "LayerNorm"],
        rows=rows,
        conclusion=(
            f"BatchNorm: every feature has |mean| <= {bn_feat_mean:.0e} and std within "
            f"{metrics['bn_feature_std_max_dev']:.0e} of 1, but samples' means reach "
            f"{bn_samp_mean:.2f}; LayerNorm: every sample has |mean| <= {ln_samp_mean:.0e}, but "
            f"features' means reach {ln_feat_mean:.2f}"
        ),
        metrics=metrics,
        notes=[
            "affine parameters at their init (gamma = 1, beta = 0); std is slightly below 1 because of eps = 1e-5",
            "LayerNorm does the same in train and eval mode and does not depend on other samples",
        ],
    )
