"""The PyTorch facts that drills in questions/drills/ state or rely on.

Some drills check the user's code against a float64 reference written out in
the drill's checks instead of calling torch.optim there (its first use imports
torch._dynamo, which takes seconds on every check run). These tests pin each
such reference to torch itself, and check the conventions the drills' task
texts state (mask polarity, fully masked rows, defaults).
"""

import inspect
import math

import pytest
import yaml

from dlprep.paths import bundled_bank_dir

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _drill(drill_id):
    return yaml.safe_load((bundled_bank_dir() / "drills" / f"{drill_id}.yaml").read_text(encoding="utf-8"))


def _checks_namespace(drill_id):
    namespace = {"__name__": f"drill_checks_{drill_id.replace('-', '_')}"}
    exec(compile(_drill(drill_id)["checks"], f"<checks of {drill_id}>", "exec"), namespace)
    return namespace


def _tensors(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes]


def _torch_run(opt_class, init, grads, lrs=None, **kw):
    params = [x.clone().requires_grad_() for x in init]
    opt = opt_class(params, **kw)
    for t, step_grads in enumerate(grads):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[t]
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else g.clone()
        opt.step()
    return [p.detach() for p in params]


def _grads(shapes, steps, seed, none_until=None):
    """grads[t][i]; parameter `none_until[0]` has no grad before step none_until[1]."""
    out = [_tensors(shapes, seed + t) for t in range(steps)]
    if none_until is not None:
        i, until = none_until
        for t in range(until):
            out[t][i] = None
    return out


ADAMW_CASES = [
    {"lr": 0.1, "weight_decay": 0.0},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    {"lr": 0.5},
    {"lr": 1.0, "weight_decay": 0.0},
]


@pytest.mark.parametrize("kw", ADAMW_CASES)
def test_adamw_drill_reference_equals_torch_adamw(kw):
    reference = _checks_namespace("adamw-step")["reference"]
    shapes = [(3, 4), (5,), (2, 2, 2)]
    init = _tensors(shapes, 0)
    grads = _grads(shapes, 6, 10, none_until=(1, 2))
    grads[3][2] = grads[3][2] * 1e-8  # tiny gradients, where eps placement matters
    want = _torch_run(torch.optim.AdamW, init, grads, **kw)
    got = reference(init, grads, **kw)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, atol=1e-14, rtol=1e-13)


def test_adamw_drill_defaults_are_torch_defaults():
    namespace = {}
    exec(_drill("adamw-step")["starter"], namespace)
    ours = inspect.signature(namespace["AdamW"].__init__).parameters
    theirs = inspect.signature(torch.optim.AdamW.__init__).parameters
    for name in ("lr", "betas", "eps", "weight_decay"):
        assert ours[name].default == theirs[name].default, name
    assert theirs["weight_decay"].default == 0.01
    assert inspect.signature(torch.optim.Adam.__init__).parameters["weight_decay"].default == 0


SGD_CASES = [
    ({"lr": 0.1}, None),
    ({"lr": 0.05, "momentum": 0.9}, None),
    ({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}, None),
    ({"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True}, None),
    ({"lr": 0.1, "momentum": 0.9}, [0.1, 0.1, 0.01, 0.01, 0.01]),
]


@pytest.mark.parametrize(("kw", "lrs"), SGD_CASES)
def test_sgd_drill_reference_equals_torch_sgd(kw, lrs):
    reference = _checks_namespace("sgd-momentum")["reference"]
    shapes = [(4,), (2, 3)]
    init = _tensors(shapes, 1)
    grads = _grads(shapes, 5, 20, none_until=(0, 2))
    want = _torch_run(torch.optim.SGD, init, grads, lrs=lrs, **kw)
    got = reference(init, grads, lrs, **kw)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, atol=1e-14, rtol=1e-13)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_debug_loop_drill_optimizer_equals_torch_sgd(set_to_none):
    """The training-loop drill hands the user's loop a written-out SGD; it must train exactly like torch.optim.SGD,
    including a parameter without a gradient for the first steps and zero_grad() either way."""
    sgd = _checks_namespace("debug-training-loop")["_SGD"]
    shapes = [(4,), (2, 3)]
    init = _tensors(shapes, 2)
    grads = _grads(shapes, 6, 40, none_until=(1, 3))
    runs = []
    for make in (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: sgd(ps, lr=0.1, momentum=0.9)):
        params = [x.clone().requires_grad_() for x in init]
        opt = make(params)
        for step_grads in grads:
            opt.zero_grad(set_to_none=set_to_none)
            for p, g in zip(params, step_grads, strict=True):
                if g is not None:
                    p.grad = g.clone() if p.grad is None else p.grad.add_(g)
            opt.step()
        runs.append([p.detach() for p in params])
    for g, w in zip(runs[1], runs[0], strict=True):
        torch.testing.assert_close(g, w, atol=1e-14, rtol=1e-13)


def test_sgd_nesterov_needs_momentum_and_zero_dampening():
    p = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError):
        torch.optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)


@pytest.mark.parametrize(("peak", "w", "n", "min_lr", "start"), [(1.0, 5, 20, 0.1, 0.01), (3e-4, 10, 100, 3e-5, 3e-6)])
def test_warmup_cosine_drill_reference_equals_sequential_lr_until_the_end(peak, w, n, min_lr, start):
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    reference = _checks_namespace("warmup-cosine-schedule")["reference"]
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak)
    sched = SequentialLR(
        opt,
        [LinearLR(opt, start_factor=start / peak, total_iters=w), CosineAnnealingLR(opt, T_max=n - w, eta_min=min_lr)],
        milestones=[w],
    )
    torch_lrs = []
    for _ in range(n + 4):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    for s in range(n + 1):
        assert math.isclose(reference(s, peak, w, n, min_lr, start), torch_lrs[s], rel_tol=1e-12), s
    # past N the drill stays at min_lr; CosineAnnealingLR climbs back up
    assert reference(n + 3, peak, w, n, min_lr, start) == min_lr
    assert torch_lrs[n + 3] > min_lr * (1 + 1e-6)


def test_linear_lr_refuses_start_factor_zero():
    from torch.optim.lr_scheduler import LinearLR

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError):
        LinearLR(opt, start_factor=0.0)


def test_sdpa_conventions_stated_by_the_attention_drills():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(1, 1, 3, 4, generator=g, dtype=torch.float64)
    k = torch.randn(1, 1, 5, 4, generator=g, dtype=torch.float64)
    v = torch.randn(1, 1, 5, 4, generator=g, dtype=torch.float64)
    scores = q @ k.transpose(-1, -2) / 2.0
    # bool attn_mask: True = attend
    keep = torch.tensor([[True, True, False, True, False]])
    want = torch.softmax(scores.masked_fill(~keep, float("-inf")), -1) @ v
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=keep), want)
    # is_causal with T_q=3 < T_k=5 is aligned top-left: query i sees keys 0..i
    top_left = torch.ones(3, 5, dtype=torch.bool).tril()
    want = torch.softmax(scores.masked_fill(~top_left, float("-inf")), -1) @ v
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, is_causal=True), want)
    # a fully masked row comes out as zeros (float64 and float32)
    nothing = torch.zeros(1, 5, dtype=torch.bool)
    for dtype in (torch.float64, torch.float32):
        out = F.scaled_dot_product_attention(q.to(dtype), k.to(dtype), v.to(dtype), attn_mask=nothing)
        assert torch.equal(out, torch.zeros_like(out))


def test_multihead_attention_masks_use_true_for_blocked():
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(1, 4, 8)
    _, w = mha(x, x, x, key_padding_mask=torch.tensor([[False, False, True, True]]))
    assert torch.all(w[0, :, 2:] == 0)
    _, w = mha(x, x, x, attn_mask=torch.ones(4, 4, dtype=torch.bool).triu(1))
    assert torch.all(w[0].triu(1) == 0)
    shapes = {n: tuple(p.shape) for n, p in mha.named_parameters()}
    assert shapes == {
        "in_proj_weight": (24, 8),
        "in_proj_bias": (24,),
        "out_proj.weight": (8, 8),
        "out_proj.bias": (8,),
    }


def test_clip_grad_norm_conventions_stated_by_the_drill():
    def param(values):
        p = torch.zeros(len(values), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(values, dtype=torch.float64)
        return p

    at_max = param([3.0, 4.0])  # norm exactly max_norm: still scaled by 5 / (5 + 1e-6)
    assert torch.nn.utils.clip_grad_norm_([at_max], 5.0).item() == 5.0
    torch.testing.assert_close(at_max.grad, torch.tensor([3.0, 4.0], dtype=torch.float64) * 5 / (5 + 1e-6))
    finite, infinite = param([2.0, 3.0]), param([math.inf, 1.0])
    total = torch.nn.utils.clip_grad_norm_([infinite, finite], 1.0)  # error_if_nonfinite=False
    assert math.isinf(total.item())
    assert torch.equal(finite.grad, torch.zeros(2, dtype=torch.float64))
    assert math.isnan(infinite.grad[0].item()) and infinite.grad[1].item() == 0.0
    none = torch.zeros(2, requires_grad=True)
    assert torch.nn.utils.clip_grad_norm_([none], 1.0).item() == 0.0
