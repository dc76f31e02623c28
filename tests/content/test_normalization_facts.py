"""Numeric checks for the claims made in questions/normalization.yaml.

Every test recomputes a number or a formula from the cards independently
(numpy, or torch where the claim is about PyTorch's behaviour).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


# norm-axes-bn-ln-in-gn: which axes each layer normalizes over.
def test_batchnorm_layernorm_instancenorm_axes():
    torch.manual_seed(0)
    x = torch.randn(8, 4, 5, 5, dtype=torch.float64) * 3 + 1
    bn = nn.BatchNorm2d(4).double().train()
    y = bn(x)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(4, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(4, dtype=torch.float64), atol=1e-4)

    ln = nn.LayerNorm([4, 5, 5], elementwise_affine=False).double()
    y = ln(x)
    assert torch.allclose(y.mean(dim=(1, 2, 3)), torch.zeros(8, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(y.var(dim=(1, 2, 3), unbiased=False), torch.ones(8, dtype=torch.float64), atol=1e-4)

    inorm = nn.InstanceNorm2d(4).double()
    y = inorm(x)
    assert torch.allclose(y.mean(dim=(2, 3)), torch.zeros(8, 4, dtype=torch.float64), atol=1e-10)

    # the counts quoted in the card for N=32, C=64, H=W=56 and G=32
    N, C, H, W, G = 32, 64, 56, 56, 32
    assert N * H * W == 100_352 and N * C == 2_048 and H * W == 3_136
    assert N * G == 1_024 and (C // G) * H * W == 6_272


# norm-axes-bn-ln-in-gn, groupnorm-for-small-batch-detection, instancenorm-style-transfer:
# GroupNorm with G = 1 is LayerNorm over (C, H, W), with G = C it is InstanceNorm;
# affine parameters are per channel; InstanceNorm2d has none by default.
def test_groupnorm_limits_and_parameter_counts():
    torch.manual_seed(1)
    x = torch.randn(3, 8, 6, 6, dtype=torch.float64)
    gn1 = nn.GroupNorm(1, 8, affine=False).double()
    ln = nn.LayerNorm([8, 6, 6], elementwise_affine=False).double()
    assert torch.allclose(gn1(x), ln(x), atol=1e-10)
    gnc = nn.GroupNorm(8, 8, affine=False).double()
    assert torch.allclose(gnc(x), nn.InstanceNorm2d(8).double()(x), atol=1e-10)

    gn = nn.GroupNorm(32, 256)
    assert [p.shape for p in gn.parameters()] == [torch.Size([256]), torch.Size([256])]
    assert sum(p.numel() for p in gn.parameters()) == 512
    assert list(gn.buffers()) == []

    inorm = nn.InstanceNorm2d(16)
    assert inorm.affine is False and inorm.track_running_stats is False
    assert list(inorm.parameters()) == [] and list(inorm.buffers()) == []
    with pytest.raises(ValueError):
        inorm(torch.randn(2, 16, 1, 1))  # one spatial element per channel

    big_ln = nn.LayerNorm([64, 7, 7])
    assert sum(p.numel() for p in big_ln.parameters()) == 2 * 64 * 7 * 7


# rmsnorm-vs-layernorm: equal on zero-mean input, scale invariant, not shift invariant,
# nn.RMSNorm's default eps is finfo(dtype).eps.
def test_rmsnorm_equals_layernorm_on_zero_mean_input_and_invariances():
    torch.manual_seed(2)
    d = 16
    x = torch.randn(5, d, dtype=torch.float64)
    x0 = x - x.mean(-1, keepdim=True)
    eps = 1e-6

    def rms(v):
        return v / torch.sqrt((v**2).mean(-1, keepdim=True) + eps)

    ln = nn.LayerNorm(d, eps=eps, elementwise_affine=False).double()
    assert torch.allclose(rms(x0), ln(x0), atol=1e-10)
    assert not torch.allclose(rms(x), ln(x), atol=1e-3)
    assert torch.allclose(rms(7.0 * x), rms(x), atol=1e-6)
    assert not torch.allclose(rms(x + 3.0), rms(x), atol=1e-3)
    assert torch.allclose(ln(x + 3.0), ln(x), atol=1e-8)

    if hasattr(nn, "RMSNorm"):
        layer = nn.RMSNorm(d).double()
        assert layer.eps is None
        assert sum(p.numel() for p in layer.parameters()) == d
        small = torch.randn(4, d, dtype=torch.float64) * 1e-5
        tiny_eps = torch.finfo(torch.float64).eps
        ref = small / torch.sqrt((small**2).mean(-1, keepdim=True) + tiny_eps)
        assert torch.allclose(layer(small), ref, atol=1e-10)


# bn-train-vs-eval-running-stats: momentum 0.1, unbiased running var, 0.2 and 1.3 example,
# eval mode uses running stats.
def test_batchnorm_running_stats_update_and_eval_uses_them():
    bn = nn.BatchNorm1d(1).double()
    assert bn.momentum == 0.1 and bn.eps == 1e-5
    # batch with mean 2.0 and unbiased variance 4.0: 2 +- sqrt(3), four values
    x = 2.0 + 3.0**0.5 * torch.tensor([[-1.0], [1.0], [-1.0], [1.0]], dtype=torch.float64)
    assert x.mean().item() == pytest.approx(2.0) and x.var(unbiased=True).item() == pytest.approx(4.0)
    bn.train()
    y = bn(x)
    assert bn.running_mean.item() == pytest.approx(0.2)
    assert bn.running_var.item() == pytest.approx(1.3)
    biased = x.var(unbiased=False)
    assert torch.allclose(y, (x - 2.0) / torch.sqrt(biased + 1e-5))

    bn.eval()
    z = torch.tensor([[1.0]], dtype=torch.float64)
    assert bn(z).item() == pytest.approx((1.0 - 0.2) / (1.3 + 1e-5) ** 0.5)
    assert 0.1 * 0.9**5 == pytest.approx(0.059049)  # weight of a batch from 5 steps ago


# bn-momentum-convention-porting: Keras momentum 0.99 == PyTorch momentum 0.01;
# PyTorch momentum 0.99 tracks the last batch.
def test_keras_momentum_099_equals_pytorch_001_and_099_tracks_last_batch():
    rng = np.random.default_rng(3)
    batches = [rng.normal(loc=rng.uniform(-2, 2), size=(16, 1)) for _ in range(30)]

    keras_moving = 0.0
    for b in batches:
        keras_moving = 0.99 * keras_moving + (1 - 0.99) * b.mean()

    bn = nn.BatchNorm1d(1, momentum=0.01).double().train()
    for b in batches:
        bn(torch.tensor(b))
    assert bn.running_mean.item() == pytest.approx(keras_moving, rel=1e-10)

    bn_wrong = nn.BatchNorm1d(1, momentum=0.99).double().train()
    for b in batches:
        bn_wrong(torch.tensor(b))
    last = batches[-1].mean()
    assert abs(bn_wrong.running_mean.item() - last) < 0.05 * (1 + abs(last))
    assert abs(bn.running_mean.item() - last) > abs(bn_wrong.running_mean.item() - last)


# bn-small-batch-failure / bn-backward-derivation: a single sample per channel is rejected
# in training mode; with spatial dims it runs and each image is normalized by itself.
def test_batchnorm_single_sample_behaviour():
    torch.manual_seed(12)
    bn = nn.BatchNorm1d(3).train()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(torch.randn(1, 3))
    two = nn.BatchNorm1d(5).train()(torch.randn(2, 5) * 10 + 3)
    assert torch.allclose(two.abs(), torch.ones(2, 5), atol=1e-3)  # every feature -> +-1
    bn2d = nn.BatchNorm2d(3).train()
    x = torch.randn(1, 3, 4, 4)
    inorm = nn.InstanceNorm2d(3)
    assert torch.allclose(bn2d(x), inorm(x), atol=1e-5)


# syncbatchnorm-multi-gpu: combining per-shard sums gives the full-batch statistics.
def test_sync_batchnorm_statistics_from_shard_sums_match_full_batch():
    torch.manual_seed(4)
    x = torch.randn(16, 3, 4, 4, dtype=torch.float64) * 2 + 0.5
    shards = x.chunk(8)  # 8 "GPUs", 2 images each
    count = sum(s.shape[0] * s.shape[2] * s.shape[3] for s in shards)
    total = sum(s.sum(dim=(0, 2, 3)) for s in shards)
    total_sq = sum((s**2).sum(dim=(0, 2, 3)) for s in shards)
    mean = total / count
    var = total_sq / count - mean**2
    synced = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + 1e-5)
    full = nn.BatchNorm2d(3).double().train()(x)
    assert torch.allclose(synced, full, atol=1e-10)
    per_gpu = torch.cat([nn.BatchNorm2d(3).double().train()(s) for s in shards])
    assert not torch.allclose(per_gpu, full, atol=1e-2)


# bn-backward-derivation: closed-form input gradient matches autograd; it sums to zero
# and is orthogonal to x_hat; eval-mode gradient is gamma * g / sqrt(var + eps).
def test_batchnorm_input_gradient_formula_matches_autograd():
    torch.manual_seed(5)
    m, eps = 12, 1e-5
    x = torch.randn(m, 1, dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor([1.7], dtype=torch.float64)
    bn = nn.BatchNorm1d(1, eps=eps).double().train()
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.fill_(-0.3)
    g = torch.randn(m, 1, dtype=torch.float64)
    y = bn(x)
    (dx,) = torch.autograd.grad(y, x, grad_outputs=g)

    xd = x.detach()
    mu = xd.mean()
    var = xd.var(unbiased=False)
    x_hat = (xd - mu) / torch.sqrt(var + eps)
    formula = gamma / (m * torch.sqrt(var + eps)) * (m * g - g.sum() - x_hat * (g * x_hat).sum())
    assert torch.allclose(dx, formula, atol=1e-12)
    assert abs(dx.sum().item()) < 1e-12
    # orthogonal to x_hat up to eps: the residual is O(eps / var) relative to the gradient
    assert abs((dx * x_hat).sum().item()) < 1e-3 * dx.norm().item()
    x0 = xd.clone().requires_grad_(True)  # eps = 0, written out by hand
    y0 = (x0 - x0.mean()) / torch.sqrt(x0.var(unbiased=False))
    (dx0,) = torch.autograd.grad(y0, x0, grad_outputs=g)
    x_hat0 = (xd - mu) / torch.sqrt(var)
    assert abs((dx0 * x_hat0).sum().item()) < 1e-10

    bn.eval()
    x2 = xd.clone().requires_grad_(True)
    (dx_eval,) = torch.autograd.grad(bn(x2), x2, grad_outputs=g)
    assert torch.allclose(dx_eval, gamma * g / torch.sqrt(bn.running_var + eps), atol=1e-12)


# bn-fold-into-conv: folded conv equals conv + eval-mode BN.
def test_batchnorm_folded_into_conv_matches_eval_output():
    torch.manual_seed(6)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=True).double()
    bn = nn.BatchNorm2d(5).double()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    bn.eval()
    fused = nn.Conv2d(3, 5, 3, padding=1, bias=True).double()
    with torch.no_grad():
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused.weight.copy_(conv.weight * s.view(-1, 1, 1, 1))
        fused.bias.copy_((conv.bias - bn.running_mean) * s + bn.bias)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    assert torch.allclose(fused(x), bn(conv(x)), atol=1e-10)


# conv-bias-before-bn-redundant: the bias cancels in training mode and gets zero gradient.
def test_conv_bias_is_cancelled_by_training_mode_batchnorm():
    torch.manual_seed(7)
    conv = nn.Conv2d(3, 4, 3).double()
    bn = nn.BatchNorm2d(4).double().train()
    x = torch.randn(6, 3, 7, 7, dtype=torch.float64)
    out = bn(conv(x))
    (out * torch.randn_like(out)).sum().backward()
    assert conv.bias.grad.abs().max().item() < 1e-10
    conv_nobias = nn.Conv2d(3, 4, 3, bias=False).double()
    with torch.no_grad():
        conv_nobias.weight.copy_(conv.weight)
    bn2 = nn.BatchNorm2d(4).double().train()
    assert torch.allclose(bn2(conv_nobias(x)), out, atol=1e-10)


# bn-scale-invariance-weight-decay: output unchanged under W -> aW, gradient scales by 1/a
# and is orthogonal to W (per output channel).
def test_batchnorm_scale_invariance_gradient_scaling_and_orthogonality():
    torch.manual_seed(8)
    x = torch.randn(32, 6, dtype=torch.float64)
    target = torch.randn(32, 4, dtype=torch.float64)
    W = torch.randn(4, 6, dtype=torch.float64)

    def loss_and_grad(weight):
        weight = weight.clone().requires_grad_(True)
        z = x @ weight.T
        y = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-12)
        loss = ((y - target) ** 2).mean()
        (g,) = torch.autograd.grad(loss, weight)
        return loss.item(), g

    l1, g1 = loss_and_grad(W)
    l10, g10 = loss_and_grad(10 * W)
    assert l10 == pytest.approx(l1, rel=1e-9)
    assert torch.allclose(g10, g1 / 10, atol=1e-12)
    assert torch.allclose((W * g1).sum(dim=1), torch.zeros(4, dtype=torch.float64), atol=1e-10)
    lr = 0.1
    W_new = W - lr * g1
    assert (W_new.norm() ** 2).item() == pytest.approx((W.norm() ** 2 + lr**2 * g1.norm() ** 2).item())


# bn-batch-dependence-leakage / why-transformers-use-layernorm / layernorm-shapes-pytorch:
# train-mode BN output depends on batch companions, LayerNorm's does not.
def test_batchnorm_output_depends_on_batch_companions_layernorm_does_not():
    torch.manual_seed(9)
    sample = torch.randn(1, 8)
    batch_a = torch.cat([sample, torch.randn(3, 8)])
    batch_b = torch.cat([sample, torch.randn(3, 8) + 2])
    bn = nn.BatchNorm1d(8).train()
    assert not torch.allclose(bn(batch_a)[0], bn(batch_b)[0], atol=1e-3)
    bn.eval()
    assert torch.allclose(bn(batch_a)[0], bn(batch_b)[0])
    ln = nn.LayerNorm(8)
    assert torch.allclose(ln(batch_a)[0], ln(batch_b)[0])
    assert torch.allclose(ln(batch_a)[0], ln(sample)[0])


# layernorm-shapes-pytorch: biased variance, 2d parameters (1,536 for d = 768),
# unbiased variance gives a result off by sqrt((d - 1) / d) (~0.07% at d = 768).
def test_layernorm_matches_manual_biased_version_and_parameter_count():
    torch.manual_seed(10)
    d = 768
    ln = nn.LayerNorm(d).double()
    assert ln.eps == 1e-5
    assert sum(p.numel() for p in ln.parameters()) == 1_536
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-0.1, 0.1)
    x = torch.randn(2, 3, d, dtype=torch.float64)
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=False)
    ours = (x - mu) / torch.sqrt(var + 1e-5) * ln.weight + ln.bias
    assert torch.allclose(ours, ln(x), atol=1e-10)

    var_u = x.var(-1, keepdim=True)  # torch default: unbiased
    xhat_b = (x - mu) / torch.sqrt(var + 1e-5)
    xhat_u = (x - mu) / torch.sqrt(var_u + 1e-5)
    ratio = (xhat_u / xhat_b).mean().item()
    assert ratio == pytest.approx(((d - 1) / d) ** 0.5, rel=1e-5)
    assert 1 - ratio == pytest.approx(0.00065, abs=0.00005)
    assert not torch.allclose(xhat_u, xhat_b, rtol=1e-5, atol=1e-8)


# bn-train-eval-gap-debug / bn-train-vs-eval-running-stats: momentum=None gives a cumulative
# average; bn-frozen-finetuning: requires_grad=False does not stop running-stat updates.
def test_momentum_none_cumulative_average_and_requires_grad_does_not_freeze_stats():
    torch.manual_seed(11)
    batches = [torch.randn(10, 2) * 2 + i for i in range(5)]
    bn = nn.BatchNorm1d(2, momentum=None).train()
    for b in batches:
        bn(b)
    expected = torch.stack([b.mean(0) for b in batches]).mean(0)
    assert torch.allclose(bn.running_mean, expected, atol=1e-6)
    assert bn.num_batches_tracked.item() == 5

    frozen_params = nn.BatchNorm1d(2).train()
    for p in frozen_params.parameters():
        p.requires_grad_(False)
    before = frozen_params.running_mean.clone()
    frozen_params(batches[-1])
    assert not torch.allclose(before, frozen_params.running_mean)

    really_frozen = nn.BatchNorm1d(2).eval()
    before = really_frozen.running_mean.clone()
    really_frozen(batches[-1])
    assert torch.equal(before, really_frozen.running_mean)


# bn-train-vs-eval-running-stats: with momentum 0.1 the last 22 batches carry ~90% of the weight
# (effective memory ~ 1 / momentum = 10 batches).
def test_running_mean_weight_of_recent_batches():
    bn = nn.BatchNorm1d(1).double().train()  # running_mean starts at 0
    for _ in range(22):
        bn(torch.tensor([[0.0], [2.0]], dtype=torch.float64))  # batch mean 1.0
    assert bn.running_mean.item() == pytest.approx(1 - 0.9**22)
    assert 0.89 < bn.running_mean.item() < 0.91


# norm-axes-bn-ln-in-gn: by default only BatchNorm switches statistics between train and eval;
# InstanceNorm does too when built with track_running_stats=True; GroupNorm and LayerNorm never.
def test_which_norms_change_between_train_and_eval():
    torch.manual_seed(30)
    x = torch.randn(4, 8, 5, 5) * 3 + 2

    def differs(layer):
        layer.train()
        a = layer(x)
        layer.eval()
        return not torch.allclose(a, layer(x), atol=1e-4)

    assert differs(nn.BatchNorm2d(8))
    assert not differs(nn.InstanceNorm2d(8))
    assert differs(nn.InstanceNorm2d(8, track_running_stats=True))
    assert not differs(nn.GroupNorm(4, 8))
    assert not differs(nn.LayerNorm([8, 5, 5]))
    assert not differs(nn.RMSNorm([8, 5, 5]))
    gn, ln = nn.GroupNorm(4, 8), nn.LayerNorm(8)
    assert gn.affine and ln.elementwise_affine and ln.bias is not None and gn.eps == ln.eps == 1e-5


# syncbatchnorm-multi-gpu: combining per-rank (count, mean, biased var) with the law of total
# variance gives the full-batch statistics even for unequal counts; averaging variances does not.
# The backward needs only two global per-channel sums, sum(g) and sum(g * x_hat).
def test_syncbn_moment_combination_and_backward_from_two_global_sums():
    torch.manual_seed(31)
    x = torch.randn(11, 3, 4, 4, dtype=torch.float64) * 2 + 0.5
    shards = torch.split(x, [1, 2, 3, 5])  # unequal per-rank batches
    counts = torch.tensor([s.shape[0] * 16 for s in shards], dtype=torch.float64)
    means = torch.stack([s.mean(dim=(0, 2, 3)) for s in shards])
    vars_ = torch.stack([s.var(dim=(0, 2, 3), unbiased=False) for s in shards])
    N = counts.sum()
    m = (counts[:, None] * means).sum(0) / N
    var = (counts[:, None] * (vars_ + (means - m) ** 2)).sum(0) / N
    assert torch.allclose(m, x.mean(dim=(0, 2, 3)), atol=1e-12)
    assert torch.allclose(var, x.var(dim=(0, 2, 3), unbiased=False), atol=1e-12)
    assert not torch.allclose(vars_.mean(0), var, atol=1e-3)  # the red flag

    eps = 1e-5
    gamma = torch.tensor([0.7, 1.3, 2.0], dtype=torch.float64)
    bn = nn.BatchNorm2d(3, eps=eps).double().train()
    with torch.no_grad():
        bn.weight.copy_(gamma)
    xr = x.clone().requires_grad_(True)
    y = bn(xr)
    g = torch.randn_like(y)
    (dx_ref,) = torch.autograd.grad(y, xr, g)

    sigma = torch.sqrt(var + eps).view(1, -1, 1, 1)
    g_shards = torch.split(g, [1, 2, 3, 5])
    x_hat_shards = [(s - m.view(1, -1, 1, 1)) / sigma for s in shards]
    sum_g = sum(gs.sum(dim=(0, 2, 3)) for gs in g_shards)  # all-reduce #1
    sum_gx = sum((gs * xh).sum(dim=(0, 2, 3)) for gs, xh in zip(g_shards, x_hat_shards, strict=True))  # all-reduce #2
    dx_parts = [
        gamma.view(1, -1, 1, 1) / sigma * (gs - (sum_g / N).view(1, -1, 1, 1) - xh * (sum_gx / N).view(1, -1, 1, 1))
        for gs, xh in zip(g_shards, x_hat_shards, strict=True)
    ]
    assert torch.allclose(torch.cat(dx_parts), dx_ref, atol=1e-10)


# syncbatchnorm-multi-gpu follow-up: PyTorch's nn.SyncBatchNorm refuses CPU input in training
# once a process group exists (so a gloo-on-CPU test cannot exercise it); eval mode needs no sync.
def test_pytorch_syncbatchnorm_rejects_cpu_input_when_distributed(tmp_path):
    dist = torch.distributed
    if not dist.is_available() or dist.is_initialized():
        pytest.skip("needs torch.distributed and no existing process group")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        sbn = nn.SyncBatchNorm(3)
        x = torch.randn(4, 3, 5, 5)
        with pytest.raises(ValueError, match="expected input tensor to be on GPU"):
            sbn.train()(x)
        assert sbn.eval()(x).shape == x.shape
    finally:
        dist.destroy_process_group()


# pre-norm-vs-post-norm-placement: the LayerNorm Jacobian is (1/sigma)(I - 11^T/d - y y^T/d),
# and in a random pre-norm stack the residual stream's scale grows like sqrt(l): 1 -> ~7 after 48 blocks.
def test_layernorm_jacobian_and_prenorm_stream_growth():
    torch.manual_seed(32)
    d = 16
    u = torch.randn(d, dtype=torch.float64) * 3 + 1

    def ln(v):
        return (v - v.mean()) / v.std(unbiased=False)

    J = torch.autograd.functional.jacobian(ln, u)
    y = ln(u)
    sigma = u.std(unbiased=False)
    ones = torch.ones(d, 1, dtype=torch.float64)
    expected = (torch.eye(d, dtype=torch.float64) - ones @ ones.T / d - torch.outer(y, y) / d) / sigma
    assert torch.allclose(J, expected, atol=1e-12)

    d, L = 512, 48
    x = torch.randn(64, d, dtype=torch.float64)
    norm = nn.LayerNorm(d, elementwise_affine=False).double()
    scales = [x.std().item()]
    for _ in range(L):
        W = torch.randn(d, d, dtype=torch.float64) / d**0.5
        x = x + norm(x) @ W.T
        scales.append(x.std().item())
    assert scales[0] == pytest.approx(1.0, abs=0.05)
    assert scales[-1] == pytest.approx(7.0, rel=0.1)
    assert scales[12] == pytest.approx(13**0.5, rel=0.1)


# layernorm-shapes-pytorch: CPU autocast to bf16 does not keep layer_norm in fp32
# (the float32 rule quoted on the card is CUDA autocast's op list).
def test_cpu_autocast_runs_layer_norm_in_bf16():
    x = torch.randn(4, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = nn.functional.layer_norm(nn.Linear(8, 8)(x), (8,))
    assert y.dtype == torch.bfloat16


# bn-before-or-after-activation ----------------------------------------------------------------


def test_bn_before_relu_sets_the_active_fraction_and_cancels_the_bias_after_relu_does_not():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 16, 3, padding=1)
    bn = nn.BatchNorm2d(16).train()
    x = torch.rand(32, 3, 16, 16)  # [0, 1] images: not centred
    with torch.no_grad():
        with_bn = (bn(conv(x)) > 0).float().mean(dim=(0, 2, 3))
        without = (torch.relu(conv(x)) > 0).float().mean(dim=(0, 2, 3))
    assert with_bn.min() > 0.47 and with_bn.max() < 0.53  # "about 48-52%"
    assert without.min() < 0.04 and without.max() > 0.99  # "from 3% to over 99%"
    # beta is the ReLU's learned threshold: raising it raises the active fraction
    with torch.no_grad():
        bn.bias.fill_(0.5)
        assert (bn(conv(x)) > 0).float().mean() > 0.6
        bn.bias.zero_()
    # Conv -> BN -> ReLU: the conv bias cancels; Conv -> ReLU -> BN: it does not
    x = torch.randn(8, 3, 6, 6, dtype=torch.float64)
    conv = nn.Conv2d(3, 4, 3).double()
    bn = nn.BatchNorm2d(4).double().train()

    def both(bias_value):
        with torch.no_grad():
            conv.bias.fill_(bias_value)
            return torch.relu(bn(conv(x))), bn(torch.relu(conv(x)))

    before_a, after_a = both(0.0)
    before_b, after_b = both(0.7)
    assert torch.allclose(before_a, before_b, atol=1e-10)
    assert not torch.allclose(after_a, after_b, atol=1e-3)
    # BN after the ReLU gives the next layer zero-mean (signed) inputs instead of non-negative ones
    assert after_b.min() < 0 and torch.allclose(
        after_b.mean(dim=(0, 2, 3)), torch.zeros(4, dtype=torch.float64), atol=1e-10
    )


# bn-gamma-beta-purpose -------------------------------------------------------------------------


def test_gamma_beta_recover_the_identity_and_positive_gamma_passes_through_relu():
    torch.manual_seed(1)
    x = torch.randn(16, 3, 4, 4, dtype=torch.float64) * 2.5 + 1.0
    bn = nn.BatchNorm2d(3).double().train()
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False)
    with torch.no_grad():
        bn.weight.copy_(torch.sqrt(var + bn.eps))
        bn.bias.copy_(mean)
    assert torch.allclose(bn(x), x, atol=1e-12)
    # BN -> ReLU -> linear: a positive per-channel gamma can be moved into the next layer's weights
    z = torch.randn(10, 3, dtype=torch.float64)  # normalized values x_hat
    gamma = torch.tensor([0.5, 2.0, 3.0], dtype=torch.float64)
    beta = torch.tensor([0.1, -0.4, 0.2], dtype=torch.float64)
    w = torch.randn(5, 3, dtype=torch.float64)
    original = torch.relu(gamma * z + beta) @ w.T
    absorbed = torch.relu(z + beta / gamma) @ (w * gamma).T
    assert torch.allclose(original, absorbed)


def test_zero_init_gamma_makes_blocks_identity_and_only_gamma_learns_first():
    torch.manual_seed(2)
    branch_conv = nn.Conv2d(4, 4, 3, padding=1, bias=False).double()
    branch_bn = nn.BatchNorm2d(4).double().train()
    nn.init.zeros_(branch_bn.weight)  # zero-init of the last gamma
    x = torch.randn(8, 4, 5, 5, dtype=torch.float64)
    out = x + branch_bn(branch_conv(x))
    assert torch.allclose(out, x)  # the block starts as the identity
    loss = (out * torch.randn_like(out)).sum()
    loss.backward()
    assert torch.all(branch_conv.weight.grad == 0)  # nothing upstream of gamma learns on step one
    assert branch_bn.weight.grad.abs().min() > 0  # dL/dgamma = sum dL/dy * x_hat is nonzero
    # after one SGD step gamma is nonzero and the conv weights receive gradient
    with torch.no_grad():
        branch_bn.weight -= 0.1 * branch_bn.weight.grad
    branch_conv.weight.grad = None
    out = x + branch_bn(branch_conv(x))
    (out * torch.randn_like(out)).sum().backward()
    assert branch_conv.weight.grad.abs().max() > 0


# bn-epsilon-role-defaults ----------------------------------------------------------------------


def test_epsilon_defaults_constant_channels_and_porting_mismatch():
    assert nn.BatchNorm2d(3).eps == nn.LayerNorm(3).eps == nn.GroupNorm(1, 3).eps == nn.InstanceNorm2d(3).eps == 1e-5
    keras_default = 1e-3  # keras.layers.BatchNormalization(epsilon=0.001), from the Keras docs
    # a constant channel: eps turns 0 / 0 into beta
    bn = nn.BatchNorm2d(2).double().train()
    with torch.no_grad():
        bn.bias.fill_(0.3)
    x = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    x[:, 1] = 7.0
    assert torch.allclose(bn(x)[:, 1], torch.full((4, 3, 3), 0.3, dtype=torch.float64))
    # in float32 the mean's rounding error survives, amplified by at most 1 / sqrt(eps)
    assert torch.allclose(bn.float()(x.float())[:, 1], torch.full((4, 3, 3), 0.3), atol=1e-3)
    c = x[:, 1]
    assert torch.isnan((c - c.mean()) / c.var(unbiased=False).sqrt()).all()  # no eps: NaN
    # PyTorch (2.13) refuses eps <= 0 in training mode
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm2d(2, eps=0.0).train()(torch.randn(4, 2, 3, 3))
    # the gain is capped at 1 / sqrt(eps)
    assert 1 / np.sqrt(0 + 1e-5) == pytest.approx(316.2, abs=0.1)
    # output std is sqrt(var / (var + eps)): var = 1e-3 under the two defaults
    var = 1e-3
    assert np.sqrt(var / (var + 1e-5)) == pytest.approx(0.995, abs=0.001)
    assert np.sqrt(var / (var + keras_default)) == pytest.approx(0.71, abs=0.005)
    # porting Keras-trained statistics into PyTorch without changing eps: about 1.41x too large
    ported = {}
    for eps in (keras_default, 1e-5):
        layer = nn.BatchNorm1d(2, eps=eps).double().eval()
        with torch.no_grad():
            layer.running_var.copy_(torch.tensor([1e-3, 1.0], dtype=torch.float64))
        ported[eps] = layer(torch.tensor([[0.05, 1.0]], dtype=torch.float64))[0]
    ratio = ported[1e-5] / ported[keras_default]
    assert ratio[0].item() == pytest.approx(np.sqrt(2e-3 / 1.01e-3), rel=1e-9) == pytest.approx(1.41, abs=0.005)
    assert ratio[1].item() == pytest.approx(1.0, abs=0.001)  # variance near 1: barely changes


def test_epsilon_in_half_precision_and_overflowing_sums_of_squares():
    assert torch.tensor(1e-12, dtype=torch.float16).item() == 0.0
    eps16 = torch.tensor(1e-5, dtype=torch.float16).item()
    assert eps16 == pytest.approx(1.0014e-5, rel=1e-4)
    assert eps16 < torch.finfo(torch.float16).tiny == pytest.approx(6.1e-5, rel=0.01)  # subnormal
    assert torch.finfo(torch.float16).max == 65504
    torch.manual_seed(3)
    x = torch.randn(8, 2, 4, 4) * 10 + 300
    assert torch.isinf((x.half() ** 2).sum())  # a naive fp16 sum of squares overflows
    bn = nn.BatchNorm2d(2).train()
    y = bn(x.half())
    assert y.dtype == torch.float16 and torch.isfinite(y).all()
    assert torch.allclose(y.float(), nn.BatchNorm2d(2).train()(x), atol=0.05)


# weight-normalization-vs-batchnorm -------------------------------------------------------------


def test_weight_norm_parametrization_definition_and_defaults():
    import warnings

    from torch.nn.utils.parametrizations import weight_norm

    torch.manual_seed(4)
    layer = nn.Linear(5, 3).double()
    w0 = layer.weight.detach().clone()
    weight_norm(layer)
    g = layer.parametrizations.weight.original0
    v = layer.parametrizations.weight.original1
    assert g.shape == (3, 1) and v.shape == (3, 5)  # one g per output unit (dim=0)
    assert torch.allclose(layer.weight, w0)  # wrapping keeps the weight
    assert torch.allclose(g.detach().flatten(), w0.norm(dim=1))  # g starts at ||w||
    with torch.no_grad():
        g.uniform_(0.5, 2.0)
        v.normal_()
    assert torch.allclose(layer.weight, g * v / v.norm(dim=1, keepdim=True))
    x = torch.randn(4, 5, dtype=torch.float64)
    before = layer(x)
    with torch.no_grad():
        v.mul_(7.0)  # the direction's length does not matter
    assert torch.allclose(layer(x), before)
    conv = weight_norm(nn.Conv2d(2, 6, 3))
    assert conv.parametrizations.weight.original0.shape == (6, 1, 1, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.utils.weight_norm(nn.Linear(2, 2))
    assert any(issubclass(c.category, FutureWarning) and "deprecated" in str(c.message) for c in caught)


def test_weight_norm_gradient_is_scaled_and_orthogonal_to_v():
    torch.manual_seed(5)
    v = torch.randn(6, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    x = torch.randn(10, 6, dtype=torch.float64)
    target = torch.randn(10, dtype=torch.float64)
    w = g * v / v.norm()
    w.retain_grad()
    loss = ((torch.tanh(x @ w) - target) ** 2).sum()
    loss.backward()
    gw = w.grad
    vn = v.detach().norm()
    wd = w.detach()
    expected_v = (g.detach() / vn) * (gw - wd * (wd @ gw) / (wd @ wd))
    assert torch.allclose(v.grad, expected_v)
    assert torch.allclose(g.grad, gw @ v.detach() / vn)
    assert abs(float(v.grad @ v.detach())) < 1e-10  # orthogonal to v
    stepped = v.detach() - 0.1 * v.grad
    assert stepped.norm() > vn  # a plain gradient step can only lengthen v


def test_weight_norm_matches_batchnorm_scaling_only_for_whitened_inputs():
    torch.manual_seed(6)
    n, d = 4096, 8
    raw = torch.randn(n, d, dtype=torch.float64) @ torch.randn(d, d, dtype=torch.float64) + 3.0
    centred = raw - raw.mean(0)
    cov = centred.T @ centred / n
    evals, evecs = torch.linalg.eigh(cov)
    white = centred @ evecs @ torch.diag(evals.rsqrt()) @ evecs.T  # zero mean, identity covariance
    w = torch.randn(d, dtype=torch.float64)
    assert (white @ w).std(unbiased=False).item() == pytest.approx(w.norm().item(), rel=1e-9)
    assert (raw @ w).std(unbiased=False).item() != pytest.approx(w.norm().item(), rel=0.05)
    # data-dependent init: g = 1 / sigma, b = -mu / sigma gives zero mean, unit variance on the batch
    v = torch.randn(d, dtype=torch.float64)
    t = raw @ v / v.norm()
    g, b = 1 / t.std(unbiased=False), -t.mean() / t.std(unbiased=False)
    out = raw @ (g * v / v.norm()) + b
    assert out.mean().abs() < 1e-10 and out.std(unbiased=False).item() == pytest.approx(1.0)
    # cost: weights vs activations of a 3x3 conv from 64 to 64 channels, batch 32 at 56 x 56
    assert 3 * 3 * 64 * 64 == 36_864 and 32 * 64 * 56 * 56 == pytest.approx(6.4e6, rel=0.01)
