"""Identity skip connections keep the gradient alive at the first layer of a deep conv net."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "cnns"
TITLE = "Skip connections: first-layer gradient of a deep plain net vs a residual net"

DEPTH = 30
CHANNELS = 16


def _grads(residual: bool, device: str) -> tuple[list[float], float]:
    """Norms of dL/dx_l at the input of every block, and of dL/dW for the first conv."""
    import torch
    from torch import nn

    torch.manual_seed(0)  # both nets get identical conv weights (PyTorch default init)
    layers = [nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1) for _ in range(DEPTH)]
    convs = nn.ModuleList(layers).to(device)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, CHANNELS, 16, 16, generator=gen).to(device).requires_grad_()

    acts = []
    for conv in convs:
        x.retain_grad()  # keep dL/dx for this intermediate activation
        acts.append(x)
        branch = torch.relu(conv(x))
        # plain: x_{l+1} = f(x_l);  residual: x_{l+1} = x_l + f(x_l), so dx_{l+1}/dx_l = I + df/dx_l
        x = (x + branch) if residual else branch
    x.retain_grad()
    acts.append(x)
    (x**2).mean().backward()
    return [a.grad.norm().item() for a in acts], convs[0].weight.grad.norm().item()


def run(device: str = "cpu") -> DemoResult:
    plain, plain_w = _grads(False, device)
    res, res_w = _grads(True, device)

    # gradient at each block's input relative to the gradient at the network's output
    rows = [[layer, fmt(plain[layer] / plain[-1]), fmt(res[layer] / res[-1])] for layer in (30, 20, 10, 5, 0)]
    plain_rel, res_rel = plain[0] / plain[-1], res[0] / res[-1]
    return DemoResult(
        columns=[
            "block input x_l (l=30 is the output)",
            "plain: ||dL/dx_l|| / ||dL/dx_30||",
            "residual: same ratio",
        ],
        rows=rows,
        conclusion=(
            f"over {DEPTH} conv layers the gradient reaching the input is {plain_rel:.1e} of the "
            f"output gradient in the plain net and {res_rel:.3g} with identity skips "
            f"({res_rel / plain_rel:.1e}x more)"
        ),
        metrics={
            "plain_input_over_output": plain_rel,
            "residual_input_over_output": res_rel,
            "plain_first_weight_grad": plain_w,
            "residual_first_weight_grad": res_w,
        },
        notes=[
            "without normalization the residual stream grows (x + f(x)) and so does the gradient, "
            f"{res_rel ** (1 / DEPTH):.2f}x per block here; real ResNets put BatchNorm in the "
            "branch (often with the last gamma initialized to 0) to keep it near 1",
            "first-conv weight gradients are not comparable across the two nets (their outputs, "
            "hence losses, differ in scale), so the table uses ratios to the output gradient",
            "PyTorch's default init, no normalization; He init + BatchNorm would rescue the plain "
            "net's gradient magnitude, yet very deep plain nets still train worse (the "
            "degradation problem ResNets fix)",
        ],
    )
