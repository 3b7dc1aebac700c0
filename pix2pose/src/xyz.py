"""Normalised object coordinates and the symmetry handling of Pix2Pose.

A model point X (mm) maps to n = (X - ct) / scale in [-1, 1] per axis, with ct the centre and
scale the half extent of the model's bounding box (the per-object `norm_factor.json` written by
2_1); n is stored as a colour (n + 1) / 2 * 255. Background is 0 in n (grey 128), so pixels
whose predicted |n| < 0.3 count as background, as in the reference code.

Symmetries (paper section 3.2): discrete ones are handled by the transformer loss, which takes
the minimum reconstruction loss over the symmetric targets; for a continuous symmetry the
training pose is made canonical by removing the rotation about the symmetry axis, and the
in-plane augmentation is switched off when that axis points along the camera axis.
"""

from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

import numpy as np

BACKGROUND_RADIUS = 0.3  # |n| below this is background (reference: non_gray = norm > 0.3)
IN_PLANE_LOCK = 0.8  # |axis . z_cam| above this locks the in-plane augmentation


def norm_factor(vertices: np.ndarray) -> Dict[str, float]:
    v = np.asarray(vertices, dtype=np.float64)
    lo, hi = v.min(0), v.max(0)
    ct, scale = (lo + hi) / 2.0, np.maximum((hi - lo) / 2.0, 1e-6)
    out = {}
    for i, ax in enumerate("xyz"):
        out[ax + "_scale"] = float(scale[i])
        out[ax + "_ct"] = float(ct[i])
    return out


def factor_arrays(nf: Dict[str, float]) -> Tuple[np.ndarray, np.ndarray]:
    """(scale (3,), ct (3,)) from one norm_factor entry."""
    try:
        scale = np.array([nf[a + "_scale"] for a in "xyz"], dtype=np.float64)
        ct = np.array([nf[a + "_ct"] for a in "xyz"], dtype=np.float64)
    except KeyError as exc:
        raise ValueError(
            f"norm factor entry lacks key {exc}; expected x/y/z _scale and _ct"
        ) from None
    return scale, ct


def load_norm_factors(path: str) -> Dict[int, Dict[str, float]]:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path}: norm factors missing; run 2_1_ply_file_to_3d_coord_model.py"
        )
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    for key, entry in data.items():
        try:
            out[int(key)] = entry
            factor_arrays(entry)
        except ValueError as exc:
            raise ValueError(f"{path}: object {key!r}: {exc}") from None
    return out


def to_normalised(points: np.ndarray, nf) -> np.ndarray:
    scale, ct = factor_arrays(nf)
    return (np.asarray(points, dtype=np.float64) - ct) / scale


def from_normalised(n: np.ndarray, nf) -> np.ndarray:
    scale, ct = factor_arrays(nf)
    return np.asarray(n, dtype=np.float64) * scale + ct


def xyz_colors(vertices: np.ndarray, nf) -> np.ndarray:
    """Vertex colours in [0, 1] encoding normalised coordinates (models_xyz)."""
    return np.clip((to_normalised(vertices, nf) + 1.0) / 2.0, 0.0, 1.0)


def _axis_basis(axis: np.ndarray) -> np.ndarray:
    """Rotation B with B[:, 2] = axis (B = I for the z axis)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    ref = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = ref - a * (ref @ a)
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(a, e1), a], 1)


def _rot_axis(axis: np.ndarray, angle: float) -> np.ndarray:
    B = _axis_basis(axis)
    c, s = np.cos(angle), np.sin(angle)
    return B @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ B.T


def canonical_pose(R, t, sym_cont: List[dict]) -> Tuple[np.ndarray, np.ndarray, bool]:
    """Pose (R, t) with the rotation about the first continuous symmetry axis removed.

    The model is turned about its axis (through the axis offset) by the angle that zeroes
    element [1, 0] of R B (B: basis with the axis as third column), i.e. the first basis
    direction has no camera-y component; the branch with (R B)[0, 0] >= 0 is kept. The object
    looks identical, so the ground truth is unchanged; every view now has one target.
    Returns (R', t', lock) with lock True when the axis is within acos(0.8) of the camera axis.
    """
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64).reshape(3)
    if not sym_cont:
        return R, t, False
    axis = np.asarray(sym_cont[0]["axis"], dtype=np.float64)
    offset = np.asarray(sym_cont[0]["offset"], dtype=np.float64).reshape(3)
    RB = R @ _axis_basis(axis)
    theta = np.arctan2(RB[1, 0], RB[1, 1])
    # (R B Rz(-theta))[1, 0] = RB[1,0] cos - RB[1,1] sin = 0; pick the branch with [0, 0] >= 0
    if RB[0, 0] * np.cos(theta) - RB[0, 1] * np.sin(theta) < 0:
        theta += np.pi
    S = _rot_axis(axis, -theta)
    R_new = R @ S
    t_new = R @ (offset - S @ offset) + t
    lock = abs((R_new @ (axis / np.linalg.norm(axis)))[2]) > IN_PLANE_LOCK
    return R_new, t_new, bool(lock)


def symmetry_pool(sym_disc: List[np.ndarray], nf) -> Tuple[np.ndarray, np.ndarray]:
    """Affine maps (A (P, 3, 3), b (P, 3)) of normalised targets for the transformer loss.

    Entry 0 is the identity. For a symmetry X -> R_s X + t_s the pixel that shows model point
    X shows X' = R_s^T (X - t_s) in the symmetric pose; in normalised coordinates that is
    n' = A n + b with A = S^-1 R_s^T S, b = S^-1 (R_s^T (ct - t_s) - ct), S = diag(scale).
    """
    scale, ct = factor_arrays(nf)
    A, b = [np.eye(3)], [np.zeros(3)]
    for m in sym_disc:
        m = np.asarray(m, dtype=np.float64).reshape(4, 4)
        Rs, ts = m[:3, :3], m[:3, 3]
        A.append(np.diag(1 / scale) @ Rs.T @ np.diag(scale))
        b.append((Rs.T @ (ct - ts) - ct) / scale)
    return np.stack(A).astype(np.float32), np.stack(b).astype(np.float32)
