"""Post-training int8 weight quantization: one scale per tensor vs one per output channel."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "production"
TITLE = "int8 quantization error of a linear layer: per-tensor vs per-channel scales"

D_IN, D_OUT = 256, 64


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    x = torch.randn(512, D_IN, device=device)
    base = torch.randn(D_OUT, D_IN, device=device) / D_IN**0.5
    weights = {
        "similar rows": base,
        # rows (output channels) whose ranges span 100x, as can happen in trained layers
        "rows 0.01x..1x": base * torch.logspace(-2, 0, D_OUT, device=device).unsqueeze(1),
    }

    rows = []
    metrics: dict[str, float] = {}
    for wname, w in weights.items():
        ref = x @ w.T
        for scheme in ("per-tensor", "per-channel"):
            # symmetric int8: w ~ scale * q with q an integer in [-127, 127], zero point 0
            if scheme == "per-tensor":
                scale = w.abs().max() / 127  # one scale for the whole matrix
            else:
                scale = w.abs().amax(dim=1, keepdim=True) / 127  # one scale per output row
            q = torch.clamp(torch.round(w / scale), -127, 127)
            w_hat = q * scale  # dequantized weights

            # the same thing with PyTorch's fake-quantize ops, as a check (on the CPU, where
            # these ops are always available)
            w_cpu = w.cpu()
            if scheme == "per-tensor":
                torch_hat = torch.fake_quantize_per_tensor_affine(w_cpu, scale.item(), 0, -128, 127)
            else:
                s = scale.squeeze(1).cpu()
                zp = torch.zeros(D_OUT, dtype=torch.int32)
                torch_hat = torch.fake_quantize_per_channel_affine(w_cpu, s, zp, 0, -128, 127)
            torch_diff = (torch_hat - w_hat.cpu()).abs().max().item()

            err = x @ w_hat.T - ref
            out_err = (err.norm() / ref.norm()).item()
            # the small-range channels suffer most: relative error of the worst output channel
            worst = (err.norm(dim=0) / ref.norm(dim=0)).max().item()
            w_err = ((w_hat - w).norm() / w.norm()).item()
            zeros = (q == 0).float().mean().item()
            sqnr_db = -20 * math.log10(out_err)
            rows.append(
                [
                    wname,
                    scheme,
                    f"{zeros:.1%}",
                    fmt(w_err),
                    fmt(out_err),
                    f"{sqnr_db:.1f}",
                    fmt(worst),
                    fmt(torch_diff),
                ]
            )
            kind = "spread" if wname.startswith("rows") else "similar"
            key = f"{kind}_{scheme.replace('-', '_')}"
            metrics[f"out_rel_err_{key}"] = out_err
            metrics[f"zero_frac_{key}"] = zeros
            metrics[f"worst_channel_err_{key}"] = worst
            metrics[f"torch_diff_{key}"] = torch_diff

    t, c = metrics["out_rel_err_spread_per_tensor"], metrics["out_rel_err_spread_per_channel"]
    return DemoResult(
        columns=[
            "weights",
            "scales",
            "weights -> 0",
            "weight rel. error",
            "output rel. error",
            "output SQNR dB",
            "worst channel",
            "vs torch fake-quant",
        ],
        rows=rows,
        conclusion=(
            "with row ranges spanning 100x, per-tensor int8 rounds "
            f"{metrics['zero_frac_spread_per_tensor']:.0%} of weights to 0 and gives {t:.1e} "
            f"output error vs {c:.1e} per-channel ({t / c:.1f}x), "
            f"{metrics['worst_channel_err_spread_per_tensor']:.2f} vs "
            f"{metrics['worst_channel_err_spread_per_channel']:.3f} on the worst channel; with "
            f"similar rows the two give {metrics['out_rel_err_similar_per_tensor']:.1e} and "
            f"{metrics['out_rel_err_similar_per_channel']:.1e}"
        ),
        metrics=metrics,
        notes=[
            "weights only, activations kept in float32; quantizing activations adds its own error",
            "output error is the relative Frobenius error of x @ W^T over 512 random inputs; "
            "'worst channel' is the largest relative error of a single output column",
        ],
    )
