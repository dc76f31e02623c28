"""Speculative sampling's accept/resample rule emits exactly the target's tokens; acceptance rate is 1 - TV(p, q)."""

from __future__ import annotations

from dlprep.demos.base import DemoResult, fmt

TOPIC = "llms"
TITLE = "Speculative sampling: exact target distribution, acceptance rate 1 - TV(p, q)"

# target p and draft q over an 8-token vocabulary, the same at every position (context-free), so
# every number below has a closed form to check against
P = [0.30, 0.20, 0.15, 0.12, 0.10, 0.07, 0.04, 0.02]
Q = [0.20, 0.25, 0.10, 0.15, 0.05, 0.10, 0.10, 0.05]
DRAFTS = (1, 2, 3, 4, 6, 8)  # k: tokens the draft proposes per target call
ROUNDS = 100_000  # target calls simulated for each k


def run(device: str = "cpu") -> DemoResult:
    import torch

    if device == "mps":
        device = "cpu"  # MPS has no float64; an 8-token vocabulary is cheap on a CPU
    torch.manual_seed(0)
    gen = torch.Generator(device=device).manual_seed(0)
    p = torch.tensor(P, dtype=torch.float64, device=device)
    q = torch.tensor(Q, dtype=torch.float64, device=device)
    vocab = p.numel()
    accept_prob = (p / q).clamp(max=1.0)  # accept a drafted x with probability min(1, p(x) / q(x))
    residual = (p - q).clamp(min=0.0)
    residual = residual / residual.sum()  # on rejection, sample from normalise(max(0, p - q))
    overlap = torch.minimum(p, q).sum().item()  # sum_x min(p(x), q(x))
    tv_pq = 0.5 * (p - q).abs().sum().item()
    # the rule's output distribution in closed form: accepted drafts contribute q(x) min(1, p/q) =
    # min(p, q); rejections (probability 1 - overlap) contribute the residual
    exact = torch.minimum(p, q) + (1 - overlap) * residual
    exact_err = (exact - p).abs().max().item()

    def tv(counts):
        return 0.5 * (counts.double() / counts.sum() - p).abs().sum().item()

    rows = []
    metrics: dict[str, float] = {}
    totals = [0, 0]  # accepted and judged drafts over all k
    for k in DRAFTS:
        # one round: the draft proposes k tokens, the target scores all of them in one call
        drafts = torch.multinomial(q, ROUNDS * k, replacement=True, generator=gen).view(ROUNDS, k)
        u = torch.rand(ROUNDS, k, generator=gen, dtype=torch.float64, device=device)
        accepted = u < accept_prob[drafts]
        # tokens kept: the accepted prefix, up to the first rejection
        n_acc = accepted.long().cumprod(dim=1).sum(dim=1)
        # then one more token from the same target call: a resample from the residual after a
        # rejection, or, if all k were accepted, a free sample from p at the next position
        fixups = torch.multinomial(residual, ROUNDS, replacement=True, generator=gen)
        bonus = torch.multinomial(p, ROUNDS, replacement=True, generator=gen)
        extra = torch.where(n_acc < k, fixups, bonus)
        positions = torch.arange(k, device=device).expand(ROUNDS, k)
        kept = drafts[positions < n_acc.unsqueeze(1)]
        emitted = torch.cat([kept, extra])
        counts = torch.bincount(emitted, minlength=vocab)
        # acceptance rate over the drafts the target actually judged (the first rejection ends a round)
        judged = torch.clamp(n_acc + 1, max=k)
        rate = n_acc.sum().item() / judged.sum().item()
        per_call = emitted.numel() / ROUNDS
        formula = (1 - overlap ** (k + 1)) / (1 - overlap)
        metrics[f"accept_rate_k{k}"] = rate
        metrics[f"tokens_per_call_k{k}"] = per_call
        metrics[f"tokens_per_call_formula_k{k}"] = formula
        metrics[f"tv_output_k{k}"] = tv(counts)
        metrics[f"emitted_k{k}"] = float(emitted.numel())
        rows.append([k, f"{rate:.4f}", f"{per_call:.3f}", f"{formula:.3f}", fmt(tv(counts))])
        totals[0] += n_acc.sum().item()
        totals[1] += judged.sum().item()

    # the same drafts kept without the check: their tokens follow q, not p
    naive = torch.multinomial(q, ROUNDS, replacement=True, generator=gen)
    metrics["tv_no_check"] = tv(torch.bincount(naive, minlength=vocab))
    metrics["accept_rate_all"] = totals[0] / totals[1]
    metrics["overlap"] = overlap
    metrics["tv_pq"] = tv_pq
    metrics["exact_err"] = exact_err
    m = metrics
    worst_tv = max(m[f"tv_output_k{k}"] for k in DRAFTS)
    return DemoResult(
        columns=["k drafts", "accept rate", "tokens per call", "formula", "TV(output, p)"],
        rows=rows,
        conclusion=(
            f"{totals[1]:,} judged drafts are accepted at rate {m['accept_rate_all']:.4f}; "
            f"sum min(p, q) = 1 - TV(p, q) = 1 - {tv_pq:.2f} = {overlap:.2f}; the emitted tokens "
            f"match the target p to TV <= {worst_tv:.4f} (in closed form the rule gives p "
            + ("exactly" if exact_err == 0 else f"to {exact_err:.0e}")
            + f"), while keeping drafts unchecked gives TV {m['tv_no_check']:.3f}; with k = 4 each "
            f"target call yields {m['tokens_per_call_k4']:.3f} tokens (formula "
            f"{m['tokens_per_call_formula_k4']:.3f})"
        ),
        metrics=metrics,
        notes=[
            f"p = {P}, q = {Q}; every position draws from the same p and q, so acceptances are "
            f"independent with probability a = {overlap:.2f}",
            "formula: expected tokens per target call, 1 + a + ... + a^k = (1 - a^(k+1)) / (1 - a)",
            f"{ROUNDS:,} target calls per k; a call keeps the accepted prefix of the k drafts plus one "
            "token: the residual resample at the first rejection, or a sample from p if all k passed",
        ],
    )
