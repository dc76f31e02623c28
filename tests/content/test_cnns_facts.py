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
