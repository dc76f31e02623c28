"""Numeric checks for the claims made in questions/distributed.yaml.

Collectives are simulated in numpy; PyTorch behaviour (DistributedSampler,
DDP averaging and no_sync, FLOP counts) is checked with torch on CPU.
"""

import math
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from numerics import ring_all_gather, ring_all_reduce, ring_reduce_scatter

torch = pytest.importorskip("torch")
F = torch.nn.functional

GB = 1e9


# --- dp-gradient-averaging-equivalence ------------------------------------------------


def test_average_of_equal_shard_gradients_equals_full_batch_gradient():
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((64, 5)), rng.standard_normal(64), rng.standard_normal(5)

    def grad(xs, ys):  # gradient of mean squared error
        return 2 * xs.T @ (xs @ w - ys) / len(ys)

    shards = [grad(xs, ys) for xs, ys in zip(np.split(x, 8), np.split(y, 8), strict=True)]
    assert np.allclose(np.mean(shards, axis=0), grad(x, y))
    # unequal shards: the plain average no longer matches
    uneven = [grad(x[:8], y[:8]), grad(x[8:], y[8:])]
    assert not np.allclose(np.mean(uneven, axis=0), grad(x, y))


# --- ring-allreduce-cost / allreduce-vs-parameter-server ---------------------------------


def test_simulated_ring_all_reduce_sums_and_sends_2_n_minus_1_over_n():
    rng = np.random.default_rng(0)
    for n in (2, 4, 8):
        m = 800
        bufs = [rng.standard_normal(m) for _ in range(n)]
        out, sent = ring_all_reduce([b.copy() for b in bufs])
        total = np.sum(bufs, axis=0)
        for o in out:
            assert np.allclose(o, total)
        assert all(s == 2 * (n - 1) * m // n for s in sent)


def test_ring_example_numbers():
    m, n = 1e9 * 2, 8  # 1B parameters, bf16 gradients
    per_worker = 2 * (n - 1) / n * m
    assert per_worker / GB == pytest.approx(3.5)
    assert per_worker / 100e9 * 1e3 == pytest.approx(35)  # ms at 100 GB/s
    assert per_worker / 25e9 * 1e3 == pytest.approx(140)  # ms at 25 GB/s


def test_parameter_server_traffic_grows_with_n_but_ring_does_not():
    m = 1 * GB
    n = 16
    server_in = n * m
    ring_per_worker = 2 * (n - 1) / n * m
    assert server_in / GB == 16
    assert ring_per_worker / GB == pytest.approx(1.875)
    assert 2 * (64 - 1) / 64 * m < 2 * m  # bounded by 2M for any N


# --- dataparallel-vs-ddp / ddp-bucketing-overlap -----------------------------------------


def test_ddp_constructor_defaults():
    import inspect

    import torch.distributed as dist
    from torch.nn.parallel import distributed as ddp_module

    sig = inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
    assert sig["find_unused_parameters"].default is False
    assert sig["static_graph"].default is False
    assert sig["gradient_as_bucket_view"].default is False
    assert sig["init_sync"].default is True  # broadcast rank 0's params and buffers at wrap time
    assert sig["bucket_cap_mb"].default is None  # None means the default cap below
    assert ddp_module._DEFAULT_BUCKET_CAP_MB == 25
    assert ddp_module._MB_TO_BYTES == 1024 * 1024  # so 25 MiB
    assert dist._DEFAULT_FIRST_BUCKET_BYTES == 1024 * 1024  # small first bucket


# --- ddp-no-sync-accumulation -----------------------------------------------------------


def test_all_reduce_is_linear_so_one_sync_after_accumulation_matches_every_step_sync():
    rng = np.random.default_rng(2)
    ranks, micro = 4, 3
    g = rng.standard_normal((ranks, micro, 10))
    every_step = sum(g[:, s].mean(axis=0) for s in range(micro))
    once = g.sum(axis=1).mean(axis=0)
    assert np.allclose(every_step, once)


# --- training-memory-arithmetic / zero-stages-memory-formula -------------------------------


def bytes_per_param():
    half, full = np.dtype(np.float16).itemsize, np.dtype(np.float32).itemsize
    return {"weights": half, "grads": half, "optim": 3 * full}  # master, m, v


def zero_memory(psi, n_d, stage):
    b = bytes_per_param()
    w, g, k = b["weights"] * psi, b["grads"] * psi, b["optim"] * psi
    if stage == 0:
        return w + g + k
    if stage == 1:
        return w + g + k / n_d
    if stage == 2:
        return w + (g + k) / n_d
    return (w + g + k) / n_d


def test_7b_model_needs_112_gb_to_train_and_14_gb_to_serve():
    b = bytes_per_param()
    assert sum(b.values()) == 16
    assert zero_memory(7e9, 1, 0) / GB == pytest.approx(112)
    assert 7e9 * np.dtype(np.float16).itemsize / GB == pytest.approx(14)


def test_zero_stage_memory_reproduces_the_paper_example():
    psi, n_d = 7.5e9, 64
    got = [zero_memory(psi, n_d, s) / GB for s in range(4)]
    assert got == pytest.approx([120, 31.4, 16.6, 1.9], abs=0.06)


def test_70b_layout_memory():
    psi = 70e9
    assert zero_memory(psi, 1, 0) / 1e12 == pytest.approx(1.12)
    # 3D: t = 8, p = 4 split the model over 32 GPUs, ZeRO-1 over d = 16
    t, p = 8, 4
    d = 512 // (t * p)
    assert d == 16
    local = psi / (t * p)
    assert local / 1e9 == pytest.approx(2.19, abs=0.01)
    weights_grads = 4 * local / GB
    optim = 12 * local / d / GB
    assert weights_grads == pytest.approx(8.75)
    assert optim == pytest.approx(1.64, abs=0.01)
    assert weights_grads + optim == pytest.approx(10.4, abs=0.05)
    # full sharding inside one 8-GPU node only: does not fit in 80 GB
    assert zero_memory(psi, 8, 3) / GB == pytest.approx(140)
    assert zero_memory(psi, 512, 3) / GB == pytest.approx(2.2, abs=0.02)
    # m = 4p = 16 micro-batches on p = 4 stages
    assert gpipe_idle_fraction(p, 4 * p) == pytest.approx(3 / 19)
    assert gpipe_idle_fraction(p, 4 * p) == pytest.approx(0.16, abs=0.005)  # about 16%


# --- fsdp-sharding-step ---------------------------------------------------------------


def test_fsdp_sharding_strategies_and_fsdp2_knobs():
    import inspect

    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy, fully_shard

    names = {s.name for s in ShardingStrategy}
    assert {"FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"} <= names
    assert "reshard_after_forward" in inspect.signature(fully_shard).parameters
    assert "mesh" in inspect.signature(fully_shard).parameters  # a 2-D mesh gives hybrid sharding
    assert hasattr(FullyShardedDataParallel, "no_sync")
    doc = inspect.getdoc(FullyShardedDataParallel.no_sync)
    assert "full model gradients" in doc and "higher memory" in doc
    from torch.distributed.fsdp import FSDPModule

    assert hasattr(FSDPModule, "set_requires_gradient_sync")  # FSDP2's no_sync


def test_fsdp_full_shard_moves_1_5x_the_data_of_ddp():
    rng = np.random.default_rng(3)
    n, m = 4, 400
    bufs = [rng.standard_normal(m) for _ in range(n)]
    _, ddp_sent = ring_all_reduce([b.copy() for b in bufs])

    # FSDP: all-gather params (forward), all-gather params (backward), reduce-scatter grads
    shards = [np.array_split(rng.standard_normal(m), n)[w] for w in range(n)]

    def all_gather(owned_shards):
        chunks = [[np.zeros_like(s) for s in owned_shards] for _ in range(n)]
        for w in range(n):
            chunks[w][w] = owned_shards[w].copy()
        return ring_all_gather(chunks, list(range(n)))

    gathered, ag_sent = all_gather(shards)
    assert all(np.allclose(g, np.concatenate(shards)) for g in gathered)
    _, _, rs_sent = ring_reduce_scatter([b.copy() for b in bufs])
    fsdp = [2 * a + r for a, r in zip(ag_sent, rs_sent, strict=True)]
    assert fsdp[0] / ddp_sent[0] == pytest.approx(1.5)


# --- dist-activation-memory-transformer -----------------------------------------------------


def test_activation_memory_per_layer_example():
    # bytes per token per hidden unit kept for backward (16-bit, with dropout)
    attention_linear = 2 + 4 + 2 + 2 + 1  # QKV input, Q and K, V, proj input, dropout mask
    mlp = 2 + 8 + 8 + 1  # input, 4h before GELU, 4h after GELU, dropout mask
    layernorms = 2 + 2
    assert attention_linear + mlp + layernorms == 34

    s, b, h, a = 2048, 1, 2048, 16
    linear_part = 34 * s * b * h
    quadratic_part = (2 + 1 + 2) * a * s * s * b  # softmax out, dropout mask, dropout out
    assert linear_part == s * b * h * 34
    assert linear_part + quadratic_part == pytest.approx(s * b * h * (34 + 5 * a * s / h))
    assert linear_part / 1e6 == pytest.approx(143, abs=1)
    assert quadratic_part / 1e6 == pytest.approx(336, abs=1)
    per_layer = (linear_part + quadratic_part) / GB
    assert per_layer == pytest.approx(0.48, abs=0.005)
    assert 24 * per_layer == pytest.approx(11.5, abs=0.05)
    assert quadratic_part / (linear_part + quadratic_part) == pytest.approx(0.70, abs=0.005)


# --- tensor-parallel-megatron-split ---------------------------------------------------------


def gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def test_column_then_row_split_reproduces_the_mlp_with_one_reduction():
    rng = np.random.default_rng(4)
    t, h = 4, 8
    x = rng.standard_normal((5, h))
    a, b = rng.standard_normal((h, 4 * h)), rng.standard_normal((4 * h, h))
    full = gelu(x @ a) @ b
    partials = [gelu(x @ a_i) @ b_i for a_i, b_i in zip(np.split(a, t, axis=1), np.split(b, t, axis=0), strict=True)]
    assert np.allclose(sum(partials), full)  # the single all-reduce
    # row-splitting A gives partial sums before the GeLU: wrong without a sync
    wrong = sum(gelu(x_i @ a_i) for x_i, a_i in zip(np.split(x, t, axis=1), np.split(a, t, axis=0), strict=True)) @ b
    assert not np.allclose(wrong, full)


# --- pipeline-parallel-bubble -----------------------------------------------------------------


def gpipe_idle_fraction(p, m):
    """Unit-time GPipe schedule: all forwards, then all backwards."""
    busy = np.zeros((p, 4 * (m + p)), dtype=bool)
    finish = {}
    for stage in range(p):
        for mb in range(m):
            start = max(finish.get(("f", stage - 1, mb), 0), finish.get(("f", stage, mb - 1), 0))
            busy[stage, start] = True
            finish[("f", stage, mb)] = start + 1
    last_fwd = max(v for k, v in finish.items() if k[0] == "f")
    for stage in reversed(range(p)):
        for mb in range(m):
            start = max(finish.get(("b", stage + 1, mb), last_fwd), finish.get(("b", stage, mb - 1), 0))
            if stage == p - 1:
                start = max(start, finish[("f", stage, m - 1)])
            busy[stage, start] = True
            finish[("b", stage, mb)] = start + 1
    total = max(finish.values())
    return 1 - busy[:, :total].sum() / (p * total)


def test_gpipe_bubble_matches_formula():
    for p, m in ((4, 4), (4, 32), (8, 16)):
        assert gpipe_idle_fraction(p, m) == pytest.approx((p - 1) / (m + p - 1))
    assert gpipe_idle_fraction(4, 4) == pytest.approx(0.43, abs=0.005)
    assert gpipe_idle_fraction(4, 32) == pytest.approx(0.086, abs=0.0005)


# --- ddp-syncbatchnorm-small-batch --------------------------------------------------------------


def test_global_bn_statistics_from_sums_and_why_averaging_variances_fails():
    rng = np.random.default_rng(5)
    shards = [rng.standard_normal((2, 16)) + rng.standard_normal() for _ in range(8)]
    x = np.concatenate(shards)
    s1 = sum(sh.sum(axis=0) for sh in shards)
    s2 = sum((sh**2).sum(axis=0) for sh in shards)
    count = sum(len(sh) for sh in shards)
    mean = s1 / count
    var = s2 / count - mean**2
    assert np.allclose(mean, x.mean(axis=0))
    assert np.allclose(var, x.var(axis=0))
    avg_of_vars = np.mean([sh.var(axis=0) for sh in shards], axis=0)
    assert np.all(avg_of_vars < var)  # misses the spread between shard means
    # PyTorch's SyncBatchNorm gathers (mean, var, count) per rank instead: same result
    means = np.stack([sh.mean(axis=0) for sh in shards])
    variances = np.stack([sh.var(axis=0) for sh in shards])
    counts = np.array([len(sh) for sh in shards])[:, None]
    g_mean = (counts * means).sum(axis=0) / counts.sum()
    g_var = (counts * (variances + (means - g_mean) ** 2)).sum(axis=0) / counts.sum()
    assert np.allclose(g_mean, x.mean(axis=0)) and np.allclose(g_var, x.var(axis=0))


def test_syncbatchnorm_issues_an_all_gather_in_forward_and_an_all_reduce_in_backward():
    import inspect

    from torch.nn.modules import _functions

    fwd = inspect.getsource(_functions.SyncBatchNorm.forward)
    bwd = inspect.getsource(_functions.SyncBatchNorm.backward)
    assert "all_gather" in fwd and "all_reduce" not in fwd.replace("allreduce", "")
    assert "torch.distributed.all_reduce" in bwd
    assert "mean, invstd, count" in fwd  # gathers per-rank mean, inverse std and count


def test_resnet50_has_53_batchnorm_layers():
    stem = 1
    bottlenecks = 3 + 4 + 6 + 3  # blocks per stage
    downsample = 4  # one projection shortcut (conv + BN) per stage
    assert stem + 3 * bottlenecks + downsample == 53
    assert 2 * 53 > 100  # collectives per step with SyncBN


# --- distributed-sampler-set-epoch / distributed-rng-seeding -----------------------------------


def _indices(n_items, replicas, seed=0, epoch=None, **kw):
    from torch.utils.data.distributed import DistributedSampler

    out = []
    for rank in range(replicas):
        s = DistributedSampler(range(n_items), num_replicas=replicas, rank=rank, seed=seed, **kw)
        if epoch is not None:
            s.set_epoch(epoch)
        out.append(list(s))
    return out


def test_without_set_epoch_every_epoch_repeats_the_same_order():
    from torch.utils.data.distributed import DistributedSampler

    s = DistributedSampler(range(100), num_replicas=2, rank=0, shuffle=True)
    assert list(s) == list(s)  # epoch stays 0
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first


def test_padding_duplicates_samples_so_each_rank_gets_the_same_count():
    per_rank = _indices(10, 4)
    assert [len(r) for r in per_rank] == [3, 3, 3, 3]
    flat = [i for r in per_rank for i in r]
    assert len(flat) == 12 and len(set(flat)) == 10
    no_pad = _indices(10, 4, drop_last=True)
    assert sum(len(r) for r in no_pad) == 8


def test_distributed_sampler_defaults_and_permutation_seed():
    import inspect

    from torch.utils.data.distributed import DistributedSampler

    sig = inspect.signature(DistributedSampler).parameters
    assert sig["shuffle"].default is True and sig["seed"].default == 0
    assert sig["drop_last"].default is False
    s = DistributedSampler(range(20), num_replicas=2, rank=1, seed=5)
    s.set_epoch(3)
    g = torch.Generator().manual_seed(5 + 3)  # seed + epoch
    assert list(s) == torch.randperm(20, generator=g).tolist()[1::2]  # strided slice


def _first_draw(_):
    return float(np.random.rand())


def test_dataloader_workers_get_different_numpy_seeds_but_ranks_with_one_torch_seed_repeat():
    from torch.utils.data import DataLoader

    def draws(torch_seed):
        torch.manual_seed(torch_seed)  # what every rank does with a shared base seed
        loader = DataLoader(range(4), batch_size=1, num_workers=2, collate_fn=_first_draw)
        return list(loader)

    rank0, rank1 = draws(0), draws(0)
    assert len(set(rank0)) == len(rank0)  # workers differ from each other
    assert rank0 == rank1  # but two ranks seeded alike replay the same numbers
    assert draws(1) != rank0  # seed + rank breaks the tie


def test_shared_sampler_seed_gives_disjoint_shards_and_different_seeds_overlap():
    same = _indices(1000, 4, seed=0)
    assert len({i for r in same for i in r}) == 1000
    from torch.utils.data.distributed import DistributedSampler

    mixed = [list(DistributedSampler(range(1000), num_replicas=4, rank=r, seed=r)) for r in range(4)]
    assert len({i for r in mixed for i in r}) < 1000  # overlap, some never seen


# --- dist-training-time-flops-estimate -------------------------------------------------------------


def test_backward_costs_twice_forward_so_training_is_6_flops_per_param_per_token():
    from torch.utils.flop_counter import FlopCounterMode

    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256, bias=False), torch.nn.GELU(), torch.nn.Linear(256, 64, bias=False)
    )
    n_params = sum(p.numel() for p in model.parameters())
    tokens = 32
    x = torch.randn(tokens, 64, requires_grad=True)  # as if an inner layer
    with FlopCounterMode(display=False) as fwd:
        model(x)
    with FlopCounterMode(display=False) as both:
        model(x).sum().backward()
    forward = fwd.get_total_flops()
    assert forward == 2 * n_params * tokens
    assert both.get_total_flops() - forward == 2 * forward
    assert both.get_total_flops() == 6 * n_params * tokens
    # full activation recomputation: one more forward, 8 FLOPs per parameter per token
    # (PyTorch's default early stop skips recomputing ops whose outputs backward never
    # needs, here the last matmul, so it is switched off to count a full recompute)
    from torch.utils.checkpoint import checkpoint, set_checkpoint_early_stop

    with FlopCounterMode(display=False) as recomputed, set_checkpoint_early_stop(False):
        checkpoint(model, x, use_reentrant=False).sum().backward()
    assert recomputed.get_total_flops() == 8 * n_params * tokens


def test_training_time_estimate_for_1b_params_on_20b_tokens():
    flops = 6 * 1e9 * 20e9
    assert flops == pytest.approx(1.2e20)
    rate = 8 * 312e12 * 0.4
    assert rate == pytest.approx(1.0e15, rel=0.01)
    hours = flops / rate / 3600
    assert hours == pytest.approx(33, rel=0.03)
    tokens_per_s = rate / (6 * 1e9)
    assert tokens_per_s == pytest.approx(167e3, rel=0.01)
    assert tokens_per_s / 8 == pytest.approx(21e3, rel=0.01)


def test_mfu_from_logged_throughput():
    n, peak, gpus = 1e9, 312e12, 8
    expected_per_gpu = 0.4 * peak / (6 * n)
    assert expected_per_gpu == pytest.approx(20.8e3, rel=0.01)
    logged_per_gpu = 15e3
    mfu = logged_per_gpu * 6 * n / peak
    assert mfu == pytest.approx(0.29, abs=0.005)
    assert logged_per_gpu / expected_per_gpu == pytest.approx(mfu / 0.4)  # the ratio is MFU / 0.4
    hours = 6 * n * 20e9 / (gpus * logged_per_gpu * 6 * n) / 3600
    assert hours == pytest.approx(46, abs=0.5)


# --- real DDP on CPU (gloo, 2 processes) -------------------------------------------------------------

# Each rank runs this script in its own interpreter. Rendezvous goes through a file
# (no TCP port to choose or collide on) and gloo is bound to the loopback interface,
# so the test needs no network; every wait has a timeout, so a stuck rank fails the
# test instead of hanging CI.
DDP_WORKER = r"""
import sys
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

rank, world, init_file, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.set_num_threads(1)
dist.init_process_group(
    "gloo", init_method="file://" + init_file, rank=rank, world_size=world, timeout=timedelta(seconds=60)
)
try:
    torch.manual_seed(rank)  # different init per rank: DDP must broadcast rank 0's
    model = DDP(torch.nn.Linear(4, 2))
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 4, generator=g), torch.randn(8, 2, generator=g)
    xs, ys = x.chunk(world)[rank], y.chunk(world)[rank]

    def grad():
        out = model.module.weight.grad.clone()
        model.zero_grad()
        return out

    F.mse_loss(model(xs), ys).backward()  # plain DDP step: all-reduced mean
    plain = grad()
    halves = list(zip(xs.chunk(2), ys.chunk(2)))
    with model.no_sync():  # accumulate locally, sync on the last micro-batch
        (F.mse_loss(model(halves[0][0]), halves[0][1]) / 2).backward()
    (F.mse_loss(model(halves[1][0]), halves[1][1]) / 2).backward()
    accum = grad()
    with model.no_sync():  # forward and backward inside: purely local gradient
        F.mse_loss(model(xs), ys).backward()
    local = grad()
    loss = F.mse_loss(model(xs), ys)  # forward outside, backward inside:
    with model.no_sync():  # DDP still synchronizes (the documented pitfall)
        loss.backward()
    forward_outside = grad()
    # BatchNorm under plain DDP: each rank normalizes with its own batch; DDP only
    # broadcasts rank 0's running buffers at the start of every forward.
    torch.manual_seed(0)
    bn = DDP(torch.nn.BatchNorm1d(3, momentum=0.5))
    xb1 = torch.randn(4, 3, generator=g) + 3.0 * rank
    xb2 = torch.randn(4, 3, generator=g) + 3.0 * rank
    out1 = bn(xb1)
    rm_after_1 = bn.module.running_mean.clone()
    bn(xb2)
    rm_after_2 = bn.module.running_mean.clone()
    torch.save(
        {
            "bn_out1": out1.detach(),
            "bn_x1": xb1,
            "bn_x2": xb2,
            "bn_rm1": rm_after_1,
            "bn_rm2": rm_after_2,
            "plain": plain,
            "accum": accum,
            "local": local,
            "forward_outside": forward_outside,
            "weight": model.module.weight.detach().clone(),
            "bias": model.module.bias.detach().clone(),
            "keys": list(model.state_dict().keys()),
            "x": x,
            "y": y,
        },
        f"{out_dir}/rank{rank}.pt",
    )
finally:
    dist.destroy_process_group()
"""


def _loopback_interface():
    names = {name for _, name in socket.if_nameindex()} if hasattr(socket, "if_nameindex") else set()
    return next((name for name in ("lo", "lo0") if name in names), None)


def _run_ddp_workers(tmp_path, world, timeout_s=180):
    script = tmp_path / "ddp_worker.py"
    script.write_text(DDP_WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    loopback = _loopback_interface()
    if loopback is not None:
        env["GLOO_SOCKET_IFNAME"] = loopback
    procs, logs = [], []
    try:
        for rank in range(world):
            log = (tmp_path / f"rank{rank}.log").open("w")
            logs.append(log)
            cmd = [sys.executable, str(script), str(rank), str(world), str(tmp_path / "rendezvous"), str(tmp_path)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout_s
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"DDP workers did not finish within {timeout_s} s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    failures = [
        f"rank {rank} exited with {proc.returncode}:\n" + (tmp_path / f"rank{rank}.log").read_text()[-2000:]
        for rank, proc in enumerate(procs)
        if proc.returncode != 0
    ]
    assert not failures, "\n".join(failures)
    return [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(world)]


@pytest.mark.slow
def test_ddp_averages_gradients_and_no_sync_accumulation_matches(tmp_path):
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with the gloo backend is not available")
    world = 2
    res = _run_ddp_workers(tmp_path, world)
    assert torch.equal(res[0]["weight"], res[1]["weight"])  # broadcast from rank 0
    assert all(k.startswith("module.") for k in res[0]["keys"])
    # full-batch gradient on one process with the broadcast weights
    ref = torch.nn.Linear(4, 2)
    with torch.no_grad():
        ref.weight.copy_(res[0]["weight"])
        ref.bias.copy_(res[0]["bias"])
    F.mse_loss(ref(res[0]["x"]), res[0]["y"]).backward()
    full = ref.weight.grad.clone()
    for rank, r in enumerate(res):
        assert torch.allclose(r["plain"], full, atol=1e-6)  # DDP averaged
        assert torch.allclose(r["accum"], full, atol=1e-6)  # no_sync + final sync
        assert torch.allclose(r["forward_outside"], full, atol=1e-6)  # forward outside no_sync: still synced
        ref.zero_grad()
        xs, ys = r["x"].chunk(world)[rank], r["y"].chunk(world)[rank]
        F.mse_loss(ref(xs), ys).backward()
        assert torch.allclose(r["local"], ref.weight.grad, atol=1e-6)  # inside no_sync: this rank only
    assert not torch.allclose(res[0]["local"], res[1]["local"])
    # plain BatchNorm under DDP: per-rank batch statistics, no averaging of running stats
    for r in res:
        local = (r["bn_x1"] - r["bn_x1"].mean(0)) / torch.sqrt(r["bn_x1"].var(0, unbiased=False) + 1e-5)
        assert torch.allclose(r["bn_out1"], local, atol=1e-5)
    assert not torch.allclose(res[0]["bn_rm1"], res[1]["bn_rm1"])  # ranks drift apart within a step
    # the next forward starts from rank 0's buffers (broadcast), then updates locally
    for r in res:
        expected = 0.5 * res[0]["bn_rm1"] + 0.5 * r["bn_x2"].mean(0)
        assert torch.allclose(r["bn_rm2"], expected, atol=1e-5)
