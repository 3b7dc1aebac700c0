import math

import numpy as np
import pytest
from src import xyz


def rot(axis, deg):
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    t = math.radians(deg)
    return np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * K @ K


def test_norm_factor_maps_the_box_to_unit_cube_and_back():
    pts = np.array([[-10, 0, 5], [30, 8, 25], [0, 4, 15.0]])
    nf = xyz.norm_factor(pts)
    assert nf == {"x_scale": 20, "x_ct": 10, "y_scale": 4, "y_ct": 4, "z_scale": 10, "z_ct": 15}
    n = xyz.to_normalised(pts, nf)
    np.testing.assert_allclose(n[:2], [[-1, -1, -1], [1, 1, 1]])
    np.testing.assert_allclose(xyz.from_normalised(n, nf), pts)
    np.testing.assert_allclose(xyz.xyz_colors(pts, nf)[2], [0.25, 0.5, 0.5])
    with pytest.raises(ValueError, match="y_scale"):
        xyz.factor_arrays({"x_scale": 1, "x_ct": 0})


def test_canonical_pose_removes_rotation_about_the_axis():
    sym = [{"axis": np.array([0, 0, 1.0]), "offset": np.zeros(3)}]
    R = rot([1, 2, 0.5], 70)
    t = np.array([5.0, -3, 600])
    Rc, tc, lock = xyz.canonical_pose(R, t, sym)
    for deg in (13, 100, 250):
        Rc2, tc2, _ = xyz.canonical_pose(R @ rot([0, 0, 1], deg), t, sym)
        np.testing.assert_allclose(Rc2, Rc, atol=1e-9)
        np.testing.assert_allclose(tc2, tc, atol=1e-9)
    # same object surface: the axis keeps its direction, (R' B)[1, 0] = 0, and it is a rotation
    np.testing.assert_allclose(Rc @ [0, 0, 1], R @ [0, 0, 1], atol=1e-12)
    assert abs(Rc[1, 0]) < 1e-12 and Rc[0, 0] >= 0
    np.testing.assert_allclose(Rc @ Rc.T, np.eye(3), atol=1e-12)
    assert not lock
    # axis towards the camera: in-plane augmentation locked
    assert xyz.canonical_pose(rot([1, 0, 0], 10), t, sym)[2]
    # without a continuous symmetry nothing changes
    R2, t2, lock2 = xyz.canonical_pose(R, t, [])
    assert R2 is not None and np.array_equal(R2, R) and not lock2


def test_canonical_pose_keeps_points_on_an_offset_axis_fixed():
    off = np.array([4.0, -2.0, 0.0])
    sym = [{"axis": np.array([0, 1.0, 0]), "offset": off}]
    R, t = rot([0.3, 1, 0.2], 40), np.array([0.0, 0, 500])
    Rc, tc, _ = xyz.canonical_pose(R, t, sym)
    for p in (off, off + [0, 10, 0]):
        np.testing.assert_allclose(Rc @ p + tc, R @ p + t, atol=1e-9)


def test_symmetry_pool_maps_targets_to_the_symmetric_view():
    pts = np.random.default_rng(0).uniform([-30, -10, -5], [50, 20, 25], (20, 3))
    nf = xyz.norm_factor(pts)
    Rs = rot([0, 0, 1], 180)
    ts = np.array([20.0, 10.0, 0.0])  # the 180 deg turn about the vertical through (10, 5)
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = Rs, ts
    A, b = xyz.symmetry_pool([m], nf)
    assert A.shape == (2, 3, 3) and np.allclose(A[0], np.eye(3)) and np.allclose(b[0], 0)
    n = xyz.to_normalised(pts, nf)
    expect = xyz.to_normalised((pts - ts) @ Rs, nf)  # R_s^T (X - t_s)
    np.testing.assert_allclose(n @ A[1].T + b[1], expect, atol=1e-5)
