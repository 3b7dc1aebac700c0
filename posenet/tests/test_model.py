import mindspore as ms
import numpy as np
import pytest
from src.posenet import PoseNet, PoseNetPredictor, adaptive_pool_matrix, count_parameters

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")


def adaptive_avg_pool_reference(x, out):
    """PyTorch's adaptive_avg_pool2d definition, written with loops."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, out, out), x.dtype)
    for i in range(out):
        r0, r1 = (i * h) // out, int(np.ceil((i + 1) * h / out))
        for j in range(out):
            c0, c1 = (j * w) // out, int(np.ceil((j + 1) * w / out))
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


@pytest.mark.parametrize("size", [4, 8, 14])
def test_adaptive_pool_matrix_matches_definition(size):
    x = np.random.default_rng(0).normal(size=(2, 3, size, size)).astype(np.float32)
    got = (x.reshape(6, size * size) @ adaptive_pool_matrix(size, 4)).reshape(2, 3, 4, 4)
    np.testing.assert_allclose(got, adaptive_avg_pool_reference(x, 4), rtol=1e-5, atol=1e-6)


def test_parameter_count_and_outputs():
    ms.set_seed(0)
    net = PoseNet(64)
    # GoogLeNet trunk 5.60 M + two auxiliary branches + main branch with the 2048-d layer.
    assert count_parameters(net) == 12_057_781
    assert count_parameters(PoseNet(64, b3_kernel=5)) == 12_438_709
    net.set_train(False)
    x = ms.Tensor(np.random.default_rng(1).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32))
    outs = net(x)
    assert [tuple(o.shape) for o in outs] == [(2, 3), (2, 4)] * 3
    pred = PoseNetPredictor(net)
    pred.set_train(False)
    y = pred(x).asnumpy()
    assert y.shape == (2, 7)
    np.testing.assert_allclose(np.linalg.norm(y[:, 3:], axis=1), 1.0, atol=1e-5)
    # The predictor is the main branch of the full network, quaternion normalised.
    main_xyz, main_q = outs[4].asnumpy(), outs[5].asnumpy()
    np.testing.assert_allclose(y[:, :3], main_xyz, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        y[:, 3:], main_q / np.linalg.norm(main_q, axis=1, keepdims=True), rtol=1e-4, atol=1e-6
    )


def test_position_bias_initialisation():
    net = PoseNet(64)
    net.init_position_bias([10.0, -5.0, 1.5])
    for dense in (net.aux1.xyz, net.aux2.xyz, net.head.xyz):
        np.testing.assert_allclose(dense.bias.asnumpy(), [10.0, -5.0, 1.5])


@pytest.mark.parametrize("size", [48, 100, 225])
def test_image_size_must_be_multiple_of_32(size):
    with pytest.raises(ValueError, match="multiple of 32"):
        PoseNet(size)
