"""Temperature, top-k and top-p truncate and reshape a next-token distribution; samples follow the renormalised one."""

from __future__ import annotations

import math

from dlprep.demos.base import DemoResult, fmt

TOPIC = "llms"
TITLE = "Sampling: temperature, top-k and top-p (nucleus) on a 12-token distribution"

# a toy next-token distribution after "The cat sat on the": fixed logits, most likely first
WORDS = ["mat", "sofa", "floor", "bed", "chair", "rug", "roof", "table", "box", "fence", "moon", "idea"]
LOGITS = [3.2, 2.6, 2.1, 1.6, 1.2, 0.9, 0.5, 0.2, -0.3, -0.8, -1.5, -2.5]
SAMPLES = 50_000  # draws per setting for the empirical check

# (temperature, top-k, top-p); None = that filter is off
SETTINGS = [
    (1.0, None, None),
    (2.0, None, None),
    (0.5, None, None),
    (0.05, None, None),
    (1.0, 1, None),
    (1.0, 3, None),
    (1.0, None, 0.5),
    (1.0, None, 0.9),
    (2.0, None, 0.9),
    (0.7, 5, 0.9),
]


def key(t: float, k: int | None, p: float | None) -> str:
    return f"T{t:g}_k{k or 'all'}_p{p or 'all'}"


def run(device: str = "cpu") -> DemoResult:
    import torch

    if device == "mps":
        device = "cpu"  # MPS has no float64; a 12-token vocabulary is cheap on a CPU
    torch.manual_seed(0)
    gen = torch.Generator(device=device).manual_seed(0)
    logits = torch.tensor(LOGITS, dtype=torch.float64, device=device)
    vocab = logits.numel()
    base = logits.softmax(-1)  # T = 1, nothing removed

    def truncate(t, k, p):
        """Temperature, then top-k, then top-p on what top-k left (the order samplers such as
        Hugging Face's apply them); returns the renormalised distribution."""
        z = logits / t
        if k is not None:
            kth = z.topk(k).values[-1]
            z = z.masked_fill(z < kth, float("-inf"))
        if p is not None:
            probs = z.softmax(-1)
            sorted_probs, order = probs.sort(descending=True)
            before = sorted_probs.cumsum(-1) - sorted_probs  # mass of the tokens ranked above
            # nucleus: the smallest top set whose mass reaches p, i.e. keep a token while the
            # mass before it is still below p
            drop = torch.zeros(vocab, dtype=torch.bool, device=device)
            drop[order] = before >= p
            z = z.masked_fill(drop, float("-inf"))
        return z.softmax(-1)

    rows = []
    metrics: dict[str, float] = {}
    for t, k, p in SETTINGS:
        probs = truncate(t, k, p)
        kept = probs > 0
        n_kept = int(kept.sum().item())
        entropy = -(probs[kept] * probs[kept].log()).sum().item()
        # renormalisation: at T = 1 the kept tokens keep their ratios, scaled up by 1 / (kept mass)
        renorm_err = (probs[kept] - base[kept] / base[kept].sum()).abs().max().item() if t == 1.0 else 0.0
        draws = torch.multinomial(probs, SAMPLES, replacement=True, generator=gen)
        freq = torch.bincount(draws, minlength=vocab).double() / SAMPLES
        tv = 0.5 * (freq - probs).abs().sum().item()
        outside = int((~kept[draws]).sum().item())
        name = key(t, k, p)
        metrics[f"kept_{name}"] = float(n_kept)
        metrics[f"sum_{name}"] = probs.sum().item()
        metrics[f"top_prob_{name}"] = probs.max().item()
        metrics[f"entropy_{name}"] = entropy
        metrics[f"tv_{name}"] = tv
        metrics[f"outside_{name}"] = float(outside)
        metrics[f"top_freq_{name}"] = freq.max().item()
        if t == 1.0:
            metrics[f"renorm_err_{name}"] = renorm_err
        rows.append(
            [
                f"{t:g}",
                k or "-",
                p or "-",
                n_kept,
                f"{probs.max().item():.3f}",
                f"{entropy:.2f}" if entropy >= 0.01 else fmt(entropy),
                fmt(tv),
                outside,
            ]
        )

    metrics["max_entropy"] = math.log(vocab)
    metrics["tv_bound"] = 0.5 * math.sqrt(vocab / SAMPLES)  # E[TV] <= this (Cauchy-Schwarz)
    m = metrics
    k3 = truncate(1.0, 3, None)
    p_alone = int((truncate(0.7, None, 0.9) > 0).sum().item())
    metrics["kept_T0.7_p0.9_without_k"] = float(p_alone)
    full, nucleus, both = key(1.0, None, None), key(1.0, None, 0.9), key(0.7, 5, 0.9)
    worst_tv = max(v for n, v in m.items() if n.startswith("tv_") and n != "tv_bound")
    return DemoResult(
        columns=["T", "top-k", "top-p", "kept", "p(top)", "entropy", "TV(samples, target)", "outside"],
        rows=rows,
        conclusion=(
            f"top-p 0.9 keeps {m[f'kept_{nucleus}']:.0f} of {vocab} tokens at T = 1 but "
            f"{m[f'kept_{key(2.0, None, 0.9)}']:.0f} at T = 2; top-k 5 then top-p 0.9 at T = 0.7 keeps "
            f"{m[f'kept_{both}']:.0f}; entropy falls from {m[f'entropy_{key(2.0, None, None)}']:.2f} "
            f"(T = 2) to {m[f'entropy_{full}']:.2f} (T = 1) to {m[f'entropy_{key(0.05, None, None)}']:.0e} "
            f"(T = 0.05, p(top) = {m[f'top_prob_{key(0.05, None, None)}']:.6f}, i.e. greedy); "
            f"{SAMPLES:,} draws per row match each truncated distribution to TV <= {worst_tv:.3f} "
            "and never pick a removed token"
        ),
        metrics=metrics,
        notes=[
            "tokens, most likely first: " + ", ".join(WORDS) + "; entropy in nats (uniform over 12 = "
            f"{math.log(vocab):.2f}); 'outside' counts draws of removed tokens",
            "top-3 at T = 1 renormalises "
            + ", ".join(f"{WORDS[i]} {base[i].item():.3f}" for i in range(3))
            + " to "
            + ", ".join(f"{k3[i].item():.3f}" for i in range(3))
            + " (each divided by their sum "
            + f"{base[:3].sum().item():.3f})",
            "top-p keeps the smallest most-likely set whose mass reaches p; after top-k it sees the "
            f"renormalised top-k mass: at T = 0.7 top-p 0.9 alone keeps {p_alone} tokens, top-k 5 first "
            f"leaves {m[f'kept_{both}']:.0f}",
        ],
    )
