"""utils.py against NumPy: pose vectors, rigid flow, bilinear sampling."""

import numpy as np
import tensorflow as tf
import utils

from posekit import geometry


def run(t):
    with tf.compat.v1.Session() as sess:
        return sess.run(t)


def test_pose_vec_to_mat_matches_posekit():
    rng = np.random.default_rng(0)
    vecs = np.concatenate([rng.normal(0, 1, (5, 3)), rng.uniform(-1, 1, (5, 3))], axis=1)
    with tf.Graph().as_default():
        mats = run(utils.pose_vec_to_mat(tf.constant(vecs, tf.float32)))
        inv = run(utils.invert_rigid(tf.constant(mats)))
    for v, m, mi in zip(vecs, mats, inv):
        np.testing.assert_allclose(m, geometry.pose_vec_to_matrix(v), atol=1e-5)
        np.testing.assert_allclose(mi @ m, np.eye(4), atol=1e-5)


def test_rigid_flow_matches_numpy_projection():
    rng = np.random.default_rng(1)
    h, w = 6, 10
    K = np.array([[8.0, 0, 4.5], [0, 7.0, 2.5], [0, 0, 1]])
    depth = rng.uniform(2, 10, (h, w))
    vec = np.array([0.1, -0.05, 0.3, 0.02, -0.04, 0.01])
    with tf.Graph().as_default():
        flow = run(
            utils.compute_rigid_flow(
                tf.constant(depth[None], tf.float32),
                tf.constant(vec[None], tf.float32),
                tf.constant(K[None], tf.float32),
            )
        )[0]
        back = run(
            utils.compute_rigid_flow(
                tf.constant(depth[None], tf.float32),
                tf.constant(vec[None], tf.float32),
                tf.constant(K[None], tf.float32),
                reverse_pose=True,
            )
        )[0]
    T = geometry.pose_vec_to_matrix(vec)
    v, u = np.mgrid[0:h, 0:w]
    pts = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(h * w)]) * depth.ravel()
    for M, out in ((T, flow), (np.linalg.inv(T), back)):
        q = K @ (M[:3, :3] @ pts + M[:3, 3:])
        expected = (q[:2] / q[2]).T.reshape(h, w, 2) - np.stack([u, v], -1)
        np.testing.assert_allclose(out, expected, atol=1e-3)


def test_bilinear_sample_and_flow_warp():
    rng = np.random.default_rng(2)
    img = rng.uniform(0, 1, (1, 5, 7, 2)).astype(np.float32)
    coords = np.array([[[[1.25, 2.5], [0.0, 0.0], [6.0, 4.0], [-3.0, 10.0]]]], np.float32)
    with tf.Graph().as_default():
        out = run(utils.bilinear_sample(tf.constant(img), tf.constant(coords)))[0, 0]
        shifted = run(utils.flow_warp(tf.constant(img), tf.ones([1, 5, 7, 2])))[0]
    # (x, y) = (1.25, 2.5): columns 1 and 2 weighted 0.75 / 0.25, rows 2 and 3 half each
    expected = 0.5 * (0.75 * img[0, 2, 1] + 0.25 * img[0, 2, 2]) + 0.5 * (
        0.75 * img[0, 3, 1] + 0.25 * img[0, 3, 2]
    )
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    np.testing.assert_allclose(out[1], img[0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(out[2], img[0, 4, 6], atol=1e-6)
    np.testing.assert_allclose(out[3], img[0, 4, 0], atol=1e-6)  # clamped to the border
    np.testing.assert_allclose(shifted[:4, :6], img[0, 1:, 1:], atol=1e-6)


def test_in_view_marks_pixels_whose_flow_stays_inside():
    flow = np.zeros((1, 5, 7, 2), np.float32)
    flow[..., 0] = 2.5  # 2.5 px right: columns 4 to 6 land beyond x = 6
    flow[0, 0, 0] = [0.0, -0.5]  # half a pixel above the top row
    with tf.Graph().as_default():
        mask = run(utils.in_view(tf.constant(flow)))[0, ..., 0]
    expected = np.ones((5, 7))
    expected[:, 4:] = 0
    expected[0, 0] = 0
    np.testing.assert_array_equal(mask, expected)


def test_multi_scale_intrinsics_follow_the_area_pyramid():
    # A ramp image holds each pixel's column and row; after the model's area pyramid a pixel
    # holds the full-resolution coordinates of its centre, which must cast the same ray.
    from geonet_model import GeoNetModel

    K = np.array([[[60.2, 0, 51.8], [0, 59.1, 15.7], [0, 0, 1]]], np.float32)
    u, v = np.meshgrid(np.arange(104.0), np.arange(32.0))
    ramp = np.stack([u, v], axis=-1)[None].astype(np.float32)
    with tf.Graph().as_default():
        pyramid = GeoNetModel.scale_pyramid(tf.constant(ramp), 4)
        ks, pyramid = run((utils.multi_scale_intrinsics(tf.constant(K), 4), pyramid))
    assert ks.shape == (1, 4, 3, 3)
    for s in range(4):
        h, w = pyramid[s].shape[1:3]
        us, vs = np.meshgrid(np.arange(w), np.arange(h))
        for axis, coords in ((0, us), (1, vs)):
            k = ks[0, s]
            ray = (coords - k[axis, 2]) / k[axis, axis]
            full = (pyramid[s][0, ..., axis] - K[0, axis, 2]) / K[0, axis, axis]
            np.testing.assert_allclose(ray, full, atol=1e-5)
