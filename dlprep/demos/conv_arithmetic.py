"""Conv output size, parameter count and receptive field: formulas checked against nn.Conv2d."""

from __future__ import annotations

from dlprep.demos.base import DemoResult

TOPIC = "cnns"
TITLE = "Conv arithmetic: output size, parameters, receptive field of stacked 3x3 convs"


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    rows = []
    size_mismatches = 0
    param_mismatches = 0
    # (input size n, kernel k, stride s, padding p, C_in, C_out)
    configs = [(32, 3, 1, 1, 3, 16), (32, 5, 2, 0, 3, 8), (28, 7, 2, 3, 1, 4), (15, 3, 2, 1, 8, 8)]
    for n, k, s, p, c_in, c_out in configs:
        conv = nn.Conv2d(c_in, c_out, kernel_size=k, stride=s, padding=p).to(device)
        out = conv(torch.randn(1, c_in, n, n, device=device))
        size_formula = (n + 2 * p - k) // s + 1  # floor((n + 2p - k) / s) + 1
        params_formula = (k * k * c_in + 1) * c_out  # +1 for each output channel's bias
        params_actual = sum(t.numel() for t in conv.parameters())
        size_mismatches += size_formula != out.shape[-1]
        param_mismatches += params_formula != params_actual
        rows.append([f"n={n} k={k} s={s} p={p}: output size", size_formula, out.shape[-1]])
        rows.append([f"  C_in={c_in} C_out={c_out}: parameters", params_formula, params_actual])

    # receptive field: backprop from one output pixel and see which input pixels get gradient
    rf_measured = {}
    for depth in (1, 2, 3, 5):
        convs = [nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(depth)]
        for conv in convs:
            nn.init.constant_(conv.weight, 1.0)  # positive weights: no gradient cancels to 0
        net = nn.Sequential(*convs).to(device)
        x = torch.zeros(1, 1, 21, 21, device=device, requires_grad=True)
        net(x)[0, 0, 10, 10].backward()
        touched = x.grad[0, 0] != 0  # input pixels that influence that one output pixel
        height, width = int(touched.any(dim=1).sum()), int(touched.any(dim=0).sum())
        rf_measured[depth] = (height, width)
        rf = 2 * depth + 1  # each stride-1 3x3 conv adds one pixel on every side
        rows.append([f"{depth} stacked 3x3 convs: receptive field", f"{rf}x{rf}", f"{height}x{width}"])

    rf_ok = all(rf_measured[d] == (2 * d + 1, 2 * d + 1) for d in rf_measured)
    return DemoResult(
        columns=["check", "formula", "nn.Conv2d / measured"],
        rows=rows,
        conclusion=(
            "output-size formula matched nn.Conv2d in "
            f"{len(configs) - size_mismatches}/{len(configs)} cases, parameter formula in "
            f"{len(configs) - param_mismatches}/{len(configs)}; "
            f"{'every' if rf_ok else 'NOT every'} stack of L 3x3 convs saw a (2L+1)x(2L+1) input "
            f"patch (5 layers: {rf_measured[5][0]}x{rf_measured[5][1]})"
        ),
        metrics={
            "size_mismatches": float(size_mismatches),
            "param_mismatches": float(param_mismatches),
            **{f"rf_height_depth{d}": float(h) for d, (h, _) in rf_measured.items()},
            **{f"rf_width_depth{d}": float(w) for d, (_, w) in rf_measured.items()},
        },
        notes=["this is the theoretical receptive field; the effective one is smaller, weighted towards the centre"],
    )
