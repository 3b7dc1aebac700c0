"""Trivial baseline for the demo: the training set's mean pose placed inside each box.

Each training person's labelled joints are mapped into the crop frame of its padded box; the
per-joint mean over people is the mean pose. For an evaluation box it is mapped back through
that box's inverse crop transform, with every joint's confidence 1.
"""

from __future__ import annotations

import numpy as np

from posekit import topdown


def mean_pose(records, codec):
    """(K, 2) mean joint position in input-crop coordinates over the labelled joints."""
    num = records[0]["joints"].shape[0]
    total, count = np.zeros((num, 2)), np.zeros(num)
    for rec in records:
        m = topdown.affine_matrix(rec["center"], rec["scale"], 0.0, codec.input_size)
        xy = topdown.apply_affine(rec["joints"], m)
        seen = rec["visible"] > 0
        total[seen] += xy[seen]
        count[seen] += 1
    centre = np.array(codec.input_size, float) / 2
    return np.where(count[:, None] > 0, total / np.maximum(count, 1)[:, None], centre)


def place(pose, records, codec):
    """Mean pose -> (N, K, 2) image coordinates and (N, K) confidences of 1."""
    coords = np.stack(
        [
            topdown.apply_affine(
                pose,
                topdown.affine_matrix(r["center"], r["scale"], 0.0, codec.input_size, inverse=True),
            )
            for r in records
        ]
    )
    return coords, np.ones(coords.shape[:2])
