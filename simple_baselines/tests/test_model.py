import mindspore as ms
import numpy as np
import pytest
from mindspore import nn
from src.config import get_config
from src.network_with_loss import JointsMSELoss
from src.pose_resnet import PoseResNet, bn, count_params, get_pose_net

ms.set_context(mode=ms.PYNATIVE_MODE)


def test_resnet50_256x192_parameter_count_matches_paper():
    # SimpleBaseline ResNet-50 256x192: 34.0M parameters (HRNet paper, Table 1)
    net = get_pose_net(get_config())
    assert count_params(net) == 33_999_697
    bns = [c for _, c in net.cells_and_names() if isinstance(c, nn.BatchNorm2d)]
    # MindSpore keeps 1 - momentum internally: 0.1 here means the argument was 0.9
    assert len(bns) == 53 + 3 and all(abs(b.momentum - 0.1) < 1e-9 for b in bns)


def test_batchnorm_running_mean_moves_like_pytorch_momentum_0_1():
    layer = bn(2)
    layer.set_train(True)
    x = np.zeros((4, 2, 3, 3), np.float32)
    x[:, 0] = 5.0
    x[:, 1] = -2.0
    layer(ms.Tensor(x))
    # PyTorch momentum 0.1: running = 0.9 * running + 0.1 * batch mean
    np.testing.assert_allclose(layer.moving_mean.asnumpy(), [0.5, -0.2], rtol=1e-5)


def test_output_shape_and_head_init():
    net = PoseResNet(18, num_joints=5, deconv_filters=(16, 16, 16))
    net.set_train(False)
    out = net(ms.Tensor(np.zeros((2, 3, 64, 32), np.float32)))
    assert out.shape == (2, 5, 16, 8)
    w = net.final_layer.weight.asnumpy()
    assert w.shape == (5, 16, 1, 1) and 0.0003 < w.std() < 0.003  # normal(0.001)
    assert np.all(net.final_layer.bias.asnumpy() == 0)


def test_config_rejects_bad_sizes_and_unknown_keys():
    with pytest.raises(ValueError, match="HEATMAP_SIZE"):
        get_config(overrides=["MODEL.IMAGE_SIZE=[96,128]"])
    with pytest.raises(ValueError, match="unknown config entry 'TRAIN.LRR'"):
        get_config(overrides=["TRAIN.LRR=1"])
    cfg = get_config(overrides=["MODEL.IMAGE_SIZE=[96,128]", "NETWORK.HEATMAP_SIZE=[24,32]"])
    assert cfg.MODEL.IMAGE_SIZE == [96, 128] and cfg.NETWORK.HEATMAP_SIZE == [24, 32]


def test_joints_mse_loss_hand_worked():
    rng = np.random.default_rng(0)
    out = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    tgt = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    w = np.array([[1, 0, 1], [1, 1, 0]], np.float32)
    loss = JointsMSELoss(True)(ms.Tensor(out), ms.Tensor(tgt), ms.Tensor(w)).asnumpy()
    # reference: sum over joints of 0.5 * mean_{batch,pixels}((w*(o-t))^2), / joints
    per_joint = [
        0.5 * np.mean((w[:, k, None, None] * (out[:, k] - tgt[:, k])) ** 2) for k in range(3)
    ]
    assert loss == pytest.approx(np.sum(per_joint) / 3, rel=1e-5)
    # a weight-0 joint's error does not count
    out2 = out.copy()
    out2[0, 1] += 100
    loss2 = JointsMSELoss(True)(ms.Tensor(out2), ms.Tensor(tgt), ms.Tensor(w)).asnumpy()
    assert loss2 == pytest.approx(loss, rel=1e-6)
