"""Dot products of unit-variance vectors have variance d_k; dividing by sqrt(d_k) keeps softmax soft."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "attention"
TITLE = "Why attention divides by sqrt(d_k): var(q.k) = d_k and a saturated softmax"

PAIRS = 4096  # (q, k) pairs used to estimate var(q.k)
QUERIES, KEYS = 256, 64  # one softmax row per query, over KEYS keys


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    rows = []
    metrics: dict[str, float] = {}
    for d_k in (16, 64, 256, 1024):
        # var(q.k): q and k have independent N(0, 1) entries, so q.k is a sum of d_k
        # products, each with variance 1
        q = torch.randn(PAIRS, d_k, device=device)
        k = torch.randn(PAIRS, d_k, device=device)
        var_dot = (q * k).sum(-1).var().item()

        # attention weights of QUERIES queries over KEYS keys, raw and scaled scores
        q = torch.randn(QUERIES, d_k, device=device)
        k = torch.randn(KEYS, d_k, device=device)
        raw = q @ k.T
        stats = {}
        for name, scores in (("raw", raw), ("scaled", raw / math.sqrt(d_k))):
            p = scores.softmax(-1)
            entropy = -(p * p.clamp_min(1e-30).log()).sum(-1).mean().item()
            max_weight = p.max(-1).values.mean().item()
            # softmax Jacobian diag(p) - p p^T: how much the weights respond to the scores
            jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)
            jac_norm = torch.linalg.matrix_norm(jac).mean().item()
            stats[name] = (entropy, max_weight, jac_norm)
            metrics[f"entropy_{name}_d{d_k}"] = entropy
            metrics[f"max_weight_{name}_d{d_k}"] = max_weight
            metrics[f"jacobian_norm_{name}_d{d_k}"] = jac_norm
        metrics[f"var_dot_d{d_k}"] = var_dot
        rows.append(
            [
                d_k,
                fmt(var_dot),
                fmt(stats["raw"][0]),
                fmt(stats["scaled"][0]),
                fmt(stats["raw"][1]),
                fmt(stats["scaled"][1]),
                fmt(stats["raw"][2]),
                fmt(stats["scaled"][2]),
            ]
        )

    metrics["max_entropy"] = math.log(KEYS)
    m = metrics
    return DemoResult(
        columns=[
            "d_k",
            "var(q.k)",
            "entropy raw",
            "entropy /sqrt(d_k)",
            "max weight raw",
            "max weight /sqrt(d_k)",
            "||softmax Jacobian|| raw",
            "||softmax Jacobian|| /sqrt(d_k)",
        ],
        rows=rows,
        conclusion=(
            f"var(q.k) = {m['var_dot_d1024']:.0f} at d_k = 1024 (~d_k); unscaled, the softmax over "
            f"{KEYS} keys puts {m['max_weight_raw_d1024']:.2f} on one key (entropy "
            f"{m['entropy_raw_d1024']:.2f}, Jacobian norm {m['jacobian_norm_raw_d1024']:.1e}); "
            f"with 1/sqrt(d_k): {m['max_weight_scaled_d1024']:.2f} (entropy "
            f"{m['entropy_scaled_d1024']:.2f} of max {m['max_entropy']:.2f}, Jacobian norm "
            f"{m['jacobian_norm_scaled_d1024']:.2f})"
        ),
        metrics=metrics,
        notes=[
            "q, k entries ~ N(0, 1); entropy in nats (max ln 64 = 4.16), averaged over queries; "
            "as the softmax nears one-hot its Jacobian diag(p) - p p^T goes to 0, so little "
            "gradient reaches the scores"
        ],
    )
