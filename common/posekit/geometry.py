"""Rotations and rigid/similarity transforms shared by the models and their metrics.

Conventions:
- quaternions are w-first (w, x, y, z), as Cambridge Landmarks stores them;
- a pose is a 4x4 homogeneous matrix; `compose(a, b)` means apply b first, then a;
- GeoNet/SfMLearner pose vectors are (tx, ty, tz, rx, ry, rz) with R = Rx @ Ry @ Rz;
- pixel centres sit at integer coordinates (OpenCV's convention).
"""

from __future__ import annotations

import numpy as np


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternion(s); raises on zero-norm or non-finite input, which has no rotation."""
    q = np.asarray(q, dtype=np.float64)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if not np.all(np.isfinite(q)) or np.any(norm < 1e-12):
        raise ValueError(f"quaternion must be finite with non-zero norm, got {q.tolist()!r}")
    return q / norm


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) w-first quaternions -> (..., 3, 3) rotation matrices."""
    w, x, y, z = np.moveaxis(quat_normalize(q), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def matrix_to_quat(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) w-first quaternions with w >= 0.

    Shepperd's method: pick the largest of the four squared components to divide by, so the
    result stays accurate near 180 degree rotations where w -> 0.
    """
    R = np.asarray(R, dtype=np.float64)
    flat = R.reshape(-1, 3, 3)
    out = np.empty((flat.shape[0], 4))
    for i, m in enumerate(flat):
        trace = m[0, 0] + m[1, 1] + m[2, 2]
        diag = [trace, m[0, 0], m[1, 1], m[2, 2]]
        k = int(np.argmax(diag))
        if k == 0:
            s = 2.0 * np.sqrt(max(1.0 + trace, 0.0))
            q = [s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
        elif k == 1:
            s = 2.0 * np.sqrt(max(1.0 + m[0, 0] - m[1, 1] - m[2, 2], 0.0))
            q = [(m[2, 1] - m[1, 2]) / s, s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
        elif k == 2:
            s = 2.0 * np.sqrt(max(1.0 + m[1, 1] - m[0, 0] - m[2, 2], 0.0))
            q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s]
        else:
            s = 2.0 * np.sqrt(max(1.0 + m[2, 2] - m[0, 0] - m[1, 1], 0.0))
            q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4]
        q = np.asarray(q)
        out[i] = -q if q[0] < 0 else q
    return quat_normalize(out).reshape(R.shape[:-2] + (4,))


def quat_angle_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Angle in degrees between rotations given as quaternions: 2*acos(|<q1, q2>|).

    Both are normalised and the dot product clipped to [0, 1] first: rounding can push it past
    1 and acos would return NaN (a defect of the reference PoseNet port, DESIGN.md section 6).
    """
    dot = np.abs(np.sum(quat_normalize(q1) * quat_normalize(q2), axis=-1))
    return np.degrees(2.0 * np.arccos(np.clip(dot, 0.0, 1.0)))


def rotation_angle_deg(R1: np.ndarray, R2: np.ndarray) -> np.ndarray:
    """Angle in degrees of the relative rotation R1^T R2 (the BOP `re` error)."""
    R1 = np.asarray(R1, dtype=np.float64)
    R2 = np.asarray(R2, dtype=np.float64)
    rel = np.swapaxes(R1, -1, -2) @ R2
    # atan2 of the skew (sin) and trace (cos) parts: acos(cos) alone loses ~1e-6 deg near 0.
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0
    skew = np.stack(
        [
            rel[..., 2, 1] - rel[..., 1, 2],
            rel[..., 0, 2] - rel[..., 2, 0],
            rel[..., 1, 0] - rel[..., 0, 1],
        ],
        -1,
    )
    sin = np.linalg.norm(skew, axis=-1) / 2.0
    return np.degrees(np.arctan2(sin, cos))


def make_pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4x4 homogeneous matrix from a 3x3 rotation and a translation."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a o b for 4x4 poses (b applied first)."""
    return np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64)


def invert(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 pose without a general matrix inverse."""
    T = np.asarray(T, dtype=np.float64)
    R, t = T[:3, :3], T[:3, 3]
    return make_pose(R.T, -R.T @ t)


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 pose to (N, 3) points."""
    T = np.asarray(T, dtype=np.float64)
    return np.asarray(points, dtype=np.float64) @ T[:3, :3].T + T[:3, 3]


def euler_to_matrix(rx: float, ry: float, rz: float) -> np.ndarray:
    """GeoNet/SfMLearner Euler angles (radians) -> R = Rx @ Ry @ Rz."""
    cx, sx = np.cos(rx), np.sin(rx)
    cy, sy = np.cos(ry), np.sin(ry)
    cz, sz = np.cos(rz), np.sin(rz)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Rx @ Ry @ Rz


def matrix_to_euler(R: np.ndarray) -> np.ndarray:
    """Inverse of `euler_to_matrix`: (rx, ry, rz) with ry in [-pi/2, pi/2].

    From R = Rx Ry Rz: R[0,2] = sin(ry), R[0,0..1] = cy*(cos rz, -sin rz),
    R[1..2,2] = cy*(-sin rx, cos rx). At the gimbal lock (cy = 0) rz is set to 0.
    """
    R = np.asarray(R, dtype=np.float64)
    ry = np.arcsin(np.clip(R[0, 2], -1.0, 1.0))
    if np.hypot(R[0, 0], R[0, 1]) > 1e-9:
        rx = np.arctan2(-R[1, 2], R[2, 2])
        rz = np.arctan2(-R[0, 1], R[0, 0])
    else:
        rx = np.arctan2(R[2, 1], R[1, 1])
        rz = 0.0
    return np.array([rx, ry, rz])


def pose_vec_to_matrix(vec: np.ndarray) -> np.ndarray:
    """GeoNet pose vector (tx, ty, tz, rx, ry, rz) -> 4x4 pose."""
    vec = np.asarray(vec, dtype=np.float64).reshape(6)
    return make_pose(euler_to_matrix(*vec[3:]), vec[:3])


def matrix_to_pose_vec(T: np.ndarray) -> np.ndarray:
    """4x4 pose -> GeoNet pose vector (tx, ty, tz, rx, ry, rz); inverse of `pose_vec_to_matrix`."""
    T = np.asarray(T, dtype=np.float64)
    return np.concatenate([T[:3, 3], matrix_to_euler(T[:3, :3])])


def resized_intrinsics(K: np.ndarray, zoom_x: float, zoom_y: float) -> np.ndarray:
    """Intrinsics of an image resized by (zoom_x, zoom_y) with area or half-pixel resampling.

    OpenCV's INTER_AREA and TensorFlow's resize_area map output pixel i to the input span
    [i / zoom, (i + 1) / zoom), so its centre is at input coordinate (i + 0.5) / zoom - 0.5:
    c' = (c + 0.5) * zoom - 0.5. Scaling c by the zoom alone misplaces the principal point by
    0.5 * (1 - zoom) px, which reads as a constant rotation of the camera (0.4 deg for KITTI
    at 104 px wide) that a pose network can only absorb as a heading offset.
    """
    K = np.array(K, dtype=np.float64)
    for row, zoom in ((0, zoom_x), (1, zoom_y)):
        K[row, :2] *= zoom
        K[row, 2] = (K[row, 2] + 0.5) * zoom - 0.5
    return K


def umeyama(src: np.ndarray, dst: np.ndarray, with_scale: bool = True):
    """Least-squares similarity (or rigid) transform mapping src onto dst (Umeyama 1991).

    Returns (s, R, t) minimising sum ||dst_i - (s R src_i + t)||^2; s is 1 without scale.
    src and dst are (N, 3) with N >= 3 non-collinear points for a unique rotation.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3:
        raise ValueError(f"umeyama needs two (N, 3) arrays, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    U, D, Vt = np.linalg.svd(cov)
    S = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        S[2, 2] = -1.0  # reflection: flip the least significant axis
    R = U @ S @ Vt
    if with_scale:
        var_s = (xs**2).sum() / len(src)
        s = float(np.trace(np.diag(D) @ S) / var_s)
    else:
        s = 1.0
    t = mu_d - s * R @ mu_s
    return s, R, t
