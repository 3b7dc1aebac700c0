"""PCK on VeRi (PAMTRI PoseEstNet) under the reference protocol and under the honest one.

A visible joint counts as correct when its error, divided by a normaliser, is at most a
threshold (0.5). Only joints labelled visible count. The table has, in the seed's column order,
Wheel, Fender, Back, Front, WindshieldBack, WindshieldFront (each the plain mean of its joints'
PCK), Mean (all visible joints pooled: per-joint PCK weighted by visible counts) and Mean@0.1.

Reference protocol (the code that produced the published 82.58, DESIGN.md section 5): the
per-image box meant to scale the error is built from two names bound to one list, so every box
is 1 x 1 px; the per-image sizes are then combined with a vector norm over the whole test set.
The normaliser is therefore 0.25 * sqrt(N) px for every joint of every image (N = number of
test images; 8.14 px for VeRi's 1060). "Mean@0.1" is read at index 11 of arange(0, 0.51, 0.01),
i.e. threshold 0.11. The reference also subtracts the ground-truth rows (x, y, vis) from the
prediction rows (x, y, heatmap maximum), so when scores are passed the error includes the term
(score - vis); without scores it is the plain 2-D distance.

Honest protocol: the normaliser of image n is 0.25 * sqrt((x_max - x_min + 1)(y_max - y_min + 1))
over its 36 labelled joints (what the reference intended), the error is the 2-D distance, and
Mean@0.1 uses threshold 0.1. Everything else (visible joints only, part and Mean aggregation)
is as in the reference, so the two differ exactly where the normaliser (and the low threshold)
differ.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import numpy as np

from posekit.veri import NUM_JOINTS, PARTS

THRESHOLD = 0.5
SC_BIAS = 0.25
REFERENCE_RANGE = np.arange(0, 0.5 + 0.01, 0.01)
REFERENCE_LOW = float(REFERENCE_RANGE[11])  # 0.11 (up to rounding), labelled "Mean@0.1"
HONEST_LOW = 0.1
COLUMNS = tuple(name for name, _ in PARTS) + ("Mean", "Mean@0.1")

DEFINITIONS = OrderedDict(
    [
        (
            "reference",
            "reference protocol (reproduces the published table): error / (0.25 * sqrt(N_test)) "
            "<= 0.5 with one normaliser for all images (the reference's per-image box collapses "
            "to 1 px), error over (x, y, heatmap max - vis); Mean@0.1 is threshold 0.11; "
            "visible joints only; parts = plain mean of per-joint PCK; Mean weighted by visible "
            "counts",
        ),
        (
            "honest",
            "honest protocol: 2-D error / (0.25 * sqrt(area of the image's joint bounding box)) "
            "<= 0.5, normalised per image; Mean@0.1 is threshold 0.1; visible joints only; "
            "parts = plain mean of per-joint PCK; Mean weighted by visible counts",
        ),
    ]
)


@dataclass
class PCKResult:
    """One evaluation: the table values and what produced them.

    hits / hits_low: (N, 36) correct at the main / low threshold (False for hidden joints);
    per_joint / per_joint_low: (36,) PCK in percent (NaN for a joint never visible);
    counts: (36,) visible counts; normaliser: (N,) px used for each image.
    """

    protocol: str
    threshold: float
    low_threshold: float
    normaliser: np.ndarray
    hits: np.ndarray
    hits_low: np.ndarray
    counts: np.ndarray
    per_joint: np.ndarray
    per_joint_low: np.ndarray
    table: OrderedDict[str, float]

    @property
    def mean(self) -> float:
        return self.table["Mean"]

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.protocol]


def _check(pred, gt, visible):
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    visible = np.asarray(visible)
    n = gt.shape[0] if gt.ndim == 3 else -1
    if gt.shape != (n, NUM_JOINTS, 2) or n < 1:
        raise ValueError(f"gt: expected (N, {NUM_JOINTS}, 2) joints with N >= 1, got {gt.shape}")
    if pred.shape != gt.shape:
        raise ValueError(f"pred: expected shape {gt.shape} like gt, got {pred.shape}")
    if visible.shape != (n, NUM_JOINTS):
        raise ValueError(f"visible: expected shape ({n}, {NUM_JOINTS}), got {visible.shape}")
    if not np.all(np.isfinite(pred)):
        raise ValueError("pred: contains non-finite coordinates")
    return pred, gt, visible > 0


def reference_normaliser(num_images: int) -> float:
    """The reference's normaliser in px: 0.25 * ||(1, 1, ..., 1)|| = 0.25 * sqrt(N)."""
    return SC_BIAS * float(np.linalg.norm(np.ones(num_images)))


def bbox_normaliser(gt: np.ndarray) -> np.ndarray:
    """(N,) honest normalisers: 0.25 * sqrt of each image's joint bounding-box area (+1 px)."""
    gt = np.asarray(gt, dtype=np.float64)
    extent = gt.max(axis=1) - gt.min(axis=1) + 1.0
    return SC_BIAS * np.sqrt(extent[:, 0] * extent[:, 1])


def _summarise(protocol, scaled, visible, normaliser, low) -> PCKResult:
    hits = (scaled <= THRESHOLD) & visible
    hits_low = (scaled <= low) & visible
    counts = visible.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = 100.0 * hits.sum(axis=0) / counts
        per_joint_low = 100.0 * hits_low.sum(axis=0) / counts
    ratio = counts / max(int(counts.sum()), 1)
    table = OrderedDict()
    for name, joints in PARTS:
        values = per_joint[list(joints)]
        values = values[np.isfinite(values)]
        table[name] = float(values.mean()) if len(values) else float("nan")
    seen = counts > 0
    table["Mean"] = float(np.sum(per_joint[seen] * ratio[seen]))
    table["Mean@0.1"] = float(np.sum(per_joint_low[seen] * ratio[seen]))
    return PCKResult(
        protocol=protocol,
        threshold=THRESHOLD,
        low_threshold=low,
        normaliser=np.asarray(normaliser, dtype=np.float64),
        hits=hits,
        hits_low=hits_low,
        counts=counts,
        per_joint=per_joint,
        per_joint_low=per_joint_low,
        table=table,
    )


def pck_reference(pred, gt, visible, scores: Optional[np.ndarray] = None) -> PCKResult:
    """PCK as the reference code computes it (see the module docstring).

    pred, gt: (N, 36, 2) px; visible: (N, 36) 0/1; scores: optional (N, 36) heatmap maxima,
    entering the error as the reference's third coordinate (score - vis).
    """
    pred, gt, vis = _check(pred, gt, visible)
    sq = np.sum((pred - gt) ** 2, axis=2)
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != vis.shape:
            raise ValueError(f"scores: expected shape {vis.shape}, got {scores.shape}")
        sq = sq + (scores - np.asarray(visible, dtype=np.float64)) ** 2
    norm = reference_normaliser(len(gt))
    scaled = np.sqrt(sq) / norm
    return _summarise("reference", scaled, vis, np.full(len(gt), norm), REFERENCE_LOW)


def pck_honest(pred, gt, visible) -> PCKResult:
    """PCK with a per-image normaliser from the joints' bounding box (see the module docstring)."""
    pred, gt, vis = _check(pred, gt, visible)
    norm = bbox_normaliser(gt)
    scaled = np.linalg.norm(pred - gt, axis=2) / norm[:, None]
    return _summarise("honest", scaled, vis, norm, HONEST_LOW)


def format_table(result: PCKResult, arch: str = "pose_hrnet") -> str:
    """The seed's three-line markdown table: | Arch | Wheel | ... | Mean | Mean@0.1 |."""
    if len(arch) > 15:
        arch = arch[:8] + "..."
    names = list(result.table.keys())
    head = "| Arch " + " ".join(f"| {n}" for n in names) + " |"
    rule = "| --- " * (len(names) + 1) + "|"
    row = f"| {arch} " + " ".join(f"| {v:.3f}" for v in result.table.values()) + " |"
    return "\n".join([head, rule, row])


def report(results, arch: str = "pose_hrnet") -> str:
    """Both tables, each under its definition, for logs and eval output."""
    blocks = []
    for result in results:
        blocks.append(f"PCK, {result.definition}:\n{format_table(result, arch)}")
    return "\n\n".join(blocks)
