"""Mixed-precision Adam needs 2 + 2 + 12 = 16 bytes per parameter; ZeRO stages 1-3 split more of it across N GPUs."""

from __future__ import annotations

from dlprep.demos.base import DemoResult

TOPIC = "distributed"
TITLE = "ZeRO memory: 16 bytes per parameter for mixed-precision Adam, and what stages 1, 2, 3 partition"

PSI = 7.5e9  # parameters: the ZeRO paper's example model
GPU_COUNTS = (8, 64)


def run(device: str = "cpu") -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(0)
    # count the bytes per parameter of a mixed-precision Adam setup on a small model
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device).half()  # fp16 weights
    n_params = sum(p.numel() for p in model.parameters())
    master = [p.detach().float().clone() for p in model.parameters()]  # fp32 copy the optimizer updates

    x = torch.randn(32, 64, device=device).half()
    model(x).float().pow(2).mean().backward()  # fp16 gradients on the fp16 weights
    # Adam's state, as torch.optim.Adam allocates it on its first step (the tests check this):
    # exp_avg and exp_avg_sq, zeros shaped and typed like the fp32 parameters, plus a scalar step count.
    # (torch.optim itself is avoided only because its first use imports torch._dynamo, about a second.)
    adam_state = [
        {"step": torch.tensor(0.0), "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)} for p in master
    ]

    def nbytes(tensors):
        return sum(t.numel() * t.element_size() for t in tensors)

    per_param = {
        "fp16 parameters": nbytes(model.parameters()) / n_params,
        "fp16 gradients": nbytes(p.grad for p in model.parameters()) / n_params,
        "fp32 master weights": nbytes(master) / n_params,
        # skip Adam's scalar 'step' counters: one number per tensor, not per parameter
        "Adam m and v (fp32)": nbytes(t for state in adam_state for t in state.values() if t.numel() > 1) / n_params,
    }
    params_b = per_param["fp16 parameters"]
    grads_b = per_param["fp16 gradients"]
    k = per_param["fp32 master weights"] + per_param["Adam m and v (fp32)"]  # the paper's K
    total_b = params_b + grads_b + k

    def per_gpu(stage: int, n: int) -> float:
        """Bytes per GPU for model states (the ZeRO paper's formulas)."""
        if stage == 0:  # plain data parallel: every GPU holds everything
            return (params_b + grads_b + k) * PSI
        if stage == 1:  # optimizer states partitioned
            return (params_b + grads_b) * PSI + k * PSI / n
        if stage == 2:  # + gradients partitioned
            return params_b * PSI + (grads_b + k) * PSI / n
        return (params_b + grads_b + k) * PSI / n  # stage 3: + parameters partitioned

    def gb(x: float) -> str:
        return f"{x / 1e9:.3g} GB"

    rows = [
        ["fp16 parameters", f"{params_b:g} bytes/param", "-", "-"],
        ["fp16 gradients", f"{grads_b:g} bytes/param", "-", "-"],
        [
            "optimizer states K",
            f"{per_param['fp32 master weights']:g} (fp32 master) + {per_param['Adam m and v (fp32)']:g} "
            f"(Adam m, v) = {k:g} bytes/param",
            "-",
            "-",
        ],
    ]
    labels = {
        0: ("data parallel, nothing partitioned", "(2 + 2 + K) P"),
        1: ("ZeRO-1: optimizer states partitioned", "2P + 2P + K P / N"),
        2: ("ZeRO-2: + gradients", "2P + (2 + K) P / N"),
        3: ("ZeRO-3: + parameters", "(2 + 2 + K) P / N"),
    }
    metrics: dict[str, float] = {
        "params_bytes_per_param": params_b,
        "grads_bytes_per_param": grads_b,
        "optimizer_bytes_per_param": k,
        "total_bytes_per_param": total_b,
        "psi": PSI,
    }
    for stage, (label, formula) in labels.items():
        rows.append([label, formula, *[gb(per_gpu(stage, n)) for n in GPU_COUNTS]])
        for n in GPU_COUNTS:
            metrics[f"stage{stage}_bytes_n{n}"] = per_gpu(stage, n)

    m = metrics
    return DemoResult(
        columns=["model states", "bytes (P parameters)", *[f"per GPU, P = 7.5B, N = {n}" for n in GPU_COUNTS]],
        rows=rows,
        conclusion=(
            f"counted {params_b:g} + {grads_b:g} + {k:g} = {total_b:g} bytes per parameter, so a 7.5B "
            f"model needs {gb(m['stage0_bytes_n64'])} per GPU in plain data parallelism; on 64 GPUs "
            f"ZeRO-1 cuts that to {gb(m['stage1_bytes_n64'])}, ZeRO-2 to {gb(m['stage2_bytes_n64'])} and "
            f"ZeRO-3 to {gb(m['stage3_bytes_n64'])} ({total_b:g} x P / N)"
        ),
        metrics=metrics,
        notes=[
            f"bytes per parameter counted from the tensors of a {n_params:,}-parameter model (fp16 weights and grads, "
            "fp32 master copy, Adam's exp_avg and exp_avg_sq); activations, buffers and fragmentation "
            "come on top",
            "stages 1 and 2 communicate as much as plain data parallelism; stage 3 about 1.5x, "
            "because parameters must be gathered for the forward and backward passes",
        ],
    )
