import numpy as np
import pytest
import tensorflow as tf
from src import loss, model


def run(fn):
    g = tf.Graph()
    with g.as_default():
        out = fn()
        with tf.compat.v1.Session() as s:
            s.run(tf.compat.v1.global_variables_initializer())
            return s.run(out)


def test_transformer_loss_takes_the_closest_symmetric_target():
    rng = np.random.default_rng(0)
    tgt = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    vis = np.ones((2, 4, 4), np.float32)
    vis[:, 0, :] = 0  # a background row keeps its target (0 after the map is irrelevant)
    tgt[:, 0, :] = 0
    A = np.stack([np.eye(3), np.diag([-1.0, -1.0, 1.0])]).astype(np.float32)
    b = np.zeros((2, 3), np.float32)
    flipped = tgt * np.array([-1, -1, 1], np.float32)
    # sample 0 predicted exactly, sample 1 predicted as its symmetric twin
    pred = np.stack([tgt[0], flipped[1]])
    err = np.zeros((2, 4, 4, 1), np.float32)
    per_sample, pix = run(
        lambda: loss.transformer_loss(
            tf.constant(pred), tf.constant(tgt), tf.constant(err), tf.constant(vis), A, b
        )
    )
    np.testing.assert_allclose(per_sample, 0, atol=1e-6)
    np.testing.assert_allclose(pix, 0, atol=1e-6)
    # with the identity only, sample 1 pays beta * mean |difference| on object pixels
    per_sample, pix = run(
        lambda: loss.transformer_loss(
            tf.constant(pred), tf.constant(tgt), tf.constant(err), tf.constant(vis), A[:1], b[:1]
        )
    )
    diff = np.abs(flipped[1] - tgt[1]).mean(-1)
    err_term = np.minimum(diff, 1) ** 2
    expect = (3 * diff * vis[1] + diff * (1 - vis[1]) + 0.5 * err_term).mean()
    assert per_sample[0] == pytest.approx(0, abs=1e-6)
    assert per_sample[1] == pytest.approx(expect, rel=1e-5)


def test_error_head_target_is_the_clipped_pixel_loss():
    tgt = np.zeros((1, 2, 2, 3), np.float32)
    pred = np.full((1, 2, 2, 3), 0.5, np.float32)  # l = 0.5 everywhere, all background
    err = np.full((1, 2, 2, 1), 0.5, np.float32)  # predicted error exactly right
    vis = np.zeros((1, 2, 2), np.float32)
    eye = (np.eye(3, dtype=np.float32)[None], np.zeros((1, 3), np.float32))
    per_sample, _ = run(
        lambda: loss.transformer_loss(
            tf.constant(pred), tf.constant(tgt), tf.constant(err), tf.constant(vis), *eye
        )
    )
    assert per_sample[0] == pytest.approx(0.5)
    assert run(lambda: loss.bce(tf.constant([0.5]), tf.constant([1.0]))) == pytest.approx(
        np.log(2), rel=1e-5
    )


def test_generator_and_discriminator_shapes_and_ranges():
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)

    def build():
        xyz, err = model.generator(tf.constant(x), False, width=0.125, size=32)
        d = model.discriminator(xyz, False, width=0.125, size=32)
        return xyz, err, d

    xyz, err, d = run(build)
    assert xyz.shape == (2, 32, 32, 3) and err.shape == (2, 32, 32, 1) and d.shape == (2, 1)
    assert (
        np.all(np.abs(xyz) <= 1) and np.all((err >= 0) & (err <= 1)) and np.all((d >= 0) & (d <= 1))
    )
    with pytest.raises(ValueError, match="multiple of 16"):
        model.generator(tf.compat.v1.placeholder(tf.float32, [1, 40, 40, 3]), False, size=40)


def test_paper_size_network_parameter_counts():
    # 128 x 128, full width: the reference aemodel_unet_prob and DCGAN_discriminator layer sizes
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 128, 128, 3])
        model.discriminator(model.generator(x, True)[0], True)
        n_g, n_d = model.count_params("generator"), model.count_params("discriminator")
    # dense bottleneck 8*8*512 -> 256 and 256 -> 8*8*256 dominate the generator
    assert 8 * 8 * 512 * 256 + 256 * 8 * 8 * 256 < n_g
    assert (n_g, n_d) == (25735876, 8635905)
