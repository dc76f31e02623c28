"""How much gradient reaches early inputs: tanh RNN vs LSTM (default and open forget gate)."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "rnns"
TITLE = "Gradient of the last output w.r.t. early inputs: tanh RNN vs LSTM"

SEQ_LEN, INPUT, HIDDEN = 60, 8, 32
FORGET_BIAS = 3.0


def _input_grads(kind: str, device: str) -> list[float]:
    """||d(r . h_T) / d x_t|| for every step t, with r a fixed random readout of the last state."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if kind == "rnn":
        net = nn.RNN(INPUT, HIDDEN, nonlinearity="tanh", batch_first=True)
    else:
        net = nn.LSTM(INPUT, HIDDEN, batch_first=True)
        if kind == "lstm_open":
            # gate order in PyTorch's LSTM weights/biases is (input, forget, cell, output);
            # b_ih and b_hh are added, so this makes the forget gate's total bias FORGET_BIAS
            with torch.no_grad():
                net.bias_ih_l0[HIDDEN : 2 * HIDDEN] = FORGET_BIAS
                net.bias_hh_l0[HIDDEN : 2 * HIDDEN] = 0.0
    net = net.to(device)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, SEQ_LEN, INPUT, generator=gen).to(device).requires_grad_()
    readout = torch.randn(HIDDEN, generator=gen).to(device)
    out, _ = net(x)
    (out[0, -1] @ readout).backward()  # a scalar function of the last step's output
    return x.grad[0].norm(dim=1).tolist()  # one gradient norm per input step


def run(device: str = "cpu") -> DemoResult:
    rnn = _input_grads("rnn", device)
    lstm = _input_grads("lstm", device)
    lstm_open = _input_grads("lstm_open", device)

    last = SEQ_LEN - 1
    rows = [
        [back, fmt(rnn[last - back]), fmt(lstm[last - back]), fmt(lstm_open[last - back])]
        for back in (0, 5, 10, 20, 40, SEQ_LEN - 1)
    ]
    far = SEQ_LEN - 1
    return DemoResult(
        columns=[
            "steps back from the end: ||d(r.h_T)/dx_t||",
            "tanh RNN",
            "LSTM, default init",
            f"LSTM, forget bias {FORGET_BIAS:g}",
        ],
        rows=rows,
        conclusion=(
            f"gradient from {far} steps back, relative to the last step: RNN "
            f"{rnn[0] / rnn[last]:.1e}, LSTM (default init) {lstm[0] / lstm[last]:.1e}, LSTM with "
            f"forget bias {FORGET_BIAS:g} {lstm_open[0] / lstm_open[last]:.1e}"
        ),
        metrics={
            "rnn_far_over_last": rnn[0] / rnn[last],
            "lstm_far_over_last": lstm[0] / lstm[last],
            "lstm_open_far_over_last": lstm_open[0] / lstm_open[last],
            "rnn_20_over_last": rnn[last - 20] / rnn[last],
            "lstm_open_20_over_last": lstm_open[last - 20] / lstm_open[last],
        },
        notes=[
            "the LSTM's advantage is the additive cell path c_t = f * c_{t-1} + i * g: its "
            "gradient is scaled by the forget gate f, so it survives only when f is near 1; "
            "PyTorch initializes the forget bias like every other bias (near 0, f ~ 0.5), hence "
            "the common trick of setting it to 1 or more",
            "values are at initialization; training changes the gates",
        ],
    )
