"""HRNet-W32 structure, BatchNorm momentum, config handling, learning-rate steps and the loss."""

import os

import mindspore as ms
import numpy as np
import pytest
from conftest import ROOT
from mindspore import nn
from src.config import load_config
from src.loss.loss import JointsMSELoss
from src.model.HRNet import BN_MOMENTUM, conv_flops, count_params, get_pose_net


@pytest.fixture(scope="module")
def w32():
    cfg = load_config(os.path.join(ROOT, "config.yaml"))
    return cfg, get_pose_net(cfg)


def test_w32_matches_the_paper(w32):
    cfg, net = w32
    extra = cfg.MODEL.EXTRA
    assert [extra[s]["NUM_MODULES"] for s in ("STAGE2", "STAGE3", "STAGE4")] == [1, 4, 3]
    assert extra.STAGE4.NUM_CHANNELS == [32, 64, 128, 256]
    # HRNet paper, Table 1: HRNet-W32 28.5M parameters (17 joints; 36 add 627 to the head)
    assert count_params(net) / 1e6 == pytest.approx(28.5, abs=0.05)
    assert count_params(net) == 28536740
    # 2 x multiply-adds of the convolutions at 256 x 192 (paper: 7.1 GFLOPs as multiply-adds)
    assert conv_flops(net, (192, 256)) / 2e9 == pytest.approx(7.65, abs=0.01)


def test_conv_flops_equal_pytorchs_flop_counter_on_an_independent_hrnet(w32):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    from torch_hrnet import PoseHRNet

    cfg, net = w32
    model = PoseHRNet(cfg.MODEL.NUM_JOINTS, cfg.MODEL.EXTRA).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 256, 192))
    assert conv_flops(net, (192, 256)) == counter.get_total_flops()


def test_every_batchnorm_uses_the_pytorch_equivalent_momentum(w32):
    _, net = w32
    bns = [c for _, c in net.cells_and_names() if isinstance(c, nn.BatchNorm2d)]
    assert len(bns) > 200
    assert BN_MOMENTUM == 0.9  # MindSpore's argument: the share kept of the running value
    # the cell stores the share given to the new batch statistic, PyTorch's momentum: 0.1
    assert all(abs(bn.momentum - 0.1) < 1e-9 for bn in bns)
    assert all(abs(bn.eps - 1e-5) < 1e-12 for bn in bns)


def test_heatmaps_are_a_quarter_of_the_input(tiny_cfg):
    ms.set_context(mode=ms.PYNATIVE_MODE)
    net = get_pose_net(tiny_cfg)
    net.set_train(False)
    out = net(ms.Tensor(np.zeros((2, 3, 64, 64), np.float32)))
    assert out.shape == (2, 36, 16, 16)


def test_config_rejects_unknown_keys_and_applies_overrides(tmp_path):
    cfg = load_config(os.path.join(ROOT, "config.yaml"), ["TRAIN.LR=0.002", "TEST.FLIP_TEST=False"])
    assert cfg.TRAIN.LR == 0.002 and cfg.TEST.FLIP_TEST is False
    assert cfg.TRAIN.LR_STEP == [170, 200] and cfg.TRAIN.END_EPOCH == 210
    assert cfg.TRAIN.BATCH_SIZE == 32 and cfg.DATASET.ROT_PROB == 0.6
    with pytest.raises(ValueError, match="unknown config key TRAIN.LRR"):
        load_config(None, ["TRAIN.LRR=1"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("MODEL:\n  SIGMAA: 3\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown config key MODEL.SIGMAA"):
        load_config(str(bad))


def test_joints_mse_loss_is_half_the_weighted_mean_square():
    ms.set_context(mode=ms.PYNATIVE_MODE)
    rng = np.random.default_rng(0)
    out, target = rng.random((2, 36, 4, 4), np.float32), rng.random((2, 36, 4, 4), np.float32)
    weight = rng.integers(0, 2, (2, 36)).astype(np.float32)
    got = JointsMSELoss(True)(ms.Tensor(out), ms.Tensor(target), ms.Tensor(weight))
    expected = 0.5 * np.mean(((out - target) * weight[..., None, None]) ** 2)
    assert float(got.asnumpy()) == pytest.approx(expected, rel=1e-5)


def test_untrained_heatmaps_start_near_zero(tiny_cfg):
    # HRNet's N(0, 0.001^2) initialisation: training starts at the all-zero heatmaps
    ms.set_context(mode=ms.PYNATIVE_MODE)
    net = get_pose_net(tiny_cfg)
    net.set_train(False)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    out = net(ms.Tensor(x)).asnumpy()
    assert 0 < np.abs(out).max() < 1e-3
    weights = [p.asnumpy() for p in net.trainable_params() if p.name.endswith("conv1.weight")]
    assert all(abs(w.std() - 0.001) < 0.0005 for w in weights if w.size > 100)
