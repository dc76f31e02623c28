"""Forgetting model.eval(): dropout and BatchNorm make predictions change from call to call."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "production"
TITLE = "Forgot model.eval(): unstable predictions from dropout + BatchNorm in train mode"


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    d = 10
    direction = torch.randn(d, device=device)

    def data(n):
        x = torch.randn(n, d, device=device)
        return x, (x @ direction > 0).long()  # a linearly separable 2-class problem

    model = nn.Sequential(nn.Linear(d, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2)).to(device)
    # SGD with momentum 0.9 by hand, as torch.optim.SGD(lr=0.1, momentum=0.9) would do it
    # (torch.optim is avoided only because its first use imports torch._dynamo, ~1 s)
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    model.train()
    for _ in range(100):
        x, y = data(64)
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p, v in zip(model.parameters(), velocity, strict=True):
                v.mul_(0.9).add_(p.grad)
                p -= 0.1 * v

    x_test, y_test = data(256)
    with torch.no_grad():
        # the bug: still in train mode at inference time
        bn_mean_before = model[1].running_mean.clone()
        a, b = model(x_test), model(x_test)
        # train-mode forwards also update BatchNorm's running stats: inference changed the model
        bn_drift = (model[1].running_mean - bn_mean_before).abs().max().item()
        # the fix
        model.eval()
        c, e = model(x_test), model(x_test)

    def acc(logits):
        return (logits.argmax(1) == y_test).float().mean().item()

    train_gap = (a - b).abs().max().item()
    train_flips = (a.argmax(1) != b.argmax(1)).float().mean().item()
    eval_gap = (c - e).abs().max().item()
    eval_flips = (c.argmax(1) != e.argmax(1)).float().mean().item()

    def one_example(mode: str) -> str:
        model.train(mode == "train")
        try:
            with torch.no_grad():
                model(x_test[:1])
            return "works"
        except ValueError:  # BatchNorm cannot compute a batch variance from 1 value
            return "ValueError"

    single, single_eval = one_example("train"), one_example("eval")

    rows = [
        ["max |logit difference| between two calls", fmt(train_gap), fmt(eval_gap)],
        ["predictions that flip between two calls", f"{train_flips:.1%}", f"{eval_flips:.1%}"],
        [
            "test accuracy, call 1 / call 2",
            f"{acc(a):.1%} / {acc(b):.1%}",
            f"{acc(c):.1%} / {acc(e):.1%}",
        ],
        ["BatchNorm running_mean change caused by inference", fmt(bn_drift), "0 (not updated)"],
        ["a batch of 1 example", single, single_eval],
    ]
    return DemoResult(
        columns=["same 256 test inputs", "train mode (forgot eval())", "eval mode"],
        rows=rows,
        conclusion=(
            f"in train mode two calls on the same inputs differ by up to {train_gap:.2f} in logits "
            f"and flip {train_flips:.1%} of predictions (accuracy {acc(a):.1%} vs eval "
            f"{acc(c):.1%}); in eval mode the difference is {eval_gap:g}"
        ),
        metrics={
            "train_max_logit_diff": train_gap,
            "train_flip_frac": train_flips,
            "eval_max_logit_diff": eval_gap,
            "eval_flip_frac": eval_flips,
            "train_acc": acc(a),
            "eval_acc": acc(c),
            "bn_running_mean_drift": bn_drift,
            "single_example_fails_in_train": float(single == "ValueError"),
        },
        notes=[
            "torch.no_grad() does not switch modes: it only stops gradient tracking; model.eval() does",
            "on a GPU, eval-mode outputs can still differ in the last bits if kernels are non-deterministic",
        ],
    )
