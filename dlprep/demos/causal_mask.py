"""A causal mask makes the attention weights lower triangular, so output t never sees tokens after t."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "attention"
TITLE = "Causal mask: lower-triangular weights, and the future cannot change the past"

T, D = 8, 16  # sequence length, model width
CHANGED_FROM = 5  # tokens at positions >= this are replaced by new random ones


def run(device: str = "cpu") -> DemoResult:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(0)
    to_qkv = nn.Linear(D, 3 * D, bias=False).to(device)  # one head of self-attention

    def attention(x, causal):
        q, k, v = to_qkv(x).chunk(3, dim=-1)
        scores = q @ k.T / math.sqrt(D)
        if causal:
            # position t may attend to positions <= t: blank out everything above the diagonal
            future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=device), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))  # softmax turns -inf into 0
        weights = scores.softmax(dim=-1)
        return weights @ v, weights, (q, k, v)

    x = torch.randn(T, D, device=device)
    x_changed = x.clone()
    x_changed[CHANGED_FROM:] = torch.randn(T - CHANGED_FROM, D, device=device)

    with torch.no_grad():
        out, weights, (q, k, v) = attention(x, causal=True)
        out_changed, _, _ = attention(x_changed, causal=True)
        out_full, _, _ = attention(x, causal=False)
        out_full_changed, _, _ = attention(x_changed, causal=False)
        # PyTorch's fused kernel with is_causal=True computes the same thing
        sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=True)

    above_diag = weights.triu(diagonal=1).abs().max().item()
    row_sum_err = (weights.sum(-1) - 1).abs().max().item()
    diff_causal = (out - out_changed).abs().max(-1).values  # per position
    diff_full = (out_full - out_full_changed).abs().max(-1).values
    sdpa_diff = (sdpa - out).abs().max().item()

    def show_row(w):  # exact zeros as "0" so the triangle stands out
        return " ".join("0" if x == 0 else f"{x:.2f}" for x in w.tolist())

    rows = [[t, show_row(weights[t]), fmt(diff_causal[t].item()), fmt(diff_full[t].item())] for t in range(T)]
    past = slice(0, CHANGED_FROM)
    metrics = {
        "max_weight_above_diagonal": above_diag,
        "row_sum_max_err": row_sum_err,
        "weight_0_0": weights[0, 0].item(),
        "causal_max_change_before": diff_causal[past].max().item(),
        "causal_min_change_from": diff_causal[CHANGED_FROM:].min().item(),
        "full_min_change_before": diff_full[past].min().item(),
        "sdpa_max_diff": sdpa_diff,
    }
    return DemoResult(
        columns=[
            "position t",
            "causal attention weights of row t",
            "change in output t, causal",
            "change in output t, no mask",
        ],
        rows=rows,
        conclusion=(
            f"with the mask every weight above the diagonal is {above_diag:g} and outputs "
            f"0..{CHANGED_FROM - 1} change by at most {metrics['causal_max_change_before']:.1e} when "
            f"tokens {CHANGED_FROM}..{T - 1} are replaced (without the mask by at least "
            f"{metrics['full_min_change_before']:.2f}); is_causal=True SDPA matches to {sdpa_diff:.1e}"
        ),
        metrics=metrics,
        notes=[
            f"change = max |output before - output after| once tokens {CHANGED_FROM}..{T - 1} "
            "are replaced by new random ones",
            "one head, no batch; in a decoder the same mask is applied in every layer, so the "
            "guarantee holds for the whole stack",
        ],
    )
