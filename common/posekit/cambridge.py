"""Cambridge Landmarks (PoseNet): read, check and write `dataset_{train,test}.txt`; pose metrics.

The real format (Kendall et al., ICCV 2015), accepted byte for byte:

    Visual Landmark Dataset V1
    ImageFile, Camera Position [X Y Z W P Q R]
    <blank line>
    seq1/frame00001.png X Y Z W P Q R

X Y Z is the camera centre in metres, W P Q R a w-first unit quaternion. The first path
component of an image name is its sequence (`seq1`), by which the metrics are also broken down.

Metrics (DESIGN.md section 5): position error ||x - x_hat|| in metres and rotation error
2 * acos(|<q, q_hat>|) in degrees after normalising both quaternions, the dot product clipped so
rounding cannot produce NaN (a defect of the reference port).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from posekit.geometry import quat_angle_deg

HEADER = ("Visual Landmark Dataset V1", "ImageFile, Camera Position [X Y Z W P Q R]", "")
SPLIT_FILES = {"train": "dataset_train.txt", "test": "dataset_test.txt"}
# Quaternions in the real files have unit norm to about 1e-6; anything far from 1 is a broken row
# (a zero quaternion has no rotation at all), but small drift is normalised silently.
MIN_QUAT_NORM = 1e-6


class CambridgeFormatError(ValueError):
    """A Cambridge split file that cannot be used; the message names the file, line and field."""


@dataclass
class Split:
    """One split: image names relative to the scene root, (N, 3) positions, (N, 4) w-first quats."""

    names: List[str]
    positions: np.ndarray
    quaternions: np.ndarray
    path: str = ""

    def __len__(self) -> int:
        return len(self.names)

    @property
    def sequences(self) -> List[str]:
        return [sequence_of(n) for n in self.names]


def sequence_of(name: str) -> str:
    """`seq1/frame00001.png` -> `seq1`; a name without a folder is its own sequence ''."""
    parts = name.replace("\\", "/").split("/")
    return parts[0] if len(parts) > 1 else ""


def split_path(root: str, split: str) -> str:
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
    return os.path.join(root, SPLIT_FILES[split])


def read_split(path: str) -> Split:
    """Parse and validate one `dataset_*.txt`; raise CambridgeFormatError on the first bad line."""
    if not os.path.isfile(path):
        raise CambridgeFormatError(f"{path}: file not found (expected a Cambridge split file)")
    with open(path, encoding="utf-8", errors="strict", newline=None) as f:
        try:
            lines = f.read().split("\n")
        except UnicodeDecodeError as exc:
            raise CambridgeFormatError(f"{path}: not UTF-8/ASCII text ({exc})") from None
    for i, want in enumerate(HEADER):
        got = lines[i].strip() if i < len(lines) else None
        if got != want:
            raise CambridgeFormatError(
                f"{path}:{i + 1}: header line {i + 1} should be {want!r}, got {got!r}"
            )
    names, values = [], []
    seen: Dict[str, int] = {}
    for lineno, line in enumerate(lines[len(HEADER) :], start=len(HEADER) + 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 8:
            raise CambridgeFormatError(
                f"{path}:{lineno}: expected 8 fields 'IMAGE X Y Z W P Q R', got {len(fields)}: "
                f"{line.strip()!r}"
            )
        row = []
        for field, text in zip("XYZWPQR", fields[1:]):
            try:
                v = float(text)
            except ValueError:
                raise CambridgeFormatError(
                    f"{path}:{lineno}: field {field} is not a number: {text!r}"
                ) from None
            if not math.isfinite(v):
                raise CambridgeFormatError(f"{path}:{lineno}: field {field} is not finite: {text}")
            row.append(v)
        norm = math.sqrt(sum(v * v for v in row[3:]))
        if norm < MIN_QUAT_NORM:
            raise CambridgeFormatError(
                f"{path}:{lineno}: quaternion W P Q R has zero norm ({' '.join(fields[4:])}); "
                "expected a unit quaternion"
            )
        name = fields[0]
        if name in seen:
            raise CambridgeFormatError(
                f"{path}:{lineno}: image {name} is listed twice (first on line {seen[name]})"
            )
        seen[name] = lineno
        names.append(name)
        values.append(row)
    if not names:
        raise CambridgeFormatError(f"{path}: no image rows after the 3 header lines")
    arr = np.asarray(values, dtype=np.float64)
    quats = arr[:, 3:] / np.linalg.norm(arr[:, 3:], axis=1, keepdims=True)
    return Split(names=names, positions=arr[:, :3], quaternions=quats, path=path)


def missing_images(root: str, names: Sequence[str]) -> List[str]:
    return [n for n in names if not os.path.isfile(os.path.join(root, n))]


def check_images(root: str, split: Split, show: int = 5) -> None:
    """Raise CambridgeFormatError naming the first `show` missing images and their count."""
    missing = missing_images(root, split.names)
    if missing:
        listed = ", ".join(missing[:show]) + (", ..." if len(missing) > show else "")
        raise CambridgeFormatError(
            f"{split.path or root}: {len(missing)} of {len(split)} images missing under {root}: "
            f"{listed}"
        )


def load_split(root: str, split: str, check: bool = True) -> Split:
    """Read `root/dataset_<split>.txt` and (by default) check every image it names exists."""
    data = read_split(split_path(root, split))
    if check:
        check_images(root, data)
    return data


def write_split(path: str, names: Sequence[str], positions, quaternions) -> None:
    """Write a split file in the real format (6 decimals, as the published files)."""
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    quaternions = np.asarray(quaternions, dtype=np.float64).reshape(-1, 4)
    if not (len(names) == len(positions) == len(quaternions)):
        raise ValueError(
            f"write_split: {len(names)} names, {len(positions)} positions and "
            f"{len(quaternions)} quaternions must have the same count"
        )
    for name in names:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"write_split: image name {name!r} must be non-empty without spaces")
    rows = [
        name + " " + " ".join(f"{v:.6f}" for v in np.concatenate([p, q]))
        for name, p, q in zip(names, positions, quaternions)
    ]
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(list(HEADER) + rows) + "\n")
    os.replace(tmp, path)


def pose_errors(pos_true, quat_true, pos_pred, quat_pred):
    """Per-image (position error in m, rotation error in deg)."""
    pos_true = np.asarray(pos_true, dtype=np.float64).reshape(-1, 3)
    pos_pred = np.asarray(pos_pred, dtype=np.float64).reshape(-1, 3)
    if pos_true.shape != pos_pred.shape:
        raise ValueError(f"pose_errors: {pos_true.shape} true vs {pos_pred.shape} predicted")
    pos_err = np.linalg.norm(pos_true - pos_pred, axis=1)
    rot_err = quat_angle_deg(np.reshape(quat_true, (-1, 4)), np.reshape(quat_pred, (-1, 4)))
    return pos_err, rot_err


def summarize(
    pos_err, rot_err, sequences: Optional[Sequence[str]] = None
) -> Dict[str, Dict[str, float]]:
    """Median (and mean) errors over all images and per sequence.

    Returns {"all": {...}, "seq2": {...}, ...}, each with median_position_m, median_rotation_deg,
    mean_position_m, mean_rotation_deg and count.
    """
    pos_err = np.asarray(pos_err, dtype=np.float64)
    rot_err = np.asarray(rot_err, dtype=np.float64)

    def stats(mask) -> Dict[str, float]:
        return {
            "median_position_m": float(np.median(pos_err[mask])),
            "median_rotation_deg": float(np.median(rot_err[mask])),
            "mean_position_m": float(np.mean(pos_err[mask])),
            "mean_rotation_deg": float(np.mean(rot_err[mask])),
            "count": int(np.count_nonzero(mask)),
        }

    out = {"all": stats(np.ones(len(pos_err), dtype=bool))}
    if sequences is not None:
        seqs = np.asarray(list(sequences))
        for seq in sorted(set(seqs.tolist())):
            out[seq] = stats(seqs == seq)
    return out


def mean_quaternion(quats) -> np.ndarray:
    """Rotation average (Markley et al. 2007): the principal eigenvector of sum q q^T.

    Insensitive to the sign ambiguity q ~ -q that makes a plain component mean meaningless.
    """
    q = np.asarray(quats, dtype=np.float64).reshape(-1, 4)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    _, vecs = np.linalg.eigh(q.T @ q)
    mean = vecs[:, -1]
    return mean if mean[0] >= 0 else -mean


def mean_pose_baseline(train: Split, test: Split) -> Dict[str, float]:
    """Errors of always predicting the mean training position and mean training orientation."""
    pos = np.broadcast_to(train.positions.mean(axis=0), test.positions.shape)
    quat = np.broadcast_to(mean_quaternion(train.quaternions), test.quaternions.shape)
    pos_err, rot_err = pose_errors(test.positions, test.quaternions, pos, quat)
    return summarize(pos_err, rot_err)["all"]
