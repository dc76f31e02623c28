"""Each demo's claim, asserted on the numbers it computes (part 2: attention .. generative)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from demo_cache import module, result  # noqa: E402


def test_attention_scaling():
    m = result("attention-scaling").metrics
    for d in (16, 64, 256, 1024):
        assert m[f"var_dot_d{d}"] == pytest.approx(d, rel=0.1)
        # scaled scores keep the softmax spread out whatever d_k is
        assert m[f"entropy_scaled_d{d}"] > 0.8 * m["max_entropy"]
    assert m["entropy_raw_d1024"] < 0.1 * m["entropy_scaled_d1024"]
    assert m["max_weight_raw_d1024"] > 0.9 > 0.2 > m["max_weight_scaled_d1024"]
    assert m["jacobian_norm_raw_d1024"] < 0.5 * m["jacobian_norm_scaled_d1024"]
    # without scaling the softmax gets sharper as d_k grows
    assert m["entropy_raw_d16"] > m["entropy_raw_d64"] > m["entropy_raw_d256"] > m["entropy_raw_d1024"]


def test_causal_mask():
    m = result("causal-mask").metrics
    assert m["max_weight_above_diagonal"] == 0
    assert m["row_sum_max_err"] < 1e-6
    assert m["weight_0_0"] == pytest.approx(1.0)
    assert m["causal_max_change_before"] < 1e-6  # the past does not see the future
    assert m["causal_min_change_from"] > 0.05  # the changed positions do change
    assert m["full_min_change_before"] > 0.05  # without the mask, everything changes
    assert m["sdpa_max_diff"] < 1e-6


def test_attention_memory():
    m = result("attention-memory").metrics
    for n in (128, 256, 512, 1024):
        assert m[f"score_bytes_n{n}"] == 4 * n * n  # fp32 n x n
        assert m[f"output_bytes_n{n}"] == 4 * n * 64
        assert m[f"max_diff_n{n}"] < 1e-5
    for n in (256, 512, 1024):
        assert m[f"naive_growth_n{n}"] == 4.0


def test_transformer_param_count():
    m = result("transformer-param-count").metrics
    assert m["mismatches"] == 0
    for d in (128, 256, 512, 768, 1024):
        assert m[f"total_d{d}"] == 12 * d * d + 13 * d
        assert m[f"attention_d{d}"] == 4 * d * d + 4 * d
        assert m[f"ffn_d{d}"] == 8 * d * d + 5 * d
        assert m[f"norms_d{d}"] == 4 * d
    # an independent count of PyTorch's layer
    layer = torch.nn.TransformerEncoderLayer(512, nhead=8, dim_feedforward=2048)
    assert m["total_d512"] == sum(p.numel() for p in layer.parameters())
    assert m["share_12d2_d768"] > 0.99
    assert m["gpt2_small_total"] == 124_439_808


def test_kv_cache():
    m = result("kv-cache").metrics
    assert m["max_abs_diff"] < 1e-5
    d, layers, steps = 64, 2, 64
    full = sum(layers * (4 * t * d * d + 2 * t * t * d) for t in range(1, steps + 1))
    cached = sum(layers * (4 * d * d + 2 * t * d) for t in range(1, steps + 1))
    assert m["macs_full_t64"] == full
    assert m["macs_cached_t64"] == cached
    assert m["macs_full_t64"] > 30 * m["macs_cached_t64"]
    assert m["macs_full_t1"] == m["macs_cached_t1"]  # the first step is the same work
    assert m["cache_bytes_t64"] == 2 * layers * steps * d * 4


def test_positional_encoding():
    m = result("positional-encoding").metrics
    assert m["equivariance_gap_none"] < 1e-5
    assert m["pooled_gap_none"] < 1e-5
    assert m["equivariance_gap_sinusoidal"] > 0.05
    assert m["pooled_gap_sinusoidal"] > 0.01
    assert m["pe_norm_sq_min"] == pytest.approx(16, abs=1e-4)
    assert m["pe_norm_sq_max"] == pytest.approx(16, abs=1e-4)
    for k in (1, 4, 16):
        assert m[f"pe_dot_offset{k}_spread"] < 1e-4  # depends on the offset only


def test_init_variance():
    m = result("init-variance").metrics
    assert m["std_layer30_n01_relu"] > 1e20  # explodes
    assert m["std_layer30_xavier_relu"] < 1e-3  # variance halves per layer
    assert m["std_layer30_xavier_relu"] == pytest.approx(m["std_layer1_xavier_relu"] * 0.5 ** (29 / 2), rel=0.5)
    assert 0.2 < m["std_layer30_he_relu"] < 5  # stays at scale
    assert m["saturated_n01_tanh"] > 0.5
    assert m["saturated_xavier_tanh"] < 0.01
    assert m["std_layer30_xavier_tanh"] < m["std_layer1_xavier_tanh"]


def test_inverted_dropout():
    m = result("inverted-dropout").metrics
    for p in (0.1, 0.3, 0.5, 0.8):
        assert m[f"zero_frac_p{p}"] == pytest.approx(p, abs=0.005)
        assert m[f"scale_err_p{p}"] < 1e-5 * (1 / (1 - p))
        assert m[f"mean_ratio_p{p}"] == pytest.approx(1.0, abs=0.01)
        assert m[f"no_rescale_ratio_p{p}"] == pytest.approx(1 - p, abs=0.01)
        assert m[f"eval_diff_p{p}"] == 0
    assert m["per_unit_max_err"] < 0.05


def test_adam_vs_sgd():
    m = result("adam-vs-sgd").metrics
    # SGD is rotation-invariant: the rotated run follows the rotated path, same losses
    assert m["best_sgd_rotated"] == pytest.approx(m["best_sgd_axis-aligned"], rel=1e-6)
    assert m["best_adam_axis-aligned"] < m["best_sgd_axis-aligned"] / 5
    assert m["best_adam_rotated"] > 100 * m["best_sgd_rotated"]
    assert m["best_adam_rotated"] > 100 * m["best_adam_axis-aligned"]
    assert m["initial_loss"] > 100 * m["best_adam_rotated"]  # both still make progress


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_adam_vs_sgd_update_rules_match_torch_optim(name):
    demo = module("adam-vs-sgd")
    torch.manual_seed(0)
    hessian = torch.randn(6, 6, dtype=torch.float64)
    hessian = hessian @ hessian.T + torch.eye(6, dtype=torch.float64)
    w_ours = torch.randn(6, dtype=torch.float64, requires_grad=True)
    w_torch = w_ours.detach().clone().requires_grad_()
    lr = 0.01
    if name == "sgd":
        step, optimizer = demo.sgd_momentum_step, torch.optim.SGD([w_torch], lr=lr, momentum=demo.MOMENTUM)
    else:
        step, optimizer = demo.adam_step, torch.optim.Adam([w_torch], lr=lr)
    state: dict = {}
    for _ in range(50):
        w_ours.grad = None
        (0.5 * w_ours @ hessian @ w_ours).backward()
        with torch.no_grad():
            step(w_ours, w_ours.grad, state, lr)
        optimizer.zero_grad()
        (0.5 * w_torch @ hessian @ w_torch).backward()
        optimizer.step()
    assert torch.allclose(w_ours, w_torch, rtol=1e-10, atol=1e-12)


def test_gradient_clipping():
    m = result("gradient-clipping").metrics
    assert m["plain_diverged_at_step"] >= 0  # plain SGD blew up ...
    assert m["plain_steps_run"] < 300
    assert m["plain_max_finite_loss"] > 1e6
    assert m["clipped_steps_run"] == 300  # ... the clipped run did not
    assert m["clipped_max_loss"] == m["initial_loss"]  # never above where it started
    assert m["clipped_final_loss"] < m["initial_loss"] / 100
    assert m["initial_grad_norm"] > 5  # clipping was active at the start


def test_mixed_precision_range():
    m = result("mixed-precision-range").metrics
    assert m["fp16_max"] == 65504
    assert m["fp16_65519"] == 65504
    assert m["fp16_65520_is_inf"] == 1
    assert m["bf16_max"] == pytest.approx(3.3895e38, rel=1e-4)
    assert m["fp16_smallest_normal"] == 2.0**-14
    assert m["fp16_eps"] == 2.0**-10 and m["bf16_eps"] == 2.0**-7
    assert m["fp16_1e-8"] == 0  # below half the smallest fp16 subnormal (2^-24)
    assert m["bf16_1e-8"] == pytest.approx(1e-8, rel=0.01)
    assert m["bf16_1_plus_2^-9"] == 1.0  # bf16 has 7 stored mantissa bits
    assert float(torch.tensor(70000.0).half()) == math.inf
    # loss scaling brings the flushed gradients back
    assert m["flushed_fp16"] > 0.3
    assert m["flushed_fp16_scaled"] < 0.01
    assert m["flushed_bf16"] == 0
    assert m["weight_rel_err_fp16_scaled"] < 0.01
    assert m["init_scale"] == 2.0**16
    assert m["overflow_found_inf"] == 1
    assert m["scale_after_overflow"] == 2.0**15


def test_mixed_precision_grad_scaler_does_what_the_demo_does():
    # the demo scales by hand; torch.amp.GradScaler starts at the same scale and, on the same
    # overflow (a sum-reduced cross-entropy in fp16), skips the step and halves the scale
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 50)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    assert scaler.get_scale() == result("mixed-precision-range").metrics["init_scale"]
    with torch.autocast("cpu", dtype=torch.float16):
        logits = head(torch.randn(64, 8))
    loss = torch.nn.functional.cross_entropy(logits.float(), torch.randint(0, 50, (64,)), reduction="sum")
    before = head.weight.detach().clone()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    assert torch.equal(before, head.weight.detach())  # step skipped
    assert scaler.get_scale() == 2.0**15


def test_allreduce_equivalence():
    m = result("allreduce-equivalence").metrics
    for n in (2, 4, 8):
        assert m[f"avg_vs_full_n{n}"] < 1e-6
        assert m[f"ring_vs_sum_n{n}"] < 1e-6
        assert m[f"workers_disagree_n{n}"] == 0
        assert m[f"sent_fraction_n{n}"] == pytest.approx(2 * (n - 1) / n)
    assert m["unequal_plain_avg_err"] > 1e-3  # equal shards matter for a plain average
    assert m["unequal_weighted_avg_err"] < 1e-6


def test_zero_memory():
    m = result("zero-memory").metrics
    assert m["params_bytes_per_param"] == 2
    assert m["grads_bytes_per_param"] == 2
    assert m["optimizer_bytes_per_param"] == 12
    psi = m["psi"]
    for n in (8, 64):
        assert m[f"stage0_bytes_n{n}"] == 16 * psi
        assert m[f"stage1_bytes_n{n}"] == pytest.approx(4 * psi + 12 * psi / n)
        assert m[f"stage2_bytes_n{n}"] == pytest.approx(2 * psi + 14 * psi / n)
        assert m[f"stage3_bytes_n{n}"] == pytest.approx(16 * psi / n)
    # the ZeRO paper's Figure 1: 7.5B parameters, 64 GPUs: 120, 31.4, 16.6, 1.9 GB
    assert m["stage0_bytes_n64"] / 1e9 == pytest.approx(120)
    assert m["stage1_bytes_n64"] / 1e9 == pytest.approx(31.4, abs=0.05)
    assert m["stage2_bytes_n64"] / 1e9 == pytest.approx(16.6, abs=0.05)
    assert m["stage3_bytes_n64"] / 1e9 == pytest.approx(1.9, abs=0.05)


def test_zero_memory_adam_state_is_what_the_demo_counts():
    # torch.optim.Adam keeps exp_avg and exp_avg_sq (fp32, parameter-shaped) and a scalar step
    params = [torch.nn.Parameter(torch.randn(10, 7)), torch.nn.Parameter(torch.randn(7))]
    optimizer = torch.optim.Adam(params)
    for p in params:
        p.grad = torch.randn_like(p)
    optimizer.step()
    n = sum(p.numel() for p in params)
    per_param = sum(
        t.numel() * t.element_size() for state in optimizer.state.values() for t in state.values() if t.numel() > 1
    )
    assert per_param == 8 * n
    assert all(set(state) == {"step", "exp_avg", "exp_avg_sq"} for state in optimizer.state.values())


def test_reparameterization():
    m = result("reparameterization").metrics
    n = 200_000
    for name in ("dmu", "dsigma"):
        se = m[f"reparam_{name}_std"] / math.sqrt(n)
        assert abs(m[f"reparam_{name}"] - m[f"analytic_{name}"]) < 5 * se
        se_score = m[f"score_{name}_std"] / math.sqrt(n)
        assert abs(m[f"score_{name}"] - m[f"analytic_{name}"]) < 5 * se_score
        assert m[f"score_{name}_std"] > 3 * m[f"reparam_{name}_std"]
    assert m["reparam_dmu_std"] == pytest.approx(2 * 0.8, rel=0.02)  # std of 2z is 2 sigma
    assert m["sample_requires_grad"] == 0
    assert m["rsample_requires_grad"] == 1


def test_diffusion_forward():
    m = result("diffusion-forward").metrics
    assert m["max_variance_recursion_err"] < 1e-12
    assert m["max_mean_err"] < 5 * m["mean_standard_error_bound"]
    assert m["max_std_err"] < 0.02
    # DDPM's linear schedule: alpha_bar_1 = 1 - 1e-4, alpha_bar_1000 ~ 4.0e-5
    assert m["alpha_bar_t1"] == pytest.approx(1 - 1e-4)
    assert m["alpha_bar_t1000"] == pytest.approx(4.04e-5, rel=0.01)
    assert m["snr_t1"] > m["snr_t100"] > m["snr_t500"] > m["snr_t1000"]


def test_gaussian_kl():
    m = result("gaussian-kl").metrics
    assert m["closed_0"] == 0 and m["mc_0"] == 0
    assert m["closed_1"] == pytest.approx(0.5)
    assert m["worst_torch_diff"] < 1e-5
    assert m["worst_z"] < 5
    for i in range(6):
        assert m[f"mc_{i}"] == pytest.approx(m[f"closed_{i}"], abs=0.02)
