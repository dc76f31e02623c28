"""Each demo's claim, asserted on the numbers it computes (part 1: backprop .. production)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from demo_cache import result  # noqa: E402


def test_vanishing_gradients():
    m = result("vanishing-gradients").metrics
    assert m["sigmoid_first"] * 100 <= m["relu_first"]
    assert m["sigmoid_first"] < 1e-6 * m["sigmoid_last"]  # vanished across 20 layers
    assert 0.1 < m["relu_first"] / m["relu_last"] < 10  # stays within an order of magnitude


def test_softmax_ce_gradient():
    m = result("softmax-ce-gradient").metrics
    assert m["max_diff_mean"] < 1e-6
    assert m["max_diff_sum"] < 1e-6
    assert m["max_diff_mean_without_batch_factor"] > 0.1  # the 1/batch factor matters


def test_manual_backprop():
    m = result("manual-backprop").metrics
    assert m["max_abs_diff"] < 1e-5
    r = result("manual-backprop")
    assert "do NOT" not in r.conclusion


def test_grad_accumulation():
    m = result("grad-accumulation").metrics
    assert m["second_over_first"] == pytest.approx(2.0)
    assert m["after_reset_diff"] == 0
    assert m["full_grad_diff_3w2"] < 1e-6
    assert m["detached_grad_diff_w2"] < 1e-6
    assert m["accum_vs_full_batch_diff"] < 1e-6


def test_dying_relu():
    m = result("dying-relu").metrics
    assert m["relu_dead_shift0"] == 0
    assert m["relu_dead_shift2"] > 0.5  # most units dead
    assert m["relu_dead_shift3"] > 0.9
    # a unit silent on every input gets exactly zero weight gradient
    for s in ("0", "1", "2", "3"):
        assert m[f"relu_zero_grad_shift{s}"] == m[f"relu_dead_shift{s}"]
        assert m[f"leaky_zero_grad_shift{s}"] == 0
    assert m["dead_after_training"] == m["dead_before_training"]  # no recovery


def test_conv_arithmetic():
    m = result("conv-arithmetic").metrics
    assert m["size_mismatches"] == 0
    assert m["param_mismatches"] == 0
    for depth in (1, 2, 3, 5):
        assert m[f"rf_height_depth{depth}"] == 2 * depth + 1
        assert m[f"rf_width_depth{depth}"] == 2 * depth + 1
    # an independent check of one row against nn.Conv2d
    conv = torch.nn.Conv2d(3, 8, 5, stride=2)
    assert conv(torch.zeros(1, 3, 32, 32)).shape[-1] == (32 - 5) // 2 + 1 == 14
    assert ["n=32 k=5 s=2 p=0: output size", 14, 14] in result("conv-arithmetic").rows


def test_depthwise_separable():
    m = result("depthwise-separable").metrics
    for key in ("32_64_k3", "64_128_k3", "128_256_k3", "128_256_k5"):
        assert m[f"param_ratio_{key}"] == pytest.approx(m[f"predicted_{key}"], rel=1e-9)
        assert m[f"mac_ratio_{key}"] == pytest.approx(m[f"predicted_{key}"], rel=1e-9)
    assert m["predicted_128_256_k3"] == pytest.approx(1 / 256 + 1 / 9)
    assert m["param_ratio_128_256_k3"] < 0.12


def test_resnet_gradient():
    m = result("resnet-gradient").metrics
    assert m["plain_input_over_output"] < 1e-6
    assert m["residual_input_over_output"] >= 1  # the identity path keeps it from shrinking
    assert m["residual_input_over_output"] > 1e6 * m["plain_input_over_output"]


def test_rnn_vs_lstm_gradient():
    m = result("rnn-vs-lstm-gradient").metrics
    assert m["rnn_far_over_last"] < 1e-8
    assert m["lstm_open_far_over_last"] > 1e-3
    assert m["lstm_open_far_over_last"] > 1e6 * m["rnn_far_over_last"]
    assert m["lstm_far_over_last"] < 1e-6  # default LSTM init (forget gate ~0.5) also vanishes here


def test_rnn_jacobian_product():
    m = result("rnn-jacobian-product").metrics
    assert m["norm50_orthogonal_rho0.9"] == pytest.approx(0.9**50, rel=1e-9)
    assert m["norm50_orthogonal_rho1"] == pytest.approx(1.0, rel=1e-9)
    assert m["norm50_orthogonal_rho1.1"] == pytest.approx(1.1**50, rel=1e-9)
    assert m["norm50_gaussian_rho0.9"] < 0.1
    assert 0.1 < m["norm50_gaussian_rho1"] < 10
    assert m["norm50_gaussian_rho1.1"] > 10
    assert m["autograd_vs_matrix_power_rel_diff"] < 1e-10
    assert m["norm50_tanh_rho1.1"] < m["norm50_gaussian_rho1.1"]


def test_batchnorm_vs_layernorm():
    m = result("batchnorm-vs-layernorm").metrics
    assert m["bn_feature_mean_max_abs"] < 1e-4
    assert m["bn_feature_std_max_dev"] < 1e-2
    assert m["ln_sample_mean_max_abs"] < 1e-5
    assert m["ln_sample_std_max_dev"] < 1e-3
    # and not the other way round
    assert m["bn_sample_mean_max_abs"] > 0.1
    assert m["ln_feature_mean_max_abs"] > 0.1


def test_batchnorm_train_eval():
    m = result("batchnorm-train-eval").metrics
    assert m["running_mean_err"] < 1e-6
    assert m["running_var_err"] < 1e-5  # unbiased variance, momentum 0.1
    assert m["running_var_err_if_biased"] > 1e-3
    assert m["train_eval_gap_fresh"] > 1
    assert m["train_eval_gap_warm"] < m["train_eval_gap_fresh"]
    assert 0.99 < m["pair_abs_min"] <= m["pair_abs_max"] <= 1
    assert m["batch_mean_std_n2"] == pytest.approx(2 / math.sqrt(2), rel=0.15)
    assert m["batch_mean_std_n64"] == pytest.approx(2 / 8, rel=0.15)


def test_int8_quantization():
    m = result("int8-quantization").metrics
    assert m["out_rel_err_spread_per_tensor"] > 2 * m["out_rel_err_spread_per_channel"]
    assert m["worst_channel_err_spread_per_tensor"] > 10 * m["worst_channel_err_spread_per_channel"]
    assert m["zero_frac_spread_per_tensor"] > 0.1
    assert m["out_rel_err_spread_per_channel"] < 0.02
    # with similar rows the schemes are close
    assert m["out_rel_err_similar_per_tensor"] < 2 * m["out_rel_err_similar_per_channel"]
    for key in (
        "similar_per_tensor",
        "similar_per_channel",
        "spread_per_tensor",
        "spread_per_channel",
    ):
        assert m[f"torch_diff_{key}"] < 1e-6  # manual quantization equals torch's fake-quantize


def test_forgot_eval():
    m = result("forgot-eval").metrics
    assert m["train_max_logit_diff"] > 0.1
    assert m["train_flip_frac"] > 0
    assert m["eval_max_logit_diff"] == 0
    assert m["eval_flip_frac"] == 0
    assert m["bn_running_mean_drift"] > 0
    assert m["single_example_fails_in_train"] == 1
    assert m["eval_acc"] > 0.9


def test_overfit_one_batch():
    m = result("overfit-one-batch").metrics
    assert m["good_final_loss"] < 0.01
    assert m["good_acc"] == 1
    assert m["bad_last20_mean_loss"] > 1
    assert m["bad_last20_mean_loss"] > 100 * m["good_final_loss"]
    assert m["bad_last20_mean_loss"] == pytest.approx(m["shuffled_floor"], abs=0.3)


def test_sigmoid_derivative():
    m = result("sigmoid-derivative").metrics
    assert m["max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert abs(m["argmax"]) < 1e-3
    assert m["product_20"] == pytest.approx(0.25**20, rel=1e-4)  # about 9.1e-13
