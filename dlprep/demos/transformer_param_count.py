"""A transformer block has 12 d^2 + 13 d parameters (4d FFN), counted against nn.TransformerEncoderLayer."""

from __future__ import annotations

from dlprep.demos.base import DemoResult

TOPIC = "transformers"
TITLE = "Transformer block parameters: 12 d^2 (4 d^2 attention + 8 d^2 FFN) plus biases and norms"

# GPT-2 small: 12 blocks of width 768, 50257-token vocabulary, 1024 positions
GPT2_LAYERS, GPT2_D, GPT2_VOCAB, GPT2_POSITIONS = 12, 768, 50257, 1024


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    rows = []
    metrics: dict[str, float] = {}
    for d in (128, 256, 512, 768, 1024):
        layer = nn.TransformerEncoderLayer(d, nhead=8, dim_feedforward=4 * d, device=device)
        attention = count(layer.self_attn)  # in_proj (Wq, Wk, Wv stacked: 3d x d) + out_proj (d x d)
        ffn = count(layer.linear1) + count(layer.linear2)  # d -> 4d -> d
        norms = count(layer.norm1) + count(layer.norm2)  # a scale and a shift each
        total = count(layer)
        formula = 12 * d * d + 13 * d  # biases: 3d + d (attention) + 4d + d (FFN); norms: 4d
        metrics[f"total_d{d}"] = float(total)
        metrics[f"formula_d{d}"] = float(formula)
        metrics[f"attention_d{d}"] = float(attention)
        metrics[f"ffn_d{d}"] = float(ffn)
        metrics[f"norms_d{d}"] = float(norms)
        metrics[f"share_12d2_d{d}"] = 12 * d * d / total
        rows.append(
            [
                d,
                f"{attention:,}",
                f"{ffn:,}",
                f"{norms:,}",
                f"{total:,}",
                f"{formula:,}",
                f"{12 * d * d / total:.4f}",
            ]
        )

    # GPT-2 small has the same block (the 'Conv1D' layers are linear layers), plus embeddings
    blocks = GPT2_LAYERS * int(metrics[f"total_d{GPT2_D}"])
    embeddings = (GPT2_VOCAB + GPT2_POSITIONS) * GPT2_D  # token + learned position embeddings
    gpt2 = blocks + embeddings + 2 * GPT2_D  # + the final LayerNorm; the output head is tied
    metrics["gpt2_small_total"] = float(gpt2)
    mismatches = sum(metrics[f"total_d{d}"] != metrics[f"formula_d{d}"] for d in (128, 256, 512, 768, 1024))
    metrics["mismatches"] = float(mismatches)
    return DemoResult(
        columns=[
            "d",
            "attention",
            "FFN (4d hidden)",
            "2 LayerNorms",
            "nn.TransformerEncoderLayer",
            "12d^2 + 13d",
            "share of 12d^2",
        ],
        rows=rows,
        conclusion=(
            f"12d^2 + 13d matched nn.TransformerEncoderLayer's count for {5 - mismatches}/5 widths "
            f"(d=768: {int(metrics['total_d768']):,}, {metrics['share_12d2_d768']:.2%} of it in "
            f"the 12d^2 weight matrices); 12 such blocks plus embeddings give GPT-2 small's "
            f"{gpt2:,}"
        ),
        metrics=metrics,
        notes=[
            "attention = 4d^2 + 4d whatever the number of heads: heads split d, they do not add weights",
            f"GPT-2 small: {GPT2_LAYERS} x block + ({GPT2_VOCAB} + {GPT2_POSITIONS}) x {GPT2_D} "
            "embeddings + final LayerNorm; the output layer reuses the token embedding",
        ],
    )
