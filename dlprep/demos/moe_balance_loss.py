"""A top-1 MoE router trained with the Switch balance loss spreads tokens evenly and drops far fewer at capacity."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult

TOPIC = "llms"
TITLE = "MoE load balancing: a top-1 router with and without the Switch auxiliary loss"

D, EXPERTS = 16, 8
TOKENS, STEPS, LR = 512, 150, 1e-2  # tokens per training batch, Adam steps
EVAL_TOKENS = 4096
ALPHA = 0.1  # weight of the balance loss (see the note on its scale)
CAPACITY_FACTOR = 1.0


def aux_ratio(probs, top):
    """N * sum_i f_i P_i: f_i = share of tokens routed to expert i, P_i = mean router
    probability of expert i; the Switch loss is alpha times this."""
    import torch

    probs, top = probs.cpu().double(), top.cpu()  # float64 on the CPU (MPS has no float64)
    n = probs.shape[-1]
    f = torch.bincount(top, minlength=n).double() / top.numel()
    return n * (f * probs.mean(0)).sum().item(), f


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    w_true = torch.randn(D, D, device=device) / math.sqrt(D)
    # token vectors share a mean direction, as hidden states do; a router can then send every
    # token to the same expert by aligning one expert's logit with that direction
    mu = 2 * torch.randn(D, device=device) / math.sqrt(D)
    data = torch.Generator().manual_seed(1)

    def batch(n):
        x = torch.randn(n, D, generator=data).to(device) + mu
        return x, torch.tanh(x @ w_true)  # the task: regress a fixed nonlinear map

    def train(alpha):
        torch.manual_seed(2)  # the same initial router and experts for both runs
        router = (0.1 * torch.randn(D, EXPERTS, device=device)).requires_grad_()
        experts = (torch.randn(EXPERTS, D, D, device=device) / math.sqrt(D)).requires_grad_()
        params = [router, experts]
        # Adam by hand, as torch.optim.Adam(lr=LR) would do it (torch.optim's first use imports
        # torch._dynamo, which takes seconds)
        moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
        for step in range(1, STEPS + 1):
            x, y = batch(TOKENS)
            probs = (x @ router).softmax(-1)
            top = probs.argmax(-1)  # top-1 routing
            gate = probs.gather(1, top.unsqueeze(1))  # the chosen expert's probability
            expert_out = torch.einsum("td,nde->tne", x, experts)[torch.arange(TOKENS, device=device), top]
            task = (gate * expert_out - y).pow(2).mean()  # scaling by the gate trains the router
            f = torch.bincount(top, minlength=EXPERTS).float() / TOKENS  # no gradient: counts
            balance = alpha * EXPERTS * (f * probs.mean(0)).sum()  # gradient flows through P only
            grads = torch.autograd.grad(task + balance, params)
            with torch.no_grad():
                for p, g, (m1, m2) in zip(params, grads, moments, strict=True):
                    m1.mul_(0.9).add_(g, alpha=0.1)
                    m2.mul_(0.999).addcmul_(g, g, value=0.001)
                    p -= LR * (m1 / (1 - 0.9**step)) / ((m2 / (1 - 0.999**step)).sqrt() + 1e-8)
        x, y = batch(EVAL_TOKENS)
        with torch.no_grad():
            probs = (x @ router).softmax(-1)
            top = probs.argmax(-1)
            gate = probs.gather(1, top.unsqueeze(1))
            out = gate * torch.einsum("td,nde->tne", x, experts)[torch.arange(EVAL_TOKENS, device=device), top]
            task = (out - y).pow(2).mean().item()
        return probs, top, task

    capacity = int(CAPACITY_FACTOR * EVAL_TOKENS / EXPERTS)  # tokens an expert takes per batch

    def stats(probs, top):
        ratio, f = aux_ratio(probs, top)
        counts = torch.bincount(top, minlength=EXPERTS)
        dropped = (counts - capacity).clamp(min=0).sum().item() / top.numel()  # overflow tokens
        return {
            "max_load": f.max().item(),
            "min_load": f.min().item(),
            "max_over_mean": f.max().item() * EXPERTS,
            "dropped": dropped,
            "aux_ratio": ratio,
            "sum_f_sq": (f**2).sum().item(),
            "loads": f.tolist(),
        }

    # reference routings built by hand, to pin down what the loss measures
    t = torch.arange(EVAL_TOKENS, device=device)
    one_hot = torch.eye(EXPERTS, device=device)
    half = EXPERTS // 2
    # each token picks one of the first half with probability 0.24 and gives 0.19 to each of the
    # other half: routing uses only half the experts, probability mass sits on the rest
    off = torch.full((EVAL_TOKENS, EXPERTS), (1 - 0.24) / half, device=device)
    off[:, :half] = 0
    off[t, t % half] = 0.24
    references = [
        ("uniform", "uniform", one_hot[t % EXPERTS]),
        ("collapsed", "collapsed", one_hot[torch.zeros_like(t)]),
        ("off_expert", f"{half} of {EXPERTS} used", off),
    ]

    rows = []
    metrics: dict[str, float] = {}
    loads = {}
    for name, alpha in (("without", 0.0), ("with", ALPHA)):
        probs, top, task = train(alpha)
        s = stats(probs, top)
        loads[name] = s.pop("loads")
        s["task_loss"] = task
        for k, v in s.items():
            metrics[f"{k}_{name}"] = v
        label = "no balance loss" if alpha == 0 else f"alpha = {alpha:g}"
        rows.append([label, *row_cells(s), f"{task:.4f}"])
    for slug, name, probs in references:
        s = stats(probs, probs.argmax(-1))
        s.pop("loads")
        for k, v in s.items():
            metrics[f"{k}_ref_{slug}"] = v
        rows.append([name, *row_cells(s), "-"])

    m = metrics
    low = m["aux_ratio_ref_off_expert"]
    return DemoResult(
        columns=["routing", "max load", "min load", "max/mean", "dropped", "N sum f P", "task loss"],
        rows=rows,
        conclusion=(
            f"with the balance loss the busiest of {EXPERTS} experts takes {m['max_load_with']:.1%} of "
            f"tokens (without: {m['max_load_without']:.1%}) and {m['dropped_with']:.1%} are dropped at "
            f"capacity factor {CAPACITY_FACTOR:g} (without: {m['dropped_without']:.1%}), for a task loss "
            f"of {m['task_loss_with']:.4f} vs {m['task_loss_without']:.4f}; the loss is alpha x "
            f"{m['aux_ratio_with']:.3f} (without: x {m['aux_ratio_without']:.2f}): x 1 when uniform, "
            f"x {EXPERTS} when collapsed, and x {low:.2f}, below 1, with mass on unused experts"
        ),
        metrics=metrics,
        notes=[
            "loads without: " + " ".join(f"{x:.2f}" for x in loads["without"]),
            "loads with:    " + " ".join(f"{x:.2f}" for x in loads["with"]),
            f"load = share f_i of the {EVAL_TOKENS:,} held-out tokens routed to expert i; capacity = "
            f"{CAPACITY_FACTOR:g} x {EVAL_TOKENS:,} / {EXPERTS} = {capacity} per expert; 'dropped' is the "
            "share of tokens over capacity",
            "'N sum f P' is the Switch loss over alpha; a token's top probability is >= 1/N, so "
            "P_i >= f_i / N and N sum f_i P_i >= sum f_i^2 >= 1/N",
            "the last three rows are built by hand: 'uniform' sends token t to expert t mod N with "
            f"probability 1, 'collapsed' sends all to expert 0, '{half} of {EXPERTS} used' gives each "
            f"token 0.24 on one of experts 0-{half - 1} and 0.19 on each of the other {half}",
            f"alpha = {ALPHA:g} because this MSE task loss is ~0.05; Switch used 0.01 next to a "
            "language-model cross-entropy",
        ],
    )


def row_cells(s: dict) -> list[str]:
    return [
        f"{s['max_load']:.3f}",
        f"{s['min_load']:.3f}",
        f"{s['max_over_mean']:.2f}",
        f"{s['dropped']:.1%}",
        f"{s['aux_ratio']:.3f}",
    ]
