import math

import numpy as np
import pytest

from posekit import geometry as g


def random_rotation(rng):
    q = rng.normal(size=4)
    return g.quat_to_matrix(q / np.linalg.norm(q))


def axis_angle(axis, deg):
    """Rodrigues' formula, written independently of posekit's quaternion code."""
    k = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    a = math.radians(deg)
    return np.eye(3) + math.sin(a) * K + (1 - math.cos(a)) * K @ K


def test_quaternion_hand_worked():
    # 90 degrees about z: w = cos 45, z = sin 45 (w-first).
    q = np.array([math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)])
    np.testing.assert_allclose(g.quat_to_matrix(q), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(g.quat_to_matrix(q), axis_angle([0, 0, 1], 90), atol=1e-12)


def test_matrix_quaternion_round_trip_including_near_180():
    rng = np.random.default_rng(0)
    mats = [random_rotation(rng) for _ in range(50)]
    mats += [axis_angle([1, 2, 3], 179.999), axis_angle([0, 1, 0], 180), np.eye(3)]
    for R in mats:
        q = g.matrix_to_quat(R)
        assert q[0] >= 0
        np.testing.assert_allclose(g.quat_to_matrix(q), R, atol=1e-9)


def test_quat_angle_matches_axis_angle_and_never_nan():
    for deg in [0.0, 1e-7, 3.0, 90.0, 179.0]:
        q1 = g.matrix_to_quat(np.eye(3))
        q2 = g.matrix_to_quat(axis_angle([1, -1, 2], deg))
        assert g.quat_angle_deg(q1, q2) == pytest.approx(deg, abs=1e-5)
    # Unnormalised, sign-flipped and slightly-over-1 dot products: the reference gave NaN.
    q = np.array([1.0, 1e-9, 0, 0]) * 3.0
    assert g.quat_angle_deg(q, -q) == 0.0
    assert not np.isnan(g.quat_angle_deg(q, q * (1 + 1e-15)))


def test_bad_quaternions_rejected():
    with pytest.raises(ValueError):
        g.quat_normalize([0, 0, 0, 0])
    with pytest.raises(ValueError):
        g.quat_normalize([np.nan, 0, 0, 1])


def test_rotation_angle():
    R = axis_angle([0.3, 0.1, -1], 37.0)
    assert g.rotation_angle_deg(np.eye(3), R) == pytest.approx(37.0)
    assert g.rotation_angle_deg(R, R) == pytest.approx(0.0, abs=1e-6)


def test_se3_compose_invert():
    rng = np.random.default_rng(1)
    A = g.make_pose(random_rotation(rng), rng.normal(size=3))
    B = g.make_pose(random_rotation(rng), rng.normal(size=3))
    np.testing.assert_allclose(g.compose(A, g.invert(A)), np.eye(4), atol=1e-12)
    np.testing.assert_allclose(g.invert(A), np.linalg.inv(A), atol=1e-12)
    p = rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        g.transform_points(g.compose(A, B), p), g.transform_points(A, g.transform_points(B, p))
    )


def test_euler_is_x_then_y_then_z_product_and_round_trips():
    rx, ry, rz = 0.1, -0.4, 1.2
    expected = axis_angle([1, 0, 0], math.degrees(rx)) @ axis_angle([0, 1, 0], math.degrees(ry))
    expected = expected @ axis_angle([0, 0, 1], math.degrees(rz))
    np.testing.assert_allclose(g.euler_to_matrix(rx, ry, rz), expected, atol=1e-12)
    np.testing.assert_allclose(g.matrix_to_euler(expected), [rx, ry, rz], atol=1e-12)
    T = g.pose_vec_to_matrix([1, 2, 3, rx, ry, rz])
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3])
    np.testing.assert_allclose(g.matrix_to_pose_vec(T), [1, 2, 3, rx, ry, rz], atol=1e-12)
    # Gimbal lock still gives a rotation that reproduces the matrix.
    R = g.euler_to_matrix(0.3, math.pi / 2, 0.0)
    np.testing.assert_allclose(g.euler_to_matrix(*g.matrix_to_euler(R)), R, atol=1e-9)


@pytest.mark.parametrize("with_scale", [True, False])
def test_umeyama_recovers_known_transform(with_scale):
    rng = np.random.default_rng(2)
    src = rng.normal(size=(40, 3))
    R = random_rotation(rng)
    s = 2.5 if with_scale else 1.0
    t = np.array([1.0, -2.0, 0.5])
    dst = s * src @ R.T + t
    s_hat, R_hat, t_hat = g.umeyama(src, dst, with_scale=with_scale)
    assert s_hat == pytest.approx(s)
    np.testing.assert_allclose(R_hat, R, atol=1e-9)
    np.testing.assert_allclose(t_hat, t, atol=1e-9)


def test_umeyama_never_returns_a_reflection():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(30, 3))
    dst = src * np.array([1, 1, -1])  # a mirror image: best proper rotation, det +1
    _, R, _ = g.umeyama(src, dst)
    assert np.linalg.det(R) == pytest.approx(1.0)


def _ray_x(K, u):
    return (u - K[0, 2]) / K[0, 0]


def test_resized_intrinsics_follow_the_pixels_of_an_area_downsampling():
    # Each pixel of a ramp image holds its own column; a 4x box average (area resampling at an
    # integer factor) then holds the input column that the output pixel's centre sits at.
    K = np.array([[240.0, 0, 207.3], [0, 240.0, 61.8], [0, 0, 1]])
    ramp = np.tile(np.arange(416.0), (128, 1))
    small = ramp.reshape(32, 4, 104, 4).mean(axis=(1, 3))
    Ks = g.resized_intrinsics(K, 0.25, 0.25)
    u_small = np.arange(104.0)
    np.testing.assert_allclose(_ray_x(Ks, u_small), _ray_x(K, small[0]), atol=1e-12)
    # zoom-only scaling of the principal point is off by 0.375 px here
    naive = K.copy()
    naive[:2] *= 0.25
    assert abs(_ray_x(naive, 0) - _ray_x(K, small[0, 0])) * naive[0, 0] == pytest.approx(0.375)


def test_resized_intrinsics_match_opencv_at_a_non_integer_zoom():
    cv2 = pytest.importorskip("cv2")
    K = np.array([[718.9, 0, 607.2], [0, 718.9, 185.2], [0, 0, 1]])
    ramp_x = np.tile(np.arange(1241, dtype=np.float32), (376, 1))
    ramp_y = np.tile(np.arange(376, dtype=np.float32)[:, None], (1, 1241))
    size = (416, 128)
    Ks = g.resized_intrinsics(K, 416 / 1241, 128 / 376)
    small_x = cv2.resize(ramp_x, size, interpolation=cv2.INTER_AREA)
    small_y = cv2.resize(ramp_y, size, interpolation=cv2.INTER_AREA)
    # interior pixels (the border ones see a clipped box)
    np.testing.assert_allclose(
        _ray_x(Ks, np.arange(1.0, 415)), _ray_x(K, small_x[5, 1:415]), atol=2e-5
    )
    ray_y = (np.arange(1.0, 127) - Ks[1, 2]) / Ks[1, 1]
    np.testing.assert_allclose(ray_y, (small_y[1:127, 5] - K[1, 2]) / K[1, 1], atol=2e-5)
