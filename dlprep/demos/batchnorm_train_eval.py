"""BatchNorm uses batch statistics in train mode and running averages in eval mode."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "normalization"
TITLE = "BatchNorm in train vs eval mode; why a batch of 2 is too noisy"

MEAN, STD, FEATURES = 3.0, 2.0, 4


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)

    def batch(n):
        return torch.randn(n, FEATURES, device=device) * STD + MEAN

    bn = nn.BatchNorm1d(FEATURES).to(device)  # momentum=0.1, running_mean=0, running_var=1 at start
    x = batch(16)
    with torch.no_grad():
        y_train = bn.train()(x)  # normalizes with this batch's mean and biased variance ...
        # ... and updates running = (1 - momentum) * running + momentum * batch statistic,
        # where the variance stored is the UNBIASED one (divide by n - 1)
        expect_mean = 0.9 * 0.0 + 0.1 * x.mean(0)
        expect_var = 0.9 * 1.0 + 0.1 * x.var(0, unbiased=True)
        biased_var = 0.9 * 1.0 + 0.1 * x.var(0, unbiased=False)
        first_running_mean = bn.running_mean[0].item()
        mean_err = (bn.running_mean - expect_mean).abs().max().item()
        var_err = (bn.running_var - expect_var).abs().max().item()
        var_err_if_biased = (bn.running_var - biased_var).abs().max().item()
        y_eval = bn.eval()(x)  # normalizes with running_mean / running_var instead
        gap_fresh = (y_train - y_eval).abs().max().item()

        # after many training batches the running statistics approach the data's, and eval ~ train
        bn.train()
        for _ in range(200):
            bn(batch(16))
        gap_warm = (bn.train()(x) - bn.eval()(x)).abs().max().item()

        # a batch of 2: each feature is normalized to exactly -+d / sqrt(d^2 + eps), about -+1,
        # whatever the two values were
        pair = bn.train()(batch(2))
        pair_abs = pair.abs()
        # sampling noise of the batch mean, which train-mode BN subtracts
        mean_std = {n: torch.stack([batch(n).mean(0) for _ in range(500)]).std().item() for n in (2, 64)}

    rows = [
        [
            "running_mean after 1 batch (feature 0)",
            fmt(first_running_mean),
            f"0.1 * batch mean = {fmt(expect_mean[0].item())}",
        ],
        ["running_mean: max |PyTorch - formula|", fmt(mean_err), "0"],
        ["running_var: max |PyTorch - formula, unbiased var|", fmt(var_err), "0"],
        ["running_var: max |PyTorch - formula, biased var|", fmt(var_err_if_biased), "> 0"],
        [
            "max |train output - eval output|, after 1 batch",
            fmt(gap_fresh),
            "> 0 (running stats barely moved)",
        ],
        [
            "same, after 200 more train-mode batches",
            fmt(gap_warm),
            "smaller; not 0 (16-sample stats are noisy)",
        ],
        [
            "|train-mode output| for a batch of 2",
            f"{fmt(pair_abs.min().item(), 6)} .. {fmt(pair_abs.max().item(), 6)}",
            "about 1",
        ],
        ["std of the batch mean, batch of 2", fmt(mean_std[2]), fmt(STD / 2**0.5)],
        ["std of the batch mean, batch of 64", fmt(mean_std[64]), fmt(STD / 64**0.5)],
    ]
    return DemoResult(
        columns=["quantity", "measured", "expected"],
        rows=rows,
        conclusion=(
            f"the same input differs by up to {gap_fresh:.2f} between train and eval mode after "
            f"one batch ({gap_warm:.2f} after 200 more); running_var matches the unbiased-variance "
            f"update to {var_err:.0e}; a batch of 2 maps every feature to "
            f"+-{pair_abs.mean().item():.4f}"
        ),
        metrics={
            "running_mean_err": mean_err,
            "running_var_err": var_err,
            "running_var_err_if_biased": var_err_if_biased,
            "train_eval_gap_fresh": gap_fresh,
            "train_eval_gap_warm": gap_warm,
            "pair_abs_min": pair_abs.min().item(),
            "pair_abs_max": pair_abs.max().item(),
            "batch_mean_std_n2": mean_std[2],
            "batch_mean_std_n64": mean_std[64],
            "first_running_mean": first_running_mean,
        },
        notes=[f"inputs ~ N({MEAN:g}, {STD:g}^2) per feature; BatchNorm1d defaults: momentum 0.1, eps 1e-5"],
    )
