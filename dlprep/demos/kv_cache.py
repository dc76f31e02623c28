"""Decoding with a KV cache gives the same outputs as recomputing the whole prefix, with far fewer multiply-adds."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "transformers"
TITLE = "KV cache: same outputs as recomputing the prefix, far fewer multiply-adds"

D, HEADS, LAYERS, STEPS = 64, 4, 2, 64
HEAD_DIM = D // HEADS


def run(device: str = "cpu") -> DemoResult:
    import torch

    torch.manual_seed(0)
    # a small decoder: LAYERS blocks of causal multi-head self-attention with a residual
    # (per-token layers such as the MLP and LayerNorm do not mix positions, so they would not
    # change anything about caching; they are left out)
    weights = [
        (
            torch.randn(D, 3 * D, device=device) / math.sqrt(D),  # W_q | W_k | W_v
            torch.randn(D, D, device=device) / math.sqrt(D),  # W_o
        )
        for _ in range(LAYERS)
    ]
    macs = {"full": 0, "cached": 0}

    def matmul(a, b, kind):
        """a @ b, counting its multiply-adds."""
        out = a @ b
        macs[kind] += out.numel() * a.shape[-1]  # each output entry is a length-k dot product
        return out

    def heads(x):  # (t, D) -> (HEADS, t, HEAD_DIM)
        return x.view(-1, HEADS, HEAD_DIM).transpose(0, 1)

    def attend(q, k, v, kind, causal):
        scores = matmul(q, k.transpose(-2, -1), kind) / math.sqrt(HEAD_DIM)
        if causal:  # only needed when several queries are processed at once
            t = q.shape[-2]
            future = torch.triu(torch.ones(t, t, dtype=torch.bool, device=device), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        out = matmul(scores.softmax(-1), v, kind)  # (HEADS, queries, HEAD_DIM)
        return out.transpose(0, 1).reshape(-1, D)

    def full_recompute(prefix):
        """Run the whole prefix through the model; return the last position's output."""
        x = prefix
        for w_qkv, w_o in weights:
            q, k, v = matmul(x, w_qkv, "full").split(D, dim=-1)
            x = x + matmul(attend(heads(q), heads(k), heads(v), "full", causal=True), w_o, "full")
        return x[-1]

    def cached_step(token, cache):
        """Run ONE new position; its keys and values are appended to each layer's cache."""
        x = token.unsqueeze(0)
        for layer, (w_qkv, w_o) in enumerate(weights):
            q, k, v = matmul(x, w_qkv, "cached").split(D, dim=-1)
            cache[layer][0].append(heads(k))
            cache[layer][1].append(heads(v))
            keys = torch.cat(cache[layer][0], dim=1)  # (HEADS, t, HEAD_DIM): all positions so far
            values = torch.cat(cache[layer][1], dim=1)
            x = x + matmul(attend(heads(q), keys, values, "cached", causal=False), w_o, "cached")
        return x[0]

    # the inputs stand in for the embeddings of the tokens being generated
    tokens = torch.randn(STEPS, D, device=device)
    cache = [([], []) for _ in range(LAYERS)]
    rows = []
    metrics: dict[str, float] = {}
    worst = 0.0
    with torch.no_grad():
        for t in range(1, STEPS + 1):
            out_full = full_recompute(tokens[:t])
            out_cached = cached_step(tokens[t - 1], cache)
            worst = max(worst, (out_full - out_cached).abs().max().item())
            if t in (1, 8, 16, 32, 64):
                cache_bytes = sum(sum(c.numel() * c.element_size() for c in kv) for layer in cache for kv in layer)
                ratio = macs["full"] / macs["cached"]
                rows.append(
                    [
                        t,
                        fmt(macs["full"]),
                        fmt(macs["cached"]),
                        f"{ratio:.3g}x",
                        fmt(worst),
                        f"{cache_bytes:,}",
                    ]
                )
                metrics[f"macs_full_t{t}"] = float(macs["full"])
                metrics[f"macs_cached_t{t}"] = float(macs["cached"])
                metrics[f"cache_bytes_t{t}"] = float(cache_bytes)
    metrics["max_abs_diff"] = worst
    ratio = macs["full"] / macs["cached"]
    return DemoResult(
        columns=[
            "tokens so far",
            "multiply-adds so far, recompute prefix",
            "multiply-adds so far, KV cache",
            "ratio",
            "max |output difference|",
            "cache size (bytes)",
        ],
        rows=rows,
        conclusion=(
            f"over {STEPS} decoding steps the cached outputs match full recomputation to "
            f"{worst:.1e}, with {macs['cached']:.2e} multiply-adds instead of "
            f"{macs['full']:.2e} ({ratio:.0f}x fewer); the price is a cache of "
            f"2 (K, V) x {LAYERS} layers x {STEPS} positions x {D} fp32 values = "
            f"{int(metrics[f'cache_bytes_t{STEPS}']):,} bytes"
        ),
        metrics=metrics,
        notes=[
            f"{LAYERS} layers, d = {D}, {HEADS} heads; per step and layer recomputation costs "
            "4td^2 + 2t^2d multiply-adds, the cached step 4d^2 + 2td (t = prefix length)",
        ],
    )
