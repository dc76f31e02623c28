"""A depthwise-separable conv costs 1/C_out + 1/k^2 of a standard conv in parameters and MACs."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "cnns"
TITLE = "Depthwise-separable vs standard convolution: parameters and multiply-adds"


def _count(model, x) -> tuple[int, int, tuple[int, ...]]:
    """(parameters, multiply-adds, output shape) of a stack of Conv2d layers on input x."""
    from torch import nn

    macs = 0

    def hook(conv, _inp, out):
        nonlocal macs
        # every output element is a dot product over C_in/groups * k * k weights
        macs += out.numel() * conv.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    out = model(x)
    for h in handles:
        h.remove()
    return sum(p.numel() for p in model.parameters()), macs, tuple(out.shape)


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    rows = []
    metrics: dict[str, float] = {}
    for c_in, c_out, k, size in (
        (32, 64, 3, 16),
        (64, 128, 3, 16),
        (128, 256, 3, 8),
        (128, 256, 5, 8),
    ):
        x = torch.randn(1, c_in, size, size, device=device)
        standard = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False).to(device)
        separable = nn.Sequential(
            # depthwise: one k x k filter per input channel (groups=C_in)
            nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False),
            # pointwise: a 1x1 conv mixes the channels
            nn.Conv2d(c_in, c_out, 1, bias=False),
        ).to(device)
        p_std, m_std, shape_std = _count(standard, x)
        p_sep, m_sep, shape_sep = _count(separable, x)
        assert shape_std == shape_sep
        predicted = 1 / c_out + 1 / k**2
        rows.append(
            [
                f"{c_in}->{c_out}, {k}x{k}, {size}x{size}",
                p_std,
                p_sep,
                fmt(m_std),
                fmt(m_sep),
                fmt(p_sep / p_std),
                fmt(m_sep / m_std),
                fmt(predicted),
            ]
        )
        key = f"{c_in}_{c_out}_k{k}"
        metrics[f"param_ratio_{key}"] = p_sep / p_std
        metrics[f"mac_ratio_{key}"] = m_sep / m_std
        metrics[f"predicted_{key}"] = predicted

    key = "128_256_k3"
    pr, mr, pred = (
        metrics[f"param_ratio_{key}"],
        metrics[f"mac_ratio_{key}"],
        metrics[f"predicted_{key}"],
    )
    verdict = "matching" if max(abs(pr - pred), abs(mr - pred)) < 1e-9 else "NOT matching"
    return DemoResult(
        columns=[
            "C_in->C_out, kernel, input",
            "params std",
            "params sep",
            "MACs std",
            "MACs sep",
            "param ratio",
            "MAC ratio",
            "1/C_out + 1/k^2",
        ],
        rows=rows,
        conclusion=(
            f"128->256 with 3x3 kernels: separable uses {pr:.4f} of the parameters and {mr:.4f} of "
            f"the multiply-adds of a standard conv ({1 / mr:.1f}x fewer), {verdict} 1/C_out + "
            f"1/k^2 = {pred:.4f}"
        ),
        metrics=metrics,
        notes=[
            "bias-free convs with 'same' padding, stride 1; biases add C_out (and C_in) parameters",
            "fewer multiply-adds is not proportionally faster in practice: depthwise convs have "
            "low arithmetic intensity and are often memory-bound",
        ],
    )
