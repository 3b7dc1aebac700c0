"""Warping a rendered source frame with ground-truth depth and pose reproduces the target frame;
a wrong pose does much worse, and the error is least at the true translation, for a source one and
two frames away (the geometry the rigid losses train on is right and does not favour shorter
motions)."""

import numpy as np
import pytest
import tensorflow as tf
from utils import compute_rigid_flow, flow_warp

from posekit import geometry
from posekit.synth import kitti as synth

W, H = 208, 64


@pytest.fixture(scope="module")
def rendered_frames():
    rng = np.random.default_rng(5)
    pos, yaw = synth.drive_path(rng, 12)
    poses = synth.camera_to_world(pos, yaw)
    parts = synth.build_street(rng, pos, yaw)
    sky = synth.sky_panorama(rng)
    K = synth.intrinsics(W, H)
    frames = list(synth.render_views(parts, sky, poses[[5, 6, 7]], K, W, H))
    return frames, poses[[5, 6, 7]], K


def photometric_error(tgt_rgb, tgt_depth, src_rgb, K, pose_vec):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        depth = tf.constant(np.maximum(tgt_depth, 1e-3)[None], tf.float32)
        flow = compute_rigid_flow(
            depth, tf.constant(pose_vec[None], tf.float32), tf.constant(K[None], tf.float32)
        )
        warped = flow_warp(tf.constant(src_rgb[None].astype(np.float32) / 255.0), flow)
        warped, flow = sess.run([warped[0], flow[0]])
    v, u = np.mgrid[0:H, 0:W]
    inside = (u + flow[..., 0] >= 0) & (u + flow[..., 0] <= W - 1)
    inside &= (v + flow[..., 1] >= 0) & (v + flow[..., 1] <= H - 1)
    valid = inside & (tgt_depth > 0)
    return np.abs(warped - tgt_rgb / 255.0).mean(axis=2)[valid].mean(), valid.mean()


def test_ground_truth_warp_reproduces_target(rendered_frames):
    (tgt, src, _), poses, K = rendered_frames
    (tgt_rgb, tgt_depth), (src_rgb, _) = tgt, src
    # target-to-source transform: source camera coordinates of a target-camera point
    T = geometry.invert(poses[1]) @ poses[0]
    true_vec = geometry.matrix_to_pose_vec(T)
    wrong_vec = true_vec + np.array([0.4, 0.0, -0.5, 0.0, np.radians(3.0), 0.0])
    err_true, coverage = photometric_error(tgt_rgb, tgt_depth, src_rgb, K, true_vec)
    err_wrong, _ = photometric_error(tgt_rgb, tgt_depth, src_rgb, K, wrong_vec)
    err_identity, _ = photometric_error(tgt_rgb, tgt_depth, src_rgb, K, np.zeros(6))
    assert coverage > 0.5
    assert err_true < 0.04
    assert err_true < 0.4 * err_wrong
    assert err_true < 0.5 * err_identity


@pytest.mark.parametrize("source", [1, 2])
def test_error_is_least_at_the_true_translation(rendered_frames, source):
    frames, poses, K = rendered_frames
    (tgt_rgb, tgt_depth), (src_rgb, _) = frames[0], frames[source]
    true_vec = geometry.matrix_to_pose_vec(geometry.invert(poses[source]) @ poses[0])

    def error(scale=1.0, heading_deg=0.0):
        vec = true_vec.copy()
        c, s = np.cos(np.radians(heading_deg)), np.sin(np.radians(heading_deg))
        vec[0], vec[2] = c * true_vec[0] + s * true_vec[2], c * true_vec[2] - s * true_vec[0]
        vec[:3] *= scale
        return photometric_error(tgt_rgb, tgt_depth, src_rgb, K, vec)[0]

    best = error()
    assert best < min(error(0.9), error(1.1))
    assert best < min(error(heading_deg=-2.0), error(heading_deg=2.0))
