"""LoRA trains r(d_in + d_out) parameters, starts equal to the base layer, and merges into W with no output change."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "llms"
TITLE = "LoRA on a Linear layer: trainable share, B = 0 start, merged W + (alpha/r) B A"

D_IN, D_OUT = 256, 128
ALPHA = 16  # the scale is alpha / r
RANKS = (1, 4, 8, 16, 64)
TRUE_RANK = 8  # the weight change the adapter has to learn has this rank
STEPS, BATCH, LR = 200, 128, 3e-3
POOL = 16  # training batches, cycled through


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    base = nn.Linear(D_IN, D_OUT, device=device)
    base.requires_grad_(False)  # the pretrained layer stays frozen
    # the fine-tuning task: outputs of W + delta, with delta of rank TRUE_RANK
    delta = (torch.randn(D_OUT, TRUE_RANK, device=device) @ torch.randn(TRUE_RANK, D_IN, device=device)) / D_IN
    x_test = torch.randn(1024, D_IN, device=device)

    def target(x):
        return base(x) + x @ delta.T

    # the training inputs (POOL batches, cycled through, the same for every rank); the frozen
    # layer's outputs on them are computed once, as nothing in it changes
    x_train = torch.randn(POOL, BATCH, D_IN, device=device)
    with torch.no_grad():
        base_train, target_train = base(x_train), target(x_train)

    class LoRALinear(nn.Module):
        """y = base(x) + (alpha / r) * x A^T B^T; A is r x d_in (random), B is d_out x r (zeros)."""

        def __init__(self, r):
            super().__init__()
            self.base = base
            self.scale = ALPHA / r
            self.A = nn.Parameter(torch.randn(r, D_IN, device=device) / D_IN**0.5)
            self.B = nn.Parameter(torch.zeros(D_OUT, r, device=device))

        def update(self, x):
            """The adapter's part of the output: (alpha / r) * x A^T B^T."""
            return self.scale * (x @ self.A.T) @ self.B.T

        def forward(self, x):
            return self.base(x) + self.update(x)

        def merged(self):
            """A plain Linear with W + (alpha / r) B A: no extra work at inference."""
            out = nn.Linear(D_IN, D_OUT, device=device)
            with torch.no_grad():
                out.weight.copy_(self.base.weight + self.scale * self.B @ self.A)
                out.bias.copy_(self.base.bias)
            return out

    # the best any rank-r adapter can do (Eckart-Young): for x ~ N(0, I) the MSE of a weight error E
    # is ||E||_F^2 / d_out, smallest when B A keeps delta's top r singular values
    singular = torch.linalg.svdvals(delta.cpu())  # on the CPU: not every backend has svdvals

    def floor(r):
        return (singular[r:] ** 2).sum().item() / D_OUT

    rows = []
    metrics: dict[str, float] = {}
    full = D_IN * D_OUT
    for r in RANKS:
        torch.manual_seed(r)
        lora = LoRALinear(r)
        trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
        with torch.no_grad():
            init_diff = (lora(x_test) - base(x_test)).abs().max().item()
            loss_start = (lora(x_test) - target(x_test)).pow(2).mean().item()
        # Adam by hand, as torch.optim.Adam(lr=LR) would do it (torch.optim is avoided only because
        # its first use imports torch._dynamo, which takes seconds); one learning rate for every
        # rank, as the alpha / r scale is meant to allow
        params = [lora.A, lora.B]
        moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
        for step in range(1, STEPS + 1):
            i = step % POOL
            loss = (base_train[i] + lora.update(x_train[i]) - target_train[i]).pow(2).mean()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g, (m1, m2) in zip(params, grads, moments, strict=True):
                    m1.mul_(0.9).add_(g, alpha=0.1)
                    m2.mul_(0.999).addcmul_(g, g, value=0.001)
                    p -= LR * (m1 / (1 - 0.9**step)) / ((m2 / (1 - 0.999**step)).sqrt() + 1e-8)
        merged = lora.merged()
        with torch.no_grad():
            y_adapter = lora(x_test)
            y_merged = merged(x_test)
            merge_diff = (y_merged - y_adapter).abs().max().item()
            loss_end = (y_adapter - target(x_test)).pow(2).mean().item()
            scale_out = y_adapter.abs().max().item()
        merged_params = sum(p.numel() for p in merged.parameters())
        metrics[f"trainable_r{r}"] = float(trainable)
        metrics[f"init_diff_r{r}"] = init_diff
        metrics[f"loss_start_r{r}"] = loss_start
        metrics[f"loss_end_r{r}"] = loss_end
        metrics[f"loss_floor_r{r}"] = floor(r)
        metrics[f"merge_diff_r{r}"] = merge_diff
        metrics[f"merged_params_r{r}"] = float(merged_params)
        metrics[f"output_max_r{r}"] = scale_out
        rows.append(
            [
                r,
                f"{trainable:,}",
                f"{trainable / full:.2%}",
                fmt(init_diff),
                fmt(loss_start),
                fmt(loss_end),
                fmt(floor(r)),
                fmt(merge_diff),
            ]
        )

    metrics["full_weight_params"] = float(full)
    m = metrics
    worst_merge = max(m[f"merge_diff_r{r}"] for r in RANKS)
    return DemoResult(
        columns=["rank r", "trainable", "of W", "init |diff|", "loss start", "loss end", "best", "merge |diff|"],
        rows=rows,
        conclusion=(
            f"rank {TRUE_RANK} trains {m[f'trainable_r{TRUE_RANK}']:,.0f} parameters instead of {full:,} "
            f"({m[f'trainable_r{TRUE_RANK}'] / full:.1%}); with B = 0 every adapter starts exactly at the "
            f"base layer (max |diff| {max(m[f'init_diff_r{r}'] for r in RANKS):g}); after {STEPS} steps "
            f"the loss is {m[f'loss_end_r{TRUE_RANK}']:.1e} at r = {TRUE_RANK} vs "
            f"{m['loss_end_r1']:.1e} at r = 1, and the merged W + (alpha/r) B A gives the adapter's "
            f"outputs to {worst_merge:.1e} (fp32)"
        ),
        metrics=metrics,
        notes=[
            f"Linear({D_IN} -> {D_OUT}) frozen, alpha = {ALPHA}; the target adds a rank-{TRUE_RANK} change "
            f"to W; LoRA trains r x (d_in + d_out) = r x {D_IN + D_OUT} values; Adam, {STEPS} steps over "
            f"{POOL} batches of {BATCH} random inputs; losses are MSE on 1,024 held-out inputs",
            "'best' is the lowest loss any rank-r B A can reach (delta's singular values past the "
            "r-th, squared, over d_out); 'init |diff|' and 'merge |diff|' are max abs output differences",
            "after merging the layer is a plain Linear of the base size: no extra latency, but one "
            "merged copy per adapter",
        ],
    )
