"""The naive attention score matrix is n x n, so its memory quadruples when n doubles; SDPA gives the same output."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "attention"
TITLE = "Attention memory: the n x n score matrix, and scaled_dot_product_attention"

HEAD_DIM = 64


def _mb(n_bytes: float) -> str:
    return f"{fmt(n_bytes / 2**20)} MiB"


def run(device: str = "cpu") -> DemoResult:
    import torch
    import torch.nn.functional as F

    def naive(q, k, v):
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (n, n): every query x every key
        weights = scores.softmax(dim=-1)  # a second n x n tensor
        return weights @ v, scores

    torch.manual_seed(0)
    rows = []
    metrics: dict[str, float] = {}
    previous = None
    for n in (128, 256, 512, 1024):
        q, k, v = (torch.randn(1, 1, n, HEAD_DIM, device=device) for _ in range(3))  # batch, head
        out_naive, scores = naive(q, k, v)
        out_sdpa = F.scaled_dot_product_attention(q, k, v)  # same formula, one fused call
        diff = (out_sdpa - out_naive).abs().max().item()
        score_bytes = scores.numel() * scores.element_size()
        out_bytes = out_sdpa.numel() * out_sdpa.element_size()
        growth = score_bytes / previous if previous else float("nan")
        previous = score_bytes
        metrics[f"score_bytes_n{n}"] = float(score_bytes)
        metrics[f"output_bytes_n{n}"] = float(out_bytes)
        metrics[f"max_diff_n{n}"] = diff
        if n > 128:
            metrics[f"naive_growth_n{n}"] = growth
        rows.append(
            [
                n,
                f"{n * n:,}",
                _mb(score_bytes),
                "-" if n == 128 else f"{growth:g}x",
                _mb(out_bytes),
                fmt(diff),
            ]
        )

    # the same arithmetic for a realistic layer: 32 heads, n = 32768, fp16 scores
    big = 32 * 32768**2 * 2
    m = metrics
    return DemoResult(
        columns=[
            "n",
            "score entries",
            "score matrix, fp32",
            "growth vs n/2",
            "output (n x d), fp32",
            "max |SDPA - naive|",
        ],
        rows=rows,
        conclusion=(
            f"one head's n x n fp32 scores grow from {_mb(m['score_bytes_n512'])} to "
            f"{_mb(m['score_bytes_n1024'])} ({m['naive_growth_n1024']:g}x) when n doubles from "
            f"512 to 1024, while the output grows 2x; scaled_dot_product_attention matches the "
            f"naive formula to {max(m[k] for k in m if k.startswith('max_diff')):.1e}"
        ),
        metrics=metrics,
        notes=[
            "softmax(QK^T / sqrt(d)) V as written keeps two n x n tensors (scores, weights) per "
            "head; when torch can use them, SDPA's fused kernels (flash attention on CPU, flash or "
            "memory-efficient on CUDA) walk the keys in blocks and never return an n x n tensor",
            f"per layer and sequence, 32 heads at n = 32768 with fp16 scores would need "
            f"{big / 2**30:.0f} GiB for the score matrix alone",
        ],
    )
