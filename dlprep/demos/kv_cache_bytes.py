"""KV-cache bytes: the formula vs the tensors allocated, and GQA's saving (demo kv-cache covers the compute side)."""

from __future__ import annotations

from dlprep.demos.base import DemoResult

TOPIC = "llms"
TITLE = "KV-cache memory: 2 x layers x KV heads x head dim x tokens x bytes, and GQA"

# tiny configs whose caches are built in torch: (name, layers, query heads, KV heads, head dim, dtype)
TINY = [
    ("tiny MHA", 4, 8, 8, 16, "float32"),
    ("tiny MHA", 4, 8, 8, 16, "float16"),
    ("tiny GQA", 4, 8, 2, 16, "float16"),
    ("tiny MQA", 4, 8, 1, 16, "bfloat16"),
]
TINY_TOKENS, TINY_BATCH = 256, 2
# published configs, formula only: (name, layers, query heads, KV heads, head dim, bytes per value)
NAMED = [
    ("Llama-2-7B", 32, 32, 32, 128, 2),
    ("Llama-3-8B", 32, 32, 8, 128, 2),
    ("Llama-2-70B", 80, 64, 8, 128, 2),
]
NAMED_TOKENS = 4096
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
SHORT = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int, batch: int, nbytes: int) -> int:
    """2 (K and V) x layers x KV heads x head dim x tokens x batch x bytes per value."""
    return 2 * layers * kv_heads * head_dim * tokens * batch * nbytes


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}"
        n /= 1024
    return f"{n:g} GiB"


def run(device: str = "cpu") -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    rows = []
    metrics: dict[str, float] = {}
    gqa_diff = 0.0
    for name, layers, q_heads, kv_heads, head_dim, dtype_name in TINY:
        dtype = getattr(torch, dtype_name)
        d_model = q_heads * head_dim
        # prefill: each layer projects its TINY_TOKENS hidden states to keys and values and keeps
        # them as (batch, KV heads, tokens, head dim) tensors; the hidden states are random here
        cache = []
        for _ in range(layers):
            x = torch.randn(TINY_BATCH, TINY_TOKENS, d_model, device=device)
            w_k = torch.randn(d_model, kv_heads * head_dim, device=device) / d_model**0.5
            w_v = torch.randn(d_model, kv_heads * head_dim, device=device) / d_model**0.5
            for w in (w_k, w_v):
                t = (x @ w).view(TINY_BATCH, TINY_TOKENS, kv_heads, head_dim).transpose(1, 2)
                cache.append(t.to(dtype).contiguous())
        allocated = sum(t.numel() * t.element_size() for t in cache)
        storage = sum(t.untyped_storage().nbytes() for t in cache)  # what the allocator handed out
        formula = cache_bytes(layers, kv_heads, head_dim, TINY_TOKENS, TINY_BATCH, DTYPE_BYTES[dtype_name])
        per_token = cache_bytes(layers, kv_heads, head_dim, 1, 1, DTYPE_BYTES[dtype_name])

        # one decoding step's attention reads this cache: every group of q_heads / kv_heads query
        # heads shares one cached K/V head (SDPA's enable_gqa), the same as repeating each KV head
        # for its group, without storing the repeats
        q = torch.randn(TINY_BATCH, q_heads, 1, head_dim, device=device)
        k, v = cache[-2].float(), cache[-1].float()
        shared = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        group = q_heads // kv_heads
        repeated = F.scaled_dot_product_attention(
            q, k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        )
        gqa_diff = max(gqa_diff, (shared - repeated).abs().max().item())

        key = f"{name.split()[1]}_{dtype_name}"
        metrics[f"formula_{key}"] = float(formula)
        metrics[f"allocated_{key}"] = float(allocated)
        metrics[f"storage_{key}"] = float(storage)
        metrics[f"per_token_{key}"] = float(per_token)
        rows.append(
            [
                name,
                SHORT[dtype_name],
                layers,
                f"{kv_heads} / {q_heads}",
                human(per_token),
                f"{formula:,}",
                f"{allocated:,}",
            ]
        )

    for name, layers, q_heads, kv_heads, head_dim, nbytes in NAMED:
        per_token = cache_bytes(layers, kv_heads, head_dim, 1, 1, nbytes)
        total = cache_bytes(layers, kv_heads, head_dim, NAMED_TOKENS, 1, nbytes)
        as_mha = cache_bytes(layers, q_heads, head_dim, NAMED_TOKENS, 1, nbytes)  # one KV head per query head
        metrics[f"per_token_{name}"] = float(per_token)
        metrics[f"total_{name}"] = float(total)
        metrics[f"mha_total_{name}"] = float(as_mha)
        rows.append(
            [
                name,
                "16-bit",
                layers,
                f"{kv_heads} / {q_heads}",
                human(per_token),
                human(total),
                "-",
            ]
        )

    metrics["gqa_attention_diff"] = gqa_diff
    m = metrics
    mismatches = sum(
        m[f"formula_{k}"] != m[f"allocated_{k}"] or m[f"formula_{k}"] != m[f"storage_{k}"]
        for k in (f"{n.split()[1]}_{d}" for n, *_, d in TINY)
    )
    metrics["mismatches"] = float(mismatches)
    l7, l8 = m["total_Llama-2-7B"], m["total_Llama-3-8B"]
    return DemoResult(
        columns=["config", "dtype", "layers", "KV / Q heads", "per token", "formula", "allocated"],
        rows=rows,
        conclusion=(
            f"the formula matches the bytes torch allocates in {len(TINY) - mismatches} of {len(TINY)} "
            f"tiny caches (fp16, 2 KV heads for 8 query heads: {m['allocated_GQA_float16']:,.0f} bytes vs "
            f"{m['allocated_MHA_float16']:,.0f} with 8, "
            f"{m['allocated_MHA_float16'] / m['allocated_GQA_float16']:.0f}x less); at {NAMED_TOKENS:,} "
            f"tokens Llama-2-7B needs {human(m['per_token_Llama-2-7B'])} per token, {human(l7)}, and "
            f"Llama-3-8B with 8 KV heads {human(m['per_token_Llama-3-8B'])}, {human(l8)} ({l7 / l8:.0f}x less)"
        ),
        metrics=metrics,
        notes=[
            "formula: 2 (K and V) x layers x KV heads x head dim x tokens x batch x bytes per value; "
            "in bytes for the tiny configs; 'allocated' sums numel x element_size over the cache "
            "tensors (their storages agree)",
            f"tiny configs: head dim 16, {TINY_TOKENS} tokens x batch {TINY_BATCH}, keys and values "
            f"projected from random hidden states; named ones: head dim 128, {NAMED_TOKENS:,} tokens x "
            "batch 1, fp16 or bf16 (2 bytes), formula only; "
            f"Llama-2-70B with one KV head per query head would need {human(m['mha_total_Llama-2-70B'])}",
            "GQA attention reads the small cache directly: SDPA with enable_gqa matches repeating each "
            "KV head for its query group " + ("exactly" if gqa_diff == 0 else f"to {gqa_diff:.0e}"),
        ],
    )
