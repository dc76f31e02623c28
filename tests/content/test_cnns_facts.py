"""Numerical checks of the claims made in questions/cnns.yaml.

Shapes, parameter counts and multiply-adds are recomputed from the formulas
and cross-checked against PyTorch modules (torch is optional).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest


def conv_out(n, k, s=1, p=0, d=1):
    return (n + 2 * p - (d * (k - 1) + 1)) // s + 1


def conv_params(k, c_in, c_out, groups=1, bias=True):
    return (k * k * c_in // groups + (1 if bias else 0)) * c_out


def receptive_field(layers):
    """layers: list of (kernel, stride, dilation). Returns the theoretical receptive field."""
    r, j = 1, 1
    for k, s, d in layers:
        r += d * (k - 1) * j
        j *= s
    return r


def conv2d_im2col(x, w, b, stride=1, pad=0):
    """The NumPy im2col convolution from the card conv2d-im2col-implementation."""
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - k) // stride + 1
    wo = (wd + 2 * pad - k) // stride + 1
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for u in range(k):
        for v in range(k):
            cols[:, :, u, v] = x[:, :, u : u + stride * ho : stride, v : v + stride * wo : stride]
    cols = cols.reshape(n, c * k * k, ho * wo)
    out = w.reshape(o, -1) @ cols + b[:, None]
    return out.reshape(n, o, ho, wo)


# --- arithmetic -------------------------------------------------------------------------------


def test_conv_output_size_resnet_stem_and_unet_chain():
    assert conv_out(224, 7, 2, 3) == 112
    assert conv_out(112, 3, 2, 1) == 56
    sizes = [224]
    while sizes[-1] > 7:
        sizes.append(conv_out(sizes[-1], 3, 2, 1))
    assert sizes == [224, 112, 56, 28, 14, 7]  # total stride 32
    # same padding for odd k at stride 1
    for k in (1, 3, 5, 7):
        assert conv_out(37, k, 1, (k - 1) // 2) == 37
    # floor: two input sizes map to one output size
    assert conv_out(15, 3, 2, 1) == conv_out(16, 3, 2, 1) == 8
    # the U-Net follow-up: 500 -> 250 -> 125 -> 62 -> 31, and 62 * 2 = 124 != 125
    chain = [500]
    for _ in range(4):
        chain.append(chain[-1] // 2)
    assert chain == [500, 250, 125, 62, 31]
    assert chain[3] * 2 != chain[2]
    ok = [512]
    for _ in range(4):
        ok.append(ok[-1] // 2)
    assert all(big == 2 * small for big, small in itertools.pairwise(ok))


def test_conv_output_size_formula_matches_torch():
    torch = pytest.importorskip("torch")
    for n, k, s, p, d in [(224, 7, 2, 3, 1), (112, 3, 2, 1, 1), (33, 3, 1, 2, 2), (50, 5, 3, 1, 1), (64, 3, 1, 4, 4)]:
        conv = torch.nn.Conv2d(1, 1, k, s, p, dilation=d)
        out = conv(torch.zeros(1, 1, n, n))
        assert out.shape[-1] == conv_out(n, k, s, p, d)
    pool = torch.nn.MaxPool2d(3, 2, 1)
    assert pool(torch.zeros(1, 1, 112, 112)).shape[-1] == 56


def test_conv_parameter_count_and_macs():
    assert conv_params(3, 64, 128) == 73_856
    assert conv_params(3, 64, 128, bias=False) == 73_728
    macs = 56 * 56 * 128 * 3 * 3 * 64
    assert macs == pytest.approx(0.231e9, rel=0.01)
    assert 56 * 56 * 128 == 401_408
    dense = (56 * 56 * 64) * (56 * 56 * 128)
    assert dense == pytest.approx(8e10, rel=0.01)
    # grouped convolution divides weights by g
    assert conv_params(3, 64, 128, groups=4, bias=False) == 73_728 // 4
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(64, 128, 3, padding=1)
    assert sum(p.numel() for p in conv.parameters()) == 73_856
    assert sum(p.numel() for p in torch.nn.Conv2d(64, 128, 3, groups=4, bias=False).parameters()) == 18_432
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        torch.nn.Conv2d(64, 128, 3, padding=1, bias=False)(torch.zeros(1, 64, 56, 56))
    assert counter.get_total_flops() == 2 * macs  # torch counts a multiply-add as 2 FLOPs


def test_fully_connected_vs_conv_parameter_counts():
    assert 32 * 32 * 3 * 1000 == 3_072_000
    assert conv_params(3, 3, 64) == 1_792
    dense_224 = 224 * 224 * 3 * 4096
    assert dense_224 == pytest.approx(617e6, rel=0.001)
    # global average pooling head vs flatten head on ResNet-50's 7x7x2048 map
    gap_head = 2048 * 1000 + 1000
    flat_head = 7 * 7 * 2048 * 1000 + 1000
    assert gap_head == pytest.approx(2.05e6, rel=0.01)
    assert flat_head == pytest.approx(100e6, rel=0.01)


def test_receptive_field_recurrence_matches_gradient_measurement():
    assert receptive_field([(3, 1, 1)] * 3) == 7
    assert receptive_field([(3, 1, 1), (3, 2, 1), (3, 1, 1)]) == 9
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15
    # stacked 3x3 parameters vs one 7x7, C channels, no bias
    c = 64
    three = 3 * conv_params(3, c, c, bias=False)
    one = conv_params(7, c, c, bias=False)
    assert three == 27 * c * c and one == 49 * c * c
    assert 1 - three / one == pytest.approx(0.45, abs=0.01)
    assert one / three - 1 == pytest.approx(0.81, abs=0.01)

    torch = pytest.importorskip("torch")

    def measured(specs, n=41):
        layers = []
        for k, s, d in specs:
            conv = torch.nn.Conv2d(1, 1, k, s, padding=d * (k - 1) // 2, dilation=d, bias=False)
            torch.nn.init.constant_(conv.weight, 1.0)
            layers.append(conv)
        net = torch.nn.Sequential(*layers)
        x = torch.zeros(1, 1, n, n, requires_grad=True)
        y = net(x)
        c = y.shape[-1] // 2
        y[0, 0, c, c].backward()
        rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1))
        return int(rows.max() - rows.min() + 1)

    for specs in ([(3, 1, 1)] * 3, [(3, 1, 1), (3, 2, 1), (3, 1, 1)], [(3, 1, 1), (3, 1, 2), (3, 1, 4)]):
        assert measured(specs) == receptive_field(specs)


def test_dilation_gridding_with_common_factor():
    """Dilated-conv card: equal dilations see a sparse lattice; rates 1, 2, 3 cover every pixel."""
    torch = pytest.importorskip("torch")

    def touched(dilations, n=41):
        convs = []
        for d in dilations:
            conv = torch.nn.Conv2d(1, 1, 3, padding=d, dilation=d, bias=False)
            torch.nn.init.constant_(conv.weight, 1.0)
            convs.append(conv)
        x = torch.zeros(1, 1, n, n, requires_grad=True)
        torch.nn.Sequential(*convs)(x)[0, 0, n // 2, n // 2].backward()
        return x.grad[0, 0] != 0

    grid = touched([2, 2, 2])
    rows = torch.nonzero(grid.any(dim=1)).flatten()
    assert int(rows.max() - rows.min() + 1) == receptive_field([(3, 1, 2)] * 3) == 13
    assert int(grid.sum()) == 7 * 7  # only every second pixel of the 13 x 13 field: gridding
    dense = touched([1, 2, 3])
    side = receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 3)])
    assert side == 13 and int(dense.sum()) == side * side  # no holes


def test_depthwise_separable_cost_ratio():
    k, c_in, c_out = 3, 256, 256
    standard = conv_params(k, c_in, c_out, bias=False)
    separable = conv_params(k, c_in, c_in, groups=c_in, bias=False) + conv_params(1, c_in, c_out, bias=False)
    assert standard == 589_824
    assert separable == 2_304 + 65_536 == 67_840
    assert separable / standard == pytest.approx(1 / c_out + 1 / k**2)
    assert separable / standard == pytest.approx(0.115, abs=0.001)
    assert 8 < standard / separable < 9
    torch = pytest.importorskip("torch")
    dw = torch.nn.Conv2d(c_in, c_in, k, padding=1, groups=c_in, bias=False)
    pw = torch.nn.Conv2d(c_in, c_out, 1, bias=False)
    full = torch.nn.Conv2d(c_in, c_out, k, padding=1, bias=False)
    assert sum(p.numel() for p in (*dw.parameters(), *pw.parameters())) == separable
    assert sum(p.numel() for p in full.parameters()) == standard


# --- architectures ----------------------------------------------------------------------------


def _resnet50(torch):
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self, c_in, mid, stride=1):
            super().__init__()
            c_out = 4 * mid
            self.branch = nn.Sequential(
                nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
            )  # fmt: skip
            self.skip = nn.Identity()
            if stride != 1 or c_in != c_out:
                self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x):
            return torch.relu(self.branch(x) + self.skip(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for mid, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(c, mid, stride if i == 0 else 1))
            c = 4 * mid
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers), Bottleneck


def test_bottleneck_saving_and_resnet50_parameter_count():
    branch = (
        conv_params(1, 256, 64, bias=False) + conv_params(3, 64, 64, bias=False) + conv_params(1, 64, 256, bias=False)
    )
    assert branch == 16_384 + 36_864 + 16_384 == 69_632
    basic = 2 * conv_params(3, 256, 256, bias=False)
    assert basic == 1_179_648
    assert basic / branch == pytest.approx(17, abs=0.1)
    torch = pytest.importorskip("torch")
    model, bottleneck = _resnet50(torch)
    total = sum(p.numel() for p in model.parameters())
    assert total == pytest.approx(25.6e6, rel=0.002)
    block = bottleneck(256, 64)
    convs = sum(m.weight.numel() for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    assert convs == branch
    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_vgg16_parameters_live_in_dense_layers_compute_in_convs():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    c, size, conv_p, conv_macs, conv_acts = 3, 224, 0, 0, 0
    for v in cfg:
        if v == "M":
            size //= 2
            continue
        conv_p += conv_params(3, c, v)
        conv_macs += size * size * v * 9 * c
        conv_acts += size * size * v
        c = v
    dense = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
    dense_p = sum(i * o + o for i, o in dense)
    dense_macs = sum(i * o for i, o in dense)
    total = conv_p + dense_p
    assert total == 138_357_544
    assert dense_p == pytest.approx(123.6e6, rel=0.001)
    assert dense_p / total == pytest.approx(0.89, abs=0.005)
    assert dense[0][0] * dense[0][1] + dense[0][1] == pytest.approx(102.8e6, rel=0.001)
    assert conv_macs + dense_macs == pytest.approx(15.5e9, rel=0.01)
    assert dense_macs == pytest.approx(0.12e9, rel=0.05)
    assert dense_macs / (conv_macs + dense_macs) < 0.01
    # memory follow-up: conv outputs per image and the batch-64 fp32 total vs 16 bytes per parameter
    assert conv_acts == pytest.approx(13.5e6, rel=0.01)
    assert conv_acts * 4 * 64 / 1e9 == pytest.approx(3.5, abs=0.05)
    assert total * 16 / 1e9 == pytest.approx(2.2, abs=0.05)


def test_one_by_one_conv_equals_linear_over_channels():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 8, 1)
    lin = torch.nn.Linear(16, 8)
    with torch.no_grad():
        lin.weight.copy_(conv.weight.reshape(8, 16))
        lin.bias.copy_(conv.bias)
    x = torch.randn(2, 16, 5, 7)
    assert torch.allclose(conv(x), lin(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), atol=1e-6)


def test_im2col_convolution_matches_torch_and_is_cross_correlation():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 11, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    for stride, pad in ((1, 0), (1, 1), (2, 1), (3, 2)):
        ours = conv2d_im2col(x, w, b, stride, pad)
        ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride, pad)
        assert np.allclose(ours, ref.numpy(), atol=1e-10)
    # a true (flipped-kernel) convolution differs unless the kernel is flipped
    flipped = conv2d_im2col(x, w[:, :, ::-1, ::-1].copy(), b)
    assert not np.allclose(flipped, conv2d_im2col(x, w, b))


def test_transposed_conv_output_size_and_uneven_overlap():
    torch = pytest.importorskip("torch")

    def tconv_out(n, k, s, p, op=0):
        return (n - 1) * s - 2 * p + k + op

    assert tconv_out(16, 4, 2, 1) == 32
    assert tconv_out(8, 3, 2, 1) == 15
    assert tconv_out(8, 3, 2, 1, 1) == 16
    for n, k, s, p, op in ((16, 4, 2, 1, 0), (8, 3, 2, 1, 0), (8, 3, 2, 1, 1), (5, 5, 3, 0, 2)):
        layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op)
        assert layer(torch.zeros(1, 1, n, n)).shape[-1] == tconv_out(n, k, s, p, op)

    def overlap(k, s, n=8):
        layer = torch.nn.ConvTranspose1d(1, 1, k, s, bias=False)
        torch.nn.init.constant_(layer.weight, 1.0)
        with torch.no_grad():
            return layer(torch.ones(1, 1, n))[0, 0, k:-k].tolist()

    odd = overlap(3, 2)
    assert set(odd) == {1.0, 2.0} and odd[0] != odd[1]  # alternating contributions: checkerboard
    assert set(overlap(4, 2)) == {2.0}  # k divisible by s: even coverage


def test_conv_bias_cancelled_by_batchnorm_and_fold_matches_eval():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.randn(8, 3, 10, 10)
    conv = torch.nn.Conv2d(3, 6, 3, padding=1)
    bn = torch.nn.BatchNorm2d(6).train()
    out_with_bias = bn(conv(x))
    no_bias = torch.nn.Conv2d(3, 6, 3, padding=1, bias=False)
    with torch.no_grad():
        no_bias.weight.copy_(conv.weight)
    assert torch.allclose(torch.nn.BatchNorm2d(6).train()(no_bias(x)), out_with_bias, atol=1e-5)

    # give BN non-trivial statistics and affine parameters, then fold
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    bn.eval()
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = torch.nn.Conv2d(3, 6, 3, padding=1)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * a[:, None, None, None])
        folded.bias.copy_(a * (conv.bias - bn.running_mean) + bn.bias)
    assert torch.allclose(folded(x), bn(conv(x)), atol=1e-5)


def test_requires_grad_false_does_not_freeze_batchnorm_statistics():
    torch = pytest.importorskip("torch")
    bn = torch.nn.BatchNorm2d(4)
    for p in bn.parameters():
        p.requires_grad_(False)
    assert bn.momentum == 0.1
    before = bn.running_mean.clone()
    bn.train()
    bn(torch.randn(8, 4, 5, 5) + 3.0)
    assert not torch.equal(bn.running_mean, before)  # drifted despite requires_grad=False
    frozen = bn.running_mean.clone()
    bn.eval()
    bn(torch.randn(8, 4, 5, 5) - 3.0)
    assert torch.equal(bn.running_mean, frozen)
    # model.train() resets submodules to train mode, so eval() must be re-applied
    seq = torch.nn.Sequential(bn)
    seq.train()
    assert bn.training


def test_residual_identity_path_keeps_first_layer_gradient():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    depth, width = 50, 32
    layers = [torch.nn.Linear(width, width).double() for _ in range(depth)]
    probe = torch.randn(64, width, dtype=torch.float64)
    for layer in layers:
        torch.nn.init.normal_(layer.weight, std=0.5 / math.sqrt(width))
        torch.nn.init.zeros_(layer.bias)

    def first_grad(residual):
        h = torch.randn(64, width, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        for layer in layers:
            h = h + torch.tanh(layer(h)) if residual else torch.tanh(layer(h))
        (h * probe).sum().backward()  # linear read-out: upstream gradient of order 1
        g = layers[0].weight.grad.norm().item()
        for layer in layers:
            layer.weight.grad = None
            layer.bias.grad = None
        return g

    plain, res = first_grad(False), first_grad(True)
    assert plain < 1e-6  # product of 50 Jacobians with gain ~0.5 each
    assert res > 1.0
    assert res / plain > 1e6
    # one block's Jacobian is I + J_F
    block = layers[0]
    x0 = torch.randn(width, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: v + torch.tanh(block(v)), x0)
    jac_f = torch.autograd.functional.jacobian(lambda v: torch.tanh(block(v)), x0)
    assert torch.allclose(jac, torch.eye(width, dtype=torch.float64) + jac_f, atol=1e-12)


def test_stride_one_conv_is_shift_equivariant_stride_two_is_not():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.randn(1, 1, 16, 16)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    shifted = torch.roll(x, shifts=1, dims=-1)
    assert torch.allclose(conv(shifted), torch.roll(conv(x), shifts=1, dims=-1), atol=1e-6)
    conv2 = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, padding_mode="circular", bias=False)
    y, y_shift = conv2(x), conv2(shifted)
    # a one-pixel input shift is not a whole-pixel shift of the stride-2 output
    assert all(not torch.allclose(y_shift, torch.roll(y, shifts=s, dims=-1), atol=1e-3) for s in range(8))


def test_vit_token_count_and_attention_growth():
    tokens_224 = (224 // 16) ** 2
    tokens_448 = (448 // 16) ** 2
    assert tokens_224 == 196 and tokens_448 == 784
    assert tokens_448 / tokens_224 == 4
    assert tokens_448**2 / tokens_224**2 == 16


def test_reshape_is_not_permute_and_chance_loss_is_log_k():
    rng = np.random.default_rng(0)
    hwc = rng.standard_normal((4, 5, 3))
    assert hwc.reshape(3, 4, 5).shape == np.transpose(hwc, (2, 0, 1)).shape
    assert not np.allclose(hwc.reshape(3, 4, 5), np.transpose(hwc, (2, 0, 1)))
    assert math.log(10) == pytest.approx(2.303, abs=1e-3)
    torch = pytest.importorskip("torch")
    logits = torch.zeros(32, 10)
    labels = torch.randint(0, 10, (32,))
    assert torch.nn.functional.cross_entropy(logits, labels).item() == pytest.approx(math.log(10))


# --- audit-b additions ------------------------------------------------------------------------


def test_grouped_conv_divides_weights_but_not_biases():
    """conv-parameter-and-flop-count follow-up: one bias per output channel whatever the groups."""
    assert conv_params(3, 64, 128, groups=4) == 18_432 + 128 == 18_560
    torch = pytest.importorskip("torch")
    for groups in (1, 2, 4, 64):
        conv = torch.nn.Conv2d(64, 128, 3, groups=groups)
        assert conv.weight.numel() == 3 * 3 * (64 // groups) * 128
        assert conv.bias.numel() == 128
        assert sum(p.numel() for p in conv.parameters()) == conv_params(3, 64, 128, groups=groups)
    from torch.utils.flop_counter import FlopCounterMode

    counts = {}
    for groups in (1, 4):
        counter = FlopCounterMode(display=False)
        with counter:
            torch.nn.Conv2d(64, 128, 3, padding=1, groups=groups, bias=False)(torch.zeros(1, 64, 56, 56))
        counts[groups] = counter.get_total_flops()
    assert counts[1] == 4 * counts[4]  # MACs are divided by g as well


def test_same_padding_is_stride_one_only_and_floor_can_skip_real_rows():
    """conv-output-size-formula: padding='same' is refused for strided convs; the floor can
    leave the last (n + 2p - k) mod s rows unused, real pixels when p is small."""
    torch = pytest.importorskip("torch")
    assert torch.nn.Conv2d(3, 3, 5, padding="same")(torch.zeros(1, 3, 17, 17)).shape[-1] == 17
    with pytest.raises(ValueError, match="strided"):
        torch.nn.Conv2d(3, 3, 3, stride=2, padding="same")

    def unused_rows(n, k, s, p):
        conv = torch.nn.Conv2d(1, 1, k, s, p, bias=False)
        torch.nn.init.constant_(conv.weight, 1.0)
        x = torch.zeros(1, 1, n, n, requires_grad=True)
        conv(x).sum().backward()
        return int((x.grad[0, 0].abs().sum(dim=1) == 0).sum())

    assert (10 + 0 - 3) % 2 == 1 and unused_rows(10, 3, 2, 0) == 1  # a real row is dropped
    # ResNet's stem: the uncovered row is padding, so every real pixel is used
    assert (224 + 6 - 7) % 2 == 1 and unused_rows(224, 7, 2, 3) == 0


def test_transposed_conv_is_the_input_gradient_of_conv():
    """conv2d-im2col-implementation follow-up: the col2im fold is a transposed convolution."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    for stride, pad in ((1, 1), (2, 1)):
        x = torch.randn(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
        y = torch.nn.functional.conv2d(x, w, stride=stride, padding=pad)
        g = torch.randn_like(y)
        (dx,) = torch.autograd.grad(y, x, g)
        out_pad = (9 + 2 * pad - 3) % stride
        ref = torch.nn.functional.conv_transpose2d(g, w, stride=stride, padding=pad, output_padding=out_pad)
        assert torch.allclose(dx, ref, atol=1e-12)


def test_bn_before_conv_folds_exactly_only_without_zero_padding():
    """conv-bn-fold-and-bias / bn-fold-into-conv follow-ups: a BN before the conv is a per-input-channel
    affine map a * x + c; folding it is exact without padding and wrong at the borders with zero padding."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    bn = torch.nn.BatchNorm2d(3).double().eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    c = bn.bias - a * bn.running_mean
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    for pad in (0, 1):
        conv = torch.nn.Conv2d(3, 4, 3, padding=pad).double()
        folded = torch.nn.Conv2d(3, 4, 3, padding=pad).double()
        with torch.no_grad():
            folded.weight.copy_(conv.weight * a.view(1, -1, 1, 1))
            folded.bias.copy_(conv.bias + (conv.weight * c.view(1, -1, 1, 1)).sum(dim=(1, 2, 3)))
        ref, got = conv(bn(x)), folded(x)
        if pad == 0:
            assert torch.allclose(got, ref, atol=1e-10)
        else:
            assert torch.allclose(got[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-10)  # interior exact
            assert not torch.allclose(got[..., 0, :], ref[..., 0, :], atol=1e-3)  # border differs


def test_param_group_lr_ratio_under_schedulers():
    """transfer-learning-what-to-freeze follow-up: multiplicative schedulers keep the backbone/head
    LR ratio; a cosine floor (eta_min > 0) or a OneCycleLR with one shared max_lr does not."""
    torch = pytest.importorskip("torch")
    sched = torch.optim.lr_scheduler

    def ratios(make, steps=50):
        opt = torch.optim.SGD(
            [
                {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1e-4},
                {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1e-3},
            ]
        )
        s = make(opt)
        out = []
        for _ in range(steps):
            opt.step()
            s.step()
            lrs = s.get_last_lr()
            out.append(lrs[1] / lrs[0])
        return out

    for make in (
        lambda o: sched.StepLR(o, 10, 0.5),
        lambda o: sched.LambdaLR(o, lambda t: min(1.0, (t + 1) / 10)),
        lambda o: sched.LinearLR(o, 0.1, 1.0, 10),
        lambda o: sched.CosineAnnealingLR(o, 100, eta_min=0.0),
    ):
        assert all(r == pytest.approx(10.0) for r in ratios(make))
    floor = ratios(lambda o: sched.CosineAnnealingLR(o, 60, eta_min=5e-5))
    assert floor[-1] < 9.0
    one_cycle = ratios(lambda o: sched.OneCycleLR(o, max_lr=1e-3, total_steps=60))
    assert one_cycle[-1] == pytest.approx(1.0)


def test_convnext_stage_ratio_matches_swin_t_not_its_depths():
    """convnext-modernized-resnet: (3, 4, 6, 3) -> (3, 3, 9, 3) copies Swin-T's 1:1:3:1 ratio;
    Swin-T's own depths are (2, 2, 6, 2)."""
    resnet50, convnext_t, swin_t = (3, 4, 6, 3), (3, 3, 9, 3), (2, 2, 6, 2)

    def ratio(depths):
        return tuple(d / depths[0] for d in depths)

    assert ratio(convnext_t) == ratio(swin_t) == (1, 1, 3, 1)
    assert convnext_t != swin_t and ratio(resnet50) != ratio(swin_t)
    assert sum(resnet50) == 16 and sum(convnext_t) == 18


# --- pooling-strided-conv-backward -------------------------------------------------------------


def test_max_and_avg_pool_gradients_route_and_spread():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    # max-pool: the window's gradient goes to the argmax only
    x = torch.tensor([[[[1.0, 3.0], [2.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 1.0, 0.0, 0.0]
    # ties: max_pool2d gives everything to one position (the first in scan order on CPU),
    # torch.amax splits it evenly
    x = torch.tensor([[[[1.0, 3.0], [3.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 1.0, 0.0, 0.0]
    x.grad = None
    x.amax().backward()
    assert x.grad.flatten().tolist() == [0.0, 0.5, 0.5, 0.0]
    # the forward pass saves the argmax indices for the backward
    y = F.max_pool2d(torch.randn(1, 1, 4, 4, requires_grad=True), 2)
    assert type(y.grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    # overlapping 3x3 stride-2 windows: a single large value in a 5x5 map wins all 4 windows
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 5.0
    x.requires_grad_()
    F.max_pool2d(x, 3, stride=2).sum().backward()
    assert x.grad[0, 0, 2, 2].item() == 4.0 and x.grad.sum().item() == 4.0
    # average pooling: g / k^2 per window; the divisor stays k^2 at padded borders by default
    x = torch.randn(1, 1, 4, 4, requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, 0.25))
    x = torch.ones(1, 1, 3, 3, requires_grad=True)
    y = F.avg_pool2d(x, 3, stride=1, padding=1)
    assert y[0, 0, 0, 0].item() == pytest.approx(4 / 9)  # 4 real ones / 9, padding counted
    y.sum().backward()
    assert x.grad[0, 0, 0, 0].item() == pytest.approx(4 / 9)  # corner input lies in 4 windows


def _zero_insert_correlate(dy, w, stride, pad, in_size):
    """Input gradient of a strided conv by hand: dilate dy with stride - 1 zeros, pad by k - 1 - p,
    correlate with the kernel rotated 180 degrees and its in/out channels swapped."""
    torch = pytest.importorskip("torch")
    n, c_out, h, wd = dy.shape
    k = w.shape[-1]
    dil = torch.zeros(n, c_out, (h - 1) * stride + 1, (wd - 1) * stride + 1, dtype=dy.dtype)
    dil[:, :, ::stride, ::stride] = dy
    q = k - 1 - pad
    extra = in_size - ((h - 1) * stride + 1 + 2 * q - k + 1)  # rows the floor dropped, at the far end
    dil = torch.nn.functional.pad(dil, (q, q + extra, q, q + extra))
    w_flip = w.flip(-1, -2).transpose(0, 1)  # (c_in, c_out, k, k)
    return torch.nn.functional.conv2d(dil, w_flip)


def test_strided_conv_input_gradient_is_zero_insertion_and_flipped_kernel():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    for size, stride, pad in ((9, 2, 1), (10, 2, 1), (10, 2, 0), (11, 3, 1)):
        x = torch.randn(2, 3, size, size, dtype=torch.float64, requires_grad=True)
        y = torch.nn.functional.conv2d(x, w, stride=stride, padding=pad)
        dy = torch.randn_like(y)
        (dx,) = torch.autograd.grad(y, x, dy)
        out_pad = (size + 2 * pad - 3) % stride
        via_transpose = torch.nn.functional.conv_transpose2d(dy, w, stride=stride, padding=pad, output_padding=out_pad)
        assert torch.allclose(dx, via_transpose, atol=1e-12)
        assert torch.allclose(dx, _zero_insert_correlate(dy, w, stride, pad, size), atol=1e-12)


def test_strided_conv_gradient_checkerboard_and_floor_dropped_rows():
    torch = pytest.importorskip("torch")
    # k = 3, s = 2: a uniform upstream gradient reaches inputs under 1 or 2 windows alternately
    x = torch.zeros(1, 1, 11, 11, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    y = torch.nn.functional.conv2d(x, w, stride=2)
    y.backward(torch.ones_like(y))
    one_d = [1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1]  # windows covering each position along one axis
    assert x.grad[0, 0, 3].tolist() == one_d  # an odd row lies under one window vertically
    assert x.grad[0, 0, 4].tolist() == [2 * v for v in one_d]  # an even row under two
    # 10 inputs, k = 3, s = 2, no padding: 4 outputs cover rows 0..8, row 9 gets exactly zero gradient
    x = torch.randn(1, 1, 10, 10, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, torch.randn(1, 1, 3, 3, dtype=torch.float64), stride=2)
    assert y.shape[-1] == 4
    y.sum().backward()
    assert torch.all(x.grad[0, 0, 9] == 0) and torch.all(x.grad[0, 0, :, 9] == 0)


# --- fc-layers-as-convolutions -------------------------------------------------------------------

VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def _vgg16_macs(n):
    c, total = 3, 0
    for v in VGG16_CFG:
        if v == "M":
            n //= 2
            continue
        total += n * n * 9 * c * v
        c = v
    return total, n


def test_fc_head_as_conv_parameters_and_dense_evaluation_cost():
    assert 7 * 7 * 512 == 25_088
    assert 25_088 * 4096 + 4096 == pytest.approx(102.8e6, rel=0.001)
    head = 25_088 * 4096 + 4096 * 4096 + 4096 * 1000  # multiply-adds of fc6, fc7, fc8 at one position
    conv224, side224 = _vgg16_macs(224)
    conv384, side384 = _vgg16_macs(384)
    assert side224 == 7 and side384 == 12 and side384 - 7 + 1 == 6
    assert conv224 / 1e9 == pytest.approx(15.3, abs=0.05)
    assert (conv224 + head) / 1e9 == pytest.approx(15.5, abs=0.05)
    assert conv384 / 1e9 == pytest.approx(45, abs=0.5)
    assert 36 * head / 1e9 == pytest.approx(4.5, abs=0.1)
    dense = conv384 + 36 * head
    crops = 36 * (conv224 + head)
    assert dense / 1e9 == pytest.approx(50, abs=1) and crops / 1e9 == pytest.approx(557, abs=1)
    assert crops / dense == pytest.approx(11, abs=0.5)
    assert 224 - 32 == 192  # neighbouring crops overlap by 192 pixels along an axis


def test_fc_layer_equals_full_size_conv_and_slides_on_larger_input():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    c, side, hidden = 8, 7, 16
    fc = torch.nn.Linear(c * side * side, hidden).double()
    conv = torch.nn.Conv2d(c, hidden, side).double()
    with torch.no_grad():
        conv.weight.copy_(fc.weight.view(hidden, c, side, side))  # flatten order is (C, H, W)
        conv.bias.copy_(fc.bias)
    feat = torch.randn(2, c, side, side, dtype=torch.float64)
    assert torch.allclose(conv(feat).flatten(1), fc(feat.flatten(1)))
    # a wrong reshape (H, W, C order) breaks the equivalence
    wrong = fc.weight.view(hidden, side, side, c).permute(0, 3, 1, 2)
    assert not torch.allclose(torch.nn.functional.conv2d(feat, wrong, fc.bias).flatten(1), fc(feat.flatten(1)))
    # a 12x12 feature map gives a 6x6 score map; each cell is the dense layer on one 7x7 window
    big = torch.randn(1, c, 12, 12, dtype=torch.float64)
    score_map = conv(big)
    assert score_map.shape[-2:] == (6, 6)
    for i, j in ((0, 0), (2, 5), (5, 3)):
        window = big[:, :, i : i + side, j : j + side]
        assert torch.allclose(score_map[0, :, i, j], fc(window.flatten(1))[0])


def test_dense_map_equals_crops_without_padding_only():
    """Follow-up: with zero padding, a crop run alone differs from the dense map near its edges."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    image = torch.randn(1, 1, 24, 24, dtype=torch.float64)
    for pad in (0, 1):
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=pad),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(4, 4, 3, padding=pad),
        ).double()
        with torch.no_grad():
            dense = net(image)
            crop = net(image[:, :, 4:20, 4:20])  # a 2-aligned crop (total stride 2)
            offset = 2
            aligned = dense[:, :, offset : offset + crop.shape[-2], offset : offset + crop.shape[-1]]
        if pad == 0:
            assert torch.allclose(crop, aligned)
        else:
            assert not torch.allclose(crop, aligned)
            assert torch.allclose(crop[..., 2:-2, 2:-2], aligned[..., 2:-2, 2:-2])  # interior agrees


# --- receptive-field-resnet-vgg-worked -----------------------------------------------------------


def _vgg16_rf_layers():
    layers = []
    for v in VGG16_CFG:
        layers.append((2, 2, 1) if v == "M" else (3, 1, 1))
    return layers


def _resnet50_main_path(stride_on_3x3):
    """(kernel, stride, dilation) along the longest path: stem, max-pool, bottlenecks (1x1, 3x3, 1x1)."""
    layers = [(7, 2, 1), (3, 2, 1)]
    ends = []
    for blocks, stage_stride in ((3, 1), (4, 2), (6, 2), (3, 2)):
        for b in range(blocks):
            s = stage_stride if b == 0 else 1
            if stride_on_3x3:
                layers += [(1, 1, 1), (3, s, 1), (1, 1, 1)]
            else:
                layers += [(1, s, 1), (3, 1, 1), (1, 1, 1)]
        ends.append(receptive_field(layers))
    return layers, ends


def test_receptive_field_worked_examples_vgg16_and_resnet50():
    layers = _vgg16_rf_layers()
    history, r, j = [], 1, 1
    for k, s, d in layers:
        r += d * (k - 1) * j
        j *= s
        history.append(r)
    assert history == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]
    assert j == 32
    assert receptive_field([*layers, (7, 1, 1)]) == 212 + 6 * 32 == 404  # fc6 as a 7x7 conv
    # closed form
    strides = [s for _, s, _ in layers]
    closed = 1 + sum((k - 1) * math.prod(strides[:i]) for i, (k, _, _) in enumerate(layers))
    assert closed == 212
    # ResNet-50: stride on the 3x3 (torchvision, "v1.5") vs on the first 1x1 (original)
    assert receptive_field([(7, 2, 1), (3, 2, 1)]) == 11
    assert _resnet50_main_path(stride_on_3x3=True)[1] == [35, 91, 267, 427]
    assert _resnet50_main_path(stride_on_3x3=False)[1] == [35, 99, 291, 483]


def _measured_span(net, n, torch):
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = net(x)
    c = y.shape[-1] // 2
    y[0, 0, c, c].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    return int(rows.min()), int(rows.max()), c


def test_receptive_fields_measured_by_gradient_on_one_channel_replicas():
    """Follow-up recipe: positive weights, no nonlinearity, average pools instead of max-pools."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def conv(k, s=1):
        layer = nn.Conv2d(1, 1, k, s, padding=(k - 1) // 2, bias=False).double()
        nn.init.constant_(layer.weight, 1.0 / (k * k))
        return layer

    vgg = nn.Sequential(*[nn.AvgPool2d(2, 2) if v == "M" else conv(3) for v in VGG16_CFG])
    lo, hi, c = _measured_span(vgg, 320, torch)
    assert hi - lo + 1 == 212
    assert (lo + hi) / 2 == 32 * c + 15.5  # centre of unit i: 32 i + 15.5

    class Bottleneck(nn.Module):
        def __init__(self, s, on_3x3):
            super().__init__()
            self.branch = nn.Sequential(conv(1, 1 if on_3x3 else s), conv(3, s if on_3x3 else 1), conv(1))
            self.short = conv(1, s) if s > 1 else nn.Identity()

        def forward(self, x):
            return self.branch(x) + self.short(x)

    for on_3x3, expected in ((True, 427), (False, 483)):
        blocks = [conv(7, 2), nn.AvgPool2d(3, 2, padding=1)]
        for n_blocks, stage_stride in ((3, 1), (4, 2), (6, 2), (3, 2)):
            blocks += [Bottleneck(stage_stride if b == 0 else 1, on_3x3) for b in range(n_blocks)]
        lo, hi, _ = _measured_span(nn.Sequential(*blocks), 704, torch)
        assert hi - lo + 1 == expected


# --- detection-segmentation-heads -----------------------------------------------------------------


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def _greedy_nms(boxes, scores, thr):
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep = []
    for i in order:
        if all(_iou(boxes[i], boxes[k]) <= thr for k in keep):
            keep.append(i)
    return keep


def test_greedy_nms_removes_duplicates_and_also_crowded_true_boxes():
    assert 3 * 3 == 9  # anchors per location: 3 scales x 3 aspect ratios
    dupes = [(0, 0, 10, 10), (1, 0, 11, 10), (50, 50, 60, 60)]
    assert _greedy_nms(dupes, [0.9, 0.8, 0.7], 0.5) == [0, 2]  # the near-duplicate is suppressed
    # two different people standing close together: their true boxes overlap with IoU 0.6
    crowd = [(0, 0, 10, 10), (2.5, 0, 12.5, 10)]
    assert _iou(*crowd) == pytest.approx(0.6)
    assert _greedy_nms(crowd, [0.9, 0.85], 0.5) == [0]  # a true detection is lost
    # focal loss follow-up: (1 - p_t)^2 shrinks an easy example (p_t = 0.9) by 100x, a hard one (0.1) barely
    assert (1 - 0.9) ** 2 == pytest.approx(0.01) and (1 - 0.1) ** 2 == pytest.approx(0.81)


# --- cnn-visualization-saliency-gradcam -----------------------------------------------------------


def test_grad_cam_weights_are_mean_gradients_and_reduce_to_cam_under_gap():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    features = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU()).double()
    head = torch.nn.Linear(6, 4).double()
    image = torch.randn(1, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    acts = features(image)  # A_k, 7 x 7 like ResNet-50's last stage at 224 x 224
    acts.retain_grad()
    scores = head(acts.mean(dim=(2, 3)))  # global average pooling then linear
    target = 2
    scores[0, target].backward()
    alpha = acts.grad.mean(dim=(2, 3))[0]  # spatial mean of d y_c / d A_k
    grad_cam = torch.relu((alpha[:, None, None] * acts[0]).sum(0))
    # with a GAP + linear head, d y_c / d A_k = w_ck / (H W) everywhere, so Grad-CAM = ReLU(CAM) / (H W)
    assert torch.allclose(alpha, head.weight[target] / 49)
    cam = (head.weight[target][:, None, None] * acts[0]).sum(0)
    assert torch.allclose(grad_cam, torch.relu(cam) / 49)
    # the plain saliency map is the input gradient, one value per pixel and channel
    assert image.grad.shape == image.shape
