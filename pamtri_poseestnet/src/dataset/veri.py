"""VeRi keypoint samples: one vehicle image -> warped crop + 36 heatmap targets.

Every VeRi image is already a crop of one vehicle, so the box is the whole image: centre
(w/2, h/2), scale = the image grown to the input's aspect ratio, x 1.25 (as the reference).
Images are read as RGB and normalised with the ImageNet RGB mean/std (what the ImageNet weights
expect); the sampling itself is posekit.topdown_samples.

Training augmentation as the seed: scale x clip(1 + 0.25 N(0,1), 0.75, 1.25); rotation
clip(30 N(0,1), -60, 60) degrees with probability 0.6; horizontal flip with probability 0.5,
swapping the pairs (i, i + 18). Target weights are the visibility labels: hidden joints are not
trained, as in the reference. Each sample's random numbers come from (seed, index, visit), so a
run is repeatable whatever the number of pipeline workers.
"""

from __future__ import annotations

import os

import numpy as np

from posekit import topdown, topdown_samples, veri

# added to the error for a missing image
IMAGE_HINT = (
    "listed in the label CSV; run src/utils/create_dataset.py to copy the VeRi images into "
    "images/image_<split>/"
)


def make_codec(cfg):
    return topdown.TopDownCodec(
        cfg.MODEL.IMAGE_SIZE, cfg.MODEL.HEATMAP_SIZE, sigma=cfg.MODEL.SIGMA,
        flip_pairs=veri.FLIP_PAIRS,
    )  # fmt: skip


def load_records(cfg, root, split):
    """Label rows of a split -> (labels, records with image path, centre, scale, joints, vis)."""
    labels = veri.read_labels(veri.label_path(root, split))
    codec = make_codec(cfg)
    folder = veri.image_dir(root, split)
    records = []
    for i, name in enumerate(labels.names):
        center, scale = codec.box_to_center_scale(labels.boxes()[i])
        records.append(
            {
                "image": os.path.join(folder, name),
                "center": center,
                "scale": scale,
                "joints": labels.joints[i].astype(np.float64),
                "visible": labels.visible[i].astype(np.float32),
            }
        )
    return labels, records


def make_source(cfg, records, train, seed=0):
    """GeneratorDataset source of the records: augmented training samples (image, target,
    target_weight) or evaluation samples (image, index)."""
    aug = cfg.DATASET
    augmentation = topdown_samples.Augmentation(
        aug.SCALE_FACTOR, aug.ROT_FACTOR, aug.ROT_PROB, aug.FLIP
    )
    return topdown_samples.TopDownSource(
        records, make_codec(cfg), train, augmentation, seed, image_hint=IMAGE_HINT
    )
