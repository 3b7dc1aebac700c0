import math
import os
import struct
import zlib

import numpy as np
import pytest

from posekit import kitti, trajectory
from posekit.synth import kitti as synth


def read_png16_rgb(path):
    """Independent decoder for the filter-0, 16-bit RGB PNGs that write_flow_png produces."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[pos + 8 : pos + 18])
            assert (depth, colour) == (16, 2)
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * 6)
    assert not rows[:, 0].any()
    return rows[:, 1:].copy().view(">u2").reshape(height, width, 3).astype(np.int64)


def test_flow_png_encoding(tmp_path):
    flow = np.array([[[1.5, -2.0], [0.0, 100.25]]])
    valid = np.array([[True, False]])
    path = str(tmp_path / "000000_10.png")
    kitti.write_flow_png(path, flow, valid)
    raw = read_png16_rgb(path)
    np.testing.assert_array_equal(raw[..., 2], [[1, 0]])
    np.testing.assert_allclose((raw[..., :2] - 2**15) / 64.0, flow)


def test_drive_path_turns_and_changes_speed():
    pos, yaw = synth.drive_path(np.random.default_rng(0), 300)
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert 0.5 - 1e-9 <= steps.min() and steps.max() <= 1.5 + 1e-9 and steps.std() > 0.05
    rates = np.degrees(np.diff(yaw))
    assert rates.max() > 1.0 and rates.min() < -1.0  # left and right turns
    assert (np.abs(rates) < 0.2).mean() > 0.2  # and straight stretches
    poses = synth.camera_to_world(pos, yaw)
    # KITTI convention: y down, the camera moves along its own +z
    rel = trajectory.relative_to_first(poses[:2])
    assert rel[1, 2, 3] > 0.4 and abs(rel[1, 1, 3]) < 1e-12


def test_sky_is_at_infinity():
    """The sky moves with the camera's rotation only: after a yaw of a few degrees, each pixel
    shows what the pixel at the rotation homography K R K^-1 showed before."""
    panorama = synth.sky_panorama(np.random.default_rng(3))
    assert panorama.shape == (512, 4096, 3) and 0 <= panorama.min() and panorama.max() <= 1
    assert panorama[:, :, 0].std(axis=1).mean() > 0.02  # clouds and hills: texture in azimuth
    W, H = 416, 128
    K = synth.intrinsics(W, H)
    rays = synth.pixel_rays(K, W, H)
    before = synth.sky_view(panorama, rays, np.eye(3), W, H).astype(float)
    yaw = np.radians(4.0)
    R = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    after = synth.sky_view(panorama, rays, R, W, H).astype(float)
    # Camera rotated by R: a pixel after sees the direction R d, i.e. pixel K R K^-1 p before.
    v, u = np.mgrid[0:H, 0:W]
    p = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    q = K @ R @ p
    qu, qv = np.round(q[0] / q[2]).astype(int), np.round(q[1] / q[2]).astype(int)
    inside = (qu >= 0) & (qu < W) & (qv >= 0) & (qv < H)
    moved = np.abs(after.reshape(-1, 3)[inside] - before[qv[inside], qu[inside]]).mean()
    unmoved = np.abs(after - before).mean()
    assert moved < 0.25 * unmoved


def test_sequence_in_kitti_layout(tmp_path):
    pytest.importorskip("OpenGL")
    root = str(tmp_path)
    synth.generate(root, [4], frames=6, width=96, height=32, seed=1)
    seq_dir = kitti.sequence_dir(root, 4)
    assert kitti.count_frames(root, 4) == 6
    poses = kitti.read_poses(kitti.pose_path(root, 4))
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-12)
    times = kitti.read_times(os.path.join(seq_dir, "times.txt"))
    np.testing.assert_allclose(times, np.arange(6) * 0.1)
    calib = kitti.read_calib(os.path.join(seq_dir, "calib.txt"))
    K = kitti.intrinsics_from_calib(calib)
    np.testing.assert_allclose(K, synth.intrinsics(96, 32))
    assert K[0, 0] == pytest.approx(718.856 * 96 / 1241)
    depth = kitti.read_depth_png(os.path.join(seq_dir, "depth_2", "000002.png"))
    assert depth.shape == (32, 96) and 0.5 < (depth > 0).mean() and depth.max() <= 80.0
    # the road is 1.65 m below the camera: bottom-centre pixel depth = fy * 1.65 / (v - cy)
    v = 31
    expected = K[1, 1] * synth.CAMERA_HEIGHT / (v - K[1, 2])
    assert depth[v, 48] == pytest.approx(expected, rel=0.05)
    flow = read_png16_rgb(os.path.join(seq_dir, "flow_2", "000002_10.png"))
    assert flow.shape == (32, 96, 3) and flow[..., 2].mean() > 0.5
    assert not os.path.exists(os.path.join(seq_dir, "flow_2", "000005_10.png"))
    assert math.isfinite(float(depth.mean()))
