"""Trajectory metrics for KITTI odometry: the GeoNet/SfMLearner snippet ATE and evo's ATE/RPE.

Snippet protocol (DESIGN.md section 5; GeoNet `kitti_eval/eval_pose.py`, itself from SfMLearner):
- the test sequence is cut into overlapping snippets of 5 consecutive frames; snippet `i` holds
  frames i..i+4 expressed in the camera frame of frame i, stored as a TUM text file
  `%06d.txt` (`time tx ty tz qx qy qz qw` per line);
- per snippet, predicted and ground-truth positions are matched by timestamp, the prediction is
  shifted so its first position equals the ground truth's, scaled by
  s = sum(gt * pred) / sum(pred^2), and the snippet error is sqrt(sum ||s*pred - gt||^2) / N
  (N = matched frames; this is not an RMSE, but it is the published number's definition);
- the result is the mean and standard deviation (population) over snippets.
The reference code skipped every snippet whose error was exactly 0 (`if ate == False`); here such
snippets count. Snippets with fewer than 2 matched frames carry no information and are skipped
(the reference does the same) and counted in `n_skipped`.

Full trajectory (as evo defines them): ATE = RMSE of positions after a Sim(3) Umeyama
alignment of the prediction onto the ground truth; RPE = RMSE over frame pairs (i, i+delta) of the
translation / rotation of (Q_i^-1 Q_j)^-1 (P_i^-1 P_j), with the prediction's translations
scaled by the alignment's scale.
"""

from __future__ import annotations

import glob
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from posekit import geometry

SNIPPET_LENGTH = 5
TIME_TOLERANCE = 0.01  # seconds; KITTI frames are ~0.1 s apart (reference `associate` radius)


# --------------------------------------------------------------------------- TUM snippet files


def write_tum(path: str, times: Sequence[float], poses: np.ndarray) -> None:
    """(N, 4, 4) poses -> TUM trajectory file with the reference's 6-decimal formatting."""
    with open(path, "w", encoding="utf-8") as f:
        for t, T in zip(times, np.asarray(poses, dtype=np.float64)):
            qw, qx, qy, qz = geometry.matrix_to_quat(T[:3, :3])
            tx, ty, tz = T[:3, 3]
            f.write(" ".join(f"{v:f}" for v in (t, tx, ty, tz, qx, qy, qz, qw)) + "\n")


def read_tum(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """TUM trajectory -> (stamps (N,), positions (N, 3)). Comment lines start with '#'.

    Like the TUM tools, commas and tabs also separate values.
    """
    stamps, xyz = [], []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            text = line.replace(",", " ").replace("\t", " ").strip()
            if not text or text.startswith("#"):
                continue
            tokens = text.split()
            if len(tokens) != 8:
                raise ValueError(
                    f"{path}:{line_no}: expected 'time tx ty tz qx qy qz qw' (8 values), "
                    f"found {len(tokens)}"
                )
            try:
                vals = [float(v) for v in tokens]
            except ValueError:
                raise ValueError(f"{path}:{line_no}: expected 8 numbers, found {text!r}") from None
            stamps.append(vals[0])
            xyz.append(vals[1:4])
    return np.array(stamps, dtype=np.float64), np.array(xyz, dtype=np.float64).reshape(-1, 3)


def associate(
    stamps_a: np.ndarray, stamps_b: np.ndarray, max_difference: float = TIME_TOLERANCE
) -> List[Tuple[int, int]]:
    """Greedy closest-first matching of two timestamp lists; index pairs sorted by stamp."""
    candidates = sorted(
        (abs(a - b), i, j)
        for i, a in enumerate(stamps_a)
        for j, b in enumerate(stamps_b)
        if abs(a - b) < max_difference
    )
    used_a, used_b, matches = set(), set(), []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches.append((i, j))
    return sorted(matches, key=lambda m: stamps_a[m[0]])


# --------------------------------------------------------------------------- snippet ATE


def snippet_ate(gt_xyz: np.ndarray, pred_xyz: np.ndarray) -> float:
    """The reference snippet error for matched (N, 3) positions (see module docstring)."""
    gt = np.asarray(gt_xyz, dtype=np.float64)
    pred = np.asarray(pred_xyz, dtype=np.float64)
    pred = pred + (gt[0] - pred[0])
    denom = np.sum(pred**2)
    scale = np.sum(gt * pred) / denom if denom > 0 else 0.0
    return float(np.sqrt(np.sum((pred * scale - gt) ** 2)) / len(gt))


def snippet_ate_files(gt_file: str, pred_file: str) -> Optional[float]:
    """Snippet error of two TUM files matched by timestamp; None if fewer than 2 frames match."""
    gt_t, gt_xyz = read_tum(gt_file)
    pr_t, pr_xyz = read_tum(pred_file)
    matches = associate(gt_t, pr_t)
    if len(matches) < 2:
        return None
    gi = [m[0] for m in matches]
    pi = [m[1] for m in matches]
    return snippet_ate(gt_xyz[gi], pr_xyz[pi])


def eval_snippet_dirs(gt_dir: str, pred_dir: str) -> Dict[str, object]:
    """Mean/std snippet ATE over the prediction files that have a ground-truth twin."""
    pred_files = sorted(glob.glob(os.path.join(pred_dir, "*.txt")))
    errors, names, skipped, missing = [], [], 0, 0
    for pred_file in pred_files:
        gt_file = os.path.join(gt_dir, os.path.basename(pred_file))
        if not os.path.exists(gt_file):
            missing += 1
            continue
        err = snippet_ate_files(gt_file, pred_file)
        if err is None:
            skipped += 1
            continue
        errors.append(err)
        names.append(os.path.basename(pred_file))
    if not errors:
        raise ValueError(
            f"no prediction in {pred_dir} has a ground-truth snippet with >= 2 matching "
            f"timestamps in {gt_dir} ({len(pred_files)} prediction files, {missing} without twin)"
        )
    arr = np.array(errors)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std()),
        "n": len(arr),
        "n_skipped": skipped,
        "n_without_gt": missing,
        "errors": dict(zip(names, arr.tolist())),
    }


# --------------------------------------------------------------------------- snippets


def relative_to_first(poses_c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world poses -> the same poses in the camera frame of the first one."""
    poses = np.asarray(poses_c2w, dtype=np.float64)
    first_inv = geometry.invert(poses[0])
    return np.stack([first_inv @ T for T in poses])


def gt_snippets(
    poses_c2w: np.ndarray, seq_length: int = SNIPPET_LENGTH
) -> List[Tuple[int, np.ndarray]]:
    """(start index, (seq_length, 4, 4) relative poses) for every full snippet of a sequence."""
    if seq_length < 2 or seq_length % 2 == 0:
        raise ValueError(
            f"seq_length must be odd and >= 3 (target in the centre), got {seq_length}"
        )
    poses = np.asarray(poses_c2w, dtype=np.float64)
    return [
        (i, relative_to_first(poses[i : i + seq_length]))
        for i in range(len(poses) - seq_length + 1)
    ]


def write_gt_snippets(
    out_dir: str, poses_c2w: np.ndarray, times: np.ndarray, seq_length: int = SNIPPET_LENGTH
) -> int:
    """Ground-truth snippet files `%06d.txt` (start frame) from poses/NN.txt and times.txt."""
    if len(times) != len(poses_c2w):
        raise ValueError(
            f"{len(times)} timestamps but {len(poses_c2w)} poses: one per frame needed"
        )
    os.makedirs(out_dir, exist_ok=True)
    snippets = gt_snippets(poses_c2w, seq_length)
    for start, rel in snippets:
        path = os.path.join(out_dir, f"{start:06d}.txt")
        write_tum(path, times[start : start + seq_length], rel)
    return len(snippets)


def snippet_from_pose_vectors(src_vectors: np.ndarray) -> np.ndarray:
    """GeoNet PoseNet output -> snippet poses relative to the first frame.

    `src_vectors` (seq_length - 1, 6) are (tx, ty, tz, rx, ry, rz) target-to-source transforms
    (they map target-camera points into source camera k), sources ordered as in the stacked
    input: the frames before the target, then the ones after. The target's identity is inserted
    in the middle; pose of frame k in frame 0 = M_0 @ M_k^-1.
    """
    vecs = np.asarray(src_vectors, dtype=np.float64)
    half = len(vecs) // 2
    vecs = np.concatenate([vecs[:half], np.zeros((1, 6)), vecs[half:]], axis=0)
    mats = [geometry.pose_vec_to_matrix(v) for v in vecs]
    first = mats[0]
    return np.stack([first @ np.linalg.inv(M) for M in mats])


def chain_snippets(snippets: Sequence[np.ndarray]) -> np.ndarray:
    """Whole trajectory from consecutive snippets (snippet i starts at frame i).

    Frame i+1 is placed with snippet i's first step; the frames after the last snippet's start
    come from that snippet. Returns (len(snippets) + L - 1, 4, 4) poses with frame 0 at identity.
    """
    if not snippets:
        raise ValueError("chain_snippets needs at least one snippet")
    poses = [np.eye(4)]
    for rel in snippets[:-1]:
        poses.append(poses[-1] @ rel[1])
    last = poses[-1]
    poses.extend(last @ rel for rel in snippets[-1][1:])
    return np.stack(poses)


# --------------------------------------------------------------------------- Mean-Odom baseline


def mean_odometry_step(train_poses: Sequence[np.ndarray]) -> np.ndarray:
    """The mean frame-to-frame motion of training trajectories (SfMLearner's 'Mean Odom.').

    Averages the relative translation and GeoNet Euler angles of every consecutive pair.
    """
    vecs = []
    for poses in train_poses:
        poses = np.asarray(poses, dtype=np.float64)
        for a, b in zip(poses[:-1], poses[1:]):
            vecs.append(geometry.matrix_to_pose_vec(geometry.invert(a) @ b))
    if not vecs:
        raise ValueError("mean_odometry_step needs training trajectories with >= 2 poses")
    return geometry.pose_vec_to_matrix(np.mean(vecs, axis=0))


def constant_motion_snippet(step: np.ndarray, seq_length: int = SNIPPET_LENGTH) -> np.ndarray:
    """Snippet poses of a camera repeating `step` every frame."""
    poses = [np.eye(4)]
    for _ in range(seq_length - 1):
        poses.append(poses[-1] @ step)
    return np.stack(poses)


# --------------------------------------------------------------------------- evo ATE / RPE


def ate_sim3(gt_xyz: np.ndarray, pred_xyz: np.ndarray) -> Dict[str, object]:
    """Position RMSE after Sim(3) Umeyama alignment of the prediction (evo_ape -as)."""
    gt = np.asarray(gt_xyz, dtype=np.float64)
    pred = np.asarray(pred_xyz, dtype=np.float64)
    if gt.shape != pred.shape or len(gt) < 3:
        raise ValueError(f"ate_sim3 needs two (N>=3, 3) arrays, got {gt.shape} and {pred.shape}")
    s, R, t = geometry.umeyama(pred, gt, with_scale=True)
    aligned = s * pred @ R.T + t
    err = np.linalg.norm(aligned - gt, axis=1)
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mean": float(err.mean()),
        "median": float(np.median(err)),
        "max": float(err.max()),
        "scale": float(s),
        "rotation": R,
        "translation": t,
        "aligned": aligned,
    }


def rpe(
    gt_poses: np.ndarray, pred_poses: np.ndarray, delta: int = 1, scale: float = 1.0
) -> Dict[str, float]:
    """Relative pose error over pairs (i, i+delta) (evo_rpe, delta in frames).

    `scale` multiplies the prediction's translations (the Sim(3) scale of `ate_sim3`, which is
    what evo's --align --correct_scale applies; rotation and translation of the alignment cancel
    in relative poses).
    """
    gt = np.asarray(gt_poses, dtype=np.float64)
    pred = np.asarray(pred_poses, dtype=np.float64).copy()
    if gt.shape != pred.shape or gt.shape[1:] != (4, 4):
        raise ValueError(f"rpe needs two (N, 4, 4) arrays, got {gt.shape} and {pred.shape}")
    if delta < 1 or delta >= len(gt):
        raise ValueError(f"delta must be in [1, {len(gt) - 1}], got {delta}")
    pred[:, :3, 3] *= scale
    trans, rot = [], []
    for i in range(len(gt) - delta):
        j = i + delta
        q = geometry.invert(gt[i]) @ gt[j]
        p = geometry.invert(pred[i]) @ pred[j]
        E = geometry.invert(q) @ p
        trans.append(np.linalg.norm(E[:3, 3]))
        rot.append(float(geometry.rotation_angle_deg(np.eye(3), E[:3, :3])))
    trans = np.array(trans)
    rot = np.array(rot)
    return {
        "trans_rmse": float(np.sqrt(np.mean(trans**2))),
        "trans_mean": float(trans.mean()),
        "rot_rmse_deg": float(np.sqrt(np.mean(rot**2))),
        "rot_mean_deg": float(rot.mean()),
        "pairs": int(len(trans)),
    }
