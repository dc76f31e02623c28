"""A 20-layer MLP: sigmoid + default init starves early layers of gradient; ReLU + He does not."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "backprop"
TITLE = "Vanishing gradients: sigmoid + default init vs ReLU + He init over 20 layers"

DEPTH = 20
WIDTH = 64


def _grad_norms(activation: str, device: str) -> list[float]:
    """Build a DEPTH-layer MLP, do one backward pass, return each Linear's weight-gradient norm."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(DEPTH):
        linear = nn.Linear(WIDTH, WIDTH)
        if activation == "relu":
            # He (Kaiming) init: Var(w) = 2 / fan_in keeps the activation variance through ReLU
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        # otherwise keep PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        layers.append(linear)
        if i < DEPTH - 1:  # no activation after the output layer
            layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*layers).to(device)

    gen = torch.Generator(device="cpu").manual_seed(1)
    x = torch.randn(128, WIDTH, generator=gen).to(device)
    target = torch.randn(128, WIDTH, generator=gen).to(device)
    nn.functional.mse_loss(model(x), target).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


def run(device: str = "cpu") -> DemoResult:
    sig = _grad_norms("sigmoid", device)
    relu = _grad_norms("relu", device)

    rows = [[layer, fmt(sig[layer - 1]), fmt(relu[layer - 1])] for layer in (1, 5, 10, 15, 20)]
    ratio = relu[0] / sig[0]
    return DemoResult(
        columns=["layer", "||dL/dW|| sigmoid + default init", "||dL/dW|| ReLU + He init"],
        rows=rows,
        conclusion=(
            f"layer-1 gradient norm: sigmoid {sig[0]:.1e} vs ReLU+He {relu[0]:.1e} ({ratio:.1e}x "
            f"smaller); sigmoid's layer 1 gets {sig[0] / sig[-1]:.1e} of its layer-20 gradient, "
            f"ReLU+He's {relu[0] / relu[-1]:.2g}"
        ),
        metrics={
            "sigmoid_first": sig[0],
            "sigmoid_last": sig[-1],
            "relu_first": relu[0],
            "relu_last": relu[-1],
            "relu_over_sigmoid_first": ratio,
        },
        notes=["one batch at initialization; training changes the weights and with them these norms"],
    )
